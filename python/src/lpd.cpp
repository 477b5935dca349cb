// pnpdist.LearnedPrimalDual: reconstruction with trained learned primal-dual weights (learned/lpd.hpp, as
// tomography_2d --method lpd runs it), and the data the shipped weights were trained on: pnpdist.ellipse_geometry
// and pnpdist.ellipse_phantom (learned/ellipse_data.hpp).
//
// The network is built for a Geometry2D: its own float32 Joseph projector, the scale s = 1 / ||A|| of that
// projector (power method, 100 iterations, as in training), the FBP start where the weights were trained with one.
// A call reconstructs measured sinograms y of that projector: the network reads g = s y. The architecture is read
// from the weights' tensor shapes, the start, training geometry and noise from their metadata
// (learned/lpd_weights_info.hpp). A geometry other than the training one is refused (pnpdist.InvalidArgument naming
// both) unless accepted, which gives a UserWarning instead.

#include <nanobind/stl/filesystem.h>
#include <nanobind/stl/string.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "arrays.hpp"
#include "bindings.hpp"
#include "ct_support.hpp"
#include "options.hpp"
#include "pnpdist/learned/ellipse_data.hpp"
#include "pnpdist/learned/lpd_reconstructor.hpp"
#include "pnpdist/learned/lpd_weights_info.hpp"
#include "pnpdist/learned/training_geometry.hpp"
#include "pnpdist/physics/ct/projector.hpp"

namespace pnpdist::python {

namespace {

/// The split of the ellipse data, in the order of learned::DataSplit.
struct SplitOption {
  static constexpr const char* name = "split";
  static constexpr std::array<std::string_view, 3> values{"train", "validation", "test"};
  static constexpr char literal[] = "Literal['train', 'validation', 'test']";
};
using SplitName = Option<SplitOption>;

class LearnedPrimalDualModel {
public:
  using Projector = ct::JosephProjector2D<float, HostExec>;

  LearnedPrimalDualModel(const std::filesystem::path& weights, const ct::Geometry2D& geometry,
                         bool accept_geometry_mismatch, const HostExec& exec)
      : geometry_(geometry), exec_(exec), projector_(exec, geometry) {
    learned::LpdWeightsInfo info =
        learned::read_lpd_weights_info(weights.string(), "LearnedPrimalDual weights " + weights.string());
    geometry_matches_ = learned::same_geometry(info.training_geometry, geometry);
    if (!geometry_matches_) {
      const std::string both = learned::geometry_mismatch_text(info, geometry, "this geometry");
      require(accept_geometry_mismatch, [&] {
        return "LearnedPrimalDual: " + both +
               ". Pass the training geometry (pnpdist.ellipse_geometry(128, 30) for the shipped weights) or "
               "accept_geometry_mismatch=True";
      });
      if (PyErr_WarnEx(PyExc_UserWarning, ("LearnedPrimalDual: accept_geometry_mismatch=True: " + both).c_str(), 1) != 0)
        throw nb::python_error();  // warnings turned into errors
    }
    {
      nb::gil_scoped_release release;
      scale_ = learned::inverse_operator_norm(projector_);
      lpd_ = std::make_unique<learned::LpdReconstructor<Projector>>(exec_, projector_, scale_, geometry_,
                                                                    std::move(info));
    }
  }

