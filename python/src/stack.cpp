// pnpdist.StackedOperator (any bound operators of one domain and dtype as one operator, through the library's
// StackedPhysics / StackedOperator) and pnpdist.split_views (ct::split_views: a geometry's views in contiguous
// blocks). A stack of the projectors of split_views(g, parts) is the projector of g, block by block; a stack of
// blurs is the stacked blur.

#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "operator.hpp"
#include "options.hpp"
#include "pnpdist/operators/stacked_physics.hpp"
#include "pnpdist/physics/ct/split_views.hpp"

namespace pnpdist::python {

namespace {

bool any_object(PyObject*) { return true; }

/// A member as the signatures name it (`LinearOperator`): any object, checked by construct_stack() with a
/// message naming its index.
class OperatorArg : public nb::object {
  NB_OBJECT_DEFAULT(OperatorArg, object, "LinearOperator", any_object)
};

/// A bound operator as a library operator on flat views that takes the operator's lock for each call, so
/// that a member also used on its own (from another thread) is never run concurrently.
template <class T>
struct LockedOperator : ShapedOperator<T, 1> {
  void apply(View<const T, 1> x, View<T, 1> y) const {
    const std::lock_guard<std::mutex> lock(this->op->mutex());
    ShapedOperator<T, 1>::apply(x, y);
  }
  void apply_adjoint(View<const T, 1> y, View<T, 1> x) const {
    const std::lock_guard<std::mutex> lock(this->op->mutex());
    ShapedOperator<T, 1>::apply_adjoint(y, x);
  }
};

/// The library's stack of the members (the physics must not move: the operator points to it).
template <class T>
struct Stack {
  std::unique_ptr<StackedPhysics<LockedOperator<T>>> physics;
  std::unique_ptr<StackedOperator<LockedOperator<T>>> op;

  explicit Stack(const std::vector<const LinearOperator*>& members) {
    std::vector<LockedOperator<T>> ops;
    for (const LinearOperator* m : members) ops.push_back(LockedOperator<T>{{m, m->executor()}});
    physics = std::make_unique<StackedPhysics<LockedOperator<T>>>(std::move(ops));
    op = std::make_unique<StackedOperator<LockedOperator<T>>>(*physics);
  }
};

class BoundStack : public LinearOperator {
public:
  BoundStack(std::vector<nb::object> members, std::vector<const LinearOperator*> ops, Shape range, std::string layout)
      : LinearOperator(ops[0]->dtype(), ops[0]->domain_shape(), std::move(range)),
        members_(std::move(members)),
        layout_(std::move(layout)),
        stack_(make(ops)) {}

  [[nodiscard]] HostExec executor() const override {
    return std::visit([](const auto& s) { return s.op->executor(); }, stack_);
  }
  void apply_raw(const void* x, void* y) const override {
    std::visit(
        [&](const auto& s) {
          using T = typename std::decay_t<decltype(*s.op)>::value_type;
          const index_t n = element_count(domain_shape());
          s.op->apply(View<const T, 1>(static_cast<const T*>(x), Extents<1>{n}),
                      View<T, 1>(static_cast<T*>(y), s.op->range_shape()));
        },
        stack_);
  }
  void adjoint_raw(const void* y, void* x) const override {
    std::visit(
        [&](const auto& s) {
          using T = typename std::decay_t<decltype(*s.op)>::value_type;
          const index_t n = element_count(domain_shape());
          s.op->apply_adjoint(View<const T, 1>(static_cast<const T*>(y), s.op->range_shape()),
                              View<T, 1>(static_cast<T*>(x), Extents<1>{n}));
        },
        stack_);
  }
  [[nodiscard]] const std::vector<nb::object>& members() const { return members_; }
  [[nodiscard]] const std::string& layout() const { return layout_; }

private:
  static std::variant<Stack<float>, Stack<double>> make(const std::vector<const LinearOperator*>& ops) {
    if (ops[0]->dtype() == DType::float32) return Stack<float>(ops);
    return Stack<double>(ops);
  }

