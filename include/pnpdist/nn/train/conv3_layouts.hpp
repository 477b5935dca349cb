#pragma once
/// \file
/// The layouts and operands of the oneDNN training convolutions (conv3_onednn.hpp).
///
/// Layouts: each side of a convolution (the Cin side: in, d_in; the Cout side: out, d_out) may be NCHW (the
/// default) or channels-last NHWC (Conv3Layouts), on the oneDNN path only. With either side NHWC the primitive
/// runs on NHWC (nxc) tensors throughout: an NHWC float tensor is then used in place in float and only
/// converted (not transposed) in bf16, and the NCHW side is transposed. A block of layers that keeps its
/// wide activations channels-last (learned/conv_block.hpp) so avoids most reorders.

#include <type_traits>

#include "pnpdist/core/bfloat16.hpp"

namespace pnpdist::nn::train {

/// The memory layout of an activation tensor of batch N, C channels, H x W: NCHW or channels-last NHWC.
enum class ActivationLayout { nchw, nhwc };

/// How backward-data writes d_in: added to its values (the layers' contract) or in place of them (saves
/// a temporary and a pass over d_in where the caller would zero it first).
enum class GradientWrite { accumulate, overwrite };

/// The memory a blocked-path primitive runs on when a side is channels-last: `automatic` (channels-last, except
/// backward-weights below AVX-512: onednn_train_detail::backward_weights_on_channels_last), or either one forced
/// (for benchmarks and tests; results differ by float round-off only).
enum class PrimitiveLayout { automatic, channels_last, blocked };

/// The layouts of a convolution's two sides (see the file comment).
struct Conv3Layouts {
  ActivationLayout in = ActivationLayout::nchw;   ///< in and d_in
  ActivationLayout out = ActivationLayout::nchw;  ///< out and d_out
  PrimitiveLayout primitive = PrimitiveLayout::automatic;
  [[nodiscard]] bool channels_last() const {
    return in == ActivationLayout::nhwc || out == ActivationLayout::nhwc;
  }
};

/// One activation operand of a training convolution (in, d_out): values of type T, or values already rounded
/// to bfloat16 (round_to_bf16, in the side's layout). Rounded operands are taken by the oneDNN path in bf16
/// precision only, where they are read in place instead of being converted at each call; anything else
/// refuses them (invalid_argument).
template <class T>
struct Conv3Input {
  const T* values = nullptr;
  const bf16_bits* rounded = nullptr;
  Conv3Input(const T* v) : values(v) {}               // NOLINT(google-explicit-constructor): plain pointers convert
  Conv3Input(const bf16_bits* r) : rounded(r) {}      // NOLINT(google-explicit-constructor)
};

/// The operand type of the dispatchers of conv3_onednn.hpp, with T deduced from their other arguments.
template <class T>
using Conv3InputOf = std::type_identity_t<Conv3Input<T>>;

}  // namespace pnpdist::nn::train
