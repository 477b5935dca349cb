// pnpdist.pnp: the library's PnPSolver with a DRUNet prior on any bound operator (f(x) = 1/2 ||A x - y||^2),
// with an optional ground truth (PSNR / SSIM in the records) and a Python observer called every iteration. A
// CircularBlurStack runs as its fused data term (blur::CircularBlurStack: the normal operator in one transform
// pair, the closed-form data step of HQS and ADMM), with y as its measurements. Checkpoints are the solver's
// (solvers/checkpoint.hpp): the binding adds a fingerprint of what it knows of the problem (operator type and
// shapes, y, x0, the network's weights file and tiling), so that a checkpoint of another problem is refused.
// Between iterations the observer step checks for Python signals (Ctrl-C), so a run is interruptible with or
// without an observer; the exception leaves the last checkpoint written on disk. A DistributedProjector2D or
// DistributedProjector3D (pnpdist.mpi) runs as the library's DistributedPhysics of its blocks, a
// DistributedOperator as that of its local operator: collective, y is this rank's rows. A
// pnpdist.mpi.DistributedDenoiser is a DRUNet whose denoising is collective: the solve is then collective too, on
// the denoiser's group (which must be the operator's where both are distributed). A collective solve's checkpoint
// is one file per rank (the solver's checkpoint_file), its path checked on every rank.

#include <nanobind/stl/filesystem.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

#include "blur_stack.hpp"
#include "denoiser.hpp"
#include "distributed.hpp"
#include "operator.hpp"
#include "pnpdist/metrics/psnr.hpp"
#include "pnpdist/metrics/ssim.hpp"
#include "pnpdist/operators/stacked_physics.hpp"
#include "pnpdist/solvers/checkpoint.hpp"
#include "pnpdist/solvers/pnp_solver.hpp"

namespace pnpdist::python {

namespace {

using Algorithm = std::variant<ProximalGradient, HalfQuadraticSplitting, ADMM>;

bool any_object(PyObject*) { return true; }

/// The algorithm argument as the signature names it: `PnPAlgorithm`, the stub's alias of the three algorithm
/// classes (python/stubs.pat); checked by algorithm_of() with a message naming them.
class AlgorithmArg : public nb::object {
  NB_OBJECT_DEFAULT(AlgorithmArg, object, "PnPAlgorithm", any_object)
};

/// The observer argument as the signature names it: `PnPObserver`, the stub's alias of a callable of (record dict,
/// iterate array) whose result is ignored (python/stubs.pat); None or any object, called as such.
class ObserverArg : public nb::object {
  NB_OBJECT_DEFAULT(ObserverArg, object, "PnPObserver", any_object)
};

Algorithm algorithm_of(nb::handle algorithm) {
  if (nb::isinstance<ProximalGradient>(algorithm)) return nb::cast<ProximalGradient>(algorithm);
  if (nb::isinstance<HalfQuadraticSplitting>(algorithm)) return nb::cast<HalfQuadraticSplitting>(algorithm);
  if (nb::isinstance<ADMM>(algorithm)) return nb::cast<ADMM>(algorithm);
  throw nb::type_error("algorithm must be a pnpdist.ProximalGradient, HalfQuadraticSplitting or ADMM");
}

nb::dict record_dict(const IterationRecord& r) {
  nb::dict d;
  d["iteration"] = r.iteration;
  d["wall_seconds"] = r.wall_seconds;
  d["iteration_seconds"] = r.iteration_seconds;
  d["data_seconds"] = r.gradient_seconds;
  d["denoiser_seconds"] = r.denoiser_seconds;
  d["data_fidelity"] = r.data_fidelity;
  d["psnr"] = r.psnr;
  d["ssim"] = r.ssim;
  d["relative_change"] = r.relative_change;
  d["relative_residual_change"] = r.relative_residual_change;
  d["denoiser_sigma"] = r.denoiser_sigma;
  d["data_step_iterations"] = r.data_step_iterations;
  return d;
}

/// Measuring observer: PSNR and SSIM (images of at least 11 x 11) of each iterate against `truth`, if any.
template <std::size_t R>
struct TruthObserver {
  const float* truth = nullptr;
  double data_range = 1.0;

  template <class Exec>
  void measure(const Exec& exec, IterationRecord& record, const View<const float, R>& x) const {
    if (truth == nullptr) return;
    const View<const float, R> t(truth, x.extents());
    record.psnr = psnr(exec, x, t, data_range);
    if (x.extent(R - 2) >= 11 && x.extent(R - 1) >= 11) record.ssim = ssim(exec, x, t, data_range);
  }
};

/// The network of a Denoiser as a library Denoiser of rank Q (4: 2D networks, whole or tiled; 5: 3D ones),
/// chosen at run time, so that each solver is compiled once per rank instead of once per network type.
template <std::size_t Q>
struct NetworkPrior {
  using value_type = float;
  using executor_type = HostExec;
  static constexpr std::size_t rank = Q;

