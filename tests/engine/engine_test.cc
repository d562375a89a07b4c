// The engine thread: events in order, KV reuse across turns of a named slot (only new tokens
// computed), warm-up, cancellation, the in-flight limit, and agreement with generate().
#include <future>

#include <gtest/gtest.h>

#include "engine/generate.h"
#include "wafer/engine.h"

namespace wafer {
namespace {

const std::string kModel = std::string(WAFER_SHARED_DIR) + "/golden/tiny-qwen2-q8_0.gguf";

struct Collected {
  std::vector<TokenId> ids;
  std::string text;
  DoneEvent done;
  std::optional<Error> error;
};

// Submits and waits for the final event.
Collected run(Engine& engine, GenerationRequest request) {
  auto result = std::make_shared<Collected>();
  auto finished = std::make_shared<std::promise<void>>();
  auto sink = [result, finished](Event&& e) {
    if (auto* t = std::get_if<TokenEvent>(&e)) {
      if (t->id >= 0) result->ids.push_back(t->id);
      result->text += t->text;
    } else if (auto* d = std::get_if<DoneEvent>(&e)) {
      result->done = *d;
      finished->set_value();
    } else {
      result->error = std::get<ErrorEvent>(e).error;
      finished->set_value();
    }
  };
  auto handle = engine.submit(std::move(request), sink);
  EXPECT_TRUE(handle.ok()) << (handle.ok() ? "" : handle.error().message);
  if (handle.ok()) finished->get_future().wait();
  return *result;
}

std::unique_ptr<Engine> make_engine(int max_pending = 8) {
  EngineConfig config;
  config.model_path = kModel;
  config.threads = 2;
  config.ctx_size = 512;
  config.max_pending = max_pending;
  auto engine = Engine::create(config);
  EXPECT_TRUE(engine.ok());
  return std::move(*engine);
}

GenerationRequest greedy(std::vector<TokenId> prompt, int64_t max_tokens) {
  GenerationRequest r;
  r.prompt = std::move(prompt);
  r.sampling.temperature = 0;
  r.max_tokens = max_tokens;
  r.ignore_eos = true;
  return r;
}

TEST(Engine, MatchesTheSingleSequenceGenerator) {
  auto engine = make_engine();
  const std::vector<TokenId> prompt = {100, 200, 300, 400, 500};
  Collected got = run(*engine, greedy(prompt, 12));
  ASSERT_FALSE(got.error);
  EXPECT_EQ(got.done.finish_reason, "length");
  EXPECT_EQ(got.done.usage.prompt_tokens, 5);
  EXPECT_EQ(got.done.usage.completion_tokens, 12);

  auto model = Model::load(kModel);
  ASSERT_TRUE(model.ok());
  ThreadPool pool(1);
  KvCache cache = (*model)->new_cache(512);
  GenerateOptions opt;
  opt.max_tokens = 12;
  opt.sampling.temperature = 0;
  opt.ignore_eos = true;
  auto want = generate(**model, cache, prompt, opt, pool, nullptr);
  ASSERT_TRUE(want.ok());
  EXPECT_EQ(got.done.output_ids, want->ids);
  EXPECT_EQ(got.text, want->text);
}

TEST(Engine, NamedSlotContinuationComputesOnlyNewTokens) {
  auto engine = make_engine();
  GenerationRequest warm = greedy({10, 20, 30, 40, 50, 60, 70, 80}, 0);
  warm.cache_slot = "conn-1";
  warm.generate = false;
  Collected w = run(*engine, warm);
  ASSERT_FALSE(w.error);
  EXPECT_EQ(w.done.usage.cached_tokens, 0);
  EXPECT_EQ(engine->stats().prefill_tokens, 8);

  GenerationRequest turn = greedy({10, 20, 30, 40, 50, 60, 70, 80, 90, 91, 92}, 4);
  turn.cache_slot = "conn-1";
  Collected t = run(*engine, turn);
  ASSERT_FALSE(t.error);
  EXPECT_EQ(t.done.usage.cached_tokens, 8);
  EXPECT_EQ(engine->stats().prefill_tokens, 8 + 3);

  // The next turn resends everything so far: the generated tokens' KV is reused too
  // (all but the last sampled token, which was never fed back).
  std::vector<TokenId> next = turn.prompt;
  next.insert(next.end(), t.done.output_ids.begin(), t.done.output_ids.end());
  next.push_back(7);
  GenerationRequest turn2 = greedy(next, 2);
  turn2.cache_slot = "conn-1";
  Collected t2 = run(*engine, turn2);
  EXPECT_EQ(t2.done.usage.cached_tokens, static_cast<int64_t>(turn.prompt.size() + 3));

  // Reused KV gives the same tokens as computing from scratch.
  GenerationRequest fresh = greedy(next, 2);
  fresh.cache_slot = "other";
  Collected f = run(*engine, fresh);
  EXPECT_EQ(f.done.usage.cached_tokens, 0);
  EXPECT_EQ(f.done.output_ids, t2.done.output_ids);

  engine->release_slot("conn-1");
  Collected after = run(*engine, turn2);
  EXPECT_EQ(after.done.usage.cached_tokens, 0);
}

TEST(Engine, CancelStopsAtTheNextStep) {
  auto engine = make_engine();
  auto finished = std::make_shared<std::promise<DoneEvent>>();
  auto count = std::make_shared<int>(0);
  std::shared_ptr<RequestHandle> handle = std::make_shared<RequestHandle>();
  auto result = engine->submit(greedy({1, 2, 3}, 400), [=](Event&& e) {
    if (std::holds_alternative<TokenEvent>(e) && ++*count == 3) handle->cancel();
    if (auto* d = std::get_if<DoneEvent>(&e)) finished->set_value(*d);
  });
  ASSERT_TRUE(result.ok());
  *handle = *result;
  DoneEvent done = finished->get_future().get();
  EXPECT_EQ(done.finish_reason, "cancelled");
  EXPECT_LT(done.usage.completion_tokens, 400);
}

TEST(Engine, ErrorsForBadRequests) {
  auto engine = make_engine();
  auto empty = engine->submit(greedy({}, 1), [](Event&&) {});
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code, ErrorCode::kInvalidArgument);
  auto too_long = engine->submit(greedy(std::vector<TokenId>(600, 5), 1), [](Event&&) {});
  ASSERT_FALSE(too_long.ok());
  EXPECT_EQ(too_long.error().code, ErrorCode::kOutOfRange);
  GenerationRequest bad = greedy({1}, 1);
  bad.sampling.top_p = 3;
  auto bad_sampling = engine->submit(bad, [](Event&&) {});
  ASSERT_FALSE(bad_sampling.ok());
  EXPECT_NE(bad_sampling.error().message.find("top_p"), std::string::npos);
}

TEST(Engine, RefusesBeyondThePendingLimit) {
  auto engine = make_engine(1);
  auto release = std::make_shared<std::promise<void>>();
  auto gate = release->get_future().share();
  auto done = std::make_shared<std::promise<void>>();
  // The first request's sink blocks the engine thread until the test has probed the limit.
  auto first = engine->submit(greedy({1, 2}, 2), [gate, done](Event&& e) {
    gate.wait();
    if (std::holds_alternative<DoneEvent>(e)) done->set_value();
  });
  ASSERT_TRUE(first.ok());
  auto second = engine->submit(greedy({1, 2}, 2), [](Event&&) {});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, ErrorCode::kResourceExhausted);
  release->set_value();
  done->get_future().wait();
}

TEST(Engine, StopStringsEndTheText) {
  auto engine = make_engine();
  Collected all = run(*engine, greedy({100, 200, 300}, 16));
  ASSERT_GE(all.text.size(), 4u);
  GenerationRequest r = greedy({100, 200, 300}, 16);
  r.stop = {all.text.substr(2, 2)};
  Collected cut = run(*engine, r);
  EXPECT_EQ(cut.done.finish_reason, "stop");
  EXPECT_EQ(cut.text, all.text.substr(0, all.text.find(r.stop[0])));
}

}  // namespace
}  // namespace wafer
