// Google Benchmarks of constrained decoding over the real Qwen2.5 vocabulary (151k tokens):
// compiling a typical tool schema, and the per-token cost of a masked, budget-aware draw
// against a plain draw from the same logits. Compare the added cost with the decode step
// `wafer bench` measures (BENCHMARKS.md).
#include <benchmark/benchmark.h>

#include <boost/json.hpp>

#include "gguf/gguf.h"
#include "sampling/json_schema.h"
#include "sampling/token_constraint.h"

namespace wafer {
namespace {
namespace json = boost::json;

// A Codex-like shell tool: strings, an array of strings, numbers, a boolean, an enum.
const char* kToolSchema = R"({"type":"object","properties":{
  "command":{"type":"array","items":{"type":"string"},"description":"argv"},
  "workdir":{"type":"string"},"timeout_ms":{"type":"number"},
  "sandbox":{"enum":["read-only","workspace-write","danger-full-access"]},
  "with_escalated_permissions":{"type":"boolean"},"justification":{"type":"string"},
  "env":{"type":"object","additionalProperties":{"type":"string"}}},
  "required":["command"],"additionalProperties":false})";

std::shared_ptr<const VocabIndex> qwen2_vocab() {
  static std::shared_ptr<const VocabIndex> index;  // built once per process, read-only after
  if (!index) {
    auto file = GgufFile::open(std::string(WAFER_SHARED_DIR) + "/vocab/ggml-vocab-qwen2.gguf");
    auto tok = Tokenizer::from_gguf(**file);
    index = make_vocab_index(**tok);
  }
  return index;
}

void BM_CompileToolSchema(benchmark::State& state) {
  const json::value schema = json::parse(kToolSchema);
  for (auto _ : state) {
    Result<Grammar> g = compile_json_schema(schema, true);
    benchmark::DoNotOptimize(g.ok());
  }
}
BENCHMARK(BM_CompileToolSchema)->Unit(benchmark::kMicrosecond);

// Rows of noise, drawn once, so the timed loop holds only the draw.
std::vector<std::vector<float>> noise_rows(size_t vocab, int rows) {
  std::vector<std::vector<float>> out(rows, std::vector<float>(vocab));
  uint64_t s = 88172645463325252ull;
  for (auto& row : out) {
    for (float& l : row) {
      s ^= s << 13;
      s ^= s >> 7;
      s ^= s << 17;
      l = static_cast<float>(s >> 40) * (8.0f / 16777216.0f) - 4.0f;
    }
  }
  return out;
}

void BM_SampleToken(benchmark::State& state) {
  const bool constrained = state.range(0) != 0;
  const float temperature = static_cast<float>(state.range(1)) / 10.0f;
  auto vocab = qwen2_vocab();
  auto grammar = std::make_shared<const Grammar>(std::move(compile_json_schema(json::parse(kToolSchema), true)).value());
  GrammarConstraint constraint(grammar, vocab);
  SamplingParams params;
  params.temperature = temperature;
  params.seed = 1;
  Sampler sampler(params, vocab->vocab_size());
  const auto rows = noise_rows(vocab->vocab_size(), 64);
  std::vector<float> logits(vocab->vocab_size());
  // Warm the mask cache as a long generation would, then time steady-state steps.
  auto step = [&](size_t i) {
    std::copy(rows[i % rows.size()].begin(), rows[i % rows.size()].end(), logits.begin());
    if (!constrained) return sampler.sample(logits);
    if (constraint.done()) constraint.reset();
    const int32_t t = constraint.sample(sampler, logits, 1 << 20);
    if (!constraint.accept(t)) constraint.reset();
    return t;
  };
  for (size_t i = 0; i < 2000; ++i) step(i);
  size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(step(i++));
  state.counters["cache_entries"] = static_cast<double>(constraint.stats().cache_entries);
}
BENCHMARK(BM_SampleToken)->ArgNames({"constrained", "temp_x10"})
    ->Args({0, 0})->Args({1, 0})->Args({0, 10})->Args({1, 10})->Unit(benchmark::kMicrosecond);

void BM_ColdMaskEntry(benchmark::State& state) {
  auto vocab = qwen2_vocab();
  auto grammar = std::make_shared<const Grammar>(std::move(compile_json_schema(json::parse(kToolSchema), true)).value());
  for (auto _ : state) {
    // A fresh constraint analyses the opening position: one full pass over the vocabulary.
    GrammarConstraint constraint(grammar, vocab);
    constraint.accept_text("{\"command\": [\"");
    benchmark::DoNotOptimize(constraint.allowed_tokens());
  }
}
BENCHMARK(BM_ColdMaskEntry)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace wafer

BENCHMARK_MAIN();
