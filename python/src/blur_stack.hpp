#pragma once
// pnpdist.CircularBlurStack's C++ side, shared by blur.cpp (the binding) and pnp.cpp (PnP on its fused data
// term).

#include <algorithm>
#include <memory>
#include <vector>

#include "operator.hpp"
#include "pnpdist/operators/stacked_physics.hpp"
#include "pnpdist/physics/blur/circular_blur_stack.hpp"
#include "pnpdist/physics/blur/fft_blur.hpp"

namespace pnpdist::python {

/// N circular FFT blurs of one image shape with their measurements: the operator x -> (A_1 x, ..., A_N x) of
/// range (N, *shape) (StackedOperator) and the fused data term (CircularBlurStack). Built in place (the
/// operator and the fused term point to the stack), float32.
class BoundBlurStack : public LinearOperator {
public:
  using Blur = blur::FftBlur<HostExec>;

  BoundBlurStack(std::vector<Blur>&& blurs, const Shape& shape)
      : LinearOperator(DType::float32, shape, stacked_shape(blurs.size(), shape)),
        image_(blurs[0].domain_shape()),
        physics_(std::move(blurs)),
        op_(physics_) {
    std::vector<Tensor<float, 4>> zero;
    for (std::size_t i = 0; i < physics_.size(); ++i) zero.push_back(zeros<float>(physics_.executor(), image_));
    physics_.set_measurements(std::move(zero));
    fused_ = std::make_unique<blur::CircularBlurStack<HostExec>>(physics_);
  }

  [[nodiscard]] HostExec executor() const override { return physics_.executor(); }
  void apply_raw(const void* x, void* y) const override {
    op_.apply(View<const float, 4>(static_cast<const float*>(x), image_),
              View<float, 1>(static_cast<float*>(y), op_.range_shape()));
  }
  void adjoint_raw(const void* y, void* x) const override {
    op_.apply_adjoint(View<const float, 1>(static_cast<const float*>(y), op_.range_shape()),
                      View<float, 4>(static_cast<float*>(x), image_));
  }
  [[nodiscard]] std::size_t size() const { return physics_.size(); }
  /// The fused data term (its measurements are the last set).
  [[nodiscard]] const blur::CircularBlurStack<HostExec>& fused() const { return *fused_; }

  /// Replaces the measurements by the blocks of y ((N, *shape), contiguous float32); the caller holds the lock.
  void set_measurements(const float* y) {
    const index_t n = product(image_);
    std::vector<Tensor<float, 4>> measurements;
    for (std::size_t i = 0; i < physics_.size(); ++i) {
      Tensor<float, 4> m(image_);
      std::copy(y + static_cast<index_t>(i) * n, y + static_cast<index_t>(i + 1) * n, m.data());
      measurements.push_back(std::move(m));
    }
    physics_.set_measurements(std::move(measurements));
    fused_->reset_measurements();
    for (std::size_t i = 0; i < physics_.size(); ++i)
      fused_->accumulate_measurement(physics_.op(i), physics_.measurement(i).const_view());
  }
  [[nodiscard]] double data_fidelity(const float* x) const {
    return fused_->data_fidelity(View<const float, 4>(x, image_));
  }
  void gradient(const float* x, float* g) const {
    fused_->gradient(View<const float, 4>(x, image_), View<float, 4>(g, image_));
  }
  void proximal(const float* z, double weight, float* x) const {
    fused_->proximal(View<const float, 4>(z, image_), weight, View<float, 4>(x, image_));
  }

private:
  static Shape stacked_shape(std::size_t count, const Shape& shape) {
    Shape range{static_cast<index_t>(count)};
    range.insert(range.end(), shape.begin(), shape.end());
    return range;
  }

  ImageShape image_;
  StackedPhysics<Blur> physics_;
  StackedOperator<Blur> op_;
  std::unique_ptr<blur::CircularBlurStack<HostExec>> fused_;
};

}  // namespace pnpdist::python
