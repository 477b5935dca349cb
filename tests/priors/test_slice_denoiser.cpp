// SliceDenoiser: an image denoiser applied to the slices of a volume along one or more axes, against a
// reference written directly on the volume's indices (plain loops, independent of the slicing code).
#include <catch2/catch.hpp>

#include <pnpdist/priors/priors.hpp>
#include <pnpdist/tensor/random.hpp>

#include <algorithm>
#include <string>

#include "support/host_executors.hpp"

using pnpdist::Extents;
using pnpdist::index_t;
using pnpdist::Tensor;

namespace {

/// A linear image "denoiser" that tells its two axes apart and sees positions: on a P x Q image,
///   out(p, q) = in(p, q) + 0.25 in(p, q + 1) + 0.125 in(p + 1, q) + 0.01 p + sigma
/// (indices clamped at the last row and column). It counts the images it was given per call.
template <class Exec>
class NeighbourDenoiser {
public:
  using value_type = double;
  using executor_type = Exec;
  static constexpr std::size_t rank = 4;
  explicit NeighbourDenoiser(const Exec& exec) : exec_(exec) {}
  [[nodiscard]] Exec executor() const { return exec_; }
  [[nodiscard]] index_t largest_batch() const { return largest_batch_; }
  void denoise(const pnpdist::View<const double, 4>& x, double sigma, const pnpdist::View<double, 4>& y) {
    largest_batch_ = std::max(largest_batch_, x.extent(0));
    const index_t rows = x.extent(2), cols = x.extent(3);
    for (index_t n = 0; n < x.extent(0); ++n)
      for (index_t c = 0; c < x.extent(1); ++c)
        for (index_t p = 0; p < rows; ++p)
          for (index_t q = 0; q < cols; ++q)
            y(n, c, p, q) = x(n, c, p, q) + 0.25 * x(n, c, p, std::min(q + 1, cols - 1)) +
                            0.125 * x(n, c, std::min(p + 1, rows - 1), q) + 0.01 * static_cast<double>(p) + sigma;
  }

private:
  Exec exec_;
  index_t largest_batch_ = 0;
};

/// The reference: the slice-wise result at voxel (n, c, d, h, w) for slices perpendicular to `axis`, written
/// on the volume's own indices (depth slices are (h, w) images, height slices (d, w), width slices (d, h)).
double reference(const Tensor<double, 5>& x, int axis, double sigma, index_t n, index_t c, index_t d, index_t h,
                 index_t w) {
  const index_t nd = x.extent(2), nh = x.extent(3), nw = x.extent(4);
  const auto at = [&](index_t z, index_t y, index_t v) {
    return x(n, c, std::min(z, nd - 1), std::min(y, nh - 1), std::min(v, nw - 1));
  };
  switch (axis) {
    case 0:  // rows h, columns w
      return at(d, h, w) + 0.25 * at(d, h, w + 1) + 0.125 * at(d, h + 1, w) + 0.01 * static_cast<double>(h) + sigma;
    case 1:  // rows d, columns w
      return at(d, h, w) + 0.25 * at(d, h, w + 1) + 0.125 * at(d + 1, h, w) + 0.01 * static_cast<double>(d) + sigma;
    default:  // rows d, columns h
      return at(d, h, w) + 0.25 * at(d, h + 1, w) + 0.125 * at(d + 1, h, w) + 0.01 * static_cast<double>(d) + sigma;
  }
}

}  // namespace

TEMPLATE_LIST_TEST_CASE("The slice denoiser averages the image denoiser over the slices of the chosen axes",
                        "[priors][slices]", pnpdist::test::HostExecutors) {
  const auto exec = pnpdist::test::make_executor<TestType>();
  using Exec = decltype(exec);
  static_assert(pnpdist::Denoiser<pnpdist::SliceDenoiser<NeighbourDenoiser<Exec>>>);
  Tensor<double, 5> x(Extents<5>{2, 2, 3, 4, 5});
  pnpdist::fill_normal(pnpdist::Serial{}, x.view(), 11, 0, 0.0, 1.0);
  const double sigma = 0.3;
  for (const std::string letters : {"d", "h", "w", "dw", "dhw"}) {
    for (const index_t max_slices : {0, 1, 2}) {
      INFO("axes " << letters << ", max_slices " << max_slices);
      const pnpdist::SliceAxes axes = pnpdist::SliceAxes::parse(letters);
      CHECK(axes.letters() == letters);
      auto denoiser = pnpdist::slice_denoiser(NeighbourDenoiser<Exec>(exec), axes, max_slices);
      Tensor<double, 5> y(x.extents());
      pnpdist::fill(pnpdist::Serial{}, y.view(), 7.0);  // overwritten
      denoiser.denoise(x.const_view(), sigma, y.view());
      index_t largest_axis = 0;
      for (int a = 0; a < 3; ++a)
        if (letters.find("dhw"[a]) != std::string::npos) largest_axis = std::max(largest_axis, x.extent(2 + a));
      CHECK(denoiser.base().largest_batch() == (max_slices > 0 ? std::min(max_slices, largest_axis) : largest_axis));
      for (index_t n = 0; n < 2; ++n)
        for (index_t c = 0; c < 2; ++c)
          for (index_t d = 0; d < 3; ++d)
            for (index_t h = 0; h < 4; ++h)
              for (index_t w = 0; w < 5; ++w) {
                double sum = 0;
                for (int a = 0; a < 3; ++a)
                  if (letters.find("dhw"[a]) != std::string::npos) sum += reference(x, a, sigma, n, c, d, h, w);
                CHECK(y(n, c, d, h, w) == Approx(sum / static_cast<double>(letters.size())).epsilon(1e-12));
              }
    }
  }
}

TEST_CASE("The slice denoiser rejects bad axes, batch sizes and shapes", "[priors][slices]") {
  const pnpdist::Serial exec;
  for (const std::string bad : {"", "x", "dd", "dhwd", "D"})
    CHECK_THROWS_WITH(pnpdist::SliceAxes::parse(bad), Catch::Contains("'" + bad + "'"));
  CHECK_THROWS_AS(pnpdist::slice_denoiser(NeighbourDenoiser<pnpdist::Serial>(exec), pnpdist::SliceAxes{false, false, false}),
                  pnpdist::invalid_argument);
  CHECK_THROWS_WITH(pnpdist::slice_denoiser(NeighbourDenoiser<pnpdist::Serial>(exec), pnpdist::SliceAxes{}, -1),
                    Catch::Contains("max_slices -1"));
  auto denoiser = pnpdist::slice_denoiser(NeighbourDenoiser<pnpdist::Serial>(exec), pnpdist::SliceAxes{});
  Tensor<double, 5> x(Extents<5>{1, 1, 2, 3, 4});
  Tensor<double, 5> y(Extents<5>{1, 1, 2, 4, 3});
  CHECK_THROWS_AS(denoiser.denoise(x.const_view(), 0.1, y.view()), pnpdist::dimension_mismatch);
}
