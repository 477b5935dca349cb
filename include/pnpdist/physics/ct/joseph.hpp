#pragma once
/// \file
/// Joseph's method (ray-driven, linear interpolation along the dominant axis), written once for the
/// forward projection and its exact transpose.
///
/// A ray is the line o + t d. In index space (voxel centres at integer coordinates) its dominant axis a is
/// the one of largest |d_a|; the ray is sampled once per slice s = 0 .. n_a - 1 of that axis, at the
/// positions q_b(s) = q0_b + s dq_b along the other axes, where the image is interpolated linearly (2D) or
/// bilinearly (3D), with zero outside the grid. Each sample has the weight |d| / |d_a| (the world length of
/// the ray per slice). The weights of a ray are produced by one function, joseph_sample_2d/3d, which calls a
/// policy with (voxel index, interpolation weight):
///   - GatherPolicy   (forward):  acc += w * volume[i]
///   - ScatterPolicy  (adjoint):  volume[i] += w * value
/// so the forward and the back projection use the same weights: the back projection is the exact transpose.
///
/// Parallelism. The forward projection runs one iteration per group of rays of a view (8 detector columns in
/// 2D, 4 x 4 detector pixels in 3D), sampled slice by slice together where they all lie inside the grid
/// (each ray's sum in a fixed order). The back projection runs, for each block
/// of views and each axis, one iteration per run of consecutive slices of that axis, which visits every ray
/// of the block whose dominant axis it is: a sample of slice s only touches voxels of slice s, so no two
/// iterations write the same voxel and no atomics are needed. Each voxel accumulates its terms in an order
/// fixed by the geometry (blocks, axes, views, groups of rays), so the result has the same bits for any
/// number of threads.
///
/// The parts, each in its own header under joseph/ (each includes what it uses):
///   - rays.hpp        grids and rays in index space, and the slices a ray samples
///   - layout.hpp      strides in the volume's own and the swapped layout, SwapLastAxes (by tiles) and
///                     SwapLastAxesElements (one iteration per element, per-element form)
///   - sampling.hpp    the weights of a sample and the Gather / Scatter policies, joseph_traverse
///   - forward.hpp     the forward projection (JosephForward2D / 3D) and its ray groups; JosephForwardRays,
///                     one iteration per ray (the 2D forward projection's per-element form)
///   - adjoint.hpp     the back projection (JosephBlockRays, JosephBlockAdjoint) and its ray groups
///   - gather.hpp      the voxel-driven back projection, per-element form (JosephGatherAdjoint): one
///                     iteration per pixel / voxel, gathering the same terms
///   - loop_hints.hpp  unrolling and prefetch hints of the kernels
///   - launch_cost.hpp the taps of the device kernels' rays, for their declared LaunchCost (launch census)

#include "pnpdist/physics/ct/joseph/adjoint.hpp"
#include "pnpdist/physics/ct/joseph/forward.hpp"
#include "pnpdist/physics/ct/joseph/gather.hpp"
#include "pnpdist/physics/ct/joseph/layout.hpp"
#include "pnpdist/physics/ct/joseph/loop_hints.hpp"
#include "pnpdist/physics/ct/joseph/rays.hpp"
#include "pnpdist/physics/ct/joseph/sampling.hpp"
