// Sampler tests: greedy, seeding, each filter's effect on the empirical distribution against
// a brute-force softmax reference, exact penalty/bias values, and validation messages.
#include "sampling/sampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <random>
#include <set>

namespace wafer {
namespace {

std::vector<float> random_logits(size_t n, uint64_t seed, float lo = -5.0f, float hi = 5.0f) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> logits(n);
  for (float& l : logits) l = dist(rng);
  return logits;
}

// Brute-force reference of the documented pipeline (no penalties): top-k, temperature,
// softmax, top-p, min-p, renormalise. Ties ordered by lower id.
std::vector<double> reference_probs(const std::vector<float>& logits, const SamplingParams& p) {
  const size_t n = logits.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return logits[a] > logits[b]; });
  size_t kept = (p.top_k > 0 && static_cast<size_t>(p.top_k) < n) ? p.top_k : n;
  std::vector<double> probs(n, 0.0);
  double total = 0.0;
  const double max_logit = logits[order[0]];
  for (size_t i = 0; i < kept; ++i) {
    probs[order[i]] = std::exp((logits[order[i]] - max_logit) / p.temperature);
    total += probs[order[i]];
  }
  for (double& q : probs) q /= total;
  if (p.top_p < 1.0f) {
    double cumulative = 0.0;
    size_t i = 0;
    while (i < kept) {
      cumulative += probs[order[i++]];
      if (cumulative >= p.top_p) break;
    }
    kept = i;
  }
  const double p_max = probs[order[0]];
  std::vector<bool> in_prefix(n, false);
  for (size_t i = 0; i < kept; ++i) in_prefix[order[i]] = true;
  for (size_t i = 0; i < n; ++i) {
    if (!in_prefix[i] || probs[i] < p.min_p * p_max) probs[i] = 0.0;
  }
  const double kept_total = std::accumulate(probs.begin(), probs.end(), 0.0);
  for (double& q : probs) q /= kept_total;
  return probs;
}

std::vector<double> empirical_probs(const std::vector<float>& logits, const SamplingParams& p,
                                    int draws) {
  Sampler sampler(p, logits.size());
  std::vector<double> counts(logits.size(), 0.0);
  std::vector<float> row;
  for (int i = 0; i < draws; ++i) {
    row = logits;
    const int32_t token = sampler.sample(row);
    EXPECT_GE(token, 0);
    EXPECT_LT(static_cast<size_t>(token), logits.size());
    counts[token] += 1.0;
  }
  for (double& c : counts) c /= draws;
  return counts;
}

void expect_distribution(const std::vector<float>& logits, const SamplingParams& p,
                         int draws = 100000) {
  const std::vector<double> expected = reference_probs(logits, p);
  const std::vector<double> observed = empirical_probs(logits, p, draws);
  for (size_t i = 0; i < logits.size(); ++i) {
    if (expected[i] == 0.0) {
      EXPECT_EQ(observed[i], 0.0) << "token " << i << " should be filtered out";
    } else {
      EXPECT_NEAR(observed[i], expected[i], 0.01) << "token " << i;
    }
  }
}

int32_t sample_once(const SamplingParams& p, std::vector<float> logits) {
  Sampler sampler(p, logits.size());
  return sampler.sample(logits);
}

TEST(Argmax, FirstMaximumWins) {
  EXPECT_EQ(argmax(std::vector<float>{1, 3, 2, 3}), 1);
  EXPECT_EQ(argmax(std::vector<float>{-1}), 0);
  EXPECT_EQ(argmax(std::vector<float>{-5, -2, -7}), 1);
  const float nan = std::nanf("");
  EXPECT_EQ(argmax(std::vector<float>{nan, 1, nan, 2}), 3);
}

TEST(Sampler, GreedyIsArgmax) {
  for (float temperature : {0.0f, -1.0f}) {
    SamplingParams p;
    p.temperature = temperature;
    for (uint64_t s = 0; s < 20; ++s) {
      const std::vector<float> logits = random_logits(1000, s);
      EXPECT_EQ(sample_once(p, logits), argmax(logits));
    }
  }
}

