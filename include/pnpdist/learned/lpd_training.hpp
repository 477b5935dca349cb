#pragma once
/// \file
/// LpdTrainer: supervised training of a LearnedPrimalDual on ellipse data (ellipse_data.hpp) with the MSE
/// loss and Adam (nn/train/adam.hpp), and its evaluation on held-out samples, on one process or data-parallel
/// over the ranks of a Communicator (distributed/communicator.hpp).
///
/// Step t (1-based) trains on training samples s0 + (t - 1) batch .. s0 + t batch - 1, s0 the first training
/// sample (0 unless set_first_training_sample), so the data of a step depend only on t and s0: a run resumed from a checkpoint (save / resume, nn/train/training_checkpoint.hpp) after step t
/// continues with exactly the samples and weights of an uninterrupted run. The options hash that guards a
/// checkpoint covers the architecture, the data, the optimizer options and the initial weights when the run
/// started from given ones (set_initial_weights), not the rank count.
///
/// Data parallelism: the global batch of a step is split into contiguous blocks, rank r taking samples
/// [batch_begin(r), batch_begin(r + 1)) of it (sizes differ by at most one when the rank count does not
/// divide the batch; a batch smaller than the rank count is refused). Every rank computes the gradient of
/// each of its samples on its own (a batch-1 forward and backward), the per-sample gradients and losses are
/// gathered to every rank (one allgatherv of the flat gradients, rank blocks in rank order = sample order),
/// and every rank sums them in sample order 0 .. batch-1 and divides by the batch: the gradient, and so the
/// Adam step and the weights, are bitwise the same on every rank and for every rank count (1, 2, 4, ...,
/// SelfCommunicator included) and, with the loops, thread count (with the oneDNN convolutions of
/// nn/train/conv3_onednn.hpp, at equal thread counts per rank). The cost over an allreduce: batch x parameters values
/// received per step instead of about 2 x parameters. evaluate() splits its samples the same way and is
/// collective; save() writes on rank 0 only; resume() reads the file on every rank (a path every rank can
/// read), so a run may resume on another rank count. The communicator may be one of device buffers
/// (NcclCommunicator): the layers run on the host, and the gradients and losses travel through staging buffers
/// of its space (distributed/host_exchange.hpp), with the same bits as over MPI.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "pnpdist/backend/serial.hpp"
#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/types.hpp"
#include "pnpdist/distributed/communicator.hpp"
#include "pnpdist/distributed/host_exchange.hpp"
#include "pnpdist/distributed/self_communicator.hpp"
#include "pnpdist/learned/ellipse_data.hpp"
#include "pnpdist/learned/lpd.hpp"
#include "pnpdist/metrics/psnr.hpp"
#include "pnpdist/nn/train/adam.hpp"
#include "pnpdist/nn/train/conv3_onednn.hpp"
#include "pnpdist/nn/train/mse_loss.hpp"
#include "pnpdist/nn/train/training_checkpoint.hpp"

namespace pnpdist::learned {

/// Mean loss and PSNR of a network over held-out samples.
struct LpdEvaluation {
  double loss = 0;  ///< mean over samples of the MSE
  double psnr = 0;  ///< mean over samples of 10 log10(range^2 / MSE), range = max - min of the phantom
};

/// A fingerprint of a parameter store's values (FNV-1a of their bytes; never 0), for LpdTrainer::set_initial_weights.
template <class T>
[[nodiscard]] inline std::uint64_t parameters_fingerprint(const nn::train::ParameterStore<T>& parameters) {
  const std::vector<T>& v = parameters.values();
  const std::uint64_t h = pnpdist::detail::fnv1a(v.data(), v.size() * sizeof(T));
  return h == 0 ? 1 : h;
}

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

/// The first sample of rank r's block of a global batch split over `ranks` ranks (contiguous blocks whose
/// sizes differ by at most one, the larger ones first); batch_begin(batch, ranks, ranks) == batch.
[[nodiscard]] constexpr index_t batch_begin(index_t batch, int ranks, int r) {
  const index_t base = batch / ranks, extra = batch % ranks;
  return r * base + std::min<index_t>(r, extra);
}

/// Seconds spent by this rank in the last training step: computing its samples' gradients (data, forward,
/// backward) and exchanging them (the gather, the ordered sum and the Adam update).
struct LpdStepTiming {
  double compute = 0;
  double exchange = 0;
};

template <class Op, class Exec, AnySpaceCommunicator Comm = SelfCommunicator>
class LpdTrainer {
public:
  using T = typename Op::value_type;

