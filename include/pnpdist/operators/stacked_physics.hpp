#pragma once
/// \file
/// Stacks of linear operators A_1 .. A_N over one domain, with their measurements y_1 .. y_N:
///
///   StackedPhysics<Op>            a runtime-sized stack of one operator type (std::vector<Op>)
///   StackedPhysicsTuple<Ops...>   a compile-time stack of different operator types (std::tuple)
///
/// Both satisfy the Physics concept (operators/physics.hpp) and provide
///
///   forward(x, ys)        y_i = A_i x for every i (all measurements)
///   adjoint(ys, x)        x = sum_i A_i^T y_i
///   data_fidelity(x)      f(x) = 1/2 sum_i ||A_i x - y_i||^2, accumulated in double
///   gradient(x, g)        g = sum_i A_i^T (A_i x - y_i)
///   simulate(x, options)  y_i = clamp(A_i x + sigma n_i), n_i standard normal from the counter-based stream
///                         (options.seed, options.stream_of(i)): give each operator its global index as
///                         stream, and its noise never depends on which process holds it.
///
/// StackedOperator<Op> (stacked_operator(physics)) is the stack as one LinearOperator from the domain to the
/// concatenation of all measurements (rank 1), for the dot-product test and the power method (||A||^2 of the
/// stacked operator is the largest eigenvalue of sum_i A_i^T A_i).
///
/// Guarantees: the gradient is the sum of the operators' own exact adjoints applied to the residuals, in
/// operator order; memory: one range-shaped buffer per operator and one domain-shaped buffer, allocated on
/// the first call and reused (an instance must not be used from several threads at once).
/// Errors: an empty stack, operators with different domain shapes, or a measurement whose shape is not its
/// operator's range shape (a channel mismatch, say) throw dimension_mismatch / invalid_argument naming the
/// operator index and the shapes.

#include <cstdint>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/types.hpp"
#include "pnpdist/operators/linear_operator.hpp"
#include "pnpdist/tensor/algebra.hpp"
#include "pnpdist/tensor/owning_tensor.hpp"
#include "pnpdist/tensor/random.hpp"
#include "pnpdist/tensor/reductions.hpp"

namespace pnpdist {

/// How measurements are simulated: y_i = A_i x + noise_sigma * n_i, then clamped to [low, high] when
/// `clamp` is set. n_i is drawn from the stream (seed, stream_of(i)): streams[i] when `streams` is given (the
/// global indices of the operators a process holds, say), first_stream + i otherwise.
struct MeasurementSimulation {
  double noise_sigma = 0.0;
  std::uint64_t seed = 0;
  std::uint64_t first_stream = 0;
  bool clamp = false;
  double low = 0.0;
  double high = 1.0;
  std::vector<std::uint64_t> streams = {};

