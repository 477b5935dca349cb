#pragma once
/// \file
/// LpdTrainer: supervised training of a LearnedPrimalDual on ellipse data (ellipse_data.hpp) with the MSE
/// loss and Adam (nn/train/adam.hpp), and its evaluation on held-out samples.
///
/// Step t (1-based) trains on training samples (t - 1) batch .. t batch - 1, so the data of a step depend
/// only on t: a run resumed from a checkpoint (save / resume, nn/train/training_checkpoint.hpp) after step t
/// continues with exactly the samples and weights of an uninterrupted run. The options hash that guards a
/// checkpoint covers the architecture, the data and the optimizer options.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/types.hpp"
#include "pnpdist/backend/serial.hpp"
#include "pnpdist/learned/ellipse_data.hpp"
#include "pnpdist/learned/lpd.hpp"
#include "pnpdist/metrics/psnr.hpp"
#include "pnpdist/nn/train/adam.hpp"
#include "pnpdist/nn/train/mse_loss.hpp"
#include "pnpdist/nn/train/training_checkpoint.hpp"

namespace pnpdist::learned {

/// Mean loss and PSNR of a network over held-out samples.
struct LpdEvaluation {
  double loss = 0;  ///< mean over samples of the MSE
  double psnr = 0;  ///< mean over samples of 10 log10(range^2 / MSE), range = max - min of the phantom
};

/// PSNR of x against the reference with the reference's own range (max - min) as the data range.
template <class T>
[[nodiscard]] inline double range_psnr(index_t size, const T* x, const T* reference) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (index_t i = 0; i < size; ++i) {
    lo = std::min(lo, static_cast<double>(reference[i]));
    hi = std::max(hi, static_cast<double>(reference[i]));
  }
  const Extents<1> e{size};
  return psnr(Serial{}, View<const T, 1, HostSpace>(x, e), View<const T, 1, HostSpace>(reference, e),
              hi > lo ? hi - lo : 1.0);
}

template <class Op, class Exec>
class LpdTrainer {
public:
  using T = typename Op::value_type;

  LpdTrainer(const Exec& exec, LearnedPrimalDual<Op>& network, EllipseDataOptions data, nn::train::AdamOptions adam,
             index_t batch)
      : exec_(exec), net_(&network), data_(data), adam_(network.parameters().size(), adam), batch_(batch) {
    require(batch >= 1, [&] { return "LpdTrainer: the batch must be >= 1, got " + std::to_string(batch); });
  }

  [[nodiscard]] index_t steps_done() const { return adam_.steps(); }
  [[nodiscard]] nn::train::Adam<T>& optimizer() { return adam_; }

  /// One optimizer step on the next training batch; returns the batch's MSE loss (before the update).
  double step() {
    const ProjectorLayer<Op>& layer = net_->projector();
    const index_t image = layer.image_size(), sino = layer.sinogram_size();
    truth_.resize(static_cast<std::size_t>(batch_ * image));
    data_buffer_.resize(static_cast<std::size_t>(batch_ * sino));
    output_.resize(truth_.size());
    gradient_.resize(truth_.size());
    const std::uint64_t first = static_cast<std::uint64_t>(adam_.steps()) * static_cast<std::uint64_t>(batch_);
    for (index_t n = 0; n < batch_; ++n)
      ellipse_sample(exec_, layer, data_, DataSplit::train, first + static_cast<std::uint64_t>(n),
                     truth_.data() + n * image, data_buffer_.data() + n * sino);
    net_->forward(exec_, batch_, data_buffer_.data(), output_.data());
    const double loss = nn::train::mse_loss<T>(batch_ * image, output_.data(), truth_.data(), gradient_.data());
    net_->parameters().zero_gradients();
    net_->backward(exec_, gradient_.data());
    adam_.step(net_->parameters());
    return loss;
  }

  /// Mean loss and PSNR over samples 0 .. count-1 of `split` (one at a time).
  LpdEvaluation evaluate(DataSplit split, index_t count) {
    const ProjectorLayer<Op>& layer = net_->projector();
    const index_t image = layer.image_size();
    std::vector<T> truth(static_cast<std::size_t>(image)), out(truth.size());
    std::vector<T> data(static_cast<std::size_t>(layer.sinogram_size()));
    LpdEvaluation e;
    for (index_t k = 0; k < count; ++k) {
      ellipse_sample(exec_, layer, data_, split, static_cast<std::uint64_t>(k), truth.data(), data.data());
      net_->forward(exec_, 1, data.data(), out.data());
      e.loss += nn::train::mse_loss<T>(image, out.data(), truth.data(), nullptr);
      e.psnr += range_psnr<T>(image, out.data(), truth.data());
    }
    e.loss /= static_cast<double>(count);
    e.psnr /= static_cast<double>(count);
    return e;
  }

  /// A hash of everything that changes the weights of a run (architecture, data, optimizer, batch).
  [[nodiscard]] std::uint64_t options_hash() const {
    const LpdConfig& c = net_->config();
    const nn::train::AdamOptions& a = adam_.options();
    const Extents<2> is = net_->projector().image_shape(), ss = net_->projector().sinogram_shape();
    const double fields[] = {static_cast<double>(c.iterations), static_cast<double>(c.primal_memory),
                             static_cast<double>(c.dual_memory), static_cast<double>(c.width),
                             static_cast<double>(c.projected_channel), c.prelu_init, static_cast<double>(c.seed),
                             static_cast<double>(data_.seed), data_.noise, data_.mean_ellipses,
                             data_.interior ? 1.0 : 0.0, a.learning_rate, a.beta1, a.beta2, a.epsilon, a.clip_norm,
                             static_cast<double>(a.total_steps), static_cast<double>(batch_),
                             static_cast<double>(is[0]), static_cast<double>(is[1]), static_cast<double>(ss[0]),
                             static_cast<double>(ss[1]), static_cast<double>(net_->projector().scale()),
                             static_cast<double>(sizeof(T))};
    return detail::fnv1a(fields, sizeof(fields));
  }

  /// Writes the run's state atomically (parameters, Adam state, steps done).
  void save(const std::string& path, double elapsed_seconds) {
    nn::train::save_training_checkpoint(path, net_->parameters(), adam_, options_hash(), elapsed_seconds);
  }
  /// Restores the run's state from `path`; returns the elapsed seconds recorded in it.
  double resume(const std::string& path) {
    return nn::train::load_training_checkpoint(path, net_->parameters(), adam_, options_hash());
  }

private:
  Exec exec_;
  LearnedPrimalDual<Op>* net_;
  EllipseDataOptions data_;
  nn::train::Adam<T> adam_;
  index_t batch_;
  std::vector<T> truth_, data_buffer_, output_, gradient_;
};

}  // namespace pnpdist::learned