TEST(Sampler, SameSeedSameSequenceDifferentSeedDifferent) {
  const std::vector<float> logits = random_logits(50, 7, -1.0f, 1.0f);
  auto run = [&](uint64_t seed) {
    SamplingParams p;
    p.seed = seed;
    Sampler sampler(p, logits.size());
    std::vector<int32_t> tokens;
    for (int i = 0; i < 1000; ++i) {
      std::vector<float> row = logits;
      tokens.push_back(sampler.sample(row));
    }
    return tokens;
  };
  const std::vector<int32_t> a = run(123);
  EXPECT_EQ(a, run(123));
  const std::vector<int32_t> b = run(124);
  int differ = 0;
  for (size_t i = 0; i < a.size(); ++i) differ += a[i] != b[i];
  EXPECT_GT(differ, 800);  // ~50 near-uniform tokens: ~98% of draws differ
}

TEST(Sampler, SeedStreamIsStable) {
  // Regression guard: the draw must not change between builds or library versions.
  const std::vector<float> logits = {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, -1.0f, 0.25f, 0.75f};
  SamplingParams p;
  p.seed = 42;
  Sampler sampler(p, logits.size());
  std::vector<int32_t> tokens;
  for (int i = 0; i < 16; ++i) {
    std::vector<float> row = logits;
    tokens.push_back(sampler.sample(row));
  }
  const std::vector<int32_t> expected = {4, 4, 4, 2, 7, 1, 4, 3, 3, 3, 0, 4, 4, 4, 5, 7};
  EXPECT_EQ(tokens, expected);
}

TEST(Sampler, TopK1IsGreedyAtAnyTemperature) {
  for (float temperature : {0.01f, 0.5f, 1.0f, 5.0f, 1000.0f}) {
    for (uint64_t s = 0; s < 20; ++s) {
      SamplingParams p;
      p.temperature = temperature;
      p.top_k = 1;
      p.seed = s;
      const std::vector<float> logits = random_logits(3000, s + 100);
      EXPECT_EQ(sample_once(p, logits), argmax(logits)) << "T=" << temperature;
    }
  }
  SamplingParams p;
  p.top_k = 1;
  EXPECT_EQ(sample_once(p, {1, 4, 2, 4, 4}), 1);  // ties: lowest id
}

TEST(Sampler, TinyTopPIsGreedy) {
  for (int32_t top_k : {0, 50}) {
    for (uint64_t s = 0; s < 20; ++s) {
      SamplingParams p;
      p.temperature = 2.0f;
      p.top_p = 1e-6f;
      p.top_k = top_k;
      p.seed = s;
      const std::vector<float> logits = random_logits(5000, s + 200);
      EXPECT_EQ(sample_once(p, logits), argmax(logits));
    }
  }
}

TEST(Sampler, MinPDropsUnlikelyTokens) {
  // Relative weights at T=1: 1, e^-0.5=0.61, e^-1=0.37, e^-2=0.14, e^-3=0.05.
  const std::vector<float> logits = {0.0f, -0.5f, -1.0f, -2.0f, -3.0f};
  SamplingParams p;
  p.min_p = 0.3f;
  const std::vector<double> observed = empirical_probs(logits, p, 20000);
  EXPECT_GT(observed[0], 0.0);
  EXPECT_GT(observed[1], 0.0);
  EXPECT_GT(observed[2], 0.0);
  EXPECT_EQ(observed[3], 0.0);
  EXPECT_EQ(observed[4], 0.0);
  p.min_p = 1.0f;
  for (uint64_t s = 0; s < 10; ++s) {
    p.seed = s;
    EXPECT_EQ(sample_once(p, logits), 0);
  }
  expect_distribution(logits, SamplingParams{.temperature = 0.8f, .min_p = 0.1f});
}

