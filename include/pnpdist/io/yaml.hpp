#pragma once
/// \file
/// YAML documents read into the nlohmann::json tree that the JSON readers check, so that a YAML file and a
/// JSON file of the same content go through one set of field checks:
///
///   nlohmann::json tree = parse_yaml(text, "ct::read_geometry_description: 'g.yaml'", limits);
///
/// Scalars follow the YAML 1.2 core schema: a plain (unquoted) scalar is null (empty, ~, null), a boolean
/// (true, false and their capitalised forms), an integer ([-+]?[0-9]+, 0x..., 0o...; uint64 without a sign,
/// int64 with '-', a double beyond 64 bits, as nlohmann-json keeps JSON integers) or a finite decimal number
/// (std::from_chars, correctly rounded: the same double as nlohmann-json parses from the same digits); anything
/// else, .inf and .nan included, and every quoted or !!str scalar is a string. Mapping keys are scalars kept as text.
///
/// Bounds, checked while the parser's events arrive, before the tree grows past them: collections nested
/// deeper than ReadLimits::max_json_depth are refused at the first event beyond it (the parser's recursion goes
/// no deeper); the tree, with every alias expanded, is charged 16 bytes per node plus the bytes of its keys and
/// scalars, and may not exceed ReadLimits::max_yaml_expanded_bytes (default 4 MiB; an alias is charged its
/// anchor's whole size before it is copied, so that nested aliases, "billion laughs", are refused without being
/// expanded). The tree in memory takes a small multiple of the charge (a heap block per string and collection,
/// and one more copy of every anchored node), so the cap, not the size of the text (bounded by the caller), bounds
/// the memory of a parse.
///
/// Errors, all io_error starting with `context`: malformed YAML (yaml-cpp's message, with line and column), a
/// scalar or key that is not valid UTF-8 (yaml-cpp passes such bytes through; a JSON tree holds only UTF-8),
/// more than one document, a key that is not a scalar, a key given twice, a tag other than the core schema's
/// str, seq and map, an alias to an anchor not yet complete, and the bounds above. Without the pnpdist::yaml
/// component (PNPDIST_HAS_YAML, yaml-cpp) parse_yaml throws not_compiled naming it.

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "pnpdist/core/errors.hpp"
#include "pnpdist/io/read_limits.hpp"

#if defined(PNPDIST_HAS_YAML)
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>
#endif

