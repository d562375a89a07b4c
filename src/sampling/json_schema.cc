// JsonGrammar: JSON Schema keywords to grammar rules, one schema object at a time.
#include "sampling/json_schema.h"

#include <set>
#include <string_view>

#include "base/check.h"

namespace wafer {
namespace json = boost::json;
namespace {

// Keywords that only describe: they never change which values are valid.
const std::set<std::string_view> kAnnotations = {
    "title", "description", "default", "examples", "$schema", "$id", "$comment", "deprecated",
    "readOnly", "writeOnly", "$defs", "definitions",
};
const std::set<std::string_view> kStructural = {
    "type", "properties", "required", "additionalProperties", "items", "minItems", "maxItems",
    "enum", "const", "anyOf", "oneOf", "allOf", "$ref",
};
// Bounded repetitions unroll into rules; past this a schema is refused rather than bloated.
constexpr int64_t kMaxItemsUnrolled = 256;

ByteSet set_of(std::string_view chars) {
  ByteSet s;
  for (char c : chars) s.add(static_cast<uint8_t>(c));
  return s;
}
ByteSet range(uint8_t lo, uint8_t hi) {
  ByteSet s;
  s.add_range(lo, hi);
  return s;
}

Error keyword_error(std::string_view keyword, const std::string& path, std::string_view why) {
  return make_error(ErrorCode::kInvalidArgument,
                    "JSON schema keyword '{}' at {} is not supported{}; wafer's constrained decoding supports type, "
                    "properties, required, additionalProperties, items, minItems, maxItems, enum, const, anyOf, "
                    "oneOf, $ref and $defs (set strict to false to generate without it)",
                    keyword, path.empty() ? "#" : path, why);
}

// "#/a/b~1c" -> ["a", "b/c"]; nullopt when not a local JSON pointer.
std::optional<std::vector<std::string>> split_pointer(std::string_view ref) {
  if (ref.empty() || ref[0] != '#') return std::nullopt;
  ref.remove_prefix(1);
  std::vector<std::string> parts;
  if (ref.empty()) return parts;
  if (ref[0] != '/') return std::nullopt;
  ref.remove_prefix(1);
  for (;;) {
    const size_t slash = ref.find('/');
    std::string_view raw = ref.substr(0, slash);
    std::string part;
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '~' && i + 1 < raw.size() && (raw[i + 1] == '0' || raw[i + 1] == '1')) {
        part += raw[i + 1] == '0' ? '~' : '/';
        ++i;
      } else {
        part += raw[i];
      }
    }
    parts.push_back(std::move(part));
    if (slash == std::string_view::npos) break;
    ref.remove_prefix(slash + 1);
  }
  return parts;
}

}  // namespace

// Whitespace between tokens: nothing, one space, or one newline and an indent of up to 32
// spaces (pretty-printed JSON). Bounded, so that a model cannot fill its budget with blanks.
GrammarElement JsonGrammar::ws() {
  if (ws_rule_ < 0) {
    GrammarBuilder& b = *b_;
    uint32_t indent = b.rule("indent_0", {Seq{}});
    for (int k = 1; k <= 32; ++k) indent = b.rule(fmt::format("indent_{}", k), {seq_of(b.literal(" "), GrammarBuilder::ref(indent)), Seq{}});
    ws_rule_ = b.rule("ws", {Seq{}, b.literal(" "), seq_of(b.literal("\n"), GrammarBuilder::ref(indent))});
  }
  return GrammarBuilder::ref(static_cast<uint32_t>(ws_rule_));
}