TEST(Sampler, DistributionMatchesSoftmax) {
  const std::vector<float> logits = {1.0f, 2.0f, 0.5f, -1.0f, 3.0f, 2.0f, 0.0f, 1.5f};
  for (float temperature : {0.5f, 1.0f, 2.0f}) {
    SCOPED_TRACE(temperature);
    expect_distribution(logits, SamplingParams{.temperature = temperature, .seed = 1}, 200000);
  }
}

TEST(Sampler, FilteredDistributionsMatchReference) {
  const std::vector<float> logits = {1.0f, 2.0f, 0.5f, -1.0f, 3.0f, 2.0f, 0.0f, 1.5f};
  expect_distribution(logits, SamplingParams{.temperature = 0.9f, .top_k = 3, .seed = 2});
  expect_distribution(logits, SamplingParams{.temperature = 1.3f, .top_p = 0.7f, .seed = 3});
  expect_distribution(logits,
                      SamplingParams{.temperature = 1.0f, .top_k = 5, .top_p = 0.8f, .seed = 4});
  expect_distribution(
      logits, SamplingParams{.temperature = 1.5f, .top_k = 6, .min_p = 0.2f, .seed = 5});
  expect_distribution(
      logits, SamplingParams{.temperature = 2.0f, .top_p = 0.9f, .min_p = 0.15f, .seed = 6});
}

// Checks membership exactly (filtered tokens never drawn, kept ones all drawn) and the
// shape with a chi-square bound; for nuclei too wide for a per-token tolerance to mean much.
void expect_wide_distribution(const std::vector<float>& logits, const SamplingParams& p,
                              int min_kept) {
  const std::vector<double> expected = reference_probs(logits, p);
  const int draws = 10000;
  const std::vector<double> observed = empirical_probs(logits, p, draws);
  double chi_square = 0.0;
  int kept = 0;
  for (size_t i = 0; i < logits.size(); ++i) {
    if (expected[i] == 0.0) {
      EXPECT_EQ(observed[i], 0.0) << "token " << i;
      continue;
    }
    ++kept;
    EXPECT_GT(observed[i], 0.0) << "token " << i;
    const double diff = (observed[i] - expected[i]) * draws;
    chi_square += diff * diff / (expected[i] * draws);
  }
  ASSERT_GE(kept, min_kept);
  // Chi-square with kept-1 degrees of freedom: mean ~kept, sd ~sqrt(2 kept).
  EXPECT_LT(chi_square, kept + 6.0 * std::sqrt(2.0 * kept));
}

TEST(Sampler, WideNucleusMatchesReference) {
  // Nuclei of hundreds of tokens exercise top-p's radix select: spread-out weights settle in
  // the first pass, near-equal ones need the finer passes, ties need the lowest ids.
  const std::vector<float> spread = random_logits(400, 99, 0.0f, 1.0f);
  expect_wide_distribution(spread, {.temperature = 0.7f, .top_p = 0.5f, .seed = 8}, 100);
  const std::vector<float> near_equal = random_logits(400, 98, 0.0f, 0.01f);
  expect_wide_distribution(near_equal, {.top_p = 0.5f, .seed = 9}, 150);

  std::vector<float> tiers = random_logits(400, 97, 0.0f, 3.0f);
  for (float& l : tiers) l = std::floor(l) * 0.3f;  // three tiers of ~130 equal logits
  expect_wide_distribution(tiers, {.top_p = 0.5f, .seed = 10}, 130);

  const std::vector<float> flat(400, 1.25f);
  expect_wide_distribution(flat, {.top_p = 0.25f, .seed = 12}, 100);
  Sampler sampler({.top_p = 0.25f}, flat.size());
  for (int i = 0; i < 1000; ++i) {
    std::vector<float> row = flat;
    EXPECT_LT(sampler.sample(row), 100) << "ties must keep the lowest ids";
  }
}

