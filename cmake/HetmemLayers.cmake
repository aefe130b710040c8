# SPDX-License-Identifier: MIT
# Layering enforced by the build (issue 12, docs/architecture.md, "Layers").
#
# Every folder of src/ is a layer; hetmem_layers(...) gives their order.
# Each layer compiles with one include folder of its own,
# ${CMAKE_BINARY_DIR}/layers/<id>/include (id: the folder, '/' -> '_'),
# that holds only
#   <folder>/          the layer's own folder, every header in it;
#   <lower>/<name>.h   the cross-layer headers of the layers below it
#                      (symlinks; <name>_priv.h is private to its
#                      folder and is not linked);
#   what an exception of hetmem_layers() grants it (known debts, by name).
# and include/. So `#include "pools/pool.h"` in src/heap, or of another
# folder's private header anywhere, fails to compile. Unit tests are white
# box and see all of src/. scripts/check_layer_symbols.sh checks the same
# order on the object files (nm -u), and that kernel, libnuma and hwloc calls
# come only from src/os and src/topology.
#
# Each layer comes in two flavours:
#   release  hetmem_<name>: what the installed libraries and tools link;
#   test     HETMEM_TEST_HOOKS=1: the *_for_testing functions and fault
#            injections exist; only tests link it (hetmem_internal). Only the
#            sources with hooks are compiled twice (hetmem_<name>_test).

# hetmem_layers(CORE layer... TOP layer... ON_TOP layer:top...
#               PROGRAMS layer... EXCEPTIONS layer:folder/header.h...): the
# core layers bottom up (each sees every one before it); TOP layers (the
# front ends) see every core layer but not each other; an ON_TOP layer sees
# the core and the one front end named after it; PROGRAMS (tools/) see all.
# An exception lets one layer include one header that the rule forbids it.
function(hetmem_layers)
  cmake_parse_arguments(L "" "" "CORE;TOP;ON_TOP;PROGRAMS;EXCEPTIONS" ${ARGN})
  set_property(GLOBAL PROPERTY HETMEM_LAYER_EXCEPTIONS ${L_EXCEPTIONS})
  set(below "")
  foreach(l IN LISTS L_CORE)
    set_property(GLOBAL PROPERTY HETMEM_LAYER_BELOW_${l} "${below}")
    list(APPEND below ${l})
  endforeach()
  foreach(l IN LISTS L_TOP)
    set_property(GLOBAL PROPERTY HETMEM_LAYER_BELOW_${l} "${L_CORE}")
  endforeach()
  set(on_top "")
  foreach(pair IN LISTS L_ON_TOP)
    string(REPLACE ":" ";" pair ${pair})
    list(GET pair 0 l)
    list(GET pair 1 top)
    if(NOT top IN_LIST L_TOP)
      message(FATAL_ERROR "hetmem: ON_TOP ${l}: ${top} is not a TOP layer")
    endif()
    set_property(GLOBAL PROPERTY HETMEM_LAYER_BELOW_${l} "${L_CORE};${top}")
    list(APPEND on_top ${l})
  endforeach()
  foreach(l IN LISTS L_PROGRAMS)
    set_property(GLOBAL PROPERTY HETMEM_LAYER_BELOW_${l} "${L_CORE};${L_TOP};${on_top}")
  endforeach()
  set_property(GLOBAL PROPERTY HETMEM_LAYERS ${L_CORE} ${L_TOP} ${on_top} ${L_PROGRAMS})
endfunction()

# Private to its folder: <name>_priv.h.
function(hetmem_header_is_private header out)
  get_filename_component(n ${header} NAME)
  if(n MATCHES "_priv\\.h$")
    set(${out} TRUE PARENT_SCOPE)
  else()
    set(${out} FALSE PARENT_SCOPE)
  endif()
endfunction()

