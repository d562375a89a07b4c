// The engine thread: takes requests off a queue one at a time, reuses the longest matching
// KV prefix of the named (or previous anonymous) sequence, prefills the rest, then samples
// and decodes token by token, reporting each step to the request's sink.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "base/check.h"
#include "engine/generate.h"
#include "engine/output_constraint.h"
#include "engine/prefix_cache.h"
#include "speculative/ngram_proposer.h"
#include "wafer/engine.h"

namespace wafer {
namespace {

using Clock = std::chrono::steady_clock;

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

struct Pending {
  GenerationRequest request;
  EventSink sink;
  RequestHandle handle;
  Clock::time_point submitted;
};

// A sequence whose KV is kept: `tokens` are exactly the positions held in `cache`.
struct Slot {
  KvCache cache;
  std::vector<TokenId> tokens;
  uint64_t last_used = 0;
};

class EngineImpl final : public Engine {
 public:
  EngineImpl(std::unique_ptr<Model> model, const EngineConfig& config, int threads)
      : model_(std::move(model)), config_(config), pool_(threads) {
    ctx_ = config.ctx_size > 0 ? std::min(config.ctx_size, model_->config().n_ctx_train)
                               : model_->config().n_ctx_train;
    if (config.prefix_cache_mb > 0) {
      PrefixCache::Options o;
      o.block_tokens = static_cast<size_t>(std::max(1, config.prefix_block_tokens));
      o.block_bytes = o.block_tokens * model_->new_cache(0).position_bytes();
      o.budget_bytes = static_cast<size_t>(config.prefix_cache_mb) << 20;
      prefix_cache_ = std::make_unique<PrefixCache>(o);
    }
    thread_ = std::thread([this] { loop(); });
  }
  ~EngineImpl() override { shutdown(); }

  Result<RequestHandle> submit(GenerationRequest request, EventSink sink) override {
    WAFER_RETURN_IF_ERROR(request.sampling.validate());
    if (request.prompt.empty())
      return make_error(ErrorCode::kInvalidArgument, "the prompt is empty");
    if (static_cast<int64_t>(request.prompt.size()) >= ctx_)
      return make_error(ErrorCode::kOutOfRange,
                        "the prompt has {} tokens but the context window is {} tokens; shorten "
                        "the input or start a new conversation", request.prompt.size(), ctx_);
    for (TokenId id : request.prompt)
      if (id < 0 || id >= model_->config().n_vocab)
        return make_error(ErrorCode::kInvalidArgument, "token id {} is outside the vocabulary", id);
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return make_error(ErrorCode::kResourceExhausted, "the server is shutting down");
    if (active_ >= config_.max_pending)
      return make_error(ErrorCode::kResourceExhausted,
                        "{} requests are already in flight (the limit); retry shortly", active_);
    ++active_;
    Pending p{std::move(request), std::move(sink), RequestHandle(), Clock::now()};
    RequestHandle handle = p.handle;
    queue_.push_back(std::move(p));
    wake_.notify_one();
    return handle;
  }

  void release_slot(const std::string& slot) override {
    std::lock_guard<std::mutex> lock(mu_);
    released_.push_back(slot);
    wake_.notify_one();
  }

  void shutdown() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_ && !thread_.joinable()) return;
      stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  const Tokenizer& tokenizer() const override { return model_->tokenizer(); }

  ModelInfo model_info() const override {
    const ModelConfig& c = model_->config();
    std::string id = config_.model_path;
    const size_t slash = id.find_last_of('/');
    if (slash != std::string::npos) id = id.substr(slash + 1);
    if (id.size() > 5 && id.ends_with(".gguf")) id.resize(id.size() - 5);
    return {id, c.arch_name, ctx_, c.n_vocab};
  }

  EngineStats stats() const override {
    std::lock_guard<std::mutex> lock(mu_);
    EngineStats s = stats_;
    s.active_requests = active_;
    return s;
  }

 private:
  void loop();
  void run_request(Pending& p);
  Slot& slot_for(const GenerationRequest& request);
  size_t reuse_prefix(const GenerationRequest& request, Slot& slot);
  void drop_released_slots();
  void update_kv_bytes();

  std::unique_ptr<Model> model_;
  EngineConfig config_;
  std::shared_ptr<const VocabIndex> vocab_index_;  // built at the first constrained request
  // Mask analyses of recent grammars by fingerprint, most recent last (engine thread only).
  std::vector<std::pair<uint64_t, std::shared_ptr<MaskCache>>> mask_caches_;