TEST(Sampler, NucleusIsAPrefixOfTheSortedOrder) {
  // Weights a few ulps apart in shuffled id order: only the last radix pass tells them apart.
  const size_t n = 400;
  std::vector<float> logits(n);
  for (size_t i = 0; i < n; ++i) logits[i] = -static_cast<float>(i * 37 % n) * 1e-7f;
  Sampler sampler({.top_p = 0.5f, .seed = 13}, n);
  std::set<int32_t> drawn;
  for (int i = 0; i < 10000; ++i) {
    std::vector<float> row = logits;
    drawn.insert(sampler.sample(row));
  }
  // Rank r belongs to token i with i * 37 % n == r; the drawn set must be ranks [0, m).
  std::set<size_t> ranks;
  for (int32_t token : drawn) ranks.insert(static_cast<size_t>(token) * 37 % n);
  const size_t m = ranks.size();
  EXPECT_EQ(*ranks.rbegin(), m - 1) << "a token outside the nucleus was drawn";
  EXPECT_NEAR(static_cast<double>(m), 200.0, 2.0);
}

TEST(Sampler, TopPBoundaryIsInclusive) {
  // Eight equal weights, top_p = 0.25: the first two reach 0.25 exactly and suffice.
  for (int32_t top_k : {0, 8}) {
    Sampler sampler({.top_k = top_k, .top_p = 0.25f}, 10);
    std::set<int32_t> drawn;
    for (int i = 0; i < 2000; ++i) {
      std::vector<float> row = {0, 0, 0, 0, 0, 0, 0, 0, -50, -50};
      drawn.insert(sampler.sample(row));
    }
    EXPECT_EQ(drawn, (std::set<int32_t>{0, 1})) << "top_k=" << top_k;
  }
}

TEST(Sampler, PenaltiesChangeExactlyTheirLogits) {
  const std::vector<float> base = {2.0f, -1.0f, 0.5f, 3.0f, -2.0f, 1.0f};
  auto penalised = [&](SamplingParams p, std::vector<int32_t> history) {
    p.temperature = 0.0f;
    Sampler sampler(p, base.size());
    for (int32_t t : history) sampler.accept(t);
    std::vector<float> row = base;
    sampler.sample(row);
    return row;
  };
  // Token 0 seen twice, token 1 once, token 3 three times.
  const std::vector<int32_t> history = {0, 1, 3, 0, 3, 3};

  std::vector<float> rep = penalised({.repetition_penalty = 2.0f}, history);
  EXPECT_EQ(rep, (std::vector<float>{1.0f, -2.0f, 0.5f, 1.5f, -2.0f, 1.0f}));

  std::vector<float> freq = penalised({.frequency_penalty = 0.5f}, history);
  EXPECT_EQ(freq, (std::vector<float>{1.0f, -1.5f, 0.5f, 1.5f, -2.0f, 1.0f}));

  std::vector<float> pres = penalised({.presence_penalty = 0.25f}, history);
  EXPECT_EQ(pres, (std::vector<float>{1.75f, -1.25f, 0.5f, 2.75f, -2.0f, 1.0f}));

  // All three: repetition first, then count * frequency + presence.
  std::vector<float> all = penalised(
      {.repetition_penalty = 2.0f, .frequency_penalty = 0.5f, .presence_penalty = 0.25f},
      history);
  EXPECT_EQ(all, (std::vector<float>{-0.25f, -2.75f, 0.5f, -0.25f, -2.0f, 1.0f}));

  // Negative penalties encourage repeats.
  std::vector<float> encourage = penalised({.frequency_penalty = -1.0f}, history);
  EXPECT_EQ(encourage, (std::vector<float>{4.0f, 0.0f, 0.5f, 6.0f, -2.0f, 1.0f}));
}

