// JSON Schema -> Grammar. Supported: type (one or a list), object (properties, required,
// additionalProperties), array (items, minItems, maxItems), enum, const, string (any JSON
// string, escapes and UTF-8 included), integer, number, boolean, null, anyOf / oneOf (as
// alternatives), allOf of one schema, $ref into $defs / definitions / the root, and the
// annotations (title, description, default, examples, ...). Properties come out in the
// schema's order; numbers stay within what parsers read exactly (18-digit integers, 15
// digits either side of a point, 2-digit exponents); ones the schema does not declare come out only when additionalProperties
// allows them. Strict compilation refuses any other keyword with an error naming it and
// where it is; lenient compilation (forced calls of non-strict tools) lets that subschema be
// any JSON value instead.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "base/result.h"
#include "sampling/grammar.h"

namespace wafer {

class JsonGrammar {
 public:
  JsonGrammar(GrammarBuilder* builder, bool strict) : b_(builder), strict_(strict) {}

  // A rule matching the JSON text of values valid under `schema` ($refs resolve inside it).
  // Errors (kInvalidArgument): unsupported or malformed keywords, named with their path.
  // `schema` must outlive the builder's use of this JsonGrammar (references are memoised by
  // address). The second form compiles a subschema whose $refs resolve inside `root`.
  Result<uint32_t> schema_rule(const boost::json::value& schema);
  Result<uint32_t> schema_rule(const boost::json::value& schema, const boost::json::value& root);
  void set_strict(bool strict) { strict_ = strict; }
  uint32_t any_value();   // any JSON value
  uint32_t any_object();  // any JSON object
  uint32_t string_rule(); // any JSON string
  GrammarElement ws();    // optional JSON whitespace (bounded)
  uint32_t utf8_char();   // one well-formed multi-byte UTF-8 character

 private:
  Result<uint32_t> compile(const boost::json::value& s, const std::string& path);
  Result<uint32_t> compile_object(const boost::json::object& s, const std::string& path);
  Result<uint32_t> compile_array(const boost::json::object& s, const std::string& path);
  Result<uint32_t> compile_type(const boost::json::object& s, std::string_view type, const std::string& path);
  Result<uint32_t> compile_ref(std::string_view ref, const std::string& path);
  uint32_t literal_rule(const boost::json::value& v);
  uint32_t number_rule(bool integer);
  // A JSON string that is none of `names` (extra keys of an object with declared ones).
  uint32_t key_excluding(const std::vector<std::string>& names);

  GrammarBuilder* b_;
  bool strict_;
  const boost::json::value* root_ = nullptr;
  std::map<const boost::json::value*, uint32_t> refs_;
  int64_t value_rule_ = -1;
  int64_t object_rule_ = -1;
  int64_t string_rule_ = -1;
  int64_t ws_rule_ = -1;
  int64_t string_body_rule_ = -1;  // after the opening quote, through the closing one
  int64_t escape_rule_ = -1;       // after a backslash
  int64_t utf8_rule_ = -1;         // one multi-byte UTF-8 character
  ByteSet normal_;                 // bytes a string holds unescaped (ASCII)
  int64_t integer_rule_ = -1;
  int64_t number_rule_ = -1;
  int counter_ = 0;
};

// Output constrained to one value of `schema` (strict: unsupported keywords are errors).
Result<Grammar> compile_json_schema(const boost::json::value& schema, bool strict);
// Output constrained to one JSON object (response_format json_object).
Grammar json_object_grammar();

}  // namespace wafer
