# shellcheck shell=bash disable=SC2034  # the globals are used by the scripts that source this
# SPDX-License-Identifier: MIT
# Shared helpers of the hetmem guest harness (sourced by fetch-kernel,
# build-initramfs and run-guest; bash only, never run in the guest).
#
# Environment understood here:
#   HETMEM_VM_CACHE     cache directory (default ${XDG_CACHE_HOME:-$HOME/.cache}/hetmem-vm)
#   HETMEM_VM_VERBOSE   1: show kernel log, qemu command line and build steps

# depmod, modprobe and mke2fs live in sbin, which a user's PATH may lack.
PATH=$PATH:/usr/sbin:/sbin
vm_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
vm_cache=${HETMEM_VM_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/hetmem-vm}
vm_verbose=${HETMEM_VM_VERBOSE:-0}

# The exit status meaning "the guest could not be booted for a reason outside
# the test": ctest's SKIP_RETURN_CODE.  vm_skip goes through test_skip
# (tests/test_skip.sh): with HETMEM_REQUIRE_ALL=1 a skip fails instead.
VM_SKIP=77
. "$vm_here/../test_skip.sh"

vm_log() { printf 'hetmem-vm: %s\n' "$*" >&2; }
vm_debug() { if [[ $vm_verbose == 1 ]]; then vm_log "$@"; fi; }
vm_die() { vm_log "error: $*"; exit 1; }
vm_skip() { test_skip "hetmem-vm: $*"; }

# vm_lock FILE: take an exclusive flock on FILE for the rest of the shell
# (fd 9), so that parallel ctest jobs do not download/build the same thing.
vm_lock() {
  mkdir -p "$(dirname "$1")"
  exec 9>"$1"
  if ! flock -n 9; then
    vm_log "waiting for $1 (another job is preparing the same thing)"
    flock 9
  fi
}
vm_unlock() { exec 9>&-; }

# vm_size_mib SIZE: "512M", "1G", "1024" (MiB) or "0" -> MiB on stdout.
vm_size_mib() {
  local s=${1^^}
  case $s in
    *K) local k=${s%K}; (( k % 1024 == 0 )) || return 1; echo $(( k / 1024 )) ;;
    *M) echo $(( ${s%M} )) ;;
    *G) echo $(( ${s%G} * 1024 )) ;;
    *T) echo $(( ${s%T} * 1024 * 1024 )) ;;
    ''|*[!0-9]*) return 1 ;;
    *) echo $(( s )) ;;
  esac
}

