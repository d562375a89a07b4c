// Continuous batching: concurrent requests decode in shared forwards and each one's output
// is exactly what it gives alone (greedy, seeded sampling, speculation on); new requests join
// between steps; a long prompt is computed in chunks with running streams still producing
// between them; cancelling one stream leaves the others untouched.
#include <future>
#include <mutex>

#include <gtest/gtest.h>

#include "wafer/engine.h"

namespace wafer {
namespace {

const std::string kModel = std::string(WAFER_SHARED_DIR) + "/golden/tiny-qwen2-q8_0.gguf";

std::unique_ptr<Engine> make_engine(int speculative_k, int max_batch = 8) {
  EngineConfig config;
  config.model_path = kModel;
  config.threads = 2;
  config.ctx_size = 2048;
  config.speculative_k = speculative_k;
  config.max_batch = max_batch;
  config.prefix_cache_mb = 0;  // every request computes its whole prompt, alone or batched
  config.prefix_reuse = false;
  auto engine = Engine::create(config);
  EXPECT_TRUE(engine.ok());
  return std::move(*engine);
}

// Every event of every request, in the order the engine emitted them.
struct Log {
  std::mutex mu;
  std::vector<std::pair<int, int>> order;  // (request, 0 token / 1 done)
  std::map<int, std::vector<TokenId>> ids;
  std::map<int, DoneEvent> done;
  std::map<int, std::promise<void>> finished;
};

// The sink shares the log, so it outlives a test that stops waiting once it sees the end.
RequestHandle submit(Engine& engine, const std::shared_ptr<Log>& shared, int index, GenerationRequest r) {
  {
    std::lock_guard<std::mutex> lock(shared->mu);
    shared->finished[index];
  }
  auto handle = engine.submit(std::move(r), [shared, index](Event&& e) {
    Log& log = *shared;
    std::lock_guard<std::mutex> lock(log.mu);
    if (auto* t = std::get_if<TokenEvent>(&e)) {
      if (t->id >= 0) log.ids[index].push_back(t->id);
      log.order.push_back({index, 0});
    } else if (auto* d = std::get_if<DoneEvent>(&e)) {
      log.done[index] = *d;
      log.order.push_back({index, 1});
      log.finished[index].set_value();
    } else {
      ADD_FAILURE() << std::get<ErrorEvent>(e).error.message;
      log.finished[index].set_value();
    }
  });
  EXPECT_TRUE(handle.ok());
  return *handle;
}

void wait(const std::shared_ptr<Log>& shared, int index) {
  Log& log = *shared;
  std::future<void> f;
  {
    std::lock_guard<std::mutex> lock(log.mu);
    f = log.finished[index].get_future();
  }
  f.wait();
}

std::vector<TokenId> prompt(size_t n, TokenId base) {
  std::vector<TokenId> p(n);
  for (size_t i = 0; i < n; ++i) p[i] = base + static_cast<TokenId>((i * 31 + i / 7) % 700);
  return p;
}

GenerationRequest request(std::vector<TokenId> p, float temperature, uint64_t seed, int64_t max_tokens) {
  GenerationRequest r;
  r.prompt = std::move(p);
  r.sampling.temperature = temperature;
  r.sampling.seed = seed;
  r.max_tokens = max_tokens;
  r.ignore_eos = true;
  return r;
}

std::vector<GenerationRequest> mixed_requests() {
  std::vector<GenerationRequest> rs;
  rs.push_back(request(prompt(12, 100), 0.0f, 0, 40));
  rs.push_back(request(prompt(300, 900), 0.9f, 5, 33));  // more than one prompt chunk
  std::vector<TokenId> repetitive;
  for (int rep = 0; rep < 6; ++rep)
    for (TokenId t : {11, 305, 42, 999, 7, 2048, 13, 77}) repetitive.push_back(t);
  rs.push_back(request(repetitive, 0.0f, 0, 50));  // prompt lookup drafts plenty
  rs.push_back(request(prompt(5, 2500), 1.3f, 9, 27));
  return rs;
}

TEST(Batching, ConcurrentOutputsEqualLoneOnes) {
  for (int k : {0, 8}) {
    auto engine = make_engine(k);
    std::vector<GenerationRequest> rs = mixed_requests();
    rs[2].prediction = {999, 7, 2048, 13, 77, 11, 305};
    std::vector<std::vector<TokenId>> alone;
    for (size_t i = 0; i < rs.size(); ++i) {
      auto log = std::make_shared<Log>();
      submit(*engine, log, 0, rs[i]);
      wait(log, 0);
      alone.push_back(log->ids[0]);
      ASSERT_EQ(alone.back().size(), static_cast<size_t>(rs[i].max_tokens));
    }
    const int64_t steps_before = engine->stats().decode_steps;
    auto log = std::make_shared<Log>();
    for (size_t i = 0; i < rs.size(); ++i) submit(*engine, log, static_cast<int>(i), rs[i]);
    for (size_t i = 0; i < rs.size(); ++i) wait(log, static_cast<int>(i));
    for (size_t i = 0; i < rs.size(); ++i) EXPECT_EQ(log->ids[static_cast<int>(i)], alone[i]) << "request " << i << " k " << k;
    // Streams shared forwards: fewer steps than the longest stream alone plus the others.
    const int64_t steps = engine->stats().decode_steps - steps_before;
    EXPECT_LT(steps, 40 + 33 + 27) << "k " << k;
  }
}

TEST(Batching, NewRequestsJoinBetweenStepsAndLongPromptsAreChunked) {
  auto engine = make_engine(0);
  auto log = std::make_shared<Log>();
  submit(*engine, log, 0, request(prompt(8, 100), 0.0f, 0, 400));
  // Wait until the first stream is decoding.
  for (;;) {
    std::lock_guard<std::mutex> lock(log->mu);
    if (log->ids[0].size() >= 3) break;
  }
  size_t a_before;
  {
    std::lock_guard<std::mutex> lock(log->mu);
    a_before = log->order.size();
  }
  submit(*engine, log, 1, request(prompt(1000, 300), 0.0f, 0, 4));  // four chunks of 256
  wait(log, 1);
  wait(log, 0);
  // Between the second request's submission and its first token, the first stream kept
  // producing: at least one token per chunk but the last.
  size_t a_tokens = 0;
  bool b_started = false;
  for (size_t i = a_before; i < log->order.size() && !b_started; ++i) {
    if (log->order[i].first == 1) b_started = true;
    else if (log->order[i].second == 0) ++a_tokens;
  }
  EXPECT_TRUE(b_started);
  EXPECT_GE(a_tokens, 3u);
  // And the second finished long before the first.
  const auto done_b = std::find(log->order.begin(), log->order.end(), std::make_pair(1, 1));
  const auto done_a = std::find(log->order.begin(), log->order.end(), std::make_pair(0, 1));
  EXPECT_LT(done_b - log->order.begin(), done_a - log->order.begin());
}

TEST(Batching, CancellingOneStreamLeavesTheOthers) {
  auto engine = make_engine(8);
  std::vector<GenerationRequest> rs = mixed_requests();
  std::vector<std::vector<TokenId>> alone;
  for (const GenerationRequest& r : rs) {
    auto log = std::make_shared<Log>();
    submit(*engine, log, 0, r);
    wait(log, 0);
    alone.push_back(log->ids[0]);
  }
  auto log = std::make_shared<Log>();
  std::vector<RequestHandle> handles;
  GenerationRequest endless = request(prompt(20, 50), 0.0f, 0, -1);
  handles.push_back(submit(*engine, log, 9, endless));
  for (size_t i = 0; i < rs.size(); ++i) handles.push_back(submit(*engine, log, static_cast<int>(i), rs[i]));
  for (;;) {
    std::lock_guard<std::mutex> lock(log->mu);
    if (log->ids[9].size() >= 5) break;
  }
  handles[0].cancel();
  wait(log, 9);
  for (size_t i = 0; i < rs.size(); ++i) wait(log, static_cast<int>(i));
  EXPECT_EQ(log->done[9].finish_reason, "cancelled");
  for (size_t i = 0; i < rs.size(); ++i) {
    EXPECT_EQ(log->ids[static_cast<int>(i)], alone[i]) << "request " << i;
    EXPECT_EQ(log->done[static_cast<int>(i)].finish_reason, "length");
  }
  EXPECT_EQ(engine->stats().active_requests, 0);
}

TEST(Batching, BeyondMaxBatchRequestsWaitTheirTurn) {
  auto engine = make_engine(0, 2);
  std::vector<GenerationRequest> rs = mixed_requests();
  auto log = std::make_shared<Log>();
  for (size_t i = 0; i < rs.size(); ++i) submit(*engine, log, static_cast<int>(i), rs[i]);
  for (size_t i = 0; i < rs.size(); ++i) wait(log, static_cast<int>(i));
  // Only two run at once: the third's first token comes after one of the first two is done.
  const auto first_done = std::find_if(log->order.begin(), log->order.end(), [](auto e) { return e.second == 1; });
  const auto third_first = std::find_if(log->order.begin(), log->order.end(), [](auto e) { return e.first >= 2; });
  EXPECT_LT(first_done - log->order.begin(), third_first - log->order.begin());
  for (size_t i = 0; i < rs.size(); ++i)
    EXPECT_EQ(log->ids[static_cast<int>(i)].size(), static_cast<size_t>(rs[i].max_tokens));
}

}  // namespace
}  // namespace wafer
