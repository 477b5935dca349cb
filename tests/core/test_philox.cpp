// Tests of pnpdist/core/philox.hpp: Philox4x32-10 known answers, the (0, 1) conversions, the
// documented PhiloxStream mapping, and distributional checks of the uniform and normal streams.

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "pnpdist/core/philox.hpp"

using namespace pnpdist;

namespace {

bool equal(const PhiloxCounter& a, const PhiloxCounter& b) {
  return a.v[0] == b.v[0] && a.v[1] == b.v[1] && a.v[2] == b.v[2] && a.v[3] == b.v[3];
}

double normal_cdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

struct Moments {
  double mean;
  double variance;
};

template <class T>
Moments moments(const std::vector<T>& x) {
  double s = 0.0;
  for (T v : x) s += v;
  const double mean = s / static_cast<double>(x.size());
  double ss = 0.0;
  for (T v : x) ss += (v - mean) * (v - mean);
  return {mean, ss / static_cast<double>(x.size() - 1)};
}

/// Kolmogorov-Smirnov statistic sqrt(n) * D_n of the samples against the continuous CDF F.
template <class T, class Cdf>
double ks_statistic(std::vector<T> x, Cdf cdf) {
  std::sort(x.begin(), x.end());
  const double n = static_cast<double>(x.size());
  double d = 0.0;
  for (std::size_t j = 0; j < x.size(); ++j) {
    const double f = cdf(static_cast<double>(x[j]));
    d = std::max(d, std::max(static_cast<double>(j + 1) / n - f, f - static_cast<double>(j) / n));
  }
  return std::sqrt(n) * d;
}

/// Fills n elements with the block functions, one Philox call per block (the intended fast path).
template <class T>
std::vector<T> fill_uniform(const PhiloxStream& s, index_t n) {
  constexpr index_t b = PhiloxBlock<T>::size;
  std::vector<T> x(static_cast<std::size_t>(n));
  for (index_t blk = 0; blk * b < n; ++blk) {
    const PhiloxBlock<T> v = s.uniform_block<T>(static_cast<std::uint64_t>(blk));
    for (index_t c = 0; c < b && blk * b + c < n; ++c) x[static_cast<std::size_t>(blk * b + c)] = v.v[c];
  }
  return x;
}

template <class T>
std::vector<T> fill_normal(const PhiloxStream& s, index_t n) {
  constexpr index_t b = PhiloxBlock<T>::size;
  std::vector<T> x(static_cast<std::size_t>(n));
  for (index_t blk = 0; blk * b < n; ++blk) {
    const PhiloxBlock<T> v = s.normal_block<T>(static_cast<std::uint64_t>(blk));
    for (index_t c = 0; c < b && blk * b + c < n; ++c) x[static_cast<std::size_t>(blk * b + c)] = v.v[c];
  }
  return x;
}

// Known-answer vectors: the three "philox4x32 10" lines of Random123's tests/kat_vectors
// (github.com/DEShawResearch/random123), columns CTR[4] KEY[2] EXPECTED[4]:
//   philox4x32 10 00000000 00000000 00000000 00000000 00000000 00000000   6627e8d5 e169c58d bc57ac4c 9b00dbd8
//   philox4x32 10 ffffffff ffffffff ffffffff ffffffff ffffffff ffffffff   408f276d 41c83b0e a20bc7c6 6d5451fd
//   philox4x32 10 243f6a88 85a308d3 13198a2e 03707344 a4093822 299f31d0   d16cfe09 94fdcceb 5001e420 24126ea1
struct Kat {
  PhiloxCounter ctr;
  PhiloxKey key;
  PhiloxCounter expected;
};
constexpr Kat kKats[] = {
    {{{0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u}},
     {{0x00000000u, 0x00000000u}},
     {{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}}},
    {{{0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}},
     {{0xffffffffu, 0xffffffffu}},
     {{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu}}},
    {{{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}},
     {{0xa4093822u, 0x299f31d0u}},
     {{0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}}},
};

// The generator is constexpr: the known answers also hold at compile time.
static_assert(philox4x32_10(kKats[0].ctr, kKats[0].key).v[0] == 0x6627e8d5u);
static_assert(philox4x32_10(kKats[1].ctr, kKats[1].key).v[3] == 0x6d5451fdu);
static_assert(philox4x32_10(kKats[2].ctr, kKats[2].key).v[1] == 0x94fdccebu);

// Sample sizes and the 6-standard-error tolerance of the moment checks.
constexpr index_t kN = 1000000;
constexpr double kSigmas = 6.0;
// Kolmogorov distribution: P(sqrt(n) D_n > 1.95) ~ 0.001.
constexpr double kKsCritical = 1.95;

}  // namespace

