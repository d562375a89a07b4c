// The shared prefix cache: randomised operations checked against a plain model of what was
// stored (every block found holds the KV of exactly its prefix; without eviction the longest
// stored prefix is found; the bookkeeping stays consistent and within budget), LRU order of
// eviction, the KV cache's block export and import, and the engine reusing blocks across
// unrelated requests with output identical to computing everything.
#include <future>
#include <map>
#include <chrono>
#include <random>
#include <thread>
#include <set>

#include <gtest/gtest.h>

#include "engine/prefix_cache.h"
#include "model/model.h"
#include "wafer/engine.h"

namespace wafer {
namespace {

constexpr size_t kBlock = 4;
constexpr size_t kBlockBytes = 24;

// The data a block of `tokens` ending at `end` must hold: a function of the whole prefix.
std::vector<uint8_t> expected_block(std::span<const TokenId> tokens, size_t end) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < end; ++i) h = (h ^ static_cast<uint64_t>(tokens[i] + 1)) * 1099511628211ull;
  std::vector<uint8_t> out(kBlockBytes);
  for (size_t i = 0; i < kBlockBytes; ++i) out[i] = static_cast<uint8_t>(h >> (8 * (i % 8))) ^ static_cast<uint8_t>(i);
  return out;
}

size_t insert(PrefixCache& cache, std::span<const TokenId> tokens) {
  return cache.insert(tokens, [&](size_t pos, uint8_t* out) {
    const std::vector<uint8_t> want = expected_block(tokens, pos + kBlock);
    std::copy(want.begin(), want.end(), out);
  });
}

std::vector<TokenId> random_tokens(std::mt19937& rng, size_t max_len) {
  // Few distinct tokens and shared openings so prefixes overlap often.
  std::uniform_int_distribution<size_t> len(0, max_len);
  std::uniform_int_distribution<int> tok(0, 2);
  std::vector<TokenId> t(len(rng));
  for (TokenId& x : t) x = tok(rng);
  return t;
}

// Checks that every block match() returns holds its own prefix's data; returns the count.
size_t checked_match(PrefixCache& cache, std::span<const TokenId> tokens) {
  const std::vector<const uint8_t*> blocks = cache.match(tokens);
  for (size_t b = 0; b < blocks.size(); ++b) {
    const std::vector<uint8_t> want = expected_block(tokens, (b + 1) * kBlock);
    EXPECT_TRUE(std::equal(want.begin(), want.end(), blocks[b])) << "block " << b << " holds another prefix's KV";
  }
  return blocks.size();
}

TEST(PrefixCache, WithoutEvictionFindsTheLongestStoredPrefix) {
  std::mt19937 rng(7);
  PrefixCache cache({kBlock, kBlockBytes, 1 << 30});
  std::set<std::vector<TokenId>> stored;  // every whole-block prefix inserted so far
  for (int op = 0; op < 3000; ++op) {
    const std::vector<TokenId> t = random_tokens(rng, 40);
    if (rng() % 2 == 0) {
      insert(cache, t);
      for (size_t end = kBlock; end <= t.size(); end += kBlock) stored.insert({t.begin(), t.begin() + end});
    } else {
      size_t want = 0;
      while ((want + 1) * kBlock <= t.size() &&
             stored.count({t.begin(), t.begin() + (want + 1) * kBlock}) != 0)
        ++want;
      ASSERT_EQ(checked_match(cache, t), want) << "op " << op;
    }
    if (op % 100 == 0) {
      ASSERT_EQ(cache.check_invariants(), "");
    }
  }
  EXPECT_EQ(cache.num_blocks(), stored.size());
  EXPECT_EQ(cache.evicted_blocks(), 0u);
}

TEST(PrefixCache, UnderABudgetStaysConsistentAndKeepsTheNewest) {
  for (size_t budget_blocks : {0, 1, 3, 8, 20}) {
    std::mt19937 rng(11 + static_cast<unsigned>(budget_blocks));
    PrefixCache cache({kBlock, kBlockBytes, budget_blocks * kBlockBytes});
    for (int op = 0; op < 4000; ++op) {
      const std::vector<TokenId> t = random_tokens(rng, 48);
      if (rng() % 3 != 0) {
        insert(cache, t);
        // What was just inserted is held, as far as the budget allows.
        const size_t whole = t.size() / kBlock;
        ASSERT_EQ(checked_match(cache, t), std::min(whole, budget_blocks)) << "budget " << budget_blocks;
      } else {
        checked_match(cache, t);
      }
      ASSERT_LE(cache.bytes(), budget_blocks * kBlockBytes);
      if (op % 50 == 0) {
        ASSERT_EQ(cache.check_invariants(), "") << "budget " << budget_blocks << " op " << op;
      }
    }
    ASSERT_EQ(cache.check_invariants(), "");
    if (budget_blocks > 0) {
      EXPECT_GT(cache.evicted_blocks(), 0u);
    }
  }
}