  /// Trains `network` on global batches of `batch` samples split over the ranks of `comm` (collective: every
  /// rank constructs its trainer with the same options and a network of the same initial weights). Throws
  /// invalid_argument when batch < 1 or batch < comm.size(), naming both numbers.
  LpdTrainer(const Exec& exec, LearnedPrimalDual<Op>& network, EllipseDataOptions data, nn::train::AdamOptions adam,
             index_t batch, Comm comm = Comm{})
      : exec_(exec),
        net_(&network),
        data_(data),
        adam_(network.parameters().size(), adam),
        batch_(batch),
        comm_(std::move(comm)) {
    require(batch >= 1, [&] { return "LpdTrainer: the batch must be >= 1, got " + std::to_string(batch); });
    require(batch >= comm_.size(), [&] {
      return "LpdTrainer: the global batch (" + std::to_string(batch) + ") is smaller than the number of ranks (" +
             std::to_string(comm_.size()) + "): every rank needs at least one sample per step";
    });
  }

  [[nodiscard]] index_t steps_done() const { return adam_.steps(); }
  [[nodiscard]] nn::train::Adam<T>& optimizer() { return adam_; }
  [[nodiscard]] const Comm& communicator() const { return comm_; }
  /// The global batch and this rank's block of it: samples [first_sample(), first_sample() + local_batch()).
  [[nodiscard]] index_t batch() const { return batch_; }
  [[nodiscard]] index_t first_sample() const { return batch_begin(batch_, comm_.size(), comm_.rank()); }
  [[nodiscard]] index_t local_batch() const {
    return batch_begin(batch_, comm_.size(), comm_.rank() + 1) - first_sample();
  }
  [[nodiscard]] const LpdStepTiming& last_step_timing() const { return timing_; }

  /// One optimizer step on the next global batch (collective); returns the batch's mean MSE loss (before the
  /// update), the same on every rank.
  double step() {
    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now();
    const ProjectorLayer<Op>& layer = net_->projector();
    const index_t image = layer.image_size(), sino = layer.sinogram_size();
    const index_t parameters = net_->parameters().size(), local = local_batch();
    truth_.resize(static_cast<std::size_t>(image));
    data_buffer_.resize(static_cast<std::size_t>(sino));
    output_.resize(truth_.size());
    gradient_.resize(truth_.size());
    local_gradients_.resize(static_cast<std::size_t>(local * parameters));
    local_losses_.resize(static_cast<std::size_t>(local));
    const std::uint64_t first = first_training_sample_ +
                                static_cast<std::uint64_t>(adam_.steps()) * static_cast<std::uint64_t>(batch_) +
                                static_cast<std::uint64_t>(first_sample());
    std::vector<T>& g = net_->parameters().gradients();
    for (index_t n = 0; n < local; ++n) {
      ellipse_sample(exec_, layer, data_, DataSplit::train, first + static_cast<std::uint64_t>(n), truth_.data(),
                     data_buffer_.data());
      net_->forward(exec_, 1, data_buffer_.data(), output_.data());
      local_losses_[static_cast<std::size_t>(n)] =
          nn::train::mse_loss<T>(image, output_.data(), truth_.data(), gradient_.data());
      net_->parameters().zero_gradients();
      net_->backward(exec_, gradient_.data());
      std::copy(g.begin(), g.end(), local_gradients_.begin() + n * parameters);
    }
    const auto computed = Clock::now();
    gradients_.resize(static_cast<std::size_t>(batch_ * parameters));
    gather(local_gradients_, gradients_, parameters);
    std::vector<double> losses(static_cast<std::size_t>(batch_));
    gather(local_losses_, losses, 1);
    // The ordered sum over the samples of the global batch: the same bits on every rank and rank count.
    std::copy(gradients_.begin(), gradients_.begin() + parameters, g.begin());
    for (index_t n = 1; n < batch_; ++n) {
      const T* gn = gradients_.data() + n * parameters;
      for (index_t i = 0; i < parameters; ++i) g[static_cast<std::size_t>(i)] += gn[i];
    }
    const T count = static_cast<T>(batch_);
    for (T& gi : g) gi /= count;
    adam_.step(net_->parameters());
    double loss = 0;
    for (double l : losses) loss += l;
    timing_.compute = std::chrono::duration<double>(computed - start).count();
    timing_.exchange = std::chrono::duration<double>(Clock::now() - computed).count();
    return loss / static_cast<double>(batch_);
  }

