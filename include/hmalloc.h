// SPDX-License-Identifier: MIT
// hmalloc: the HMSDK heterogeneous memory allocation API (libhmalloc.so,
// pkg-config hmalloc). Memory comes from the hmalloc pool, whose NUMA
// policy hmctl(8) sets through the environment; without hmctl every call
// behaves as its malloc(3) / mmap(2) counterpart. Man pages: hmalloc(3),
// hposix_memalign(3), hmalloc_usable_size(3), hmmap(3), hmctl(8).
#ifndef HMALLOC_H
#define HMALLOC_H 1

#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define HMALLOC_ATTR(...) __attribute__((__VA_ARGS__))
#else
#define HMALLOC_ATTR(...)
#endif
#define HMALLOC_ALLOC(...) HMALLOC_ATTR(malloc, warn_unused_result, __VA_ARGS__)

/// Allocates size bytes from the hmalloc pool, as malloc(3).
/// @param size bytes; 0 gives a unique pointer that hfree accepts
/// @return the memory, or NULL with errno ENOMEM
void *hmalloc(size_t size) HMALLOC_ALLOC(alloc_size(1));

/// Frees memory of the hmalloc pool, as free(3). NULL is a no-op; a pointer
/// the pool did not hand out is ignored (and logged with HETMEM_LOG=error).
/// errno is left as it was.
/// @param ptr the memory, or NULL
void hfree(void *ptr);

/// Allocates nmemb * size zeroed bytes, as calloc(3).
/// @return the memory, or NULL with errno ENOMEM (also when nmemb * size
///         overflows)
void *hcalloc(size_t nmemb, size_t size) HMALLOC_ALLOC(alloc_size(1, 2));

/// Resizes memory of the hmalloc pool, as realloc(3): ptr NULL allocates,
/// size 0 frees ptr and returns NULL (as glibc does).
/// @return the memory (moved or not), or NULL with errno ENOMEM (ptr stays
///         valid), or NULL with errno EINVAL when ptr is not memory of the
///         hmalloc pool (ptr is left alone)
void *hrealloc(void *ptr, size_t size) HMALLOC_ATTR(warn_unused_result, alloc_size(2));

/// Allocates size bytes aligned to alignment, as aligned_alloc(3).
/// @param alignment a power of two
/// @return the memory, or NULL with errno EINVAL (alignment not a power of
///         two) or ENOMEM
void *haligned_alloc(size_t alignment, size_t size) HMALLOC_ALLOC(alloc_size(2), alloc_align(1));

/// Allocates size bytes aligned to alignment into *memptr, as
/// posix_memalign(3).
/// @param [out] memptr the memory, written only on success
/// @param alignment a power of two and a multiple of sizeof(void *)
/// @return 0, EINVAL (bad alignment) or ENOMEM; errno is left as it was
int hposix_memalign(void **memptr, size_t alignment, size_t size)
    HMALLOC_ATTR(warn_unused_result);

/// Maps memory as mmap(2), then binds it with the hmalloc pool's policy.
/// @return the mapping; MAP_FAILED with errno when the mapping fails; NULL
///         with errno when the binding fails (the mapping is undone)
void *hmmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset);

/// Unmaps memory, as munmap(2).
/// @return 0, or -1 with errno
int hmunmap(void *addr, size_t length);

/// The usable size of a block of the hmalloc pool, as malloc_usable_size(3).
/// @return the bytes usable at ptr (>= the size asked for); 0 for NULL or a
///         pointer the pool did not hand out
size_t hmalloc_usable_size(void *ptr);

#ifdef __cplusplus
}
#endif

#endif // HMALLOC_H