  /// The noise stream of operator i of the stack. Throws invalid_argument when `streams` is given and
  /// has no entry i.
  [[nodiscard]] std::uint64_t stream_of(std::size_t i) const {
    if (streams.empty()) return first_stream + i;
    require(i < streams.size(), [&] {
      return "MeasurementSimulation: " + std::to_string(streams.size()) + " streams given for operator " +
             std::to_string(i);
    });
    return streams[i];
  }
};

namespace detail {

/// y = A x + sigma n (stream `stream`), clamped if requested.
template <LinearOperator Op>
inline void simulate_one(const Op& op, const const_domain_view_t<Op>& x, const range_view_t<Op>& y,
                         const MeasurementSimulation& options, std::uint64_t stream) {
  using T = typename Op::value_type;
  op.apply(x, y);
  if (options.noise_sigma > 0)
    add_gaussian_noise(op.executor(), y, static_cast<T>(options.noise_sigma), options.seed, stream);
  if (options.clamp) clamp(op.executor(), y, static_cast<T>(options.low), static_cast<T>(options.high));
}

/// Checks that operator `index` maps `domain` and that its measurement has its range shape.
template <LinearOperator Op, std::size_t DomainRank, class Measurement>
inline void check_stack_member(const Op& op, std::size_t index, const Extents<DomainRank>& domain,
                               const Measurement* measurement) {
  require<dimension_mismatch>(op.domain_shape() == domain, [&] {
    return "StackedPhysics: operator " + std::to_string(index) + " has domain " + to_string(op.domain_shape()) +
           ", operator 0 has " + to_string(domain) + "; a stack needs one domain";
  });
  if (measurement != nullptr)
    require<dimension_mismatch>(measurement->extents() == op.range_shape(), [&] {
      return "StackedPhysics: measurement " + std::to_string(index) + " has shape " +
             to_string(measurement->extents()) + ", operator " + std::to_string(index) + " produces " +
             to_string(op.range_shape());
    });
}

/// Work buffers of one stack member.
template <LinearOperator Op>
struct StackBuffers {
  range_tensor_t<Op> residual;
  void ensure(const Op& op) {
    if (residual.data() == nullptr) residual = range_tensor_t<Op>(op.range_shape());
  }
};

/// 1/2 ||A x - y||^2, with the residual left in `buffers`.
template <LinearOperator Op>
inline double member_fidelity(const Op& op, const const_domain_view_t<Op>& x, const const_range_view_t<Op>& y,
                              StackBuffers<Op>& buffers) {
  using T = typename Op::value_type;
  buffers.ensure(op);
  op.apply(x, buffers.residual.view());
  axpy(op.executor(), T(-1), y, buffers.residual.view());
  return 0.5 * static_cast<double>(squared_norm(op.executor(), buffers.residual.const_view()));
}

/// g = A^T (A x - y) (first member) or g += A^T (A x - y), using `scratch` (domain-shaped) for the latter.
template <LinearOperator Op, class Scratch>
inline void member_gradient(const Op& op, const const_domain_view_t<Op>& x, const const_range_view_t<Op>& y,
                            StackBuffers<Op>& buffers, Scratch& scratch, const domain_view_t<Op>& g, bool first) {
  using T = typename Op::value_type;
  buffers.ensure(op);
  op.apply(x, buffers.residual.view());
  axpy(op.executor(), T(-1), y, buffers.residual.view());
  if (first) {
    op.apply_adjoint(buffers.residual.const_view(), g);
    return;
  }
  if (scratch.data() == nullptr) scratch = domain_tensor_t<Op>(op.domain_shape());
  op.apply_adjoint(buffers.residual.const_view(), scratch.view());
  axpy(op.executor(), T(1), scratch.const_view(), g);
}

/// A copy of `operators` for a stack that holds its operators by value. An operator type that cannot be
/// copied (one owning a std::unique_ptr, say) stops the compilation here with one message naming the ways
/// out, instead of the standard library's errors from inside std::vector's copy.
template <class Op>
[[nodiscard]] inline std::vector<Op> copy_of_operators(const std::vector<Op>& operators) {
  static_assert(std::is_copy_constructible_v<Op>,
                "pnpdist::StackedPhysics holds its operators by value, and this operator type is not copyable: "
                "move the vector in (StackedPhysics(std::move(operators))), or stack references to operators "
                "that outlive the stack (std::vector<pnpdist::OperatorRef<Op>> of pnpdist::operator_ref(op))");
  if constexpr (std::is_copy_constructible_v<Op>)
    return operators;
  else
    return {};
}

}  // namespace detail

/// A runtime-sized stack of operators of one type with their measurements (see the file comment).
template <LinearOperator Op>
class StackedPhysics {
public:
  using operator_type = Op;
  using value_type = typename Op::value_type;
  using executor_type = typename Op::executor_type;
  using memory_space = operator_space_t<Op>;
  using measurement_type = range_tensor_t<Op>;
  static constexpr std::size_t domain_rank = Op::domain_rank;
  static constexpr std::size_t range_rank = Op::range_rank;

