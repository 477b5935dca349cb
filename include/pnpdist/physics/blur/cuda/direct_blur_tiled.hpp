#pragma once
/// \file
/// The direct blur on the device with shared-memory tiles: each block of 16 x 16 threads computes a
/// 16 x 16 output tile of one plane (n, c). It loads the (16 + kh - 1) x (16 + kw - 1) input patch the tile
/// needs (wrapping or reading zero outside the image, as ConvolveRowKernel does) and the kh x kw kernel
/// into shared memory once, then every thread sums its kh * kw products from shared memory.
///
/// Same arithmetic contract as ConvolveRowKernel (kernels.hpp), so forward and adjoint are the same
/// launches with the flipped PSF. Defined only where kernels can be launched
/// (PNPDIST_CUDA_KERNELS_AVAILABLE); launched through cuda_launch.

#include "pnpdist/backend/cuda/cuda_executor.hpp"
#include "pnpdist/backend/cuda/launch.hpp"
#include "pnpdist/core/types.hpp"
#include "pnpdist/tensor/view.hpp"

namespace pnpdist::blur {

/// Side of the output tile of a block.
inline constexpr int direct_blur_tile = 16;
/// Largest kernel side the tiled kernel accepts: the patch and kernel of a 63 x 63 PSF take
/// (78 * 78 + 63 * 63) * 4 bytes = 40 KiB of shared memory in float, under the 48 KiB every GPU offers.
inline constexpr index_t direct_blur_tiled_max_kernel = 63;

#if defined(PNPDIST_CUDA_KERNELS_AVAILABLE)
namespace detail {

/// Planes are taken from blockIdx.z with a grid-stride loop (gridDim.z is limited to 65535).
template <class T>
__global__ void direct_blur_tiled_kernel(View<const T, 4, CudaSpace> in, View<T, 4, CudaSpace> out,
                                         View<const T, 2, CudaSpace> kernel, index_t offset_h, index_t offset_w,
                                         bool circular) {
  const int kh = static_cast<int>(kernel.extent(0));
  const int kw = static_cast<int>(kernel.extent(1));
  const int patch_h = direct_blur_tile + kh - 1;
  const int patch_w = direct_blur_tile + kw - 1;
  T* patch = cuda_dynamic_shared<T>();
  T* weights = patch + patch_h * patch_w;
  const int tx = static_cast<int>(threadIdx.x);
  const int ty = static_cast<int>(threadIdx.y);
  const int thread = ty * direct_blur_tile + tx;
  const int threads = direct_blur_tile * direct_blur_tile;

  for (int k = thread; k < kh * kw; k += threads) weights[k] = kernel(k / kw, k % kw);

  const index_t channels = out.extent(1);
  const index_t planes = out.extent(0) * channels;
  const index_t hi = in.extent(2);
  const index_t wi = in.extent(3);
  const index_t tile_i = static_cast<index_t>(blockIdx.y) * direct_blur_tile;
  const index_t tile_j = static_cast<index_t>(blockIdx.x) * direct_blur_tile;
  const index_t row0 = tile_i + offset_h - (kh - 1);  // input row of patch row 0
  const index_t col0 = tile_j + offset_w - (kw - 1);

  for (index_t plane = blockIdx.z; plane < planes; plane += gridDim.z) {
    const index_t n = plane / channels;
    const index_t c = plane % channels;
    __syncthreads();  // the previous plane's patch is no longer read
    for (int k = thread; k < patch_h * patch_w; k += threads) {
      index_t r = row0 + k / patch_w;
      index_t s = col0 + k % patch_w;
      T value = T(0);
      if (circular) {
        r %= hi;
        if (r < 0) r += hi;
        s %= wi;
        if (s < 0) s += wi;
        value = in(n, c, r, s);
      } else if (r >= 0 && r < hi && s >= 0 && s < wi) {
        value = in(n, c, r, s);
      }
      patch[k] = value;
    }
    __syncthreads();
    const index_t i = tile_i + ty;
    const index_t j = tile_j + tx;
    if (i < out.extent(2) && j < out.extent(3)) {
      T acc = T(0);
      for (int a = 0; a < kh; ++a)
        for (int b = 0; b < kw; ++b)
          acc += weights[a * kw + b] * patch[(ty + kh - 1 - a) * patch_w + (tx + kw - 1 - b)];
      out(n, c, i, j) = acc;
    }
  }
}

}  // namespace detail

/// out = the direct convolution of ConvolveRowKernel{in, out, kernel, offset_h, offset_w, circular}, by the
/// tiled kernel, queued in exec.stream. The kernel must be at most direct_blur_tiled_max_kernel on a side.
template <class T>
inline void direct_blur_tiled(const Cuda& exec, const View<const T, 4, CudaSpace>& in, const View<T, 4, CudaSpace>& out,
                              const View<const T, 2, CudaSpace>& kernel, index_t offset_h, index_t offset_w,
                              bool circular) {
  const index_t planes = out.extent(0) * out.extent(1);
  if (planes == 0 || out.extent(2) == 0 || out.extent(3) == 0) return;
  const auto kh = static_cast<std::size_t>(kernel.extent(0));
  const auto kw = static_cast<std::size_t>(kernel.extent(1));
  const std::size_t shared = ((direct_blur_tile + kh - 1) * (direct_blur_tile + kw - 1) + kh * kw) * sizeof(T);
  const dim3 grid(static_cast<unsigned>((out.extent(3) + direct_blur_tile - 1) / direct_blur_tile),
                  static_cast<unsigned>((out.extent(2) + direct_blur_tile - 1) / direct_blur_tile),
                  static_cast<unsigned>(planes < 65535 ? planes : 65535));
  cuda_launch(grid, dim3(direct_blur_tile, direct_blur_tile), shared, exec.stream, &detail::direct_blur_tiled_kernel<T>,
              in, out, kernel, offset_h, offset_w, circular);
}

#endif  // PNPDIST_CUDA_KERNELS_AVAILABLE

}  // namespace pnpdist::blur
