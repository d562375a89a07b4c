// The engine thread: a continuous-batching scheduler. Requests join between steps (up to
// max_batch at once); each reuses the longest cached start of its prompt (its slot's own KV,
// extended from the shared prefix cache) and computes the rest a chunk per step; streams
// past their prompt decode together, one batched forward per step (with speculative drafts),
// each token reported to its request's sink as it is drawn.
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
#include "speculative/draft_model_proposer.h"
#include "speculative/ngram_proposer.h"
#include "wafer/engine.h"

namespace wafer {
namespace {

using Clock = std::chrono::steady_clock;

// How long the engine waits, idle, before it copies a finished request's blocks into the
// prefix cache: longer than a client takes to send its next turn at once, far shorter than
// an agent's tool takes to run.
constexpr std::chrono::milliseconds kIdleBeforeSaving{5};

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
  bool in_use = false;          // a running request holds it
  bool release_pending = false; // released while in use: dropped when that request ends
};

// A request the scheduler is running: its slot, where its prompt stands, and (once the
// prompt is computed) everything that draws and reports its tokens.
struct Sequence {
  Pending p;
  Slot* slot = nullptr;
  std::unique_ptr<Slot> own;  // a private slot, when the one it names is busy
  std::string slot_name;      // the named slot it holds ("" otherwise)
  Clock::time_point start;
  size_t reuse = 0;
  DoneEvent done;
  bool decoding = false;      // the prompt is computed and `next` is drawn
  bool ending = false;        // the last token is drawn: finish() comes next
  bool finished = false;
  // Generation state.
  std::optional<Sampler> sampler;
  std::optional<StreamingDetokenizer> detok;
  std::optional<StopMatcher> stops;
  std::optional<OutputConstraint> constraint;
  std::optional<NgramProposer> proposer;
  std::optional<DraftModelProposer> drafter;
  // The draft model's length adapts to how much of it is kept, and it rests after a run of
  // wholly rejected drafts (each draft token costs a draft forward).
  size_t drafter_k = 0;
  int drafter_misses = 0;
  int drafter_rest = 0;
  bool from_drafter = false;
  int64_t limit = 0;
  int64_t produced = 0;
  TokenId next = 0;
  Clock::time_point first_token;
  // This step's batch entry: `next` and the draft behind it, and where the cache stood.
  std::vector<TokenId> batch;
  size_t drafted = 0;
  bool from_prediction = false;
  int64_t base = 0;
};

class EngineImpl final : public Engine {
 public:
  EngineImpl(std::unique_ptr<Model> model, std::unique_ptr<Model> draft, const EngineConfig& config, int threads)
      : model_(std::move(model)), draft_(std::move(draft)), config_(config), pool_(threads) {
    ctx_ = config.ctx_size > 0 ? std::min(config.ctx_size, model_->config().n_ctx_train)
                               : model_->config().n_ctx_train;
    if (config.prefix_cache_mb > 0) {
      PrefixCache::Options o;
      o.block_tokens = static_cast<size_t>(std::max(1, config.prefix_block_tokens));
      o.block_bytes = model_->new_cache(0).run_bytes(static_cast<int64_t>(o.block_tokens));
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
  void start(Sequence& s);
  void prefill_step(Sequence& s, bool whole);
  void begin_generation(Sequence& s, std::span<const float> logits);
  void take(Sequence& s, std::span<float> logits);
  void decode_step(std::vector<Sequence*>& streams);
  void finish(Sequence& s);
  void fail(Sequence& s, Error error);
  void acquire_slot(Sequence& s);
  void release_slot_of(Sequence& s);
  size_t reuse_prefix(const GenerationRequest& request, Slot& slot);
  void drop_released_slots();
  void save_prefix(Slot& slot);
  void settle_unsaved(const std::vector<Pending>& admitted);
  void update_kv_bytes();

  std::unique_ptr<Model> model_;
  std::unique_ptr<Model> draft_;  // null without --draft
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
  std::vector<std::unique_ptr<Sequence>> running_;  // in arrival order
  Slot* unsaved_ = nullptr;  // a slot whose finished request's blocks are not yet in the prefix cache
  std::vector<float> row_;  // one logits row, drawn from
};

void EngineImpl::loop() {
  for (;;) {
    std::vector<Pending> admitted;
    {
      std::unique_lock<std::mutex> lock(mu_);
      const auto ready = [&] { return stopping_ || !queue_.empty() || !released_.empty() || !running_.empty(); };
      // A finished request's blocks go into the prefix cache once nothing has come for a
      // moment (finish()).
      if (unsaved_ != nullptr && !wake_.wait_for(lock, kIdleBeforeSaving, ready)) {
        lock.unlock();
        save_prefix(*std::exchange(unsaved_, nullptr));
        lock.lock();
      }
      wake_.wait(lock, ready);
      if (stopping_ && queue_.empty() && running_.empty()) return;
      while (!queue_.empty() && running_.size() + admitted.size() < static_cast<size_t>(std::max(1, config_.max_batch))) {
        admitted.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    settle_unsaved(admitted);
    drop_released_slots();
    for (Pending& p : admitted) {
      auto s = std::make_unique<Sequence>();
      s->p = std::move(p);
      start(*s);
      if (!s->finished) running_.push_back(std::move(s));
    }
    // One prompt chunk (the oldest unfinished prompt), then one decode step for every stream
    // past its prompt. With nobody decoding, the prompt runs whole.
    std::vector<Sequence*> streams;
    Sequence* prompt = nullptr;
    for (auto& s : running_) {
      if (s->decoding) streams.push_back(s.get());
      else if (prompt == nullptr) prompt = s.get();
    }
    if (prompt != nullptr) prefill_step(*prompt, streams.empty());
    if (!streams.empty()) decode_step(streams);
    std::erase_if(running_, [](const std::unique_ptr<Sequence>& s) { return s->finished; });
    // Nothing left to run: the workers' spin would only take cores from the server, which
    // now has a response to finish and send.
    if (running_.empty()) pool_.park();
  }
}

// Holds the slot's whole blocks in the prefix cache, giving way between blocks to a request
// that arrives meanwhile (blocks left out go in when a later request over the same tokens
// ends: each insert takes every block not yet held, from the first).
void EngineImpl::save_prefix(Slot& slot) {
  prefix_cache_->insert(
      slot.tokens,
      [&](size_t pos, uint8_t* out) {
        slot.cache.export_positions(static_cast<int64_t>(pos), static_cast<int64_t>(prefix_cache_->block_tokens()), out);
      },
      [&] {
        std::lock_guard<std::mutex> lock(mu_);
        return queue_.empty();
      });
  update_kv_bytes();
}

// Before requests start. One that continues the unsaved slot's tokens in that slot keeps
// what it shares with them and saves it (and its own) when it ends; when all but the last
// two blocks' worth are shared (an agent's next turn: its prompt may re-tokenise the last
// answer differently from how it was drawn), the rest is not worth the wait. Any other
// request may evict the slot, replace it or cut its tokens short, so the slot is saved
// first.
void EngineImpl::settle_unsaved(const std::vector<Pending>& admitted) {
  if (unsaved_ == nullptr || admitted.empty()) return;
  Slot* unsaved = std::exchange(unsaved_, nullptr);
  const std::vector<TokenId>& held = unsaved->tokens;
  for (const Pending& p : admitted) {
    const GenerationRequest& r = p.request;
    const auto it = slots_.find(r.cache_slot);
    Slot* target = r.cache_slot.empty() ? (config_.prefix_reuse ? anonymous_.get() : nullptr)
                   : it != slots_.end() ? &it->second
                                        : nullptr;
    if (target != unsaved || !r.cache_prompt) continue;
    const size_t shared = std::mismatch(held.begin(), held.end(), r.prompt.begin(), r.prompt.end()).first - held.begin();
    if (held.size() - shared <= 2 * prefix_cache_->block_tokens()) return;
  }
  save_prefix(*unsaved);
}

void EngineImpl::drop_released_slots() {
  std::vector<std::string> names;
  {
    std::lock_guard<std::mutex> lock(mu_);
    names.swap(released_);
  }
  for (const std::string& n : names) {
    auto it = slots_.find(n);
    if (it == slots_.end()) continue;
    if (&it->second == unsaved_) save_prefix(*std::exchange(unsaved_, nullptr));  // before it goes
    if (it->second.in_use) it->second.release_pending = true;
    else slots_.erase(it);
  }
  if (!names.empty()) update_kv_bytes();
}

void EngineImpl::update_kv_bytes() {
  int64_t bytes = anonymous_ ? static_cast<int64_t>(anonymous_->cache.allocated_bytes()) : 0;
  for (const auto& [name, slot] : slots_) bytes += static_cast<int64_t>(slot.cache.allocated_bytes());
  for (const auto& s : running_)
    if (s->own) bytes += static_cast<int64_t>(s->own->cache.allocated_bytes());
  const int64_t shared = prefix_cache_ ? static_cast<int64_t>(prefix_cache_->bytes()) : 0;
  std::lock_guard<std::mutex> lock(mu_);
  stats_.kv_bytes = bytes + shared;
  stats_.prefix_cache_bytes = shared;
  stats_.prefix_cache_blocks = prefix_cache_ ? static_cast<int64_t>(prefix_cache_->num_blocks()) : 0;
  stats_.prefix_cache_evictions = prefix_cache_ ? static_cast<int64_t>(prefix_cache_->evicted_blocks()) : 0;
}

// A request gets the slot it names, or the anonymous one; when a running request holds
// that, a private slot (its prompt can still come from the prefix cache).
void EngineImpl::acquire_slot(Sequence& s) {
  const GenerationRequest& r = s.p.request;
  ++use_clock_;
  auto fresh = [&] { return Slot{model_->new_cache(ctx_), {}, 0}; };
  if (r.cache_slot.empty()) {
    if (!anonymous_ || !anonymous_->in_use) {
      if (!anonymous_ || !config_.prefix_reuse) anonymous_ = std::make_unique<Slot>(fresh());
      s.slot = anonymous_.get();
    }
  } else {
    auto it = slots_.find(r.cache_slot);
    if (it == slots_.end()) {
      if (static_cast<int>(slots_.size()) >= config_.max_slots) {
        auto lru = slots_.end();
        for (auto i = slots_.begin(); i != slots_.end(); ++i)
          if (!i->second.in_use && (lru == slots_.end() || i->second.last_used < lru->second.last_used)) lru = i;
        if (lru != slots_.end()) slots_.erase(lru);
      }
      it = slots_.emplace(r.cache_slot, fresh()).first;
    }
    if (!it->second.in_use) {
      s.slot = &it->second;
      s.slot_name = r.cache_slot;
    }
  }
  if (s.slot == nullptr) {
    s.own = std::make_unique<Slot>(fresh());
    s.slot = s.own.get();
  }
  s.slot->in_use = true;
  s.slot->last_used = use_clock_;
}

void EngineImpl::release_slot_of(Sequence& s) {
  if (s.slot == nullptr) return;
  s.slot->in_use = false;
  if (!s.slot_name.empty()) {
    auto it = slots_.find(s.slot_name);
    if (it != slots_.end() && it->second.release_pending) slots_.erase(it);
  }
  s.slot = nullptr;
  s.own.reset();
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

void EngineImpl::start(Sequence& s) {
  const GenerationRequest& r = s.p.request;
  s.start = Clock::now();
  s.done.timings.queue_ms = ms_between(s.p.submitted, s.start);
  acquire_slot(s);
  s.reuse = reuse_prefix(r, *s.slot);
  s.done.usage.prompt_tokens = static_cast<int64_t>(r.prompt.size());
  s.done.usage.cached_tokens = static_cast<int64_t>(s.reuse);
  {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.cached_tokens += static_cast<int64_t>(s.reuse);
  }
  if (s.reuse == r.prompt.size()) prefill_step(s, true);  // a warm-up with nothing new: done
}

// Computes the next chunk of the prompt (all of it when `whole`); at its end, draws the
// first token (or finishes a warm-up).
void EngineImpl::prefill_step(Sequence& s, bool whole) {
  const GenerationRequest& r = s.p.request;
  Slot& slot = *s.slot;
  if (s.p.handle.cancelled()) {
    s.done.finish_reason = "cancelled";
    return finish(s);
  }
  const size_t at = slot.tokens.size();
  std::span<const float> logits;
  if (at < r.prompt.size()) {
    const size_t chunk = static_cast<size_t>(std::max(1, config_.prefill_chunk_tokens));
    size_t end = at;
    // Chunk boundaries depend only on the request, never on what else runs, so its output is
    // the same alone or batched.
    do {
      const size_t n = std::min(chunk, r.prompt.size() - end);
      auto out = model_->forward(slot.cache, std::span(r.prompt).subspan(end, n), false, pool_);
      if (!out) return fail(s, out.take_error());
      slot.tokens.insert(slot.tokens.end(), r.prompt.begin() + static_cast<std::ptrdiff_t>(end),
                         r.prompt.begin() + static_cast<std::ptrdiff_t>(end + n));
      end += n;
      logits = *out;
      std::lock_guard<std::mutex> lock(mu_);
      stats_.prefill_tokens += static_cast<int64_t>(n);
    } while (whole && end < r.prompt.size());
    if (end < r.prompt.size()) return;
  }
  s.done.timings.prefill_ms = ms_between(s.start, Clock::now());
  s.done.finish_reason = "stop";
  if (!r.generate) return finish(s);
  begin_generation(s, logits);
}

void EngineImpl::begin_generation(Sequence& s, std::span<const float> logits) {
  const GenerationRequest& r = s.p.request;
  const Tokenizer& tok = model_->tokenizer();
  s.sampler.emplace(r.sampling, static_cast<size_t>(model_->config().n_vocab));
  for (TokenId id : r.prompt) s.sampler->accept(id);
  s.detok.emplace(tok);
  s.stops.emplace(r.stop);
  if (r.grammar) {
    if (!vocab_index_) vocab_index_ = make_vocab_index(tok);
    s.constraint.emplace(r.grammar, r.grammar_trigger, vocab_index_, mask_cache_for(*r.grammar));
  }
  const int64_t room = ctx_ - static_cast<int64_t>(r.prompt.size());
  s.limit = r.max_tokens < 0 ? room : std::min(r.max_tokens, room);
  s.done.finish_reason = "length";
  if (config_.speculative_k > 0 && (config_.prompt_lookup || !r.prediction.empty())) {
    NgramProposer::Options options;
    options.lookup_context = config_.prompt_lookup;
    s.proposer.emplace(r.prediction, options);
  }
  if (config_.speculative_k > 0 && draft_) {
    s.drafter.emplace(*draft_, ctx_, pool_);
    s.drafter_k = static_cast<size_t>(config_.speculative_k);
  }
  if (s.limit <= 0) return finish(s);
  row_.assign(logits.begin(), logits.end());
  take(s, row_);
  if (s.ending) return finish(s);
  s.decoding = true;
}

// Draws one token from a logits row and emits it; marks the request `ending` when the token
// ends it.
// Every token goes through here once, speculated or not, so the sampler, the constraint and
// the stop strings see exactly the same sequence.
void EngineImpl::take(Sequence& s, std::span<float> logits) {
  const GenerationRequest& r = s.p.request;
  const Tokenizer& tok = model_->tokenizer();
  const TokenId t = s.constraint ? s.constraint->sample(*s.sampler, logits, s.limit - s.produced)
                                 : s.sampler->sample(logits);
  s.sampler->accept(t);
  const bool complete = s.constraint && s.constraint->accept(t);
  s.done.output_ids.push_back(t);
  s.next = t;
  if (s.produced++ == 0) {
    s.first_token = Clock::now();
    s.done.timings.ttft_ms = ms_between(s.p.submitted, s.first_token);
  }
  if (!r.ignore_eos && tok.is_end_of_generation(t)) {
    s.done.finish_reason = "stop";
    s.ending = true;
    return;
  }
  std::string text = s.stops->push(s.detok->push(t));
  s.p.sink(TokenEvent{t, std::move(text)});
  if (s.stops->stopped() || complete) {
    s.done.finish_reason = "stop";
    s.ending = true;
  } else if (s.produced == s.limit) {
    s.ending = true;
  }
}

// One forward for every decoding stream: each scores its drawn `next` and, behind it, a
// draft of what may follow; each draft token is kept only if the draw at its position picks it.
void EngineImpl::decode_step(std::vector<Sequence*>& streams) {
  std::vector<Model::BatchSequence> batch;
  std::vector<Sequence*> in_batch;
  size_t total = 0;
  constexpr size_t kMaxStepTokens = 512;
  for (Sequence* s : streams) {
    if (s->p.handle.cancelled()) {
      s->done.finish_reason = "cancelled";
      finish(*s);
      continue;
    }
    Slot& slot = *s->slot;
    if (slot.cache.size() + 1 > slot.cache.capacity()) {
      finish(*s);  // context full: ends as "length"
      continue;
    }
    slot.tokens.push_back(s->next);
    s->batch.assign(1, s->next);
    s->from_prediction = false;
    if (s->proposer || s->drafter) {
      const size_t room_left = static_cast<size_t>(s->limit - s->produced - 1);
      const size_t room_ctx = static_cast<size_t>(slot.cache.capacity() - slot.cache.size() - 1);
      const size_t k = std::min<size_t>({static_cast<size_t>(config_.speculative_k), room_left, room_ctx});
      std::vector<TokenId> draft;
      if (s->proposer) draft = s->proposer->propose(slot.tokens, s->p.request.prompt.size(), k, &s->from_prediction);
      s->from_drafter = false;
      if (draft.empty() && s->drafter) {
        if (s->drafter_rest > 0) {
          --s->drafter_rest;
        } else {
          draft = s->drafter->propose(slot.tokens, std::min(k, s->drafter_k));
          s->from_prediction = false;
          s->from_drafter = !draft.empty();
        }
      }
      if (s->constraint) draft.resize(s->constraint->draft_prefix(draft));
      if (total + 1 + draft.size() > kMaxStepTokens) draft.clear();
      s->batch.insert(s->batch.end(), draft.begin(), draft.end());
    }
    s->drafted = s->batch.size() - 1;
    s->base = slot.cache.size();
    total += s->batch.size();
    batch.push_back({&slot.cache, s->batch, s->drafted > 0});
    in_batch.push_back(s);
  }
  if (batch.empty()) return;
  const Clock::time_point t0 = Clock::now();
  auto logits = model_->forward_batch(batch, pool_);
  WAFER_CHECK(logits.ok(), "a batched decode step failed: {}", logits.ok() ? "" : logits.error().message);
  {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.decode_step_ms_total += ms_between(t0, Clock::now());
    stats_.decode_steps += 1;
    for (Sequence* s : in_batch) stats_.drafted_tokens += static_cast<int64_t>(s->drafted);
  }
  const size_t n_vocab = static_cast<size_t>(model_->config().n_vocab);
  size_t row = 0;
  for (Sequence* s : in_batch) {
    const size_t rows = s->drafted > 0 ? s->drafted + 1 : 1;
    const float* first = logits->data() + row * n_vocab;
    row += rows;
    size_t accepted = 0;
    for (size_t j = 0; j < rows; ++j) {
      row_.assign(first + j * n_vocab, first + (j + 1) * n_vocab);
      take(*s, row_);
      if (s->ending || j == s->drafted || s->next != s->batch[j + 1]) break;
      ++accepted;
      s->slot->tokens.push_back(s->next);
    }
    // The cache keeps what was accepted: `next`'s predecessor and the matching drafts.
    s->slot->cache.truncate(s->base + 1 + static_cast<int64_t>(accepted));
    if (s->from_drafter) {
      constexpr int kMissesBeforeRest = 3;
      constexpr int kRestSteps = 16;
      if (accepted == s->drafted) {
        s->drafter_k = std::min<size_t>(static_cast<size_t>(config_.speculative_k), s->drafter_k + 2);
      } else {
        s->drafter_k = accepted + 1;
      }
      s->drafter_misses = accepted == 0 ? s->drafter_misses + 1 : 0;
      if (s->drafter_misses >= kMissesBeforeRest) {
        s->drafter_rest = kRestSteps;
        s->drafter_misses = 0;
      }
    }
    if (s->from_prediction) {
      s->done.usage.accepted_prediction_tokens += static_cast<int64_t>(accepted);
      s->done.usage.rejected_prediction_tokens += static_cast<int64_t>(s->drafted - accepted);
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      stats_.accepted_draft_tokens += static_cast<int64_t>(accepted);
    }
    if (s->ending) finish(*s);
  }
}

void EngineImpl::fail(Sequence& s, Error error) {
  s.finished = true;
  if (s.slot != nullptr) {
    s.slot->cache.truncate(0);
    s.slot->tokens.clear();
  }
  release_slot_of(s);
  {
    std::lock_guard<std::mutex> lock(mu_);
    --active_;  // before the last event: whoever sees it may submit again at once
  }
  s.p.sink(ErrorEvent{std::move(error)});
}

void EngineImpl::finish(Sequence& s) {
  if (s.finished) return;
  s.finished = true;
  const GenerationRequest& r = s.p.request;
  Slot& slot = *s.slot;
  if (s.stops && !s.stops->stopped() && s.done.finish_reason != "cancelled") {
    std::string rest = s.stops->push(s.detok->flush());
    rest += s.stops->flush();
    if (!rest.empty()) s.p.sink(TokenEvent{-1, std::move(rest)});
  }
  if (!s.done.output_ids.empty()) s.done.timings.decode_ms = ms_between(s.first_token, Clock::now());
  s.done.usage.completion_tokens = static_cast<int64_t>(s.done.output_ids.size());
  WAFER_CHECK(static_cast<int64_t>(slot.tokens.size()) == slot.cache.size(), "a slot's tokens and KV disagree");
  update_kv_bytes();
  {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.decoded_tokens += s.done.usage.completion_tokens;
    stats_.requests_finished += 1;
    stats_.prefill_ms_total += s.done.timings.prefill_ms;
    stats_.busy_ms_total += ms_between(s.start, Clock::now());
    --active_;  // before the last event: whoever sees it may submit again at once
  }
  s.p.sink(std::move(s.done));
  // With no other stream decoding, the workers' spin would only take a core from the
  // network thread, which now has the response to send.
  const bool alone = std::none_of(running_.begin(), running_.end(), [&](const std::unique_ptr<Sequence>& o) {
    return o.get() != &s && !o->finished;
  });
  if (alone) pool_.park();
  // What this request computed stays for later ones that start the same way. Copying it
  // into the prefix cache takes a millisecond or more (~0.3 ms a block of 64 positions), so
  // it waits until the client has its answer. With nothing else running it waits for the
  // engine to idle (loop()): an agent's next turn often comes at once and should not queue
  // behind the copy, nor share the cores with it.
  if (prefix_cache_ && r.cache_prompt) {
    if (alone && s.own == nullptr) unsaved_ = &slot;
    else save_prefix(slot);
  }
  release_slot_of(s);
  update_kv_bytes();
}

}  // namespace

Result<std::unique_ptr<Engine>> Engine::create(const EngineConfig& config) {
  WAFER_ASSIGN_OR_RETURN(std::unique_ptr<Model> model, Model::load(config.model_path));
  std::unique_ptr<Model> draft;
  if (!config.draft_model_path.empty()) {
    auto loaded = Model::load(config.draft_model_path);
    if (!loaded) return make_error(loaded.error().code, "draft model: {}", loaded.error().message);
    draft = std::move(*loaded);
    WAFER_RETURN_IF_ERROR(check_draft_compatible(*model, *draft));
  }
  const int threads = config.threads > 0 ? config.threads
                                         : static_cast<int>(std::thread::hardware_concurrency());
  return std::unique_ptr<Engine>(new EngineImpl(std::move(model), std::move(draft), config, threads));
}

}  // namespace wafer
