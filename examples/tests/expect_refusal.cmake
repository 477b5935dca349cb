# Driver of the refusal tests (registered in examples/CMakeLists.txt by pnpdist_add_refusal_test):
#
#   cmake -DEXIT_CODE=2 -DREGEX="message pattern" -P expect_refusal.cmake -- program arguments...
#
# Runs the program and passes when it exits with exactly EXIT_CODE and its output (stdout and stderr) matches
# REGEX: a refusal must both say why and report failure to its caller (a message with exit status 0, or a
# crash whose output happens to match, fails).
foreach(var EXIT_CODE REGEX)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "expect_refusal.cmake: ${var} is not set")
  endif()
endforeach()
set(command)
set(after_separator FALSE)
math(EXPR last "${CMAKE_ARGC} - 1")
foreach(i RANGE ${last})
  if(after_separator)
    list(APPEND command "${CMAKE_ARGV${i}}")
  elseif("${CMAKE_ARGV${i}}" STREQUAL "--")
    set(after_separator TRUE)
  endif()
endforeach()
if(NOT command)
  message(FATAL_ERROR "expect_refusal.cmake: no command after --")
endif()
execute_process(COMMAND ${command} RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(NOT "${code}" STREQUAL "${EXIT_CODE}")
  message(FATAL_ERROR "expected exit status ${EXIT_CODE}, got ${code}")
endif()
if(NOT "${out}${err}" MATCHES "${REGEX}")
  message(FATAL_ERROR "the output does not match: ${REGEX}")
endif()
