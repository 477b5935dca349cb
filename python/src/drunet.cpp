// pnpdist.DRUNet: the 2D DRUNet denoiser (float32) loaded from a safetensors file, and
// pnpdist.infer_drunet_config.

#include <nanobind/stl/string.h>

#include <mutex>
#include <string>

#include "arrays.hpp"
#include "bindings.hpp"
#include "pnpdist/nn/drunet.hpp"

namespace pnpdist::python {

namespace {

using Net = nn::DRUNet<2, float, HostExec>;

nb::dict config_dict(const nn::DRUNetConfig& c) {
  nb::dict d;
  d["image_channels"] = c.image_channels;
  d["widths"] = nb::make_tuple(c.widths[0], c.widths[1], c.widths[2], c.widths[3]);
  d["blocks"] = c.blocks;
  d["bias"] = c.bias;
  return d;
}

/// The network and the mutex that serializes its calls (its engine keeps activation buffers).
class Denoiser {
public:
  Denoiser(const std::string& path, const HostExec& exec)
      : net_(nn::load_drunet_weights<float, 2>(path, nn::infer_drunet_config(path)), exec) {}

  [[nodiscard]] const nn::DRUNetConfig& config() const { return net_.config(); }
  [[nodiscard]] int threads() const { return net_.executor().concurrency(); }

  /// DRUNet(x, sigma) for x of shape (H, W) (grayscale networks), (C, H, W) or (N, C, H, W).
  nb::object denoise(nb::handle x, double sigma, nb::handle out) {
    const index_t channels = net_.config().image_channels;
    const ArrayArg in = take_array(x, ArraySpec{"x", {DType::float32}, {}, "", channels == 1 ? 2u : 3u, 4});
    const Shape& s = in.shape;
    Extents<4> batch{1, 1, s[s.size() - 2], s[s.size() - 1]};
    if (s.size() >= 3) batch[1] = s[s.size() - 3];
    if (s.size() == 4) batch[0] = s[0];
    if (batch[1] != channels)
      throw nb::value_error(("x has " + std::to_string(batch[1]) + " channel(s) in shape " + shape_string(s) +
                             ", the network takes " + std::to_string(channels) + " (shape (N, C, H, W) or (C, H, W))")
                                .c_str());
    if (!(sigma >= 0)) throw nb::value_error("sigma must be >= 0");
    auto [result, y] = output_array(out, "out", DType::float32, s, "the shape of x");
    require_disjoint(in.data(), element_count(s), y, element_count(s), DType::float32, "out must not overlap x");
    {
      nb::gil_scoped_release release;
      const std::lock_guard<std::mutex> lock(mutex_);
      net_.denoise(View<const float, 4>(static_cast<const float*>(in.data()), batch), static_cast<float>(sigma),
                   View<float, 4>(static_cast<float*>(y), batch));
    }
    return result;
  }

private:
  Net net_;
  std::mutex mutex_;
};

}  // namespace

void bind_drunet(nb::module_& m) {
  m.def(
      "infer_drunet_config", [](const std::string& path) { return config_dict(nn::infer_drunet_config(path)); },
      nb::arg("path"),
      "The architecture of the DRUNet whose weights a safetensors file holds: image_channels, widths, blocks, "
      "bias.");
  nb::class_<Denoiser>(m, "DRUNet",
                       "The 2D DRUNet denoiser (float32), its architecture inferred from the weights file "
                       "(e.g. weights/drunet_gray.safetensors or weights/drunet_color.safetensors). Runs on "
                       "oneDNN when the extension was built with it, the library's reference engine otherwise.")
      .def(
          "__init__",
          [](Denoiser* self, const std::string& path, nb::handle executor) {
            new (self) Denoiser(path, executor_or_default(executor));
          },
          nb::arg("path"), nb::arg("executor") = nb::none())
      .def("denoise", &Denoiser::denoise, nb::arg("x"), nb::arg("sigma"), nb::arg("out") = nb::none(),
           "The denoised image: x float32 of shape (N, C, H, W), (C, H, W) or (H, W) (grayscale networks), values "
           "in [0, 1]; sigma the noise standard deviation on that scale (e.g. 25 / 255).")
      .def("__call__", &Denoiser::denoise, nb::arg("x"), nb::arg("sigma"), nb::arg("out") = nb::none(),
           "denoise(x, sigma).")
      .def_prop_ro("config", [](const Denoiser& d) { return config_dict(d.config()); })
      .def_prop_ro("threads", &Denoiser::threads);
}

}  // namespace pnpdist::python
