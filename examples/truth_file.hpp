#pragma once
// --truth PATH for the tomography examples: a user-supplied ground truth instead of the built-in phantom.
//
//   tomography_2d: a square gray image, PNG (8 or 16 bit, values mapped to [0, 1]) or a 2-D .npy (float32,
//                  float64 or integer, values as stored).
//   tomography_3d: a cubic 3-D .npy volume (D = H = W), values as stored.
//
// The values are used as given (attenuation per unit length over the unit square / cube, like the phantoms'
// [0, 1] and [0, 1.5]); the PSNR/SSIM range and the display range are the truth's maximum. The image is not
// resized: --size is taken from the file, and a --size given on the command line that differs is an error.
// Errors (pnpdist::invalid_argument, io_error): a missing file, a wrong rank or channel count, a non-square /
// non-cubic array, NaN or infinite values.

#include "pnp_example_support.hpp"

#include <cmath>
#include <string>

namespace pnpdist_examples {

namespace detail {

template <std::size_t Rank>
void check_truth(const pnpdist::Tensor<float, Rank>& t, const std::string& path, index_t& size, bool size_given) {
  for (std::size_t d = 1; d < Rank; ++d)
    pnpdist::require(t.extent(d) == t.extent(0), [&] {
      return "--truth " + path + ": shape " + pnpdist::to_string(t.extents()) + " is not " +
             (Rank == 2 ? "square" : "cubic") + " (the image fills the unit " + (Rank == 2 ? "square" : "cube") +
             " at --size = its side)";
    });
  pnpdist::require(t.extent(0) >= 8,
                   [&] { return "--truth " + path + ": side " + std::to_string(t.extent(0)) + " < 8"; });
  for (index_t i = 0; i < t.size(); ++i)
    pnpdist::require(std::isfinite(t.data()[i]), [&] {
      return "--truth " + path + ": element " + std::to_string(i) + " is " + std::to_string(t.data()[i]) +
             " (NaN or infinite)";
    });
  pnpdist::require(!size_given || size == t.extent(0), [&] {
    return "--truth " + path + " is " + std::to_string(t.extent(0)) + " pixels on a side, --size " +
           std::to_string(size) + " differs (leave --size out: it is taken from the file)";
  });
  size = t.extent(0);
}

inline bool is_npy(const std::string& path) {
  return path.size() >= 4 && path.compare(path.size() - 4, 4, ".npy") == 0;
}

}  // namespace detail

/// A 2-D truth from a PNG or .npy file (see the file comment); sets `size` to its side.
inline pnpdist::Tensor<float, 2> read_truth_2d(const std::string& path, index_t& size, bool size_given) {
  if (!std::filesystem::exists(path)) throw pnpdist::io_error("--truth: '" + path + "' does not exist");
  pnpdist::Tensor<float, 2> t;
  if (detail::is_npy(path)) {
    try {
      t = pnpdist::read_npy<float, 2>(path);
    } catch (const std::exception& e) {
      throw pnpdist::invalid_argument("--truth " + path + ": expected a 2-D array (H x W): " + error_message(e));
    }
  } else {
    const pnpdist::Tensor<float, 3> image = pnpdist::read_image(path);
    pnpdist::require(image.extent(0) == 1, [&] {
      return "--truth " + path + ": " + std::to_string(image.extent(0)) + " channels, expected a gray image";
    });
    t = pnpdist::clone(pnpdist::reshape(image.const_view(), pnpdist::Extents<2>{image.extent(1), image.extent(2)}));
  }
  detail::check_truth(t, path, size, size_given);
  return t;
}

/// A 3-D truth from a .npy file (see the file comment); sets `size` to its edge.
inline pnpdist::Tensor<float, 3> read_truth_3d(const std::string& path, index_t& size, bool size_given) {
  if (!std::filesystem::exists(path)) throw pnpdist::io_error("--truth: '" + path + "' does not exist");
  pnpdist::require(detail::is_npy(path), [&] { return "--truth " + path + ": expected a .npy volume (D x H x W)"; });
  pnpdist::Tensor<float, 3> t;
  try {
    t = pnpdist::read_npy<float, 3>(path);
  } catch (const std::exception& e) {
    throw pnpdist::invalid_argument("--truth " + path + ": expected a 3-D array (D x H x W): " + error_message(e));
  }
  detail::check_truth(t, path, size, size_given);
  return t;
}

}  // namespace pnpdist_examples
