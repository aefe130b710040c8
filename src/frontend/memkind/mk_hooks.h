// SPDX-License-Identifier: MIT
// What the memkind front end offers the layer on top of it (memtier,
// src/frontend/memtier): a call when a kind's registry slot is freed.
#ifndef HETMEM_FRONTEND_MEMKIND_MK_HOOKS_H
#define HETMEM_FRONTEND_MEMKIND_MK_HOOKS_H

/// Called with the registry slot (partition) of a destroyed kind, before the
/// slot can be given to a new kind, under the registry's lock: it must take
/// no lock and not call memkind.
typedef void (*mk_slot_freed_hook_t)(unsigned partition);

/// Sets the hook (one; a constructor of the layer on top sets it).
void mk_set_slot_freed_hook(mk_slot_freed_hook_t hook);

#endif // HETMEM_FRONTEND_MEMKIND_MK_HOOKS_H