  /// A stack without measurements yet (simulate() or set_measurements() provides them), owning the
  /// operators moved in.
  explicit StackedPhysics(std::vector<Op>&& operators) : operators_(std::move(operators)) {
    require(!operators_.empty(), "StackedPhysics: the stack has no operator");
    for (std::size_t i = 0; i < operators_.size(); ++i)
      detail::check_stack_member(operators_[i], i, operators_[0].domain_shape(),
                                 static_cast<const measurement_type*>(nullptr));
    buffers_.resize(operators_.size());
  }
  /// The same with copies of `operators`: a compile error naming the ways out when Op is not copyable.
  explicit StackedPhysics(const std::vector<Op>& operators) : StackedPhysics(detail::copy_of_operators(operators)) {}
  /// A stack with one measurement per operator, of its range shape.
  StackedPhysics(std::vector<Op>&& operators, std::vector<measurement_type> measurements)
      : StackedPhysics(std::move(operators)) {
    set_measurements(std::move(measurements));
  }
  /// The same with copies of `operators` (Op must be copyable, as above).
  StackedPhysics(const std::vector<Op>& operators, std::vector<measurement_type> measurements)
      : StackedPhysics(detail::copy_of_operators(operators)) {
    set_measurements(std::move(measurements));
  }

  [[nodiscard]] std::size_t size() const noexcept { return operators_.size(); }
  [[nodiscard]] const Op& op(std::size_t i) const { return operators_.at(i); }
  [[nodiscard]] const std::vector<Op>& operators() const noexcept { return operators_; }
  [[nodiscard]] bool has_measurements() const noexcept { return !measurements_.empty(); }
  [[nodiscard]] const measurement_type& measurement(std::size_t i) const { return measurements_.at(i); }
  [[nodiscard]] Extents<domain_rank> domain_shape() const { return operators_[0].domain_shape(); }
  [[nodiscard]] executor_type executor() const { return operators_[0].executor(); }

  /// Replaces the measurements (one per operator, of its range shape).
  void set_measurements(std::vector<measurement_type> measurements) {
    require<dimension_mismatch>(measurements.size() == operators_.size(), [&] {
      return "StackedPhysics: " + std::to_string(measurements.size()) + " measurements for " +
             std::to_string(operators_.size()) + " operators";
    });
    for (std::size_t i = 0; i < operators_.size(); ++i)
      detail::check_stack_member(operators_[i], i, domain_shape(), &measurements[i]);
    measurements_ = std::move(measurements);
  }

  /// Simulates and stores y_i = clamp(A_i x + sigma n_i) (see MeasurementSimulation).
  void simulate(const View<const value_type, domain_rank, memory_space>& x, const MeasurementSimulation& options) {
    std::vector<measurement_type> ys;
    ys.reserve(operators_.size());
    for (std::size_t i = 0; i < operators_.size(); ++i) {
      ys.emplace_back(operators_[i].range_shape());
      detail::simulate_one(operators_[i], x, ys.back().view(), options, options.stream_of(i));
    }
    measurements_ = std::move(ys);
  }

  /// y_i = A_i x for every operator; `ys` holds one view per operator.
  void forward(const View<const value_type, domain_rank, memory_space>& x,
               const std::vector<range_view_t<Op>>& ys) const {
    require<dimension_mismatch>(ys.size() == operators_.size(), [&] {
      return "StackedPhysics::forward: " + std::to_string(ys.size()) + " outputs for " +
             std::to_string(operators_.size()) + " operators";
    });
    for (std::size_t i = 0; i < operators_.size(); ++i) operators_[i].apply(x, ys[i]);
  }

