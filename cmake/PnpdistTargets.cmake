# The INTERFACE target pnpdist::pnpdist (headers, C++20) and one INTERFACE component target per optional
# backend. A component links its dependency and defines PNPDIST_HAS_<NAME>; code using a backend whose
# component is not linked throws pnpdist::not_compiled at run time instead of failing to link.

add_library(pnpdist INTERFACE)
add_library(pnpdist::pnpdist ALIAS pnpdist)
target_include_directories(pnpdist INTERFACE
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
target_compile_features(pnpdist INTERFACE cxx_std_20)
# nlohmann-json (header-only) parses the JSON headers of safetensors files: a dependency of the core.
find_package(nlohmann_json 3.10 REQUIRED)
target_link_libraries(pnpdist INTERFACE nlohmann_json::nlohmann_json)

set(PNPDIST_COMPONENTS "")

# pnpdist_add_component(<name> <DEFINE> <link targets...>)
function(pnpdist_add_component name define)
  add_library(pnpdist_${name} INTERFACE)
  add_library(pnpdist::${name} ALIAS pnpdist_${name})
  set_target_properties(pnpdist_${name} PROPERTIES EXPORT_NAME ${name})
  target_link_libraries(pnpdist_${name} INTERFACE pnpdist ${ARGN})
  target_compile_definitions(pnpdist_${name} INTERFACE ${define}=1)
  set(PNPDIST_COMPONENTS ${PNPDIST_COMPONENTS} ${name} PARENT_SCOPE)
endfunction()

if(PNPDIST_WITH_OPENMP)
  find_package(OpenMP REQUIRED COMPONENTS CXX)
  pnpdist_add_component(openmp PNPDIST_HAS_OPENMP OpenMP::OpenMP_CXX)
endif()

if(PNPDIST_WITH_CUDA)
  enable_language(CUDA)
  find_package(CUDAToolkit REQUIRED)
  # cuFFT ships with every toolkit: the device FFT (physics/fft) is part of the component.
  pnpdist_add_component(cuda PNPDIST_HAS_CUDA CUDA::cudart CUDA::cufft)
  target_compile_definitions(pnpdist_cuda INTERFACE PNPDIST_HAS_CUFFT=1)
  # CMake 3.25 knows no C++20 dialect for CUDA, so it is passed explicitly. Host/device functors call
  # constexpr std functions (numeric_limits), and device lambdas are allowed in user code.
  target_compile_options(pnpdist_cuda INTERFACE
    $<$<COMPILE_LANGUAGE:CUDA>:-std=c++20 --expt-relaxed-constexpr --extended-lambda>)
endif()

if(PNPDIST_WITH_MPI)
  find_package(MPI REQUIRED COMPONENTS CXX)
  pnpdist_add_component(mpi PNPDIST_HAS_MPI MPI::MPI_CXX)
endif()

if(PNPDIST_WITH_NCCL)
  if(NOT PNPDIST_WITH_CUDA)
    message(FATAL_ERROR "PNPDIST_WITH_NCCL needs PNPDIST_WITH_CUDA")
  endif()
  find_package(NCCL REQUIRED)
  pnpdist_add_component(nccl PNPDIST_HAS_NCCL pnpdist_cuda NCCL::nccl)
endif()

if(PNPDIST_WITH_ONEDNN)
  find_package(dnnl REQUIRED CONFIG)
  pnpdist_add_component(onednn PNPDIST_HAS_ONEDNN DNNL::dnnl)
endif()

if(PNPDIST_WITH_FFTW)
  find_package(FFTW3f REQUIRED)
  pnpdist_add_component(fftw PNPDIST_HAS_FFTW FFTW3::fftw3f)
endif()

if(PNPDIST_WITH_IMAGEIO)
  find_package(PNG REQUIRED)
  find_package(JPEG REQUIRED)
  pnpdist_add_component(imageio PNPDIST_HAS_IMAGEIO PNG::PNG JPEG::JPEG)
endif()

if(PNPDIST_WITH_TIFF)
  find_package(TIFF REQUIRED)
  pnpdist_add_component(tiff PNPDIST_HAS_TIFF TIFF::TIFF)
endif()

if(PNPDIST_WITH_HDF5)
  enable_language(C)  # FindHDF5's C component checks the C compiler
  find_package(HDF5 REQUIRED COMPONENTS C)
  pnpdist_add_component(hdf5 PNPDIST_HAS_HDF5 hdf5::hdf5)
endif()

if(PNPDIST_WITH_YAML)
  find_package(yaml-cpp REQUIRED CONFIG)
  # yaml-cpp 0.8 exports yaml-cpp::yaml-cpp, 0.7 (Debian 12) the plain yaml-cpp.
  if(TARGET yaml-cpp::yaml-cpp)
    pnpdist_add_component(yaml PNPDIST_HAS_YAML yaml-cpp::yaml-cpp)
  else()
    pnpdist_add_component(yaml PNPDIST_HAS_YAML yaml-cpp)
  endif()
endif()

if(PNPDIST_WITH_CUDNN)
  if(NOT PNPDIST_WITH_CUDA)
    message(FATAL_ERROR "PNPDIST_WITH_CUDNN needs PNPDIST_WITH_CUDA")
  endif()
  find_package(CUDNN REQUIRED)
  pnpdist_add_component(cudnn PNPDIST_HAS_CUDNN pnpdist_cuda CUDNN::cudnn)
endif()
