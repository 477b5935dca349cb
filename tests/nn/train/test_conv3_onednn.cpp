// The oneDNN path of the 3x3 training convolution (nn/train/conv3_onednn.hpp) against the loops of
// conv3_train.hpp (the oracle) in float: forward with bias, backward-data and backward-weights with the bias
// gradient, plain and blocked layouts, 1 and 2 threads, odd sizes, several channel counts, batch > 1.
// Tolerance per element: 1e-6 times the sum of the absolute values of the terms summed into it (the same
// pass run on |inputs|), about 8 float epsilons of that sum: reordered sums stay inside it, a wrong tap
// or a wrong channel does not.
// bf16 (mixed precision): the oracle is the loops in float on the inputs rounded to bfloat16 here (round to
// nearest even), with the same tolerance: the products of two bf16 values are exact in float, so only the
// order of the float sums differs; the float result of the unrounded inputs lies outside it.
#include <catch2/catch.hpp>

#include <pnpdist/backend/serial.hpp>
#include <pnpdist/core/bfloat16.hpp>
#include <pnpdist/nn/train/conv3_onednn.hpp>
#include <pnpdist/nn/train/conv3_train.hpp>
#include <pnpdist/tensor/random.hpp>

#include <bit>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "train_test_support.hpp"

using namespace pnpdist;
using namespace pnpdist::nn::train;

namespace {

std::vector<float> random_floats(index_t n, std::uint64_t stream) {
  std::vector<float> v(static_cast<std::size_t>(n));
  fill_uniform(Serial{}, View<float, 1, HostSpace>(v.data(), Extents<1>{n}), 11, stream, -1.0f, 1.0f);
  return v;
}

std::vector<float> absolute(std::vector<float> v) {
  for (float& x : v) x = std::fabs(x);
  return v;
}

/// x rounded to the nearest bfloat16 (ties to even, core/bfloat16.hpp), as a float.
std::vector<float> rounded_to_bf16(std::vector<float> v) {
  for (float& x : v) x = bf16_to_float(round_to_bf16(x));
  return v;
}

/// The bfloat16 bits of each value.
std::vector<bf16_bits> bf16_of(const std::vector<float>& v) {
  std::vector<bf16_bits> bits(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) bits[i] = round_to_bf16(v[i]);
  return bits;
}

float max_scaled_difference(const std::vector<float>& a, const std::vector<float>& b, const std::vector<float>& scale) {
  float worst = 0.0f;
  for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::fabs(a[i] - b[i]) / scale[i]);
  return worst;
}

void check_close(const std::vector<float>& ours, const std::vector<float>& oracle, const std::vector<float>& scale) {
  REQUIRE(ours.size() == oracle.size());
  for (std::size_t i = 0; i < ours.size(); ++i) {
    INFO("element " << i);
    CHECK(std::fabs(ours[i] - oracle[i]) <= 1e-6f * scale[i]);
  }
}

}  // namespace

TEST_CASE("the dispatch takes oneDNN for float on host executors only where it is built", "[nn][train]") {
  CHECK_FALSE(conv3_train_uses_onednn<Serial, double>());
#if defined(PNPDIST_HAS_ONEDNN)
  CHECK(conv3_train_uses_onednn<Serial, float>() == train_conv_onednn_allowed());
#else
  CHECK_FALSE(conv3_train_uses_onednn<Serial, float>());
#endif
}

#if defined(PNPDIST_HAS_ONEDNN)