  /// x = sum_i A_i^T y_i.
  void adjoint(const std::vector<const_range_view_t<Op>>& ys,
               const View<value_type, domain_rank, memory_space>& x) const {
    require<dimension_mismatch>(ys.size() == operators_.size(), [&] {
      return "StackedPhysics::adjoint: " + std::to_string(ys.size()) + " inputs for " +
             std::to_string(operators_.size()) + " operators";
    });
    operators_[0].apply_adjoint(ys[0], x);
    for (std::size_t i = 1; i < operators_.size(); ++i) {
      if (scratch_.data() == nullptr) scratch_ = domain_tensor_t<Op>(domain_shape());
      operators_[i].apply_adjoint(ys[i], scratch_.view());
      axpy(executor(), value_type(1), scratch_.const_view(), x);
    }
  }

  /// 1/2 sum_i ||A_i x - y_i||^2 (double). Throws invalid_argument when there are no measurements.
  [[nodiscard]] double data_fidelity(const View<const value_type, domain_rank, memory_space>& x) const {
    require_measurements("data_fidelity");
    double total = 0;
    for (std::size_t i = 0; i < operators_.size(); ++i)
      total += detail::member_fidelity(operators_[i], x, measurements_[i].const_view(), buffers_[i]);
    return total;
  }

  /// g = sum_i A_i^T (A_i x - y_i), overwriting g.
  void gradient(const View<const value_type, domain_rank, memory_space>& x,
                const View<value_type, domain_rank, memory_space>& g) const {
    require_measurements("gradient");
    require<dimension_mismatch>(x.extents() == domain_shape() && g.extents() == domain_shape(), [&] {
      return "StackedPhysics::gradient: expected x and g of shape " + to_string(domain_shape()) + ", got " +
             to_string(x.extents()) + " and " + to_string(g.extents());
    });
    for (std::size_t i = 0; i < operators_.size(); ++i)
      detail::member_gradient(operators_[i], x, measurements_[i].const_view(), buffers_[i], scratch_, g, i == 0);
  }

private:
  void require_measurements(const char* what) const {
    require(has_measurements(), [&] {
      return std::string("StackedPhysics::") + what + ": no measurements (call simulate or set_measurements)";
    });
  }

  std::vector<Op> operators_;
  std::vector<measurement_type> measurements_;
  mutable std::vector<detail::StackBuffers<Op>> buffers_;
  mutable domain_tensor_t<Op> scratch_;
};

/// A compile-time stack of operators of different types sharing value type, executor and domain (see
/// the file comment).
template <LinearOperator First, LinearOperator... Rest>
class StackedPhysicsTuple {
  static_assert((std::is_same_v<typename First::value_type, typename Rest::value_type> && ...),
                "StackedPhysicsTuple: the operators have different value types");
  static_assert((std::is_same_v<typename First::executor_type, typename Rest::executor_type> && ...),
                "StackedPhysicsTuple: the operators have different executors");
  static_assert(((First::domain_rank == Rest::domain_rank) && ...),
                "StackedPhysicsTuple: the operators have domains of different ranks");

public:
  using value_type = typename First::value_type;
  using executor_type = typename First::executor_type;
  using memory_space = operator_space_t<First>;
  using measurements_type = std::tuple<range_tensor_t<First>, range_tensor_t<Rest>...>;
  static constexpr std::size_t domain_rank = First::domain_rank;
  static constexpr std::size_t count = 1 + sizeof...(Rest);

  /// The operators without measurements.
  explicit StackedPhysicsTuple(First first, Rest... rest) : operators_(std::move(first), std::move(rest)...) {
    check(static_cast<const measurements_type*>(nullptr), std::make_index_sequence<count>{});
  }
  /// The operators and one measurement each.
  StackedPhysicsTuple(std::tuple<First, Rest...> operators, measurements_type measurements)
      : operators_(std::move(operators)) {
    set_measurements(std::move(measurements));
  }

  [[nodiscard]] static constexpr std::size_t size() noexcept { return count; }
  template <std::size_t I>
  [[nodiscard]] const auto& op() const noexcept {
    return std::get<I>(operators_);
  }
  template <std::size_t I>
  [[nodiscard]] const auto& measurement() const noexcept {
    return std::get<I>(measurements_);
  }
  [[nodiscard]] Extents<domain_rank> domain_shape() const { return std::get<0>(operators_).domain_shape(); }
  [[nodiscard]] executor_type executor() const { return std::get<0>(operators_).executor(); }

