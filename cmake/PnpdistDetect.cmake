# Detects the optional dependencies quietly; the PNPDIST_WITH_* options default to what is found here.
include(CheckLanguage)

find_package(OpenMP QUIET COMPONENTS CXX)
set(PNPDIST_FOUND_OPENMP ${OpenMP_CXX_FOUND})

# CUDA: a compiler (nvcc) and the toolkit. CUDA 13 dropped architectures below sm_75, so the default
# architectures are set before the language is probed.
if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
  set(CMAKE_CUDA_ARCHITECTURES 80 90)
endif()
if(NOT DEFINED CMAKE_CUDA_COMPILER AND EXISTS /usr/local/cuda/bin/nvcc)
  set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc)
endif()
check_language(CUDA)
find_package(CUDAToolkit QUIET)
if(CMAKE_CUDA_COMPILER AND CUDAToolkit_FOUND)
  set(PNPDIST_FOUND_CUDA ON)
else()
  set(PNPDIST_FOUND_CUDA OFF)
endif()

find_package(MPI QUIET COMPONENTS CXX)
set(PNPDIST_FOUND_MPI ${MPI_CXX_FOUND})

find_package(NCCL QUIET)
if(NCCL_FOUND AND PNPDIST_FOUND_CUDA)
  set(PNPDIST_FOUND_NCCL ON)
else()
  set(PNPDIST_FOUND_NCCL OFF)
endif()

find_package(dnnl QUIET CONFIG)
set(PNPDIST_FOUND_ONEDNN ${dnnl_FOUND})

find_package(FFTW3f QUIET)
set(PNPDIST_FOUND_FFTW ${FFTW3f_FOUND})

# Image files: libpng and libjpeg(-turbo) from Debian (libpng-dev, libjpeg-dev).
find_package(PNG QUIET)
find_package(JPEG QUIET)
if(PNG_FOUND AND JPEG_FOUND)
  set(PNPDIST_FOUND_IMAGEIO ON)
else()
  set(PNPDIST_FOUND_IMAGEIO OFF)
endif()

# TIFF stacks (projections, volumes): libtiff from Debian (libtiff-dev).
find_package(TIFF QUIET)
set(PNPDIST_FOUND_TIFF ${TIFF_FOUND})

# HDF5/NeXus projection stacks: the HDF5 C library from Debian (libhdf5-dev). FindHDF5's C component checks
# the C compiler, so C is enabled when there is one (nothing in pnpdist is compiled as C).
include(CheckLanguage)
check_language(C)
if(CMAKE_C_COMPILER)
  enable_language(C)
  find_package(HDF5 QUIET COMPONENTS C)
  set(PNPDIST_FOUND_HDF5 ${HDF5_FOUND})
else()
  set(PNPDIST_FOUND_HDF5 OFF)
endif()

# YAML geometry descriptions: yaml-cpp from Debian (libyaml-cpp-dev).
find_package(yaml-cpp QUIET CONFIG)
set(PNPDIST_FOUND_YAML ${yaml-cpp_FOUND})

# cuDNN: shipped beside the CUDA toolkit (not a Debian package here).
find_package(CUDNN QUIET)
if(CUDNN_FOUND AND PNPDIST_FOUND_CUDA)
  set(PNPDIST_FOUND_CUDNN ON)
else()
  set(PNPDIST_FOUND_CUDNN OFF)
endif()