  Denoiser::Variant* net;

  [[nodiscard]] HostExec executor() const {
    return std::visit([](const auto& n) { return HostExec(n.executor()); }, *net);
  }
  void denoise(const View<const float, Q>& x, float sigma, const View<float, Q>& y) {
    std::visit(
        [&](auto& n) {
          if constexpr (std::decay_t<decltype(n)>::rank == Q) n.denoise(x, sigma, y);
        },
        *net);
  }
};

/// The NetworkPrior of a DistributedDenoiser: it exposes the denoiser's communicator, so that the solver runs as
/// distributed (SolverRanks): one checkpoint file per rank, agreed on collectively, and the physics and the
/// denoiser required to be on the same group of processes.
template <std::size_t Q>
struct DistributedNetworkPrior : NetworkPrior<Q> {
  CommunicatorRef comm;
  [[nodiscard]] const CommunicatorRef& communicator() const { return comm; }
};

/// f(prior) with the prior of rank Q over `net`: a DistributedNetworkPrior for a DistributedDenoiser, a NetworkPrior
/// otherwise.
template <std::size_t Q, class F>
void with_prior(const Denoiser& denoiser, Denoiser::Variant& net, F&& f) {
  if (denoiser.communicator()) {
    DistributedNetworkPrior<Q> prior{{&net}, *denoiser.communicator()};
    f(prior);
  } else {
    NetworkPrior<Q> prior{&net};
    f(prior);
  }
}

/// After every iteration, with the GIL held: runs the Python signal handlers (Ctrl-C raises KeyboardInterrupt
/// here), then calls the Python observer (if not None) with the record and a copy of the iterate. An exception
/// of either propagates out of the solve as nb::python_error (the checkpoint of this iteration is then not
/// written: the solver writes it after the observers).
struct PythonObserver {
  nb::handle callback;
  Shape shape;