  void set_measurements(measurements_type measurements) {
    check(&measurements, std::make_index_sequence<count>{});
    measurements_ = std::move(measurements);
    has_measurements_ = true;
  }

  /// Simulates and stores the measurements (stream options.stream_of(i) for operator i).
  void simulate(const View<const value_type, domain_rank, memory_space>& x, const MeasurementSimulation& options) {
    simulate_all(x, options, std::make_index_sequence<count>{});
    has_measurements_ = true;
  }

  /// y_i = A_i x; `ys` is a tuple of one output view per operator.
  template <class... Views>
  void forward(const View<const value_type, domain_rank, memory_space>& x, const std::tuple<Views...>& ys) const {
    static_assert(sizeof...(Views) == count, "StackedPhysicsTuple::forward: one output per operator");
    forward_all(x, ys, std::make_index_sequence<count>{});
  }

  /// x = sum_i A_i^T y_i; `ys` is a tuple of one input view per operator.
  template <class... Views>
  void adjoint(const std::tuple<Views...>& ys, const View<value_type, domain_rank, memory_space>& x) const {
    static_assert(sizeof...(Views) == count, "StackedPhysicsTuple::adjoint: one input per operator");
    adjoint_all(ys, x, std::make_index_sequence<count>{});
  }

  [[nodiscard]] double data_fidelity(const View<const value_type, domain_rank, memory_space>& x) const {
    require(has_measurements_, "StackedPhysicsTuple::data_fidelity: no measurements");
    return fidelity_all(x, std::make_index_sequence<count>{});
  }

  void gradient(const View<const value_type, domain_rank, memory_space>& x,
                const View<value_type, domain_rank, memory_space>& g) const {
    require(has_measurements_, "StackedPhysicsTuple::gradient: no measurements");
    require<dimension_mismatch>(x.extents() == domain_shape() && g.extents() == domain_shape(), [&] {
      return "StackedPhysicsTuple::gradient: expected x and g of shape " + to_string(domain_shape()) + ", got " +
             to_string(x.extents()) + " and " + to_string(g.extents());
    });
    gradient_all(x, g, std::make_index_sequence<count>{});
  }

private:
  template <std::size_t... I>
  void check(const measurements_type* measurements, std::index_sequence<I...>) const {
    (detail::check_stack_member(std::get<I>(operators_), I, domain_shape(),
                                measurements ? &std::get<I>(*measurements) : nullptr),
     ...);
  }
  template <std::size_t... I>
  void simulate_all(const View<const value_type, domain_rank, memory_space>& x, const MeasurementSimulation& options,
                    std::index_sequence<I...>) {
    ((std::get<I>(measurements_) =
          range_tensor_t<std::tuple_element_t<I, std::tuple<First, Rest...>>>(std::get<I>(operators_).range_shape()),
      detail::simulate_one(std::get<I>(operators_), x, std::get<I>(measurements_).view(), options,
                           options.stream_of(I))),
     ...);
  }
  template <class Ys, std::size_t... I>
  void forward_all(const View<const value_type, domain_rank, memory_space>& x, const Ys& ys,
                   std::index_sequence<I...>) const {
    (std::get<I>(operators_).apply(x, std::get<I>(ys)), ...);
  }
  template <class Ys, std::size_t... I>
  void adjoint_all(const Ys& ys, const View<value_type, domain_rank, memory_space>& x,
                   std::index_sequence<I...>) const {
    std::get<0>(operators_).apply_adjoint(std::get<0>(ys), x);
    if (scratch_.data() == nullptr) scratch_ = Tensor<value_type, domain_rank, memory_space>(domain_shape());
    ((I == 0 ? void()
             : (std::get<I>(operators_).apply_adjoint(std::get<I>(ys), scratch_.view()),
                axpy(executor(), value_type(1), scratch_.const_view(), x))),
     ...);
  }
  template <std::size_t... I>
  double fidelity_all(const View<const value_type, domain_rank, memory_space>& x, std::index_sequence<I...>) const {
    return (0.0 + ... +
            detail::member_fidelity(std::get<I>(operators_), x, std::get<I>(measurements_).const_view(),
                                    std::get<I>(buffers_)));
  }
  template <std::size_t... I>
  void gradient_all(const View<const value_type, domain_rank, memory_space>& x,
                    const View<value_type, domain_rank, memory_space>& g, std::index_sequence<I...>) const {
    (detail::member_gradient(std::get<I>(operators_), x, std::get<I>(measurements_).const_view(), std::get<I>(buffers_),
                             scratch_, g, I == 0),
     ...);
  }

