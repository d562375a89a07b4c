// The engine against an independent float64 reference (../shared/golden): logits at the last
// prompt position within the stated normalised squared error, and greedy ids identical up to
// the first step the reference itself calls too close to decide.
#include <fstream>
#include <sstream>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "engine/generate.h"
#include "model/model.h"

namespace wafer {
namespace {

const std::string kGolden = std::string(WAFER_SHARED_DIR) + "/golden/";

struct GoldenFile {
  std::string model;
  double max_nmse;
  double min_gap;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<int32_t> ids_of(const boost::json::value& v) {
  std::vector<int32_t> out;
  for (const auto& x : v.as_array()) out.push_back(static_cast<int32_t>(x.to_number<int64_t>()));
  return out;
}

class GoldenTest : public ::testing::TestWithParam<GoldenFile> {};

TEST_P(GoldenTest, MatchesReference) {
  const GoldenFile& g = GetParam();
  auto model = Model::load(kGolden + g.model + ".gguf");
  ASSERT_TRUE(model.ok()) << model.error().message;
  boost::json::value ref = boost::json::parse(read_file(kGolden + g.model + ".json"));
  ThreadPool pool(2);
  int case_index = 0;
  for (const auto& c : ref.at("cases").as_array()) {
    SCOPED_TRACE(fmt::format("{} case {}", g.model, case_index++));
    const std::vector<int32_t> prompt = ids_of(c.at("prompt_ids"));
    KvCache cache = (*model)->new_cache(4096);
    GenerateOptions opt;
    opt.max_tokens = 32;
    opt.sampling.temperature = 0;
    opt.ignore_eos = true;
    opt.logits_last = true;
    auto got = generate(**model, cache, prompt, opt, pool, nullptr);
    ASSERT_TRUE(got.ok()) << got.error().message;

    const auto& want_logits = c.at("logits_last").as_array();
    ASSERT_EQ(got->logits_last.size(), want_logits.size());
    double err = 0, norm = 0;
    for (size_t i = 0; i < want_logits.size(); ++i) {
      const double r = want_logits[i].to_number<double>();
      err += (got->logits_last[i] - r) * (got->logits_last[i] - r);
      norm += r * r;
    }
    EXPECT_LE(err / norm, g.max_nmse);

    const std::vector<int32_t> want_ids = ids_of(c.at("greedy_ids"));
    const auto& gaps = c.at("greedy_top2_gap").as_array();
    ASSERT_EQ(got->ids.size(), want_ids.size());
    for (size_t i = 0; i < want_ids.size(); ++i) {
      if (gaps[i].to_number<double>() < g.min_gap) break;
      ASSERT_EQ(got->ids[i], want_ids[i]) << "greedy step " << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Golden, GoldenTest,
    ::testing::Values(GoldenFile{"tiny-qwen2-f32", 1e-5, 0.02}, GoldenFile{"tiny-qwen2-f16", 1e-4, 0.02},
                      GoldenFile{"tiny-qwen2-q8_0", 5e-3, 0.2}, GoldenFile{"tiny-qwen2-q4_k_m", 5e-3, 0.2},
                      GoldenFile{"tiny-llama-f32", 1e-5, 0.02}, GoldenFile{"tiny-llama-q8_0", 5e-3, 0.2},
                      GoldenFile{"tiny-qwen3-f32", 1e-5, 0.02}, GoldenFile{"tiny-qwen3-q4_k_m", 5e-3, 0.2}),
    [](const auto& info) {
      std::string name = info.param.model;
      for (char& ch : name)
        if (ch == '-' || ch == '.') ch = '_';
      return name;
    });

// Every position's logits, not only the last: catches position-dependent (RoPE, mask) bugs.
TEST(GoldenAllPositions, Qwen2F32) {
  auto model = Model::load(kGolden + "tiny-qwen2-f32.gguf");
  ASSERT_TRUE(model.ok()) << model.error().message;
  boost::json::value ref = boost::json::parse(read_file(kGolden + "tiny-qwen2-f32-allpos.json"));
  const auto& c = ref.at("cases").as_array().at(0);
  const std::vector<int32_t> prompt = ids_of(c.at("prompt_ids"));
  const auto& all = c.at("logits_all").as_array();
  ThreadPool pool(2);
  KvCache cache = (*model)->new_cache(1024);
  auto logits = (*model)->forward(cache, prompt, true, pool);
  ASSERT_TRUE(logits.ok());
  const size_t n_vocab = (*model)->config().n_vocab;
  ASSERT_EQ(all.size(), prompt.size());
  for (size_t t = 0; t < prompt.size(); ++t) {
    const auto& row = all[t].as_array();
    double err = 0, norm = 0;
    for (size_t i = 0; i < n_vocab; ++i) {
      const double r = row[i].to_number<double>();
      const double d = (*logits)[t * n_vocab + i] - r;
      err += d * d;
      norm += r * r;
    }
    // llama.cpp's F32 logits (the reference here) carry its own float32 rounding.
    EXPECT_LE(err / norm, 1e-5) << "position " << t;
  }
}

// Decoding one token at a time must give the same logits as one batched prefill.
TEST(ForwardConsistency, BatchedPrefillEqualsStepwiseDecode) {
  auto model = Model::load(kGolden + "tiny-qwen3-q4_k_m.gguf");
  ASSERT_TRUE(model.ok()) << model.error().message;
  const std::vector<int32_t> prompt = {100, 2000, 33, 4097, 512, 9, 77, 1234};
  ThreadPool pool(2);
  KvCache batched = (*model)->new_cache(64), stepwise = (*model)->new_cache(64);
  auto all = (*model)->forward(batched, prompt, true, pool);
  ASSERT_TRUE(all.ok());
  std::vector<float> batch_logits(all->begin(), all->end());
  const size_t n_vocab = (*model)->config().n_vocab;
  for (size_t t = 0; t < prompt.size(); ++t) {
    auto one = (*model)->forward(stepwise, std::span(&prompt[t], 1), false, pool);
    ASSERT_TRUE(one.ok());
    for (size_t i = 0; i < n_vocab; i += 97)
      ASSERT_NEAR((*one)[i], batch_logits[t * n_vocab + i], 1e-3) << "position " << t;
  }
}

// Speculative verification scores several drafted tokens in one forward; the logits must be
// bit-for-bit those of decoding them one at a time, or greedy output would change with it.
TEST(ForwardConsistency, VerifyBatchIsBitwiseStepwiseDecode) {
  for (const char* file : {"tiny-qwen2-q8_0.gguf", "tiny-qwen3-q4_k_m.gguf", "tiny-llama-f32.gguf", "tiny-qwen2-f16.gguf"}) {
    auto model = Model::load(kGolden + file);
    ASSERT_TRUE(model.ok()) << model.error().message;
    ThreadPool pool(2);
    const size_t n_vocab = (*model)->config().n_vocab;
    std::vector<int32_t> context;
    for (int i = 0; i < 600; ++i) context.push_back((i * 7919 + 13) % static_cast<int>(n_vocab));
    const std::vector<int32_t> draft = {5, 17, 300, 41, 9, 1000, 2, 77, 3};
    KvCache batched = (*model)->new_cache(1024), stepwise = (*model)->new_cache(1024);
    ASSERT_TRUE((*model)->forward(batched, context, false, pool).ok());
    ASSERT_TRUE((*model)->forward(stepwise, context, false, pool).ok());
    auto all = (*model)->forward(batched, draft, true, pool);
    ASSERT_TRUE(all.ok());
    std::vector<float> batch_logits(all->begin(), all->end());
    for (size_t t = 0; t < draft.size(); ++t) {
      auto one = (*model)->forward(stepwise, std::span(&draft[t], 1), false, pool);
      ASSERT_TRUE(one.ok());
      for (size_t i = 0; i < n_vocab; ++i)
        ASSERT_EQ((*one)[i], batch_logits[t * n_vocab + i]) << file << " position " << t << " logit " << i;
    }
  }
}

TEST(ForwardErrors, ContextFullAndBadIdsAreErrors) {
  auto model = Model::load(kGolden + "tiny-llama-q8_0.gguf");
  ASSERT_TRUE(model.ok()) << model.error().message;
  ThreadPool pool(1);
  KvCache cache = (*model)->new_cache(4);
  const std::vector<int32_t> five = {1, 2, 3, 4, 5};
  auto full = (*model)->forward(cache, five, false, pool);
  ASSERT_FALSE(full.ok());
  EXPECT_NE(full.error().message.find("context"), std::string::npos);
  EXPECT_EQ(cache.size(), 0);
  const std::vector<int32_t> bad = {1, 999999};
  auto out = (*model)->forward(cache, bad, false, pool);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.error().message.find("999999"), std::string::npos);
}

}  // namespace
}  // namespace wafer
