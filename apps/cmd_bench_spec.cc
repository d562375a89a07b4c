// `wafer bench spec`: speculative decoding on an edit task. A ~300-line source file is
// rewritten (greedy) once without speculation; then with that output as the `prediction`
// (every draft correct), and with a prediction that differs in about a tenth of its lines.
// Reports tokens/s and acceptance for each, whether the outputs are identical, and what a
// verify forward of k drafted tokens costs against a single-token decode step, at the task's
// context and at 512, 1024 and 2048 tokens.
#include <algorithm>
#include <chrono>
#include <future>
#include <optional>
#include <thread>

#include <fmt/core.h>

#include "apps/commands.h"
#include "model/model.h"
#include "wafer/engine.h"

namespace wafer::apps {
namespace {

struct SpecFlags {
  std::string model_path;
  int64_t n_gen = 256;
  int threads = 0;
  int k = 8;
  std::string draft_path;
  std::string output = "text";
};

// A C-like source file of `lines` lines, the same every run.
std::string source_file(int lines) {
  std::string s;
  for (int i = 0; i < lines; ++i) {
    switch (i % 6) {
      case 0: s += fmt::format("static int handler_{}(struct request *req, size_t len) {{\n", i); break;
      case 1: s += fmt::format("  if (len > MAX_LEN_{}) return -EINVAL;\n", i % 17); break;
      case 2: s += fmt::format("  req->offset += len * {};  // advance past the header\n", i % 9 + 1); break;
      case 3: s += fmt::format("  log_debug(\"handler_{} got %zu bytes\", len);\n", i); break;
      case 4: s += "  return process(req, len);\n"; break;
      default: s += "}\n\n"; break;
    }
  }
  return s;
}

struct Run {
  std::vector<TokenId> ids;
  double decode_ms = 0;
  Usage usage;
};

Result<Run> generate(Engine& engine, const std::vector<TokenId>& prompt, int64_t n, std::vector<TokenId> prediction) {
  GenerationRequest r;
  r.prompt = prompt;
  r.sampling.temperature = 0;
  r.max_tokens = n;
  r.ignore_eos = true;
  r.prediction = std::move(prediction);
  auto done = std::make_shared<std::promise<Result<Run>>>();
  auto handle = engine.submit(std::move(r), [done](Event&& e) {
    if (auto* d = std::get_if<DoneEvent>(&e)) {
      Run run;
      run.ids = d->output_ids;
      run.decode_ms = d->timings.decode_ms;
      run.usage = d->usage;
      done->set_value(std::move(run));
    } else if (auto* err = std::get_if<ErrorEvent>(&e)) {
      done->set_value(err->error);
    }
  });
  if (!handle) return handle.take_error();
  return done->get_future().get();
}

// What a forward of one token and one of `verify_tokens` tokens cost after `context` tokens
// of warm cache: medians of 9 of each, taken in turn so that both see the same neighbours
// (the scored positions are dropped again after each).
struct ForwardCost {
  int64_t context = 0;
  double step_ms = 0, verify_ms = 0;
};

ForwardCost forward_cost(Model& m, ThreadPool& pool, int64_t context, size_t verify_tokens) {
  ForwardCost cost;
  cost.context = context;
  std::vector<TokenId> ctx(static_cast<size_t>(context));
  for (size_t i = 0; i < ctx.size(); ++i) ctx[i] = static_cast<TokenId>((i * 7919 + 13) % m.config().n_vocab);
  KvCache cache = m.new_cache(context + 32);
  if (!m.forward(cache, ctx, false, pool)) return cost;
  auto timed = [&](size_t tokens) {
    std::vector<TokenId> batch(tokens, 42);
    auto t0 = std::chrono::steady_clock::now();
    const bool ok = m.forward(cache, batch, tokens > 1, pool).ok();
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    cache.truncate(context);
    return ok ? ms : 0.0;
  };
  std::vector<double> one, many;
  for (int rep = 0; rep < 9; ++rep) {
    one.push_back(timed(1));
    many.push_back(timed(verify_tokens));
  }
  std::sort(one.begin(), one.end());
  std::sort(many.begin(), many.end());
  cost.step_ms = one[one.size() / 2];
  cost.verify_ms = many[many.size() / 2];
  return cost;
}

int bench_spec(const SpecFlags& f) {
  const int threads = f.threads > 0 ? f.threads : static_cast<int>(std::thread::hardware_concurrency());
  EngineConfig config;
  config.model_path = f.model_path;
  config.threads = threads;
  config.speculative_k = 0;
  config.prefix_reuse = false;  // each run prefills the same way
  config.prefix_cache_mb = 0;
  auto plain = Engine::create(config);
  if (!plain) return user_error(plain.error().message);
  config.speculative_k = f.k;
  config.prompt_lookup = false;  // drafts from the prediction only: what is measured
  auto spec = Engine::create(config);
  if (!spec) return user_error(spec.error().message);

  const Tokenizer& tok = (*plain)->tokenizer();
  const std::string file = source_file(300);
  std::vector<TokenId> prompt = tok.encode("Rename `len` to `size` in this file and print the whole file:\n\n" + file, true, true);
  auto base = generate(**plain, prompt, f.n_gen, {});
  if (!base) return user_error(base.error().message);
  auto full = generate(**spec, prompt, f.n_gen, base->ids);
  if (!full) return user_error(full.error().message);
  // About a tenth of the "lines" (runs of 12 tokens) changed.
  std::vector<TokenId> edited = base->ids;
  for (size_t line = 0; line * 12 < edited.size(); ++line) {
    if (line % 10 != 3) continue;
    for (size_t i = line * 12; i < std::min(edited.size(), line * 12 + 12); ++i) edited[i] = (edited[i] + 1) % static_cast<TokenId>(tok.vocab_size());
  }
  auto partial = generate(**spec, prompt, f.n_gen, edited);
  if (!partial) return user_error(partial.error().message);
  // With a draft model: no prediction, drafts from the draft model alone.
  std::optional<Run> drafted;
  EngineStats draft_stats;
  if (!f.draft_path.empty()) {
    config.draft_model_path = f.draft_path;
    auto with_draft = Engine::create(config);
    if (!with_draft) return user_error(with_draft.error().message);
    auto r = generate(**with_draft, prompt, f.n_gen, {});
    if (!r) return user_error(r.error().message);
    drafted = std::move(*r);
    draft_stats = (*with_draft)->stats();
  }

  auto model = Model::load(f.model_path);
  if (!model) return user_error(model.error().message);
  ThreadPool pool(threads);
  // At the task's own context, and at shorter ones: attention's share of a verify grows
  // with the positions each drafted token scores.
  const int64_t context = static_cast<int64_t>(prompt.size());
  std::vector<ForwardCost> costs;
  for (int64_t c : {int64_t{512}, int64_t{1024}, int64_t{2048}})
    if (c < context) costs.push_back(forward_cost(**model, pool, c, static_cast<size_t>(f.k) + 1));
  costs.push_back(forward_cost(**model, pool, context, static_cast<size_t>(f.k) + 1));
  const double one_ms = costs.back().step_ms, verify_ms = costs.back().verify_ms;
  auto ratio = [](const ForwardCost& c) { return c.step_ms > 0 ? c.verify_ms / c.step_ms : 0.0; };

  auto tps = [&](const Run& r) { return r.decode_ms > 0 ? static_cast<double>(r.ids.size() - 1) * 1000.0 / r.decode_ms : 0.0; };
  auto acceptance = [](const Run& r) {
    const int64_t drafted = r.usage.accepted_prediction_tokens + r.usage.rejected_prediction_tokens;
    return drafted > 0 ? static_cast<double>(r.usage.accepted_prediction_tokens) / static_cast<double>(drafted) : 0.0;
  };
  const bool same_full = full->ids == base->ids, same_partial = partial->ids == base->ids;
  const bool same_draft = !drafted || drafted->ids == base->ids;
  const double draft_acceptance = draft_stats.drafted_tokens > 0 ? static_cast<double>(draft_stats.accepted_draft_tokens) /
                                                                       static_cast<double>(draft_stats.drafted_tokens)
                                                                 : 0.0;
  if (f.output == "json") {
    std::string by_context;
    for (const ForwardCost& c : costs)
      by_context += fmt::format("{}{{\"context\":{},\"decode_step_ms\":{:.3f},\"verify_ms\":{:.3f},\"ratio\":{:.3f}}}",
                                by_context.empty() ? "" : ",", c.context, c.step_ms, c.verify_ms, ratio(c));
    fmt::print("{{\"model\":\"{}\",\"threads\":{},\"k\":{},\"prompt_tokens\":{},\"n_gen\":{},"
               "\"plain_tps\":{:.3f},\"full_prediction_tps\":{:.3f},\"full_acceptance\":{:.4f},"
               "\"edited_prediction_tps\":{:.3f},\"edited_acceptance\":{:.4f},\"identical\":{},"
               "\"decode_step_ms\":{:.3f},\"verify_ms\":{:.3f},\"verify_cost_ratio\":{:.3f},"
               "\"verify_by_context\":[{}]{}}}\n",
               (*model)->config().name, threads, f.k, prompt.size(), f.n_gen, tps(*base), tps(*full), acceptance(*full),
               tps(*partial), acceptance(*partial), same_full && same_partial && same_draft ? "true" : "false", one_ms,
               verify_ms, verify_ms / one_ms, by_context,
               drafted ? fmt::format(",\"draft_model_tps\":{:.3f},\"draft_model_acceptance\":{:.4f}", tps(*drafted),
                                     draft_acceptance)
                       : std::string());
  } else {
    fmt::print("model:       {} ({} prompt tokens, {} generated, k = {}, {} threads)\n", (*model)->config().name,
               prompt.size(), f.n_gen, f.k, threads);
    fmt::print("no speculation:          {:.1f} tok/s\n", tps(*base));
    fmt::print("correct prediction:      {:.1f} tok/s ({:.2f}x), {:.0f}% of drafts accepted, output {}\n", tps(*full),
               tps(*full) / tps(*base), 100 * acceptance(*full), same_full ? "identical" : "DIFFERENT");
    fmt::print("10%-edited prediction:   {:.1f} tok/s ({:.2f}x), {:.0f}% of drafts accepted, output {}\n", tps(*partial),
               tps(*partial) / tps(*base), 100 * acceptance(*partial), same_partial ? "identical" : "DIFFERENT");
    if (drafted)
      fmt::print("draft model:             {:.1f} tok/s ({:.2f}x), {:.0f}% of drafts accepted, output {}\n",
                 tps(*drafted), tps(*drafted) / tps(*base), 100 * draft_acceptance, same_draft ? "identical" : "DIFFERENT");
    fmt::print("verify forward of {} tokens: {:.2f} ms = {:.2f}x a {:.2f} ms decode step (after {} tokens)\n", f.k + 1,
               verify_ms, verify_ms / one_ms, one_ms, context);
    for (const ForwardCost& c : costs)
      if (c.context != context)
        fmt::print("  after {:>5} tokens of context: {:.2f} ms = {:.2f}x a {:.2f} ms step\n", c.context, c.verify_ms,
                   ratio(c), c.step_ms);
    const EngineStats s = (*spec)->stats();
    fmt::print("speculating engine: {} forwards for {} tokens, {} drafted, {} kept\n", s.decode_steps, s.decoded_tokens,
               s.drafted_tokens, s.accepted_draft_tokens);
  }
  return same_full && same_partial && same_draft ? 0 : 1;
}

}  // namespace

Command add_bench_spec_command(CLI::App& app) {
  auto f = std::make_shared<SpecFlags>();
  app.add_option("-m,--model", f->model_path, "GGUF model file")->required();
  app.add_option("-n,--n-gen", f->n_gen, "tokens generated per run (default 256)")->check(CLI::PositiveNumber);
  app.add_option("-t,--threads", f->threads, "threads (default: all cores)");
  app.add_option("-k,--spec-k", f->k, "drafted tokens verified per step (default 8)")->check(CLI::Range(1, 16));
  app.add_option("--draft", f->draft_path, "also run with this draft model (same tokenizer) and no prediction");
  app.add_option("--output", f->output, "text or json")->check(CLI::IsMember({"text", "json"}));
  return [f] { return bench_spec(*f); };
}

}  // namespace wafer::apps