TEST(PrefixCache, EvictsTheLeastRecentlyUsedPrefixFirst) {
  PrefixCache cache({kBlock, kBlockBytes, 4 * kBlockBytes});
  const std::vector<TokenId> a = {1, 1, 1, 1, 2, 2, 2, 2};
  const std::vector<TokenId> b = {3, 3, 3, 3, 4, 4, 4, 4};
  const std::vector<TokenId> c = {5, 5, 5, 5, 6, 6, 6, 6};
  EXPECT_EQ(insert(cache, a), 2u);
  EXPECT_EQ(insert(cache, b), 2u);
  EXPECT_EQ(checked_match(cache, a), 2u);  // a is now the more recent
  EXPECT_EQ(insert(cache, c), 2u);         // evicts b, leaf first, then its parent
  EXPECT_EQ(checked_match(cache, a), 2u);
  EXPECT_EQ(checked_match(cache, b), 0u);
  EXPECT_EQ(checked_match(cache, c), 2u);
  EXPECT_EQ(cache.evicted_blocks(), 2u);
  // A shared opening is held once: a's first block serves d too.
  const std::vector<TokenId> d = {1, 1, 1, 1, 7, 7, 7, 7};
  EXPECT_EQ(insert(cache, d), 1u);
  EXPECT_EQ(checked_match(cache, d), 2u);
  EXPECT_EQ(cache.check_invariants(), "");
}

// Positions [first, first + n) of a and b hold the same keys and values, in every layer.
void expect_same_positions(const KvCache& a, const KvCache& b, int64_t first, int64_t n, int64_t b_first = -1) {
  if (b_first < 0) b_first = first;
  const size_t dim = static_cast<size_t>(a.kv_dim());
  std::vector<float> ka(dim), va(dim), kb(dim), vb(dim);
  for (int64_t l = 0; l < a.n_layer(); ++l)
    for (int64_t p = 0; p < n; ++p) {
      a.read(l, first + p, ka.data(), va.data());
      b.read(l, b_first + p, kb.data(), vb.data());
      ASSERT_EQ(ka, kb) << "layer " << l << " position " << first + p;
      ASSERT_EQ(va, vb) << "layer " << l << " position " << first + p;
    }
}

TEST(PrefixCache, KvPositionsSurviveExportAndImport) {
  ModelConfig config;
  config.n_layer = 3;
  config.n_head = 2;
  config.n_head_kv = 1;
  config.n_embd = 16;
  config.head_dim = 8;
  KvCache src(config, 64);
  ASSERT_TRUE(src.reserve_more(40));
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-2, 2);
  std::vector<float> k(static_cast<size_t>(src.kv_dim())), v(k.size());
  for (int64_t pos = 0; pos < 40; ++pos)
    for (int64_t l = 0; l < 3; ++l) {
      for (size_t i = 0; i < k.size(); ++i) k[i] = u(rng), v[i] = u(rng);
      src.write(l, pos, k.data(), v.data());
    }
  src.commit(40);
  // Two 16-position blocks, then a copy that starts partway into the first.
  std::vector<uint8_t> b0(src.run_bytes(16)), b1(b0.size());
  src.export_positions(0, 16, b0.data());
  src.export_positions(16, 16, b1.data());
  KvCache dst(config, 64);
  ASSERT_TRUE(dst.reserve_more(5));
  std::vector<float> kr(k.size()), vr(v.size());
  for (int64_t pos = 0; pos < 5; ++pos)
    for (int64_t l = 0; l < 3; ++l) {
      src.read(l, pos, kr.data(), vr.data());
      dst.write(l, pos, kr.data(), vr.data());
    }
  dst.commit(5);
  ASSERT_TRUE(dst.import_positions(11, b0.data(), 16, 5));
  ASSERT_TRUE(dst.import_positions(16, b1.data(), 16, 0));
  ASSERT_EQ(dst.size(), 32);
  expect_same_positions(dst, src, 0, 32);
  KvCache full(config, 8);
  EXPECT_FALSE(full.import_positions(9, b0.data(), 16, 0));

  // Runs that start and end inside key tiles, imported where the tiles do not line up.
  for (int64_t type = 0; type < 2; ++type) {
    const DType kv_type = type == 0 ? DType::kF16 : DType::kF32;
    KvCache from(config, 100, kv_type);
    ASSERT_TRUE(from.reserve_more(90));
    for (int64_t pos = 0; pos < 90; ++pos)
      for (int64_t l = 0; l < 3; ++l) {
        for (size_t i = 0; i < k.size(); ++i) k[i] = u(rng), v[i] = u(rng);
        from.write(l, pos, k.data(), v.data());
      }
    from.commit(90);
    for (int64_t at : {0, 3, 31, 32}) {
      std::vector<uint8_t> run(from.run_bytes(45));
      from.export_positions(7, 45, run.data());  // positions 7..51: two tile boundaries
      KvCache to(config, 100, kv_type);
      ASSERT_TRUE(to.reserve_more(at));
      for (int64_t pos = 0; pos < at; ++pos)
        for (int64_t l = 0; l < 3; ++l) {
          from.read(l, pos, kr.data(), vr.data());
          to.write(l, pos, kr.data(), vr.data());
        }
      to.commit(at);
      ASSERT_TRUE(to.import_positions(40, run.data(), 45, 4));  // from's positions 11..50
      ASSERT_EQ(to.size(), at + 40);
      expect_same_positions(to, from, at, 40, 11);
    }
  }
}

