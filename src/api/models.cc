// /v1/models and the Codex CLI model catalog.
#include "api/models.h"

#include <algorithm>

#include <boost/json.hpp>
#include <fmt/core.h>

namespace wafer::api {

namespace json = boost::json;

namespace {

// Replaces Codex's ~17 KB base prompt, written for frontier models, with one a small local
// model can follow.
constexpr std::string_view kCodexInstructions =
    "You are a coding agent working in the user's terminal and repository. Use the tools to "
    "inspect files and run commands before you answer; change files with apply_patch. Make "
    "the smallest change that solves the task, check it when you can, and reply briefly with "
    "what you did.";

json::object model_object(const ModelInfo& model, int64_t created) {
  return json::object{{"id", model.id}, {"object", "model"}, {"created", created},
                      {"owned_by", "wafer"}};
}

}  // namespace

std::string models_list_json(const ModelInfo& model, int64_t created) {
  return json::serialize(
      json::object{{"object", "list"}, {"data", json::array{model_object(model, created)}}});
}

std::string model_json(const ModelInfo& model, int64_t created) {
  return json::serialize(model_object(model, created));
}

std::string codex_model_catalog_json(const ModelInfo& model) {
  int64_t context = std::max<int64_t>(model.context_length, 1);
  // Tool output kept per call, and the point where Codex compacts the history: both leave
  // room for the answer.
  int64_t truncation_limit = std::clamp<int64_t>(context / 8, 256, 10000);
  int64_t compact_limit = context * 9 / 10;
  json::object entry{
      {"slug", model.id},
      {"display_name", model.id},
      {"description", fmt::format("{} served by wafer", model.id)},
      {"context_window", context},
      {"max_context_window", context},
      {"auto_compact_token_limit", compact_limit},
      {"truncation_policy", json::object{{"mode", "tokens"}, {"limit", truncation_limit}}},
      {"support_verbosity", false},
      {"supported_reasoning_levels", json::array()},
      {"shell_type", "shell_command"},
      {"visibility", "list"},
      {"supported_in_api", true},
      {"priority", 1},
      {"experimental_supported_tools", json::array()},
      {"model_messages", json::object{{"instructions_template", kCodexInstructions}}},
      {"apply_patch_tool_type", "freeform"},
      {"input_modalities", json::array{"text"}},
      {"supports_parallel_tool_calls", true},
      {"prefer_websockets", true}};
  return json::serialize(json::object{{"models", json::array{std::move(entry)}}});
}

}  // namespace wafer::api
