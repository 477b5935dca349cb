#pragma once
/// \file
/// Launch policies: the shape an executor gives an iteration space (iteration_space.hpp). A kernel is
/// written once, against its space; each executor has one policy type, which decides how the iterations
/// become threads:
///
///     SerialPolicy   (serial.hpp)              one loop in index order, in the calling thread
///     OpenMPPolicy   (openmp_policy.hpp)       a serial threshold, then static chunks over the team
///     CudaPolicy     (cuda/launch_policy.hpp)  block size, block limit (grid-stride beyond it) and
///                                              iterations per thread; one thread per multi-index
///
/// Every executor defines `default_launch_policy(exec)`, the shape its plain launches get;
/// `launch_policy_t<Exec>` is that function's result type. A caller overrides the shape by passing its own
/// policy of that type:
///
///     for_each(exec, Range{n}, f);                                   // the executor's default shape
///     for_each(cuda, CudaPolicy(128), MDRange{extents}, f);          // 128 threads per block
///     for_each(omp, OpenMPPolicy(4, 0, 64), Range{n}, f);            // 4 threads, chunks of 64
///
/// A policy's constructor validates the shape (pnpdist::invalid_argument), so an invalid shape never
/// reaches a launch. The N-D decomposition is a property of the policy (MDShape): host policies run the
/// leading indices as iterations and loop over each contiguous row inside (vectorizable inner loops), the
/// CUDA policy runs one thread per multi-index (coalesced accesses). Policies never change results: the
/// same kernel gives the same values on every executor and under every policy, up to the kernel's own
/// dependence on iteration order (for_each kernels must not have any).
///
/// A policy also names the form it wants of kernels that have two (KernelForm): the CPU policies the
/// coarse form (few heavy iterations: a scatter along whole rays into slices, a transpose by tiles), the
/// CUDA policy the per-element form (one light iteration per output element, a gather, no atomics).
/// Operators choose between their forms with `kernel_form_v<Exec>`, never by the memory space, so a
/// host executor whose policy asks for per-element kernels runs the device forms natively (the tests do).
/// Both forms compute the same values up to floating-point summation order (each operator says how close).

#include <concepts>
#include <type_traits>
#include <utility>

namespace pnpdist {

/// How a policy decomposes an N-D iteration space (see the file comment).
enum class MDShape {
  rows,      ///< the leading R-1 indices are the iterations, each a loop over the last index
  elements,  ///< every multi-index is one iteration (its position in row-major order)
};

/// Which of its two forms a kernel that has both should take under a policy (see the file comment).
enum class KernelForm {
  coarse,       ///< few heavy iterations, each a cache-friendly stretch of work (CPU teams)
  per_element,  ///< one light iteration per output element, gathering its inputs (GPU grids)
};

/// The launch policy type of executor Exec: what default_launch_policy(exec) returns.
template <class Exec>
using launch_policy_t = std::remove_cvref_t<decltype(default_launch_policy(std::declval<const Exec&>()))>;

/// A launch policy of executor Exec.
template <class Policy, class Exec>
concept LaunchPolicyOf = std::same_as<Policy, launch_policy_t<Exec>>;

/// The kernel form executor Exec's launch policy asks for (launch_policy_t<Exec>::kernel_form).
template <class Exec>
inline constexpr KernelForm kernel_form_v = launch_policy_t<Exec>::kernel_form;

}  // namespace pnpdist