  /// Mean loss and PSNR over samples 0 .. count-1 of `split` (collective: the samples are split over the
  /// ranks like a batch, every rank returns the same values; count >= 1, and ranks beyond count idle).
  LpdEvaluation evaluate(DataSplit split, index_t count) {
    require(count >= 1,
            [&] { return "LpdTrainer::evaluate: the sample count must be >= 1, got " + std::to_string(count); });
    const ProjectorLayer<Op>& layer = net_->projector();
    const index_t image = layer.image_size();
    std::vector<T> truth(static_cast<std::size_t>(image)), out(truth.size());
    std::vector<T> data(static_cast<std::size_t>(layer.sinogram_size()));
    const index_t begin = batch_begin(count, comm_.size(), comm_.rank());
    const index_t end = batch_begin(count, comm_.size(), comm_.rank() + 1);
    std::vector<double> local(static_cast<std::size_t>(2 * (end - begin))), all(static_cast<std::size_t>(2 * count));
    for (index_t k = begin; k < end; ++k) {
      ellipse_sample(exec_, layer, data_, split, static_cast<std::uint64_t>(k), truth.data(), data.data());
      net_->forward(exec_, 1, data.data(), out.data());
      local[static_cast<std::size_t>(2 * (k - begin))] =
          nn::train::mse_loss<T>(image, out.data(), truth.data(), nullptr);
      local[static_cast<std::size_t>(2 * (k - begin) + 1)] = range_psnr<T>(image, out.data(), truth.data());
    }
    gather(local, all, 2, count);
    LpdEvaluation e;
    for (index_t k = 0; k < count; ++k) {
      e.loss += all[static_cast<std::size_t>(2 * k)];
      e.psnr += all[static_cast<std::size_t>(2 * k + 1)];
    }
    e.loss /= static_cast<double>(count);
    e.psnr /= static_cast<double>(count);
    return e;
  }

  /// A hash of everything that changes the weights of a run (architecture and initial primal, data, optimizer,
  /// batch, the training convolutions' precision).
  [[nodiscard]] std::uint64_t options_hash() const {
    const LpdConfig& c = net_->config();
    const nn::train::AdamOptions& a = adam_.options();
    const Extents<2> is = net_->projector().image_shape(), ss = net_->projector().sinogram_shape();
    const double fields[] = {static_cast<double>(c.iterations),
                             static_cast<double>(c.primal_memory),
                             static_cast<double>(c.dual_memory),
                             static_cast<double>(c.width),
                             static_cast<double>(c.projected_channel),
                             c.prelu_init,
                             static_cast<double>(c.seed),
                             static_cast<double>(data_.seed),
                             data_.noise,
                             data_.mean_ellipses,
                             data_.interior ? 1.0 : 0.0,
                             a.learning_rate,
                             a.beta1,
                             a.beta2,
                             a.epsilon,
                             a.clip_norm,
                             static_cast<double>(a.total_steps),
                             static_cast<double>(batch_),
                             static_cast<double>(is[0]),
                             static_cast<double>(is[1]),
                             static_cast<double>(ss[0]),
                             static_cast<double>(ss[1]),
                             static_cast<double>(net_->projector().scale()),
                             static_cast<double>(sizeof(T))};
    // The FBP start and initial weights extend the hash; without them it is the hash of runs before the options
    // existed.
    std::uint64_t hash = pnpdist::detail::fnv1a(fields, sizeof(fields));
    if (c.initial_primal == InitialPrimal::fbp) {
      double extended[std::size(fields) + 1];
      std::copy(std::begin(fields), std::end(fields), extended);
      extended[std::size(fields)] = 1.0;  // InitialPrimal::fbp
      hash = pnpdist::detail::fnv1a(extended, sizeof(extended));
    }
    if (initial_weights_ != 0) hash = pnpdist::detail::fnv1a(&initial_weights_, sizeof(initial_weights_), hash);
    if (first_training_sample_ != 0)
      hash = pnpdist::detail::fnv1a(&first_training_sample_, sizeof(first_training_sample_), hash);
    // bf16 convolutions (nn/train/conv3_onednn.hpp) change the weights: a run cannot resume in another precision.
    if (nn::train::conv3_train_uses_onednn<Exec, T>() &&
        nn::train::train_conv_precision() == nn::train::ConvPrecision::bf16) {
      const char tag[] = "conv bf16";
      hash = pnpdist::detail::fnv1a(tag, sizeof(tag), hash);
    }
    return hash;
  }

