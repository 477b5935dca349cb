// pnpdist.DRUNet: the DRUNet denoiser (float32; 2D images or 3D volumes, whole or tile by tile) loaded from a
// safetensors file, its distributed form pnpdist.mpi.DistributedDenoiser (a DRUNet subclass: tiles dealt to the
// ranks of a communicator, the image reassembled on every rank), pnpdist.infer_drunet_config, and
// pnpdist.DRUNetBackward (the 2D network's forward pass with its tape and the vector-Jacobian product, float32 or
// float64: nn/train/drunet_backward.hpp).

#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/shared_ptr.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <variant>

#include "denoiser.hpp"
#include "distributed.hpp"
#include "pnpdist/nn/train/drunet_backward.hpp"
#include "pnpdist/solvers/checkpoint.hpp"

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

/// The activations of one DRUNetBackward.forward call (float32 or float64) and the extents of its x.
struct BackwardTape {
  std::variant<nn::train::DRUNetTape<float>, nn::train::DRUNetTape<double>> tape;
  Shape shape;
  const void* owner;  // the network that recorded it
  [[nodiscard]] std::size_t bytes() const {
    return std::visit([](const auto& t) { return t.bytes(); }, tape);
  }
};

/// pnpdist.DRUNetBackward: nn::train::DRUNetBackward in float32 or float64 with a mutex serializing backward
/// (which accumulates parameter gradients).
class BackwardNet {
public:
  BackwardNet(const std::string& path, DType dtype, const HostExec& exec)
      : config_(nn::infer_drunet_config(path)), dtype_(dtype), net_(make(path, config_, dtype, exec)) {}

  [[nodiscard]] const nn::DRUNetConfig& config() const { return config_; }
  [[nodiscard]] DType dtype() const { return dtype_; }

  nb::object forward(nb::handle x, double sigma) {
    const ArrayArg in = take_array(x, ArraySpec{"x", {dtype_}, {}, "", 4, 4});
    check_channels(in.shape, "x");
    void* y = nullptr;
    nb::object result = new_array(dtype_, in.shape, &y);
    auto tape = std::make_unique<BackwardTape>();
    tape->shape = in.shape;
    tape->owner = this;
    {
      nb::gil_scoped_release release;
      std::visit(
          [&](auto& net) {
            using T = typename std::decay_t<decltype(net)>::value_type;
            tape->tape = net.forward(view<const T>(in.data(), in.shape), static_cast<T>(sigma), view<T>(y, in.shape));
          },
          net_);
    }
    return nb::make_tuple(result, nb::cast(tape.release(), nb::rv_policy::take_ownership));
  }

  nb::object backward(const BackwardTape& tape, nb::handle grad_y, bool parameters) {
    if (tape.owner != this) throw nb::value_error("tape: recorded by another DRUNetBackward");
    const ArrayArg g = take_array(grad_y, ArraySpec{"grad_y", {dtype_}, tape.shape, "the shape of x", 4, 4});
    void* dx = nullptr;
    nb::object result = new_array(dtype_, tape.shape, &dx);
    double d_sigma = 0;
    {
      nb::gil_scoped_release release;
      const std::lock_guard<std::mutex> lock(mutex_);
      std::visit(
          [&](auto& net) {
            using T = typename std::decay_t<decltype(net)>::value_type;
            d_sigma = static_cast<double>(net.backward(std::get<nn::train::DRUNetTape<T>>(tape.tape),
                                                       view<const T>(g.data(), tape.shape), view<T>(dx, tape.shape),
                                                       parameters));
          },
          net_);
    }
    return nb::make_tuple(result, d_sigma);
  }

  nb::dict parameter_gradients() {
    nb::dict d;
    const std::lock_guard<std::mutex> lock(mutex_);
    std::visit(
        [&](auto& net) {
          const auto& store = net.parameters();
          for (const auto& p : store.infos()) {
            void* data = nullptr;
            nb::object a = new_array(dtype_, Shape(p.shape.begin(), p.shape.end()), &data);
            using T = typename std::decay_t<decltype(net)>::value_type;
            std::copy_n(store.gradients().data() + p.offset, p.size, static_cast<T*>(data));
            d[p.name.c_str()] = a;
          }
        },
        net_);
    return d;
  }