  template <class X>
  void operator()(const IterationRecord& record, const X& x) const {
    nb::gil_scoped_acquire gil;
    if (PyErr_CheckSignals() != 0) throw nb::python_error();
    if (callback.is_none()) return;
    void* data = nullptr;
    nb::object copy = new_array(DType::float32, shape, &data);
    std::memcpy(data, x.data(), static_cast<std::size_t>(x.size()) * sizeof(float));
    callback(record_dict(record), copy);
  }
};

/// The inputs of one solve, checked, with the GIL held; run() uses them without it.
struct Problem {
  const LinearOperator* op;
  Tensor<float, 1> y;
  Tensor<float, 1> x0;
  const float* truth;
  double data_range;
  Algorithm algorithm;
  PythonObserver observer;
  PnPOptions options{};
};

/// The solve on any library physics (a StackedPhysics of the operator, or a distributed physics).
template <class Physics, class Prior, class Alg>
PnPResult<float, Physics::domain_rank, HostSpace> solve_physics(const Problem& p, const Physics& physics, Prior& prior,
                                                                const Alg& algorithm) {
  constexpr std::size_t R = Physics::domain_rank;
  PnPSolver<Prior, Alg> solver(prior, p.options, algorithm);
  const View<const float, R> x0(p.x0.data(), physics.domain_shape());
  return solver.solve(physics, init::given(x0), TruthObserver<R>{p.truth, p.data_range}, p.observer);
}

template <std::size_t R, class Prior, class Alg>
PnPResult<float, R, HostSpace> solve(const Problem& p, Prior& prior, const Alg& algorithm) {
  using Op = ShapedOperator<float, R>;
  const Op op{p.op, p.op->executor()};
  std::vector<Tensor<float, 1>> measurements;
  measurements.push_back(clone(p.y.const_view()));
  const StackedPhysics<Op> physics(std::vector<Op>{op}, std::move(measurements));
  return solve_physics(p, physics, prior, algorithm);
}

/// The solve on a CircularBlurStack's fused data term (domain (N, C, H, W), a 2D network).
template <class Prior, class Alg>
PnPResult<float, 4, HostSpace> solve_fused(const Problem& p, const BoundBlurStack& stack, Prior& prior,
                                           const Alg& algorithm) {
  PnPSolver<Prior, Alg> solver(prior, p.options, algorithm);
  const View<const float, 4> x0(p.x0.data(), stack.fused().domain_shape());
  return solver.solve(stack.fused(), init::given(x0), TruthObserver<4>{p.truth, p.data_range}, p.observer);
}

template <std::size_t R>
nb::dict to_dict(PnPResult<float, R, HostSpace>&& r, const Shape& domain) {
  nb::dict d;
  nb::list records;
  for (const IterationRecord& record : r.records) records.append(record_dict(record));
  d["records"] = records;
  d["initial"] = record_dict(r.initial);
  d["iterations"] = r.iterations;
  d["stop"] = r.stop == PnPStop::stagnation ? "stagnation" : "max_iterations";
  d["step"] = r.step;
  d["squared_norm"] = r.squared_norm;
  d["resumed_from"] = r.resumed_from;
  d["x"] = adopt_tensor(std::move(r.x), domain);
  return d;
}

/// Runs the solve for the operator's domain rank R (2 or 3) with a network prior of rank Q, without the GIL.
template <std::size_t R, std::size_t Q>
nb::dict run(Problem& p, Denoiser& denoiser) {
  std::optional<PnPResult<float, R, HostSpace>> result;
  {
    nb::gil_scoped_release release;
    const std::lock_guard<std::mutex> lock(p.op->mutex());
    denoiser.with_locked([&](Denoiser::Variant& net) {
      with_prior<Q>(denoiser, net, [&](auto& prior) {
        std::visit([&](const auto& algorithm) { result.emplace(solve<R>(p, prior, algorithm)); }, p.algorithm);
      });
    });
  }
  return to_dict(std::move(*result), p.op->domain_shape());
}

/// The solve on a row-distributed operator (DistributedProjector<D>, DistributedOperator) of domain rank D with a
/// network prior of rank Q: the library's DistributedPhysics of this rank's operators with y (this rank's rows);
/// collective, the same iterates on every rank.
template <std::size_t D, std::size_t Q, class Op>
nb::dict run_distributed(Problem& p, const Op& op, Denoiser& denoiser) {
  std::optional<PnPResult<float, D, HostSpace>> result;
  op.communicator().get().check_usable();
  {
    nb::gil_scoped_release release;
    const auto lock = op.lock();
    const auto physics = physics_of<D>(op, p.y.data());
    denoiser.with_locked([&](Denoiser::Variant& net) {
      with_prior<Q>(denoiser, net, [&](auto& prior) {
        std::visit([&](const auto& algorithm) { result.emplace(solve_physics(p, physics, prior, algorithm)); },
                   p.algorithm);
      });
    });
  }
  return to_dict(std::move(*result), op.domain_shape());
}

/// The same on a CircularBlurStack, whose measurements become y.
nb::dict run_fused(Problem& p, BoundBlurStack& stack, Denoiser& denoiser) {
  std::optional<PnPResult<float, 4, HostSpace>> result;
  {
    nb::gil_scoped_release release;
    const std::lock_guard<std::mutex> lock(stack.mutex());
    stack.set_measurements(p.y.data());
    denoiser.with_locked([&](Denoiser::Variant& net) {
      with_prior<4>(denoiser, net, [&](auto& prior) {
        std::visit([&](const auto& algorithm) { result.emplace(solve_fused(p, stack, prior, algorithm)); },
                   p.algorithm);
      });
    });
  }
  return to_dict(std::move(*result), stack.domain_shape());
}

/// The checkpoint file for PnPOptions::checkpoint_path, checked with checkpoint_every before any work:
/// ValueError for the arguments, io_error (pnpdist.IoError) for a directory or a missing folder.
std::string checkpoint_file(const std::optional<std::filesystem::path>& checkpoint, index_t checkpoint_every) {
  if (checkpoint_every < 0)
    throw nb::value_error(("checkpoint_every must be >= 0, got " + std::to_string(checkpoint_every)).c_str());
  if (!checkpoint) {
    if (checkpoint_every > 0)
      throw nb::value_error(
          ("checkpoint_every=" + std::to_string(checkpoint_every) + " needs a checkpoint file (checkpoint is None)")
              .c_str());
    return {};
  }
  const std::string file = checkpoint->string();
  if (file.empty()) throw nb::value_error("checkpoint must name a file, got an empty path");
  require_not_directory(file);
  const std::filesystem::path folder = checkpoint->has_parent_path() ? checkpoint->parent_path() : ".";
  std::error_code code;
  if (!std::filesystem::is_directory(folder, code))
    throw io_error("checkpoint " + file + ": its folder " + folder.string() + " does not exist");
  return file;
}

/// PnPOptions::checkpoint_fingerprint: what the iterates depend on that the solver's own hash (element type,
/// shape, algorithm, clip) does not hold: the operator's Python type and shapes, y and x0 (FNV-1a of their bytes)
/// and the network (Denoiser::identity).
std::string checkpoint_fingerprint(const LinearOperator& op, const Problem& p, bool zero_start,
                                   const Denoiser& denoiser) {
  const auto hex = [](const Tensor<float, 1>& t) {
    char text[17];
    std::snprintf(text, sizeof(text), "%016llx",
                  static_cast<unsigned long long>(
                      pnpdist::detail::fnv1a(t.data(), static_cast<std::size_t>(t.size()) * sizeof(float))));
    return std::string(text);
  };
  const nb::handle self = nb::find(&op);
  const std::string type = self.is_valid() ? nb::type_name(self.type()).c_str() : "LinearOperator";
  return "pnpdist.pnp operator " + type + " domain " + shape_string(op.domain_shape()) + " range " +
         shape_string(op.range_shape()) + "; y " + hex(p.y) + "; x0 " + (zero_start ? "zeros" : hex(p.x0)) + "; " +
         denoiser.identity();
}

nb::dict pnp(LinearOperator& op, const ArrayLike& y, Denoiser& denoiser, const AlgorithmArg& algorithm,
             index_t iterations, const ArrayLike& x0, std::optional<std::pair<double, double>> clip,
             double stagnation_tolerance, double residual_tolerance, const ArrayLike& truth, double data_range,
             const ObserverArg& observer, const std::optional<std::filesystem::path>& checkpoint,
             index_t checkpoint_every) {
  const std::size_t rank = op.domain_shape().size();
  auto* stack = dynamic_cast<BoundBlurStack*>(&op);
  const char* rows = nullptr;  // this rank's rows where op is row-distributed
  std::optional<CommunicatorRef> comm = denoiser.communicator();
  visit_row_distributed(op, [&](const auto& distributed) {
    rows = rows_description(distributed);
    comm = distributed.communicator();
  });
  if (comm) comm->get().check_usable();
  if (denoiser.communicator()) denoiser.communicator()->get().check_usable();
  if (rows != nullptr && denoiser.communicator()) {  // both distributed: on one group (collective over op's)
    const CommunicatorRef& net_comm = *denoiser.communicator();
    std::optional<RankError> error;
    if (net_comm.rank() != comm->rank() || net_comm.size() != comm->size())
      error = RankError{false, "pnpdist.pnp: the operator runs on rank " + std::to_string(comm->rank()) + " of " +
                                   std::to_string(comm->size()) + " but the DistributedDenoiser on rank " +
                                   std::to_string(net_comm.rank()) + " of " + std::to_string(net_comm.size()) +
                                   "; both must use the same group of processes"};
    raise_on_every_rank(comm->get(), error, "pnpdist.pnp");
  }
  // A collective solve checks the checkpoint path on every rank (each rank's folder may differ): all raise or none.
  const std::string file =
      comm ? check_on_every_rank(comm->get(), "pnpdist.pnp checkpoint",
                                 [&] { return checkpoint_file(checkpoint, checkpoint_every); })
           : checkpoint_file(checkpoint, checkpoint_every);
  if (op.dtype() != DType::float32) throw nb::type_error("pnp needs a float32 operator (DRUNet works in float32)");
  if (stack != nullptr && denoiser.dim() != 2)
    throw nb::value_error("a CircularBlurStack holds images: pnp on it needs a 2D network (dim=2)");
  if (stack == nullptr && rank != 2 && rank != 3)
    throw nb::value_error(
        ("pnp needs an operator whose domain is 2D or 3D, got " + shape_string(op.domain_shape())).c_str());
  if (denoiser.dim() == 3 && rank == 2)
    throw nb::value_error("a 3D network needs an operator with a 3D domain (D, H, W)");
  // A 2D network on a 3D domain denoises it as one image of domain[0] channels (C, H, W).
  if (stack == nullptr && denoiser.dim() == 2 && rank == 3 && op.domain_shape()[0] != denoiser.config().image_channels)
    throw nb::value_error(("a 2D network of " + std::to_string(denoiser.config().image_channels) +
                           " channel(s) takes a domain (" + std::to_string(denoiser.config().image_channels) +
                           ", H, W), an image of its channels; the operator's domain " +
                           shape_string(op.domain_shape()) + " is a volume: use a 3D network (DRUNet(..., dim=3))")
                              .c_str());
  const ArrayArg measured =
      take_array(y, ArraySpec{"y", {DType::float32}, op.range_shape(), rows ? rows : "the operator's range"});
  const index_t n = element_count(op.domain_shape()), m = element_count(op.range_shape());
  Problem p{&op,
            Tensor<float, 1>(Extents<1>{m}),
            Tensor<float, 1>(Extents<1>{n}),
            nullptr,
            data_range,
            algorithm_of(algorithm),
            PythonObserver{observer, op.domain_shape()}};
  std::memcpy(p.y.data(), measured.data(), static_cast<std::size_t>(m) * sizeof(float));
  if (x0.is_none()) {
    std::memset(p.x0.data(), 0, static_cast<std::size_t>(n) * sizeof(float));
  } else {
    const ArrayArg start =
        take_array(x0, ArraySpec{"x0", {DType::float32}, op.domain_shape(), "the operator's domain"});
    std::memcpy(p.x0.data(), start.data(), static_cast<std::size_t>(n) * sizeof(float));
  }
  std::optional<ArrayArg> reference;
  if (!truth.is_none()) {
    reference = take_array(truth, ArraySpec{"truth", {DType::float32}, op.domain_shape(), "the operator's domain"});
    p.truth = static_cast<const float*>(reference->data());
  }
  p.options.max_iterations = iterations;
  p.options.clip = clip;
  p.options.stagnation_tolerance = stagnation_tolerance;
  p.options.residual_tolerance = residual_tolerance;
  p.options.checkpoint_path = file;
  p.options.checkpoint_every = checkpoint_every;
  if (!file.empty()) p.options.checkpoint_fingerprint = checkpoint_fingerprint(op, p, x0.is_none(), denoiser);
  if (stack != nullptr) return run_fused(p, *stack, denoiser);
  std::optional<nb::dict> solved;
  const bool row_distributed = visit_row_distributed(op, [&](const auto& distributed_op) {
    visit_domain_rank(distributed_op, [&](auto domain_rank) {
      if constexpr (decltype(domain_rank)::value == 2)
        solved = run_distributed<2, 4>(p, distributed_op, denoiser);
      else
        solved = denoiser.dim() == 2 ? run_distributed<3, 4>(p, distributed_op, denoiser)
                                     : run_distributed<3, 5>(p, distributed_op, denoiser);
    });
  });
  if (row_distributed) return *solved;
  if (rank == 2) return run<2, 4>(p, denoiser);
  return denoiser.dim() == 2 ? run<3, 4>(p, denoiser) : run<3, 5>(p, denoiser);
}

}  // namespace

void bind_pnp(nb::module_& m) {
  m.def("pnp", &pnp, nb::arg("operator"), nb::arg("y"), nb::arg("denoiser"), nb::arg("algorithm"),
        nb::arg("iterations") = 8, nb::arg("x0") = nb::none(), nb::arg("clip") = nb::none(),
        nb::arg("stagnation_tolerance") = 0.0, nb::arg("residual_tolerance") = 0.0, nb::arg("truth") = nb::none(),
        nb::arg("data_range") = 1.0, nb::arg("observer") = nb::none(), nb::arg("checkpoint") = nb::none(),
        nb::arg("checkpoint_every") = 0,
        "Plug-and-Play reconstruction: the library's PnPSolver on f(x) = 1/2 ||A x - y||^2 (A a float32 "
        "operator with a 2D or 3D domain, or a CircularBlurStack: then its fused data term, with y as its "
        "measurements) with a DRUNet prior and `algorithm` (a ProximalGradient, "
        "HalfQuadraticSplitting or ADMM; on a pnpdist.mpi.DistributedProjector2D, DistributedProjector3D or "
        "DistributedOperator, y is this rank's rows and the solve is collective, giving the same result on every "
        "rank), from x0 (default zeros), at most `iterations` iterations, stopping "
        "early when the tolerances hold (0: unused), clipping iterates to `clip` = (low, high). With `truth`, "
        "every record holds the iterate's PSNR and SSIM. observer(record, x) is called after every iteration "
        "with the record (a dict) and a copy of the iterate; Python signals (Ctrl-C) are handled between "
        "iterations. With `checkpoint` (a file path), the state is written there atomically after every "
        "`checkpoint_every` iterations (0: never) and an existing checkpoint is resumed from: the same call "
        "then ends with the iterate and records of an uninterrupted run; a checkpoint of another problem "
        "(operator, y, x0, network, algorithm, clip) raises InvalidArgument naming the file. Returns a dict: x, "
        "records, initial, iterations, stop ('max_iterations' or 'stagnation'), step (PGD's), squared_norm (its "
        "||A||^2 estimate, NaN when resumed), resumed_from (the checkpoint's iteration, 0: a fresh start).");
}

}  // namespace pnpdist::python
