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

foreach(file bin/pnpdist-tomography_2d bin/pnpdist-tomography_3d bin/pnpdist-highres_deblur bin/pnpdist-run
             bin/pnpdist-dashboard
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

# The installed runner, started by its launcher bin/pnpdist-run, finds the installed program (PYTHON: Python 3
# with PyYAML, handed to the launcher).
if(DEFINED PYTHON)
  execute_process(COMMAND ${CMAKE_COMMAND} -E env PNPDIST_PYTHON=${PYTHON} "${prefix}/bin/pnpdist-run"
                          "${prefix}/share/pnpdist/configs/tomography_2d_cpu.yaml" --dry-run --out runner
                  WORKING_DIRECTORY "${work}" OUTPUT_VARIABLE output ERROR_VARIABLE output RESULT_VARIABLE status)
  string(FIND "${output}" "${program} " named)
  if(NOT status EQUAL 0 OR named EQUAL -1)
    fail("the installed runner (--dry-run) exited with ${status} without naming ${program}:\n${output}")
  endif()
  # A real (small) run of the installed runner, then its dashboard rebuilt by bin/pnpdist-dashboard.
  file(WRITE "${work}/small.yaml" "dataset:\n  - tomography_2d:\n      img_size: 32\n      num_operators: 2\n"
       "      num_angles: 20\n      noise_level: 0.01\nsolver:\n  - PnP:\n      max_iter: 2\n      baselines: false\n"
       "slurm_gres, slurm_ntasks_per_node, distribute_physics, distribute_denoiser, patch_size, overlap, max_batch_size: [\n"
       "  [\"cpu\", 1, false, false, 0, 0, 0] ]\n")
  execute_process(COMMAND ${CMAKE_COMMAND} -E env PNPDIST_PYTHON=${PYTHON} --unset=PNPDIST_WEIGHTS_DIR
                          "${prefix}/bin/pnpdist-run" small.yaml --out small --cores 2
                  WORKING_DIRECTORY "${work}" OUTPUT_VARIABLE output ERROR_VARIABLE output RESULT_VARIABLE status)
  if(NOT status EQUAL 0 OR NOT EXISTS "${work}/small/summary.csv" OR NOT EXISTS "${work}/small/dashboard.html")
    fail("the installed runner exited with ${status} (summary.csv and dashboard.html expected):\n${output}")
  endif()
  file(REMOVE "${work}/small/dashboard.html")
  execute_process(COMMAND ${CMAKE_COMMAND} -E env PNPDIST_PYTHON=${PYTHON} "${prefix}/bin/pnpdist-dashboard" small
                  WORKING_DIRECTORY "${work}" OUTPUT_VARIABLE output ERROR_VARIABLE output RESULT_VARIABLE status)
  if(NOT status EQUAL 0 OR NOT EXISTS "${work}/small/dashboard.html")
    fail("bin/pnpdist-dashboard exited with ${status} without writing dashboard.html:\n${output}")
  endif()
endif()

file(REMOVE_RECURSE "${root}")
message(STATUS "installed tomography_2d: DRUNet weights from the prefix (${weights}); a missing PNPDIST_WEIGHTS_DIR "
               "is reported; --denoiser tv needs none")