TEST_CASE("oneDNN conv3 forward, backward-data and backward-weights equal the loops", "[nn][train][onednn]") {
  const Conv3Shape s = GENERATE(Conv3Shape{2, 3, 5, 7, 9}, Conv3Shape{3, 1, 32, 13, 11}, Conv3Shape{2, 32, 32, 17, 19},
                                Conv3Shape{1, 32, 1, 5, 3}, Conv3Shape{2, 6, 2, 1, 1}, Conv3Shape{1, 7, 16, 33, 2});
  const bool blocked = GENERATE(false, true);
  const int threads = GENERATE(1, 2);
  INFO("N=" << s.batch << " Cin=" << s.in_channels << " Cout=" << s.out_channels << " H=" << s.height
            << " W=" << s.width << " blocked=" << blocked << " threads=" << threads);
  const index_t in_size = s.batch * s.in_channels * s.plane(), out_size = s.batch * s.out_channels * s.plane();
  const auto x = random_floats(in_size, 1);
  const auto w = random_floats(s.out_channels * s.in_channels * 9, 2);
  const auto b = random_floats(s.out_channels, 3);
  const auto g = random_floats(out_size, 4);  // the gradient of the output
  const auto ax = absolute(x), aw = absolute(w), ab = absolute(b), ag = absolute(g);

  std::vector<float> ours(static_cast<std::size_t>(out_size), 9.0f), oracle(ours.size()), scale(ours.size());
  onednn_conv3_forward(threads, s, x.data(), w.data(), b.data(), ours.data(), blocked);
  conv3_forward(Serial{}, s, x.data(), w.data(), b.data(), oracle.data());
  conv3_forward(Serial{}, s, ax.data(), aw.data(), ab.data(), scale.data());
  check_close(ours, oracle, scale);
  // Without a bias: zero.
  onednn_conv3_forward(threads, s, x.data(), w.data(), nullptr, ours.data(), blocked);
  conv3_forward(Serial{}, s, x.data(), w.data(), static_cast<const float*>(nullptr), oracle.data());
  check_close(ours, oracle, scale);

  // Backward passes accumulate: start both from the same nonzero values.
  std::vector<float> dx(static_cast<std::size_t>(in_size), 0.5f), dx_oracle = dx, dx_scale(dx.size(), 0.5f);
  onednn_conv3_backward_data(threads, s, g.data(), w.data(), dx.data(), blocked);
  conv3_backward_data(Serial{}, s, g.data(), w.data(), dx_oracle.data());
  conv3_backward_data(Serial{}, s, ag.data(), aw.data(), dx_scale.data());
  check_close(dx, dx_oracle, dx_scale);
  // Overwriting: the previous values of d_in do not matter.
  std::vector<float> dx_new(dx.size(), 7.0f), dx_new_oracle(dx.size(), 0.0f);
  onednn_conv3_backward_data(threads, s, g.data(), w.data(), dx_new.data(), blocked, ConvPrecision::f32, {},
                             GradientWrite::overwrite);
  conv3_backward_data(Serial{}, s, g.data(), w.data(), dx_new_oracle.data());
  check_close(dx_new, dx_new_oracle, dx_scale);

  std::vector<float> dw(w.size(), 0.25f), dw_oracle = dw, dw_scale = dw;
  std::vector<float> db(b.size(), -1.0f), db_oracle = db, db_scale(db.size(), 1.0f);
  onednn_conv3_backward_weights(threads, s, x.data(), g.data(), dw.data(), db.data(), blocked);
  conv3_backward_weights(Serial{}, s, x.data(), g.data(), dw_oracle.data(), db_oracle.data());
  conv3_backward_weights(Serial{}, s, ax.data(), ag.data(), dw_scale.data(), db_scale.data());
  check_close(dw, dw_oracle, dw_scale);
  check_close(db, db_oracle, db_scale);
  // Without a bias gradient.
  onednn_conv3_backward_weights(threads, s, x.data(), g.data(), dw.data(), nullptr, blocked);
  conv3_backward_weights(Serial{}, s, x.data(), g.data(), dw_oracle.data(), static_cast<float*>(nullptr));
  for (float& v : dw_scale) v *= 2.0f;
  check_close(dw, dw_oracle, dw_scale);
}

