# Installs the headers, the targets (one export file per component) and pnpdistConfig.cmake, so that
# find_package(pnpdist COMPONENTS openmp fftw ...) works from an install tree.

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
