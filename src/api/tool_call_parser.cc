// Streaming split of generated text into text, reasoning and tool-call events.
#include "api/tool_call_parser.h"

#include <optional>

#include <boost/json.hpp>

namespace wafer::api {

namespace json = boost::json;

namespace {

constexpr std::string_view kCallOpen = "<tool_call>";
constexpr std::string_view kCallClose = "</tool_call>";
constexpr std::string_view kThinkOpen = "<think>";
constexpr std::string_view kThinkClose = "</think>";
constexpr std::string_view kPythonTag = "<|python_tag|>";
constexpr std::string_view kFunctionOpen = "<function=";

bool is_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

size_t skip_space(std::string_view s, size_t at) {
  while (at < s.size() && is_space(s[at])) ++at;
  return at;
}

// Length of the longest suffix of `s` that is a proper prefix of `marker` (text to hold back
// because the marker may be completed by the next chunk).
size_t partial_marker_suffix(std::string_view s, std::string_view marker) {
  size_t max = std::min(s.size(), marker.size() - 1);
  for (size_t n = max; n > 0; --n) {
    if (s.substr(s.size() - n) == marker.substr(0, n)) return n;
  }
  return 0;
}

bool is_prefix_of(std::string_view s, std::string_view marker) {
  return s.size() <= marker.size() && marker.substr(0, s.size()) == s;
}

// End (one past) of the JSON object starting at s[start] == '{', or npos if not closed yet.
size_t json_object_end(std::string_view s, size_t start) {
  int depth = 0;
  bool in_string = false;
  bool escape = false;
  for (size_t i = start; i < s.size(); ++i) {
    char c = s[i];
    if (in_string) {
      if (escape) escape = false;
      else if (c == '\\') escape = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '{' || c == '[') ++depth;
    else if (c == '}' || c == ']') {
      if (--depth == 0) return i + 1;
    }
  }
  return std::string_view::npos;
}

}  // namespace

ToolCallParser::ToolCallParser(ChatFormat format, std::vector<Tool> tools, bool parse_reasoning)
    : format_(format), tools_(std::move(tools)), parse_reasoning_(parse_reasoning) {}

const Tool* ToolCallParser::find_tool(std::string_view name) const {
  for (const Tool& tool : tools_) {
    if (tool.model_name() == name || tool.name == name) return &tool;
  }
  return nullptr;
}

void ToolCallParser::emit_text(std::string_view text, std::vector<OutputEvent>* out) {
  if (text.empty()) return;
  OutputEvent::Kind kind = state_ == State::kThink ? OutputEvent::Kind::kReasoning
                                                   : OutputEvent::Kind::kText;
  if (!out->empty() && out->back().kind == kind) {
    out->back().text += text;
  } else {
    out->push_back({kind, std::string(text), "", false});
  }
}

std::vector<OutputEvent> ToolCallParser::push(std::string_view text) {
  std::vector<OutputEvent> out;
  buffer_ += text;
  scan(&out, false);
  return out;
}

std::vector<OutputEvent> ToolCallParser::finish() {
  std::vector<OutputEvent> out;
  scan(&out, true);
  emit_text(buffer_, &out);  // anything still held back is text (or reasoning)
  buffer_.clear();
  return out;
}

void ToolCallParser::scan(std::vector<OutputEvent>* out, bool at_end) {
  // Each step either consumes buffer_ text or changes state; stop when neither happens.
  for (;;) {
    State before = state_;
    size_t size_before = buffer_.size();
    switch (state_) {
      case State::kStart: {
        size_t at = skip_space(buffer_, 0);
        std::string_view rest = std::string_view(buffer_).substr(at);
        bool llama_calls = format_ == ChatFormat::kLlama3 && !tools_.empty();
        if (rest.empty() && !at_end) return;
        if (parse_reasoning_ && rest.starts_with(kThinkOpen)) {
          buffer_.erase(0, at + kThinkOpen.size());
          state_ = State::kThink;
        } else if (!at_end && ((parse_reasoning_ && is_prefix_of(rest, kThinkOpen)) ||
                               (llama_calls && is_prefix_of(rest, kPythonTag)))) {
          return;  // wait for more
        } else if (llama_calls && (rest.starts_with("{") || rest.starts_with(kPythonTag))) {
          state_ = State::kLlamaJson;
        } else {
          state_ = State::kText;
        }
        break;
      }
      case State::kThink: scan_think(out, at_end); break;
      case State::kText: scan_text(out, at_end); break;
      case State::kCall: scan_call(out, at_end); break;
      case State::kLlamaJson: scan_llama(out, at_end); break;
    }
    if (state_ == before && buffer_.size() == size_before) return;
  }
}

void ToolCallParser::scan_think(std::vector<OutputEvent>* out, bool at_end) {
  size_t close = buffer_.find(kThinkClose);
  if (close == std::string::npos) {
    size_t hold = at_end ? 0 : partial_marker_suffix(buffer_, kThinkClose);
    emit_text(std::string_view(buffer_).substr(0, buffer_.size() - hold), out);
    buffer_.erase(0, buffer_.size() - hold);
    return;
  }
  emit_text(std::string_view(buffer_).substr(0, close), out);
  buffer_.erase(0, close + kThinkClose.size());
  state_ = State::kText;
}

void ToolCallParser::scan_text(std::vector<OutputEvent>* out, bool at_end) {
  if (tools_.empty() || format_ == ChatFormat::kLlama3) {
    emit_text(buffer_, out);
    buffer_.clear();
    return;
  }
  size_t open = buffer_.find(kCallOpen);
  if (open == std::string::npos) {
    size_t hold = at_end ? 0 : partial_marker_suffix(buffer_, kCallOpen);
    emit_text(std::string_view(buffer_).substr(0, buffer_.size() - hold), out);
    buffer_.erase(0, buffer_.size() - hold);
    return;
  }
  emit_text(std::string_view(buffer_).substr(0, open), out);
  buffer_.erase(0, open + kCallOpen.size());
  state_ = State::kCall;
}

// buffer_ holds what follows "<tool_call>": whitespace, one JSON object, whitespace, then
// "</tool_call>". Anything else turns the whole block back into text.
void ToolCallParser::scan_call(std::vector<OutputEvent>* out, bool at_end) {
  if (format_ == ChatFormat::kQwen3Coder) return scan_xml_call(out, at_end);
  std::string_view b = buffer_;
  auto give_up = [&](size_t consumed) {  // the block so far is text; rescan the rest
    state_ = State::kText;
    emit_text(kCallOpen, out);
    emit_text(b.substr(0, consumed), out);
    buffer_.erase(0, consumed);
  };
  size_t start = skip_space(b, 0);
  if (start == b.size()) {
    if (at_end) give_up(b.size());
    return;
  }
  if (b[start] != '{') return give_up(start);
  size_t end = json_object_end(b, start);
  if (end == std::string_view::npos) {
    if (at_end) give_up(b.size());
    return;
  }
  size_t after = skip_space(b, end);
  std::string_view tail = b.substr(after);
  bool closed = tail.starts_with(kCallClose);
  if (!closed && !(at_end && tail.empty())) {
    if (!at_end && is_prefix_of(tail, kCallClose)) return;  // the close tag is still coming
    return give_up(after);
  }
  size_t consumed = closed ? after + kCallClose.size() : after;
  std::vector<OutputEvent> call_events;
  if (!emit_call(b.substr(start, end - start), &call_events)) {
    return give_up(consumed);
  }
  out->insert(out->end(), call_events.begin(), call_events.end());
  buffer_.erase(0, consumed);
  state_ = State::kText;
}

namespace {

// Where "</tool_call>" closes the XML call starting at `start`, skipping parameter values
// (which may contain that text: a file being written); npos while it has not come yet.
size_t xml_call_close(std::string_view b, size_t start) {
  constexpr std::string_view kParamOpen = "<parameter=";
  constexpr std::string_view kParamClose = "</parameter>";
  constexpr std::string_view kFunctionClose = "</function>";
  size_t pos = start;
  for (;;) {
    const size_t param = b.find(kParamOpen, pos);
    const size_t function_end = b.find(kFunctionClose, pos);
    if (param != std::string_view::npos && (function_end == std::string_view::npos || param < function_end)) {
      const size_t value_end = b.find(kParamClose, param + kParamOpen.size());
      if (value_end == std::string_view::npos) return std::string_view::npos;
      pos = value_end + kParamClose.size();
      continue;
    }
    // No more parameters: the call closes after </function> (or, malformed, at the first close).
    return b.find(kCallClose, function_end == std::string_view::npos ? pos : function_end);
  }
}

}  // namespace

// buffer_ holds what follows "<tool_call>": <function=NAME>, <parameter=KEY>value</parameter>
// blocks, </function>, then "</tool_call>" (or the end of generation). Anything else turns
// the whole block back into text.
void ToolCallParser::scan_xml_call(std::vector<OutputEvent>* out, bool at_end) {
  std::string_view b = buffer_;
  auto give_up = [&](size_t consumed) {
    state_ = State::kText;
    emit_text(kCallOpen, out);
    emit_text(b.substr(0, consumed), out);
    buffer_.erase(0, consumed);
  };
  size_t start = skip_space(b, 0);
  std::string_view head = b.substr(start);
  if (!head.starts_with(kFunctionOpen)) {
    if (is_prefix_of(head, kFunctionOpen) && !at_end) return;  // still coming
    return give_up(start);
  }
  size_t close = xml_call_close(b, start);
  if (close == std::string_view::npos && !at_end) return;  // the call is still being written
  size_t body_end = close == std::string_view::npos ? b.size() : close;
  size_t consumed = close == std::string_view::npos ? b.size() : close + kCallClose.size();
  std::optional<std::string> call = xml_call_json(b.substr(start, body_end - start));
  std::vector<OutputEvent> call_events;
  if (!call || !emit_call(*call, &call_events)) return give_up(consumed);
  out->insert(out->end(), call_events.begin(), call_events.end());
  buffer_.erase(0, consumed);
  state_ = State::kText;
}

std::optional<std::string> ToolCallParser::xml_call_json(std::string_view s) const {
  constexpr std::string_view kParamOpen = "<parameter=";
  constexpr std::string_view kParamClose = "</parameter>";
  constexpr std::string_view kFunctionClose = "</function>";
  s.remove_prefix(kFunctionOpen.size());
  size_t gt = s.find('>');
  if (gt == std::string_view::npos || gt == 0 || s.substr(0, gt).find_first_of("<\n") != std::string_view::npos)
    return std::nullopt;
  std::string name(s.substr(0, gt));
  s.remove_prefix(gt + 1);
  const Tool* tool = find_tool(name);
  json::object args;
  for (;;) {
    s.remove_prefix(skip_space(s, 0));
    if (!s.starts_with(kParamOpen)) break;
    s.remove_prefix(kParamOpen.size());
    size_t key_end = s.find('>');
    if (key_end == std::string_view::npos || key_end == 0) return std::nullopt;
    std::string key(s.substr(0, key_end));
    s.remove_prefix(key_end + 1);
    size_t value_end = s.find(kParamClose);
    if (value_end == std::string_view::npos) return std::nullopt;
    std::string_view value = s.substr(0, value_end);
    s.remove_prefix(value_end + kParamClose.size());
    // The template puts each value on lines of its own.
    if (value.starts_with('\n')) value.remove_prefix(1);
    if (value.ends_with('\n')) value.remove_suffix(1);
    args[key] = xml_param_value(tool, key, value);
  }
  if (!s.starts_with(kFunctionClose)) return std::nullopt;
  s.remove_prefix(kFunctionClose.size());
  if (skip_space(s, 0) != s.size()) return std::nullopt;
  return json::serialize(json::object{{"name", name}, {"arguments", std::move(args)}});
}

// A parameter's text as the tool's schema types it: strings stay text; other types are read
// as JSON when they parse (42, true, [1,2], {...}) and kept as text otherwise.
json::value ToolCallParser::xml_param_value(const Tool* tool, std::string_view key, std::string_view text) {
  std::string_view type;
  if (tool != nullptr && tool->kind == Tool::Kind::kFunction) {
    const json::object* schema = tool->parameters.if_object();
    const json::value* props = schema ? schema->if_contains("properties") : nullptr;
    const json::value* prop = props && props->is_object() ? props->get_object().if_contains(key) : nullptr;
    const json::value* t = prop && prop->is_object() ? prop->get_object().if_contains("type") : nullptr;
    if (t != nullptr && t->is_string()) type = t->get_string();
  }
  if (type.empty() || type == "string") return json::value(json::string(text));
  boost::system::error_code ec;
  json::value parsed = json::parse(text, ec);
  if (ec) return json::value(json::string(text));
  return parsed;
}

void ToolCallParser::scan_llama(std::vector<OutputEvent>* out, bool at_end) {
  if (!at_end) return;  // a bare-JSON answer is only known to be a call once it ends
  std::string_view b = buffer_;
  size_t start = skip_space(b, 0);
  if (b.substr(start).starts_with(kPythonTag)) start = skip_space(b, start + kPythonTag.size());
  size_t end = start < b.size() && b[start] == '{' ? json_object_end(b, start)
                                                   : std::string_view::npos;
  std::vector<OutputEvent> call_events;
  if (end != std::string_view::npos && skip_space(b, end) == b.size() &&
      emit_call(b.substr(start, end - start), &call_events)) {
    out->insert(out->end(), call_events.begin(), call_events.end());
    buffer_.clear();
  }
  state_ = State::kText;  // not a call: finish() emits the buffer as text
}

bool ToolCallParser::emit_call(std::string_view json_text, std::vector<OutputEvent>* out) {
  boost::system::error_code ec;
  json::value parsed = json::parse(json_text, ec);
  if (ec || !parsed.is_object()) return false;
  const json::object& call = parsed.get_object();
  const json::value* name = call.if_contains("name");
  if (name == nullptr || !name->is_string() || name->get_string().empty()) return false;
  const json::value* args = call.if_contains("arguments");
  if (args == nullptr) args = call.if_contains("parameters");
  std::string name_text(name->get_string());
  const Tool* tool = find_tool(name_text);
  bool custom = tool != nullptr && tool->kind == Tool::Kind::kCustom;
  std::string payload;
  if (args == nullptr || args->is_null()) {
    payload = custom ? "" : "{}";
  } else if (args->is_string()) {
    payload = std::string(args->get_string());
  } else if (custom && args->is_object() && args->get_object().contains("input") &&
             args->get_object().at("input").is_string()) {
    payload = std::string(args->get_object().at("input").get_string());
  } else {
    payload = json::serialize(*args);
  }
  out->push_back({OutputEvent::Kind::kCallStart, "", name_text, custom});
  if (!payload.empty()) out->push_back({OutputEvent::Kind::kCallDelta, payload, name_text, custom});
  out->push_back({OutputEvent::Kind::kCallDone, payload, name_text, custom});
  return true;
}

}  // namespace wafer::api