TEST_CASE("bf16 oneDNN conv3 equals the float loops on bf16-rounded inputs", "[nn][train][onednn][bf16]") {
  const Conv3Shape s = GENERATE(Conv3Shape{1, 32, 32, 17, 19}, Conv3Shape{2, 7, 32, 13, 11}, Conv3Shape{1, 32, 5, 9, 8});
  const int threads = GENERATE(1, 2);
  INFO("N=" << s.batch << " Cin=" << s.in_channels << " Cout=" << s.out_channels << " threads=" << threads);
  const index_t in_size = s.batch * s.in_channels * s.plane(), out_size = s.batch * s.out_channels * s.plane();
  const auto x = random_floats(in_size, 5), w = random_floats(s.out_channels * s.in_channels * 9, 6);
  const auto b = random_floats(s.out_channels, 7), g = random_floats(out_size, 8);
  const auto xr = rounded_to_bf16(x), wr = rounded_to_bf16(w), gr = rounded_to_bf16(g);
  const auto ax = absolute(xr), aw = absolute(wr), ab = absolute(b), ag = absolute(gr);
  const auto bf16 = ConvPrecision::bf16;

  std::vector<float> ours(static_cast<std::size_t>(out_size)), oracle(ours.size()), scale(ours.size()),
      unrounded(ours.size());
  try {
    onednn_conv3_forward(threads, s, x.data(), w.data(), b.data(), ours.data(), true, bf16);
  } catch (const invalid_argument& e) {
    WARN("skipped: " << e.what());  // a CPU without AVX-512: oneDNN has no bf16 convolution
    return;
  }
  conv3_forward(Serial{}, s, xr.data(), wr.data(), b.data(), oracle.data());
  conv3_forward(Serial{}, s, ax.data(), aw.data(), ab.data(), scale.data());
  conv3_forward(Serial{}, s, x.data(), w.data(), b.data(), unrounded.data());
  check_close(ours, oracle, scale);
  CHECK(max_scaled_difference(ours, unrounded, scale) > 1e-4f);  // the inputs were rounded

  std::vector<float> dx(static_cast<std::size_t>(in_size), 0.5f), dx_oracle = dx, dx_scale(dx.size(), 0.5f);
  onednn_conv3_backward_data(threads, s, g.data(), w.data(), dx.data(), true, bf16);
  conv3_backward_data(Serial{}, s, gr.data(), wr.data(), dx_oracle.data());
  conv3_backward_data(Serial{}, s, ag.data(), aw.data(), dx_scale.data());
  check_close(dx, dx_oracle, dx_scale);

  std::vector<float> dw(w.size(), 0.25f), dw_oracle = dw, dw_scale = dw;
  std::vector<float> db(b.size(), -1.0f), db_oracle = db, db_scale(db.size(), 1.0f);
  onednn_conv3_backward_weights(threads, s, x.data(), g.data(), dw.data(), db.data(), true, bf16);
  conv3_backward_weights(Serial{}, s, xr.data(), gr.data(), dw_oracle.data(), db_oracle.data());
  conv3_backward_weights(Serial{}, s, ax.data(), ag.data(), dw_scale.data(), db_scale.data());
  check_close(dw, dw_oracle, dw_scale);
  check_close(db, db_oracle, db_scale);

  // The process-wide setting routes the dispatch through bf16, and back.
  REQUIRE(train_conv_precision() == ConvPrecision::f32);
  if (train_conv_onednn_allowed()) {
    set_train_conv_precision(bf16);
    std::vector<float> dispatched(ours.size());
    conv3_train_forward(Serial{}, s, x.data(), w.data(), b.data(), dispatched.data());
    set_train_conv_precision(ConvPrecision::f32);
    check_close(dispatched, oracle, scale);
    conv3_train_forward(Serial{}, s, x.data(), w.data(), b.data(), dispatched.data());
    check_close(dispatched, unrounded, scale);
  }
}