  std::shared_ptr<MaskCache> mask_cache_for(const Grammar& grammar) {
    constexpr size_t kKept = 8;
    const uint64_t key = fingerprint(grammar);
    auto it = std::find_if(mask_caches_.begin(), mask_caches_.end(), [&](const auto& e) { return e.first == key; });
    std::shared_ptr<MaskCache> cache = it != mask_caches_.end() ? it->second : std::make_shared<MaskCache>();
    if (it != mask_caches_.end()) mask_caches_.erase(it);
    if (mask_caches_.size() >= kKept) mask_caches_.erase(mask_caches_.begin());
    mask_caches_.emplace_back(key, cache);
    return cache;
  }
  ThreadPool pool_;
  int64_t ctx_ = 0;
  std::thread thread_;

  mutable std::mutex mu_;  // guards queue_, released_, stopping_, active_, stats_
  std::condition_variable wake_;
  std::deque<Pending> queue_;
  std::vector<std::string> released_;
  bool stopping_ = false;
  int active_ = 0;
  EngineStats stats_;

  // Engine thread only.
  std::map<std::string, Slot> slots_;
  std::unique_ptr<Slot> anonymous_;
  std::unique_ptr<PrefixCache> prefix_cache_;  // null when off
  uint64_t use_clock_ = 0;
};

void EngineImpl::loop() {
  for (;;) {
    Pending p;
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty() || !released_.empty(); });
      if (queue_.empty() && released_.empty() && stopping_) return;
      if (queue_.empty()) {
        lock.unlock();
        drop_released_slots();
        continue;
      }
      p = std::move(queue_.front());
      queue_.pop_front();
    }
    drop_released_slots();
    run_request(p);
    std::lock_guard<std::mutex> lock(mu_);
    --active_;
  }
}

void EngineImpl::drop_released_slots() {
  std::vector<std::string> names;
  {
    std::lock_guard<std::mutex> lock(mu_);
    names.swap(released_);
  }
  for (const std::string& n : names) slots_.erase(n);
  if (!names.empty()) update_kv_bytes();
}

void EngineImpl::update_kv_bytes() {
  int64_t bytes = anonymous_ ? static_cast<int64_t>(anonymous_->cache.allocated_bytes()) : 0;
  for (const auto& [name, slot] : slots_) bytes += static_cast<int64_t>(slot.cache.allocated_bytes());
  const int64_t shared = prefix_cache_ ? static_cast<int64_t>(prefix_cache_->bytes()) : 0;
  std::lock_guard<std::mutex> lock(mu_);
  stats_.kv_bytes = bytes + shared;
  stats_.prefix_cache_bytes = shared;
  stats_.prefix_cache_blocks = prefix_cache_ ? static_cast<int64_t>(prefix_cache_->num_blocks()) : 0;
  stats_.prefix_cache_evictions = prefix_cache_ ? static_cast<int64_t>(prefix_cache_->evicted_blocks()) : 0;
}

Slot& EngineImpl::slot_for(const GenerationRequest& request) {
  ++use_clock_;
  if (request.cache_slot.empty()) {
    if (!anonymous_ || !config_.prefix_reuse)
      anonymous_ = std::make_unique<Slot>(Slot{model_->new_cache(ctx_), {}, 0});
    anonymous_->last_used = use_clock_;
    return *anonymous_;
  }
  auto it = slots_.find(request.cache_slot);
  if (it == slots_.end()) {
    if (static_cast<int>(slots_.size()) >= config_.max_slots) {
      auto lru = std::min_element(slots_.begin(), slots_.end(), [](const auto& a, const auto& b) {
        return a.second.last_used < b.second.last_used;
      });
      slots_.erase(lru);
    }
    it = slots_.emplace(request.cache_slot, Slot{model_->new_cache(ctx_), {}, 0}).first;
  }
  it->second.last_used = use_clock_;
  return it->second;
}

