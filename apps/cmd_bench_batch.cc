// `wafer bench batch`: continuous batching on the engine. One stream decodes alone; then N
// streams (distinct prompts) are submitted at once. Over the window in which all N are
// decoding it reports the aggregate tokens/s and each stream's mean inter-token time,
// against the lone stream's.
#include <algorithm>
#include <chrono>
#include <future>
#include <mutex>

#include <boost/json.hpp>
#include <fmt/core.h>

#include "apps/commands.h"
#include "wafer/engine.h"

namespace wafer::apps {
namespace {

using Clock = std::chrono::steady_clock;

struct BatchFlags {
  std::string model_path;
  int threads = 0;
  int streams = 4;
  int64_t n_prompt = 64;
  int64_t n_gen = 128;
  int spec_k = 0;
  std::string output = "text";
};

struct Stream {
  std::vector<Clock::time_point> token_times;
  std::promise<void> done;
};

// Runs `count` streams submitted together; returns each one's token arrival times.
std::vector<std::vector<Clock::time_point>> run_streams(Engine& engine, int count, const BatchFlags& f, int salt) {
  std::vector<std::shared_ptr<Stream>> streams;
  for (int s = 0; s < count; ++s) {
    auto st = std::make_shared<Stream>();
    GenerationRequest r;
    const int64_t vocab = engine.model_info().vocab_size;
    for (int64_t i = 0; i < f.n_prompt; ++i)
      r.prompt.push_back(static_cast<TokenId>((100 + i * 131 + s * 977 + salt * 31) % (vocab - 100)));
    r.sampling.temperature = 0;
    r.max_tokens = f.n_gen;
    r.ignore_eos = true;
    auto handle = engine.submit(std::move(r), [st](Event&& e) {
      if (std::holds_alternative<TokenEvent>(e)) st->token_times.push_back(Clock::now());
      else st->done.set_value();
    });
    if (!handle.ok()) throw std::runtime_error(handle.error().message);
    streams.push_back(st);
  }
  std::vector<std::vector<Clock::time_point>> out;
  for (auto& st : streams) {
    st->done.get_future().wait();
    out.push_back(st->token_times);
  }
  return out;
}

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

}  // namespace

Command add_bench_batch_command(CLI::App& app) {
  auto f = std::make_shared<BatchFlags>();
  app.add_option("-m,--model", f->model_path, "GGUF model file")->required();
  app.add_option("-t,--threads", f->threads, "threads (default: all cores)")->check(CLI::NonNegativeNumber);
  app.add_option("--streams", f->streams, "concurrent streams (default 4)")->check(CLI::Range(2, 64));
  app.add_option("-p,--n-prompt", f->n_prompt, "prompt tokens per stream (default 64)")->check(CLI::Range(1, 4096));
  app.add_option("-n,--n-gen", f->n_gen, "tokens generated per stream (default 128)")->check(CLI::Range(8, 100000));
  app.add_option("--spec-k", f->spec_k, "speculative drafts per step (default 0: batching alone)")->check(CLI::Range(0, 16));
  app.add_option("--output", f->output, "text or json")->check(CLI::IsMember({"text", "json"}));
  return [f]() -> int {
    EngineConfig config;
    config.model_path = f->model_path;
    config.threads = f->threads;
    config.speculative_k = f->spec_k;
    config.prefix_cache_mb = 0;
    config.prefix_reuse = false;
    config.max_batch = f->streams;
    config.max_pending = f->streams + 1;
    auto engine = Engine::create(config);
    if (!engine) return user_error(engine.error().message);
    try {
      run_streams(**engine, 1, *f, 99);  // warm-up: pages in the weights
      const auto lone = run_streams(**engine, 1, *f, 0)[0];
      const double lone_gap = ms(lone.back() - lone.front()) / static_cast<double>(lone.size() - 1);
      const auto many = run_streams(**engine, f->streams, *f, 1);
      // The window in which every stream is decoding.
      Clock::time_point t0 = many[0].front(), t1 = many[0].back();
      for (const auto& s : many) {
        t0 = std::max(t0, s.front());
        t1 = std::min(t1, s.back());
      }
      if (t1 <= t0) return user_error("the streams never decoded together; raise -n");
      size_t in_window = 0;
      double worst_gap = 0;
      for (const auto& s : many) {
        const size_t n = static_cast<size_t>(std::count_if(s.begin(), s.end(), [&](auto t) { return t > t0 && t <= t1; }));
        in_window += n;
        if (n > 0) worst_gap = std::max(worst_gap, ms(t1 - t0) / static_cast<double>(n));
      }
      const double window_ms = ms(t1 - t0);
      const double aggregate_tps = static_cast<double>(in_window) * 1000.0 / window_ms;
      const double lone_tps = 1000.0 / lone_gap;
      if (f->output == "json") {
        boost::json::object o{{"streams", f->streams},
                              {"lone_tps", lone_tps},
                              {"lone_inter_token_ms", lone_gap},
                              {"aggregate_tps", aggregate_tps},
                              {"aggregate_over_lone", aggregate_tps / lone_tps},
                              {"worst_inter_token_ms", worst_gap},
                              {"inter_token_over_lone", worst_gap / lone_gap},
                              {"window_ms", window_ms}};
        fmt::print("{}\n", boost::json::serialize(o));
      } else {
        fmt::print("one stream:  {:.1f} tok/s, {:.2f} ms between tokens\n", lone_tps, lone_gap);
        fmt::print("{} streams:   {:.1f} tok/s in all ({:.2f}x), slowest stream {:.2f} ms between tokens ({:.2f}x), "
                   "over {:.0f} ms with all decoding\n",
                   f->streams, aggregate_tps, aggregate_tps / lone_tps, worst_gap, worst_gap / lone_gap, window_ms);
      }
    } catch (const std::exception& e) {
      return user_error(e.what());
    }
    (*engine)->shutdown();
    return 0;
  };
}

}  // namespace wafer::apps