TEST_CASE("oneDNN conv3 on channels-last sides equals the loops on the transposed tensors", "[nn][train][onednn]") {
  const Conv3Shape s = GENERATE(Conv3Shape{2, 7, 32, 13, 11}, Conv3Shape{1, 32, 32, 9, 17}, Conv3Shape{1, 32, 5, 8, 9});
  const auto precision = GENERATE(ConvPrecision::f32, ConvPrecision::bf16);
  const auto nchw = ActivationLayout::nchw, nhwc = ActivationLayout::nhwc;
  Conv3Layouts layouts = GENERATE_COPY(Conv3Layouts{nchw, nhwc}, Conv3Layouts{nhwc, nhwc}, Conv3Layouts{nhwc, nchw});
  // The primitive on channels-last or on blocked memory (reordered), or as dispatched: all equal the loops.
  layouts.primitive = GENERATE(PrimitiveLayout::automatic, PrimitiveLayout::channels_last, PrimitiveLayout::blocked);
  INFO("Cin=" << s.in_channels << " Cout=" << s.out_channels << " " << to_string(precision) << " in "
              << (layouts.in == nhwc ? "NHWC" : "NCHW") << " out " << (layouts.out == nhwc ? "NHWC" : "NCHW")
              << " primitive " << static_cast<int>(layouts.primitive));
  const index_t in_size = s.batch * s.in_channels * s.plane(), out_size = s.batch * s.out_channels * s.plane();
  auto x = random_floats(in_size, 9), w = random_floats(s.out_channels * s.in_channels * 9, 10);
  auto g = random_floats(out_size, 11);
  const auto b = random_floats(s.out_channels, 12);
  if (precision == ConvPrecision::bf16) {  // exact in bf16: the oracle is then the float loops
    x = rounded_to_bf16(x);
    w = rounded_to_bf16(w);
    g = rounded_to_bf16(g);
  }
  const auto ax = absolute(x), aw = absolute(w), ab = absolute(b), ag = absolute(g);
  const auto side = [&](const std::vector<float>& v, index_t channels, ActivationLayout layout) {
    return layout == nhwc ? pnpdist::test::to_channels_last(v, s.batch, channels, s.plane()) : v;
  };
  std::vector<float> oracle(static_cast<std::size_t>(out_size)), scale(oracle.size());
  conv3_forward(Serial{}, s, x.data(), w.data(), b.data(), oracle.data());
  conv3_forward(Serial{}, s, ax.data(), aw.data(), ab.data(), scale.data());
  std::vector<float> out(oracle.size());
  try {
    onednn_conv3_forward(1, s, side(x, s.in_channels, layouts.in).data(), w.data(), b.data(), out.data(), true,
                         precision, layouts);
  } catch (const invalid_argument& e) {
    WARN("skipped: " << e.what());  // no bf16 convolution on this CPU
    return;
  }
  check_close(out, side(oracle, s.out_channels, layouts.out), side(scale, s.out_channels, layouts.out));

  std::vector<float> dx_oracle(static_cast<std::size_t>(in_size), 0.5f), dx_scale(dx_oracle.size(), 0.5f);
  conv3_backward_data(Serial{}, s, g.data(), w.data(), dx_oracle.data());
  conv3_backward_data(Serial{}, s, ag.data(), aw.data(), dx_scale.data());
  std::vector<float> dx(dx_oracle.size(), 0.5f);
  onednn_conv3_backward_data(2, s, side(g, s.out_channels, layouts.out).data(), w.data(), dx.data(), true, precision,
                             layouts);
  check_close(dx, side(dx_oracle, s.in_channels, layouts.in), side(dx_scale, s.in_channels, layouts.in));

  std::vector<float> dw(w.size(), 0.25f), dw_oracle = dw, dw_scale = dw, db(b.size(), 0.0f), db_oracle = db;
  std::vector<float> db_scale(b.size(), 0.0f);
  conv3_backward_weights(Serial{}, s, x.data(), g.data(), dw_oracle.data(), db_oracle.data());
  conv3_backward_weights(Serial{}, s, ax.data(), ag.data(), dw_scale.data(), db_scale.data());
  onednn_conv3_backward_weights(1, s, side(x, s.in_channels, layouts.in).data(),
                                side(g, s.out_channels, layouts.out).data(), dw.data(), db.data(), true, precision,
                                layouts);
  check_close(dw, dw_oracle, dw_scale);
  check_close(db, db_oracle, db_scale);
}

