#pragma once
/// \file
/// The order of DRUNet's operations and the buffers they use, written once for every engine.
///
/// Memory plan: besides the padded input and the output, an engine holds two work buffers A and B, each
/// large enough for widths[0] channels at full resolution (they are reused at every scale), and the skip
/// tensors x2, x3, x4 of the coarser scales. x1 (the head's output) is not stored: the head is evaluated
/// again at the end and accumulated into the last residual block's output (it costs in_channels * widths[0]
/// * 9 MACs per pixel, 0.1% of the network). A residual block holds its input and output in one buffer:
/// t = relu(conv(x)) goes to the other buffer, then conv(t) is accumulated onto x (a sum post-op). Peak
/// activation memory: (2 widths[0] + widths[1]/4 + widths[2]/16 + widths[3]/64) floats per pixel in 2D
/// (divide by 8 and 64 and 512 in 3D), plus the input. The output aliases work buffer A, which is free
/// when the tail runs (the last residual blocks work in B); engines store Buffer::output in A.

#include <cstddef>

#include "pnpdist/nn/drunet_weights.hpp"
#include "pnpdist/nn/layers.hpp"

namespace pnpdist::nn {

/// The buffers of the plan.
enum class Buffer { input, a, b, skip2, skip3, skip4, output };

/// One convolution of the schedule: layer index (into drunet_layers), source and destination buffers,
/// the scale of the source (0 = full resolution) and the fused post-ops.
struct ConvStep {
  std::size_t layer;
  Buffer src;
  Buffer dst;
  int scale;
  PostOps post;
};

/// Calls ops.conv(ConvStep), ops.copy(dst, src, scale) and ops.add(dst, src, scale) (dst += src) in the
/// order of a forward pass.
template <class Ops>
inline void run_drunet_schedule(const DRUNetConfig& config, Ops& ops) {
  std::size_t layer = 0;
  const std::size_t head = layer++;
  auto blocks = [&](Buffer x, Buffer t, int scale) {
    for (index_t b = 0; b < config.blocks; ++b) {
      ops.conv(ConvStep{layer++, x, t, scale, PostOps{false, true}});
      ops.conv(ConvStep{layer++, t, x, scale, PostOps{true, false}});
    }
  };
  ops.conv(ConvStep{head, Buffer::input, Buffer::a, 0, {}});
  const Buffer skips[3] = {Buffer::skip2, Buffer::skip3, Buffer::skip4};
  for (int s = 0; s < 3; ++s) {
    blocks(Buffer::a, Buffer::b, s);
    ops.conv(ConvStep{layer++, Buffer::a, skips[s], s, {}});
    ops.copy(Buffer::a, skips[s], s + 1);
  }
  blocks(Buffer::a, Buffer::b, 3);
  Buffer x = Buffer::a, t = Buffer::b;
  for (int s = 3; s >= 1; --s) {
    ops.add(x, skips[s - 1], s);
    ops.conv(ConvStep{layer++, x, t, s, {}});
    const Buffer swap = x;
    x = t;
    t = swap;
    blocks(x, t, s - 1);
  }
  // After the three swaps x is B: A is free and holds the output (see the file comment).
  ops.conv(ConvStep{head, Buffer::input, x, 0, PostOps{true, false}});  // x + x1, x1 recomputed
  ops.conv(ConvStep{layer++, x, Buffer::output, 0, {}});
}

/// Channels of buffer `b` at `scale`.
inline index_t buffer_channels(const DRUNetConfig& config, Buffer b, int scale) {
  if (b == Buffer::input) return config.in_channels();
  if (b == Buffer::output) return config.image_channels;
  return config.widths[static_cast<std::size_t>(scale)];
}

/// Peak activation memory of the plan in floats per pixel (voxel) of the padded input, the input included:
/// 2 widths[0] + widths[1] / f + widths[2] / f^2 + widths[3] / f^3 + in_channels, f = 2^Dim (the output
/// aliases work buffer A). Engines add their scratch space and the weights; the CPU engines' planned_bytes()
/// is at least this times the padded pixel count times sizeof(float).
inline double drunet_activation_floats_per_pixel(const DRUNetConfig& config, std::size_t dim) {
  const double f = static_cast<double>(std::size_t{1} << dim);
  return 2.0 * static_cast<double>(config.widths[0]) + static_cast<double>(config.widths[1]) / f +
         static_cast<double>(config.widths[2]) / (f * f) + static_cast<double>(config.widths[3]) / (f * f * f) +
         static_cast<double>(config.in_channels());
}

/// Scale of the output of a convolution whose input is at `scale`.
inline int output_scale(ConvKind kind, int scale) {
  return kind == ConvKind::down2 ? scale + 1 : kind == ConvKind::up2 ? scale - 1 : scale;
}

}  // namespace pnpdist::nn