// Keeps the longest cached start of the prompt in the slot's cache: the slot's own tokens,
// extended from the shared prefix cache when that holds more. At least the last prompt token
// is left to compute so its logits exist (a warm-up needs none). Returns the positions kept.
size_t EngineImpl::reuse_prefix(const GenerationRequest& r, Slot& slot) {
  const size_t most = r.generate ? r.prompt.size() - 1 : r.prompt.size();
  size_t reuse = 0;
  if (r.cache_prompt)
    reuse = std::mismatch(slot.tokens.begin(), slot.tokens.end(), r.prompt.begin(), r.prompt.end()).first -
            slot.tokens.begin();
  reuse = std::min(reuse, most);
  slot.cache.truncate(static_cast<int64_t>(reuse));
  slot.tokens.resize(reuse);
  if (!prefix_cache_ || !r.cache_prompt || reuse == most) return reuse;
  const std::vector<const uint8_t*> blocks = prefix_cache_->match(r.prompt);
  const size_t bt = prefix_cache_->block_tokens();
  const size_t covered = std::min(blocks.size() * bt, most);
  for (size_t pos = reuse; pos < covered;) {
    const size_t first = pos % bt;
    const size_t n = std::min(bt - first, covered - pos);
    WAFER_CHECK(slot.cache.import_positions(static_cast<int64_t>(n), blocks[pos / bt], static_cast<int64_t>(bt),
                                            static_cast<int64_t>(first)),
                "a cached prefix shorter than the prompt does not fit the context");
    pos += n;
  }
  if (covered <= reuse) return reuse;
  slot.tokens.assign(r.prompt.begin(), r.prompt.begin() + static_cast<std::ptrdiff_t>(covered));
  return covered;
}

