// The engine's public face: one thread owns the model, the KV caches and the scheduler;
// callers on any thread submit token-level generation requests and receive a stream of
// events. The server sees only this header (plus the tokenizer, which is immutable).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "base/result.h"
#include "sampling/grammar.h"
#include "sampling/sampler.h"
#include "tokenizer/tokenizer.h"

namespace wafer {

struct EngineConfig {
  std::string model_path;
  int threads = 0;                 // 0: all cores
  int64_t ctx_size = 0;            // per sequence; 0: the model's training context
  int max_pending = 8;             // queued + running requests before submit() refuses
  int max_slots = 16;              // named KV caches kept warm (LRU beyond that)
  bool prefix_reuse = true;        // anonymous requests reuse the previous request's KV prefix
  // The shared prefix cache: KV of finished requests kept in blocks of this many positions,
  // up to this many MiB, reused by any later request that starts with the same tokens.
  // 0 MiB: off.
  int64_t prefix_cache_mb = 1024;
  int prefix_block_tokens = 64;
  // Speculative decoding: up to this many drafted tokens verified per forward (0: off).
  // Drafts come from the request's prediction and, with prompt_lookup, from n-grams of the
  // context. Output is identical either way (greedy and seeded sampling).
  int speculative_k = 8;
  bool prompt_lookup = true;
  // A smaller model with the same tokenizer drafting where the prediction and prompt lookup
  // have nothing to propose (empty: none).
  std::string draft_model_path;
  // Continuous batching: up to this many requests decode together, one batched forward per
  // step; others wait in the queue. Prompts are computed this many tokens at a time, one
  // chunk between decode steps, so a long prompt never stalls running streams for longer.
  int max_batch = 8;
  int prefill_chunk_tokens = 256;
};

struct GenerationRequest {
  std::string request_id;                // for logs
  std::vector<TokenId> prompt;           // the whole context, already rendered and tokenised
  SamplingParams sampling;
  int64_t max_tokens = -1;               // -1: until the context is full
  std::vector<std::string> stop;         // stop strings
  bool ignore_eos = false;
  // Non-empty: the KV cache is kept under this name after the request and reused by the
  // next request naming it (only the prompt tokens beyond the common prefix are computed).
  std::string cache_slot;
  bool generate = true;                  // false: prefill the prompt only (warm-up)
  // false: reuse no cached KV (neither the slot's nor the prefix cache's) and cache none of
  // this request's; everything is computed.
  bool cache_prompt = true;
  // Non-null: the output follows this grammar: each step masks the tokens it cannot take,
  // and the output closes before max_tokens runs out. With grammar_trigger, the grammar
  // applies only after that text appears in the output (until it completes, then again at
  // the next trigger); without, generation ends when the grammar is complete.
  std::shared_ptr<const Grammar> grammar;
  std::string grammar_trigger;
  // Text the output is expected to repeat (an edit's unchanged code), tokenised: drafts for
  // speculative decoding. Never changes the output, only how fast it comes.
  std::vector<TokenId> prediction;
};

struct Usage {
  int64_t prompt_tokens = 0;
  int64_t cached_tokens = 0;             // prompt tokens whose KV was reused, not computed
  int64_t completion_tokens = 0;
  int64_t accepted_prediction_tokens = 0;  // drafted from the prediction and kept
  int64_t rejected_prediction_tokens = 0;  // drafted from the prediction and discarded
};

struct Timings {
  double queue_ms = 0;                   // submit -> start
  double prefill_ms = 0;                 // computing the uncached prompt tokens
  double ttft_ms = 0;                    // submit -> first token sampled
  double decode_ms = 0;                  // first -> last token
};

// A piece of generated text (whole UTF-8 characters, stop strings removed). `text` may be
// empty when a token's bytes are held back.
struct TokenEvent {
  TokenId id = 0;
  std::string text;
};
struct DoneEvent {
  std::string finish_reason;             // "stop", "length" or "cancelled"
  Usage usage;
  Timings timings;
  std::vector<TokenId> output_ids;
};
struct ErrorEvent {
  Error error;
};
using Event = std::variant<TokenEvent, DoneEvent, ErrorEvent>;

// Receives a request's events in order, on the engine thread: it must return quickly
// (post to the caller's own executor). Exactly one DoneEvent or ErrorEvent ends the stream.
using EventSink = std::function<void(Event&&)>;

// Lets the submitter cancel; the engine stops at its next step and reports "cancelled".
class RequestHandle {
 public:
  RequestHandle() : cancelled_(std::make_shared<std::atomic<bool>>(false)) {}
  void cancel() const { cancelled_->store(true); }
  bool cancelled() const { return cancelled_->load(); }

 private:
  std::shared_ptr<std::atomic<bool>> cancelled_;
};

struct ModelInfo {
  std::string id;                        // what /v1/models lists
  std::string architecture;
  int64_t context_length = 0;            // per sequence, as configured
  int64_t vocab_size = 0;
};

struct EngineStats {
  int64_t prefill_tokens = 0;            // prompt tokens computed (not reused)
  int64_t cached_tokens = 0;             // prompt tokens reused from KV caches
  int64_t decoded_tokens = 0;
  int64_t requests_finished = 0;
  int64_t active_requests = 0;           // queued + running
  int64_t kv_bytes = 0;                  // KV cache memory held (slots and prefix cache)
  int64_t prefix_cache_bytes = 0;        // of which the shared prefix cache
  int64_t prefix_cache_blocks = 0;
  int64_t prefix_cache_evictions = 0;    // blocks evicted to stay within the budget
  double busy_ms_total = 0;              // engine time spent on requests, start to finish
  double prefill_ms_total = 0;           // of which computing (or restoring) prompts
  double decode_step_ms_total = 0;       // sum of decode steps (one forward each)
  int64_t decode_steps = 0;
  int64_t drafted_tokens = 0;            // speculative drafts verified
  int64_t accepted_draft_tokens = 0;     // of which kept
};

class Engine {
 public:
  // Loads the model and starts the engine thread.
  static Result<std::unique_ptr<Engine>> create(const EngineConfig& config);
  virtual ~Engine() = default;

  // Thread-safe. Errors: kResourceExhausted when max_pending requests are already in
  // flight (the server answers 429 with retry-after); kOutOfRange when the prompt does not
  // fit the context window (400 context_length_exceeded); kInvalidArgument for bad sampling
  // parameters or an empty prompt (400).
  virtual Result<RequestHandle> submit(GenerationRequest request, EventSink sink) = 0;
  // Forgets a named KV cache (a connection closed). Thread-safe; no-op when unknown.
  virtual void release_slot(const std::string& slot) = 0;
  // Stops accepting requests, finishes the running ones, joins the engine thread.
  virtual void shutdown() = 0;

  virtual const Tokenizer& tokenizer() const = 0;  // immutable, any thread
  virtual ModelInfo model_info() const = 0;
  virtual EngineStats stats() const = 0;           // a consistent snapshot, any thread
};

}  // namespace wafer
