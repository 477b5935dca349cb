// The CT projectors choose their kernel forms by the executor's launch policy (KernelForm,
// backend/launch_policy.hpp), not by its memory space: on PerElementSerial, a host executor whose policy asks
// for the per-element forms, they launch the device kernels (the ray-driven 2D forward projection, the
// voxel-driven gather back projection, the element-wise transposes) and never the coarse ones, natively on the
// host; the results equal Serial's coarse forms to round-off and pass the dot-product test. 2D parallel and
// fan beam, 3D parallel and cone beam, sizes large enough for the grouped paths, float and double.
#include <catch2/catch.hpp>

#include <pnpdist/operators/adjoint_check.hpp>
#include <pnpdist/physics/ct/ct.hpp>
#include <pnpdist/tensor/random.hpp>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>
#include <type_traits>

#include "support/per_element_serial.hpp"
#include "support/relative_difference.hpp"

using namespace pnpdist;
using test::PerElementSerial;

namespace {

constexpr double pi = std::numbers::pi;

/// The projector of `g` on PerElementSerial against the one on Serial: forward and back projection to
/// round-off (`tolerance`, relative to the largest value) and the dot-product test; returns nothing, records
/// the launched kernels in test::per_element_serial_launches().
template <class T, class Geometry>
void check_against_serial(const Geometry& g, double tolerance) {
  const auto serial = ct::make_projector<T>(Serial{}, g);
  const auto elements = ct::make_projector<T>(PerElementSerial{}, g);
  using Domain = Tensor<T, std::remove_cvref_t<decltype(serial)>::domain_rank, HostSpace>;
  using Range = Tensor<T, std::remove_cvref_t<decltype(serial)>::range_rank, HostSpace>;
  Domain x(serial.domain_shape()), back_serial(serial.domain_shape()), back_elements(serial.domain_shape());
  Range y(serial.range_shape()), forward_serial(serial.range_shape()), forward_elements(serial.range_shape());
  fill_uniform(Serial{}, x.view(), 11, 0, T(0), T(1));
  fill_uniform(Serial{}, y.view(), 12, 0, T(-1), T(1));
  // Stale values in the outputs: every form must overwrite them.
  fill(Serial{}, forward_elements.view(), T(7));
  fill(Serial{}, back_elements.view(), T(-7));

  test::per_element_serial_launches().clear();
  serial.apply(x.const_view(), forward_serial.view());
  elements.apply(x.const_view(), forward_elements.view());
  serial.apply_adjoint(y.const_view(), back_serial.view());
  elements.apply_adjoint(y.const_view(), back_elements.view());
  CHECK(test::relative_max_difference(forward_elements, forward_serial) <= tolerance);
  CHECK(test::relative_max_difference(back_elements, back_serial) <= tolerance);
  CHECK(adjoint_check(elements, 5).passed(std::is_same_v<T, float> ? 1e-6 : 1e-14));
}

ct::Geometry2D parallel_2d() {
  return ct::parallel_beam_2d(ct::uniform_angles(13, 0.1, pi + 0.1), {45, 1.3, 2.1}, {40, 44, 1.0, 1.0});
}
ct::Geometry2D fan_2d() {
  return ct::fan_beam_2d(ct::uniform_angles(6, 0.3, 2 * pi + 0.3), {51, 1.3, 0.2}, 120.0, 60.0, {36, 41, 1.0, 1.0});
}
ct::Geometry3D cone_3d() {
  return ct::cone_beam(ct::uniform_angles(5, 0.1, 2 * pi + 0.1), {23, 26, 1.6, 1.6, 0.3, -0.2}, 80.0, 60.0,
                       {26, 28, 30, 1.0, 1.0, 1.0});
}
ct::Geometry3D parallel_3d() {
  return ct::parallel_beam_3d(ct::uniform_angles(7, 0, pi), {11, 15, 1.1, 0.8, 0.4, 0.3}, {9, 10, 13, 1.0, 1.2, 0.8});
}

}  // namespace

TEST_CASE("the kernel form is the launch policy's", "[ct][kernel_form]") {
  STATIC_REQUIRE(kernel_form_v<Serial> == KernelForm::coarse);
  STATIC_REQUIRE(kernel_form_v<OpenMP> == KernelForm::coarse);
  STATIC_REQUIRE(kernel_form_v<PerElementSerial> == KernelForm::per_element);
  STATIC_REQUIRE(is_host_executor_v<PerElementSerial>);
}

TEMPLATE_TEST_CASE("CT projectors on a host executor with per-element forms launch the device kernels",
                   "[ct][kernel_form]", float, double) {
  const double tolerance = std::is_same_v<TestType, float> ? 1e-5 : 1e-12;
  SECTION("2D parallel beam, both dominant axes") { check_against_serial<TestType>(parallel_2d(), tolerance); }
  SECTION("2D fan beam") { check_against_serial<TestType>(fan_2d(), tolerance); }
  // The 2D forward projection is ray-driven, the back projection the gather, the transposes element-wise.
  for (const char* kernel : {"JosephForwardRays", "JosephBlockRays", "JosephGatherAdjoint", "SwapLastAxesElements"}) {
    INFO(kernel);
    CHECK(test::per_element_serial_launched(kernel));
  }
  for (const char* kernel : {"JosephForward2D", "JosephBlockAdjoint", "12SwapLastAxesI"}) {
    INFO(kernel << " (a coarse form) launched");
    CHECK_FALSE(test::per_element_serial_launched(kernel));
  }
}

TEMPLATE_TEST_CASE("3D CT projectors on a host executor with per-element forms launch the device kernels",
                   "[ct][kernel_form]", float, double) {
  const double tolerance = std::is_same_v<TestType, float> ? 1e-5 : 1e-12;
  SECTION("3D cone beam") { check_against_serial<TestType>(cone_3d(), tolerance); }
  SECTION("3D parallel beam") { check_against_serial<TestType>(parallel_3d(), tolerance); }
  // The 3D forward projection has one form (patches of rays); the back projection is the gather.
  for (const char* kernel : {"JosephForward3D", "JosephBlockRays", "JosephGatherAdjoint"}) {
    INFO(kernel);
    CHECK(test::per_element_serial_launched(kernel));
  }
  for (const char* kernel : {"JosephBlockAdjoint", "12SwapLastAxesI"}) {
    INFO(kernel << " (a coarse form) launched");
    CHECK_FALSE(test::per_element_serial_launched(kernel));
  }
}
