#pragma once
/// \file
/// PnPOptions: the settings of the PnP iteration loop shared by every algorithm (solvers/pnp_solver.hpp):
/// iteration count, stopping rules, clipping, checkpoints. The algorithm's own parameters (step, sigma or
/// sigma schedule, relaxation, penalty) live in the algorithm type (solvers/proximal_gradient.hpp,
/// half_quadratic_splitting.hpp, admm.hpp). validate() throws invalid_argument naming the option and its value.
///
/// Stopping without a ground truth: the run stops at the first iteration k where every tolerance that is set
/// holds: ||x_k - x_{k-1}|| / ||x_{k-1}|| < stagnation_tolerance and |f(x_k) - f(x_{k-1})| / f(x_{k-1}) <
/// residual_tolerance (both are recorded every iteration in IterationRecord).

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/types.hpp"

namespace pnpdist {

struct PnPOptions {
  index_t max_iterations = 100;     ///< >= 0
  double stagnation_tolerance = 0;  ///< relative change of the iterate below which the run may stop (0: unused)
  double residual_tolerance = 0;    ///< relative change of f(x) below which the run may stop (0: unused)
  std::optional<std::pair<double, double>> clip;  ///< clip x+ to [low, high] (low <= high)
  std::string checkpoint_path;                    ///< empty: no checkpoints; an existing file is resumed from
  index_t checkpoint_every = 0;                   ///< write the state every K iterations (0: never)
  /// What else the iterates depend on that the solver cannot see (the data, the prior: e.g. the program's
  /// problem options as text); stored hashed in the checkpoint, so a checkpoint of another problem is refused.
  std::string checkpoint_fingerprint;
  bool record_data_fidelity = true;               ///< evaluate f(x+) every iteration (one extra forward projection)

  /// Throws invalid_argument for the first invalid option, naming it and its value.
  void validate() const {
    require(max_iterations >= 0,
            [&] { return "PnPOptions: max_iterations must be >= 0, got " + std::to_string(max_iterations); });
    require(std::isfinite(stagnation_tolerance) && stagnation_tolerance >= 0, [&] {
      return "PnPOptions: stagnation_tolerance must be >= 0, got " + std::to_string(stagnation_tolerance);
    });
    require(std::isfinite(residual_tolerance) && residual_tolerance >= 0,
            [&] { return "PnPOptions: residual_tolerance must be >= 0, got " + std::to_string(residual_tolerance); });
    require(residual_tolerance == 0 || record_data_fidelity,
            "PnPOptions: residual_tolerance needs record_data_fidelity (the residual is not evaluated without it)");
    if (clip) {
      require(!(clip->first > clip->second) && !std::isnan(clip->first) && !std::isnan(clip->second), [&] {
        return "PnPOptions: clip interval [" + std::to_string(clip->first) + ", " + std::to_string(clip->second) +
               "] is empty or NaN";
      });
    }
    require(checkpoint_every >= 0,
            [&] { return "PnPOptions: checkpoint_every must be >= 0, got " + std::to_string(checkpoint_every); });
    require(checkpoint_every == 0 || !checkpoint_path.empty(),
            "PnPOptions: checkpoint_every > 0 needs a checkpoint_path");
  }

  /// True when at least one stopping tolerance is set and all that are set hold for these changes.
  [[nodiscard]] bool converged(double relative_change, double relative_residual_change) const {
    if (stagnation_tolerance <= 0 && residual_tolerance <= 0) return false;
    const bool iterate_ok = stagnation_tolerance <= 0 || relative_change < stagnation_tolerance;
    const bool residual_ok = residual_tolerance <= 0 || relative_residual_change < residual_tolerance;
    return iterate_ok && residual_ok;
  }
};

}  // namespace pnpdist
