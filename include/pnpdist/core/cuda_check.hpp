#pragma once
/// \file
/// PNPDIST_CUDA_CHECK(call): evaluates a CUDA runtime call and throws pnpdist::cuda_error, naming the call,
/// the CUDA error and the caller's file/line, when it does not return success.
///
/// This header does not include the CUDA runtime: the status is handled generically and the error text is
/// looked up by argument-dependent lookup of cudaGetErrorName/cudaGetErrorString, so it compiles everywhere
/// and is only instantiated by code that already includes <cuda_runtime.h> (backend/cuda/).

#include <source_location>
#include <string>

#include "pnpdist/core/errors.hpp"

namespace pnpdist::detail {

template <class Status>
inline void check_cuda_status(Status status, const char* call,
                              std::source_location where = std::source_location::current()) {
  if (static_cast<int>(status) == 0) return;  // cudaSuccess
  throw cuda_error(std::string(call) + " failed: " + cudaGetErrorName(status) + " (" + cudaGetErrorString(status) + ")",
                   where);
}

}  // namespace pnpdist::detail

#define PNPDIST_CUDA_CHECK(call) ::pnpdist::detail::check_cuda_status((call), #call)