  void zero_gradients() {
    const std::lock_guard<std::mutex> lock(mutex_);
    std::visit([](auto& net) { net.parameters().zero_gradients(); }, net_);
  }

private:
  using Variant = std::variant<nn::train::DRUNetBackward<float, HostExec>, nn::train::DRUNetBackward<double, HostExec>>;

  static Variant make(const std::string& path, const nn::DRUNetConfig& config, DType dtype, const HostExec& exec) {
    if (dtype == DType::float32)
      return Variant(std::in_place_index<0>, nn::load_drunet_weights<float, 2>(path, config), exec);
    return Variant(std::in_place_index<1>, nn::load_drunet_weights<double, 2>(path, config), exec);
  }

  template <class T>
  static View<T, 4> view(const void* data, const Shape& s) {
    return View<T, 4>(static_cast<T*>(const_cast<void*>(data)), Extents<4>{s[0], s[1], s[2], s[3]});
  }

  void check_channels(const Shape& shape, const char* name) const {
    if (shape[1] != config_.image_channels)
      throw nb::value_error((std::string(name) + " has shape " + shape_string(shape) + ", the network takes (N, " +
                             std::to_string(config_.image_channels) + ", H, W)")
                                .c_str());
  }

  nn::DRUNetConfig config_;
  DType dtype_;
  Variant net_;
  std::mutex mutex_;
};

/// pnpdist.mpi.DistributedDenoiser: a Denoiser holding a DistributedDenoiser, its own class so that the binding
/// can be a subclass of pnpdist.DRUNet (and pnpdist.pnp takes it as a DRUNet).
class DistributedDRUNet final : public Denoiser {
public:
  using Denoiser::Denoiser;
};

std::string tiling_identity(std::optional<index_t> tile, index_t overlap) {
  return tile ? " tile " + std::to_string(*tile) + " overlap " + std::to_string(overlap) : " whole";
}

}  // namespace

Denoiser::Denoiser(const std::string& path, int dim, std::optional<index_t> tile, index_t overlap, index_t tile_batch,
                   const HostExec& exec)
    : config_(nn::infer_drunet_config(path)),
      dim_(dim),
      weights_(std::filesystem::absolute(path).lexically_normal().string()),
      identity_("DRUNet weights " + weights_ + " dim " + std::to_string(dim) + tiling_identity(tile, overlap)),
      net_(make(path, config_, dim, tile, overlap, tile_batch, exec, std::nullopt)) {}

Denoiser::Denoiser(const Denoiser& source, CommunicatorRef comm, index_t tile, index_t overlap, index_t tile_batch,
                   const HostExec& exec)
    : config_(nn::infer_drunet_config(source.weights_)),
      dim_(source.dim_),
      weights_(source.weights_),
      comm_(std::move(comm)),
      identity_("DRUNet weights " + weights_ + " dim " + std::to_string(dim_) + tiling_identity(tile, overlap) +
                " distributed over " + std::to_string(comm_->size()) + " ranks"),
      net_(make(weights_, config_, dim_, tile, overlap, tile_batch, exec, comm_)) {}

