# The installed benchmarks used as a user without the source tree would (registered in examples/CMakeLists.txt
# as install_tomography_2d; debian_package.cmake runs it on the extracted Debian package):
#
#   cmake -DBUILD_DIR=<build dir> | -DPREFIX=<installation> [-DPYTHON=<python3 with PyYAML>]
#         [-DMPIEXEC=<mpirun>] [-DSOURCE_DIR=<source tree>] -P installed_example.cmake
#
# BUILD_DIR: installs it into a fresh prefix under the system's temporary directory; PREFIX: takes that
# installation as it is. Then, working in an empty directory there, checks that
#   - the programs (bin/pnpdist-<example>), weights, runner, configs and docs are installed;
#   - pnpdist-tomography_2d and pnpdist-tomography_3d, with PNPDIST_WEIGHTS_DIR unset, use the DRUNet weights of
#     the prefix (result.json: denoiser.kind, denoiser.weights);
#   - PNPDIST_WEIGHTS_DIR naming a directory without the weights makes it exit non-zero with a message naming
#     that directory, and --denoiser tv runs without weights;
#   - with PYTHON: the installed runner, given the installed config, runs the installed program (--dry-run);
#     the main job's grid at a tiny size (1 rank, then 2 ranks under MPIEXEC with the views and denoiser tiles
#     dealt to them, or without MPIEXEC 1 rank with tiles) writes summary.csv and the dashboard, which
#     bin/pnpdist-dashboard writes again; with SOURCE_DIR too, its tools/check_dashboard.py renders the
#     dashboard in headless Chromium (a message, not a failure, without Chromium);
#   - with SOURCE_DIR: no output file or log of these runs, and no installed file, holds a path into the
#     source tree or BUILD_DIR: the text files, and the programs too (the names of their sources in messages
#     and debug information, their RPATH, a directory compiled in).
# Nothing is copied from the source tree; the temporary directory is removed at the end.
if(NOT DEFINED BUILD_DIR AND NOT DEFINED PREFIX)
  message(FATAL_ERROR "installed_example.cmake: set BUILD_DIR (install it) or PREFIX (an installation)")
endif()
set(ROOT_NAME install)
include(${CMAKE_CURRENT_LIST_DIR}/temporary_root.cmake)  # root, fail()
set(work "${root}/work")
set(logs "${work}/logs")
file(MAKE_DIRECTORY "${logs}")

# run(<log name> <what may fail> ARGS...): runs ARGS in the work directory; its output goes to logs/<name>.log and
# to `output` in the caller; `status` is its exit status; WHAT (not empty): a non-zero status fails the test.
function(run name what)
  execute_process(COMMAND ${ARGN} WORKING_DIRECTORY "${work}"
                  OUTPUT_VARIABLE out ERROR_VARIABLE out RESULT_VARIABLE code)
  file(WRITE "${logs}/${name}.log" "${out}")
  if(NOT what STREQUAL "" AND NOT code EQUAL 0)
    fail("${what} exited with ${code}:\n${out}")
  endif()
  set(output "${out}" PARENT_SCOPE)
  set(status "${code}" PARENT_SCOPE)
endfunction()

