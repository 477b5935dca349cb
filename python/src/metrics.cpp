// pnpdist.psnr and pnpdist.ssim (as skimage.metrics computes them), on float32 or float64 arrays.

#include "arrays.hpp"
#include "bindings.hpp"
#include "pnpdist/metrics/psnr.hpp"
#include "pnpdist/metrics/ssim.hpp"

namespace pnpdist::python {

namespace {

/// x and reference: same dtype and shape; returns metric(View<const T, 3> x, View<const T, 3> reference) with
/// the arrays seen as (slices, H, W) (rank 1 arrays as (1, 1, n)).
template <class Metric>
double compare(nb::handle x, nb::handle reference, Metric metric) {
  const ArrayArg a = take_array(x, ArraySpec{"x", {}, {}, "", 1, 8});
  const ArrayArg r = take_array(reference, ArraySpec{"reference", {a.dtype}, a.shape, "the shape of x"});
  const index_t n = element_count(a.shape);
  const index_t w = a.shape.back();
  const index_t h = a.shape.size() >= 2 ? a.shape[a.shape.size() - 2] : 1;
  const Extents<3> e{h * w == 0 ? 0 : n / (h * w), h, w};
  nb::gil_scoped_release release;
  if (a.dtype == DType::float32)
    return metric(View<const float, 3>(static_cast<const float*>(a.data()), e),
                  View<const float, 3>(static_cast<const float*>(r.data()), e));
  return metric(View<const double, 3>(static_cast<const double*>(a.data()), e),
                View<const double, 3>(static_cast<const double*>(r.data()), e));
}

}  // namespace

void bind_metrics(nb::module_& m) {
  m.def(
      "psnr",
      [](const ArrayLike& x, const ArrayLike& reference, double data_range, const ExecutorArg& executor) {
        const HostExec exec = executor_or_default(executor);
        return compare(x, reference, [&](const auto& a, const auto& r) { return psnr(exec, a, r, data_range); });
      },
      nb::arg("x"), nb::arg("reference"), nb::arg("data_range") = 1.0, nb::arg("executor") = nb::none(),
      "PSNR of x against reference in dB, 10 log10(data_range^2 / MSE) (inf when equal), accumulated in double.");
  m.def(
      "ssim",
      [](const ArrayLike& x, const ArrayLike& reference, double data_range, const ExecutorArg& executor) {
        const HostExec exec = executor_or_default(executor);
        return compare(x, reference, [&](const auto& a, const auto& r) { return ssim(exec, a, r, data_range); });
      },
      nb::arg("x"), nb::arg("reference"), nb::arg("data_range") = 1.0, nb::arg("executor") = nb::none(),
      "SSIM of x against reference (Gaussian window sigma 1.5, as skimage's structural_similarity with "
      "gaussian_weights=True, use_sample_covariance=False), averaged over the 2D slices of the last two axes.");
}

}  // namespace pnpdist::python