Denoiser::Variant Denoiser::make(const std::string& path, const nn::DRUNetConfig& config, int dim,
                                 std::optional<index_t> tile, index_t overlap, index_t tile_batch,
                                 const HostExec& exec, const std::optional<CommunicatorRef>& comm) {
  if (dim == 2) {
    Net2 net(nn::load_drunet_weights<float, 2>(path, config), exec);
    if (!tile) return Variant(std::in_place_index<0>, std::move(net));
    TiledDenoiser<Net2> tiled(std::move(net), PatchTiler<2>(*tile, overlap), tile_batch);
    if (comm) return Variant(std::in_place_index<4>, std::move(tiled), *comm);
    return Variant(std::in_place_index<2>, std::move(tiled));
  }
  if (dim != 3) throw nb::value_error(("dim must be 2 or 3, got " + std::to_string(dim)).c_str());
  Net3 net(nn::load_drunet_weights<float, 3>(path, config), exec);
  if (!tile) return Variant(std::in_place_index<1>, std::move(net));
  TiledDenoiser<Net3> tiled(std::move(net), PatchTiler<3>(*tile, overlap), tile_batch);
  if (comm) return Variant(std::in_place_index<5>, std::move(tiled), *comm);
  return Variant(std::in_place_index<3>, std::move(tiled));
}