uint32_t JsonGrammar::string_rule() {
  if (string_rule_ >= 0) return static_cast<uint32_t>(string_rule_);
  GrammarBuilder& b = *b_;
  ByteSet normal = range(0x20, 0x7F);
  normal.bits[0x22 >> 6] &= ~(uint64_t{1} << (0x22 & 63));  // "
  normal.bits[0x5C >> 6] &= ~(uint64_t{1} << (0x5C & 63));  // backslash
  const GrammarElement cont = b.bytes(range(0x80, 0xBF));
  ByteSet e1_ec = range(0xE1, 0xEC);
  e1_ec.add(0xEE);
  e1_ec.add(0xEF);
  // Well-formed UTF-8 only (no overlongs, surrogates or code points past U+10FFFF).
  const uint32_t utf8 = b.rule("utf8_char", {
      seq_of(b.bytes(range(0xC2, 0xDF)), cont),
      seq_of(b.literal("\xE0"), b.bytes(range(0xA0, 0xBF)), cont),
      seq_of(b.bytes(e1_ec), cont, cont),
      seq_of(b.literal("\xED"), b.bytes(range(0x80, 0x9F)), cont),
      seq_of(b.literal("\xF0"), b.bytes(range(0x90, 0xBF)), cont, cont),
      seq_of(b.bytes(range(0xF1, 0xF3)), cont, cont, cont),
      seq_of(b.literal("\xF4"), b.bytes(range(0x80, 0x8F)), cont, cont),
  });
  ByteSet hex = range('0', '9');
  hex.add_range('a', 'f');
  hex.add_range('A', 'F');
  const GrammarElement h = b.bytes(hex);
  // \u escapes: a code point outside the surrogates, or a high surrogate followed by a low one
  // (a lone surrogate is valid JSON syntax that no parser can decode).
  ByteSet not_d = hex;
  not_d.bits['d' >> 6] &= ~(uint64_t{1} << ('d' & 63));
  not_d.bits['D' >> 6] &= ~(uint64_t{1} << ('D' & 63));
  const GrammarElement d = b.bytes(set_of("dD"));
  const uint32_t escape = b.rule("string_escape", {
      seq_of(b.bytes(set_of("\"\\/bfnrt"))),
      seq_of(b.literal("u"), b.bytes(not_d), h, h, h),
      seq_of(b.literal("u"), d, b.bytes(range('0', '7')), h, h),
      seq_of(b.literal("u"), d, b.bytes(set_of("89abAB")), h, h, b.literal("\\u"), d, b.bytes(set_of("cdefCDEF")), h, h),
  });
  const uint32_t body = b.declare("string_body");
  const uint32_t tail = b.rule("string_tail", {
      b.literal("\""),
      seq_of(b.literal("\\"), GrammarBuilder::ref(escape), GrammarBuilder::ref(body)),
      seq_of(GrammarBuilder::ref(utf8), GrammarBuilder::ref(body)),
  });
  b.add_alternative(body, seq_of(b.star(normal), GrammarBuilder::ref(tail)));
  string_body_rule_ = body;
  escape_rule_ = escape;
  utf8_rule_ = utf8;
  normal_ = normal;
  string_rule_ = b.rule("string", {seq_of(b.literal("\""), GrammarBuilder::ref(body))});
  return static_cast<uint32_t>(string_rule_);
}

// Numbers stay within what JSON parsers read exactly: integers up to 18 digits (int64),
// other numbers up to 15 significant digits before and after the point, exponents up to 2.
uint32_t JsonGrammar::utf8_char() {
  string_rule();
  return static_cast<uint32_t>(utf8_rule_);
}

