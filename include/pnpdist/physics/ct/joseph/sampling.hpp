#pragma once
/// \file
/// The weights of Joseph's method, written once: each sample of a ray (linear interpolation in 2D, bilinear
/// in 3D, zero outside the grid) is handed to a policy as (voxel index, interpolation weight). GatherPolicy
/// sums the weighted voxels (forward projection), ScatterPolicy adds the weighted value to them (back
/// projection), so both directions use the same weights. Away from the grid's border the samples skip the
/// bounds checks, and every such path (single samples, batches of joseph_batch samples, and the ray groups of
/// forward.hpp and adjoint.hpp, which read their rays' positions through joseph_group_positions) takes its
/// weights from joseph_linear_weights / joseph_bilinear_weights: all of them compute the same values.
/// Sample positions are computed in the ray's real type R (rays.hpp: float for float data, double for
/// double).

#include <cmath>

#include "pnpdist/core/macros.hpp"
#include "pnpdist/core/types.hpp"
#include "pnpdist/physics/ct/joseph/layout.hpp"
#include "pnpdist/physics/ct/joseph/rays.hpp"

namespace pnpdist::ct {

/// Forward policy: accumulates w * volume[i]. The samples of a ray's interior go round-robin to four
/// partial sums (`lane` = sample index mod 4), so that consecutive samples do not wait for each other; the
/// sum is ((acc0 + acc1) + (acc2 + acc3)), a fixed order.
template <class T>
struct GatherPolicy {
  const T* volume;
  T acc[4] = {T(0), T(0), T(0), T(0)};
  PNPDIST_HOST_DEVICE void operator()(index_t i, T w, int lane = 0) { acc[lane] += w * volume[i]; }
  PNPDIST_HOST_DEVICE T sum() const { return (acc[0] + acc[1]) + (acc[2] + acc[3]); }
};

/// Adjoint policy: adds w * value to volume[i].
template <class T>
struct ScatterPolicy {
  T* volume;
  T value;
  PNPDIST_HOST_DEVICE void operator()(index_t i, T w, int /*lane*/ = 0) const { volume[i] += w * value; }
};

/// floor in the ray's real type.
PNPDIST_HOST_DEVICE float joseph_floor(float q) { return ::floorf(q); }
PNPDIST_HOST_DEVICE double joseph_floor(double q) { return ::floor(q); }

/// The linear interpolation at an interior position q > 0 (real type R) along the other axis of a 2D ray:
/// voxels i and i + 1 with the weights w0 = 1 - f and w1 = f (f = q - i). Every interior path of both
/// directions (single samples, batches, groups) takes its weights from here, so all of them compute the
/// same values.
template <class T, class Index = int>
struct LinearWeights {
  Index i;
  T w0, w1;
};
template <class T, class Index = int, class R>
PNPDIST_HOST_DEVICE LinearWeights<T, Index> joseph_linear_weights(R q) {
  const Index i = static_cast<Index>(q);  // q > 0: truncation is floor
  const T f = static_cast<T>(q - static_cast<R>(i));
  return {i, T(1) - f, f};
}

/// The bilinear interpolation at interior positions q0, q1 > 0 along the two other axes of a 3D ray: the
/// cell (i0, i1) and the weights of its corners (i0, i1), (i0, i1 + 1), (i0 + 1, i1), (i0 + 1, i1 + 1); like
/// joseph_linear_weights, the one source of the interior weights.
template <class T, class Index = int>
struct BilinearWeights {
  Index i0, i1;
  T w00, w01, w10, w11;
};
template <class T, class Index = int, class R>
PNPDIST_HOST_DEVICE BilinearWeights<T, Index> joseph_bilinear_weights(R q0, R q1) {
  const Index i0 = static_cast<Index>(q0), i1 = static_cast<Index>(q1);
  const T f0 = static_cast<T>(q0 - static_cast<R>(i0)), f1 = static_cast<T>(q1 - static_cast<R>(i1));
  return {i0, i1, (T(1) - f0) * (T(1) - f1), (T(1) - f0) * f1, f0 * (T(1) - f1), f0 * f1};
}

/// The weights of sample s of a 2D ray: policy(voxel index, interpolation weight) for the (at most two)
/// pixels of slice s it interpolates, zero outside the grid. The ray weight is applied by the caller.
/// For s in [ray.in_lo, ray.in_hi] both pixels are inside and joseph_sample_2d_interior gives the same
/// calls without the bounds checks.
template <class T, class R, class Policy>
PNPDIST_HOST_DEVICE void joseph_sample_2d(const SampleAxes2D& ax, const JosephRay2D<R>& ray, index_t s,
                                          Policy& policy) {
  const R q = ray.q0 + static_cast<R>(s) * ray.dq;
  if (!(q > R(-1) && q < static_cast<R>(ax.n_b))) return;
  const R fl = joseph_floor(q);
  const index_t i0 = static_cast<index_t>(fl);
  const T f = static_cast<T>(q - fl);
  const index_t base = s * ax.stride_a + i0 * ax.stride_b;
  if (i0 >= 0) policy(base, T(1) - f);
  if (i0 + 1 < ax.n_b) policy(base + ax.stride_b, f);
}

template <class T, class R, class Policy>
PNPDIST_HOST_DEVICE void joseph_sample_2d_interior(const SampleAxes2D& ax, const JosephRay2D<R>& ray, index_t s,
                                                   Policy& policy, int lane = 0) {
  const auto w = joseph_linear_weights<T, index_t>(ray.q0 + static_cast<R>(s) * ray.dq);
  const index_t base = s * ax.stride_a + w.i * ax.stride_b;
  policy(base, w.w0, lane);
  policy(base + ax.stride_b, w.w1, lane);
}

/// The weights of sample s of a 3D ray: bilinear interpolation in the slice s of its dominant axis, zero
/// outside the grid; joseph_sample_3d_interior for s in [ray.in_lo, ray.in_hi].
template <class T, class R, class Policy>
PNPDIST_HOST_DEVICE void joseph_sample_3d(const SampleAxes3D& ax, const JosephRay3D<R>& ray, index_t s,
                                          Policy& policy) {
  const R fs = static_cast<R>(s);
  const R q0 = ray.q0[0] + fs * ray.dq[0];
  const R q1 = ray.q0[1] + fs * ray.dq[1];
  if (!(q0 > R(-1) && q0 < static_cast<R>(ax.n_0) && q1 > R(-1) && q1 < static_cast<R>(ax.n_1))) return;
  const R fl0 = joseph_floor(q0), fl1 = joseph_floor(q1);
  const index_t i0 = static_cast<index_t>(fl0), i1 = static_cast<index_t>(fl1);
  const T f0 = static_cast<T>(q0 - fl0), f1 = static_cast<T>(q1 - fl1);
  const index_t base = s * ax.stride_a + i0 * ax.stride_0 + i1 * ax.stride_1;
  const bool lo0 = i0 >= 0, hi0 = i0 + 1 < ax.n_0, lo1 = i1 >= 0, hi1 = i1 + 1 < ax.n_1;
  if (lo0 && lo1) policy(base, (T(1) - f0) * (T(1) - f1));
  if (lo0 && hi1) policy(base + ax.stride_1, (T(1) - f0) * f1);
  if (hi0 && lo1) policy(base + ax.stride_0, f0 * (T(1) - f1));
  if (hi0 && hi1) policy(base + ax.stride_0 + ax.stride_1, f0 * f1);
}

template <class T, class R, class Policy>
PNPDIST_HOST_DEVICE void joseph_sample_3d_interior(const SampleAxes3D& ax, const JosephRay3D<R>& ray, index_t s,
                                                   Policy& policy, int lane = 0) {
  const R fs = static_cast<R>(s);
  const auto w = joseph_bilinear_weights<T, index_t>(ray.q0[0] + fs * ray.dq[0], ray.q0[1] + fs * ray.dq[1]);
  const index_t base = s * ax.stride_a + w.i0 * ax.stride_0 + w.i1 * ax.stride_1;
  policy(base, w.w00, lane);
  policy(base + ax.stride_1, w.w01, lane);
  policy(base + ax.stride_0, w.w10, lane);
  policy(base + ax.stride_0 + ax.stride_1, w.w11, lane);
}

/// Interior samples s0 .. s0 + joseph_batch - 1 of a ray at once: the positions, voxel indices and weights
/// of joseph_sample_2d_interior / joseph_sample_3d_interior (the same expressions, so the same values) are
/// computed for the whole batch first (a loop the compiler vectorizes), then handed to the policy in sample
/// order, sample k on lane k mod 4.
inline constexpr int joseph_batch = 8;

template <class T, class R, class Policy>
PNPDIST_HOST_DEVICE void joseph_batch_interior(const SampleAxes2D& ax, const JosephRay2D<R>& ray, index_t s0,
                                               Policy& policy) {
  int i0[joseph_batch];
  T w0[joseph_batch], w1[joseph_batch];
  const int first = static_cast<int>(s0);
  for (int k = 0; k < joseph_batch; ++k) {
    const auto w = joseph_linear_weights<T>(ray.q0 + static_cast<R>(first + k) * ray.dq);
    i0[k] = w.i;
    w0[k] = w.w0;
    w1[k] = w.w1;
  }
  index_t slice = s0 * ax.stride_a;
  for (int k = 0; k < joseph_batch; k += 4) {
    for (int l = 0; l < 4; ++l, slice += ax.stride_a) {
      const index_t b = slice + i0[k + l] * ax.stride_b;
      policy(b, w0[k + l], l);
      policy(b + ax.stride_b, w1[k + l], l);
    }
  }
}

template <class T, class R, class Policy>
PNPDIST_HOST_DEVICE void joseph_batch_interior(const SampleAxes3D& ax, const JosephRay3D<R>& ray, index_t s0,
                                               Policy& policy) {
  int i0[joseph_batch], i1[joseph_batch];
  T w00[joseph_batch], w01[joseph_batch], w10[joseph_batch], w11[joseph_batch];
  const int first = static_cast<int>(s0);
  for (int k = 0; k < joseph_batch; ++k) {
    const R fs = static_cast<R>(first + k);
    const auto w = joseph_bilinear_weights<T>(ray.q0[0] + fs * ray.dq[0], ray.q0[1] + fs * ray.dq[1]);
    i0[k] = w.i0;
    i1[k] = w.i1;
    w00[k] = w.w00;
    w01[k] = w.w01;
    w10[k] = w.w10;
    w11[k] = w.w11;
  }
  index_t slice = s0 * ax.stride_a;
  for (int k = 0; k < joseph_batch; k += 4) {
    for (int l = 0; l < 4; ++l, slice += ax.stride_a) {
      const index_t b = slice + i0[k + l] * ax.stride_0 + i1[k + l] * ax.stride_1;
      policy(b, w00[k + l], l);
      policy(b + ax.stride_1, w01[k + l], l);
      policy(b + ax.stride_0, w10[k + l], l);
      policy(b + ax.stride_0 + ax.stride_1, w11[k + l], l);
    }
  }
}

/// Overloads picking the 2D or 3D sample function (joseph_traverse / joseph_sample_any are generic).
template <class T, class R, class Policy>
PNPDIST_HOST_DEVICE void joseph_sample(const SampleAxes2D& ax, const JosephRay2D<R>& ray, index_t s, Policy& policy) {
  joseph_sample_2d<T>(ax, ray, s, policy);
}
template <class T, class R, class Policy>
PNPDIST_HOST_DEVICE void joseph_sample(const SampleAxes3D& ax, const JosephRay3D<R>& ray, index_t s, Policy& policy) {
  joseph_sample_3d<T>(ax, ray, s, policy);
}
template <class T, class R, class Policy>
PNPDIST_HOST_DEVICE void joseph_sample_interior(const SampleAxes2D& ax, const JosephRay2D<R>& ray, index_t s,
                                                Policy& policy, int lane = 0) {
  joseph_sample_2d_interior<T>(ax, ray, s, policy, lane);
}
template <class T, class R, class Policy>
PNPDIST_HOST_DEVICE void joseph_sample_interior(const SampleAxes3D& ax, const JosephRay3D<R>& ray, index_t s,
                                                Policy& policy, int lane = 0) {
  joseph_sample_3d_interior<T>(ax, ray, s, policy, lane);
}

/// All samples of a ray, in order: the checked ends and the unchecked interior. Works on a local copy of
/// the policy (its partial sums stay in registers) and stores it back at the end.
template <class T, class Axes, class Ray, class Policy>
PNPDIST_HOST_DEVICE void joseph_traverse(const Axes& ax, const Ray& ray, Policy& result) {
  Policy policy = result;
  const index_t in_lo = ray.in_lo > ray.s_lo ? ray.in_lo : ray.s_lo;
  const index_t in_hi = ray.in_hi < ray.s_hi ? ray.in_hi : ray.s_hi;
  if (in_lo > in_hi) {
    for (index_t s = ray.s_lo; s <= ray.s_hi; ++s) joseph_sample<T>(ax, ray, s, policy);
    result = policy;
    return;
  }
  for (index_t s = ray.s_lo; s < in_lo; ++s) joseph_sample<T>(ax, ray, s, policy);
  // Batches of samples, then four at a time, each to its own lane of the policy (independent partial sums
  // for the gather).
  index_t s = in_lo;
  for (; s + joseph_batch - 1 <= in_hi; s += joseph_batch) joseph_batch_interior<T>(ax, ray, s, policy);
  for (; s + 3 <= in_hi; s += 4) {
    joseph_sample_interior<T>(ax, ray, s, policy, 0);
    joseph_sample_interior<T>(ax, ray, s + 1, policy, 1);
    joseph_sample_interior<T>(ax, ray, s + 2, policy, 2);
    joseph_sample_interior<T>(ax, ray, s + 3, policy, 3);
  }
  for (; s <= in_hi; ++s) joseph_sample_interior<T>(ax, ray, s, policy);
  for (index_t t = in_hi + 1; t <= ray.s_hi; ++t) joseph_sample<T>(ax, ray, t, policy);
  result = policy;
}

/// Sample s of a ray, checked or not as the interior range says (the same weights either way).
template <class T, class Axes, class Ray, class Policy>
PNPDIST_HOST_DEVICE void joseph_sample_any(const Axes& ax, const Ray& ray, index_t s, Policy& policy) {
  if (s >= ray.in_lo && s <= ray.in_hi)
    joseph_sample_interior<T>(ax, ray, s, policy);
  else
    joseph_sample<T>(ax, ray, s, policy);
}

/// The positions of a group of G rays of one dominant axis along its other axes, read once by the group
/// loops of both directions: in slice s, ray r lies at q0[r] + s dq[r] (2D), at q0[r] + s dq0[r] and
/// q1[r] + s dq1[r] (3D).
template <int G, class R>
struct GroupPositions2D {
  R q0[G], dq[G];
};
template <int G, class R>
struct GroupPositions3D {
  R q0[G], q1[G], dq0[G], dq1[G];
};
template <int G, class R>
PNPDIST_HOST_DEVICE GroupPositions2D<G, R> joseph_group_positions(const JosephRay2D<R>* rays) {
  GroupPositions2D<G, R> p;
  for (int r = 0; r < G; ++r) {
    p.q0[r] = rays[r].q0;
    p.dq[r] = rays[r].dq;
  }
  return p;
}
template <int G, class R>
PNPDIST_HOST_DEVICE GroupPositions3D<G, R> joseph_group_positions(const JosephRay3D<R>* rays) {
  GroupPositions3D<G, R> p;
  for (int r = 0; r < G; ++r) {
    p.q0[r] = rays[r].q0[0];
    p.q1[r] = rays[r].q0[1];
    p.dq0[r] = rays[r].dq[0];
    p.dq1[r] = rays[r].dq[1];
  }
  return p;
}

}  // namespace pnpdist::ct
