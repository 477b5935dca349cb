#pragma once
// tomography_2d --method lpd: learned primal-dual (include/pnpdist/learned/, docs/learned.md) instead of the
// PnP solve, on one process or under mpirun with the view blocks dealt to the ranks (--distribute-physics 1).
//
//   LpdWeights read_lpd_weights(path)     the network's architecture, initial primal and training geometry
//                                         (learned/lpd_weights_info.hpp; a file without a geometry is the
//                                         shipped one, for ellipse_geometry(128, 30))
//   check_lpd_geometry(...)               the run's geometry against the training geometry: a mismatch is refused
//                                         (LpdGeometryMismatch, exit 2, naming both) unless accepted
//                                         (--accept-geometry-mismatch 1: a one-line warning on stderr, recorded
//                                         in result.json)
//   check_lpd_noise(...)                  the run's noise level against the training level: another level gives a
//                                         warning on stderr, recorded in result.json (the network still runs)
//   check_lpd_self_ensemble(geometry)     --lpd-self-ensemble 1: throws invalid_argument naming the first symmetry
//                                         of the square the geometry lacks (learned/dihedral_ensemble.hpp)
//   run_lpd(...)                          the reconstruction of the whole sinogram (learned/lpd_reconstructor.hpp)
//                                         and result.json (the PnP run's keys; records empty, final.iterations 0;
//                                         an "lpd" section), with the self-ensemble's 8 passes where asked
//
// The network reads the data of its scaled operator: g = s y with s = 1 / ||A|| of the run's projector
// (power method, 100 iterations, as in training), y the measured sinogram. Under mpirun every rank runs the
// network on the whole image and sinogram and projects only its own view blocks (learned/distributed_sinogram.hpp:
// one allreduce per projection and per back-projection); the result equals the one-process run's to
// round-off, and rank 0 writes it.

#include <pnpdist/learned/dihedral_ensemble.hpp>
#include <pnpdist/learned/distributed_sinogram.hpp>
#include <pnpdist/learned/ellipse_data.hpp>
#include <pnpdist/learned/lpd_reconstructor.hpp>
#include <pnpdist/learned/lpd_weights_info.hpp>
#include <pnpdist/learned/training_geometry.hpp>

#include <nlohmann/json.hpp>

#include "baselines.hpp"
#include "pnp_example_support.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