# The include folder of `layer` (a folder under src/, or "tools"), made on
# the first call of a configure run.
function(hetmem_layer_include_dir layer out)
  string(REPLACE "/" "_" id ${layer})
  set(dir ${CMAKE_BINARY_DIR}/layers/${id}/include)
  set(${out} ${dir} PARENT_SCOPE)
  get_property(done GLOBAL PROPERTY HETMEM_LAYER_DIR_DONE_${id})
  if(done)
    return()
  endif()
  set_property(GLOBAL PROPERTY HETMEM_LAYER_DIR_DONE_${id} TRUE)
  get_property(known GLOBAL PROPERTY HETMEM_LAYERS)
  if(NOT layer IN_LIST known)
    message(FATAL_ERROR "hetmem: ${layer} is not in the layer order (src/CMakeLists.txt)")
  endif()
  get_property(below GLOBAL PROPERTY HETMEM_LAYER_BELOW_${layer})
  get_property(exceptions GLOBAL PROPERTY HETMEM_LAYER_EXCEPTIONS)
  file(REMOVE_RECURSE ${dir})
  file(MAKE_DIRECTORY ${dir})
  if(IS_DIRECTORY ${HETMEM_SRC_DIR}/${layer})
    get_filename_component(parent ${dir}/${layer} DIRECTORY)
    file(MAKE_DIRECTORY ${parent})
    file(CREATE_LINK ${HETMEM_SRC_DIR}/${layer} ${dir}/${layer} SYMBOLIC)
  endif()
  foreach(l IN LISTS below)
    file(GLOB headers CONFIGURE_DEPENDS ${HETMEM_SRC_DIR}/${l}/*.h)
    file(MAKE_DIRECTORY ${dir}/${l})
    foreach(h IN LISTS headers)
      hetmem_header_is_private(${h} private)
      if(NOT private)
        get_filename_component(n ${h} NAME)
        file(CREATE_LINK ${h} ${dir}/${l}/${n} SYMBOLIC)
      endif()
    endforeach()
  endforeach()
  foreach(e IN LISTS exceptions)
    string(REPLACE ":" ";" pair ${e})
    list(GET pair 0 who)
    list(GET pair 1 header)
    if(NOT who STREQUAL layer)
      continue()
    endif()
    get_filename_component(hdir ${header} DIRECTORY)
    hetmem_header_is_private(${header} private)
    if(IS_DIRECTORY ${HETMEM_SRC_DIR}/${layer})
      file(GLOB_RECURSE users ${HETMEM_SRC_DIR}/${layer}/*.[ch])
    else()
      file(GLOB_RECURSE users ${PROJECT_SOURCE_DIR}/${layer}/*.[ch])
    endif()
    set(used FALSE)
    foreach(u IN LISTS users)
      file(STRINGS ${u} hit REGEX "#[ \t]*include[ \t]*\"${header}\"" LIMIT_COUNT 1)
      if(hit)
        set(used TRUE)
        break()
      endif()
    endforeach()
    if(NOT EXISTS ${HETMEM_SRC_DIR}/${header})
      message(WARNING "hetmem: layer exception ${e}: no src/${header}; remove the line")
    elseif(NOT used)
      message(WARNING "hetmem: layer exception ${e}: ${layer} no longer includes it; remove the line")
    elseif(hdir IN_LIST below AND NOT private)
      message(WARNING "hetmem: layer exception ${e} is allowed anyway; remove the line")
    else()
      file(MAKE_DIRECTORY ${dir}/${hdir})
      file(CREATE_LINK ${HETMEM_SRC_DIR}/${header} ${dir}/${header} SYMBOLIC)
      if(NOT hdir IN_LIST below AND NOT hdir STREQUAL layer)
        # An upward include: the symbol check must allow the calls too.
        set_property(GLOBAL APPEND PROPERTY HETMEM_LAYER_UP_${layer} ${hdir})
      endif()
    endif()
  endforeach()
endfunction()

# hetmem_layer_includes(target layer): compile `target` as part of `layer`.
function(hetmem_layer_includes target layer)
  hetmem_layer_include_dir(${layer} dir)
  target_include_directories(${target} PRIVATE ${dir} ${HETMEM_PUBLIC_INCLUDE_DIR})
endfunction()

# hetmem_layer(name source...): the layer of the calling folder, as the
# OBJECT library <name> (release). The sources that mention
# HETMEM_TEST_HOOKS are compiled once more, with it, as <name>_test; the
# others are the same in both flavours and are compiled once (headers may
# guard only declarations with it: scripts/check_layers.sh checks that).
# A file that gains its first hook is seen at the next configure (make build
# configures every time). hetmem_layer_objects() gives either flavour.
function(hetmem_layer name)
  file(RELATIVE_PATH layer ${HETMEM_SRC_DIR} ${CMAKE_CURRENT_SOURCE_DIR})
  # A subfolder (src/providers/coarse) belongs to the layer above it.
  get_property(known GLOBAL PROPERTY HETMEM_LAYERS)
  while(NOT layer IN_LIST known AND layer MATCHES "/")
    get_filename_component(layer ${layer} DIRECTORY)
  endwhile()
  add_library(${name} OBJECT ${ARGN})
  hetmem_layer_includes(${name} ${layer})
  set_property(GLOBAL APPEND PROPERTY HETMEM_LAYER_TARGETS_${layer} ${name})
  set(hooked "")
  set(names "")
  foreach(src IN LISTS ARGN)
    get_filename_component(abs ${src} ABSOLUTE)
    file(STRINGS ${abs} mention REGEX "HETMEM_TEST_HOOKS" LIMIT_COUNT 1)
    if(mention)
      list(APPEND hooked ${src})
      get_filename_component(n ${src} NAME)
      string(REPLACE "." "\\." n ${n})
      list(APPEND names ${n})
    endif()
  endforeach()
  set(release $<TARGET_OBJECTS:${name}>)
  if(hooked)
    add_library(${name}_test OBJECT ${hooked})
    hetmem_layer_includes(${name}_test ${layer})
    target_compile_definitions(${name}_test PRIVATE HETMEM_TEST_HOOKS=1)
    list(JOIN names "|" names)
    set(test "$<FILTER:${release},EXCLUDE,/(${names})\\.o$>" $<TARGET_OBJECTS:${name}_test>)
  else()
    set(test ${release})
  endif()
  set_property(GLOBAL PROPERTY HETMEM_LAYER_OBJECTS_${name} ${release})
  set_property(GLOBAL PROPERTY HETMEM_LAYER_TEST_OBJECTS_${name} ${test})
endfunction()

# hetmem_layer_objects(out release|test name...): the object files of the
# layer targets, in that flavour (for add_library(... STATIC ...)).
function(hetmem_layer_objects out flavour)
  set(objs "")
  foreach(name IN LISTS ARGN)
    if(flavour STREQUAL test)
      get_property(o GLOBAL PROPERTY HETMEM_LAYER_TEST_OBJECTS_${name})
    else()
      get_property(o GLOBAL PROPERTY HETMEM_LAYER_OBJECTS_${name})
    endif()
    list(APPEND objs ${o})
  endforeach()
  set(${out} ${objs} PARENT_SCOPE)
endfunction()

# Both flavours of a layer target get the same settings.
function(hetmem_layer_compile_definitions name)
  target_compile_definitions(${name} ${ARGN})
  if(TARGET ${name}_test)
    target_compile_definitions(${name}_test ${ARGN})
  endif()
endfunction()
function(hetmem_layer_link_libraries name)
  target_link_libraries(${name} ${ARGN})
  if(TARGET ${name}_test)
    target_link_libraries(${name}_test ${ARGN})
  endif()
endfunction()

# hetmem_release_target(target...): installed libraries and programs; the
# test `release_no_test_hooks` checks that none of them carries a hook.
function(hetmem_release_target)
  set_property(GLOBAL APPEND PROPERTY HETMEM_RELEASE_TARGETS ${ARGN})
endfunction()

# The manifest of scripts/check_layer_symbols.sh, one line per layer:
#   <layer>|<layers below, and granted upward ones>|<object files>
function(hetmem_layers_manifest file)
  get_property(layers GLOBAL PROPERTY HETMEM_LAYERS)
  set(text "")
  foreach(l IN LISTS layers)
    get_property(targets GLOBAL PROPERTY HETMEM_LAYER_TARGETS_${l})
    if(NOT targets)
      continue()
    endif()
    get_property(below GLOBAL PROPERTY HETMEM_LAYER_BELOW_${l})
    get_property(up GLOBAL PROPERTY HETMEM_LAYER_UP_${l})
    list(APPEND below ${up})
    list(JOIN below " " below)
    set(objs "")
    foreach(t IN LISTS targets)
      list(APPEND objs "$<JOIN:$<TARGET_OBJECTS:${t}>, >")
    endforeach()
    list(JOIN objs " " objs)
    string(APPEND text "${l}|${below}|${objs}\n")
  endforeach()
  file(GENERATE OUTPUT ${file} CONTENT "${text}")
endfunction()
