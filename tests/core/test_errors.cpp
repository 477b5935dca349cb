#include <catch2/catch.hpp>

#include <pnpdist/core/config.hpp>
#include <pnpdist/core/cuda_check.hpp>
#include <pnpdist/core/errors.hpp>

#include <string>

namespace {

// A stand-in for cudaError_t: the check macro must find the error text through argument-dependent lookup.
enum class FakeCudaStatus { success = 0, out_of_memory = 2 };
const char* cudaGetErrorName(FakeCudaStatus) { return "cudaErrorMemoryAllocation"; }
const char* cudaGetErrorString(FakeCudaStatus) { return "out of memory"; }
FakeCudaStatus failing_call() { return FakeCudaStatus::out_of_memory; }
FakeCudaStatus succeeding_call() { return FakeCudaStatus::success; }

}  // namespace

TEST_CASE("errors carry the raising file and line, and what() is the message (with the location in debug builds)",
          "[errors][unit]") {
  const unsigned line = __LINE__ + 2;
  try {
    throw pnpdist::dimension_mismatch("shapes (2, 3) and (3, 2) differ");
  } catch (const pnpdist::error& e) {
    CHECK(e.line() == line);
    CHECK(std::string(e.file()).find("test_errors.cpp") != std::string::npos);
    CHECK(e.message() == "shapes (2, 3) and (3, 2) differ");
    const std::string what = e.what();
#if defined(NDEBUG)
    CHECK(what == "shapes (2, 3) and (3, 2) differ");  // the message alone for the user
#else
    CHECK(what.rfind("shapes (2, 3) and (3, 2) differ [raised at ", 0) == 0);  // message first, then where
    CHECK(what.find("test_errors.cpp:" + std::to_string(line) + "]") != std::string::npos);
#endif
  }
}

TEST_CASE("the error hierarchy derives from pnpdist::error and std::runtime_error", "[errors][unit]") {
  CHECK_THROWS_AS(throw pnpdist::invalid_argument("x"), pnpdist::error);
  CHECK_THROWS_AS(throw pnpdist::io_error("x"), pnpdist::error);
  CHECK_THROWS_AS(throw pnpdist::not_compiled("x"), pnpdist::error);
  CHECK_THROWS_AS(throw pnpdist::cuda_error("x"), pnpdist::error);
  CHECK_THROWS_AS(throw pnpdist::mpi_error("x"), std::runtime_error);
  CHECK_THROWS_AS(throw pnpdist::numerical_error("x"), pnpdist::error);
}

TEST_CASE("require throws the requested type at the caller's line only when the condition fails", "[errors][unit]") {
  CHECK_NOTHROW(pnpdist::require(true, "never"));
  const unsigned line = __LINE__ + 2;
  try {
    pnpdist::require<pnpdist::io_error>(false, "cannot open 'missing.npy'");
    FAIL("require did not throw");
  } catch (const pnpdist::io_error& e) {
    CHECK(e.line() == line);
    CHECK(e.message() == "cannot open 'missing.npy'");
  }
}

TEST_CASE("PNPDIST_CUDA_CHECK names the call and the CUDA error", "[errors][unit]") {
  CHECK_NOTHROW(PNPDIST_CUDA_CHECK(succeeding_call()));
  try {
    PNPDIST_CUDA_CHECK(failing_call());
    FAIL("PNPDIST_CUDA_CHECK did not throw");
  } catch (const pnpdist::cuda_error& e) {
    CHECK(e.message() == "failing_call() failed: cudaErrorMemoryAllocation (out of memory)");
  }
}

TEST_CASE("compiled_features reports the backends of this build", "[config][unit]") {
  bool openmp = false;
  for (const auto& feature : pnpdist::compiled_features())
    if (feature.name == "openmp") openmp = feature.compiled;
#if defined(PNPDIST_HAS_OPENMP)
  CHECK(openmp);
#else
  CHECK_FALSE(openmp);
#endif
}