  std::tuple<First, Rest...> operators_;
  measurements_type measurements_;
  bool has_measurements_ = false;
  mutable std::tuple<detail::StackBuffers<First>, detail::StackBuffers<Rest>...> buffers_;
  mutable Tensor<value_type, domain_rank, memory_space> scratch_;
};

/// The operators of a StackedPhysics as one LinearOperator: x -> (A_1 x, ..., A_N x) concatenated into a
/// rank-1 range of sum_i |range_i| elements (each block in its operator's row-major order); its adjoint is
/// sum_i A_i^T y_i. References the physics, which must outlive it.
template <LinearOperator Op>
class StackedOperator {
public:
  using value_type = typename Op::value_type;
  using executor_type = typename Op::executor_type;
  using memory_space = operator_space_t<Op>;
  static constexpr std::size_t domain_rank = Op::domain_rank;
  static constexpr std::size_t range_rank = 1;

  explicit StackedOperator(const StackedPhysics<Op>& physics) : physics_(&physics) {
    index_t offset = 0;
    for (const Op& op : physics.operators()) {
      offsets_.push_back(offset);
      offset += product(op.range_shape());
    }
    total_ = offset;
  }

  [[nodiscard]] Extents<domain_rank> domain_shape() const { return physics_->domain_shape(); }
  [[nodiscard]] Extents<1> range_shape() const { return {total_}; }
  [[nodiscard]] executor_type executor() const { return physics_->executor(); }

  void apply(const View<const value_type, domain_rank, memory_space>& x,
             const View<value_type, 1, memory_space>& y) const {
    check_apply_shapes(*this, x, y, "StackedOperator");
    std::vector<range_view_t<Op>> blocks;
    for (std::size_t i = 0; i < physics_->size(); ++i) blocks.push_back(block(y, i));
    physics_->forward(x, blocks);
  }

  void apply_adjoint(const View<const value_type, 1, memory_space>& y,
                     const View<value_type, domain_rank, memory_space>& x) const {
    check_apply_adjoint_shapes(*this, y, x, "StackedOperator");
    std::vector<const_range_view_t<Op>> blocks;
    for (std::size_t i = 0; i < physics_->size(); ++i) blocks.push_back(block(y, i));
    physics_->adjoint(blocks, x);
  }

private:
  template <class T>
  View<T, Op::range_rank, memory_space> block(const View<T, 1, memory_space>& y, std::size_t i) const {
    const Extents<Op::range_rank> shape = physics_->op(i).range_shape();
    return reshape(subview(y, Extents<1>{offsets_[i]}, Extents<1>{product(shape)}), shape);
  }

  const StackedPhysics<Op>* physics_;
  std::vector<index_t> offsets_;
  index_t total_ = 0;
};

/// The stack of `physics` as one LinearOperator (see StackedOperator).
template <LinearOperator Op>
[[nodiscard]] inline StackedOperator<Op> stacked_operator(const StackedPhysics<Op>& physics) {
  return StackedOperator<Op>(physics);
}

}  // namespace pnpdist