if(NOT DEFINED PREFIX)
  set(PREFIX "${root}/prefix")
  execute_process(COMMAND ${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${PREFIX}"
                  OUTPUT_QUIET ERROR_VARIABLE install_errors RESULT_VARIABLE status)
  if(NOT status EQUAL 0)
    fail("cmake --install exited with ${status}: ${install_errors}")
  endif()
endif()
set(prefix "${PREFIX}")

foreach(file bin/pnpdist-tomography_2d bin/pnpdist-tomography_3d bin/pnpdist-highres_deblur bin/pnpdist-run
             bin/pnpdist-dashboard
             share/pnpdist/weights/drunet_gray.safetensors share/pnpdist/weights/drunet_color.safetensors
             share/pnpdist/weights/drunet_color_deblur.safetensors
             share/pnpdist/tools/pnpdist_run.py share/pnpdist/tools/pnpdist_dashboard.py
             share/pnpdist/tools/pnpdist_runner/launch.py share/pnpdist/configs/tomography_2d_cpu.yaml
             share/doc/pnpdist/examples.md share/doc/pnpdist/README.md)
  if(NOT EXISTS "${prefix}/${file}")
    fail("not installed: ${file}")
  endif()
endforeach()

# The default DRUNet weights of a program, found in the prefix: run with PNPDIST_WEIGHTS_DIR unset.
file(REAL_PATH "${prefix}/share/pnpdist/weights/drunet_gray.safetensors" expected)
function(check_prefix_weights example)
  set(program "${prefix}/bin/pnpdist-${example}")
  run(${example} "${program}" ${CMAKE_COMMAND} -E env --unset=PNPDIST_WEIGHTS_DIR "${program}" ${ARGN}
      --output-dir out-${example})
  file(READ "${work}/out-${example}/result.json" json)
  string(JSON kind GET "${json}" denoiser kind)
  string(JSON weights GET "${json}" denoiser weights)
  file(REAL_PATH "${weights}" weights_real)
  if(NOT kind STREQUAL "drunet" OR NOT weights_real STREQUAL expected)
    fail("${example}: denoiser ${kind} with weights '${weights}', expected drunet with ${expected}")
  endif()
endfunction()
set(small_2d --size 64 --iterations 2 --baselines 0 --threads 2 --quiet)
check_prefix_weights(tomography_2d ${small_2d})
check_prefix_weights(tomography_3d --size 16 --projections 12 --iterations 2 --baselines 0 --threads 2 --quiet)

# PNPDIST_WEIGHTS_DIR without the weights: an error naming it.
set(program "${prefix}/bin/pnpdist-tomography_2d")
set(missing "${root}/no-weights-here")
run(missing-weights "" ${CMAKE_COMMAND} -E env PNPDIST_WEIGHTS_DIR=${missing} "${program}" ${small_2d}
    --output-dir out-missing)
string(FIND "${output}" "${missing}" named)
if(status EQUAL 0 OR named EQUAL -1)
  fail("PNPDIST_WEIGHTS_DIR=${missing}: exit status ${status}, expected non-zero and a message naming it:\n${output}")
endif()

# A non-learned denoiser needs no weights.
run(tv "--denoiser tv with PNPDIST_WEIGHTS_DIR=${missing}"
    ${CMAKE_COMMAND} -E env PNPDIST_WEIGHTS_DIR=${missing} "${program}" ${small_2d} --denoiser tv --output-dir out-tv)

# The installed runner, started by its launcher bin/pnpdist-run, finds the installed program (PYTHON: Python 3
# with PyYAML, handed to the launcher).
if(DEFINED PYTHON)
  run(runner-dry-run "" ${CMAKE_COMMAND} -E env PNPDIST_PYTHON=${PYTHON} "${prefix}/bin/pnpdist-run"
      "${prefix}/share/pnpdist/configs/tomography_2d_cpu.yaml" --dry-run --out runner)
  string(FIND "${output}" "${program} " named)
  if(NOT status EQUAL 0 OR named EQUAL -1)
    fail("the installed runner (--dry-run) exited with ${status} without naming ${program}:\n${output}")
  endif()
  # The main job's grid at a tiny size, then its dashboard written again by bin/pnpdist-dashboard.
  set(runner_args --cores 2)
  if(DEFINED MPIEXEC)
    set(second_row "[\"cpu\", 2, true, true, 16, 4, 0]")
    list(APPEND runner_args --mpirun ${MPIEXEC})
  else()
    set(second_row "[\"cpu\", 1, false, false, 16, 4, 0]")
  endif()
  file(WRITE "${work}/small.yaml" "dataset:\n  - tomography_2d:\n      img_size: 32\n      num_operators: 2\n"
       "      num_angles: 20\n      noise_level: 0.01\nsolver:\n  - PnP:\n      max_iter: 2\n      baselines: false\n"
       "slurm_gres, slurm_ntasks_per_node, distribute_physics, distribute_denoiser, patch_size, overlap, max_batch_size: [\n"
       "  [\"cpu\", 1, false, false, 0, 0, 0],\n  ${second_row} ]\n")
  run(runner "" ${CMAKE_COMMAND} -E env PNPDIST_PYTHON=${PYTHON} --unset=PNPDIST_WEIGHTS_DIR
      "${prefix}/bin/pnpdist-run" small.yaml --out small ${runner_args})
  if(NOT status EQUAL 0 OR NOT EXISTS "${work}/small/summary.csv" OR NOT EXISTS "${work}/small/dashboard.html")
    fail("the installed runner exited with ${status} (summary.csv and dashboard.html expected):\n${output}")
  endif()
  file(REMOVE "${work}/small/dashboard.html")
  run(dashboard "" ${CMAKE_COMMAND} -E env PNPDIST_PYTHON=${PYTHON} "${prefix}/bin/pnpdist-dashboard" small)
  if(NOT status EQUAL 0 OR NOT EXISTS "${work}/small/dashboard.html")
    fail("bin/pnpdist-dashboard exited with ${status} without writing dashboard.html:\n${output}")
  endif()
  if(DEFINED SOURCE_DIR)
    run(check-dashboard "" ${PYTHON} "${SOURCE_DIR}/tools/check_dashboard.py" small --runs 2 --baselines 0)
    if(status EQUAL 2)
      message(STATUS "dashboard not rendered (no usable Chromium): ${output}")
    elseif(NOT status EQUAL 0)
      fail("the installed runner's dashboard failed tools/check_dashboard.py:\n${output}")
    endif()
  endif()
endif()

# No trace of the source or build tree in what the runs wrote, in their logs, or in any installed file: the
# programs are searched as they are, binary (grep -a), since a source path compiled into one is what this
# looks for (__FILE__ and std::source_location of the headers, debug information, RPATH, a default directory).
if(DEFINED SOURCE_DIR)
  foreach(tree IN ITEMS "${SOURCE_DIR}" "${BUILD_DIR}")
    if(tree STREQUAL "")
      continue()
    endif()
    # A path into the tree ("<tree>/..."): the bare directory name may occur in text (docs/developing.md
    # names /tmp/ci as an example clone).
    # grep's status: 0 found, 1 not found, anything else an error (which must not pass as "not found").
    execute_process(COMMAND grep -rlaF -- "${tree}/" "${work}" OUTPUT_VARIABLE in_outputs
                    ERROR_VARIABLE grep_error RESULT_VARIABLE grep_outputs)
    execute_process(COMMAND grep -rlaF -- "${tree}/" "${prefix}" OUTPUT_VARIABLE in_installed
                    ERROR_VARIABLE grep_error RESULT_VARIABLE grep_installed)
    if(NOT grep_outputs MATCHES "^[01]$" OR NOT grep_installed MATCHES "^[01]$")
      fail("grep for paths into ${tree} failed (${grep_outputs}, ${grep_installed}): ${grep_error}")
    endif()
    if(NOT in_outputs STREQUAL "" OR NOT in_installed STREQUAL "")
      fail("paths into ${tree} appear in these outputs and logs:\n${in_outputs}and these installed files:\n"
           "${in_installed}")
    endif()
  endforeach()
endif()

file(REMOVE_RECURSE "${root}")
message(STATUS "installed programs (${prefix}): tomography_2d and tomography_3d use the DRUNet weights of the "
               "prefix; a missing PNPDIST_WEIGHTS_DIR is reported; --denoiser tv needs none")
