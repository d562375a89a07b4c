// `wafer bench`: prompt-processing and generation speed (median of repeats), with the
// machine's read bandwidth measured in the same run and the fraction of the decode roofline
// (weight bytes per token / bandwidth) reached. A shared VM's bandwidth moves by half
// within minutes, so each tg repeat is judged against the bandwidth measured just before
// and just after it (the higher of the two), and the fraction reported is the median of
// those per-repeat fractions.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

#include <fmt/core.h>

#include "apps/commands.h"
#include "base/membw.h"
#include "model/model.h"

namespace wafer::apps {
namespace {

struct BenchFlags {
  std::string model_path;
  int64_t n_prompt = 512;
  int64_t n_gen = 128;
  int64_t depth = 0;  // tokens already in the KV cache when the tg test starts
  int threads = 0;
  int repeats = 3;
  std::string output = "text";
};

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const size_t h = v.size() / 2;
  return v.size() % 2 == 1 ? v[h] : (v[h - 1] + v[h]) / 2.0;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

int bench(const BenchFlags& f) {
  auto loaded = Model::load(f.model_path);
  if (!loaded) return user_error(loaded.error().message);
  Model& m = **loaded;
  const int threads = f.threads > 0 ? f.threads : static_cast<int>(std::thread::hardware_concurrency());
  ThreadPool pool(threads);
  const int64_t n_vocab = m.config().n_vocab;
  const int64_t ctx = std::max<int64_t>(f.n_prompt, f.depth + f.n_gen) + 1;
  if (ctx > m.config().n_ctx_train)
    return user_error(fmt::format("bench: depth {} + {} generated tokens exceed the model's context of {} tokens",
                                  f.depth, f.n_gen, m.config().n_ctx_train));
  std::vector<TokenId> prompt(std::max<int64_t>(f.n_prompt, 1));
  for (size_t i = 0; i < prompt.size(); ++i) prompt[i] = static_cast<TokenId>((i * 7919 + 13) % n_vocab);

  const double weight_bytes = static_cast<double>(m.weights().matmul_bytes_per_token);
  // F16 keys and values of every cached position, read once per decoded token (on average
  // over the tg test, which starts at `depth`).
  const ModelConfig& c = m.config();
  const double mean_positions = static_cast<double>(f.depth) + static_cast<double>(f.n_gen) / 2.0;
  const double kv_bytes = f.n_gen > 0 ? mean_positions * static_cast<double>(c.n_layer * 2 * c.kv_dim() * 2) : 0.0;
  ReadBandwidthProbe probe(pool);

  std::vector<double> pp, tg, bws, fractions;
  for (int r = 0; r < f.repeats + 1; ++r) {  // the first round warms caches and pages
    if (f.n_prompt > 0) {
      KvCache cache = m.new_cache(ctx);
      auto t0 = std::chrono::steady_clock::now();
      auto out = m.forward(cache, prompt, false, pool);
      if (!out) return user_error(out.error().message);
      if (r > 0) pp.push_back(f.n_prompt / seconds_since(t0));
    }
    if (f.n_gen > 0) {
      KvCache cache = m.new_cache(ctx);
      if (f.depth > 0) {  // untimed: the context the decode steps attend over
        std::vector<TokenId> context(static_cast<size_t>(f.depth));
        for (size_t i = 0; i < context.size(); ++i) context[i] = prompt[i % prompt.size()];
        auto out = m.forward(cache, context, false, pool);
        if (!out) return user_error(out.error().message);
      }
      const double bw_before = r > 0 ? probe.measure() : 0.0;
      auto t0 = std::chrono::steady_clock::now();
      for (int64_t i = 0; i < f.n_gen; ++i) {
        const TokenId one[1] = {prompt[i % prompt.size()]};
        auto out = m.forward(cache, one, false, pool);
        if (!out) return user_error(out.error().message);
      }
      if (r > 0) {
        const double tps = f.n_gen / seconds_since(t0);
        const double bw = std::max(bw_before, probe.measure());
        tg.push_back(tps);
        bws.push_back(bw);
        fractions.push_back(tps * (weight_bytes + kv_bytes) / (bw * 1e9));
      }
    }
  }
  if (bws.empty()) bws.push_back(probe.measure());
  const double pp_tps = median(pp), tg_tps = median(tg), bw = median(bws);
  const double bw_min = *std::min_element(bws.begin(), bws.end()), bw_max = *std::max_element(bws.begin(), bws.end());
  const double roofline_tps = bw * 1e9 / (weight_bytes + kv_bytes);
  const double fraction = median(fractions);
  if (f.output == "json") {
    fmt::print("{{\"model\":\"{}\",\"threads\":{},\"n_prompt\":{},\"n_gen\":{},\"repeats\":{},"
               "\"pp_tps\":{:.3f},\"tg_tps\":{:.3f},\"bandwidth_gbs\":{:.3f},\"weight_bytes\":{},"
               "\"depth\":{},\"kv_bytes\":{:.0f},\"tg_roofline_tps\":{:.3f},\"tg_roofline_fraction\":{:.4f},"
               "\"bandwidth_gbs_min\":{:.3f},\"bandwidth_gbs_max\":{:.3f}}}\n",
               m.config().name, threads, f.n_prompt, f.n_gen, f.repeats, pp_tps, tg_tps, bw,
               m.weights().matmul_bytes_per_token, f.depth, kv_bytes, roofline_tps, fraction, bw_min, bw_max);
    return 0;
  }
  fmt::print("model:      {} ({:.1f} MiB of weights read per token)\n", m.config().name, weight_bytes / 1048576.0);
  fmt::print("threads:    {}\n", threads);
  fmt::print("pp{}:      {:.1f} tok/s\n", f.n_prompt, pp_tps);
  fmt::print("tg{}:      {:.1f} tok/s{}\n", f.n_gen, tg_tps,
             f.depth > 0 ? fmt::format(" after {} tokens of context ({:.1f} MiB of KV read per token)", f.depth,
                                       kv_bytes / 1048576.0)
                         : std::string());
  fmt::print("bandwidth:  {:.1f} GB/s measured ({:.1f}-{:.1f} around the tg repeats) -> roofline {:.1f} tok/s; "
             "decode at {:.0f}% of it (median of the repeats' own fractions)\n",
             bw, bw_min, bw_max, roofline_tps, 100 * fraction);
  return 0;
}

}  // namespace

Command add_bench_command(CLI::App& app) {
  auto f = std::make_shared<BenchFlags>();
  // `wafer bench spec ...`: its own verb and flags.
  CLI::App* spec = app.add_subcommand("spec", "speculative decoding on an edit task: tokens/s with and without a prediction");
  Command run_spec = add_bench_spec_command(*spec);
  CLI::App* agent = app.add_subcommand("agent", "a Codex-like session over HTTP and WebSocket: time to first token and "
                                                "overheads per transport");
  Command run_agent = add_bench_agent_command(*agent);
  CLI::App* batch = app.add_subcommand("batch", "continuous batching: aggregate tokens/s of concurrent streams against one");
  Command run_batch = add_bench_batch_command(*batch);
  app.require_subcommand(0, 1);
  app.add_option("-m,--model", f->model_path, "GGUF model file");
  app.add_option("-p,--n-prompt", f->n_prompt, "prompt tokens (pp test)")->check(CLI::NonNegativeNumber);
  app.add_option("-n,--n-gen", f->n_gen, "generated tokens (tg test)")->check(CLI::NonNegativeNumber);
  app.add_option("-d,--depth", f->depth, "tokens of context in the KV cache before the tg test (default 0); the "
                                         "roofline then counts their KV bytes too")->check(CLI::NonNegativeNumber);
  app.add_option("-t,--threads", f->threads, "threads (default: all cores)");
  app.add_option("-r,--repeats", f->repeats, "repeats; the median is reported")->check(CLI::PositiveNumber);
  app.add_option("--output", f->output, "text or json")->check(CLI::IsMember({"text", "json"}));
  return [f, spec, run_spec, agent, run_agent, batch, run_batch] {
    if (spec->parsed()) return run_spec();
    if (agent->parsed()) return run_agent();
    if (batch->parsed()) return run_batch();
    if (f->model_path.empty()) return user_error("bench: --model is required");
    return bench(*f);
  };
}

}  // namespace wafer::apps
