# A compile check of one source file (the compile-failure tests and their counterparts), run by CTest:
#
#   cmake -DCOMPILER=<c++> -DSOURCE=<file> -DINCLUDE_DIRS=<dir|dir...> [-DMESSAGE=<regex> [-DMAX_ERRORS=<n>]]
#         -P compile_check.cmake
#
# Compiles SOURCE with -std=c++20 -fsyntax-only. Without MESSAGE it must compile. With MESSAGE it must fail,
# its diagnostics must match MESSAGE, and at most MAX_ERRORS (default 1) of their lines may be errors: the
# user sees one message naming the requirement, not a cascade from inside the standard library.
cmake_minimum_required(VERSION 3.25)  # policies: list() keeps empty elements
foreach(variable COMPILER SOURCE INCLUDE_DIRS)
  if(NOT DEFINED ${variable})
    message(FATAL_ERROR "compile_check.cmake: ${variable} is not set")
  endif()
endforeach()
string(REPLACE "|" ";" include_dirs "${INCLUDE_DIRS}")
list(TRANSFORM include_dirs PREPEND -I)
execute_process(COMMAND ${COMPILER} -std=c++20 -fsyntax-only ${include_dirs} ${SOURCE}
                OUTPUT_VARIABLE output ERROR_VARIABLE output RESULT_VARIABLE status)
# The diagnostics line by line (";" and brackets replaced first: they would split or join CMake list elements),
# the errors among them
# (GCC and Clang write "<file>:<line>:<column>: error: ..." or "<tool>: error: ...").
string(REPLACE ";" "," lines "${output}")
string(REPLACE "[" "(" lines "${lines}")
string(REPLACE "]" ")" lines "${lines}")
string(REPLACE "\n" ";" lines "${lines}")
list(LENGTH lines line_count)
set(error_count 0)
foreach(line IN LISTS lines)
  if(line MATCHES "(^|: )(fatal )?error: ")
    math(EXPR error_count "${error_count} + 1")
  endif()
endforeach()
if(NOT DEFINED MESSAGE)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "${SOURCE} must compile; the compiler exited with ${status}:\n${output}")
  endif()
  message(STATUS "${SOURCE} compiles")
  return()
endif()
if(NOT DEFINED MAX_ERRORS)
  set(MAX_ERRORS 1)
endif()
if(status EQUAL 0)
  message(FATAL_ERROR "${SOURCE} must not compile, but it did")
endif()
if(NOT output MATCHES "${MESSAGE}")
  message(FATAL_ERROR "${SOURCE} failed to compile without the expected message (${MESSAGE}):\n${output}")
endif()
if(error_count GREATER MAX_ERRORS)
  message(FATAL_ERROR "${SOURCE}: ${error_count} errors, at most ${MAX_ERRORS} expected:\n${output}")
endif()
message(STATUS "${SOURCE} fails to compile with the expected message: ${error_count} error, ${line_count} lines")
