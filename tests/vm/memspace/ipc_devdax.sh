#!/bin/sh
# SPDX-License-Identifier: MIT
# In the `dax` guest: IPC between two processes over the devdax provider, on
# the device the guest's /init made (its name is in $HETMEM_VM_FACTS), then
# the OS and file providers in the same guest.
set -e
line=$(grep -m1 '^devdax ' "$HETMEM_VM_FACTS")
dev=$(echo "$line" | sed -n 's/.* dev=\([^ ]*\).*/\1/p')
size=$(echo "$line" | sed -n 's/.* size=\([0-9]*\).*/\1/p')
[ -n "$dev" ] && [ -n "$size" ] || { echo "no devdax fact in $HETMEM_VM_FACTS"; exit 1; }
echo "devdax device $dev, $size bytes"
guest_ipc_procs devdax "$dev" "$size"
guest_ipc_procs