TEST_CASE("bf16 oneDNN conv3 reads operands rounded to bfloat16 as it reads their float values",
          "[nn][train][onednn][bf16]") {
  // Unrounded float inputs: oneDNN rounds them (to nearest even) at each call; operands given already rounded
  // (Conv3Input) must give the same bits, on channels-last and NCHW sides.
  const Conv3Shape s = GENERATE(Conv3Shape{2, 32, 32, 9, 13}, Conv3Shape{1, 6, 32, 11, 7}, Conv3Shape{1, 32, 5, 8, 9});
  const auto nchw = ActivationLayout::nchw, nhwc = ActivationLayout::nhwc;
  const Conv3Layouts layouts = GENERATE_COPY(Conv3Layouts{nchw, nhwc}, Conv3Layouts{nhwc, nhwc}, Conv3Layouts{nhwc, nchw},
                                             Conv3Layouts{nchw, nchw});
  const auto bf16 = ConvPrecision::bf16;
  const index_t in_size = s.batch * s.in_channels * s.plane(), out_size = s.batch * s.out_channels * s.plane();
  const auto x = random_floats(in_size, 21), w = random_floats(s.out_channels * s.in_channels * 9, 22);
  const auto g = random_floats(out_size, 23), b = random_floats(s.out_channels, 24);
  const auto xr = bf16_of(x), gr = bf16_of(g);
  std::vector<float> from_float(static_cast<std::size_t>(out_size)), from_rounded(from_float.size());
  try {
    onednn_conv3_forward(1, s, x.data(), w.data(), b.data(), from_float.data(), true, bf16, layouts);
  } catch (const invalid_argument& e) {
    WARN("skipped: " << e.what());  // no bf16 convolution on this CPU
    return;
  }
  onednn_conv3_forward(1, s, xr.data(), w.data(), b.data(), from_rounded.data(), true, bf16, layouts);
  CHECK(from_rounded == from_float);

  std::vector<float> dx_float(static_cast<std::size_t>(in_size)), dx_rounded(dx_float.size());
  onednn_conv3_backward_data(1, s, g.data(), w.data(), dx_float.data(), true, bf16, layouts, GradientWrite::overwrite);
  onednn_conv3_backward_data(1, s, gr.data(), w.data(), dx_rounded.data(), true, bf16, layouts,
                             GradientWrite::overwrite);
  CHECK(dx_rounded == dx_float);

  // Either operand of backward-weights rounded, or both.
  std::vector<float> dw_float(w.size(), 0.0f), db_float(b.size(), 0.0f);
  onednn_conv3_backward_weights(1, s, x.data(), g.data(), dw_float.data(), db_float.data(), true, bf16, layouts);
  for (int which = 0; which < 3; ++which) {
    INFO("rounded operands of backward-weights: " << (which == 0 ? "in" : which == 1 ? "d_out" : "both"));
    std::vector<float> dw(w.size(), 0.0f), db(b.size(), 0.0f);
    const Conv3Input<float> in = which == 1 ? Conv3Input<float>(x.data()) : Conv3Input<float>(xr.data());
    const Conv3Input<float> d_out = which == 0 ? Conv3Input<float>(g.data()) : Conv3Input<float>(gr.data());
    onednn_conv3_backward_weights(1, s, in, d_out, dw.data(), db.data(), true, bf16, layouts);
    CHECK(dw == dw_float);
    CHECK(db == db_float);
  }

  // The dispatch passes rounded operands through in bf16 precision.
  set_train_conv_precision(bf16);
  std::vector<float> dispatched(from_float.size());
  conv3_train_forward(Serial{}, s, Conv3InputOf<float>(xr.data()), w.data(), b.data(), dispatched.data(), layouts);
  set_train_conv_precision(ConvPrecision::f32);
  CHECK(dispatched == from_float);
}