uint32_t JsonGrammar::key_excluding(const std::vector<std::string>& names) {
  GrammarBuilder& b = *b_;
  const uint32_t body = (string_rule(), static_cast<uint32_t>(string_body_rule_));
  // A trie over the names' JSON text: following it, a closing quote is allowed only where no
  // name ends; leaving it (a byte no name has there) continues as any string. Leaving inside a
  // multi-byte character or through a UTF-8 lead byte some name also uses is not offered.
  struct TrieNode {
    std::map<uint8_t, size_t> children;
    bool terminal = false;
  };
  std::vector<TrieNode> trie(1);
  for (const std::string& name : names) {
    const std::string text = json::serialize(json::string(name));
    size_t node = 0;
    for (size_t i = 1; i + 1 < text.size(); ++i) {
      const uint8_t c = static_cast<uint8_t>(text[i]);
      auto it = trie[node].children.find(c);
      if (it == trie[node].children.end()) {
        trie.emplace_back();
        it = trie[node].children.emplace(c, trie.size() - 1).first;
      }
      node = it->second;
    }
    trie[node].terminal = true;
  }
  const std::string id = std::to_string(counter_++);
  std::vector<uint32_t> rules(trie.size());
  for (size_t n = 0; n < trie.size(); ++n) rules[n] = b.declare(fmt::format("key_{}_{}", id, n));
  // Continuation bytes still due at each node (> 0: inside a multi-byte UTF-8 character).
  // Parents precede children in `trie`, so one pass in order sees every parent first.
  std::vector<int> pending(trie.size(), 0);
  for (size_t n = 0; n < trie.size(); ++n) {
    for (const auto& [c, child] : trie[n].children) {
      pending[child] = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : c >= 0x80 ? std::max(0, pending[n] - 1) : 0;
    }
  }
  for (size_t n = 0; n < trie.size(); ++n) {
    const TrieNode& t = trie[n];
    if (!t.terminal) b.add_alternative(rules[n], b.literal("\""));
    ByteSet leave = normal_;
    bool non_ascii_child = false;
    for (const auto& [c, child] : t.children) {
      ByteSet one;
      one.add(c);
      b.add_alternative(rules[n], seq_of(b.bytes(one), GrammarBuilder::ref(rules[child])));
      if (c < 0x80) leave.bits[c >> 6] &= ~(uint64_t{1} << (c & 63));
      non_ascii_child = non_ascii_child || c >= 0x80;
    }
    if (pending[n] > 0) continue;
    if (!leave.empty()) b.add_alternative(rules[n], seq_of(b.bytes(leave), GrammarBuilder::ref(body)));
    if (!t.children.count('\\')) {
      b.add_alternative(rules[n], seq_of(b.literal("\\"), GrammarBuilder::ref(static_cast<uint32_t>(escape_rule_)),
                                         GrammarBuilder::ref(body)));
    }
    if (!non_ascii_child) {
      b.add_alternative(rules[n], seq_of(GrammarBuilder::ref(static_cast<uint32_t>(utf8_rule_)), GrammarBuilder::ref(body)));
    }
  }
  return b.rule("key_" + id, {seq_of(b.literal("\""), GrammarBuilder::ref(rules[0]))});
}

uint32_t JsonGrammar::number_rule(bool integer) {
  int64_t& cached = integer ? integer_rule_ : number_rule_;
  if (cached >= 0) return static_cast<uint32_t>(cached);
  GrammarBuilder& b = *b_;
  const GrammarElement digit = b.bytes(range('0', '9'));
  // up_to(n): zero to n digits, as a chain of tail references (the stack stays flat).
  auto up_to = [&](const std::string& name, int n) {
    uint32_t r = b.rule(name + "_0", {Seq{}});
    for (int k = 1; k <= n; ++k) r = b.rule(fmt::format("{}_{}", name, k), {seq_of(digit, GrammarBuilder::ref(r)), Seq{}});
    return r;
  };
  const std::string kind = integer ? "integer" : "number";
  const uint32_t int_part =
      b.rule(kind + "_digits", {b.literal("0"), seq_of(b.bytes(range('1', '9')), GrammarBuilder::ref(up_to(kind + "_more", integer ? 17 : 14)))});
  Seq s = seq_of(GrammarBuilder::ref(b.optional(kind + "_sign", b.literal("-"))), GrammarBuilder::ref(int_part));
  if (!integer) {
    const uint32_t frac = b.optional("number_fraction", seq_of(b.literal("."), digit, GrammarBuilder::ref(up_to("fraction_more", 14))));
    const uint32_t exp = b.optional("number_exponent",
                                    seq_of(b.bytes(set_of("eE")),
                                           GrammarBuilder::ref(b.optional("exponent_sign", seq_of(b.bytes(set_of("+-"))))),
                                           digit, GrammarBuilder::ref(up_to("exponent_more", 1))));
    s += GrammarBuilder::ref(frac);
    s += GrammarBuilder::ref(exp);
  }
  cached = b.rule(kind, {s});
  return static_cast<uint32_t>(cached);
}

