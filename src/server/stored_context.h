// How a response's context is kept (in SQLite and for GET .../input_items): the JSON text
// {"input": [items], "instructions": ..., "tools": ...}, and the way back to items so that
// previous_response_id can rebuild the conversation (input items, then the output items).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "api/responses.h"
#include "base/result.h"

namespace wafer::server {

std::string context_to_json(const std::vector<api::ResponseItem>& input, const api::ResponsesRequest& request);

// The history a continuation starts from: the stored input items, then the output items of
// the stored Response object. Errors name what is corrupt.
Result<std::vector<api::ResponseItem>> history_from_stored(std::string_view context_json,
                                                           std::string_view response_json);

// The stored input items as a JSON array (GET /v1/responses/{id}/input_items).
Result<boost::json::array> stored_input_items(std::string_view context_json);

}  // namespace wafer::server
