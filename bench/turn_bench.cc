// Google Benchmarks of what the server itself does in one WebSocket turn of `wafer bench
// agent`'s session (turn 10: a ~4,000-token developer prompt, Codex's tools, nine earlier
// turns): parsing the response.create frame, turning the request and the remembered history
// into a conversation, rendering and tokenising the prompt (all earlier text remembered by
// the tokenisation memo, as on a live connection), tokenising the turn's new tool output, and
// writing the events of a 64-token answer. Their sum is the server's part of a turn's
// round-trip overhead (BENCHMARKS.md, issue 5).
#include <benchmark/benchmark.h>

#include <boost/json.hpp>

#include "api/ids.h"
#include "api/prompt.h"
#include "api/responses.h"
#include "api/responses_stream.h"
#include "apps/agent_workload.h"
#include "gguf/gguf.h"
#include "tokenizer/encode_memo.h"

namespace wafer {
namespace {
namespace json = boost::json;

constexpr int kTurn = 10;
constexpr int kToolTokens = 200;
constexpr int kAnswerTokens = 64;
const std::string kSession = "bench-C-turn";

const Tokenizer& qwen2_tokenizer() {
  static std::unique_ptr<Tokenizer> tokenizer;  // loaded once per process, read-only after
  if (!tokenizer) {
    auto file = GgufFile::open(std::string(WAFER_SHARED_DIR) + "/vocab/ggml-vocab-qwen2.gguf");
    auto loaded = Tokenizer::from_gguf(**file);
    tokenizer = std::move(*loaded);
  }
  return *tokenizer;
}

// A 64-token answer of the kind the random-weight model gives, one piece per token.
std::vector<std::string> answer_pieces() {
  std::vector<std::string> pieces;
  for (int i = 0; i < kAnswerTokens; ++i) pieces.push_back(i % 5 == 0 ? " buffer" : (i % 3 == 0 ? "_" : " conn"));
  return pieces;
}

std::string answer_text() {
  std::string text;
  for (const std::string& p : answer_pieces()) text += p;
  return text;
}

// The frame turn kTurn sends: only its new input after previous_response_id.
std::string create_frame() {
  json::object m{{"type", "response.create"},
                 {"model", "wafer"},
                 {"stream", true},
                 {"store", false},
                 {"tools", apps::tool_list()},
                 {"tool_choice", "auto"},
                 {"parallel_tool_calls", false},
                 {"temperature", 0.0},
                 {"max_output_tokens", kAnswerTokens},
                 {"prompt_cache_key", kSession},
                 {"previous_response_id", "resp_0123456789abcdef0123456789abcdef"},
                 {"input", json::array{apps::message("user", apps::tool_output(kTurn, kToolTokens))}}};
  return json::serialize(m);
}

// What the connection remembers before turn kTurn: the warm-up, then each turn's tool output
// and answer.
std::vector<api::ResponseItem> remembered_history() {
  json::array items{apps::message("developer", apps::instructions(kSession, 3200))};
  for (int turn = 1; turn < kTurn; ++turn) {
    items.push_back(apps::message("user", apps::tool_output(turn, kToolTokens)));
    items.push_back(json::object{
        {"type", "message"},
        {"role", "assistant"},
        {"content", json::array{json::object{{"type", "output_text"}, {"text", answer_text()}}}}});
  }
  std::vector<api::ResponseItem> history;
  for (size_t i = 0; i < items.size(); ++i) history.push_back(*api::parse_input_item(items[i], "input"));
  return history;
}

// Arg 1 runs each iteration with cold caches, as after the engine's forwards have streamed
// the weights through them: a 64 MiB buffer is rewritten (outside the timing) first.
void evict_caches() {
  static std::vector<uint64_t> buffer(size_t{8} << 20);
  for (size_t i = 0; i < buffer.size(); i += 8) buffer[i] += i;
  benchmark::ClobberMemory();
}

// Each cold iteration rewrites 64 MiB untimed: a fixed count keeps the run short.
constexpr int kColdIterations = 300;

void maybe_evict(benchmark::State& state) {
  if (state.range(0) == 0) return;
  state.PauseTiming();
  evict_caches();
  state.ResumeTiming();
}

api::ResponsesRequest turn_request() { return std::move(api::parse_ws_client_message(create_frame())->create); }

void BM_ParseCreateFrame(benchmark::State& state) {
  const std::string frame = create_frame();
  for (auto _ : state) {
    maybe_evict(state);
    auto parsed = api::parse_ws_client_message(frame);
    benchmark::DoNotOptimize(parsed.ok());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * frame.size()));
}
BENCHMARK(BM_ParseCreateFrame)->Unit(benchmark::kMicrosecond)->ArgName("cold")->Arg(0);
BENCHMARK(BM_ParseCreateFrame)->Unit(benchmark::kMicrosecond)->ArgName("cold")->Arg(1)->Iterations(kColdIterations);

void BM_Conversation(benchmark::State& state) {
  const api::ResponsesRequest request = turn_request();
  const std::vector<api::ResponseItem> history = remembered_history();
  for (auto _ : state) {
    maybe_evict(state);
    api::Conversation c = api::responses_conversation(request, history);
    benchmark::DoNotOptimize(c.messages.size());
  }
}
BENCHMARK(BM_Conversation)->Unit(benchmark::kMicrosecond)->ArgName("cold")->Arg(0);
BENCHMARK(BM_Conversation)->Unit(benchmark::kMicrosecond)->ArgName("cold")->Arg(1)->Iterations(kColdIterations);

// The whole prompt with every piece of text already in the memo: the cost that grows with
// the history, which a live connection pays every turn.
void BM_BuildPromptRemembered(benchmark::State& state) {
  const Tokenizer& tokenizer = qwen2_tokenizer();
  const api::Conversation c = api::responses_conversation(turn_request(), remembered_history());
  EncodeMemo memo;
  const size_t tokens = api::build_prompt(tokenizer, ChatFormat::kChatMl, c, &memo)->tokens.size();
  for (auto _ : state) {
    maybe_evict(state);
    auto prompt = api::build_prompt(tokenizer, ChatFormat::kChatMl, c, &memo);
    benchmark::DoNotOptimize(prompt->tokens.data());
  }
  state.counters["prompt_tokens"] = static_cast<double>(tokens);
}
BENCHMARK(BM_BuildPromptRemembered)->Unit(benchmark::kMicrosecond)->ArgName("cold")->Arg(0);
BENCHMARK(BM_BuildPromptRemembered)->Unit(benchmark::kMicrosecond)->ArgName("cold")->Arg(1)->Iterations(kColdIterations);

// The turn's new text, which no memo has seen.
void BM_EncodeToolOutput(benchmark::State& state) {
  const Tokenizer& tokenizer = qwen2_tokenizer();
  const std::string text = apps::tool_output(kTurn, kToolTokens);
  size_t tokens = 0;
  for (auto _ : state) {
    maybe_evict(state);
    std::vector<TokenId> ids = tokenizer.encode(text, false, false);
    tokens = ids.size();
    benchmark::DoNotOptimize(ids.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["tokens"] = static_cast<double>(tokens);
}
BENCHMARK(BM_EncodeToolOutput)->Unit(benchmark::kMicrosecond)->ArgName("cold")->Arg(0);
BENCHMARK(BM_EncodeToolOutput)->Unit(benchmark::kMicrosecond)->ArgName("cold")->Arg(1)->Iterations(kColdIterations);

// response.created ... response.completed for a 64-token answer, serialised.
void BM_StreamEvents(benchmark::State& state) {
  const api::ResponsesRequest request = turn_request();
  const std::vector<std::string> pieces = answer_pieces();
  Usage usage;
  usage.prompt_tokens = 6800;
  usage.cached_tokens = 6560;
  usage.completion_tokens = kAnswerTokens;
  size_t bytes = 0;
  for (auto _ : state) {
    maybe_evict(state);
    api::ResponseStreamWriter writer(request, "wafer", api::make_counter_id_generator(), 1700000000);
    bytes = 0;
    for (const api::StreamEvent& e : writer.start()) bytes += e.json.size();
    for (const std::string& p : pieces)
      for (const api::StreamEvent& e : writer.push({api::OutputEvent::Kind::kText, p, "", false})) bytes += e.json.size();
    for (const api::StreamEvent& e : writer.finish("stop", usage)) bytes += e.json.size();
    benchmark::DoNotOptimize(bytes);
  }
  state.counters["event_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_StreamEvents)->Unit(benchmark::kMicrosecond)->ArgName("cold")->Arg(0);
BENCHMARK(BM_StreamEvents)->Unit(benchmark::kMicrosecond)->ArgName("cold")->Arg(1)->Iterations(kColdIterations);

// The terminal events alone (output_text.done ... response.completed): what the client
// waits for after the engine's last step.
void BM_FinishEvents(benchmark::State& state) {
  const api::ResponsesRequest request = turn_request();
  const std::vector<std::string> pieces = answer_pieces();
  Usage usage;
  usage.completion_tokens = kAnswerTokens;
  for (auto _ : state) {
    state.PauseTiming();
    api::ResponseStreamWriter writer(request, "wafer", api::make_counter_id_generator(), 1700000000);
    writer.start();
    for (const std::string& p : pieces) writer.push({api::OutputEvent::Kind::kText, p, "", false});
    if (state.range(0) != 0) evict_caches();
    state.ResumeTiming();
    auto events = writer.finish("stop", usage);
    benchmark::DoNotOptimize(events.data());
  }
}
BENCHMARK(BM_FinishEvents)->Unit(benchmark::kMicrosecond)->ArgName("cold")->Arg(0);
BENCHMARK(BM_FinishEvents)->Unit(benchmark::kMicrosecond)->ArgName("cold")->Arg(1)->Iterations(kColdIterations);

}  // namespace
}  // namespace wafer

BENCHMARK_MAIN();