# vm_cpulist_count "0-1,4" -> 3 ; vm_cpulist_max "0-1,4" -> 4
vm_cpulist_items() {
  local part lo hi IFS=,
  for part in $1; do
    if [[ $part == *-* ]]; then lo=${part%-*}; hi=${part#*-}; else lo=$part; hi=$part; fi
    [[ $lo =~ ^[0-9]+$ && $hi =~ ^[0-9]+$ ]] || return 1
    seq "$lo" "$hi"
  done
}

# ---------------------------------------------------------------------------
# Topology parser.  Fills these globals (see docs/vm.md for the format):
#   topo_name, topo_nodes (ids, in file order), topo_mem[id] (MiB),
#   topo_cpus[id], topo_class[id], topo_init[id], topo_ncpus,
#   topo_hmat (lines "I T rbw wbw rlat wlat"), topo_huge (lines "SIZE LIST"),
#   topo_nvdimm (lines "ID NODE MIB MODE MOUNT"), topo_cmdline
# ---------------------------------------------------------------------------
vm_parse_topology() {
  local file=$1 line kw rest lineno=0
  topo_name=$(basename "$file" .topo)
  topo_nodes=() topo_hmat=() topo_huge=() topo_nvdimm=() topo_cmdline=""
  declare -gA topo_mem=() topo_cpus=() topo_class=() topo_init=()
  topo_ncpus=0
  local -A seen_cpu=()
  [[ -r $file ]] || vm_die "topology $file: not readable"
  while IFS= read -r line || [[ -n $line ]]; do
    lineno=$(( lineno + 1 ))
    line=${line%%#*}
    read -r kw rest <<<"$line" || true
    [[ -z ${kw:-} ]] && continue
    local where="$file:$lineno"
    case $kw in
      name) topo_name=$rest ;;
      cmdline) topo_cmdline+=" $rest" ;;
      node)
        local id kv mem="" cpus="" class=DRAM init=""
        read -r id rest <<<"$rest"
        [[ $id =~ ^[0-9]+$ ]] || vm_die "$where: node id '$id' is not a number"
        for kv in $rest; do
          case $kv in
            mem=*) mem=$(vm_size_mib "${kv#mem=}") || vm_die "$where: bad size '$kv'" ;;
            cpus=*) cpus=${kv#cpus=} ;;
            class=*) class=${kv#class=} ;;
            initiator=*) init=${kv#initiator=} ;;
            *) vm_die "$where: unknown node attribute '$kv'" ;;
          esac
        done
        [[ -n $mem ]] || vm_die "$where: node $id needs mem="
        [[ -z ${topo_mem[$id]:-} ]] || vm_die "$where: node $id declared twice"
        topo_nodes+=("$id"); topo_mem[$id]=$mem; topo_cpus[$id]=$cpus
        topo_class[$id]=$class; topo_init[$id]=$init
        if [[ -n $cpus ]]; then
          local c
          for c in $(vm_cpulist_items "$cpus" || vm_die "$where: bad cpu list '$cpus'"); do
            [[ -z ${seen_cpu[$c]:-} ]] || vm_die "$where: cpu $c in two nodes"
            seen_cpu[$c]=1
            (( c + 1 > topo_ncpus )) && topo_ncpus=$(( c + 1 ))
          done
        fi
        ;;
      hmat)
        local pair kv i t rbw="" wbw="" rlat="" wlat=""
        read -r pair rest <<<"$rest"
        [[ $pair =~ ^([0-9]+)-\>([0-9]+)$ ]] || vm_die "$where: expected 'hmat I->T ...'"
        i=${BASH_REMATCH[1]} t=${BASH_REMATCH[2]}
        for kv in $rest; do
          case $kv in
            read_bw=*) rbw=${kv#*=} ;; write_bw=*) wbw=${kv#*=} ;;
            read_lat=*) rlat=${kv#*=} ;; write_lat=*) wlat=${kv#*=} ;;
            *) vm_die "$where: unknown hmat attribute '$kv'" ;;
          esac
        done
        for kv in "$rbw" "$wbw" "$rlat" "$wlat"; do
          [[ $kv =~ ^[1-9][0-9]*$ ]] || vm_die "$where: hmat needs read_bw= write_bw= read_lat= write_lat= (positive integers)"
        done
        topo_hmat+=("$i $t $rbw $wbw $rlat $wlat")
        ;;
      hugepages)
        local size list
        read -r size list <<<"$rest"
        case ${size^^} in 2M|1G) ;; *) vm_die "$where: hugepage size must be 2M or 1G" ;; esac
        [[ $list =~ ^[0-9]+:[0-9]+(,[0-9]+:[0-9]+)*$ ]] || vm_die "$where: expected 'hugepages SIZE N:COUNT,...'"
        topo_huge+=("${size^^} $list")
        ;;
      nvdimm)
        local id kv node="" size="" mode="" mount=""
        read -r id rest <<<"$rest"
        [[ $id =~ ^[0-9]+$ ]] || vm_die "$where: nvdimm id '$id' is not a number"
        for kv in $rest; do
          case $kv in
            node=*) node=${kv#node=} ;;
            size=*) size=$(vm_size_mib "${kv#size=}") || vm_die "$where: bad size '$kv'" ;;
            mode=*) mode=${kv#mode=} ;;
            mount=*) mount=${kv#mount=} ;;
            *) vm_die "$where: unknown nvdimm attribute '$kv'" ;;
          esac
        done
        [[ -n $node && -n $size ]] || vm_die "$where: nvdimm needs node= and size="
        case $mode in devdax|fsdax|kmem|raw) ;; *) vm_die "$where: nvdimm mode must be devdax, fsdax, kmem or raw" ;; esac
        [[ $mode != fsdax || -n $mount ]] || mount=/mnt/pmem$id
        topo_nvdimm+=("$id $node $size $mode ${mount:--}")
        ;;
      *) vm_die "$where: unknown keyword '$kw'" ;;
    esac
  done <"$file"
  (( ${#topo_nodes[@]} > 0 )) || vm_die "$file: no node lines"
  (( topo_ncpus > 0 )) || vm_die "$file: no node has cpus="
  local c n
  for (( c = 0; c < topo_ncpus; c++ )); do
    [[ -n ${seen_cpu[$c]:-} ]] || vm_die "$file: cpu $c is in no node (cpus must be 0..N-1)"
  done
  # Every node id must be declared; a CPU-less node's HMAT initiator defaults
  # to the first node that has CPUs.
  local first_cpu_node=""
  for n in "${topo_nodes[@]}"; do
    [[ -n ${topo_cpus[$n]} && -z $first_cpu_node ]] && first_cpu_node=$n
  done
  for n in "${topo_nodes[@]}"; do
    if [[ -n ${topo_cpus[$n]} ]]; then topo_init[$n]=$n
    elif [[ -z ${topo_init[$n]} ]]; then topo_init[$n]=$first_cpu_node; fi
  done
  for (( n = 0; n < ${#topo_nodes[@]}; n++ )); do
    [[ -n ${topo_mem[$n]:-} ]] || vm_die "$file: node ids must be 0..N-1 (node $n missing)"
  done
  local l i t
  for l in "${topo_hmat[@]}"; do
    read -r i t _ <<<"$l"
    [[ -n ${topo_mem[$i]:-} && -n ${topo_mem[$t]:-} ]] || vm_die "$file: hmat $i->$t names an undeclared node"
    [[ -n ${topo_cpus[$i]} ]] || vm_die "$file: hmat initiator $i has no CPUs"
  done
  vm_check_hmat_granularity "$file"
}

# QEMU stores each HMAT matrix as 16-bit entries times one base unit per
# data type: the base is the lowest set bit over all values of that type and
# (highest bit - lowest bit) must stay within 16 bits (max/base < 65535).
vm_check_hmat_granularity() {
  local file=$1 col l v
  (( ${#topo_hmat[@]} )) || return 0
  for col in 2 3 4 5; do
    local or=0 max=0
    for l in "${topo_hmat[@]}"; do
      read -r -a f <<<"$l"; v=${f[$col]}
      (( col < 4 )) && v=$(( v * 1048576 ))   # bandwidth goes to QEMU in bytes/s
      or=$(( or | v )); (( v > max )) && max=$v
    done
    local base=1
    while (( (or & base) == 0 )); do base=$(( base * 2 )); done
    if (( max / base >= 65535 )); then
      local what=(x x read_bw write_bw read_lat write_lat)
      vm_die "$file: hmat ${what[$col]} values span too wide a range for QEMU's 16-bit HMAT entries (max/lowest-common-power-of-two must be < 65535): round them"
    fi
  done
}