uint32_t JsonGrammar::any_value() {
  if (value_rule_ >= 0) return static_cast<uint32_t>(value_rule_);
  GrammarBuilder& b = *b_;
  const uint32_t value = b.declare("value");
  value_rule_ = value;
  const uint32_t str = string_rule();
  const uint32_t member = b.rule("member", {seq_of(GrammarBuilder::ref(str), ws(), b.literal(":"), ws(), GrammarBuilder::ref(value))});
  const uint32_t members = b.repeat_star("members_rest", seq_of(ws(), b.literal(","), ws(), GrammarBuilder::ref(member)));
  object_rule_ = b.rule("object", {
      seq_of(b.literal("{"), ws(), b.literal("}")),
      seq_of(b.literal("{"), ws(), GrammarBuilder::ref(member), GrammarBuilder::ref(members), ws(), b.literal("}")),
  });
  const uint32_t values = b.repeat_star("values_rest", seq_of(ws(), b.literal(","), ws(), GrammarBuilder::ref(value)));
  const uint32_t array = b.rule("array", {
      seq_of(b.literal("["), ws(), b.literal("]")),
      seq_of(b.literal("["), ws(), GrammarBuilder::ref(value), GrammarBuilder::ref(values), ws(), b.literal("]")),
  });
  for (uint32_t r : {static_cast<uint32_t>(object_rule_), array, str, number_rule(false)}) {
    b.add_alternative(value, seq_of(GrammarBuilder::ref(r)));
  }
  for (const char* word : {"true", "false", "null"}) b.add_alternative(value, b.literal(word));
  return value;
}

uint32_t JsonGrammar::any_object() {
  any_value();
  return static_cast<uint32_t>(object_rule_);
}

uint32_t JsonGrammar::literal_rule(const json::value& v) {
  return b_->rule("literal_" + std::to_string(counter_++), {b_->literal(json::serialize(v))});
}

Result<uint32_t> JsonGrammar::schema_rule(const json::value& schema) { return schema_rule(schema, schema); }

Result<uint32_t> JsonGrammar::schema_rule(const json::value& schema, const json::value& root) {
  root_ = &root;
  return compile(schema, "");
}

Result<uint32_t> JsonGrammar::compile_ref(std::string_view ref, const std::string& path) {
  auto parts = split_pointer(ref);
  if (!parts) return keyword_error("$ref", path, fmt::format(" for '{}' (only local references like #/$defs/Name)", ref));
  const json::value* target = root_;
  for (const std::string& part : *parts) {
    const json::object* o = target->if_object();
    const json::value* next = o ? o->if_contains(part) : nullptr;
    if (next == nullptr) {
      return make_error(ErrorCode::kInvalidArgument, "JSON schema $ref '{}' at {} points to nothing", ref,
                        path.empty() ? "#" : path);
    }
    target = next;
  }
  auto it = refs_.find(target);
  if (it != refs_.end()) return it->second;
  // Declared before compiling so that recursive schemas refer back to it.
  const uint32_t rule = b_->declare(fmt::format("ref_{}", ref));
  refs_[target] = rule;
  WAFER_ASSIGN_OR_RETURN(uint32_t body, compile(*target, std::string(ref)));
  b_->add_alternative(rule, seq_of(GrammarBuilder::ref(body)));
  return rule;
}