TEST_CASE("philox4x32_10 matches the Random123 known-answer vectors", "[philox][unit]") {
  for (const Kat& kat : kKats) {
    const PhiloxCounter out = philox4x32_10(kat.ctr, kat.key);
    CHECK(out.v[0] == kat.expected.v[0]);
    CHECK(out.v[1] == kat.expected.v[1]);
    CHECK(out.v[2] == kat.expected.v[2]);
    CHECK(out.v[3] == kat.expected.v[3]);
  }
}

TEST_CASE("philox4x32_10 is a pure function of counter and key", "[philox][unit]") {
  const PhiloxCounter c{{1u, 2u, 3u, 4u}};
  const PhiloxKey k{{5u, 6u}};
  CHECK(equal(philox4x32_10(c, k), philox4x32_10(c, k)));
  // Changing any single input word changes the output.
  for (int w = 0; w < 4; ++w) {
    PhiloxCounter c2 = c;
    c2.v[w] ^= 1u;
    CHECK_FALSE(equal(philox4x32_10(c2, k), philox4x32_10(c, k)));
  }
  for (int w = 0; w < 2; ++w) {
    PhiloxKey k2 = k;
    k2.v[w] ^= 1u;
    CHECK_FALSE(equal(philox4x32_10(c, k2), philox4x32_10(c, k)));
  }
}

TEST_CASE("unit conversions map to the open interval (0, 1)", "[philox][unit]") {
  // Exact endpoints of the documented grids (2k + 1) / 2^24 and (2k + 1) / 2^53.
  CHECK(uint32_to_unit_float(0u) == 0x1p-24f);
  CHECK(uint32_to_unit_float(0xffffffffu) == 1.0f - 0x1p-24f);
  CHECK(uint32_to_unit_float(0x80000000u) == 0.5f + 0x1p-24f);
  CHECK(uint32_to_unit_float(0x7fffffffu) == 0.5f - 0x1p-24f);
  CHECK(uint32_to_unit_double(0u, 0u) == 0x1p-53);
  CHECK(uint32_to_unit_double(0xffffffffu, 0xffffffffu) == 1.0 - 0x1p-53);
  CHECK(uint32_to_unit_double(0u, 0x80000000u) == 0.5 + 0x1p-53);
  // The high word carries the most significant bits.
  CHECK(uint32_to_unit_double(0xffffffffu, 0u) < 0x1p-31);
  CHECK(uint32_to_unit_double(0u, 0xffffffffu) > 1.0 - 0x1p-31);

  const float fmin = uint32_to_unit_float(0u), fmax = uint32_to_unit_float(0xffffffffu);
  CHECK(fmin > 0.0f);
  CHECK(fmax < 1.0f);
  CHECK(std::isfinite(std::log(fmin)));
  CHECK(std::isfinite(std::log(1.0f - fmax)));
  const double dmin = uint32_to_unit_double(0u, 0u), dmax = uint32_to_unit_double(0xffffffffu, 0xffffffffu);
  CHECK(dmin > 0.0);
  CHECK(dmax < 1.0);
  CHECK(std::isfinite(std::log(dmin)));
  CHECK(std::isfinite(std::log(1.0 - dmax)));
}

TEST_CASE("box_muller computes r cos / r sin of 2 pi u2", "[philox][unit]") {
  // u1 = exp(-2) gives r = 2; u2 = 1/8 gives theta = pi / 4.
  const auto d = box_muller(std::exp(-2.0), 0.125);
  CHECK(d.z0 == Approx(std::sqrt(2.0)).epsilon(1e-14));
  CHECK(d.z1 == Approx(std::sqrt(2.0)).epsilon(1e-14));
  const auto f = box_muller(std::exp(-2.0f), 0.125f);
  CHECK(f.z0 == Approx(std::sqrt(2.0)).epsilon(1e-6));
  CHECK(f.z1 == Approx(std::sqrt(2.0)).epsilon(1e-6));
  // u1 = 1 gives r = 0.
  CHECK(box_muller(1.0, 0.3).z0 == 0.0);
  // Extreme uniforms stay finite and within the documented bounds.
  const auto fe = box_muller(uint32_to_unit_float(0u), uint32_to_unit_float(0u));
  CHECK(std::isfinite(fe.z0));
  CHECK(std::abs(fe.z0) <= 5.78f);
  const auto de = box_muller(uint32_to_unit_double(0u, 0u), 0.0);
  CHECK(std::isfinite(de.z0));
  CHECK(std::abs(de.z0) <= 8.58);
}

