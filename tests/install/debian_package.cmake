# The Debian package of a build (cmake/PnpdistPackage.cmake) as a user gets it (registered in
# examples/CMakeLists.txt as install_debian_package):
#
#   cmake -DBUILD_DIR=<build dir> -DSOURCE_DIR=<source tree> -DCPACK=<cpack> -DVERSION=<project version>
#         [-DPYTHON=<python3 with PyYAML>] [-DMPIEXEC=<mpirun>] -P debian_package.cmake
#
# Makes the .deb of BUILD_DIR with cpack from what is built (nothing is built here), checks its control fields
# (dpkg-deb -I, -f) and its contents (dpkg-deb -c), extracts it with dpkg-deb -x into a directory under the
# system's temporary directory (it is not installed into the system), configures the consumer project
# (tests/install/consumer) against the extracted /usr with every installed component, and runs
# installed_example.cmake on that /usr: the programs, the runner's main job at a tiny size and its dashboard,
# from a directory outside the source and build trees, with no path of either in any output or log.
cmake_minimum_required(VERSION 3.25)  # policies: IN_LIST
foreach(variable BUILD_DIR SOURCE_DIR CPACK VERSION)
  if(NOT DEFINED ${variable})
    message(FATAL_ERROR "debian_package.cmake: ${variable} is not set")
  endif()
endforeach()
set(ROOT_NAME deb)
include(${CMAKE_CURRENT_LIST_DIR}/temporary_root.cmake)  # root, fail()

# check(<what> ARGS...): runs ARGS; `output` in the caller; a non-zero exit status fails the test.
function(check what)
  execute_process(COMMAND ${ARGN} WORKING_DIRECTORY "${root}" OUTPUT_VARIABLE out ERROR_VARIABLE out
                  RESULT_VARIABLE status)
  if(NOT status EQUAL 0)
    fail("${what} exited with ${status}:\n${out}")
  endif()
  set(output "${out}" PARENT_SCOPE)
endfunction()

# The package, from the build as it is: CPACK_CMAKE_GENERATOR=Ninja skips the Makefile generators' preinstall
# step (which would first build every out-of-date target); the install rules run the same either way.
check("cpack -G DEB" "${CPACK}" --config "${BUILD_DIR}/CPackConfig.cmake" -G DEB -B "${root}/package"
      -D CPACK_CMAKE_GENERATOR=Ninja)
check("dpkg --print-architecture" dpkg --print-architecture)
string(STRIP "${output}" architecture)
set(deb "${root}/package/pnpdist_${VERSION}_${architecture}.deb")
if(NOT EXISTS "${deb}")
  file(GLOB made "${root}/package/*.deb")
  fail("cpack made '${made}', expected ${deb}")
endif()
file(SIZE "${deb}" size)

# Control fields: name, version, architecture, maintainer; Depends holds the Python modules of the runner and
# the dashboard (with MPIEXEC, mpirun's package) and what dpkg-shlibdeps found for the programs (libc6 at least);
# Recommends the compiler.
check("dpkg-deb -I" dpkg-deb -I "${deb}")
set(info "${output}")
function(expect_field field pattern)
  check("dpkg-deb -f ${field}" dpkg-deb -f "${deb}" ${field})
  if(NOT output MATCHES "${pattern}")
    fail("${deb}: ${field} '${output}' does not match '${pattern}':\n${info}")
  endif()
endfunction()
expect_field(Package "^pnpdist\n$")
expect_field(Version "^${VERSION}\n$")
expect_field(Architecture "^${architecture}\n$")
expect_field(Maintainer "^[^<\n]+ <[^>\n]+@[^>\n]+>\n$")
expect_field(Description "^[^\n]+\n [^\n]")
set(depends python3 python3-yaml python3-numpy python3-pil python3-plotly libc6)
if(DEFINED MPIEXEC)
  list(APPEND depends openmpi-bin)
endif()
foreach(package IN LISTS depends)
  expect_field(Depends "(^|, )${package}( \\([^)]*\\))?(,|\n)")
endforeach()
expect_field(Recommends "(^|, )g\\+\\+")

# Contents: everything under /usr; headers, the CMake package, the programs and launchers, weights, runner,
# configs and docs (installed_example.cmake looks at more of them once extracted).
check("dpkg-deb -c" dpkg-deb -c "${deb}")
string(REGEX MATCHALL "\\./[^\n]*" entries "${output}")
foreach(entry IN LISTS entries)
  if(NOT entry MATCHES "^\\./usr/" AND NOT entry STREQUAL "./")
    fail("${deb} holds ${entry}, outside /usr")
  endif()
endforeach()
foreach(file include/pnpdist/pnp.hpp lib/cmake/pnpdist/pnpdistConfig.cmake
             lib/cmake/pnpdist/pnpdistConfigVersion.cmake lib/cmake/pnpdist/pnpdist-targets.cmake
             bin/pnpdist-tomography_2d bin/pnpdist-tomography_3d bin/pnpdist-highres_deblur bin/pnpdist-run
             bin/pnpdist-dashboard share/pnpdist/weights/drunet_gray.safetensors
             share/pnpdist/tools/pnpdist_runner/dashboard.py share/pnpdist/configs/tomography_2d_cpu.yaml
             share/doc/pnpdist/README.md share/doc/pnpdist/copyright)
  if(NOT "./usr/${file}" IN_LIST entries)
    fail("${deb} lacks /usr/${file} (dpkg-deb -c)")
  endif()
endforeach()

# Extracted, not installed: find_package(pnpdist COMPONENTS <every installed one>) from it, then its programs.
set(usr "${root}/extract/usr")
check("dpkg-deb -x" dpkg-deb -x "${deb}" "${root}/extract")
file(STRINGS "${usr}/lib/cmake/pnpdist/pnpdistConfig.cmake" line REGEX "_pnpdist_installed_components \"")
string(REGEX MATCH "\"([^\"]*)\"" _ "${line}")
check("find_package(pnpdist COMPONENTS ${CMAKE_MATCH_1}) against the extracted package" ${CMAKE_COMMAND}
      -S "${SOURCE_DIR}/tests/install/consumer" -B "${root}/consumer" -DCMAKE_PREFIX_PATH=${usr}
      "-DPNPDIST_REQUESTED_COMPONENTS=${CMAKE_MATCH_1}")
set(pass_on -DPREFIX=${usr} -DSOURCE_DIR=${SOURCE_DIR} -DBUILD_DIR=${BUILD_DIR})
foreach(variable PYTHON MPIEXEC)
  if(DEFINED ${variable})
    list(APPEND pass_on -D${variable}=${${variable}})
  endif()
endforeach()
check("installed_example.cmake on the extracted package" ${CMAKE_COMMAND} ${pass_on}
      -P "${CMAKE_CURRENT_LIST_DIR}/installed_example.cmake")
string(REGEX REPLACE "^-- |\n$" "" installed "${output}")

file(REMOVE_RECURSE "${root}")
math(EXPR size_mib "${size} / 1048576")
message(STATUS "${deb}: ${size_mib} MiB, control fields and contents as expected; extracted: ${installed}")