Result<uint32_t> JsonGrammar::compile(const json::value& value, const std::string& path) {
  if (value.is_bool()) {
    if (value.get_bool()) return any_value();
    return make_error(ErrorCode::kInvalidArgument, "JSON schema at {} is false: no value can match it",
                      path.empty() ? "#" : path);
  }
  if (!value.is_object()) {
    return make_error(ErrorCode::kInvalidArgument, "JSON schema at {} must be an object or a boolean",
                      path.empty() ? "#" : path);
  }
  const json::object& s = value.get_object();
  for (const auto& kv : s) {
    if (kAnnotations.count(kv.key()) || kStructural.count(kv.key())) continue;
    if (strict_) return keyword_error(kv.key(), path, "");
    return any_value();
  }
  if (const json::value* c = s.if_contains("const")) return literal_rule(*c);
  if (const json::value* e = s.if_contains("enum")) {
    if (!e->is_array() || e->get_array().empty()) {
      return make_error(ErrorCode::kInvalidArgument, "JSON schema 'enum' at {} must be a non-empty array",
                        path.empty() ? "#" : path);
    }
    const uint32_t rule = b_->declare("enum_" + std::to_string(counter_++));
    for (const json::value& v : e->get_array()) b_->add_alternative(rule, b_->literal(json::serialize(v)));
    return rule;
  }
  if (const json::value* ref = s.if_contains("$ref")) {
    if (!ref->is_string()) return keyword_error("$ref", path, " (it must be a string)");
    return compile_ref(ref->get_string(), path);
  }
  for (const char* key : {"anyOf", "oneOf", "allOf"}) {
    const json::value* list = s.if_contains(key);
    if (list == nullptr) continue;
    if (!list->is_array() || list->get_array().empty()) {
      return make_error(ErrorCode::kInvalidArgument, "JSON schema '{}' at {} must be a non-empty array", key,
                        path.empty() ? "#" : path);
    }
    const json::array& branches = list->get_array();
    if (std::string_view(key) == "allOf") {
      if (branches.size() == 1) return compile(branches[0], path + "/allOf/0");
      if (strict_) return keyword_error("allOf", path, " with more than one schema");
      return any_value();
    }
    const uint32_t rule = b_->declare(std::string(key) + "_" + std::to_string(counter_++));
    for (size_t i = 0; i < branches.size(); ++i) {
      WAFER_ASSIGN_OR_RETURN(uint32_t r, compile(branches[i], fmt::format("{}/{}/{}", path, key, i)));
      b_->add_alternative(rule, seq_of(GrammarBuilder::ref(r)));
    }
    return rule;
  }
  const json::value* type = s.if_contains("type");
  if (type == nullptr) {
    if (s.contains("properties") || s.contains("additionalProperties") || s.contains("required")) {
      return compile_object(s, path);
    }
    if (s.contains("items") || s.contains("minItems") || s.contains("maxItems")) return compile_array(s, path);
    return any_value();
  }
  if (type->is_string()) return compile_type(s, type->get_string(), path);
  if (type->is_array() && !type->get_array().empty()) {
    const uint32_t rule = b_->declare("types_" + std::to_string(counter_++));
    for (const json::value& t : type->get_array()) {
      if (!t.is_string()) return keyword_error("type", path, " (a list of type names is expected)");
      WAFER_ASSIGN_OR_RETURN(uint32_t r, compile_type(s, t.get_string(), path));
      b_->add_alternative(rule, seq_of(GrammarBuilder::ref(r)));
    }
    return rule;
  }
  return keyword_error("type", path, " (a type name or a list of them is expected)");
}

Result<uint32_t> JsonGrammar::compile_type(const json::object& s, std::string_view type, const std::string& path) {
  GrammarBuilder& b = *b_;
  if (type == "string") return string_rule();
  if (type == "integer") return number_rule(true);
  if (type == "number") return number_rule(false);
  if (type == "boolean") return b.rule("boolean", {b.literal("true"), b.literal("false")});
  if (type == "null") return b.rule("null", {b.literal("null")});
  if (type == "object") return compile_object(s, path);
  if (type == "array") return compile_array(s, path);
  return keyword_error("type", path, fmt::format(" for '{}'", type));
}