NumpyArray Denoiser::denoise(const ArrayLike& x, double sigma, const ArrayLike& out) {
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
  if (comm_) {  // every rank must denoise the same image: its shape and bytes hashed, compared with rank 0's
    comm_->get().check_usable();
    std::uint64_t hash = pnpdist::detail::fnv1a(full.data(), full.size() * sizeof(index_t));
    hash = pnpdist::detail::fnv1a(in.data(), static_cast<std::size_t>(element_count(in.shape)) * sizeof(float), hash);
    std::int64_t root_hash = 0;
    const int differs = count_differing(comm_->get(), static_cast<std::int64_t>(hash), 0, root_hash);
    if (differs != 0)
      throw nb::value_error(("DistributedDenoiser: x differs from rank 0's (shape or values) on " +
                             std::to_string(differs) + " rank(s): every rank must denoise the same image")
                                .c_str());
  }
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
  return nb::borrow<NumpyArray>(result);
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
             index_t tile_batch, const ExecutorArg& executor) {
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

  nb::class_<DistributedDRUNet, Denoiser>(
      m, "DistributedDenoiser",
      "The DRUNet of `drunet` (its weights file, loaded again, and dim) run tile by tile (tile^dim patches with "
      "`overlap` samples of context on each side, as DRUNet(tile=...)) with the tiles dealt to the ranks of "
      "`communicator` (contiguous shares, sizes differing by at most one), each rank denoising tile_batch of its "
      "tiles at a time (0: all); the image is reassembled on every rank by one sum over the ranks of disjoint "
      "cores, so the result is the tiled DRUNet's on one process, bit for bit (the library's DistributedDenoiser). "
      "A DRUNet: pnpdist.pnp takes it as its denoiser (with a DistributedProjector2D, or any operator that gives "
      "every rank the same iterates). denoise and pnp on it are collective: every rank passes the same x "
      "(checked: ValueError on every rank otherwise).")
      .def(
          "__init__",
          [](DistributedDRUNet* self, const Denoiser& drunet, std::shared_ptr<Communicator> communicator,
             index_t tile, index_t overlap, index_t tile_batch, const ExecutorArg& executor) {
            if (tile <= 0) throw nb::value_error(("tile must be > 0, got " + std::to_string(tile)).c_str());
            if (overlap < 0) throw nb::value_error(("overlap must be >= 0, got " + std::to_string(overlap)).c_str());
            if (overlap > tile)
              throw nb::value_error(("tile=" + std::to_string(tile) + " is smaller than overlap=" +
                                     std::to_string(overlap) + ": the context on each side of a tile cannot exceed "
                                     "the tile")
                                        .c_str());
            if (tile_batch < 0)
              throw nb::value_error(("tile_batch must be >= 0 (0: all of a rank's tiles at once), got " +
                                     std::to_string(tile_batch))
                                        .c_str());
            new (self) DistributedDRUNet(drunet, CommunicatorRef(std::move(communicator)), tile, overlap, tile_batch,
                                         executor_or_default(executor));
          },
          nb::arg("drunet"), nb::arg("communicator"), nb::arg("tile"), nb::arg("overlap") = 32,
          nb::arg("tile_batch") = 0, nb::arg("executor") = nb::none())
      .def_prop_ro("communicator", [](const DistributedDRUNet& d) { return d.communicator()->shared(); })
      .def(
          "local_tiles",
          [](DistributedDRUNet& d, const std::vector<index_t>& shape) {
            const std::size_t rank = static_cast<std::size_t>(d.dim()) + 2;
            if (shape.size() < static_cast<std::size_t>(d.dim()) || shape.size() > rank)
              throw nb::value_error(("shape must have " + std::to_string(d.dim()) + " to " + std::to_string(rank) +
                                     " axes (as denoise's x), got " + shape_string(shape))
                                        .c_str());
            Shape full(rank - shape.size(), 1);
            full.insert(full.end(), shape.begin(), shape.end());
            return d.visit_locked([&](auto& net) -> std::pair<index_t, index_t> {
              using Net = std::decay_t<decltype(net)>;
              if constexpr (requires { net.local_tiles(Extents<Net::rank>{}); }) {
                Extents<Net::rank> e{};
                for (std::size_t i = 0; i < Net::rank; ++i) e[i] = full[i];
                const TileRange r = net.local_tiles(e);
                return {r.begin, r.size};
              } else {
                throw nb::type_error("local_tiles: not a distributed network");
              }
            });
          },
          nb::arg("shape"),
          "(first, count): the tiles this rank denoises for an x of this shape (as denoise takes it), in the "
          "tiled DRUNet's tile order.");

  nb::class_<BackwardTape>(m, "DRUNetTape",
                           "The activations one DRUNetBackward.forward call keeps for its backward pass.")
      .def_prop_ro("bytes", &BackwardTape::bytes, "Bytes of the stored activations.");
  nb::class_<BackwardNet>(m, "DRUNetBackward",
                          "The 2D DRUNet with its backward pass (float32 or float64, the weights of `path`): "
                          "forward(x, sigma) gives the output and a tape of the activations, backward(tape, "
                          "grad_y) the vector-Jacobian product in x and in sigma (the noise-level map) and, with "
                          "parameters=True, adds the one in every parameter to parameter_gradients(). x of shape "
                          "(N, C, H, W), any H, W (replicate-padded to a multiple of 8 as DRUNet does). float32 "
                          "runs the 3x3 convolutions on oneDNN when the extension was built with it.")
      .def(
          "__init__",
          [](BackwardNet* self, const std::string& path, const DTypeLike& dtype, const ExecutorArg& executor) {
            new (self) BackwardNet(path, parse_dtype(dtype), executor_or_default(executor));
          },
          nb::arg("path"), nb::arg("dtype") = "float32", nb::arg("executor") = nb::none())
      .def("forward", &BackwardNet::forward, nb::arg("x"), nb::arg("sigma"),
           nb::sig("def forward(self, x: ArrayLike, sigma: float) -> tuple[numpy.ndarray, DRUNetTape]"),
           "(DRUNet(x, sigma), tape): x of the network's dtype and shape (N, C, H, W).")
      .def("backward", &BackwardNet::backward, nb::arg("tape"), nb::arg("grad_y"), nb::arg("parameters") = false,
           nb::sig("def backward(self, tape: DRUNetTape, grad_y: ArrayLike, parameters: bool = False) -> "
                   "tuple[numpy.ndarray, float]"),
           "(grad_x, grad_sigma) = the gradients of <grad_y, DRUNet(x, sigma)> for the forward pass of `tape`; "
           "with parameters=True the parameters' gradients are added to parameter_gradients().")
      .def("parameter_gradients", &BackwardNet::parameter_gradients,
           "The accumulated parameter gradients: a dict from the PyTorch state_dict names (m_head.weight, ...) "
           "to arrays of their shapes (copies).")
      .def("zero_gradients", &BackwardNet::zero_gradients, "Sets the accumulated parameter gradients to zero.")
      .def_prop_ro("config", [](const BackwardNet& d) { return config_dict(d.config()); })
      .def_prop_ro("dtype", [](const BackwardNet& d) { return std::string(dtype_name(d.dtype())); });
}

}  // namespace pnpdist::python
