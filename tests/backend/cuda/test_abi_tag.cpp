// backend/cuda/abi_tag.hpp: Cuda and CudaSpace live in the inline namespace of the compilation mode, so
// that templates instantiated with them get mangled names of that mode (the emulated and nvcc-compiled
// counterparts are checked in tests/cuda_emulation/test_emulated_backend.cpp and
// tests/cuda/cuda_kernels_instantiation.cu).
#include <catch2/catch.hpp>

#include <pnpdist/backend/cuda/cuda_executor.hpp>
#include <pnpdist/core/macros.hpp>
#include <pnpdist/tensor/owning_tensor.hpp>

#include <string>
#include <type_traits>
#include <typeinfo>

TEST_CASE("Cuda and CudaSpace are in the host compiler's ABI-tagged inline namespace", "[backend][unit]") {
#if defined(PNPDIST_HAS_CUDA)
  STATIC_REQUIRE(std::is_same_v<pnpdist::Cuda, pnpdist::cuda_runtime::Cuda>);
  STATIC_REQUIRE(std::is_same_v<pnpdist::CudaSpace, pnpdist::cuda_runtime::CudaSpace>);
  const std::string tag = "cuda_runtime";
#else
  STATIC_REQUIRE(std::is_same_v<pnpdist::Cuda, pnpdist::cuda_none::Cuda>);
  STATIC_REQUIRE(std::is_same_v<pnpdist::CudaSpace, pnpdist::cuda_none::CudaSpace>);
  const std::string tag = "cuda_none";
#endif
  CHECK(tag == PNPDIST_STRINGIFY(PNPDIST_ABI_TAG));
  // The tag is in the mangled name of anything instantiated with the Cuda types (a length-prefixed name).
  const std::string mangled = typeid(pnpdist::Tensor<float, 1, pnpdist::CudaSpace>).name();
  CHECK(mangled.find(std::to_string(tag.size()) + tag) != std::string::npos);
  CHECK(std::string(typeid(pnpdist::Tensor<float, 1, pnpdist::HostSpace>).name()).find(tag) == std::string::npos);
}
