// GET /v1/models, GET /v1/models/{id}, and the Codex CLI model catalog document
// (protocol.md 7.4) that tells Codex the real context window and a short system prompt.
#pragma once

#include <cstdint>
#include <string>

#include "wafer/engine.h"

namespace wafer::api {

// {"object":"list","data":[{"id","object":"model","created","owned_by":"wafer"}]}
std::string models_list_json(const ModelInfo& model, int64_t created);
// {"id","object":"model","created","owned_by"}
std::string model_json(const ModelInfo& model, int64_t created);
// {"models":[{slug, display_name, context_window, truncation_policy, model_messages:
// {instructions_template}, apply_patch_tool_type:"freeform", ...every key Codex requires}]}
// The truncation limit and auto-compaction limit leave room for the answer.
std::string codex_model_catalog_json(const ModelInfo& model);

}  // namespace wafer::api
