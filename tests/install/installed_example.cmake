# The installed benchmarks used as a user without the source tree would (registered in examples/CMakeLists.txt
# as install_tomography_2d):
#
#   cmake -DBUILD_DIR=<build dir> [-DPYTHON=<python3 with PyYAML>] -P installed_example.cmake
#
# Installs BUILD_DIR into a fresh prefix under the system's temporary directory and checks that
#   - the programs (bin/pnpdist-<example>), weights, runner, configs and docs are installed;
#   - pnpdist-tomography_2d, run from an empty directory outside the source tree with PNPDIST_WEIGHTS_DIR
#     unset, uses the DRUNet weights of the prefix (result.json: denoiser.kind, denoiser.weights);
#   - PNPDIST_WEIGHTS_DIR naming a directory without the weights makes it exit non-zero with a message naming
#     that directory, and --denoiser tv runs without weights;
#   - with PYTHON: the installed runner, given the installed config, runs the installed program (--dry-run).
# Nothing is copied from the source tree; the temporary directory is removed at the end.
if(NOT DEFINED BUILD_DIR)
  message(FATAL_ERROR "installed_example.cmake: BUILD_DIR is not set")
endif()
if(DEFINED ENV{TMPDIR})
  set(tmp "$ENV{TMPDIR}")
else()
  set(tmp /tmp)
endif()
string(RANDOM LENGTH 10 suffix)
set(root "${tmp}/pnpdist-install-${suffix}")
set(prefix "${root}/prefix")
set(work "${root}/work")
file(MAKE_DIRECTORY "${work}")

function(fail)
  file(REMOVE_RECURSE "${root}")
  message(FATAL_ERROR ${ARGN})
endfunction()

execute_process(COMMAND ${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${prefix}"
                OUTPUT_QUIET ERROR_VARIABLE install_errors RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  fail("cmake --install exited with ${status}: ${install_errors}")
endif()

foreach(file bin/pnpdist-tomography_2d bin/pnpdist-tomography_3d bin/pnpdist-highres_deblur
             share/pnpdist/weights/drunet_gray.safetensors share/pnpdist/weights/drunet_color.safetensors
             share/pnpdist/tools/pnpdist_run.py share/pnpdist/tools/pnpdist_dashboard.py
             share/pnpdist/tools/pnpdist_runner/launch.py share/pnpdist/configs/tomography_2d_cpu.yaml
             share/doc/pnpdist/examples.md share/doc/pnpdist/README.md)
  if(NOT EXISTS "${prefix}/${file}")
    fail("not installed: ${file}")
  endif()
endforeach()

set(program "${prefix}/bin/pnpdist-tomography_2d")
set(run "${program}" --size 64 --iterations 2 --baselines 0 --threads 2 --quiet)

# The default DRUNet weights, found in the prefix.
execute_process(COMMAND ${CMAKE_COMMAND} -E env --unset=PNPDIST_WEIGHTS_DIR ${run} --output-dir out
                WORKING_DIRECTORY "${work}"
                OUTPUT_VARIABLE output ERROR_VARIABLE output RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  fail("${program} exited with ${status}:\n${output}")
endif()
file(READ "${work}/out/result.json" json)
string(JSON kind GET "${json}" denoiser kind)
string(JSON weights GET "${json}" denoiser weights)
file(REAL_PATH "${prefix}/share/pnpdist/weights/drunet_gray.safetensors" expected)
file(REAL_PATH "${weights}" weights_real)
if(NOT kind STREQUAL "drunet" OR NOT weights_real STREQUAL expected)
  fail("denoiser ${kind} with weights '${weights}', expected drunet with ${expected}")
endif()

# PNPDIST_WEIGHTS_DIR without the weights: an error naming it.
set(missing "${root}/no-weights-here")
execute_process(COMMAND ${CMAKE_COMMAND} -E env PNPDIST_WEIGHTS_DIR=${missing} ${run} --output-dir out-missing
                WORKING_DIRECTORY "${work}" OUTPUT_VARIABLE output ERROR_VARIABLE output RESULT_VARIABLE status)
string(FIND "${output}" "${missing}" named)
if(status EQUAL 0 OR named EQUAL -1)
  fail("PNPDIST_WEIGHTS_DIR=${missing}: exit status ${status}, expected non-zero and a message naming it:\n${output}")
endif()

# A non-learned denoiser needs no weights.
execute_process(COMMAND ${CMAKE_COMMAND} -E env PNPDIST_WEIGHTS_DIR=${missing} ${run} --denoiser tv
                        --output-dir out-tv
                WORKING_DIRECTORY "${work}" OUTPUT_VARIABLE output ERROR_VARIABLE output RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  fail("--denoiser tv with PNPDIST_WEIGHTS_DIR=${missing} exited with ${status}:\n${output}")
endif()

# The installed runner finds the installed program (PYTHON: Python 3 with PyYAML).
if(DEFINED PYTHON)
  execute_process(COMMAND "${PYTHON}" "${prefix}/share/pnpdist/tools/pnpdist_run.py"
                          "${prefix}/share/pnpdist/configs/tomography_2d_cpu.yaml" --dry-run --out runner
                  WORKING_DIRECTORY "${work}" OUTPUT_VARIABLE output ERROR_VARIABLE output RESULT_VARIABLE status)
  string(FIND "${output}" "${program} " named)
  if(NOT status EQUAL 0 OR named EQUAL -1)
    fail("the installed runner (--dry-run) exited with ${status} without naming ${program}:\n${output}")
  endif()
endif()

file(REMOVE_RECURSE "${root}")
message(STATUS "installed tomography_2d: DRUNet weights from the prefix (${weights}); a missing PNPDIST_WEIGHTS_DIR "
               "is reported; --denoiser tv needs none")