// ---- the engine ----------------------------------------------------------------------------

const std::string kModel = std::string(WAFER_SHARED_DIR) + "/golden/tiny-qwen2-q8_0.gguf";

DoneEvent run(Engine& engine, GenerationRequest request) {
  auto done = std::make_shared<std::promise<DoneEvent>>();
  auto handle = engine.submit(std::move(request), [done](Event&& e) {
    if (auto* d = std::get_if<DoneEvent>(&e)) done->set_value(*d);
    if (auto* err = std::get_if<ErrorEvent>(&e)) {
      ADD_FAILURE() << err->error.message;
      done->set_value({});
    }
  });
  EXPECT_TRUE(handle.ok());
  return done->get_future().get();
}

std::unique_ptr<Engine> make_engine(int64_t prefix_cache_mb) {
  EngineConfig config;
  config.model_path = kModel;
  config.threads = 2;
  config.ctx_size = 1024;
  config.prefix_cache_mb = prefix_cache_mb;
  config.prefix_block_tokens = 16;
  config.prefix_reuse = prefix_cache_mb > 0;
  auto engine = Engine::create(config);
  EXPECT_TRUE(engine.ok());
  return std::move(*engine);
}

GenerationRequest greedy(std::vector<TokenId> prompt, int64_t max_tokens = 10) {
  GenerationRequest r;
  r.prompt = std::move(prompt);
  r.sampling.temperature = 0;
  r.max_tokens = max_tokens;
  r.ignore_eos = true;
  return r;
}

std::vector<TokenId> tokens(size_t n, TokenId base) {
  std::vector<TokenId> t(n);
  for (size_t i = 0; i < n; ++i) t[i] = base + static_cast<TokenId>((i * 37) % 500);
  return t;
}

// Reused KV must be exactly what computing it gives. Numerics depend on the kernel a
// forward's token count picks (integer matvec below 32 tokens, panel products from 32), so
// each comparison runs its uncached part through the same kind of forward on both sides.
TEST(PrefixCacheEngine, UnrelatedRequestsInBetweenDoNotLoseAPrefix) {
  auto cached = make_engine(64);
  auto plain = make_engine(0);
  const std::vector<TokenId> system = tokens(100, 1000);  // a shared system prompt
  std::vector<TokenId> first = system;
  first.push_back(5);
  std::vector<TokenId> other = tokens(70, 3000);
  std::vector<TokenId> second = system;
  const std::vector<TokenId> question = tokens(40, 2000);
  second.insert(second.end(), question.begin(), question.end());

  EXPECT_EQ(run(*cached, greedy(first)).usage.cached_tokens, 0);
  EXPECT_EQ(run(*cached, greedy(other)).usage.cached_tokens, 0);  // the anonymous slot moves on
  const DoneEvent got = run(*cached, greedy(second));
  EXPECT_EQ(got.usage.cached_tokens, 96);  // six whole 16-token blocks of the system prompt
  const DoneEvent want = run(*plain, greedy(second));
  EXPECT_EQ(want.usage.cached_tokens, 0);
  EXPECT_EQ(got.output_ids, want.output_ids);

  // cache_prompt:false computes everything and caches nothing.
  GenerationRequest uncached = greedy(second);
  uncached.cache_prompt = false;
  const DoneEvent u = run(*cached, uncached);
  EXPECT_EQ(u.usage.cached_tokens, 0);
  EXPECT_EQ(u.output_ids, want.output_ids);
  EXPECT_GT(cached->stats().prefix_cache_blocks, 0);
  EXPECT_EQ(plain->stats().prefix_cache_blocks, 0);
}

