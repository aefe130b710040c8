# SPDX-License-Identifier: MIT
# Export lists (a symbol per line, '#' comments; one file per layer, so each
# layer lists its own public functions) generate one linker version script
# (.map) and one .def per library (STYLE.md 6).
#
#   hetmem_export_list(target version [PRIVATE_VERSION v PRIVATE pattern...] files...)
#
# PRIVATE adds a second version node of glob patterns: symbols that hetmem's
# own front-end libraries (libmemkind.so.0, libhmalloc.so) link against so
# that a process has one core; they are not API (as GLIBC_PRIVATE is not)
# and the .def lists only the public node.
function(hetmem_export_list target version)
  cmake_parse_arguments(X "" "PRIVATE_VERSION" "PRIVATE" ${ARGN})
  set(lines "")
  foreach(list IN LISTS X_UNPARSED_ARGUMENTS)
    file(STRINGS ${list} l)
    list(APPEND lines ${l})
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${list})
  endforeach()
  set(syms "")
  set(defs "")
  foreach(l IN LISTS lines)
    string(STRIP "${l}" l)
    if(l STREQUAL "" OR l MATCHES "^#")
      continue()
    endif()
    string(APPEND syms "    ${l};\n")
    string(APPEND defs "    ${l}\n")
  endforeach()
  set(map ${CMAKE_CURRENT_BINARY_DIR}/${target}.map)
  set(private_node "")
  if(X_PRIVATE)
    set(p "")
    foreach(pat IN LISTS X_PRIVATE)
      string(APPEND p "    ${pat};\n")
    endforeach()
    set(private_node "${X_PRIVATE_VERSION} {\n  global:\n${p}} ${version};\n")
  endif()
  file(WRITE ${map} "${version} {\n  global:\n${syms}  local:\n    *;\n};\n${private_node}")
  file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/${target}.def "LIBRARY ${target}\nEXPORTS\n${defs}")
  target_link_options(${target} PRIVATE "LINKER:--version-script=${map}" "LINKER:--no-undefined")
  set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS ${map})
endfunction()

# hetmem_pkgconfig(file name description libs requires)
function(hetmem_pkgconfig file name desc libs requires)
  set(pc ${CMAKE_BINARY_DIR}/pkgconfig/${file}.pc)
  # Relocatable: the prefix is found from the .pc file's own place, so that
  # `cmake --install build --prefix DIR` gives a working file for any DIR.
  string(REGEX REPLACE "[^/]+" ".." up "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
  file(WRITE ${pc}
"prefix=\${pcfiledir}/${up}
libdir=\${prefix}/${CMAKE_INSTALL_LIBDIR}
includedir=\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}

Name: ${name}
Description: ${desc}
Version: ${PROJECT_VERSION}
Requires.private: ${requires}
Libs: -L\${libdir} ${libs}
Cflags: -I\${includedir}
")
  install(FILES ${pc} DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endfunction()