Result<uint32_t> JsonGrammar::compile_object(const json::object& s, const std::string& path) {
  GrammarBuilder& b = *b_;
  const json::value* props = s.if_contains("properties");
  const json::value* extra = s.if_contains("additionalProperties");
  if (props != nullptr && !props->is_object()) return keyword_error("properties", path, " (it must be an object)");
  std::set<std::string> required;
  if (const json::value* req = s.if_contains("required")) {
    if (!req->is_array()) return keyword_error("required", path, " (it must be an array of names)");
    for (const json::value& name : req->get_array()) {
      if (!name.is_string()) return keyword_error("required", path, " (it must be an array of names)");
      required.insert(std::string(name.get_string()));
    }
  }
  if (props == nullptr) {
    // No declared properties: any object, its values limited by additionalProperties.
    if (extra == nullptr || (extra->is_bool() && extra->get_bool())) return any_object();
    if (extra->is_bool()) return b.rule("empty_object", {seq_of(b.literal("{"), ws(), b.literal("}"))});
    WAFER_ASSIGN_OR_RETURN(uint32_t v, compile(*extra, path + "/additionalProperties"));
    const uint32_t member = b.rule("member_" + std::to_string(counter_++),
                                   {seq_of(GrammarBuilder::ref(string_rule()), ws(), b.literal(":"), ws(), GrammarBuilder::ref(v))});
    const uint32_t rest = b.repeat_star("members_" + std::to_string(counter_++),
                                        seq_of(ws(), b.literal(","), ws(), GrammarBuilder::ref(member)));
    return b.rule("object_" + std::to_string(counter_++), {
        seq_of(b.literal("{"), ws(), b.literal("}")),
        seq_of(b.literal("{"), ws(), GrammarBuilder::ref(member), GrammarBuilder::ref(rest), ws(), b.literal("}")),
    });
  }
  const json::object& p = props->get_object();

  // Extra keys (additionalProperties true or a schema) may follow the declared ones.
  int64_t extra_member = -1;
  if (extra != nullptr && !(extra->is_bool() && !extra->get_bool())) {
    uint32_t v = 0;
    if (extra->is_bool()) {
      v = any_value();
    } else {
      WAFER_ASSIGN_OR_RETURN(v, compile(*extra, path + "/additionalProperties"));
    }
    // Keys the schema declares are not extra keys: their values follow their own schemas.
    std::vector<std::string> declared;
    if (props != nullptr) {
      for (const auto& kv : props->get_object()) declared.emplace_back(kv.key());
    }
    extra_member = b.rule("extra_member_" + std::to_string(counter_++),
                          {seq_of(GrammarBuilder::ref(key_excluding(declared)), ws(), b.literal(":"), ws(), GrammarBuilder::ref(v))});
  }
  const std::string id = std::to_string(counter_++);
  std::vector<uint32_t> members;
  std::vector<bool> optional;
  size_t i = 0;
  for (const auto& kv : p) {
    WAFER_ASSIGN_OR_RETURN(uint32_t v, compile(kv.value(), fmt::format("{}/properties/{}", path, std::string(kv.key()))));
    members.push_back(b.rule(fmt::format("prop_{}_{}", id, i++),
                             {seq_of(b.literal(json::serialize(json::string(kv.key()))), ws(), b.literal(":"), ws(),
                                     GrammarBuilder::ref(v))}));
    optional.push_back(!required.count(std::string(kv.key())));
  }
  // Required names the properties do not declare: present, with any value.
  for (const std::string& name : required) {
    if (p.contains(name)) continue;
    members.push_back(b.rule(fmt::format("prop_{}_{}", id, i++),
                             {seq_of(b.literal(json::serialize(json::string(name))), ws(), b.literal(":"), ws(),
                                     GrammarBuilder::ref(any_value()))}));
    optional.push_back(false);
  }
  const size_t n = members.size();
  // after[k]: members k.. with something already written (each needs a leading comma);
  // first[k]: members k.. with nothing written yet.
  std::vector<uint32_t> after(n + 1);
  std::vector<uint32_t> first(n + 1);
  after[n] = b.declare(fmt::format("after_{}_{}", id, n));
  first[n] = b.declare(fmt::format("first_{}_{}", id, n));
  b.add_alternative(after[n], Seq{});
  b.add_alternative(first[n], Seq{});
  if (extra_member >= 0) {
    const Seq more = seq_of(ws(), b.literal(","), ws(), GrammarBuilder::ref(static_cast<uint32_t>(extra_member)),
                            GrammarBuilder::ref(after[n]));
    b.add_alternative(after[n], more);
    b.add_alternative(first[n], seq_of(GrammarBuilder::ref(static_cast<uint32_t>(extra_member)), GrammarBuilder::ref(after[n])));
  }
  for (size_t k = n; k-- > 0;) {
    after[k] = b.declare(fmt::format("after_{}_{}", id, k));
    b.add_alternative(after[k], seq_of(ws(), b.literal(","), ws(), GrammarBuilder::ref(members[k]), GrammarBuilder::ref(after[k + 1])));
    if (optional[k]) b.add_alternative(after[k], seq_of(GrammarBuilder::ref(after[k + 1])));
    first[k] = b.declare(fmt::format("first_{}_{}", id, k));
    b.add_alternative(first[k], seq_of(GrammarBuilder::ref(members[k]), GrammarBuilder::ref(after[k + 1])));
    if (optional[k]) b.add_alternative(first[k], seq_of(GrammarBuilder::ref(first[k + 1])));
  }
  return b.rule("object_" + id, {seq_of(b.literal("{"), ws(), GrammarBuilder::ref(first[0]), ws(), b.literal("}"))});
}

