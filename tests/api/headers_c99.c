/* SPDX-License-Identifier: MIT
 * Compiled as strict C99 with -pedantic -Werror: every public UMF header. */
#include <umf.h>
#include <umf/memory_pool.h>
#include <umf/memory_pool_ops.h>
#include <umf/memory_provider.h>
#include <umf/memory_provider_ops.h>
#include <umf/pools/pool_jemalloc.h>
#include <umf/pools/pool_proxy.h>
#include <umf/providers/provider_devdax_memory.h>
#include <umf/providers/provider_file_memory.h>
#include <umf/providers/provider_fixed_memory.h>
#include <umf/providers/provider_os_memory.h>
#include <hetmem.h>

int headers_c99_compiled(void);
int headers_c99_compiled(void) { return UMF_VERSION_CURRENT > 0; }
