// Router and the small handlers: health, models, metrics, the Codex catalog, and stored
// responses (GET / DELETE, run on the store thread and answered on the connection's strand).
#include "server/routes.h"

#include <chrono>

#include <boost/json.hpp>

#include "api/models.h"
#include "server/replies.h"
#include "server/server_state.h"
#include "server/stored_context.h"

namespace wafer::server {

namespace json = boost::json;

namespace {

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

ModelInfo served_model(const ServerState& state) {
  ModelInfo info = state.engine.model_info();
  info.id = state.model_id;
  return info;
}

StringResponse not_found(std::string_view what) {
  return error_reply(404, "invalid_request_error", "not_found", what);
}

StringResponse response_not_found(std::string_view id) {
  return error_reply(404, "invalid_request_error", "not_found",
                     fmt::format("Response with id '{}' not found.", id));
}

// Runs `work(store)` on the store thread and `then(result)` back on the exchange's strand.
template <typename Work, typename Then>
void on_store(ServerState& state, std::shared_ptr<Exchange> exchange, Work work, Then then) {
  if (!state.store) {
    then(decltype(work(*state.store))(make_error(ErrorCode::kNotFound, "response storage is disabled")));
    return;
  }
  ServerState* st = &state;
  net::post(state.store_executor, [st, exchange, work, then] {
    auto result = work(*st->store);
    st->gate->post(exchange->executor(), [then, result] { then(result); });
  });
}

void get_stored(ServerState& state, std::shared_ptr<Exchange> exchange, std::string id, bool input_items) {
  on_store(state, exchange, [id](ResponseStore& store) { return store.get(id); },
           [exchange, id, input_items](const Result<std::optional<StoredResponse>>& found) {
             if (!found.ok() && found.error().code != ErrorCode::kNotFound) return exchange->respond(error_reply(found.error()));
             if (!found.ok() || !found->has_value()) return exchange->respond(response_not_found(id));
             const StoredResponse& stored = **found;
             if (!input_items) return exchange->respond(json_reply(200, stored.response_json));
             auto items = stored_input_items(stored.context_json);
             if (!items.ok()) return exchange->respond(error_reply(items.error()));
             json::object list{{"object", "list"}, {"has_more", false}};
             list["first_id"] = items->empty() ? json::value(nullptr) : items->front().as_object().contains("id") ? items->front().at("id") : json::value(nullptr);
             list["last_id"] = items->empty() ? json::value(nullptr) : items->back().as_object().contains("id") ? items->back().at("id") : json::value(nullptr);
             list["data"] = std::move(*items);
             exchange->respond(json_reply(200, json::serialize(list)));
           });
}

void delete_stored(ServerState& state, std::shared_ptr<Exchange> exchange, std::string id) {
  on_store(state, exchange, [id](ResponseStore& store) { return store.remove(id); },
           [exchange, id](const Result<bool>& removed) {
             if (!removed.ok() && removed.error().code != ErrorCode::kNotFound) return exchange->respond(error_reply(removed.error()));
             if (!removed.ok() || !*removed) return exchange->respond(response_not_found(id));
             json::object body{{"id", id}, {"object", "response"}, {"deleted", true}};
             exchange->respond(json_reply(200, json::serialize(body)));
           });
}

// "/v1/responses/{id}[/input_items]" -> id and whether input_items was asked for.
bool split_response_path(std::string_view path, std::string& id, bool& input_items) {
  constexpr std::string_view kPrefix = "/v1/responses/";
  if (!path.starts_with(kPrefix)) return false;
  std::string_view rest = path.substr(kPrefix.size());
  input_items = false;
  if (const size_t slash = rest.find('/'); slash != std::string_view::npos) {
    if (rest.substr(slash) != "/input_items") return false;
    input_items = true;
    rest = rest.substr(0, slash);
  }
  if (rest.empty()) return false;
  id = std::string(rest);
  return true;
}

}  // namespace

void route_request(ServerState& state, std::shared_ptr<Exchange> exchange, StringRequest&& request) {
  const std::string_view target(request.target().data(), request.target().size());
  const std::string_view path = target.substr(0, target.find('?'));
  const http::verb method = request.method();
  const bool get = method == http::verb::get;
  const bool post = method == http::verb::post;
  auto wrong_method = [&](std::string_view allowed) {
    exchange->respond(error_reply(405, "invalid_request_error", "method_not_allowed",
                                  fmt::format("{} accepts {} only", path, allowed)));
  };

  if (path == "/health") {
    exchange->set_route("/health");
    return exchange->respond(json_reply(200, R"({"status":"ok"})"));
  }
  if (path == "/metrics") {
    exchange->set_route("/metrics");
    return exchange->respond(text_reply(200, state.metrics.render(state.engine.stats(), state.encode_memo.hits()), "text/plain; version=0.0.4"));
  }
  if (path == "/v1/models") {
    exchange->set_route("/v1/models");
    if (!get) return wrong_method("GET");
    return exchange->respond(json_reply(200, api::models_list_json(served_model(state), unix_now())));
  }
  if (path.starts_with("/v1/models/")) {
    exchange->set_route("/v1/models/{id}");
    if (path.substr(11) != state.model_id) return exchange->respond(not_found(fmt::format("model '{}' not found", path.substr(11))));
    return exchange->respond(json_reply(200, api::model_json(served_model(state), unix_now())));
  }
  if (path == "/v1/codex/models") {
    exchange->set_route("/v1/codex/models");
    return exchange->respond(json_reply(200, api::codex_model_catalog_json(served_model(state))));
  }
  if (path == "/v1/responses") {
    exchange->set_route("/v1/responses");
    if (!post) return wrong_method("POST (or a WebSocket upgrade)");
    return handle_create_response(state, std::move(exchange), std::move(request));
  }
  std::string id;
  bool input_items = false;
  if (split_response_path(path, id, input_items)) {
    exchange->set_route(input_items ? "/v1/responses/{id}/input_items" : "/v1/responses/{id}");
    if (get) return get_stored(state, std::move(exchange), std::move(id), input_items);
    if (method == http::verb::delete_ && !input_items) return delete_stored(state, std::move(exchange), std::move(id));
    return wrong_method(input_items ? "GET" : "GET and DELETE");
  }
  if (path == "/v1/chat/completions") {
    exchange->set_route("/v1/chat/completions");
    if (!post) return wrong_method("POST");
    return handle_chat_completions(state, std::move(exchange), std::move(request));
  }
  if (path == "/v1/completions") {
    exchange->set_route("/v1/completions");
    if (!post) return wrong_method("POST");
    return handle_completions(state, std::move(exchange), std::move(request));
  }
  exchange->set_route("other");
  exchange->respond(not_found(fmt::format("no route for {} {}", std::string_view(request.method_string()), path)));
}

}  // namespace wafer::server
