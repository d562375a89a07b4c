// A small JSON Schema validator for tests, written independently of the grammar compiler:
// it checks parsed values against the keywords wafer's constrained decoding supports.
#pragma once

#include <string>

#include <boost/json.hpp>

namespace wafer::test {

// Empty when `value` is valid under `schema` (with `root` for $ref); else why not.
std::string schema_violation(const boost::json::value& value, const boost::json::value& schema,
                             const boost::json::value& root);

}  // namespace wafer::test