namespace pnpdist_examples {

/// What a learned primal-dual weights file says about the network and its training.
using LpdWeights = pnpdist::learned::LpdWeightsInfo;

/// Reads the header of `path` (no tensor data; learned/lpd_weights_info.hpp). Throws pnpdist::io_error /
/// invalid_argument naming the file when it does not hold learned primal-dual weights.
inline LpdWeights read_lpd_weights(const std::string& path) {
  return pnpdist::learned::read_lpd_weights_info(path, "--weights " + path);
}

/// A run whose geometry is not the one the weights were trained for, not accepted (exit status 2).
struct LpdGeometryMismatch : pnpdist::invalid_argument {
  using pnpdist::invalid_argument::invalid_argument;
};

/// How the run relates to the training (result.json's "lpd" section): its geometry, and its noise level relative
/// to the mean absolute data (training noise: the weights' metadata, or the model card's 5%).
struct LpdRunCheck {
  bool matches = true;
  bool accepted = false;  // a geometry mismatch accepted by the flag
  double training_noise = 0, run_noise = 0;
  bool noise_matches = true;
};

/// Relative noise levels within this factor of the training level count as the training level.
inline constexpr double lpd_noise_tolerance = 1.01;

/// Records the run's relative noise in `check`; another level than the training's gives a one-line warning on
/// stderr (the network still runs, away from its training data: expect a lower PSNR than its model card's).
inline void check_lpd_noise(const LpdWeights& w, double run_noise, LpdRunCheck& check, bool warn) {
  check.training_noise = w.training_noise;
  check.run_noise = run_noise;
  check.noise_matches = run_noise <= w.training_noise * lpd_noise_tolerance &&
                        run_noise * lpd_noise_tolerance >= w.training_noise;
  if (check.noise_matches || !warn) return;
  std::fprintf(stderr,
               "tomography_2d: warning: --method lpd: the weights %s were trained at noise %g of the mean absolute "
               "data%s; this run's noise is %g of it: expect a lower PSNR than at the training noise\n",
               w.path.c_str(), w.training_noise, w.noise_from_metadata ? "" : " (the model card's)", run_noise);
}

inline LpdRunCheck check_lpd_geometry(const LpdWeights& w, const pnpdist::ct::Geometry2D& geometry,
                                           bool accept) {
  namespace learned = pnpdist::learned;
  LpdRunCheck check;
  check.matches = learned::same_geometry(w.training_geometry, geometry);
  if (check.matches) return check;
  const std::string both = learned::geometry_mismatch_text(w, geometry, "this run's geometry");
  if (!accept)
    throw LpdGeometryMismatch("--method lpd: " + both +
                              ". Run at the training geometry (for the shipped weights: --geometry ellipse --size 128 "
                              "--angles 30) or pass --accept-geometry-mismatch 1");
  check.accepted = true;
  std::fprintf(stderr, "tomography_2d: warning: --accept-geometry-mismatch 1: %s\n", both.c_str());
  return check;
}

/// Refuses a self-ensemble on `geometry` before the run (its symmetries found with a serial projector): throws
/// invalid_argument naming the first symmetry of the square the geometry lacks.
inline void check_lpd_self_ensemble(const pnpdist::ct::Geometry2D& geometry) {
  (void)pnpdist::learned::DihedralEnsemble<float>(
      pnpdist::ct::JosephProjector2D<float, pnpdist::Serial>(pnpdist::Serial{}, geometry));
}

/// Bytes of the network's stored activations and memories for one image (the forward keeps them for a backward
/// pass): per step (Mp + 1 + 4 width) image planes and (Md + 2 + 4 width) sinogram planes.
inline void add_lpd_activations(MemoryEstimate& estimate, const pnpdist::learned::LpdConfig& c, double image,
                                double sinogram) {
  const double w = static_cast<double>(c.width);
  estimate.add_floats("learned primal-dual activations",
                      static_cast<double>(c.iterations) *
                          ((static_cast<double>(c.primal_memory) + 1 + 4 * w) * image +
                           (static_cast<double>(c.dual_memory) + 2 + 4 * w) * sinogram));
}

/// run_lpd with the network's physics `op` (the whole projector, or the ranks' view blocks) and the data fidelity
/// of `physics` (collective where they are).
template <class Physics, class Op>
int run_lpd_on(const World& world, const Exec& exec, const CommonOptions<2>& o, const OptionTable& table,
               const Problem<2>& problem, const LpdWeights& weights, const LpdRunCheck& run_check, bool self_ensemble,
               const pnpdist::ct::Geometry2D& geometry, const pnpdist::Tensor<float, 2>& y, const Physics& physics,
               const Op& op, double scale, Clock::time_point program_start) {
  namespace learned = pnpdist::learned;
  const bool root = world.rank() == 0;
  learned::LpdReconstructor<Op> lpd(exec, op, scale, geometry, weights);
  pnpdist::Tensor<float, 2> x(geometry.volume.shape()), x0(geometry.volume.shape());
  lpd.initial_primal(y.data(), x0.data());
  const std::string description =
      lpd.description() + (self_ensemble ? ", self-ensemble over the 8 symmetries of the square" : "");
  if (!o.quiet && root) {
    std::printf("%s: %s\n%s: %s (%s), %d rank(s) x %d thread(s)%s\n", problem.example, problem.description.c_str(),
                problem.example, description.c_str(), weights.path.c_str(), world.size(), exec.concurrency(),
                world.size() > 1 ? ", view blocks dealt to the ranks" : "");
    std::fflush(stdout);
  }
  const auto measure = [&](const pnpdist::Tensor<float, 2>& image) {
    pnpdist::IterationRecord record;
    record.data_fidelity = physics.data_fidelity(image.const_view());
    if (problem.truth)
      pnpdist::observe::ground_truth(*problem.truth, problem.data_range).measure(exec, record, image.const_view());
    return record;
  };
  const pnpdist::IterationRecord initial = measure(x0);
  const double setup_seconds = seconds_since(program_start);
  const auto start = Clock::now();
  lpd.reconstruct(exec, 1, y.data(), x.data(), self_ensemble);
  const double seconds = seconds_since(start);
  const pnpdist::IterationRecord final_record = measure(x);
  if (!root) return 0;

  nlohmann::ordered_json json =
      result_json_head(problem, "lpd", table, world, exec, setup_seconds,
                       weights.config.initial_primal == learned::InitialPrimal::fbp ? "fbp" : "zeros", initial);
  json["records"] = nlohmann::ordered_json::array({nlohmann::ordered_json::array()});
  json["final"] = {{"psnr", final_record.psnr},
                   {"ssim", final_record.ssim},
                   {"iterations", 0},
                   {"total_seconds", seconds},
                   {"peak_rss_bytes", static_cast<long long>(pnpdist::peak_resident_bytes())},
                   {"step", nullptr},
                   {"squared_norm", nullptr},
                   {"resumed_from", 0}};
  result_json_tail(json, exec, o.output_dir, problem, x.const_view(), x0.const_view());
  json["denoiser"] = {{"kind", "lpd"}, {"weights", weights.path}, {"config", description}, {"executor", Exec::name}};
  json["lpd"] = {{"weights", weights.path},
                 {"iterations", weights.config.iterations},
                 {"parameters", lpd.parameter_count()},
                 {"initial_primal", learned::to_string(weights.config.initial_primal)},
                 {"scale", lpd.scale()},
                 {"training_geometry", learned::describe_geometry(weights.training_geometry)},
                 {"training_geometry_source", weights.geometry_from_metadata ? "metadata" : "model card"},
                 {"geometry", learned::describe_geometry(geometry)},
                 {"geometry_matches", run_check.matches},
                 {"geometry_mismatch_accepted", run_check.accepted},
                 {"training_noise", run_check.training_noise},
                 {"training_noise_source", weights.noise_from_metadata ? "metadata" : "model card"},
                 {"noise", run_check.run_noise},
                 {"noise_matches", run_check.noise_matches},
                 {"self_ensemble", self_ensemble},
                 {"seconds", seconds},
                 {"final_data_fidelity", final_record.data_fidelity}};
  const std::string path = write_result_json(o.output_dir, json);
  if (!o.quiet)
    std::printf("%s: LPD PSNR %.2f dB (initial primal %.2f dB) in %.2f s (setup %.2f s); %s\n", problem.example,
                final_record.psnr, initial.psnr, seconds, setup_seconds, path.c_str());
  return 0;
}

/// Learned primal-dual on the whole sinogram `y` of `geometry` (held by every rank); `local` (this rank's stack
/// of view-block operators with their measurements, share.mine of them) gives the data fidelity and, when the
/// blocks are dealt to the ranks (share.distributed), the network's projections. Writes result.json and the
/// images like run_pnp (rank 0). Collective under mpirun.
template <class Local>
int run_lpd(const World& world, const Exec& exec, const CommonOptions<2>& o, const OptionTable& table,
            const Problem<2>& problem, const LpdWeights& weights, const LpdRunCheck& run_check, bool self_ensemble,
            const pnpdist::ct::Geometry2D& geometry, const pnpdist::Tensor<float, 2>& y, const OperatorShare& share,
            Local local, Clock::time_point program_start) {
  namespace ct = pnpdist::ct;
  pnpdist::require(share.distributed || world.size() == 1,
                   "internal: run_lpd runs on one process unless the view blocks are dealt to the ranks");
  // The scale of the whole projector on every rank: the one-process run's, and the training's.
  const ct::JosephProjector2D<float, Exec> projector(exec, geometry);
  const double scale = pnpdist::learned::inverse_operator_norm(projector);
  if (!share.distributed)
    return run_lpd_on(world, exec, o, table, problem, weights, run_check, self_ensemble, geometry, y, local,
                      projector, scale, program_start);
  const auto physics = distributed(world, share, std::move(local));
  return run_lpd_on(world, exec, o, table, problem, weights, run_check, self_ensemble, geometry, y, physics, physics,
                    scale, program_start);
}

}  // namespace pnpdist_examples
