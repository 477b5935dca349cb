#pragma once
// A stand-in denoiser of known receptive field for the tiling and distribution tests: the input reflected
// once by `passes` samples on every spatial side, then `passes` valid 3 x 3 (2D) or 3 x 3 x 3 (3D) box means.
// Output sample i depends exactly on the inputs within distance `passes` of i (per axis), so a tiled run
// with overlap >= passes must reproduce the untiled one bit for bit. Plain host loops, written
// independently of the library's tiling code (its own reflection). It requires the spatial sizes it is
// given to be multiples of size_multiple (as DRUNet would like them), so tests also check that the tiler
// rounds windows up. It records the largest batch it was given and how many calls it served.
#include <pnpdist/backend/serial.hpp>
#include <pnpdist/core/errors.hpp>
#include <pnpdist/tensor/view.hpp>

#include <algorithm>
#include <cstddef>
#include <vector>

namespace pnpdist::test {

template <std::size_t Rank, class Exec = Serial>
class BoxFilterDenoiser {
  static_assert(Rank == 4 || Rank == 5);

public:
  using value_type = float;
  using executor_type = Exec;
  static constexpr std::size_t rank = Rank;
  static constexpr std::size_t dim = Rank - 2;

  BoxFilterDenoiser(index_t passes, index_t size_multiple = 1, Exec exec = Exec{})
      : exec_(exec), passes_(passes), multiple_(size_multiple) {}

  [[nodiscard]] Exec executor() const { return exec_; }
  [[nodiscard]] index_t size_multiple() const { return multiple_; }
  [[nodiscard]] index_t largest_batch() const { return largest_batch_; }
  [[nodiscard]] index_t calls() const { return calls_; }

  void denoise(const View<const float, Rank, HostSpace>& x, float /*sigma*/, const View<float, Rank, HostSpace>& y) {
    require_same_extents(x, y, "BoxFilterDenoiser");
    ++calls_;
    largest_batch_ = std::max(largest_batch_, x.extent(0));
    // Spatial extents as depth x height x width (depth 1 in 2D).
    const index_t nd = dim == 3 ? x.extent(2) : 1;
    const index_t nh = x.extent(Rank - 2);
    const index_t nw = x.extent(Rank - 1);
    for (std::size_t d = 2; d < Rank; ++d)
      require(x.extent(d) % multiple_ == 0, "BoxFilterDenoiser: spatial size not a multiple of its size multiple");
    const index_t k = passes_;
    const index_t kd = dim == 3 ? k : 0;
    for (index_t n = 0; n < x.extent(0); ++n)
      for (index_t c = 0; c < x.extent(1); ++c) {
        // Reflect-pad by k.
        index_t pd = nd + 2 * kd, ph = nh + 2 * k, pw = nw + 2 * k;
        std::vector<double> a(static_cast<std::size_t>(pd * ph * pw));
        for (index_t z = 0; z < pd; ++z)
          for (index_t i = 0; i < ph; ++i)
            for (index_t j = 0; j < pw; ++j)
              a[static_cast<std::size_t>((z * ph + i) * pw + j)] =
                  at(x, n, c, reflect(z - kd, nd), reflect(i - k, nh), reflect(j - k, nw));
        // k valid box passes.
        for (index_t pass = 0; pass < k; ++pass) {
          const index_t qd = pd - (dim == 3 ? 2 : 0), qh = ph - 2, qw = pw - 2;
          std::vector<double> b(static_cast<std::size_t>(qd * qh * qw));
          const index_t rz = dim == 3 ? 1 : 0;
          const double norm = dim == 3 ? 27.0 : 9.0;
          for (index_t z = 0; z < qd; ++z)
            for (index_t i = 0; i < qh; ++i)
              for (index_t j = 0; j < qw; ++j) {
                double s = 0;
                for (index_t dz = 0; dz <= 2 * rz; ++dz)
                  for (index_t di = 0; di <= 2; ++di)
                    for (index_t dj = 0; dj <= 2; ++dj)
                      s += a[static_cast<std::size_t>(((z + dz) * ph + i + di) * pw + j + dj)];
                b[static_cast<std::size_t>((z * qh + i) * qw + j)] = s / norm;
              }
          a.swap(b);
          pd = qd;
          ph = qh;
          pw = qw;
        }
        for (index_t z = 0; z < nd; ++z)
          for (index_t i = 0; i < nh; ++i)
            for (index_t j = 0; j < nw; ++j)
              ref(y, n, c, z, i, j) = static_cast<float>(a[static_cast<std::size_t>((z * nh + i) * nw + j)]);
      }
  }

private:
  /// Reflection about the border samples by repeated folding.
  static index_t reflect(index_t i, index_t n) {
    if (n == 1) return 0;
    while (i < 0 || i >= n) {
      if (i < 0) i = -i;
      if (i >= n) i = 2 * (n - 1) - i;
    }
    return i;
  }
  static float at(const View<const float, Rank, HostSpace>& v, index_t n, index_t c, index_t z, index_t i, index_t j) {
    if constexpr (Rank == 5)
      return v(n, c, z, i, j);
    else
      return (void)z, v(n, c, i, j);
  }
  static float& ref(const View<float, Rank, HostSpace>& v, index_t n, index_t c, index_t z, index_t i, index_t j) {
    if constexpr (Rank == 5)
      return v(n, c, z, i, j);
    else
      return (void)z, v(n, c, i, j);
  }

  Exec exec_;
  index_t passes_;
  index_t multiple_;
  index_t largest_batch_ = 0;
  index_t calls_ = 0;
};

}  // namespace pnpdist::test