  /// The reconstruction of y (views, cols) or of a batch (N, views, cols), float32; with self_ensemble, each the
  /// mean over the 8 symmetries of the square (learned/dihedral_ensemble.hpp).
  NumpyArray reconstruct(const ArrayLike& y, const ArrayLike& out, bool self_ensemble) {
    const Shape sinogram{geometry_.views(), geometry_.detector_cols};
    const ArrayArg in = take_array(
        y, ArraySpec{"y", {DType::float32}, {}, "(views, detector_cols) or (N, views, detector_cols)", 2, 3});
    const bool batched = in.shape.size() == 3;
    const Shape rows(in.shape.end() - 2, in.shape.end());
    if (rows != sinogram)
      throw nb::value_error(("y must have shape " + shape_string(sinogram) + " or (N, " +
                             std::to_string(sinogram[0]) + ", " + std::to_string(sinogram[1]) +
                             ") (the geometry's sinogram), got " + shape_string(in.shape))
                                .c_str());
    const index_t batch = batched ? in.shape[0] : 1;
    if (batch < 1) throw nb::value_error("y holds no sinogram (N = 0)");
    Shape image{geometry_.volume.rows, geometry_.volume.cols};
    if (batched) image.insert(image.begin(), batch);
    auto [result, x] = output_array(out, "out", DType::float32, image, "the reconstructions' shape");
    const index_t values = batch * element_count(sinogram);
    require_disjoint(in.data(), values, x, element_count(image), DType::float32, "out must not overlap y");
    {
      nb::gil_scoped_release release;
      const std::lock_guard<std::mutex> lock(mutex_);
      // The self-ensemble throws invalid_argument for an asymmetric geometry.
      lpd_->reconstruct(exec_, batch, static_cast<const float*>(in.data()), static_cast<float*>(x), self_ensemble);
    }
    return nb::borrow<NumpyArray>(result);
  }