TEST(Sampler, PenaltyWindow) {
  const std::vector<float> base = {1.0f, 1.0f, 1.0f, 1.0f};
  auto penalised = [&](int32_t last_n, std::vector<int32_t> history) {
    SamplingParams p{.temperature = 0.0f, .presence_penalty = 1.0f, .penalty_last_n = last_n};
    Sampler sampler(p, base.size());
    for (int32_t t : history) sampler.accept(t);
    std::vector<float> row = base;
    sampler.sample(row);
    return row;
  };
  EXPECT_EQ(penalised(2, {0, 1, 2}), (std::vector<float>{1.0f, 0.0f, 0.0f, 1.0f}));
  EXPECT_EQ(penalised(2, {0, 1, 1}), (std::vector<float>{1.0f, 0.0f, 1.0f, 1.0f}));
  EXPECT_EQ(penalised(0, {0, 1, 2}), base);
  EXPECT_EQ(penalised(-1, {0, 1, 2}), (std::vector<float>{0.0f, 0.0f, 0.0f, 1.0f}));
  // Out-of-vocabulary history is ignored, not a crash.
  EXPECT_EQ(penalised(-1, {7, -3, 3}), (std::vector<float>{1.0f, 1.0f, 1.0f, 0.0f}));

  // Frequency counts only what is still inside the window.
  SamplingParams p{.temperature = 0.0f, .frequency_penalty = 1.0f, .penalty_last_n = 3};
  Sampler sampler(p, base.size());
  for (int32_t t : {2, 2, 2, 2, 1}) sampler.accept(t);  // window: 2 2 1
  std::vector<float> row = base;
  sampler.sample(row);
  EXPECT_EQ(row, (std::vector<float>{1.0f, 0.0f, -1.0f, 1.0f}));
}

TEST(Sampler, LogitBias) {
  const std::vector<float> logits = random_logits(100, 5, -2.0f, 2.0f);
  const int32_t best = argmax(logits);
  const int32_t other = (best + 17) % 100;
  SamplingParams ban{.temperature = 1.5f, .logit_bias = {{best, -100.0f}}};
  SamplingParams force{.temperature = 1.5f, .logit_bias = {{other, 100.0f}}};
  Sampler banned(ban, logits.size());
  Sampler forced(force, logits.size());
  for (int i = 0; i < 20000; ++i) {
    std::vector<float> row = logits;
    EXPECT_NE(banned.sample(row), best);
    row = logits;
    EXPECT_EQ(forced.sample(row), other);
  }
  // Greedy sees the bias too; out-of-range ids are ignored.
  SamplingParams greedy{.temperature = 0.0f,
                        .logit_bias = {{other, 100.0f}, {100, 1e9f}, {-1, 1e9f}}};
  EXPECT_EQ(sample_once(greedy, logits), other);
}

TEST(Sampler, LargeVocabStaysInFilteredSet) {
  const size_t vocab = 152064;
  const std::vector<float> logits = random_logits(vocab, 11, -10.0f, 10.0f);
  std::vector<size_t> order(vocab);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return logits[a] > logits[b]; });
  const std::set<int32_t> top40(order.begin(), order.begin() + 40);

  SamplingParams p{.temperature = 1.0f, .top_k = 40};
  Sampler sampler(p, vocab);
  std::vector<float> row;
  const auto start = std::chrono::steady_clock::now();
  const int calls = 20;
  for (int i = 0; i < calls; ++i) {
    row = logits;
    EXPECT_TRUE(top40.count(sampler.sample(row)));
  }
  const double us = std::chrono::duration<double, std::micro>(
                        std::chrono::steady_clock::now() - start).count() / calls;
  RecordProperty("top_k40_us_per_sample", static_cast<int>(us));
  std::printf("vocab %zu top_k=40: %.1f us/sample (incl. copying the row)\n", vocab, us);

  // Nucleus without top-k: a reference nucleus from the full sort.
  SamplingParams q{.temperature = 1.0f, .top_p = 0.9f};
  const std::vector<double> probs = reference_probs(logits, q);
  Sampler nucleus(q, vocab);
  const auto start_p = std::chrono::steady_clock::now();
  for (int i = 0; i < calls; ++i) {
    row = logits;
    EXPECT_GT(probs[nucleus.sample(row)], 0.0);
  }
  const double us_p = std::chrono::duration<double, std::micro>(
                          std::chrono::steady_clock::now() - start_p).count() / calls;
  std::printf("vocab %zu top_p=0.9: %.1f us/sample\n", vocab, us_p);
}