namespace pnpdist {

namespace detail {

/// The JSON value of a plain YAML scalar under the core schema (file comment).
[[nodiscard]] inline nlohmann::json yaml_plain_scalar(const std::string& s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  const auto digits = [](std::string_view t, int base) {
    if (t.empty()) return false;
    for (const char c : t) {
      const bool ok = base == 16 ? std::isxdigit(static_cast<unsigned char>(c)) != 0
                                 : c >= '0' && c < static_cast<char>('0' + base);
      if (!ok) return false;
    }
    return true;
  };
  const std::string_view body = !s.empty() && (s[0] == '+' || s[0] == '-') ? std::string_view(s).substr(1) : s;
  const bool negative = s[0] == '-';
  for (const auto& [prefix, base] : {std::pair{"0x", 16}, std::pair{"0o", 8}}) {
    const std::string_view t(s);
    if (t.size() > 2 && t.substr(0, 2) == prefix && digits(t.substr(2), base)) {
      std::uint64_t v = 0;
      const auto r = std::from_chars(t.data() + 2, t.data() + t.size(), v, base);
      return r.ec == std::errc{} ? nlohmann::json(v) : nlohmann::json(s);
    }
  }
  if (digits(body, 10)) {
    // As nlohmann-json keeps JSON integers: unsigned without a sign, signed with '-'; a double beyond 64 bits.
    std::uint64_t u = 0;
    if (!negative && std::from_chars(body.data(), body.data() + body.size(), u).ec == std::errc{}) return u;
    std::int64_t i = 0;
    if (negative && std::from_chars(s.data(), s.data() + s.size(), i).ec == std::errc{}) return i;
  }
  // [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
  std::size_t k = 0, mantissa = 0;
  while (k < body.size() && body[k] >= '0' && body[k] <= '9') ++k, ++mantissa;
  if (k < body.size() && body[k] == '.') {
    ++k;
    while (k < body.size() && body[k] >= '0' && body[k] <= '9') ++k, ++mantissa;
  }
  bool number = mantissa > 0;
  if (number && k < body.size() && (body[k] == 'e' || body[k] == 'E')) {
    ++k;
    if (k < body.size() && (body[k] == '+' || body[k] == '-')) ++k;
    const std::size_t start = k;
    while (k < body.size() && body[k] >= '0' && body[k] <= '9') ++k;
    number = k > start;
  }
  if (number && k == body.size()) {
    double v = 0;
    // from_chars takes no leading '+'; the sign is applied after, exactly.
    const auto r = std::from_chars(body.data(), body.data() + body.size(), v);
    if (r.ec == std::errc{} && r.ptr == body.data() + body.size() && std::isfinite(v))
      return negative ? -v : v;
  }
  return s;
}

/// The offset of the first byte of `s` that does not belong to a well-formed UTF-8 sequence (overlong forms,
/// surrogates and code points above U+10FFFF are not), or npos when `s` is valid UTF-8.
[[nodiscard]] inline std::size_t invalid_utf8_offset(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      ++i;
      continue;
    }
    // The length and the allowed range of the second byte (Unicode Table 3-7).
    std::size_t n = 0;
    unsigned char low = 0x80, high = 0xBF;
    if (b >= 0xC2 && b <= 0xDF) n = 2;
    else if (b == 0xE0) n = 3, low = 0xA0;
    else if (b == 0xED) n = 3, high = 0x9F;
    else if (b >= 0xE1 && b <= 0xEF) n = 3;
    else if (b == 0xF0) n = 4, low = 0x90;
    else if (b == 0xF4) n = 4, high = 0x8F;
    else if (b >= 0xF1 && b <= 0xF3) n = 4;
    else return i;
    if (i + n > s.size()) return i;
    for (std::size_t k = 1; k < n; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if (c < (k == 1 ? low : 0x80) || c > (k == 1 ? high : 0xBF)) return i;
    }
    i += n;
  }
  return std::string_view::npos;
}

#if defined(PNPDIST_HAS_YAML)
/// Builds the JSON tree from yaml-cpp's parser events under the bounds of the file comment.
class YamlToJson final : public YAML::EventHandler {
public:
  YamlToJson(std::string context, const ReadLimits& limits) : context_(std::move(context)), limits_(limits) {}

  [[nodiscard]] nlohmann::json take() { return std::move(root_); }

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    if (key_expected()) fail(mark, "a mapping key must be a scalar, got an empty (null) key");
    const std::uint64_t start = used_;
    charge(node_bytes, mark);
    add(nullptr, anchor, start);
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    if (key_expected()) fail(mark, "a mapping key must be a scalar, got an alias");
    const auto it = anchors_.find(anchor);
    if (it == anchors_.end()) fail(mark, "an alias refers to an anchor whose node is not complete");
    charge(it->second.second, mark);  // before the copy
    place(nlohmann::json(it->second.first), mark);
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    const bool text = tag == "!" || tag == "tag:yaml.org,2002:str";
    if (!text && tag != "?") fail(mark, "tag '" + tag + "' is not supported (the core schema's str, seq, map only)");
    if (const std::size_t bad = invalid_utf8_offset(value); bad != std::string_view::npos)
      fail(mark, "a scalar is not valid UTF-8 (byte " + std::to_string(bad) + " of it)");
    const std::uint64_t start = used_;
    charge(node_bytes + value.size(), mark);
    if (key_expected()) {
      Open& top = stack_.back();
      if (top.value.contains(value)) fail(mark, "key '" + value + "' is given twice");
      top.key = value;
      top.has_key = true;
      if (anchor != YAML::NullAnchor) anchors_[anchor] = {nlohmann::json(value), used_ - start};
      return;
    }
    add(text ? nlohmann::json(value) : yaml_plain_scalar(value), anchor, start);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(mark, tag, "tag:yaml.org,2002:seq", anchor, nlohmann::json::array());
  }
  void OnSequenceEnd() override { close(); }

  void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(mark, tag, "tag:yaml.org,2002:map", anchor, nlohmann::json::object());
  }
  void OnMapEnd() override { close(); }

