// `wafer bench agent`: replays a Codex-like session against a wafer server and reports what
// the transport costs. A warm-up carries a long developer prompt and Codex's kind of tool
// list; then each turn adds a tool output of a few hundred tokens and generates a short
// answer. Three transports, each with a session of its own (their prompts differ from the
// first token, so none warms another's cache):
//   A  HTTP, the whole history resent each turn, cache_prompt:false (nothing reused)
//   B  HTTP, the whole history resent each turn, the server's prefix cache on
//   C  WebSocket, each turn sends only its new input after previous_response_id
// Per turn: time to first token, round-trip overhead (the client's turn time minus the
// engine's busy time for it, read from the server's /metrics counters before and after),
// per-token overhead (the client's mean gap between tokens minus the engine's decode
// forward time per token) and turn time.
#include <algorithm>
#include <memory>
#include <optional>

#include <boost/json.hpp>
#include <fmt/core.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include "apps/agent_client.h"
#include "apps/agent_workload.h"
#include "apps/commands.h"
#include "server/server.h"
#include "wafer/engine.h"

namespace wafer::apps {
namespace {

namespace json = boost::json;

struct AgentFlags {
  std::string url;
  std::string model_path;
  int threads = 0;
  int64_t kv_cache_mb = 1024;
  int turns = 10;
  int system_tokens = 4000;
  int tool_tokens = 200;
  int gen_tokens = 64;
  std::string transports = "ABC";
  std::string output = "text";
};

struct TurnReport {
  int turn = 0;  // 0: the warm-up
  double ttft_ms = 0, turn_ms = 0, engine_ms = 0, round_trip_overhead_ms = 0;
  double per_token_overhead_ms = 0, decode_step_ms = 0;
  int64_t input_tokens = 0, cached_tokens = 0, output_tokens = 0;
};

struct TransportReport {
  char name = 'A';
  std::vector<TurnReport> turns;  // [0] is the warm-up
  double total_ms = 0;
  std::string error;
};

double metric(const std::map<std::string, double>& m, const char* name) {
  auto it = m.find(name);
  return it == m.end() ? 0.0 : it->second;
}

int64_t usage_field(const json::object& response, const char* field, const char* details = nullptr) {
  const json::value* u = response.if_contains("usage");
  if (u == nullptr || !u->is_object()) return 0;
  const json::object* o = &u->get_object();
  if (details != nullptr) {
    const json::value* d = o->if_contains(details);
    if (d == nullptr || !d->is_object()) return 0;
    o = &d->get_object();
  }
  const json::value* v = o->if_contains(field);
  return v != nullptr && v->is_int64() ? v->get_int64() : 0;
}

TurnReport measure(int turn, const StreamedResponse& r, const std::map<std::string, double>& before,
                   const std::map<std::string, double>& after) {
  TurnReport t;
  t.turn = turn;
  t.turn_ms = r.total_ms;
  t.ttft_ms = r.first_delta_ms >= 0 ? r.first_delta_ms : r.total_ms;
  t.engine_ms = 1000.0 * (metric(after, "wafer_engine_busy_seconds_total") - metric(before, "wafer_engine_busy_seconds_total"));
  t.round_trip_overhead_ms = t.turn_ms - t.engine_ms;
  t.input_tokens = usage_field(r.response, "input_tokens");
  t.cached_tokens = usage_field(r.response, "cached_tokens", "input_tokens_details");
  t.output_tokens = usage_field(r.response, "output_tokens");
  const double step_ms = 1000.0 * (metric(after, "wafer_engine_decode_step_seconds_total") -
                                   metric(before, "wafer_engine_decode_step_seconds_total"));
  const double steps = metric(after, "wafer_engine_decode_steps_total") - metric(before, "wafer_engine_decode_steps_total");
  if (steps > 0) t.decode_step_ms = step_ms / steps;
  if (t.output_tokens > 1 && r.deltas > 1) {
    const double gaps = static_cast<double>(t.output_tokens - 1);
    t.per_token_overhead_ms = (r.last_delta_ms - r.first_delta_ms) / gaps - step_ms / gaps;
  }
  return t;
}

TransportReport run_transport(char name, const Endpoint& endpoint, const AgentFlags& f) {
  TransportReport report;
  report.name = name;
  const std::string session = fmt::format("bench-{}-{:x}", name, std::hash<std::string>{}(std::to_string(::time(nullptr))) & 0xffffff);
  const json::array tools = tool_list();
  HttpConnection metrics(endpoint);
  std::optional<HttpConnection> http;
  std::optional<WsConnection> ws;
  if (name == 'C') ws.emplace(endpoint);
  else http.emplace(endpoint);

  auto base = [&](int max_tokens) {
    json::object body{{"model", "wafer"},   {"stream", true},           {"store", false},
                      {"tools", tools},     {"tool_choice", "auto"},    {"parallel_tool_calls", false},
                      {"temperature", 0.0}, {"max_output_tokens", max_tokens}, {"prompt_cache_key", session}};
    if (name == 'A') body["cache_prompt"] = false;
    return body;
  };
  json::array history{message("developer", instructions(session, static_cast<int>(f.system_tokens * 0.8)))};
  std::string previous_id;
  for (int turn = 0; turn <= f.turns; ++turn) {
    if (turn > 0) history.push_back(message("user", tool_output(turn, f.tool_tokens)));
    const auto before = scrape_metrics(metrics);
    StreamedResponse r;
    if (ws) {
      json::object m = base(f.gen_tokens);
      m["type"] = "response.create";
      if (turn == 0) {
        m["generate"] = false;
        m["input"] = history;
      } else {
        m["previous_response_id"] = previous_id;
        m["input"] = json::array{history.back()};
      }
      r = ws->create(m);
    } else {
      json::object body = base(turn == 0 ? 1 : f.gen_tokens);
      body["input"] = history;
      r = http->post_stream("/v1/responses", json::serialize(body));
    }
    if (!r.error.empty()) {
      report.error = fmt::format("transport {} turn {}: {}", name, turn, r.error);
      return report;
    }
    const auto after = scrape_metrics(metrics);
    report.turns.push_back(measure(turn, r, before, after));
    report.total_ms += r.total_ms;
    if (const json::value* id = r.response.if_contains("id"); id != nullptr && id->is_string())
      previous_id = std::string(id->get_string());
    // HTTP clients resend what the model said, as it came (Codex keeps the output items).
    if (!ws && turn > 0)
      if (const json::value* out = r.response.if_contains("output"); out != nullptr && out->is_array())
        for (const json::value& item : out->get_array()) history.push_back(item);
  }
  return report;
}

// Mean of a field over turns [from, end).
template <typename Field>
double mean(const TransportReport& r, int from, Field field) {
  double sum = 0;
  int n = 0;
  for (const TurnReport& t : r.turns)
    if (t.turn >= from) sum += field(t), ++n;
  return n > 0 ? sum / n : 0.0;
}

json::object to_json(const TransportReport& r) {
  json::array turns;
  for (const TurnReport& t : r.turns)
    turns.push_back(json::object{{"turn", t.turn},
                                 {"ttft_ms", t.ttft_ms},
                                 {"turn_ms", t.turn_ms},
                                 {"engine_ms", t.engine_ms},
                                 {"round_trip_overhead_ms", t.round_trip_overhead_ms},
                                 {"per_token_overhead_ms", t.per_token_overhead_ms},
                                 {"decode_step_ms", t.decode_step_ms},
                                 {"input_tokens", t.input_tokens},
                                 {"cached_tokens", t.cached_tokens},
                                 {"output_tokens", t.output_tokens}});
  return json::object{{"turns", std::move(turns)},
                      {"session_total_ms", r.total_ms},
                      {"mean_ttft_ms_turns_2_on", mean(r, 2, [](const TurnReport& t) { return t.ttft_ms; })},
                      {"mean_round_trip_overhead_ms", mean(r, 1, [](const TurnReport& t) { return t.round_trip_overhead_ms; })},
                      {"mean_per_token_overhead_ms", mean(r, 1, [](const TurnReport& t) { return t.per_token_overhead_ms; })},
                      {"mean_decode_step_ms", mean(r, 1, [](const TurnReport& t) { return t.decode_step_ms; })}};
}

void print_text(const std::vector<TransportReport>& reports) {
  static const char* kNames[] = {"A: HTTP, full history, no prefix reuse", "B: HTTP, full history, prefix cache",
                                 "C: WebSocket, previous_response_id"};
  for (const TransportReport& r : reports) {
    fmt::print("\n{}\n", kNames[r.name - 'A']);
    fmt::print("{:>5} {:>8} {:>8} {:>8} {:>10} {:>9} {:>8} {:>7} {:>7} {:>5}\n", "turn", "ttft_ms", "turn_ms",
               "engine", "rt_ovh_ms", "tok_ovh", "step_ms", "input", "cached", "out");
    for (const TurnReport& t : r.turns)
      fmt::print("{:>5} {:>8.1f} {:>8.1f} {:>8.1f} {:>10.2f} {:>9.3f} {:>8.2f} {:>7} {:>7} {:>5}\n",
                 t.turn == 0 ? std::string("warm") : std::to_string(t.turn), t.ttft_ms, t.turn_ms, t.engine_ms,
                 t.round_trip_overhead_ms, t.per_token_overhead_ms, t.decode_step_ms, t.input_tokens,
                 t.cached_tokens, t.output_tokens);
    fmt::print("session total {:.1f} ms\n", r.total_ms);
  }
}

// The comparisons, where the transports they need ran.
json::object ratios(const std::vector<TransportReport>& reports) {
  const TransportReport *a = nullptr, *b = nullptr, *c = nullptr;
  for (const TransportReport& r : reports) (r.name == 'A' ? a : r.name == 'B' ? b : c) = &r;
  json::object out;
  auto ttft = [](const TransportReport* r) { return mean(*r, 2, [](const TurnReport& t) { return t.ttft_ms; }); };
  auto rt = [](const TransportReport* r) { return mean(*r, 1, [](const TurnReport& t) { return t.round_trip_overhead_ms; }); };
  if (a != nullptr && c != nullptr) {
    out["ttft_c_over_a"] = ttft(c) / ttft(a);
    out["round_trip_overhead_c_over_a"] = rt(c) / rt(a);
    out["session_total_c_over_a"] = c->total_ms / a->total_ms;
  }
  if (a != nullptr && b != nullptr && c != nullptr && ttft(a) > ttft(c))
    out["ttft_gain_b_over_c"] = (ttft(a) - ttft(b)) / (ttft(a) - ttft(c));
  return out;
}

}  // namespace

Command add_bench_agent_command(CLI::App& app) {
  auto f = std::make_shared<AgentFlags>();
  app.add_option("--url", f->url, "a running wafer serve (http://host:port)");
  app.add_option("-m,--model", f->model_path, "GGUF model: start a server on a loopback port for the run instead");
  app.add_option("-t,--threads", f->threads, "with -m: compute threads (default: all cores)")->check(CLI::NonNegativeNumber);
  app.add_option("--kv-cache-mb", f->kv_cache_mb, "with -m: the server's prefix cache budget (default 1024)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--turns", f->turns, "turns after the warm-up (default 10)")->check(CLI::Range(1, 1000));
  app.add_option("--system-tokens", f->system_tokens, "developer prompt length, about (default 4000)")
      ->check(CLI::Range(10, 1000000));
  app.add_option("--tool-tokens", f->tool_tokens, "tool output per turn, about (default 200)")->check(CLI::Range(10, 100000));
  app.add_option("--gen-tokens", f->gen_tokens, "tokens generated per turn (default 64)")->check(CLI::Range(1, 100000));
  app.add_option("--transports", f->transports, "which of A, B, C to run (default ABC)");
  app.add_option("--output", f->output, "text or json")->check(CLI::IsMember({"text", "json"}));
  return [f]() -> int {
    if (f->url.empty() == f->model_path.empty()) return user_error("bench agent needs either --url or -m MODEL");
    if (f->transports.empty() || f->transports.find_first_not_of("ABC") != std::string::npos)
      return user_error("--transports takes letters of ABC, got '" + f->transports + "'");
    Endpoint endpoint;
    std::unique_ptr<Engine> engine;
    std::unique_ptr<server::Server> server;
    if (!f->model_path.empty()) {
      EngineConfig ec;
      ec.model_path = f->model_path;
      ec.threads = f->threads;
      ec.prefix_cache_mb = f->kv_cache_mb;
      auto e = Engine::create(ec);
      if (!e) return user_error(e.error().message);
      engine = std::move(*e);
      server::ServerConfig sc;
      sc.port = 0;
      sc.logger = std::make_shared<spdlog::logger>("bench", std::make_shared<spdlog::sinks::null_sink_mt>());
      auto s = server::Server::start(*engine, sc);
      if (!s) return user_error(s.error().message);
      server = std::move(*s);
      endpoint.port = std::to_string(server->port());
    } else if (!parse_url(f->url, &endpoint)) {
      return user_error("--url must look like http://127.0.0.1:8080, got '" + f->url + "'");
    }
    std::vector<TransportReport> reports;
    for (char t : std::string("ABC")) {
      if (f->transports.find(t) == std::string::npos) continue;
      TransportReport r;
      try {
        r = run_transport(t, endpoint, *f);
      } catch (const std::exception& e) {
        r.error = fmt::format("transport {}: {}", t, e.what());
      }
      if (!r.error.empty()) return user_error(r.error);
      reports.push_back(std::move(r));
    }
    if (f->output == "json") {
      json::object out;
      for (const TransportReport& r : reports) out[std::string(1, r.name)] = to_json(r);
      out["ratios"] = ratios(reports);
      fmt::print("{}\n", json::serialize(out));
    } else {
      print_text(reports);
      for (const auto& [k, v] : ratios(reports)) fmt::print("{} = {:.3f}\n", std::string(k), v.as_double());
    }
    if (server) server->stop();
    if (engine) engine->shutdown();
    return 0;
  };
}

}  // namespace wafer::apps
