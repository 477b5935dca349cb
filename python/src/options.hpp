#pragma once
// String options of the bindings (boundary, method, filter, beam, layout) and how signatures and type stubs show
// them. Each option is a tag type with
//   name     the parameter's name, for messages;
//   values   the accepted strings;
//   literal  the type the signatures and stubs show, Literal['v0', 'v1', ...], checked at compile time to list
//            exactly `values`, in order.
// An argument of type Option<Tag> accepts any str, so that a value not in the list raises ValueError naming the
// accepted ones (index()), e.g. "boundary must be 'circular', 'same' or 'valid', got 'wrap'", not nanobind's
// TypeError; a result of that type is a str.

#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

namespace pnpdist::python {

namespace nb = nanobind;

/// True when `literal` is "Literal['v0', 'v1', ...]" of exactly `values`.
template <std::size_t N>
constexpr bool is_literal_of(std::string_view literal, const std::array<std::string_view, N>& values) {
  auto eat = [&literal](std::string_view s) {
    if (literal.substr(0, s.size()) != s) return false;
    literal.remove_prefix(s.size());
    return true;
  };
  if (!eat("Literal[")) return false;
  for (std::size_t i = 0; i < N; ++i)
    if (!(i == 0 || eat(", ")) || !eat("'") || !eat(values[i]) || !eat("'")) return false;
  return eat("]") && literal.empty();
}

/// A string option of the tag Tag (see the file comment).
template <class Tag>
struct Option {
  static_assert(is_literal_of(Tag::literal, Tag::values), "Tag::literal must list exactly Tag::values");
  std::string value;

  /// The position of the value in Tag::values; ValueError naming the accepted values otherwise.
  [[nodiscard]] std::size_t index() const {
    for (std::size_t i = 0; i < Tag::values.size(); ++i)
      if (value == Tag::values[i]) return i;
    std::string message(Tag::name);
    message += " must be ";
    for (std::size_t i = 0; i < Tag::values.size(); ++i) {
      if (i > 0) message += i + 1 == Tag::values.size() ? " or " : ", ";
      message += '\'';
      message += Tag::values[i];
      message += '\'';
    }
    message += ", got '";
    message += value;
    message += '\'';
    throw nb::value_error(message.c_str());
  }
};

/// Blur's boundary, in the order of blur::Boundary.
struct BoundaryOption {
  static constexpr const char* name = "boundary";
  static constexpr std::array<std::string_view, 3> values{"circular", "same", "valid"};
  static constexpr char literal[] = "Literal['circular', 'same', 'valid']";
};
/// Blur's method.
struct BlurMethodOption {
  static constexpr const char* name = "method";
  static constexpr std::array<std::string_view, 2> values{"direct", "fft"};
  static constexpr char literal[] = "Literal['direct', 'fft']";
};
/// The filter of fbp and fdk, in the order of ct::Filter.
struct FilterOption {
  static constexpr const char* name = "filter";
  static constexpr std::array<std::string_view, 4> values{"ram_lak", "shepp_logan", "cosine", "hann"};
  static constexpr char literal[] = "Literal['ram_lak', 'shepp_logan', 'cosine', 'hann']";
};
/// The beam of a 2D geometry: parallel or divergent (fan).
struct Beam2DOption {
  static constexpr const char* name = "beam";
  static constexpr std::array<std::string_view, 2> values{"parallel", "fan"};
  static constexpr char literal[] = "Literal['parallel', 'fan']";
};
/// The beam of a 3D geometry: parallel or divergent (cone).
struct Beam3DOption {
  static constexpr const char* name = "beam";
  static constexpr std::array<std::string_view, 2> values{"parallel", "cone"};
  static constexpr char literal[] = "Literal['parallel', 'cone']";
};
/// The range layout of a StackedOperator.
struct LayoutOption {
  static constexpr const char* name = "layout";
  static constexpr std::array<std::string_view, 3> values{"concatenate", "stack", "flat"};
  static constexpr char literal[] = "Literal['concatenate', 'stack', 'flat']";
};

using Boundary = Option<BoundaryOption>;
using BlurMethod = Option<BlurMethodOption>;
using FilterName = Option<FilterOption>;
using Beam2D = Option<Beam2DOption>;
using Beam3D = Option<Beam3DOption>;
using Layout = Option<LayoutOption>;

}  // namespace pnpdist::python

namespace nanobind::detail {

/// Option<Tag> converts as std::string does; its name in signatures is Tag::literal.
template <class Tag>
struct type_caster<pnpdist::python::Option<Tag>> {
  NB_TYPE_CASTER(pnpdist::python::Option<Tag>, const_name(Tag::literal))

  bool from_python(handle src, uint32_t flags, cleanup_list* cleanup) noexcept {
    make_caster<std::string> caster;
    if (!caster.from_python(src, flags, cleanup)) return false;
    value.value = std::move(caster.value);
    return true;
  }
  static handle from_cpp(const pnpdist::python::Option<Tag>& option, rv_policy policy, cleanup_list* cleanup) noexcept {
    return make_caster<std::string>::from_cpp(option.value, policy, cleanup);
  }
};

}  // namespace nanobind::detail