// A finished request's blocks are copied once the engine has idled a moment, with no later
// request to prompt it; a quick follow-up that continues the same named slot does not wait
// for the copy and still leaves everything saved when it ends.
TEST(PrefixCacheEngine, BlocksAreSavedWhenTheEngineIdles) {
  auto cached = make_engine(64);
  auto blocks = [&] { return cached->stats().prefix_cache_blocks; };
  auto wait_for_blocks = [&](int64_t want) {
    for (int i = 0; i < 500 && blocks() < want; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    return blocks();
  };
  GenerationRequest first = greedy(tokens(100, 1000), 12);
  first.cache_slot = "agent";
  const DoneEvent a = run(*cached, first);
  EXPECT_EQ(wait_for_blocks(6), 6);  // 100 + 11 positions: six whole 16-token blocks

  GenerationRequest next = first;
  next.prompt.insert(next.prompt.end(), a.output_ids.begin(), a.output_ids.end());
  const std::vector<TokenId> more = tokens(60, 2000);
  next.prompt.insert(next.prompt.end(), more.begin(), more.end());
  const DoneEvent b = run(*cached, next);
  EXPECT_EQ(b.usage.cached_tokens, 111);  // the slot's own positions: prompt and 11 outputs
  GenerationRequest again = next;  // at once, on the same slot
  again.prompt.push_back(7);
  const DoneEvent c = run(*cached, again);
  EXPECT_EQ(c.usage.cached_tokens, static_cast<int64_t>(next.prompt.size()));
  const int64_t held = (static_cast<int64_t>(again.prompt.size()) + 11) / 16;  // the slot's whole blocks
  EXPECT_EQ(wait_for_blocks(held), held);
  EXPECT_EQ(cached->stats().prefix_cache_blocks, held);

  // Another connection's request over the same prompt finds its whole blocks in the prefix
  // cache, the ones `next` left unsaved included.
  GenerationRequest elsewhere = again;
  elsewhere.cache_slot = "other";
  EXPECT_EQ(run(*cached, elsewhere).usage.cached_tokens, static_cast<int64_t>(again.prompt.size()) / 16 * 16);
}

TEST(PrefixCacheEngine, GeneratedTokensAreCachedToo) {
  auto cached = make_engine(64);
  const std::vector<TokenId> first = tokens(101, 1000);
  const DoneEvent a = run(*cached, greedy(first, 30));
  run(*cached, greedy(tokens(70, 3000)));
  std::vector<TokenId> turn = first;
  turn.insert(turn.end(), a.output_ids.begin(), a.output_ids.end());
  turn.push_back(9);
  const DoneEvent t = run(*cached, greedy(turn));
  EXPECT_EQ(t.usage.cached_tokens, 128);  // 101 prompt + 29 fed-back output tokens: eight blocks

  // The same history on an engine that only keeps its last sequence.
  EngineConfig config;
  config.model_path = kModel;
  config.threads = 2;
  config.ctx_size = 1024;
  config.prefix_cache_mb = 0;
  auto live = Engine::create(config);
  ASSERT_TRUE(live.ok());
  EXPECT_EQ(run(**live, greedy(first, 30)).output_ids, a.output_ids);
  const DoneEvent l = run(**live, greedy(turn));
  EXPECT_EQ(l.usage.cached_tokens, 130);
  EXPECT_EQ(t.output_ids, l.output_ids);
}

TEST(PrefixCacheEngine, AWholeCachedPromptStillComputesItsLastToken) {
  auto engine = make_engine(64);
  const std::vector<TokenId> prompt = tokens(64, 200);  // exactly four blocks
  const DoneEvent a = run(*engine, greedy(prompt));
  run(*engine, greedy(tokens(40, 2000)));
  const DoneEvent b = run(*engine, greedy(prompt));
  EXPECT_EQ(b.usage.cached_tokens, 63);
  EXPECT_EQ(a.output_ids, b.output_ids);
}

}  // namespace
}  // namespace wafer
