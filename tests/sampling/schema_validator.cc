// schema_violation: a direct reading of the JSON Schema keywords, value by value.
#include "schema_validator.h"

#include <cmath>

#include <fmt/core.h>

namespace wafer::test {
namespace json = boost::json;
namespace {

const json::value* resolve(std::string_view ref, const json::value& root) {
  if (ref == "#") return &root;
  if (ref.substr(0, 2) != "#/") return nullptr;
  const json::value* cur = &root;
  std::string_view rest = ref.substr(2);
  while (cur != nullptr) {
    const size_t slash = rest.find('/');
    const std::string part(rest.substr(0, slash));
    cur = cur->is_object() ? cur->get_object().if_contains(part) : nullptr;
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  return cur;
}

bool has_type(const json::value& v, std::string_view type) {
  if (type == "string") return v.is_string();
  if (type == "boolean") return v.is_bool();
  if (type == "null") return v.is_null();
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  if (type == "number") return v.is_number();
  if (type == "integer") {
    if (v.is_int64() || v.is_uint64()) return true;
    return v.is_double() && std::floor(v.get_double()) == v.get_double();
  }
  return false;
}

}  // namespace

std::string schema_violation(const json::value& v, const json::value& schema, const json::value& root) {
  if (schema.is_bool()) return schema.get_bool() ? "" : "schema false";
  const json::object& s = schema.get_object();
  if (const json::value* ref = s.if_contains("$ref")) {
    const json::value* target = resolve(ref->get_string(), root);
    if (target == nullptr) return "unresolved $ref";
    return schema_violation(v, *target, root);
  }
  if (const json::value* c = s.if_contains("const")) {
    if (*c != v) return fmt::format("{} is not the const {}", json::serialize(v), json::serialize(*c));
  }
  if (const json::value* e = s.if_contains("enum")) {
    bool found = false;
    for (const json::value& option : e->get_array()) found = found || option == v;
    if (!found) return fmt::format("{} is not in the enum", json::serialize(v));
  }
  for (const char* key : {"anyOf", "oneOf"}) {
    if (const json::value* list = s.if_contains(key)) {
      int matches = 0;
      for (const json::value& branch : list->get_array()) matches += schema_violation(v, branch, root).empty();
      if (matches == 0) return fmt::format("{} matches no {} branch", json::serialize(v), key);
    }
  }
  if (const json::value* all = s.if_contains("allOf")) {
    for (const json::value& branch : all->get_array()) {
      std::string why = schema_violation(v, branch, root);
      if (!why.empty()) return why;
    }
  }
  if (const json::value* type = s.if_contains("type")) {
    bool ok = false;
    if (type->is_string()) ok = has_type(v, type->get_string());
    if (type->is_array()) {
      for (const json::value& t : type->get_array()) ok = ok || has_type(v, t.get_string());
    }
    if (!ok) return fmt::format("{} is not of type {}", json::serialize(v), json::serialize(*type));
  }
  if (v.is_object()) {
    const json::object& o = v.get_object();
    const json::object* props = s.contains("properties") ? &s.at("properties").get_object() : nullptr;
    if (const json::value* req = s.if_contains("required")) {
      for (const json::value& name : req->get_array()) {
        if (!o.contains(name.get_string())) return fmt::format("missing required '{}'", std::string(name.get_string()));
      }
    }
    for (const auto& kv : o) {
      if (props != nullptr && props->contains(kv.key())) {
        std::string why = schema_violation(kv.value(), props->at(kv.key()), root);
        if (!why.empty()) return fmt::format("{}: {}", std::string(kv.key()), why);
        continue;
      }
      if (const json::value* extra = s.if_contains("additionalProperties")) {
        std::string why = schema_violation(kv.value(), *extra, root);
        if (!why.empty()) return fmt::format("extra '{}': {}", std::string(kv.key()), why);
      }
    }
  }
  if (v.is_array()) {
    const json::array& a = v.get_array();
    if (const json::value* m = s.if_contains("minItems"); m && static_cast<int64_t>(a.size()) < m->to_number<int64_t>())
      return "too few items";
    if (const json::value* m = s.if_contains("maxItems"); m && static_cast<int64_t>(a.size()) > m->to_number<int64_t>())
      return "too many items";
    if (const json::value* items = s.if_contains("items")) {
      for (const json::value& item : a) {
        std::string why = schema_violation(item, *items, root);
        if (!why.empty()) return "item: " + why;
      }
    }
  }
  return "";
}

}  // namespace wafer::test
