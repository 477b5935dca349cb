# Installs the headers, the targets (one export file per component) and pnpdistConfig.cmake, so that
# find_package(pnpdist COMPONENTS openmp fftw ...) works from an install tree; and what a user of the
# installed benchmarks needs without the source tree: the DRUNet weights (share/pnpdist/weights), the runner
# and its dashboard (share/pnpdist/tools, launched by bin/pnpdist-run and bin/pnpdist-dashboard), the benchmark configs (share/pnpdist/configs) and the docs
# (share/doc/pnpdist). The example programs install themselves as bin/pnpdist-<example> (examples/).

set(PNPDIST_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/pnpdist)

install(DIRECTORY include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.hpp" PATTERN "*.cuh")
install(TARGETS pnpdist EXPORT pnpdist-targets)
install(EXPORT pnpdist-targets NAMESPACE pnpdist:: DESTINATION ${PNPDIST_CMAKE_DIR})
foreach(component IN LISTS PNPDIST_COMPONENTS)
  install(TARGETS pnpdist_${component} EXPORT pnpdist-${component}-targets)
  install(EXPORT pnpdist-${component}-targets NAMESPACE pnpdist:: DESTINATION ${PNPDIST_CMAKE_DIR})
endforeach()

configure_package_config_file(cmake/pnpdistConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/pnpdistConfig.cmake INSTALL_DESTINATION ${PNPDIST_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/pnpdistConfigVersion.cmake
  COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT)
install(FILES
  ${CMAKE_CURRENT_BINARY_DIR}/pnpdistConfig.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/pnpdistConfigVersion.cmake
  cmake/FindFFTW3f.cmake
  cmake/FindNCCL.cmake
  cmake/FindCUDNN.cmake
  DESTINATION ${PNPDIST_CMAKE_DIR})

install(DIRECTORY weights/ DESTINATION ${CMAKE_INSTALL_DATADIR}/pnpdist/weights FILES_MATCHING PATTERN "*.safetensors")
install(PROGRAMS tools/pnpdist_run.py tools/pnpdist_dashboard.py DESTINATION ${CMAKE_INSTALL_DATADIR}/pnpdist/tools)
# bin/pnpdist-run and bin/pnpdist-dashboard: launchers of the installed runner and dashboard.
set(PNPDIST_RUNNER_PYTHON /usr/bin/python3 CACHE FILEPATH "Python 3 with PyYAML: the runner's launchers and tests")
file(RELATIVE_PATH TOOLS_FROM_BIN /${CMAKE_INSTALL_BINDIR} /${CMAKE_INSTALL_DATADIR}/pnpdist/tools)
foreach(tool run dashboard)
  set(LAUNCHER pnpdist-${tool})
  set(SCRIPT pnpdist_${tool}.py)
  configure_file(cmake/pnpdist-tool-launcher.sh.in ${CMAKE_BINARY_DIR}/launchers/pnpdist-${tool} @ONLY)
  install(PROGRAMS ${CMAKE_BINARY_DIR}/launchers/pnpdist-${tool} DESTINATION ${CMAKE_INSTALL_BINDIR})
endforeach()
install(DIRECTORY tools/pnpdist_runner DESTINATION ${CMAKE_INSTALL_DATADIR}/pnpdist/tools FILES_MATCHING PATTERN "*.py"
        PATTERN "__pycache__" EXCLUDE)
install(DIRECTORY configs/ DESTINATION ${CMAKE_INSTALL_DATADIR}/pnpdist/configs)
install(DIRECTORY docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES LICENSE DESTINATION ${CMAKE_INSTALL_DOCDIR} RENAME copyright)  # Debian's name for it
