#pragma once
/// \file
/// IterationRecord: what the PnP solver measures at one iteration on one rank (times, data fidelity, image
/// quality against a ground truth, peak memory of each phase). Records are plain values: the solver keeps
/// one per iteration, checkpoints write them, the examples serialise them to JSON.

#include <cstddef>
#include <limits>

#include "pnpdist/core/types.hpp"

namespace pnpdist {

/// One iteration of an iterative solver on one rank (the timing and memory fields of iteration 0 are 0). Fields that
/// were not measured are NaN (doubles) or 0.
struct IterationRecord {
  index_t iteration = 0;         ///< 1-based (0: the initialization)
  double wall_seconds = 0;       ///< since the solve started, including the time before a resume
  double iteration_seconds = 0;  ///< this iteration, observers and checkpoint excluded
  double gradient_seconds = 0;   ///< the data step: gradient step (PGD) or proximal step (HQS, ADMM)
  double denoiser_seconds = 0;   ///< D_sigma plus relaxation/damping, dual update and clipping
  double data_fidelity = std::numeric_limits<double>::quiet_NaN();    ///< f(x+) of this iteration's iterate
  double psnr = std::numeric_limits<double>::quiet_NaN();             ///< of x+ against the ground truth (observer)
  double ssim = std::numeric_limits<double>::quiet_NaN();             ///< of x+ against the ground truth (observer)
  double relative_change = std::numeric_limits<double>::quiet_NaN();  ///< ||x+ - x|| / ||x|| (inf when x = 0)
  /// |f(x+) - f(x)| / f(x), the relative change of the data residual (NaN when f is not recorded)
  double relative_residual_change = std::numeric_limits<double>::quiet_NaN();
  double denoiser_sigma = std::numeric_limits<double>::quiet_NaN();  ///< the sigma handed to the denoiser
  index_t data_step_iterations = 0;         ///< conjugate-gradient iterations of the data step (0: none or closed form)
  std::size_t peak_rss_gradient_bytes = 0;  ///< host VmHWM during the gradient phase (reset before it)
  std::size_t peak_rss_denoiser_bytes = 0;  ///< host VmHWM during the denoiser phase (reset before it)
  std::size_t peak_tracked_gradient_bytes = 0;  ///< allocation tracker high-water mark (executor's space)
  std::size_t peak_tracked_denoiser_bytes = 0;  ///< allocation tracker high-water mark (executor's space)
};

}  // namespace pnpdist
