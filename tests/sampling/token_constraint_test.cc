// GrammarConstraint over the real Qwen2.5 vocabulary (151k byte-level BPE tokens): the cached
// mask equals a brute-force check of every token, output sampled from noise always parses
// and validates against its schema, and a tight token budget still closes the output.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <random>
#include <sstream>

#include <boost/json.hpp>

#include "gguf/gguf.h"
#include "sampling/json_schema.h"
#include "sampling/token_constraint.h"
#include "noise_draw.h"
#include "schema_validator.h"

namespace wafer {
namespace {
namespace json = boost::json;

// Unoptimised (sanitizer) builds run a rotating third of the generation runs and fewer brute-
// force states; the release build runs them all.
#ifdef NDEBUG
constexpr bool kAllRuns = true;
#else
constexpr bool kAllRuns = false;
#endif

const std::shared_ptr<const VocabIndex>& qwen2_vocab() {
  static const std::shared_ptr<const VocabIndex> index = [] {
    auto file = GgufFile::open(std::string(WAFER_SHARED_DIR) + "/vocab/ggml-vocab-qwen2.gguf");
    EXPECT_TRUE(file.ok());
    auto tok = Tokenizer::from_gguf(**file);
    EXPECT_TRUE(tok.ok());
    return make_vocab_index(**tok);
  }();
  return index;
}

json::array schema_corpus() {
  std::ifstream in(std::string(WAFER_SOURCE_DIR) + "/tests/sampling/schemas.json");
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str()).as_array();
}

std::shared_ptr<const Grammar> compile(const json::value& schema) {
  Result<Grammar> g = compile_json_schema(schema, true);
  EXPECT_TRUE(g.ok()) << json::serialize(schema) << ": " << (g.ok() ? "" : g.error().message);
  if (!g.ok()) return nullptr;
  return std::make_shared<const Grammar>(std::move(g).value());
}

TEST(GrammarConstraint, MaskEqualsBruteForceOverTheVocabulary) {
  const VocabIndex& vocab = *qwen2_vocab();
  const json::array corpus = schema_corpus();
  std::mt19937_64 rng(5);
  int states = 0;
  const std::vector<size_t> schemas = kAllRuns ? std::vector<size_t>{0, 20, 29, 35} : std::vector<size_t>{20, 35};
  for (size_t which : schemas) {
    auto grammar = compile(corpus[which]);
    ASSERT_TRUE(grammar);
    GrammarConstraint constraint(grammar, qwen2_vocab());
    GrammarMatcher reference(grammar);
    for (int step = 0; step < 6 && !constraint.done(); ++step) {
      const std::vector<uint8_t> allowed = constraint.allowed_tokens();
      std::vector<int32_t> ok_ids;
      for (size_t id = 0; id < vocab.vocab_size(); ++id) {
        const int32_t t = static_cast<int32_t>(id);
        bool expect = false;
        if (vocab.is_end(t)) {
          expect = reference.can_end();
        } else if (!vocab.bytes(t).empty()) {
          GrammarMatcher probe = reference;
          expect = probe.accept_bytes(vocab.bytes(t));
        }
        ASSERT_EQ(allowed[id] != 0, expect) << "schema " << which << " step " << step << " token " << id << " '"
                                            << vocab.bytes(t) << "'";
        if (expect && !vocab.is_end(t)) ok_ids.push_back(t);
      }
      ASSERT_FALSE(ok_ids.empty());
      // Walk on with a random allowed token, preferring long ones to reach deeper states.
      int32_t pick = ok_ids[rng() % ok_ids.size()];
      for (int tries = 0; tries < 8; ++tries) {
        const int32_t t = ok_ids[rng() % ok_ids.size()];
        if (vocab.bytes(t).size() > vocab.bytes(pick).size()) pick = t;
      }
      ASSERT_TRUE(constraint.accept(pick));
      ASSERT_TRUE(reference.accept_bytes(vocab.bytes(pick)));
      ++states;
    }
  }
  EXPECT_GE(states, kAllRuns ? 12 : 6);
}

TEST(GrammarConstraint, NoiseAlwaysComesOutValidForEverySchema) {
  const VocabIndex& vocab = *qwen2_vocab();
  const json::array corpus = schema_corpus();
  ASSERT_GE(corpus.size(), 30u);
  for (size_t i = 0; i < corpus.size(); ++i) {
    auto grammar = compile(corpus[i]);
    ASSERT_TRUE(grammar);
    const std::pair<uint64_t, float> runs[] = {{1, 0.0f}, {2, 0.8f}, {3, 1.5f}};
    for (size_t run = 0; run < 3; ++run) {
      auto [seed, temperature] = runs[run];
      if (!kAllRuns && run != i % 3) continue;
      {
        GrammarConstraint constraint(grammar, qwen2_vocab());
        std::optional<std::string> out = test::draw_from_noise(constraint, vocab, test::sampling(temperature, seed + i * 100), (seed + i * 100) * 7919 + 1, 128);
        ASSERT_TRUE(out.has_value()) << "schema " << i << " seed " << seed << " temperature " << temperature;
        boost::system::error_code ec;
        json::value doc = json::parse(*out, ec);
        ASSERT_FALSE(ec) << "schema " << i << ": not JSON: " << *out;
        const std::string why = test::schema_violation(doc, corpus[i], corpus[i]);
        EXPECT_TRUE(why.empty()) << "schema " << i << ": " << why << "\n" << *out;
      }
    }
  }
}

TEST(GrammarConstraint, ATightBudgetStillCloses) {
  const VocabIndex& vocab = *qwen2_vocab();
  const json::array corpus = schema_corpus();
  for (size_t i : {size_t{21}, size_t{27}, size_t{30}, size_t{32}}) {
    auto grammar = compile(corpus[i]);
    GrammarMatcher probe(grammar);
    // Just enough: the shortest document, one byte per token, plus an end token.
    const int64_t budget = static_cast<int64_t>(probe.min_remaining()) + 1;
    for (uint64_t seed : {3u, 4u, 5u}) {
      GrammarConstraint constraint(grammar, qwen2_vocab());
      std::optional<std::string> out = test::draw_from_noise(constraint, vocab, test::sampling(1.5f, seed), seed * 7919 + 1, budget);
      ASSERT_TRUE(out.has_value()) << "schema " << i << " budget " << budget;
      boost::system::error_code ec;
      json::value doc = json::parse(*out, ec);
      ASSERT_FALSE(ec) << *out;
      EXPECT_TRUE(test::schema_violation(doc, corpus[i], corpus[i]).empty()) << *out;
    }
  }
}

TEST(GrammarConstraint, EndTokensOnlyWhenComplete) {
  auto grammar = compile(json::parse(R"({"type":"array","items":{"type":"integer"}})"));
  GrammarConstraint constraint(grammar, qwen2_vocab());
  const VocabIndex& vocab = *qwen2_vocab();
  ASSERT_FALSE(vocab.end_tokens().empty());
  const int32_t end = vocab.end_tokens()[0];
  EXPECT_FALSE(constraint.allowed_tokens()[static_cast<size_t>(end)]);
  ASSERT_TRUE(constraint.accept_text("[1, 2]"));
  EXPECT_TRUE(constraint.done());
  EXPECT_TRUE(constraint.allowed_tokens()[static_cast<size_t>(end)]);
}

}  // namespace
}  // namespace wafer