  /// Records that the run starts from given weights (loaded into the network before the first step, instead of
  /// the seeded initialisation) by their fingerprint (parameters_fingerprint): it joins the options hash, so a
  /// checkpoint of a run from other initial weights, or from the seeded initialisation, is not resumed. Call
  /// before resume(). Adam's moments and the learning-rate schedule start afresh.
  void set_initial_weights(std::uint64_t fingerprint) {
    require(fingerprint != 0, "LpdTrainer::set_initial_weights: the fingerprint 0 means 'none'");
    initial_weights_ = fingerprint;
  }

  /// Starts the run's training samples at `first` instead of 0 (a run continuing from another run's weights
  /// takes fresh phantoms: the first run of `steps` steps of batch b used samples 0 .. steps b - 1). Joins the
  /// options hash when not 0. Call before resume() and the first step.
  void set_first_training_sample(std::uint64_t first) {
    require(adam_.steps() == 0, "LpdTrainer::set_first_training_sample: call it before the first step");
    first_training_sample_ = first;
  }
  [[nodiscard]] std::uint64_t first_training_sample() const { return first_training_sample_; }

  /// Writes the run's state atomically (parameters, Adam state, steps done); rank 0 writes, the other ranks
  /// (whose state is the same) return at once.
  void save(const std::string& path, double elapsed_seconds) {
    if (comm_.rank() == 0)
      nn::train::save_training_checkpoint(path, net_->parameters(), adam_, options_hash(), elapsed_seconds);
  }
  /// Restores the run's state from `path` (read by every rank; written by a run on any rank count); returns
  /// the elapsed seconds recorded in it.
  double resume(const std::string& path) {
    return nn::train::load_training_checkpoint(path, net_->parameters(), adam_, options_hash());
  }

private:
  /// all <- the concatenation over ranks of their `local` values, `per_item` values per item of a set of
  /// `items` items split like a batch (rank blocks in rank order: item order).
  template <class V>
  void gather(std::vector<V>& local, std::vector<V>& all, index_t per_item, index_t items = -1) {
    if (items < 0) items = batch_;
    std::vector<index_t> counts(static_cast<std::size_t>(comm_.size()));
    for (int r = 0; r < comm_.size(); ++r)
      counts[static_cast<std::size_t>(r)] =
          per_item * (batch_begin(items, comm_.size(), r + 1) - batch_begin(items, comm_.size(), r));
    allgatherv_from_host(
        comm_, View<const V, 1, HostSpace>(local.data(), Extents<1>{static_cast<index_t>(local.size())}),
        View<V, 1, HostSpace>(all.data(), Extents<1>{static_cast<index_t>(all.size())}), counts);
  }

  Exec exec_;
  LearnedPrimalDual<Op>* net_;
  EllipseDataOptions data_;
  nn::train::Adam<T> adam_;
  index_t batch_;
  Comm comm_;
  LpdStepTiming timing_;
  std::uint64_t initial_weights_ = 0;  // fingerprint of the initial weights (0: the seeded initialisation)
  std::uint64_t first_training_sample_ = 0;
  std::vector<T> truth_, data_buffer_, output_, gradient_, local_gradients_, gradients_;
  std::vector<double> local_losses_;
};

}  // namespace pnpdist::learned