private:
  static constexpr std::uint64_t node_bytes = sizeof(nlohmann::json);

  struct Open {
    nlohmann::json value;
    YAML::anchor_t anchor;
    std::uint64_t start;  ///< used_ when it opened
    YAML::Mark mark;
    std::string key;
    bool has_key = false;
  };

  [[noreturn]] void fail(const YAML::Mark& mark, const std::string& what) const {
    throw io_error(context_ + ": line " + std::to_string(mark.line + 1) + ", column " +
                   std::to_string(mark.column + 1) + ": " + what);
  }

  [[nodiscard]] bool key_expected() const {
    return !stack_.empty() && stack_.back().value.is_object() && !stack_.back().has_key;
  }

  void charge(std::uint64_t bytes, const YAML::Mark& mark) {
    const std::uint64_t cap = limits_.max_yaml_expanded_bytes;
    require<io_error>(bytes <= cap && used_ <= cap - bytes, [&] {
      return context_ + ": line " + std::to_string(mark.line + 1) + ": the document, aliases expanded, exceeds " +
             "ReadLimits::max_yaml_expanded_bytes (" + std::to_string(cap) + ", at " + std::to_string(node_bytes) +
             " bytes per node plus its text)";
    });
    used_ += bytes;
  }

  void open(const YAML::Mark& mark, const std::string& tag, const char* core_tag, YAML::anchor_t anchor,
            nlohmann::json empty) {
    if (key_expected()) fail(mark, "a mapping key must be a scalar, got a collection");
    if (tag != "?" && tag != "!" && tag != core_tag)
      fail(mark, "tag '" + tag + "' is not supported (the core schema's str, seq, map only)");
    require<io_error>(static_cast<int>(stack_.size()) < limits_.max_json_depth, [&] {
      return context_ + " nests deeper than ReadLimits::max_json_depth (" + std::to_string(limits_.max_json_depth) +
             ")";
    });
    const std::uint64_t start = used_;
    charge(node_bytes, mark);
    stack_.push_back(Open{std::move(empty), anchor, start, mark, {}, false});
  }

  void close() {
    Open done = std::move(stack_.back());
    stack_.pop_back();
    add(std::move(done.value), done.anchor, done.start);
  }

  void add(nlohmann::json value, YAML::anchor_t anchor, std::uint64_t start) {
    if (anchor != YAML::NullAnchor) anchors_[anchor] = {value, used_ - start};
    place(std::move(value), YAML::Mark());
  }

  void place(nlohmann::json value, const YAML::Mark&) {
    if (stack_.empty()) {
      root_ = std::move(value);
      return;
    }
    Open& top = stack_.back();
    if (top.value.is_array()) {
      top.value.push_back(std::move(value));
    } else {
      top.value[top.key] = std::move(value);
      top.has_key = false;
    }
  }

  std::string context_;
  const ReadLimits& limits_;
  std::vector<Open> stack_;
  std::map<YAML::anchor_t, std::pair<nlohmann::json, std::uint64_t>> anchors_;  ///< complete nodes, sizes
  nlohmann::json root_;
  std::uint64_t used_ = 0;
};
#endif

}  // namespace detail

/// The YAML document `text` as a JSON tree (file comment); `context` starts every message.
[[nodiscard]] inline nlohmann::json parse_yaml(const std::string& text, const std::string& context,
                                              const ReadLimits& limits = ReadLimits::from_environment()) {
#if defined(PNPDIST_HAS_YAML)
  std::istringstream in(text);
  detail::YamlToJson builder(context, limits);
  try {
    YAML::Parser parser(in);
    if (!parser.HandleNextDocument(builder)) return nullptr;
    detail::YamlToJson rest(context, limits);
    require<io_error>(!parser.HandleNextDocument(rest),
                      [&] { return context + " holds more than one YAML document"; });
  } catch (const YAML::Exception& e) {
    throw io_error(context + " is not valid YAML: line " + std::to_string(e.mark.line + 1) + ", column " +
                   std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
  return builder.take();
#else
  (void)text;
  (void)limits;
  throw not_compiled(context + ": YAML support was not compiled (link the pnpdist::yaml component, needs yaml-cpp)");
#endif
}

}  // namespace pnpdist