TEST_CASE("PhiloxStream follows the documented key and counter layout", "[philox][unit]") {
  const PhiloxStream s{0x0123456789abcdefull, 0xfedcba9876543210ull};
  CHECK(s.key().v[0] == 0x89abcdefu);
  CHECK(s.key().v[1] == 0x01234567u);
  const PhiloxCounter c = s.counter(0x1122334455667788ull);
  CHECK(c.v[0] == 0x55667788u);
  CHECK(c.v[1] == 0x11223344u);
  CHECK(c.v[2] == 0x76543210u);
  CHECK(c.v[3] == 0xfedcba98u);
  CHECK(equal(s.bits(42), philox4x32_10(s.counter(42), s.key())));

  // Independent reference (a separate implementation of the published algorithm and of the
  // documented mapping): seed 0x0123456789abcdef, stream 7, block 5.
  const PhiloxStream t{0x0123456789abcdefull, 7};
  const PhiloxCounter expected{{0x414da380u, 0xb7702af1u, 0xcd642c43u, 0x43dc5e58u}};
  CHECK(equal(t.bits(5), expected));
  CHECK(t.uniform<float>(20) == 0x1.05368cp-2f);
  CHECK(t.uniform<float>(21) == 0x1.6ee056p-1f);
  CHECK(t.uniform<float>(22) == 0x1.9ac85ap-1f);
  CHECK(t.uniform<float>(23) == 0x1.0f717cp-2f);
  CHECK(t.uniform<double>(10) == Approx(0.7165552939416587).epsilon(1e-15));
  CHECK(t.uniform<double>(11) == Approx(0.26508130710625777).epsilon(1e-15));
  CHECK(t.normal<double>(10) == Approx(-0.07725049771635949).epsilon(1e-12));
  CHECK(t.normal<double>(11) == Approx(0.8127927690482789).epsilon(1e-12));
}

TEST_CASE("PhiloxStream per-element values are the block components", "[philox][unit]") {
  const PhiloxStream s{20240611u, 3u};
  // Small indices and indices whose block exceeds 2^32 (uses the high counter word).
  const index_t starts[] = {0, 1000, (index_t{1} << 34) + 8};
  for (index_t start : starts) {
    for (index_t i = start; i < start + 64; ++i) {
      const auto bf = static_cast<std::uint64_t>(i / 4);
      const auto bd = static_cast<std::uint64_t>(i / 2);
      const PhiloxCounter r = s.bits(bf);
      CHECK(s.uniform<float>(i) == uint32_to_unit_float(r.v[i % 4]));
      CHECK(s.uniform<float>(i) == s.uniform4f(bf).v[i % 4]);
      CHECK(s.normal<float>(i) == s.normal4f(bf).v[i % 4]);
      CHECK(s.uniform<double>(i) == s.uniform2d(bd).v[i % 2]);
      CHECK(s.normal<double>(i) == s.normal2d(bd).v[i % 2]);
    }
  }
  // The normal pairs are the Box-Muller transforms of the block's uniforms.
  const PhiloxBlock<float> uf = s.uniform4f(77);
  const PhiloxBlock<float> nf = s.normal4f(77);
  CHECK(nf.v[0] == box_muller(uf.v[0], uf.v[1]).z0);
  CHECK(nf.v[1] == box_muller(uf.v[0], uf.v[1]).z1);
  CHECK(nf.v[2] == box_muller(uf.v[2], uf.v[3]).z0);
  CHECK(nf.v[3] == box_muller(uf.v[2], uf.v[3]).z1);
  const PhiloxBlock<double> ud = s.uniform2d(77);
  const PhiloxBlock<double> nd = s.normal2d(77);
  CHECK(nd.v[0] == box_muller(ud.v[0], ud.v[1]).z0);
  CHECK(nd.v[1] == box_muller(ud.v[0], ud.v[1]).z1);
  CHECK(ud.v[0] == uint32_to_unit_double(s.bits(77).v[0], s.bits(77).v[1]));
  CHECK(ud.v[1] == uint32_to_unit_double(s.bits(77).v[2], s.bits(77).v[3]));
  // Elements do not depend on evaluation order.
  const float forward = s.normal<float>(12345);
  for (index_t i = 20000; i >= 0; i -= 997) (void)s.normal<float>(i);
  CHECK(s.normal<float>(12345) == forward);
}

TEST_CASE("different seeds and streams give different sequences", "[philox][unit]") {
  const PhiloxStream base{1u, 0u};
  // Each variant changes one 32-bit word of the key or of the stream part of the counter.
  const PhiloxStream variants[] = {
      {2u, 0u}, {1u + (std::uint64_t{1} << 32), 0u}, {1u, 1u}, {1u, std::uint64_t{1} << 32}};
  for (const PhiloxStream& v : variants) {
    int same_f = 0, same_d = 0;
    for (index_t i = 0; i < 256; ++i) {
      same_f += base.uniform<float>(i) == v.uniform<float>(i);
      same_d += base.normal<double>(i) == v.normal<double>(i);
    }
    // Identical values by chance have probability about 2^-23 (float) per element.
    CHECK(same_f <= 1);
    CHECK(same_d == 0);
  }
  // Within one stream, consecutive blocks differ.
  CHECK_FALSE(equal(base.bits(0), base.bits(1)));
}