  [[nodiscard]] const learned::LpdWeightsInfo& info() const { return lpd_->weights(); }
  [[nodiscard]] const ct::Geometry2D& geometry() const { return geometry_; }
  [[nodiscard]] double scale() const { return scale_; }
  [[nodiscard]] bool geometry_matches() const { return geometry_matches_; }
  [[nodiscard]] index_t parameters() const { return lpd_->parameter_count(); }
  [[nodiscard]] int threads() const { return exec_.concurrency(); }

private:
  ct::Geometry2D geometry_;
  HostExec exec_;
  Projector projector_;
  double scale_ = 0;  // 1/||A|| from the power method; lpd_->scale() is its float
  bool geometry_matches_ = false;
  std::unique_ptr<learned::LpdReconstructor<Projector>> lpd_;  // refers to projector_; one call at a time
  std::mutex mutex_;
};

}  // namespace

void bind_lpd(nb::module_& m) {
  nb::class_<LearnedPrimalDualModel>(
      m, "LearnedPrimalDual",
      "Learned primal-dual reconstruction (Adler & Oktem 2018) with trained weights (safetensors written by "
      "train_learned_primal_dual, e.g. weights/lpd_ellipses_fbp.safetensors) for a 2D geometry: the network's own "
      "float32 Joseph projector of `geometry`, scaled by s = 1 / ||A|| (power method, as in training), and the FBP "
      "start where the weights were trained with one. The architecture is read from the weights. A geometry other "
      "than the one the weights were trained for raises pnpdist.InvalidArgument naming both, unless "
      "accept_geometry_mismatch=True (then a UserWarning). Calls reconstruct measured sinograms of that projector.")
      .def(
          "__init__",
          [](LearnedPrimalDualModel* self, const std::filesystem::path& weights, const ct::Geometry2D& geometry,
             bool accept_geometry_mismatch, const ExecutorArg& executor) {
            new (self) LearnedPrimalDualModel(weights, geometry, accept_geometry_mismatch, executor_or_default(executor));
          },
          nb::arg("weights"), nb::arg("geometry"), nb::arg("accept_geometry_mismatch") = false,
          nb::arg("executor") = nb::none())
      .def("reconstruct", &LearnedPrimalDualModel::reconstruct, nb::arg("y"), nb::arg("out") = nb::none(),
           nb::arg("self_ensemble") = false,
           "The reconstruction (H, W) of a float32 sinogram y (views, detector_cols) of the geometry, or the "
           "reconstructions (N, H, W) of a batch (N, views, detector_cols); the network reads s y. self_ensemble: "
           "the mean of T^-1 net(S_T s y) over the 8 symmetries T of the square image (8 network passes; a geometry "
           "that some T does not map onto itself raises pnpdist.InvalidArgument naming it). Memory: the "
           "network keeps its activations, about iterations x (4 width + memory) planes of an image and of a "
           "sinogram per image of the batch (0.12 GB each for the shipped weights at 128 x 128 and 30 views).")
      .def("__call__", &LearnedPrimalDualModel::reconstruct, nb::arg("y"), nb::arg("out") = nb::none(),
           nb::arg("self_ensemble") = false, "reconstruct(y, out, self_ensemble).")
      .def_prop_ro("weights", [](const LearnedPrimalDualModel& l) { return l.info().path; })
      .def_prop_ro("geometry", &LearnedPrimalDualModel::geometry)
      .def_prop_ro("iterations", [](const LearnedPrimalDualModel& l) { return l.info().config.iterations; })
      .def_prop_ro("primal_memory", [](const LearnedPrimalDualModel& l) { return l.info().config.primal_memory; })
      .def_prop_ro("dual_memory", [](const LearnedPrimalDualModel& l) { return l.info().config.dual_memory; })
      .def_prop_ro("width", [](const LearnedPrimalDualModel& l) { return l.info().config.width; })
      .def_prop_ro("initial_primal",
                   [](const LearnedPrimalDualModel& l) { return learned::to_string(l.info().config.initial_primal); })
      .def_prop_ro("parameters", &LearnedPrimalDualModel::parameters, "The number of trained parameters.")
      .def_prop_ro("scale", &LearnedPrimalDualModel::scale, "s = 1 / ||A|| of the network's projector.")
      .def_prop_ro("training_geometry", [](const LearnedPrimalDualModel& l) { return l.info().training_geometry; })
      .def_prop_ro("geometry_matches", &LearnedPrimalDualModel::geometry_matches)
      .def_prop_ro("training_noise", [](const LearnedPrimalDualModel& l) { return l.info().training_noise; },
                   "The noise standard deviation the weights were trained at, relative to the mean absolute "
                   "noiseless data (the metadata's, or the shipped weights' model card's 0.05).")
      .def_prop_ro("threads", &LearnedPrimalDualModel::threads);

  m.def(
      "ellipse_geometry",
      [](index_t size, index_t angles, const Beam2D& beam) {
        return learned::ellipse_geometry(size, angles, parse_beam(beam));
      },
      nb::arg("size") = 128, nb::arg("angles") = 30, nb::arg("beam") = "parallel",
      "The geometry of the ellipse training data (the shipped LPD weights': size 128, 30 angles): a size x size "
      "image of unit pixels, `angles` views over [0, pi) (fan: [0, 2 pi), source at 2 size and detector at size "
      "from the centre), a detector of unit bins wide enough for every ray through the image.");
  m.def(
      "ellipse_phantom",
      [](std::uint64_t index, const SplitName& split, index_t size, std::uint64_t seed, const ExecutorArg& executor) {
        if (size < 2) throw nb::value_error(("size must be >= 2, got " + std::to_string(size)).c_str());
        learned::EllipseDataOptions options;
        options.seed = seed;
        const auto which = static_cast<learned::DataSplit>(split.index());
        return adopt_tensor(
            learned::ellipse_phantom<float>(executor_or_default(executor), options, which, index, {size, size}),
            {size, size});
      },
      nb::arg("index"), nb::arg("split") = "test", nb::arg("size") = 128, nb::arg("seed") = 0,
      nb::arg("executor") = nb::none(),
      "Phantom `index` (float32, (size, size)) of a split of the random ellipse data the shipped LPD weights were "
      "trained (train), tuned (validation) and evaluated (test) on, data seed `seed`: the same image "
      "train_learned_primal_dual and lpd_quality_table use. The splits never share a phantom.");
}

}  // namespace pnpdist::python
