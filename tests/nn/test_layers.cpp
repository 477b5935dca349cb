// The layers: the direct-loop functors on analytic cases, and every oneDNN layer (each kind, with and
// without bias and post-ops, plain and blocked layouts, 2D and 3D) against the direct-loop reference.
#include <catch2/catch.hpp>

#include <pnpdist/nn/layers.hpp>
#include <pnpdist/nn/onednn_engine.hpp>
#include <pnpdist/tensor/algebra.hpp>
#include <pnpdist/tensor/random.hpp>

#include <vector>

#include "nn/nn_test_support.hpp"
#include "support/host_executors.hpp"

using pnpdist::Extents;
using pnpdist::index_t;
using pnpdist::Tensor;
using pnpdist::nn::ConvKind;
using pnpdist::nn::PostOps;

namespace {

template <std::size_t Rank>
Tensor<float, Rank> random_tensor(const Extents<Rank>& e, std::uint64_t seed) {
  Tensor<float, Rank> t(e);
  pnpdist::fill_uniform(pnpdist::Serial{}, t.view(), seed, 0, -1.0f, 1.0f);
  return t;
}

template <std::size_t Rank>
Extents<Rank> output_extents(ConvKind kind, Extents<Rank> in, index_t cout) {
  in[1] = cout;
  for (std::size_t d = 2; d < Rank; ++d)
    in[d] = kind == ConvKind::down2 ? in[d] / 2 : kind == ConvKind::up2 ? in[d] * 2 : in[d];
  return in;
}

}  // namespace

TEMPLATE_LIST_TEST_CASE("conv3 with a centred delta kernel copies its input, and post-ops apply in order", "[nn][layers]",
                        pnpdist::test::HostExecutors) {
  const auto exec = pnpdist::test::make_executor<TestType>();
  const auto x = random_tensor(Extents<4>{2, 3, 5, 7}, 1);
  std::vector<float> w(3 * 3 * 9, 0.0f);
  for (int c = 0; c < 3; ++c) w[static_cast<std::size_t>((c * 3 + c) * 9 + 4)] = 2.0f;
  const std::vector<float> bias{0.5f, -0.5f, 0.0f};
  Tensor<float, 4> y(x.extents());
  pnpdist::fill(exec, y.view(), 1.0f);
  pnpdist::nn::conv3(exec, x.const_view(), w.data(), bias.data(), y.view(), PostOps{true, true});
  for (index_t n = 0; n < 2; ++n)
    for (index_t c = 0; c < 3; ++c)
      for (index_t i = 0; i < 5; ++i)
        for (index_t j = 0; j < 7; ++j)
          CHECK(y(n, c, i, j) == std::max(2.0f * x(n, c, i, j) + bias[static_cast<std::size_t>(c)] + 1.0f, 0.0f));
}

TEST_CASE("conv_down2 averages and conv_up2 replicates with kernels of equal taps", "[nn][layers]") {
  const auto x = random_tensor(Extents<5>{1, 1, 4, 6, 2}, 2);
  const std::vector<float> w(8, 0.125f);
  Tensor<float, 5> down(Extents<5>{1, 1, 2, 3, 1});
  pnpdist::nn::conv_down2(pnpdist::Serial{}, x.const_view(), w.data(), static_cast<const float*>(nullptr), down.view());
  for (index_t a = 0; a < 2; ++a)
    for (index_t b = 0; b < 3; ++b) {
      double mean = 0;
      for (index_t i = 0; i < 2; ++i)
        for (index_t j = 0; j < 2; ++j)
          for (index_t k = 0; k < 2; ++k) mean += x(0, 0, 2 * a + i, 2 * b + j, k) / 8.0;
      CHECK(down(0, 0, a, b, 0) == Approx(mean).epsilon(1e-6));
    }
  Tensor<float, 5> up(x.extents());
  const std::vector<float> ones(8, 1.0f);
  pnpdist::nn::conv_up2(pnpdist::Serial{}, down.const_view(), ones.data(), static_cast<const float*>(nullptr),
                        up.view());
  for (index_t i = 0; i < 4; ++i)
    for (index_t j = 0; j < 6; ++j)
      for (index_t k = 0; k < 2; ++k) CHECK(up(0, 0, i, j, k) == down(0, 0, i / 2, j / 2, k / 2));
  Tensor<float, 5> wrong(Extents<5>{1, 1, 3, 3, 1});
  CHECK_THROWS_AS(pnpdist::nn::conv_down2(pnpdist::Serial{}, x.const_view(), w.data(),
                                          static_cast<const float*>(nullptr), wrong.view()),
                  pnpdist::dimension_mismatch);
}

#if defined(PNPDIST_HAS_ONEDNN)

template <std::size_t Rank>
void check_onednn_layers(const Extents<Rank>& in_extents) {
  const index_t cout = 7;
  const auto x = random_tensor(in_extents, 3);
  for (ConvKind kind : {ConvKind::conv3, ConvKind::down2, ConvKind::up2})
    for (bool with_bias : {false, true})
      for (PostOps post : {PostOps{false, false}, PostOps{false, true}, PostOps{true, false}, PostOps{true, true}})
        for (bool blocked : {false, true}) {
          const auto out_extents = output_extents(kind, in_extents, cout);
          index_t taps = 1;
          for (std::size_t d = 2; d < Rank; ++d) taps *= pnpdist::nn::kernel_extent(kind);
          const auto w = random_tensor(Extents<1>{in_extents[1] * cout * taps}, 4);
          const auto b = random_tensor(Extents<1>{cout}, 5);
          const auto initial = random_tensor(out_extents, 6);
          Tensor<float, Rank> expected(out_extents), actual(out_extents);
          pnpdist::copy(pnpdist::Serial{}, initial.const_view(), expected.view());
          pnpdist::copy(pnpdist::Serial{}, initial.const_view(), actual.view());
          const float* bias = with_bias ? b.data() : nullptr;
          pnpdist::nn::convolution(pnpdist::Serial{}, kind, x.const_view(), w.data(), bias, expected.view(), post);
          const std::string impl =
              pnpdist::nn::onednn_convolution(2, kind, x.const_view(), w.data(), bias, actual.view(), post, blocked);
          INFO("kind " << static_cast<int>(kind) << " bias " << with_bias << " sum " << post.sum << " relu "
                       << post.relu << " blocked " << blocked << " implementation " << impl);
          CHECK(pnpdist::test::relative_error(actual, expected) < 1e-5);
        }
}

TEST_CASE("oneDNN layers equal the reference layers (2D)", "[nn][layers][onednn]") {
  check_onednn_layers(Extents<4>{2, 5, 6, 10});
}
TEST_CASE("oneDNN layers equal the reference layers (3D)", "[nn][layers][onednn]") {
  check_onednn_layers(Extents<5>{1, 5, 4, 6, 8});
}

#endif