TEST_CASE("uniform streams lie in (0, 1) with the right mean and variance", "[philox][unit]") {
  const PhiloxStream s{0x5eed5eed5eedull, 11u};
  const auto f = fill_uniform<float>(s, kN);
  const auto d = fill_uniform<double>(s, kN);
  CHECK(std::all_of(f.begin(), f.end(), [](float x) { return x > 0.0f && x < 1.0f; }));
  CHECK(std::all_of(d.begin(), d.end(), [](double x) { return x > 0.0 && x < 1.0; }));

  // U(0, 1): mean 1/2, variance 1/12, fourth central moment 1/80.
  const double n = static_cast<double>(kN);
  const double se_mean = std::sqrt(1.0 / 12.0 / n);
  const double se_var = std::sqrt((1.0 / 80.0 - 1.0 / 144.0) / n);
  for (const Moments m : {moments(f), moments(d)}) {
    CHECK(std::abs(m.mean - 0.5) < kSigmas * se_mean);
    CHECK(std::abs(m.variance - 1.0 / 12.0) < kSigmas * se_var);
  }

  const auto uniform_cdf = [](double x) { return std::clamp(x, 0.0, 1.0); };
  const std::vector<float> f_head(f.begin(), f.begin() + 100000);
  const std::vector<double> d_head(d.begin(), d.begin() + 100000);
  CHECK(ks_statistic(f_head, uniform_cdf) < kKsCritical);
  CHECK(ks_statistic(d_head, uniform_cdf) < kKsCritical);
}

TEST_CASE("normal streams have mean 0, variance 1 and the normal CDF", "[philox][unit]") {
  const PhiloxStream s{0xabcdefull, 5u};
  const auto f = fill_normal<float>(s, kN);
  const auto d = fill_normal<double>(s, kN);
  CHECK(std::all_of(f.begin(), f.end(), [](float x) { return std::isfinite(x); }));
  CHECK(std::all_of(d.begin(), d.end(), [](double x) { return std::isfinite(x); }));

  // N(0, 1): standard error of the mean 1/sqrt(n), of the sample variance sqrt(2/n).
  const double n = static_cast<double>(kN);
  for (const Moments m : {moments(f), moments(d)}) {
    CHECK(std::abs(m.mean) < kSigmas / std::sqrt(n));
    CHECK(std::abs(m.variance - 1.0) < kSigmas * std::sqrt(2.0 / n));
  }

  // Empirical CDF at fixed points: a binomial proportion with standard error sqrt(p (1 - p) / n).
  for (const double x : {-2.5, -1.5, -0.5, 0.0, 0.5, 1.0, 2.0, 3.0}) {
    const double p = normal_cdf(x);
    const double se = std::sqrt(p * (1.0 - p) / n);
    const double pf = static_cast<double>(std::count_if(f.begin(), f.end(), [x](float v) { return v <= x; })) / n;
    const double pd = static_cast<double>(std::count_if(d.begin(), d.end(), [x](double v) { return v <= x; })) / n;
    CHECK(std::abs(pf - p) < kSigmas * se);
    CHECK(std::abs(pd - p) < kSigmas * se);
  }

  const std::vector<float> f_head(f.begin(), f.begin() + 100000);
  const std::vector<double> d_head(d.begin(), d.begin() + 100000);
  CHECK(ks_statistic(f_head, normal_cdf) < kKsCritical);
  CHECK(ks_statistic(d_head, normal_cdf) < kKsCritical);

  // The two members of a Box-Muller pair, and neighbouring pairs, are uncorrelated:
  // for independent N(0, 1) values the sample correlation has standard error 1/sqrt(m).
  for (const int lag : {1, 2}) {
    double cf = 0.0, cd = 0.0;
    index_t m = 0;
    for (index_t i = 0; i + lag < kN; i += 2) {
      cf += static_cast<double>(f[static_cast<std::size_t>(i)]) * f[static_cast<std::size_t>(i + lag)];
      cd += d[static_cast<std::size_t>(i)] * d[static_cast<std::size_t>(i + lag)];
      ++m;
    }
    const double md = static_cast<double>(m);
    CHECK(std::abs(cf / md) < kSigmas / std::sqrt(md));
    CHECK(std::abs(cd / md) < kSigmas / std::sqrt(md));
  }
}