TEST_CASE("rounded operands are refused by float convolutions", "[nn][train][onednn][bf16]") {
  const Conv3Shape s{1, 2, 2, 4, 4};
  std::vector<float> w(36, 0.5f), out(32);
  std::vector<bf16_bits> x(32, round_to_bf16(1.0f));
  CHECK_THROWS_WITH(onednn_conv3_forward(1, s, x.data(), w.data(), nullptr, out.data()),
                    Catch::StartsWith("an operand rounded to bfloat16 was given to a convolution in f32 precision"));
}

#endif

TEST_CASE("the loops refuse operands rounded to bfloat16", "[nn][train]") {
  // The dispatch's loop branch (taken without oneDNN, for double or with PNPDIST_TRAIN_CONV=loops) reads
  // operands through loop_operand.
  std::vector<float> x(4, 1.0f);
  std::vector<bf16_bits> rounded(4, round_to_bf16(1.0f));
  CHECK(pnpdist::nn::train::detail::loop_operand(Conv3Input<float>(x.data()), "conv3_train_forward") == x.data());
  CHECK_THROWS_WITH(pnpdist::nn::train::detail::loop_operand(Conv3Input<float>(rounded.data()), "conv3_train_forward"),
                    Catch::StartsWith("conv3_train_forward: operands rounded to bfloat16 need the oneDNN path"));
}

#if defined(PNPDIST_HAS_ONEDNN)

TEST_CASE("oneDNN conv3 refuses non-positive shapes before running", "[nn][train][onednn]") {
  std::vector<float> v(16);
  CHECK_THROWS_WITH(onednn_conv3_forward(1, Conv3Shape{1, 0, 1, 4, 4}, v.data(), v.data(), nullptr, v.data()),
                    Catch::Contains("Cin=0"));
}

#endif

TEST_CASE("the loops' backward-data overwrites d_in when asked", "[nn][train]") {
  const Conv3Shape s{1, 2, 3, 5, 4};
  const auto g = random_floats(s.batch * s.out_channels * s.plane(), 13);
  const auto w = random_floats(s.out_channels * s.in_channels * 9, 14);
  std::vector<double> gd(g.begin(), g.end()), wd(w.begin(), w.end());
  std::vector<double> overwritten(static_cast<std::size_t>(s.batch * s.in_channels * s.plane()), 5.0);
  std::vector<double> from_zero(overwritten.size(), 0.0);
  conv3_train_backward_data(Serial{}, s, gd.data(), wd.data(), overwritten.data(), {}, GradientWrite::overwrite);
  conv3_backward_data(Serial{}, s, gd.data(), wd.data(), from_zero.data());
  CHECK(overwritten == from_zero);
}

TEST_CASE("the loops refuse channels-last layouts", "[nn][train]") {
  std::vector<double> v(64);
  const Conv3Layouts last{ActivationLayout::nhwc, ActivationLayout::nhwc};
  CHECK_THROWS_WITH(conv3_train_forward(Serial{}, Conv3Shape{1, 1, 1, 4, 4}, v.data(), v.data(), v.data(), v.data(), last),
                    Catch::Contains("channels-last layouts need the oneDNN path"));
}

TEST_CASE("conv precision names parse and bad ones are refused", "[nn][train]") {
  CHECK(parse_conv_precision("f32", "--conv-precision") == ConvPrecision::f32);
  CHECK(parse_conv_precision("bf16", "--conv-precision") == ConvPrecision::bf16);
  CHECK(std::string(to_string(ConvPrecision::bf16)) == "bf16");
  CHECK_THROWS_WITH(parse_conv_precision("fp16", "--conv-precision"),
                    Catch::StartsWith("--conv-precision must be 'f32' or 'bf16', got 'fp16'"));
}
