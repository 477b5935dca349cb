# ctest driver for failure_probe: runs it under mpirun and requires a non-zero exit (not a timeout) and the
# rank-naming message. Variables: MPIEXEC, NUMPROC_FLAG, PROBE, NP.
execute_process(
  COMMAND ${MPIEXEC} ${NUMPROC_FLAG} ${NP} --oversubscribe ${PROBE}
  RESULT_VARIABLE rc
  OUTPUT_VARIABLE out
  ERROR_VARIABLE err
  TIMEOUT 40)
message(STATUS "exit: ${rc}\nstdout:\n${out}\nstderr:\n${err}")
if(NOT rc MATCHES "^[0-9]+$")
  message(FATAL_ERROR "failure_probe did not exit by itself: ${rc}")
endif()
if(rc EQUAL 0)
  message(FATAL_ERROR "failure_probe exited 0 although a rank threw")
endif()
math(EXPR failing "1 % ${NP}")
if(NOT err MATCHES "pnpdist: rank ${failing} of ${NP}: [^\n]*deliberate failure")
  message(FATAL_ERROR "the failing rank was not named on stderr")
endif()
