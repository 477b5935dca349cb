#pragma once
// pnpdist.LinearOperator: the Python face of a library linear operator of one dtype. Python shapes may differ
// from the C++ ranks (a blur of (H, W) images is an N x C x H x W operator in C++) as long as the element counts
// agree: arrays are contiguous, so they are reshaped, never copied. Guarantees:
//   - forward / adjoint call the library's apply / apply_adjoint (matched adjoints) on the caller's memory,
//     writing into `out` when given, into a new array otherwise;
//   - normal computes A^T A x in one call: the operator's own fused apply_normal where it has one
//     (blur::FftBlur), otherwise apply then apply_adjoint through one range-sized scratch buffer that the
//     object allocates on its first normal() and keeps (reused by every later call, freed with the object);
//   - the GIL is released during the computation; calls on one operator are serialized by its mutex (the
//     library's operators, and the scratch buffer, are not thread-safe and must not run concurrently).

#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

#include "arrays.hpp"
#include "bindings.hpp"
#include "pnpdist/tensor/owning_tensor.hpp"
#include "pnpdist/tensor/view.hpp"

namespace pnpdist::python {

class LinearOperator {
public:
  LinearOperator(DType dtype, Shape domain, Shape range)
      : dtype_(dtype), domain_(std::move(domain)), range_(std::move(range)) {}
  virtual ~LinearOperator() = default;
  LinearOperator(const LinearOperator&) = delete;
  LinearOperator& operator=(const LinearOperator&) = delete;

  [[nodiscard]] DType dtype() const { return dtype_; }
  [[nodiscard]] const Shape& domain_shape() const { return domain_; }
  [[nodiscard]] const Shape& range_shape() const { return range_; }
  [[nodiscard]] virtual HostExec executor() const = 0;

  /// y = A x on raw contiguous memory of the operator's dtype; the caller holds mutex() and not the GIL.
  virtual void apply_raw(const void* x, void* y) const = 0;
  /// x = A^T y, likewise.
  virtual void adjoint_raw(const void* y, void* x) const = 0;
  /// out = A^T A x, likewise; out may be x. This default runs apply_raw into the scratch buffer (allocated on the
  /// first call) and adjoint_raw from it.
  virtual void normal_raw(const void* x, void* out) const;

  [[nodiscard]] std::mutex& mutex() const { return mutex_; }

  /// A x with the checks of take_array; the result is `out` or a new array.
  nb::object forward(nb::handle x, nb::handle out) const;
  /// A^T y, likewise.
  nb::object adjoint(nb::handle y, nb::handle out) const;
  /// A^T A x, likewise; `out` may be x itself (in place) but must not overlap it otherwise.
  nb::object normal(nb::handle x, nb::handle out) const;

private:
  DType dtype_;
  Shape domain_, range_;
  mutable std::mutex mutex_;
  mutable std::variant<std::monostate, Tensor<float, 1>, Tensor<double, 1>> scratch_;  // range-sized, see normal_raw
};

/// A LinearOperator holding one of the library operators Ops (value type float or double, host executor),
/// chosen at construction; the Python classes of the concrete operators (JosephProjector2D, Blur, ...) are
/// of this type.
template <class... Ops>
class BoundOperator : public LinearOperator {
public:
  using Variant = std::variant<Ops...>;
  BoundOperator(Variant op, Shape domain, Shape range)
      : LinearOperator(
            std::visit([](const auto& o) { return dtype_of<typename std::decay_t<decltype(o)>::value_type>(); }, op),
            std::move(domain), std::move(range)),
        op_(std::move(op)) {}

  [[nodiscard]] HostExec executor() const override {
    return std::visit([](const auto& op) { return HostExec(op.executor()); }, op_);
  }
  [[nodiscard]] const Variant& op() const { return op_; }

  void apply_raw(const void* x, void* y) const override {
    std::visit(
        [&](const auto& op) {
          using Op = std::decay_t<decltype(op)>;
          using T = typename Op::value_type;
          op.apply(View<const T, Op::domain_rank>(static_cast<const T*>(x), op.domain_shape()),
                   View<T, Op::range_rank>(static_cast<T*>(y), op.range_shape()));
        },
        op_);
  }
  void adjoint_raw(const void* y, void* x) const override {
    std::visit(
        [&](const auto& op) {
          using Op = std::decay_t<decltype(op)>;
          using T = typename Op::value_type;
          op.apply_adjoint(View<const T, Op::range_rank>(static_cast<const T*>(y), op.range_shape()),
                           View<T, Op::domain_rank>(static_cast<T*>(x), op.domain_shape()));
        },
        op_);
  }
  /// The operator's fused apply_normal where it has one (out may be x: FftBlur allows it), else the default.
  void normal_raw(const void* x, void* out) const override {
    std::visit(
        [&](const auto& op) {
          using Op = std::decay_t<decltype(op)>;
          using T = typename Op::value_type;
          const View<const T, Op::domain_rank> xv(static_cast<const T*>(x), op.domain_shape());
          const View<T, Op::domain_rank> ov(static_cast<T*>(out), op.domain_shape());
          if constexpr (requires { op.apply_normal(xv, ov); })
            op.apply_normal(xv, ov);
          else
            LinearOperator::normal_raw(x, out);
        },
        op_);
  }

private:
  Variant op_;
};

/// Any bound operator as a library LinearOperator of dtype T on views of rank DomainRank (the Python domain
/// shape, or its element count when DomainRank is 1) and flat range views, for the solvers. Calls apply_raw /
/// adjoint_raw directly: the caller holds the operator's mutex for the whole solve.
template <class T, std::size_t DomainRank = 1>
struct ShapedOperator {
  using value_type = T;
  using executor_type = HostExec;
  static constexpr std::size_t domain_rank = DomainRank;
  static constexpr std::size_t range_rank = 1;

  const LinearOperator* op;
  HostExec exec;

  [[nodiscard]] Extents<DomainRank> domain_shape() const {
    Extents<DomainRank> e{};
    if constexpr (DomainRank == 1) {
      e[0] = element_count(op->domain_shape());
    } else {
      for (std::size_t d = 0; d < DomainRank; ++d) e[d] = op->domain_shape()[d];
    }
    return e;
  }
  [[nodiscard]] Extents<1> range_shape() const { return {element_count(op->range_shape())}; }
  [[nodiscard]] HostExec executor() const { return exec; }
  void apply(View<const T, DomainRank> x, View<T, 1> y) const { op->apply_raw(x.data(), y.data()); }
  void apply_adjoint(View<const T, 1> y, View<T, DomainRank> x) const { op->adjoint_raw(y.data(), x.data()); }
};

}  // namespace pnpdist::python
