# A Debian package of the installation (cmake/PnpdistInstall.cmake and the examples' install rules), made by
# CPack from the same install rules into /usr:
#
#   cmake --build build/release --target package       # or: cd build/release && cpack -G DEB
#
# gives build/release/pnpdist_<version>_<arch>.deb (docs/developing.md, "Debian package"). One package: the
# headers and CMake package files, the benchmark programs, the DRUNet weights, the runner and its configs, the
# docs. Depends: the shared libraries of the installed programs (computed by dpkg-shlibdeps), the Python
# modules of the runner and its dashboard, mpirun when the programs were built with MPI. Recommends: the
# compiler and the -dev packages of the components the installation was built with, for find_package(pnpdist
# COMPONENTS ...). The programs are compiled with the build's flags: the release preset's -march=native ties
# them to CPUs like the one that built them.
# Only for a top-level build: a project that adds pnpdist with add_subdirectory keeps its own CPack settings.
if(NOT PNPDIST_IS_TOP_LEVEL)
  return()
endif()

set(PNPDIST_PACKAGE_MAINTAINER "The pnpdist developers <dev@pnpdist.invalid>"
    CACHE STRING "Maintainer field of the Debian package (name <email>)")
set(PNPDIST_PACKAGE_HOMEPAGE "" CACHE STRING "Homepage field of the Debian package (left out when empty)")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME pnpdist)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "The pnpdist developers")
set(CPACK_PACKAGE_CONTACT "${PNPDIST_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
# The long description, in lines of at most 80 columns (CPack indents them for the control file).
string(JOIN "\n" CPACK_PACKAGE_DESCRIPTION
  "pnpdist is a header-only C++20 template library for distributed Plug-and-Play"
  "reconstruction of large imaging inverse problems: deblurring of high-resolution"
  "colour images, 2D and 3D CT, with a native DRUNet denoiser as the prior and MPI"
  "distribution."
  ""
  "This package holds the headers and the CMake package (find_package(pnpdist)),"
  "the benchmark programs pnpdist-tomography_2d, pnpdist-tomography_3d and"
  "pnpdist-highres_deblur with the shipped DRUNet weights, the config-driven runner"
  "pnpdist-run with its offline dashboard, the benchmark configs and the docs.")
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # pnpdist_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${PNPDIST_PACKAGE_MAINTAINER}")
if(PNPDIST_PACKAGE_HOMEPAGE)
  set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "${PNPDIST_PACKAGE_HOMEPAGE}")
endif()
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# The libraries the programs link (libdnnl, libfftw3f, libgomp, libmpi, ...), as dpkg-shlibdeps finds them.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)

# The runner (PyYAML), its dashboard (numpy and Pillow for the error maps, plotly.js from python3-plotly) and,
# for runs on several ranks, mpirun.
set(_pnpdist_depends python3 python3-yaml python3-numpy python3-pil python3-plotly)
# What a consumer of the headers needs: the compiler, CMake, and each installed component's -dev package
# (openmp comes with g++; cuda, nccl and cudnn are not Debian packages).
set(_pnpdist_recommends "g++ (>= 4:12)" "cmake (>= 3.25)")
set(_pnpdist_dev_mpi libopenmpi-dev)
set(_pnpdist_dev_onednn libdnnl-dev)
set(_pnpdist_dev_fftw libfftw3-dev)
set(_pnpdist_dev_imageio libpng-dev libjpeg-dev)
set(_pnpdist_dev_tiff libtiff-dev)
set(_pnpdist_dev_hdf5 libhdf5-dev)
set(_pnpdist_dev_yaml libyaml-cpp-dev)
foreach(component IN LISTS PNPDIST_COMPONENTS)
  list(APPEND _pnpdist_recommends ${_pnpdist_dev_${component}})
endforeach()
if(mpi IN_LIST PNPDIST_COMPONENTS)
  list(APPEND _pnpdist_depends openmpi-bin)
endif()
list(JOIN _pnpdist_depends ", " CPACK_DEBIAN_PACKAGE_DEPENDS)
list(JOIN _pnpdist_recommends ", " CPACK_DEBIAN_PACKAGE_RECOMMENDS)
# chromium: the dashboard check (tools/check_dashboard.py renders it headless); the wallpapers: the default
# photograph of highres_deblur.
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "chromium, lomiri-wallpapers-16.04")

include(CPack)
set(PNPDIST_PACKAGE_DEB ON)  # read by examples/CMakeLists.txt (the install_debian_package test)
