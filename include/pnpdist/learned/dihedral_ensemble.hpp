#pragma once
/// \file
/// The geometric self-ensemble of a reconstruction network: the mean over the 8 symmetries T of the square
/// (the dihedral group D4: rotations by 0, 90, 180, 270 degrees, transpose, row and column flips,
/// anti-transpose) of T^-1 net(S_T g), where S_T is what T does to the sinogram: A T = S_T A. For a geometry
/// symmetric under T (a parallel beam with uniform views over [0, pi) whose count T maps onto itself, a centred
/// detector), S_T takes each view of the transformed image's sinogram from one view of the original, reversed
/// along the detector or not; a network that is not exactly equivariant then gives 8 different estimates, and
/// their mean is better than each (docs/learned.md measures it for LPD).
///
/// find_sinogram_symmetry() finds S_T of an operator numerically, instead of deriving it from a geometry's
/// conventions: it projects a random image and its transform, and matches every view of the second with a view
/// of the first (either direction along the detector) to a relative tolerance; nullopt when a view has no match,
/// so a geometry that is not symmetric is never ensembled by mistake. The ensemble needs all 8.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "pnpdist/backend/serial.hpp"
#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/types.hpp"
#include "pnpdist/tensor/random.hpp"
#include "pnpdist/tensor/tensor.hpp"

namespace pnpdist::learned {

/// A symmetry of the square: out(i, j) = in(map(i, j)) for an n x n image (see apply_dihedral).
enum class Dihedral { identity, rotate90, rotate180, rotate270, transpose, flip_rows, flip_cols, antitranspose };

inline constexpr std::array<Dihedral, 8> all_dihedral{Dihedral::identity,  Dihedral::rotate90,  Dihedral::rotate180,
                                                      Dihedral::rotate270, Dihedral::transpose, Dihedral::flip_rows,
                                                      Dihedral::flip_cols, Dihedral::antitranspose};

/// The name of a symmetry, for messages.
[[nodiscard]] inline const char* to_string(Dihedral t) {
  constexpr const char* names[] = {"identity",  "rotate90",  "rotate180", "rotate270",
                                   "transpose", "flip_rows", "flip_cols", "antitranspose"};
  return names[static_cast<int>(t)];
}

/// The inverse symmetry (the quarter turns swap; the others are their own inverse).
[[nodiscard]] inline Dihedral inverse(Dihedral t) {
  if (t == Dihedral::rotate90) return Dihedral::rotate270;
  if (t == Dihedral::rotate270) return Dihedral::rotate90;
  return t;
}

/// out = T(in) for n x n row-major images (out must not overlap in). rotate90 turns counter-clockwise as
/// numpy.rot90: out(i, j) = in(j, n - 1 - i).
template <class T>
void apply_dihedral(Dihedral t, index_t n, const T* in, T* out) {
  const index_t last = n - 1;
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j < n; ++j) {
      index_t r = i, c = j;
      switch (t) {
        case Dihedral::identity: break;
        case Dihedral::rotate90: r = j, c = last - i; break;
        case Dihedral::rotate180: r = last - i, c = last - j; break;
        case Dihedral::rotate270: r = last - j, c = i; break;
        case Dihedral::transpose: r = j, c = i; break;
        case Dihedral::flip_rows: r = last - i; break;
        case Dihedral::flip_cols: c = last - j; break;
        case Dihedral::antitranspose: r = last - j, c = last - i; break;
      }
      out[i * n + j] = in[r * n + c];
    }
}

/// What a symmetry does to a sinogram (views, cols): view k of the result is view source[k] of the input,
/// reversed along the detector where reversed[k].
struct SinogramSymmetry {
  std::vector<index_t> source;
  std::vector<char> reversed;
};

/// out = S(in) for sinograms of `cols` columns (out must not overlap in).
template <class T>
void apply_sinogram_symmetry(const SinogramSymmetry& s, index_t cols, const T* in, T* out) {
  for (std::size_t k = 0; k < s.source.size(); ++k) {
    const T* row = in + s.source[k] * cols;
    T* target = out + static_cast<index_t>(k) * cols;
    if (s.reversed[k])
      std::reverse_copy(row, row + cols, target);
    else
      std::copy(row, row + cols, target);
  }
}

