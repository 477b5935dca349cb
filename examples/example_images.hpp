#pragma once
// The PNG images the examples write: display_image maps a reconstruction, a measurement or a baseline to a
// C x H x W host image in [0, 1]; save_png writes it as an 8-bit PNG.
#include <pnpdist/pnp.hpp>

#include <cstddef>
#include <filesystem>
#include <string>

namespace pnpdist_examples {

/// A displayable C x H x W host image of `x`: (H, W) as gray, (D, H, W) by its central slice, (1, C, H, W) as
/// C channels; values mapped from [low, high] to [0, 1] (the PNG writer clamps to that range).
template <class Exec, std::size_t Rank>
pnpdist::Tensor<float, 3> display_image(const Exec& exec, const pnpdist::View<const float, Rank>& x, double low,
                                        double high) {
  static_assert(Rank >= 2 && Rank <= 4, "display_image: (H, W), (D, H, W) or (1, C, H, W)");
  const auto planes = [&] {
    if constexpr (Rank == 2) {
      return pnpdist::reshape(x, pnpdist::Extents<3>{1, x.extent(0), x.extent(1)});
    } else if constexpr (Rank == 3) {
      return pnpdist::subview(x, pnpdist::Extents<3>{x.extent(0) / 2, 0, 0},
                              pnpdist::Extents<3>{1, x.extent(1), x.extent(2)});
    } else {
      return pnpdist::reshape(x, pnpdist::Extents<3>{x.extent(0) * x.extent(1), x.extent(2), x.extent(3)});
    }
  }();
  pnpdist::Tensor<float, 3> image = pnpdist::clone(planes);
  const double range = high > low ? high - low : 1.0;
  pnpdist::Tensor<float, 3> offset(image.extents());
  pnpdist::fill(exec, offset.view(), static_cast<float>(-low / range));
  pnpdist::axpy(exec, static_cast<float>(1.0 / range), image.const_view(), offset.view());
  return offset;
}

/// Writes `x` (see display_image) as an 8-bit PNG at output_dir/name; returns name.
template <class Exec, std::size_t Rank>
std::string save_png(const Exec& exec, const std::string& output_dir, const std::string& name,
                     const pnpdist::View<const float, Rank>& x, double low, double high) {
  const pnpdist::Tensor<float, 3> image = display_image(exec, x, low, high);
  pnpdist::write_image((std::filesystem::path(output_dir) / name).string(), image.const_view(), 8);
  return name;
}

}  // namespace pnpdist_examples
