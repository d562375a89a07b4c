// The grammar a request's output must follow, built from what it asks for: a forced tool
// call (tool_choice required or a named function) in the model's call syntax with arguments
// valid under the tool's schema; strict function tools, constrained from the moment the
// model opens a call; or a response format (json_object, json_schema).
#pragma once

#include <memory>
#include <string>

#include <boost/json.hpp>

#include "api/prompt.h"
#include "base/result.h"
#include "sampling/grammar.h"
#include "tokenizer/tokenizer.h"

namespace wafer::api {

struct OutputFormat {
  enum class Kind { kText, kJsonObject, kJsonSchema };
  Kind kind = Kind::kText;
  boost::json::value schema;  // kJsonSchema
  bool strict = false;        // unsupported schema keywords: 400 (else generated unconstrained)
};

struct OutputGrammar {
  std::shared_ptr<const Grammar> grammar;  // null: unconstrained
  std::string trigger;                     // non-empty: applies after this text (lazy)
};

// Errors (kInvalidArgument, 400): a strict schema with a keyword wafer cannot enforce, named
// with its path and the tool or format it is in. A custom tool's grammar that wafer cannot
// read (outside its Lark subset) is not an error: that tool's input is left free.
Result<OutputGrammar> output_grammar(ChatFormat format, const Conversation& conversation,
                                     const OutputFormat& output_format);

}  // namespace wafer::api