  std::vector<nb::object> members_;  // keeps the Python operators alive
  std::string layout_;
  std::variant<Stack<float>, Stack<double>> stack_;
};

/// The range shape of a stack of `ops` in `layout` ('concatenate', 'stack' or 'flat', checked by the caller).
Shape stacked_range(const std::vector<const LinearOperator*>& ops, const std::string& layout) {
  const Shape& first = ops[0]->range_shape();
  index_t total = 0;
  for (const LinearOperator* op : ops) total += element_count(op->range_shape());
  if (layout == "flat") return Shape{total};
  if (layout == "stack") {
    for (std::size_t i = 1; i < ops.size(); ++i)
      if (ops[i]->range_shape() != first)
        throw nb::value_error(("layout='stack' needs equal range shapes: operators[0] has " + shape_string(first) +
                               ", operators[" + std::to_string(i) + "] " + shape_string(ops[i]->range_shape()) +
                               " (layout='concatenate' or 'flat' joins them)")
                                  .c_str());
    Shape range{static_cast<index_t>(ops.size())};
    range.insert(range.end(), first.begin(), first.end());
    return range;
  }
  if (layout == "concatenate") {
    index_t rows = 0;
    for (std::size_t i = 0; i < ops.size(); ++i) {
      const Shape& r = ops[i]->range_shape();
      if (r.size() != first.size() || !std::equal(r.begin() + 1, r.end(), first.begin() + 1))
        throw nb::value_error(("layout='concatenate' needs range shapes that differ only in the first axis: "
                               "operators[0] has " +
                               shape_string(first) + ", operators[" + std::to_string(i) + "] " + shape_string(r) +
                               " (layout='flat' joins any)")
                                  .c_str());
      rows += r[0];
    }
    Shape range = first;
    range[0] = rows;
    return range;
  }
  throw std::logic_error("stacked_range: unhandled layout " + layout);
}

void construct_stack(BoundStack* self, const std::vector<OperatorArg>& operators, const Layout& layout_name) {
  (void)layout_name.index();  // ValueError for another name, before the operators are looked at
  const std::string& layout = layout_name.value;
  if (operators.empty()) throw nb::value_error("operators must hold at least one operator");
  std::vector<const LinearOperator*> ops;
  for (std::size_t i = 0; i < operators.size(); ++i) {
    const LinearOperator* op = nullptr;
    if (!nb::try_cast<const LinearOperator*>(operators[i], op) || op == nullptr)
      throw nb::type_error(("operators[" + std::to_string(i) + "] must be a pnpdist.LinearOperator, got " +
                            nb::cast<std::string>(nb::str(operators[i].type().attr("__name__"))))
                               .c_str());
    if (!ops.empty() && op->dtype() != ops[0]->dtype())
      throw nb::type_error(("operators[" + std::to_string(i) + "] is " + dtype_name(op->dtype()) + ", operators[0] " +
                            dtype_name(ops[0]->dtype()) + ": a stack has one dtype")
                               .c_str());
    if (!ops.empty() && op->domain_shape() != ops[0]->domain_shape())
      throw nb::value_error(("operators[" + std::to_string(i) + "] has the domain " + shape_string(op->domain_shape()) +
                             ", operators[0] " + shape_string(ops[0]->domain_shape()) + ": a stack has one domain")
                                .c_str());
    ops.push_back(op);
  }
  Shape range = stacked_range(ops, layout);
  new (self)
      BoundStack(std::vector<nb::object>(operators.begin(), operators.end()), std::move(ops), std::move(range), layout);
}

template <class Geometry>
std::vector<Geometry> split(const Geometry& geometry, index_t parts) {
  return ct::split_views(geometry, parts);
}

}  // namespace

void bind_stack(nb::module_& m) {
  nb::class_<BoundStack, LinearOperator>(
      m, "StackedOperator",
      "Operators A_1 .. A_N of one domain and dtype as one operator: forward x -> (A_1 x, ..., A_N x), the "
      "members' ranges one after the other in memory; adjoint sum_i A_i^T y_i (the library's StackedPhysics). "
      "layout gives the range shape: 'concatenate' (default) joins the ranges along their first axis (the "
      "projectors of split_views(g, parts) give g's projection shape), 'stack' adds a leading axis of N equal "
      "ranges (a stack of blurs: (N, *shape)), 'flat' is (total,). The members are referenced, not copied; "
      "each is locked while it runs.")
      .def("__init__", &construct_stack, nb::arg("operators"), nb::arg("layout") = "concatenate")
      .def_prop_ro(
          "operators",
          [](const BoundStack& s) {
            std::vector<OperatorArg> members;
            for (const nb::object& m : s.members()) members.push_back(nb::borrow<OperatorArg>(m));
            return members;
          },
          "The members, in order.")
      .def_prop_ro("layout", [](const BoundStack& s) { return Layout{s.layout()}; })
      .def("__len__", [](const BoundStack& s) { return s.members().size(); });

  m.def("split_views", &split<ct::Geometry2D>, nb::arg("geometry"), nb::arg("parts"),
        "The geometry's views in `parts` contiguous blocks whose sizes differ by at most one, the larger first "
        "(100 views in 8 parts: 13, 13, 13, 13, 12, 12, 12, 12), as geometries of the same image and detector. "
        "InvalidArgument unless 1 <= parts <= views.");
  m.def("split_views", &split<ct::Geometry3D>, nb::arg("geometry"), nb::arg("parts"),
        "The 3D geometry's views in `parts` contiguous blocks (as for Geometry2D).");
}

}  // namespace pnpdist::python