TEST(Sampler, DegenerateRowsDoNotCrash) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::nanf("");
  SamplingParams p{.temperature = 1.0f};
  EXPECT_EQ(sample_once(p, {-inf, -inf, 1.0f, -inf}), 2);
  EXPECT_EQ(sample_once(p, {nan, 3.0f, nan}), 1);
  EXPECT_EQ(sample_once(p, {-inf, -inf}), 0);
  p.top_k = 2;
  EXPECT_EQ(sample_once(p, {nan, -inf, 5.0f, nan}), 2);
  EXPECT_EQ(sample_once(p, {nan, nan, nan}), 0);
}

TEST(SamplingParams, ValidateNamesTheField) {
  EXPECT_TRUE(SamplingParams{}.validate().ok());
  const SamplingParams edges{.temperature = 0.0f,
                             .top_k = 0,
                             .top_p = 1.0f,
                             .min_p = 1.0f,
                             .repetition_penalty = 0.01f,
                             .frequency_penalty = 2.0f,
                             .presence_penalty = -2.0f,
                             .penalty_last_n = -1,
                             .logit_bias = {{0, 100.0f}, {5, -100.0f}}};
  EXPECT_TRUE(edges.validate().ok());

  auto message = [](const SamplingParams& p) {
    const Status status = p.validate();
    EXPECT_FALSE(status.ok());
    if (status.ok()) return std::string();
    EXPECT_EQ(status.error().code, ErrorCode::kInvalidArgument);
    return status.error().message;
  };
  const float nan = std::nanf("");
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(message({.top_p = 1.5f}), "top_p must be in (0, 1], got 1.5");
  EXPECT_NE(message({.top_p = 0.0f}).find("top_p"), std::string::npos);
  EXPECT_NE(message({.top_p = nan}).find("top_p"), std::string::npos);
  EXPECT_NE(message({.temperature = -0.1f}).find("temperature"), std::string::npos);
  EXPECT_NE(message({.temperature = inf}).find("temperature"), std::string::npos);
  EXPECT_NE(message({.temperature = nan}).find("temperature"), std::string::npos);
  EXPECT_NE(message({.top_k = -1}).find("top_k"), std::string::npos);
  EXPECT_NE(message({.min_p = -0.1f}).find("min_p"), std::string::npos);
  EXPECT_NE(message({.min_p = 1.1f}).find("min_p"), std::string::npos);
  EXPECT_NE(message({.repetition_penalty = 0.0f}).find("repetition_penalty"), std::string::npos);
  EXPECT_NE(message({.repetition_penalty = inf}).find("repetition_penalty"), std::string::npos);
  EXPECT_NE(message({.frequency_penalty = 2.5f}).find("frequency_penalty"), std::string::npos);
  EXPECT_NE(message({.frequency_penalty = nan}).find("frequency_penalty"), std::string::npos);
  EXPECT_NE(message({.presence_penalty = -2.5f}).find("presence_penalty"), std::string::npos);
  EXPECT_NE(message({.penalty_last_n = -2}).find("penalty_last_n"), std::string::npos);
  EXPECT_EQ(message({.logit_bias = {{0, 1.0f}, {7, 100.5f}}}),
            "logit_bias for token 7 must be in [-100, 100], got 100.5");
  EXPECT_NE(message({.logit_bias = {{3, nan}}}).find("logit_bias"), std::string::npos);
  EXPECT_NE(message({.logit_bias = {{-4, 1.0f}}}).find("logit_bias"), std::string::npos);
}

}  // namespace
}  // namespace wafer