Result<uint32_t> JsonGrammar::compile_array(const json::object& s, const std::string& path) {
  GrammarBuilder& b = *b_;
  uint32_t item = 0;
  if (const json::value* items = s.if_contains("items")) {
    WAFER_ASSIGN_OR_RETURN(item, compile(*items, path + "/items"));
  } else {
    item = any_value();
  }
  int64_t min_items = 0;
  int64_t max_items = -1;
  for (const char* key : {"minItems", "maxItems"}) {
    const json::value* v = s.if_contains(key);
    if (v == nullptr) continue;
    if (!v->is_int64() && !v->is_uint64()) return keyword_error(key, path, " (it must be a whole number)");
    const int64_t n = v->is_int64() ? v->get_int64() : static_cast<int64_t>(std::min<uint64_t>(v->get_uint64(), INT64_MAX));
    if (n < 0) return keyword_error(key, path, " (it must not be negative)");
    (std::string_view(key) == "minItems" ? min_items : max_items) = n;
  }
  if (max_items >= 0 && max_items < min_items) {
    return make_error(ErrorCode::kInvalidArgument, "JSON schema at {} has maxItems below minItems",
                      path.empty() ? "#" : path);
  }
  if (min_items > kMaxItemsUnrolled || max_items > kMaxItemsUnrolled) {
    return keyword_error(min_items > kMaxItemsUnrolled ? "minItems" : "maxItems", path,
                         fmt::format(" above {}", kMaxItemsUnrolled));
  }
  const std::string id = std::to_string(counter_++);
  const Seq next = seq_of(ws(), b.literal(","), ws(), GrammarBuilder::ref(item));
  // Items after the first: the mandatory ones, then the optional tail.
  Seq body = seq_of(GrammarBuilder::ref(item));
  for (int64_t k = 1; k < std::max<int64_t>(min_items, 1); ++k) body += next;
  if (max_items < 0) {
    body += GrammarBuilder::ref(b.repeat_star("items_" + id, next));
  } else if (max_items > std::max<int64_t>(min_items, 1)) {
    uint32_t tail = b.rule(fmt::format("items_{}_{}", id, 0), {Seq{}});
    for (int64_t k = 1; k <= max_items - std::max<int64_t>(min_items, 1); ++k) {
      tail = b.rule(fmt::format("items_{}_{}", id, k), {seq_of(next, GrammarBuilder::ref(tail)), Seq{}});
    }
    body += GrammarBuilder::ref(tail);
  }
  std::vector<Seq> alts;
  if (max_items != 0) alts.push_back(seq_of(b.literal("["), ws(), body, ws(), b.literal("]")));
  if (min_items == 0) alts.push_back(seq_of(b.literal("["), ws(), b.literal("]")));
  return b.rule("array_" + id, std::move(alts));
}

Result<Grammar> compile_json_schema(const json::value& schema, bool strict) {
  GrammarBuilder b;
  JsonGrammar j(&b, strict);
  WAFER_ASSIGN_OR_RETURN(uint32_t root, j.schema_rule(schema));
  return std::move(b).build(root);
}

Grammar json_object_grammar() {
  GrammarBuilder b;
  JsonGrammar j(&b, true);
  const uint32_t root = j.any_object();
  Result<Grammar> g = std::move(b).build(root);
  WAFER_CHECK(g.ok());
  return std::move(g).value();
}

}  // namespace wafer