namespace wafer {
namespace {

TEST(GrammarConstraint, EqualGrammarsShareOneMaskAnalysis) {
  const json::array corpus = schema_corpus();
  auto first = compile(corpus[20]);
  auto again = compile(corpus[20]);
  auto other = compile(corpus[21]);
  EXPECT_EQ(fingerprint(*first), fingerprint(*again));
  EXPECT_NE(fingerprint(*first), fingerprint(*other));
  auto cache = std::make_shared<MaskCache>();
  const std::string text = R"({"command": ["ls", "-la"], "workdir": "/tmp")";
  GrammarConstraint a(first, qwen2_vocab(), cache);
  std::vector<std::vector<uint8_t>> masks_a;
  for (char c : text) {
    masks_a.push_back(a.allowed_tokens());
    ASSERT_TRUE(a.accept_text(std::string(1, c)));
  }
  EXPECT_GT(a.stats().cache_entries, 0);
  GrammarConstraint b(again, qwen2_vocab(), cache);
  for (size_t i = 0; i < text.size(); ++i) {
    ASSERT_EQ(b.allowed_tokens(), masks_a[i]) << "at byte " << i;
    ASSERT_TRUE(b.accept_text(std::string(1, text[i])));
  }
  EXPECT_EQ(b.stats().cache_entries, 0);  // every position was already analysed
}

}  // namespace
}  // namespace wafer

namespace wafer {
namespace {

// The mask comes before the sampler's chain, so every sampler setting draws among allowed
// tokens only: top-k, top-p, min-p, penalties and a bias pushing a forbidden token hard.
TEST(GrammarConstraint, EverySamplerSettingStaysInsideTheGrammar) {
  const VocabIndex& vocab = *qwen2_vocab();
  const json::array corpus = schema_corpus();
  const json::value& schema = corpus[31];
  auto grammar = compile(schema);
  std::vector<SamplingParams> settings(5);
  settings[0].top_k = 40;
  settings[1].top_p = 0.5f;
  settings[2].min_p = 0.2f;
  settings[3].repetition_penalty = 1.5f;
  settings[3].frequency_penalty = 1.0f;
  settings[3].presence_penalty = 1.0f;
  settings[4].logit_bias = {{static_cast<int32_t>(vocab.find("hello")), 100.0f}};
  for (size_t i = 0; i < settings.size(); ++i) {
    SamplingParams params = settings[i];
    params.temperature = 1.0f;
    params.seed = 40 + i;
    GrammarConstraint constraint(grammar, qwen2_vocab());
    const std::optional<std::string> drawn = test::draw_from_noise(constraint, vocab, params, i + 1, 96);
    ASSERT_TRUE(drawn.has_value()) << "setting " << i;
    const std::string& out = *drawn;
    boost::system::error_code ec;
    json::value doc = json::parse(out, ec);
    ASSERT_FALSE(ec) << "setting " << i << ": " << out;
    EXPECT_EQ(test::schema_violation(doc, schema, schema), "") << out;
  }
}

}  // namespace
}  // namespace wafer
