# pnpdist_header_check: compiles every public header alone in its own translation unit (twice included,
# to check the include guard), with warnings as errors, against the plain header-only target. A header that
# forgets an include, or that needs an optional backend unconditionally, fails this target. It is part of
# `all`, so every build runs it.
file(GLOB_RECURSE _pnpdist_public_headers CONFIGURE_DEPENDS
     RELATIVE ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/include/pnpdist/*.hpp)
set(_pnpdist_header_check_sources "")
foreach(header IN LISTS _pnpdist_public_headers)
  string(REPLACE "/" "__" stem ${header})
  string(REPLACE ".hpp" ".cpp" stem ${stem})
  set(source ${CMAKE_CURRENT_BINARY_DIR}/header_check/${stem})
  file(CONFIGURE OUTPUT ${source} CONTENT "#include <${header}>\n#include <${header}>\n")
  list(APPEND _pnpdist_header_check_sources ${source})
endforeach()
add_library(pnpdist_header_check OBJECT ${_pnpdist_header_check_sources})
target_link_libraries(pnpdist_header_check PRIVATE pnpdist::pnpdist)
target_compile_options(pnpdist_header_check PRIVATE -Wall -Wextra -Wpedantic -Werror)
