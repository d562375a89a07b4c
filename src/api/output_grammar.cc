// output_grammar: tool-call syntax per chat format around JSON Schema rules for arguments.
#include "api/output_grammar.h"

#include <algorithm>
#include <deque>

#include <fmt/core.h>

#include "sampling/json_schema.h"
#include "sampling/lark.h"

namespace wafer::api {
namespace json = boost::json;
namespace {

using B = GrammarBuilder;

// Schemas made here live as long as the compilation (JsonGrammar memoises by address).
using SchemaStore = std::deque<json::value>;

// The arguments a tool takes, as a JSON Schema (custom tools: one raw-text `input`).
const json::value& arguments_schema(const Tool& tool, SchemaStore& store) {
  if (tool.kind == Tool::Kind::kCustom) {
    return store.emplace_back(json::object{{"type", "object"},
                                           {"properties", json::object{{"input", json::object{{"type", "string"}}}}},
                                           {"required", json::array{"input"}},
                                           {"additionalProperties", false}});
  }
  if (tool.parameters.is_null()) return store.emplace_back(json::object{{"type", "object"}});
  return tool.parameters;
}

// A custom tool's input grammar (format {type: "grammar", syntax: "lark" | "regex",
// definition}); nullopt for free text, also when the grammar does not compile.
// json_escaped: as the inside of a JSON string.
Result<std::optional<uint32_t>> custom_input_rule(B& b, JsonGrammar& j, const Tool& tool, bool json_escaped) {
  const json::object* format = tool.format.if_object();
  const json::value* type = format ? format->if_contains("type") : nullptr;
  if (tool.kind != Tool::Kind::kCustom || type == nullptr || *type != "grammar") return std::optional<uint32_t>();
  const json::value* syntax = format->if_contains("syntax");
  const json::value* definition = format->if_contains("definition");
  if (definition == nullptr || !definition->is_string()) {
    return make_error(ErrorCode::kInvalidArgument, "tool '{}': format.definition must be a string", tool.model_name());
  }
  const std::string_view kind = syntax && syntax->is_string() ? std::string_view(syntax->get_string()) : "lark";
  // Checked on its own first: a grammar that does not build (left recursion, a loop over
  // something empty) must not fail the request it came with.
  const bool builds = kind == "regex" ? compile_regex(definition->get_string()).ok()
                      : kind == "lark" ? compile_lark(definition->get_string()).ok()
                                       : false;
  if (!builds) return std::optional<uint32_t>();
  Result<uint32_t> r = kind == "regex" ? add_regex(b, j, definition->get_string(), json_escaped)
                       : kind == "lark"
                           ? add_lark_grammar(b, j, definition->get_string(), json_escaped)
                           : Result<uint32_t>(make_error(ErrorCode::kInvalidArgument,
                                                         "format.syntax '{}' is not supported (lark or regex)", kind));
  // A grammar wafer cannot read (outside its Lark subset) leaves the input free text: the
  // client still parses and checks what it gets, and the tool stays usable.
  if (!r.ok()) return std::optional<uint32_t>();
  return std::optional<uint32_t>(*r);
}

bool has_input_grammar(const Tool& tool) {
  const json::object* format = tool.format.if_object();
  const json::value* type = format ? format->if_contains("type") : nullptr;
  return tool.kind == Tool::Kind::kCustom && type != nullptr && *type == "grammar";
}

Result<uint32_t> arguments_rule(B& b, JsonGrammar& j, const Tool& tool, SchemaStore& store) {
  WAFER_ASSIGN_OR_RETURN(std::optional<uint32_t> input, custom_input_rule(b, j, tool, true));
  if (input) return b.rule("custom_input", {seq_of(b.literal("{\"input\": \""), B::ref(*input), b.literal("\"}"))});
  j.set_strict(tool.strict && tool.kind == Tool::Kind::kFunction);
  Result<uint32_t> r = j.schema_rule(arguments_schema(tool, store));
  if (!r.ok()) {
    return make_error(ErrorCode::kInvalidArgument, "tool '{}': {}", tool.model_name(), r.error().message);
  }
  return r;
}

// Well-formed UTF-8 text (tabs and newlines, no other control bytes) up to and including the
// first `close` (ASCII): a KMP automaton, one rule per matched prefix length, each ASCII byte
// grouped by the state it leads to; a multi-byte character always resets the match.
uint32_t text_until(B& b, JsonGrammar& j, const std::string& close, const std::string& name) {
  const size_t n = close.size();
  std::vector<size_t> fail(n + 1, 0);
  for (size_t i = 1, k = 0; i < n; ++i) {
    while (k > 0 && close[i] != close[k]) k = fail[k];
    if (close[i] == close[k]) ++k;
    fail[i + 1] = k;
  }
  const uint32_t utf8 = j.utf8_char();
  std::vector<uint32_t> state(n);
  for (size_t i = 0; i < n; ++i) state[i] = b.declare(fmt::format("{}_{}", name, i));
  for (size_t i = 0; i < n; ++i) {
    std::vector<ByteSet> to(n + 1);
    for (int c = 0; c < 0x80; ++c) {
      if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') continue;
      size_t k = i;
      while (k > 0 && close[k] != static_cast<char>(c)) k = fail[k];
      if (close[k] == static_cast<char>(c)) ++k;
      to[k].add(static_cast<uint8_t>(c));
    }
    for (size_t k = 0; k <= n; ++k) {
      if (to[k].empty()) continue;
      if (k == n) {
        b.add_alternative(state[i], seq_of(b.bytes(to[k])));
      } else {
        b.add_alternative(state[i], seq_of(b.bytes(to[k]), B::ref(state[k])));
      }
    }
    b.add_alternative(state[i], seq_of(B::ref(utf8), B::ref(state[0])));
  }
  return state[0];
}

bool is_string_schema(const json::value& schema) {
  const json::object* o = schema.if_object();
  if (o == nullptr) return true;
  const json::value* type = o->if_contains("type");
  if (type == nullptr) return !o->contains("properties") && !o->contains("items") && !o->contains("enum") && !o->contains("const");
  return type->is_string() && type->get_string() == "string";
}

// Qwen3-Coder: <parameter=KEY>\nVALUE\n</parameter>\n per argument, in schema order, the
// optional ones skippable; strings are bare text, other values JSON.
Result<uint32_t> xml_parameters(B& b, JsonGrammar& j, const Tool& tool, uint32_t raw_text, SchemaStore& store) {
  WAFER_ASSIGN_OR_RETURN(std::optional<uint32_t> input, custom_input_rule(b, j, tool, false));
  if (input) {
    return b.rule("custom_input", {seq_of(b.literal("<parameter=input>\n"), B::ref(*input), b.literal("\n</parameter>\n"))});
  }
  const json::value& schema = arguments_schema(tool, store);
  const json::object* o = schema.if_object();
  const json::value* props = o ? o->if_contains("properties") : nullptr;
  if (props == nullptr || !props->is_object()) return b.rule("no_parameters", {Seq{}});
  std::vector<std::string> required;
  if (const json::value* req = o->if_contains("required"); req && req->is_array()) {
    for (const json::value& name : req->get_array()) {
      if (name.is_string()) required.emplace_back(name.get_string());
    }
  }
  j.set_strict(tool.strict && tool.kind == Tool::Kind::kFunction);
  std::vector<std::pair<uint32_t, bool>> params;  // rule, optional
  for (const auto& kv : props->get_object()) {
    Seq p = b.literal(fmt::format("<parameter={}>\n", std::string(kv.key())));
    if (is_string_schema(kv.value())) {
      p += B::ref(raw_text);
      p += b.literal("\n");
    } else {
      Result<uint32_t> v = j.schema_rule(kv.value(), schema);
      if (!v.ok()) {
        return make_error(ErrorCode::kInvalidArgument, "tool '{}': {}", tool.model_name(), v.error().message);
      }
      p += B::ref(*v);
      p += b.literal("\n</parameter>\n");
    }
    const bool optional = std::find(required.begin(), required.end(), std::string(kv.key())) == required.end();
    params.push_back({b.rule("parameter_" + std::string(kv.key()), {p}), optional});
  }
  uint32_t rest = b.rule("parameters_end", {Seq{}});
  for (size_t k = params.size(); k-- > 0;) {
    std::vector<Seq> alts = {seq_of(B::ref(params[k].first), B::ref(rest))};
    if (params[k].second) alts.push_back(seq_of(B::ref(rest)));
    rest = b.rule(fmt::format("parameters_{}", k), std::move(alts));
  }
  return rest;
}

std::string json_name(const Tool& tool) { return json::serialize(json::string(tool.model_name())); }

// The rest of a call in the model's syntax. `after` is what the prompt (forced call) or the
// trigger already put down; the rule covers everything from there to the call's end.
Result<uint32_t> call_rule(B& b, JsonGrammar& j, ChatFormat format, const std::vector<Tool>& tools,
                           const std::string& forced_name, bool lazy, SchemaStore& store) {
  const uint32_t call = b.declare("tool_call");
  if (format == ChatFormat::kQwen3Coder) {
    const uint32_t raw = text_until(b, j, "</parameter>", "parameter_text");
    const std::string close = "</function>\n</tool_call>";
    for (const Tool& tool : tools) {
      if (!forced_name.empty() && tool.model_name() != forced_name) continue;
      WAFER_ASSIGN_OR_RETURN(uint32_t params, xml_parameters(b, j, tool, raw, store));
      Seq s;
      if (lazy) s += b.literal("\n<function=");
      if (forced_name.empty()) s += b.literal(tool.model_name() + ">\n");
      s += B::ref(params);
      s += b.literal(close);
      b.add_alternative(call, s);
    }
    return call;
  }
  const bool llama = format == ChatFormat::kLlama3;
  const std::string args_key = llama ? "parameters" : "arguments";
  const std::string close = llama ? "}" : "}\n</tool_call>";
  for (const Tool& tool : tools) {
    if (!forced_name.empty() && tool.model_name() != forced_name) continue;
    WAFER_ASSIGN_OR_RETURN(uint32_t args, arguments_rule(b, j, tool, store));
    Seq s;
    if (lazy) s += b.literal("\n");
    if (forced_name.empty()) {
      // A forced Llama 3 call's prompt already opened the name's string; Hermes opens nothing.
      const std::string name = json_name(tool);
      s += b.literal(llama ? name.substr(1) : "{\"name\": " + name);
      s += b.literal(fmt::format(", \"{}\": ", args_key));
    }
    s += B::ref(args);
    s += b.literal(close);
    b.add_alternative(call, s);
  }
  return call;
}

Result<std::shared_ptr<const Grammar>> finish(B&& b, uint32_t root) {
  WAFER_ASSIGN_OR_RETURN(Grammar g, std::move(b).build(root));
  return std::make_shared<const Grammar>(std::move(g));
}

}  // namespace

Result<OutputGrammar> output_grammar(ChatFormat format, const Conversation& c, const OutputFormat& f) {
  OutputGrammar out;
  if (!c.tools.empty()) {
    // Strict function tools and grammar-format custom tools are always constrained.
    const bool any_strict = std::any_of(c.tools.begin(), c.tools.end(), [](const Tool& t) {
      return (t.strict && t.kind == Tool::Kind::kFunction) || has_input_grammar(t);
    });
    // Llama 3 calls have no opening marker to trigger on: only forced calls are constrained.
    const bool lazy = !c.force_tool_call && any_strict && format != ChatFormat::kLlama3;
    if (c.force_tool_call || lazy) {
      B b;
      JsonGrammar j(&b, true);
      SchemaStore store;
      WAFER_ASSIGN_OR_RETURN(uint32_t root, call_rule(b, j, format, c.tools, c.forced_tool_name, lazy, store));
      WAFER_ASSIGN_OR_RETURN(out.grammar, finish(std::move(b), root));
      if (lazy) out.trigger = "<tool_call>";
      return out;
    }
  }
  if (f.kind == OutputFormat::Kind::kText) return out;
  B b;
  JsonGrammar j(&b, f.strict);
  uint32_t root = 0;
  if (f.kind == OutputFormat::Kind::kJsonObject || f.schema.is_null()) {
    root = j.any_object();
  } else {
    Result<uint32_t> r = j.schema_rule(f.schema);
    if (!r.ok()) return make_error(ErrorCode::kInvalidArgument, "response format: {}", r.error().message);
    root = *r;
  }
  WAFER_ASSIGN_OR_RETURN(out.grammar, finish(std::move(b), root));
  return out;
}

}  // namespace wafer::api
