#pragma once
/// \file
/// PnPOptions: the parameters of the PnP proximal-gradient solver (solvers/pnp_solver.hpp) and their
/// validation. validate() throws invalid_argument naming the option and its value.

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/types.hpp"

namespace pnpdist {

struct PnPOptions {
  std::optional<double> step;        ///< gamma > 0; empty: 0.99 / ||A||^2 estimated by the power method on A^T A
  double sigma = 0.01;               ///< noise level handed to the denoiser (>= 0)
  std::optional<double> relaxation;  ///< lambda >= 0; empty or 0: x+ = clip(D(z)); else x+ = clip((1-a) z + a D(z))
  index_t max_iterations = 100;      ///< >= 0
  double stagnation_tolerance = 0;   ///< stop when ||x+ - x|| / ||x|| < tol (0: never)
  std::optional<std::pair<double, double>> clip;  ///< clip x+ to [low, high] (low <= high)
  index_t power_iterations = 30;                  ///< applications of A^T A for the automatic step (>= 1)
  double step_factor = 0.99;                      ///< the automatic step is step_factor / ||A||^2 (> 0)
  std::uint64_t power_seed = 0;                   ///< seed of the power method's random start vector
  std::string checkpoint_path;                    ///< empty: no checkpoints; an existing file is resumed from
  index_t checkpoint_every = 0;                   ///< write the state every K iterations (0: never)
  bool record_data_fidelity = true;               ///< evaluate f(x) every iteration (one extra forward projection)

  /// Throws invalid_argument for the first invalid option, naming it and its value.
  void validate() const {
    if (step) {
      require(std::isfinite(*step) && *step > 0,
              [&] { return "PnPOptions: step must be positive and finite, got " + std::to_string(*step); });
    }
    require(std::isfinite(sigma) && sigma >= 0,
            [&] { return "PnPOptions: sigma must be non-negative and finite, got " + std::to_string(sigma); });
    if (relaxation) {
      require(std::isfinite(*relaxation) && *relaxation >= 0, [&] {
        return "PnPOptions: relaxation (lambda) must be non-negative and finite, got " + std::to_string(*relaxation);
      });
    }
    require(max_iterations >= 0,
            [&] { return "PnPOptions: max_iterations must be >= 0, got " + std::to_string(max_iterations); });
    require(stagnation_tolerance >= 0, [&] {
      return "PnPOptions: stagnation_tolerance must be >= 0, got " + std::to_string(stagnation_tolerance);
    });
    if (clip) {
      require(!(clip->first > clip->second) && !std::isnan(clip->first) && !std::isnan(clip->second), [&] {
        return "PnPOptions: clip interval [" + std::to_string(clip->first) + ", " + std::to_string(clip->second) +
               "] is empty or NaN";
      });
    }
    require(power_iterations >= 1,
            [&] { return "PnPOptions: power_iterations must be >= 1, got " + std::to_string(power_iterations); });
    require(std::isfinite(step_factor) && step_factor > 0,
            [&] { return "PnPOptions: step_factor must be positive, got " + std::to_string(step_factor); });
    require(checkpoint_every >= 0,
            [&] { return "PnPOptions: checkpoint_every must be >= 0, got " + std::to_string(checkpoint_every); });
    require(checkpoint_every == 0 || !checkpoint_path.empty(),
            "PnPOptions: checkpoint_every > 0 needs a checkpoint_path");
  }

  /// The relaxation weight alpha = gamma lambda / (1 + gamma lambda) for step gamma (0 without relaxation).
  [[nodiscard]] double relaxation_alpha(double gamma) const {
    if (!relaxation || *relaxation == 0) return 0;
    return gamma * *relaxation / (1 + gamma * *relaxation);
  }
};

}  // namespace pnpdist