void EngineImpl::run_request(Pending& p) {
  const GenerationRequest& r = p.request;
  const Clock::time_point start = Clock::now();
  DoneEvent done;
  done.timings.queue_ms = ms_between(p.submitted, start);
  Slot& slot = slot_for(r);

  const size_t reuse = reuse_prefix(r, slot);
  done.usage.prompt_tokens = static_cast<int64_t>(r.prompt.size());
  done.usage.cached_tokens = static_cast<int64_t>(reuse);

  std::vector<float> row;
  if (reuse < r.prompt.size()) {
    auto logits = model_->forward(slot.cache, std::span(r.prompt).subspan(reuse), false, pool_);
    if (!logits) {
      slot.cache.truncate(0);
      slot.tokens.clear();
      p.sink(ErrorEvent{logits.take_error()});
      return;
    }
    row.assign(logits->begin(), logits->end());
    slot.tokens.assign(r.prompt.begin(), r.prompt.end());
  }
  const Clock::time_point prefilled = Clock::now();
  done.timings.prefill_ms = ms_between(start, prefilled);
  {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.prefill_tokens += static_cast<int64_t>(r.prompt.size() - reuse);
    stats_.cached_tokens += static_cast<int64_t>(reuse);
  }

  done.finish_reason = "stop";
  if (r.generate) {
    const Tokenizer& tok = model_->tokenizer();
    Sampler sampler(r.sampling, static_cast<size_t>(model_->config().n_vocab));
    for (TokenId id : r.prompt) sampler.accept(id);
    StreamingDetokenizer detok(tok);
    StopMatcher stops(r.stop);
    std::optional<OutputConstraint> constraint;
    if (r.grammar) {
      if (!vocab_index_) vocab_index_ = make_vocab_index(tok);
      constraint.emplace(r.grammar, r.grammar_trigger, vocab_index_, mask_cache_for(*r.grammar));
    }
    const int64_t room = ctx_ - static_cast<int64_t>(r.prompt.size());
    const int64_t limit = r.max_tokens < 0 ? room : std::min(r.max_tokens, room);
    done.finish_reason = "length";
    Clock::time_point first_token;
    std::optional<NgramProposer> proposer;
    if (config_.speculative_k > 0 && (config_.prompt_lookup || !r.prediction.empty())) {
      NgramProposer::Options options;
      options.lookup_context = config_.prompt_lookup;
      proposer.emplace(r.prediction, options);
    }
    int64_t produced = 0;
    bool finished = limit <= 0;
    // Draws one token from a logits row and emits it; sets `finished` (and the reason) when
    // it ends the output. Every token goes through here once, speculated or not, so the
    // sampler, the constraint and the stop strings see exactly the same sequence.
    auto take = [&](std::span<float> logits) {
      const TokenId t = constraint ? constraint->sample(sampler, logits, limit - produced) : sampler.sample(logits);
      sampler.accept(t);
      const bool complete = constraint && constraint->accept(t);
      done.output_ids.push_back(t);
      if (produced++ == 0) {
        first_token = Clock::now();
        done.timings.ttft_ms = ms_between(p.submitted, first_token);
      }
      if (!r.ignore_eos && tok.is_end_of_generation(t)) {
        done.finish_reason = "stop";
        finished = true;
        return t;
      }
      std::string text = stops.push(detok.push(t));
      p.sink(TokenEvent{t, std::move(text)});
      if (stops.stopped() || complete) {
        done.finish_reason = "stop";
        finished = true;
      } else if (produced == limit) {
        finished = true;
      }
      return t;
    };
    TokenId next = finished ? 0 : take(row);
    const size_t n_vocab = static_cast<size_t>(model_->config().n_vocab);
    while (!finished) {
      if (p.handle.cancelled()) {
        done.finish_reason = "cancelled";
        break;
      }
      // `next` is drawn but not yet in the cache: score it, and behind it a draft of what may
      // follow; each draft token is kept only if the draw at its position picks it.
      slot.tokens.push_back(next);
      std::vector<TokenId> draft;
      bool from_prediction = false;
      if (proposer) {
        const size_t room_left = static_cast<size_t>(limit - produced - 1);
        draft = proposer->propose(slot.tokens, r.prompt.size(), std::min<size_t>(config_.speculative_k, room_left),
                                  &from_prediction);
        if (constraint) draft.resize(constraint->draft_prefix(draft));
      }
      std::vector<TokenId> batch{next};
      batch.insert(batch.end(), draft.begin(), draft.end());
      const int64_t base = slot.cache.size();
      const Clock::time_point t0 = Clock::now();
      auto logits = model_->forward(slot.cache, batch, !draft.empty(), pool_);
      if (!logits) {
        slot.tokens.pop_back();
        break;  // context full: ends as "length"
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        stats_.decode_step_ms_total += ms_between(t0, Clock::now());
        stats_.decode_steps += 1;
        stats_.drafted_tokens += static_cast<int64_t>(draft.size());
      }
      size_t accepted = 0;
      for (size_t j = 0; j <= draft.size() && !finished; ++j) {
        row.assign(logits->begin() + static_cast<std::ptrdiff_t>(j * n_vocab),
                   logits->begin() + static_cast<std::ptrdiff_t>((j + 1) * n_vocab));
        next = take(row);
        if (finished || j == draft.size() || next != draft[j]) break;
        ++accepted;
        slot.tokens.push_back(next);
      }
      // The cache keeps what was accepted: `next`'s predecessor and the matching drafts.
      slot.cache.truncate(base + 1 + static_cast<int64_t>(accepted));
      if (from_prediction) {
        done.usage.accepted_prediction_tokens += static_cast<int64_t>(accepted);
        done.usage.rejected_prediction_tokens += static_cast<int64_t>(draft.size() - accepted);
      }
      std::lock_guard<std::mutex> lock(mu_);
      stats_.accepted_draft_tokens += static_cast<int64_t>(accepted);
    }
    if (!stops.stopped() && done.finish_reason != "cancelled") {
      std::string rest = stops.push(detok.flush());
      rest += stops.flush();
      if (!rest.empty()) p.sink(TokenEvent{-1, std::move(rest)});
    }
    if (!done.output_ids.empty()) done.timings.decode_ms = ms_between(first_token, Clock::now());
  }
  done.usage.completion_tokens = static_cast<int64_t>(done.output_ids.size());
  // What this request computed stays for later ones that start the same way.
  WAFER_CHECK(static_cast<int64_t>(slot.tokens.size()) == slot.cache.size(), "a slot's tokens and KV disagree");
  if (prefix_cache_ && r.cache_prompt)
    prefix_cache_->insert(slot.tokens, [&](size_t pos, uint8_t* out) {
      slot.cache.export_positions(static_cast<int64_t>(pos), static_cast<int64_t>(prefix_cache_->block_tokens()), out);
    });
  {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.decoded_tokens += done.usage.completion_tokens;
    stats_.requests_finished += 1;
    stats_.prefill_ms_total += done.timings.prefill_ms;
    stats_.busy_ms_total += ms_between(start, Clock::now());
  }
  update_kv_bytes();
  p.sink(std::move(done));
}

}  // namespace

Result<std::unique_ptr<Engine>> Engine::create(const EngineConfig& config) {
  WAFER_ASSIGN_OR_RETURN(std::unique_ptr<Model> model, Model::load(config.model_path));
  const int threads = config.threads > 0 ? config.threads
                                         : static_cast<int>(std::thread::hardware_concurrency());
  return std::unique_ptr<Engine>(new EngineImpl(std::move(model), config, threads));
}

}  // namespace wafer
