// pnpdist.DRUNet: the DRUNet denoiser (float32; 2D images or 3D volumes, whole or tile by tile) loaded from a
// safetensors file, and pnpdist.infer_drunet_config.

#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>

#include <optional>
#include <string>

#include "denoiser.hpp"

namespace pnpdist::python {

namespace {

nb::dict config_dict(const nn::DRUNetConfig& c) {
  nb::dict d;
  d["image_channels"] = c.image_channels;
  d["widths"] = nb::make_tuple(c.widths[0], c.widths[1], c.widths[2], c.widths[3]);
  d["blocks"] = c.blocks;
  d["bias"] = c.bias;
  return d;
}

}  // namespace

Denoiser::Denoiser(const std::string& path, int dim, std::optional<index_t> tile, index_t overlap, index_t tile_batch,
                   const HostExec& exec)
    : config_(nn::infer_drunet_config(path)),
      dim_(dim),
      net_(make(path, config_, dim, tile, overlap, tile_batch, exec)) {}

Denoiser::Variant Denoiser::make(const std::string& path, const nn::DRUNetConfig& config, int dim,
                                 std::optional<index_t> tile, index_t overlap, index_t tile_batch,
                                 const HostExec& exec) {
  if (dim == 2) {
    Net2 net(nn::load_drunet_weights<float, 2>(path, config), exec);
    if (!tile) return Variant(std::in_place_index<0>, std::move(net));
    return Variant(std::in_place_index<2>, std::move(net), PatchTiler<2>(*tile, overlap), tile_batch);
  }
  if (dim != 3) throw nb::value_error(("dim must be 2 or 3, got " + std::to_string(dim)).c_str());
  Net3 net(nn::load_drunet_weights<float, 3>(path, config), exec);
  if (!tile) return Variant(std::in_place_index<1>, std::move(net));
  return Variant(std::in_place_index<3>, std::move(net), PatchTiler<3>(*tile, overlap), tile_batch);
}

nb::object Denoiser::denoise(nb::handle x, double sigma, nb::handle out) {
  const std::size_t rank = static_cast<std::size_t>(dim_) + 2;
  const index_t channels = config_.image_channels;
  const ArrayArg in =
      take_array(x, ArraySpec{"x", {DType::float32}, {}, "", channels == 1 ? rank - 2 : rank - 1, rank});
  Shape full(rank - in.shape.size(), 1);  // the missing leading axes, of extent 1
  full.insert(full.end(), in.shape.begin(), in.shape.end());
  if (full[1] != channels)
    throw nb::value_error(("x has " + std::to_string(full[1]) + " channel(s) in shape " + shape_string(in.shape) +
                           ", the network takes " + std::to_string(channels) + " (shape (N, C, *spatial) or (C, " +
                           "*spatial))")
                              .c_str());
  if (!(sigma >= 0)) throw nb::value_error("sigma must be >= 0");
  auto [result, y] = output_array(out, "out", DType::float32, in.shape, "the shape of x");
  require_disjoint(in.data(), element_count(in.shape), y, element_count(in.shape), DType::float32,
                   "out must not overlap x");
  {
    nb::gil_scoped_release release;
    visit_locked([&](auto& net) {
      constexpr std::size_t R = std::decay_t<decltype(net)>::rank;
      Extents<R> e{};
      for (std::size_t d = 0; d < R; ++d) e[d] = full[d];
      net.denoise(View<const float, R>(static_cast<const float*>(in.data()), e), static_cast<float>(sigma),
                  View<float, R>(static_cast<float*>(y), e));
    });
  }
  return result;
}

void bind_drunet(nb::module_& m) {
  m.def(
      "infer_drunet_config", [](const std::string& path) { return config_dict(nn::infer_drunet_config(path)); },
      nb::arg("path"),
      "The architecture of the DRUNet whose weights a safetensors file holds: image_channels, widths, blocks, "
      "bias.");
  nb::class_<Denoiser>(m, "DRUNet",
                       "The DRUNet denoiser (float32), its architecture inferred from the weights file (e.g. "
                       "weights/drunet_gray.safetensors or weights/drunet_color.safetensors). dim=3 denoises "
                       "volumes with the 2D weights inflated to 3D (or 3D weights). tile=P runs it on P^dim "
                       "patches with `overlap` samples of context on each side, tile_batch patches at a time "
                       "(0: all), bounding memory by the patches instead of the image. Runs on oneDNN when the "
                       "extension was built with it, the library's reference engine otherwise.")
      .def(
          "__init__",
          [](Denoiser* self, const std::string& path, int dim, std::optional<index_t> tile, index_t overlap,
             index_t tile_batch, nb::handle executor) {
            new (self) Denoiser(path, dim, tile, overlap, tile_batch, executor_or_default(executor));
          },
          nb::arg("path"), nb::arg("dim") = 2, nb::arg("tile") = nb::none(), nb::arg("overlap") = 32,
          nb::arg("tile_batch") = 0, nb::arg("executor") = nb::none())
      .def("denoise", &Denoiser::denoise, nb::arg("x"), nb::arg("sigma"), nb::arg("out") = nb::none(),
           "The denoised image or volume: x float32 of shape (N, C, *spatial), (C, *spatial) or, for grayscale "
           "networks, spatial alone ((H, W) or (D, H, W)), values in [0, 1]; sigma the noise standard deviation "
           "on that scale (e.g. 25 / 255).")
      .def("__call__", &Denoiser::denoise, nb::arg("x"), nb::arg("sigma"), nb::arg("out") = nb::none(),
           "denoise(x, sigma).")
      .def_prop_ro("config", [](const Denoiser& d) { return config_dict(d.config()); })
      .def_prop_ro("dim", &Denoiser::dim)
      .def_prop_ro("tiled", &Denoiser::tiled)
      .def_prop_ro("threads", &Denoiser::threads);
}

}  // namespace pnpdist::python
