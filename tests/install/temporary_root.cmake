# Included by the install test scripts: `root`, a fresh directory pnpdist-<ROOT_NAME>-<random> under the system's
# temporary directory ($TMPDIR, else /tmp), and fail(MESSAGE...), which removes it and stops with the message.
if(DEFINED ENV{TMPDIR})
  set(root "$ENV{TMPDIR}")
else()
  set(root /tmp)
endif()
string(RANDOM LENGTH 10 suffix)
set(root "${root}/pnpdist-${ROOT_NAME}-${suffix}")
file(MAKE_DIRECTORY "${root}")

function(fail)
  file(REMOVE_RECURSE "${root}")
  message(FATAL_ERROR ${ARGN})
endfunction()
