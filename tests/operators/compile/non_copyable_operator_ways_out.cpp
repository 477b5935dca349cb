// Must compile (test operators_non_copyable_operator_ways_out): the two ways out that the static_assert of
// non_copyable_operator_copied.cpp names, for an operator type that is not copyable.
#include <pnpdist/operators/operator_ref.hpp>
#include <pnpdist/operators/stacked_physics.hpp>

#include <type_traits>
#include <utility>
#include <vector>

#include "move_only_operator.hpp"

int main() {
  std::vector<MoveOnlyOperator> operators(2);
  // References to operators that outlive the stack.
  std::vector<pnpdist::OperatorRef<MoveOnlyOperator>> references;
  for (const MoveOnlyOperator& op : operators) references.push_back(pnpdist::operator_ref(op));
  pnpdist::StackedPhysics referencing(references);
  static_assert(std::is_same_v<decltype(referencing), pnpdist::StackedPhysics<pnpdist::OperatorRef<MoveOnlyOperator>>>);
  // The operators moved in: the stack owns them.
  pnpdist::StackedPhysics owning(std::move(operators));
  static_assert(std::is_same_v<decltype(owning), pnpdist::StackedPhysics<MoveOnlyOperator>>);
  return static_cast<int>(referencing.size() + owning.size());
}
