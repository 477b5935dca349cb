// Must NOT compile (test operators_non_copyable_operator_is_diagnosed): a stack given its operators as an
// lvalue would copy them, and this operator type is not copyable. StackedPhysics stops with one static_assert
// naming the requirement and the ways out (move the vector in, or stack OperatorRef), not the standard
// library's errors from inside std::vector's copy constructor.
#include <pnpdist/operators/stacked_physics.hpp>

#include <vector>

#include "move_only_operator.hpp"

int main() {
  std::vector<MoveOnlyOperator> operators(2);
  pnpdist::StackedPhysics physics(operators);  // the mistake: std::move(operators) was meant
  return static_cast<int>(physics.size());
}
