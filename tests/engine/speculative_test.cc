// Speculative decoding end to end in the engine: the output is the same token for token with
// speculation off, with prompt lookup, and with a correct, a partly wrong and an unrelated
// prediction (greedy, seeded sampling, and under a grammar); usage counts what the
// prediction contributed. The model is the golden tiny Qwen2 (random weights).
#include <future>

#include <gtest/gtest.h>

#include "sampling/json_schema.h"
#include "wafer/engine.h"

namespace wafer {
namespace {

const std::string kModel = std::string(WAFER_SHARED_DIR) + "/golden/tiny-qwen2-q8_0.gguf";

struct Collected {
  std::vector<TokenId> ids;
  DoneEvent done;
};

Collected run(Engine& engine, GenerationRequest request) {
  auto result = std::make_shared<Collected>();
  auto finished = std::make_shared<std::promise<void>>();
  auto sink = [result, finished](Event&& e) {
    if (auto* d = std::get_if<DoneEvent>(&e)) {
      result->done = *d;
      finished->set_value();
    } else if (std::holds_alternative<ErrorEvent>(e)) {
      ADD_FAILURE() << std::get<ErrorEvent>(e).error.message;
      finished->set_value();
    }
  };
  auto handle = engine.submit(std::move(request), sink);
  EXPECT_TRUE(handle.ok());
  if (handle.ok()) finished->get_future().wait();
  result->ids = result->done.output_ids;
  return *result;
}

std::unique_ptr<Engine> make_engine(int speculative_k, bool prompt_lookup) {
  EngineConfig config;
  config.model_path = kModel;
  config.threads = 2;
  config.ctx_size = 1024;
  config.speculative_k = speculative_k;
  config.prompt_lookup = prompt_lookup;
  // Every request prefills its whole prompt the same way: a reused prefix recomputes only the
  // last prompt token, whose logits then differ in the last bits (enough to change a
  // temperature draw), which is a different speed feature than the one under test.
  config.prefix_reuse = false;
  config.prefix_cache_mb = 0;
  auto engine = Engine::create(config);
  EXPECT_TRUE(engine.ok());
  return std::move(*engine);
}

// A prompt that repeats itself, so prompt lookup finds n-grams to draft from.
std::vector<TokenId> repetitive_prompt() {
  std::vector<TokenId> p;
  for (int rep = 0; rep < 6; ++rep) {
    for (TokenId t : {11, 305, 42, 999, 7, 2048, 13, 77, 400, 12}) p.push_back(t);
  }
  return p;
}

GenerationRequest request(float temperature, uint64_t seed, int64_t max_tokens) {
  GenerationRequest r;
  r.prompt = repetitive_prompt();
  r.sampling.temperature = temperature;
  r.sampling.seed = seed;
  r.max_tokens = max_tokens;
  r.ignore_eos = true;
  return r;
}

TEST(Speculative, OutputIsIdenticalWithAndWithoutIt) {
  auto plain = make_engine(0, false);
  auto lookup = make_engine(8, true);
  const std::pair<float, uint64_t> settings[] = {{0.0f, 0}, {0.8f, 11}, {1.2f, 12}};
  for (auto [temperature, seed] : settings) {
    const Collected reference = run(*plain, request(temperature, seed, 96));
    ASSERT_EQ(reference.ids.size(), 96u);
    // Prompt lookup alone.
    EXPECT_EQ(run(*lookup, request(temperature, seed, 96)).ids, reference.ids) << "temperature " << temperature;
    // A correct prediction: the output itself.
    GenerationRequest exact = request(temperature, seed, 96);
    exact.prediction = reference.ids;
    const Collected with_exact = run(*lookup, exact);
    EXPECT_EQ(with_exact.ids, reference.ids);
    EXPECT_GT(with_exact.done.usage.accepted_prediction_tokens, 80);
    // A prediction with every tenth token changed, and one that is unrelated.
    GenerationRequest edited = request(temperature, seed, 96);
    edited.prediction = reference.ids;
    for (size_t i = 5; i < edited.prediction.size(); i += 10) edited.prediction[i] = (edited.prediction[i] + 1) % 4000;
    const Collected with_edited = run(*lookup, edited);
    EXPECT_EQ(with_edited.ids, reference.ids);
    EXPECT_GT(with_edited.done.usage.rejected_prediction_tokens, 0);
    GenerationRequest unrelated = request(temperature, seed, 96);
    unrelated.prediction = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    EXPECT_EQ(run(*lookup, unrelated).ids, reference.ids);
    // Prediction-only drafting (no prompt lookup) as well.
    auto prediction_only = make_engine(8, false);
    EXPECT_EQ(run(*prediction_only, exact).ids, reference.ids);
  }
  const EngineStats stats = lookup->stats();
  EXPECT_GT(stats.drafted_tokens, 0);
  EXPECT_GT(stats.accepted_draft_tokens, 0);
  // Fewer forwards than tokens: drafts were kept.
  EXPECT_LT(stats.decode_steps, stats.decoded_tokens);
}

TEST(Speculative, UnderAGrammarDraftsAreCutToWhatItAllows) {
  auto plain = make_engine(0, false);
  auto spec = make_engine(8, true);
  auto grammar = std::make_shared<const Grammar>(std::move(compile_json_schema(boost::json::parse(
      R"({"type":"object","properties":{"a":{"type":"array","items":{"type":"integer"}}},"required":["a"]})"), true)).value());
  for (uint64_t seed : {1u, 2u}) {
    GenerationRequest r = request(1.0f, seed, 64);
    r.ignore_eos = false;
    r.grammar = grammar;
    const Collected reference = run(*plain, r);
    r.prediction = reference.ids;
    const Collected with_prediction = run(*spec, r);
    EXPECT_EQ(with_prediction.ids, reference.ids);
    // A prediction the grammar rejects from its first token changes nothing either.
    r.prediction = {999, 999, 999, 999};
    EXPECT_EQ(run(*spec, r).ids, reference.ids);
  }
}

// A draft model drafts where prompt lookup finds nothing: the output stays the sampler's,
// drafts are kept when the draft agrees (always, greedy, when it is the same model).
TEST(Speculative, DraftModelDraftsAndTheOutputStaysTheSame) {
  auto plain = make_engine(0, false);
  auto make_drafting = [](const std::string& draft) {
    EngineConfig config;
    config.model_path = kModel;
    config.threads = 2;
    config.ctx_size = 1024;
    config.speculative_k = 4;
    config.prompt_lookup = false;
    config.prefix_reuse = false;
    config.prefix_cache_mb = 0;
    config.draft_model_path = draft;
    auto engine = Engine::create(config);
    EXPECT_TRUE(engine.ok()) << (engine.ok() ? "" : engine.error().message);
    return std::move(*engine);
  };
  auto same = make_drafting(kModel);
  auto other = make_drafting(std::string(WAFER_SHARED_DIR) + "/golden/tiny-qwen2-f16.gguf");
  std::vector<TokenId> prompt;
  for (TokenId i = 0; i < 20; ++i) prompt.push_back(100 + i * 37);
  const std::pair<float, uint64_t> settings[] = {{0.0f, 0}, {0.9f, 3}};
  for (auto [temperature, seed] : settings) {
    GenerationRequest r = request(temperature, seed, 48);
    r.prompt = prompt;
    const Collected reference = run(*plain, r);
    ASSERT_EQ(reference.ids.size(), 48u);
    const int64_t kept_before = same->stats().accepted_draft_tokens;
    const int64_t drafted_before = same->stats().drafted_tokens;
    EXPECT_EQ(run(*same, r).ids, reference.ids) << "temperature " << temperature;
    EXPECT_EQ(run(*other, r).ids, reference.ids) << "temperature " << temperature;
    const int64_t kept = same->stats().accepted_draft_tokens - kept_before;
    const int64_t drafted = same->stats().drafted_tokens - drafted_before;
    // 47 tokens after the first in steps of at most 4 kept drafts + 1.
    if (temperature == 0.0f) {
      EXPECT_GE(kept, 35) << "the model drafting for itself, greedy";
      EXPECT_GE(kept * 10, drafted * 9);
    }
  }
  EXPECT_GT(other->stats().drafted_tokens, 0);
}

}  // namespace
}  // namespace wafer
