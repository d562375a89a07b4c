// JSON text exactly as Python's json.dumps(value, ensure_ascii=False) writes it (", " and ": "
// separators, keys in order): what Hugging Face chat templates produce with `| tojson`, so
// tool schemas and call arguments in prompts look the way the model saw them in training.
#pragma once

#include <string>

#include <boost/json.hpp>

namespace wafer::api {

std::string python_json(const boost::json::value& value);
void append_python_json(const boost::json::value& value, std::string* out);

}  // namespace wafer::api
