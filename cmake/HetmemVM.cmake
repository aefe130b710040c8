# SPDX-License-Identifier: MIT
# Guest tests: ctest tests that boot a QEMU guest with an emulated
# heterogeneous-memory NUMA topology (tests/vm/topologies/*.topo) and run test
# programs inside it.  See docs/vm.md.
#
#   hetmem_add_vm_test(NAME <name>
#                      TOPOLOGY <topo>          # "tiers3" or a path to a .topo file
#                      TARGETS <target>...      # executables / shared libraries to copy in
#                      [FILES <src>:<dst>...]   # extra files, <dst> absolute in the guest
#                      [ENV <VAR>=<value>...]   # exported in the guest
#                      [TIMEOUT <seconds>]      # guest timeout, default 300
#                      [EXPECT_EXIT <status>]   # pass only if the guest command exits so
#                      [WILL_FAIL]              # ctest WILL_FAIL
#                      [LABELS <label>...]      # besides "vm"
#                      COMMAND <cmd> <args>...) # run in the guest (PATH has the TARGETS)
#
# Every such test has label "vm", SKIP_RETURN_CODE 77 (no qemu, no kernel
# obtainable), needs the fixture "hetmem_vm" (test vm_prepare: kernel download
# and base initramfs, once, before the guests), and goes through run-guest,
# which lets at most HETMEM_VM_MAX_GUESTS (2) guests run at once on the host.
# With HETMEM_VM_TESTS=OFF the function registers nothing.

get_filename_component(HETMEM_VM_DIR ${CMAKE_CURRENT_LIST_DIR}/../tests/vm ABSOLUTE)
set(HETMEM_VM_RUNNER ${HETMEM_VM_DIR}/run-guest)

if(HETMEM_VM_TESTS)
  find_program(HETMEM_VM_QEMU qemu-system-x86_64)
  if(NOT HETMEM_VM_QEMU)
    message(STATUS "hetmem: qemu-system-x86_64 not found: the vm tests will be skipped")
  endif()
  # The fixture: resolves/downloads the guest kernel and builds the base
  # initramfs into the cache (${XDG_CACHE_HOME:-~/.cache}/hetmem-vm), once.
  add_test(NAME vm_prepare COMMAND ${HETMEM_VM_RUNNER} --prepare)
  set_tests_properties(vm_prepare PROPERTIES LABELS vm SKIP_RETURN_CODE 77 TIMEOUT 1200
                       FIXTURES_SETUP hetmem_vm)
endif()

function(hetmem_add_vm_test)
  if(NOT HETMEM_VM_TESTS)
    return()
  endif()
  cmake_parse_arguments(VM "WILL_FAIL" "NAME;TOPOLOGY;TIMEOUT;EXPECT_EXIT"
                        "TARGETS;FILES;ENV;LABELS;COMMAND" ${ARGN})
  if(NOT VM_NAME OR NOT VM_TOPOLOGY OR NOT VM_COMMAND)
    message(FATAL_ERROR "hetmem_add_vm_test: NAME, TOPOLOGY and COMMAND are required")
  endif()
  if(VM_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "hetmem_add_vm_test(${VM_NAME}): unexpected ${VM_UNPARSED_ARGUMENTS}")
  endif()

  if(EXISTS ${HETMEM_VM_DIR}/topologies/${VM_TOPOLOGY}.topo)
    set(topo ${HETMEM_VM_DIR}/topologies/${VM_TOPOLOGY}.topo)
  elseif(IS_ABSOLUTE ${VM_TOPOLOGY})
    set(topo ${VM_TOPOLOGY})
  else()
    set(topo ${CMAKE_CURRENT_SOURCE_DIR}/${VM_TOPOLOGY})
  endif()
  if(NOT EXISTS ${topo})
    message(FATAL_ERROR "hetmem_add_vm_test(${VM_NAME}): no topology ${VM_TOPOLOGY}")
  endif()
  if(NOT VM_TIMEOUT)
    set(VM_TIMEOUT 300)
  endif()

  set(args --topology ${topo} --timeout ${VM_TIMEOUT})
  foreach(t IN LISTS VM_TARGETS)
    list(APPEND args --bin $<TARGET_FILE:${t}>)
  endforeach()
  foreach(f IN LISTS VM_FILES)
    list(APPEND args --file ${f})
  endforeach()
  foreach(e IN LISTS VM_ENV)
    list(APPEND args --env ${e})
  endforeach()
  if(DEFINED VM_EXPECT_EXIT)
    list(APPEND args --expect-exit ${VM_EXPECT_EXIT})
  endif()

  add_test(NAME ${VM_NAME} COMMAND ${HETMEM_VM_RUNNER} ${args} -- ${VM_COMMAND})
  # ctest's own limit covers waiting for a guest slot and the boot as well.
  math(EXPR ctest_timeout "${VM_TIMEOUT} + 300")
  set_tests_properties(${VM_NAME} PROPERTIES
    LABELS "vm;${VM_LABELS}"
    SKIP_RETURN_CODE 77
    TIMEOUT ${ctest_timeout}
    FIXTURES_REQUIRED hetmem_vm
    PROCESSORS 1)
  if(VM_WILL_FAIL)
    set_tests_properties(${VM_NAME} PROPERTIES WILL_FAIL TRUE)
  endif()
endfunction()