/// S_T of `op` (a host LinearOperator from n x n images to (views, cols) sinograms) such that A T x = S_T A x,
/// found with a random image (seeded): each view of A T x matched with the view of A x (or its reversal) at the
/// smallest difference, which must be below `tolerance` x max |A x|. nullopt when a view has no match (the
/// geometry is not symmetric under t) or the image is not square.
template <class Op>
[[nodiscard]] std::optional<SinogramSymmetry> find_sinogram_symmetry(const Op& op, Dihedral t,
                                                                     double tolerance = 1e-4) {
  using T = typename Op::value_type;
  const auto image = op.domain_shape();
  const auto sinogram = op.range_shape();
  if (image[0] != image[1]) return std::nullopt;
  const index_t n = image[0], views = sinogram[0], cols = sinogram[1];
  Tensor<T, 2> x(image), tx(image), p(sinogram), tp(sinogram);
  fill_uniform(Serial{}, x.view(), 0x5eed, 0, T(0), T(1));
  apply_dihedral(t, n, x.data(), tx.data());
  op.apply(x.const_view(), p.view());
  op.apply(tx.const_view(), tp.view());
  double scale = 0;
  for (index_t i = 0; i < p.size(); ++i) scale = std::max(scale, std::abs(static_cast<double>(p.data()[i])));
  SinogramSymmetry s;
  for (index_t k = 0; k < views; ++k) {
    const T* target = tp.data() + k * cols;
    double best = INFINITY;
    index_t best_view = 0;
    bool best_reversed = false;
    for (index_t v = 0; v < views; ++v)
      for (const bool reversed : {false, true}) {
        const T* row = p.data() + v * cols;
        double worst = 0;
        for (index_t c = 0; c < cols && worst < best; ++c)
          worst = std::max(worst, std::abs(static_cast<double>(target[c]) -
                                           static_cast<double>(row[reversed ? cols - 1 - c : c])));
        if (worst < best) best = worst, best_view = v, best_reversed = reversed;
      }
    if (!(best <= tolerance * scale)) return std::nullopt;
    s.source.push_back(best_view);
    s.reversed.push_back(static_cast<char>(best_reversed));
  }
  return s;
}

/// The self-ensemble of a reconstruction `net(g, x)` (g: a sinogram of `op`, x: the n x n image it writes): the
/// symmetries of `op` are found once on construction; throws invalid_argument naming the first symmetry the
/// geometry lacks.
template <class T>
class DihedralEnsemble {
public:
  using Reconstruction = std::function<void(const T* g, T* x)>;

  template <class Op>
  explicit DihedralEnsemble(const Op& op) : n_(op.domain_shape()[0]), cols_(op.range_shape()[1]),
                                            sinogram_size_(op.range_shape()[0] * op.range_shape()[1]) {
    require(op.domain_shape()[0] == op.domain_shape()[1], [&] {
      return "self-ensemble: the image must be square (its symmetries are those of the square), got " +
             std::to_string(op.domain_shape()[0]) + " x " + std::to_string(op.domain_shape()[1]);
    });
    for (const Dihedral t : all_dihedral) {
      std::optional<SinogramSymmetry> s = find_sinogram_symmetry(op, t);
      require(s.has_value(), [&] {
        return std::string("self-ensemble: the geometry is not symmetric under ") + to_string(t) +
               " of the image (no view of the transformed image's sinogram matches one of the original's): it needs "
               "a square image, uniform views that a quarter turn maps onto views (parallel: over [0, pi), an even "
               "number; fan: over [0, 2 pi), a multiple of 4) and a centred detector";
      });
      symmetries_.push_back(std::move(*s));
    }
  }

  /// x = (1/8) sum_T T^-1 net(S_T g).
  void reconstruct(const Reconstruction& net, const T* g, T* x) const {
    std::vector<T> transformed(static_cast<std::size_t>(sinogram_size_));
    std::vector<T> estimate(static_cast<std::size_t>(n_ * n_)), back(estimate.size());
    std::vector<double> sum(estimate.size(), 0.0);
    for (std::size_t i = 0; i < all_dihedral.size(); ++i) {
      apply_sinogram_symmetry(symmetries_[i], cols_, g, transformed.data());
      net(transformed.data(), estimate.data());
      apply_dihedral(inverse(all_dihedral[i]), n_, estimate.data(), back.data());
      for (std::size_t j = 0; j < sum.size(); ++j) sum[j] += static_cast<double>(back[j]);
    }
    for (std::size_t j = 0; j < sum.size(); ++j) x[j] = static_cast<T>(sum[j] / 8.0);
  }

  [[nodiscard]] const std::vector<SinogramSymmetry>& symmetries() const { return symmetries_; }

private:
  index_t n_, cols_, sinogram_size_;
  std::vector<SinogramSymmetry> symmetries_;  // in the order of all_dihedral
};

}  // namespace pnpdist::learned
