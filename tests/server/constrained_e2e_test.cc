// Constrained output through the real server: response formats on Chat Completions and
// Responses, forced and strict tool calls (on the tools Codex CLI 0.169 actually sends), and
// the 400 an unsupported strict schema gets. The model is random: without the grammar its
// output would be noise; with it, every answer must parse and validate.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "../sampling/schema_validator.h"
#include "server_fixture.h"

namespace wafer::server::testing {
namespace {

namespace json = boost::json;

class Constrained : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = start_server(shared_engine(), test_config(test_dir()));
    ASSERT_NE(server_, nullptr);
  }
  json::object post(const std::string& path, const json::value& body, int expect_status = 200) {
    HttpClient client(server_->port());
    HttpReply reply = client.post(path, json::serialize(body));
    EXPECT_EQ(reply.status, expect_status) << reply.body.substr(0, 600);
    return json::parse(reply.body).as_object();
  }
  std::unique_ptr<Server> server_;
};

const json::value kPerson = json::parse(R"({"type":"object","properties":{
  "name":{"type":"string"},"age":{"type":"integer"},"tags":{"type":"array","items":{"type":"string"},"maxItems":3}},
  "required":["name","age","tags"],"additionalProperties":false})");

void expect_valid(const std::string& text, const json::value& schema) {
  boost::system::error_code ec;
  json::value doc = json::parse(text, ec);
  ASSERT_FALSE(ec) << "not JSON: " << text;
  EXPECT_EQ(test::schema_violation(doc, schema, schema), "") << text;
}

TEST_F(Constrained, ChatResponseFormatJsonSchemaAndJsonObject) {
  for (uint64_t seed : {1u, 2u, 3u}) {
    json::object body{{"model", "any"}, {"messages", json::array{json::object{{"role", "user"}, {"content", "Describe a person"}}}},
                      {"max_tokens", 64}, {"temperature", 1.0}, {"seed", seed},
                      {"response_format", json::object{{"type", "json_schema"},
                                                       {"json_schema", json::object{{"name", "person"}, {"strict", true}, {"schema", kPerson}}}}}};
    json::object r = post("/v1/chat/completions", body);
    expect_valid(std::string(r.at("choices").at(0).at("message").at("content").as_string()), kPerson);
    body["response_format"] = json::object{{"type", "json_object"}};
    r = post("/v1/chat/completions", body);
    const std::string text(r.at("choices").at(0).at("message").at("content").as_string());
    expect_valid(text, json::parse(R"({"type":"object"})"));
  }
}

TEST_F(Constrained, ResponsesTextFormatJsonSchema) {
  json::object body{{"model", "any"}, {"input", "Describe a person"}, {"max_output_tokens", 48}, {"temperature", 1.2},
                    {"text", json::object{{"format", json::object{{"type", "json_schema"}, {"name", "person"},
                                                                  {"strict", true}, {"schema", kPerson}}}}}};
  json::object r = post("/v1/responses", body);
  const json::object& message = r.at("output").at(0).as_object();
  expect_valid(std::string(message.at("content").at(0).at("text").as_string()), kPerson);
}

TEST_F(Constrained, UnsupportedStrictSchemaIs400NamingTheKeyword) {
  json::object body{{"model", "any"}, {"input", "x"},
                    {"text", json::object{{"format", json::object{{"type", "json_schema"}, {"name", "s"}, {"strict", true},
                                                                  {"schema", json::parse(R"({"type":"string","format":"email"})")}}}}}};
  json::object r = post("/v1/responses", body, 400);
  EXPECT_NE(std::string(r.at("error").at("message").as_string()).find("'format'"), std::string::npos);
  // The server keeps serving.
  post("/v1/responses", json::object{{"model", "any"}, {"input", "x"}, {"max_output_tokens", 2}});
}

// Drops "description" annotations (recursively) so Codex's tool list fits the test model's
// context; they do not change which arguments are valid.
void drop_descriptions(json::value& v) {
  if (json::object* o = v.if_object()) {
    if (auto it = o->find("description"); it != o->end() && it->value().is_string()) o->erase(it);
    for (auto& kv : *o) drop_descriptions(kv.value());
  } else if (json::array* a = v.if_array()) {
    for (json::value& e : *a) drop_descriptions(e);
  }
}

// Codex CLI's own request (tools exactly as it declares them), with the call forced.
TEST_F(Constrained, ForcedCallsOnCodexToolsValidate) {
  const auto path = std::filesystem::path(WAFER_SHARED_DIR) / "fixtures/codex-0.169/codex-http-tool/001-http-POST-_v1_responses.json";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "no fixture " << path;
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  json::object body = json::parse(ss.str()).at("request").at("body").as_object();
  body["stream"] = false;
  body["max_output_tokens"] = 120;
  body["temperature"] = 1.0;
  body["input"] = json::array{json::object{{"role", "user"}, {"content", "List the files."}}};
  body.erase("instructions");
  drop_descriptions(body["tools"]);
  int forced = 0;
  for (const json::value& tool : body.at("tools").as_array()) {
    const json::object& t = tool.as_object();
    if (t.at("type") != "function" || !t.contains("parameters")) continue;
    const std::string name(t.at("name").as_string());
    for (const json::value& choice : {json::value(json::object{{"type", "function"}, {"name", name}})}) {
      json::object request = body;
      request["tool_choice"] = choice;
      json::object r = post("/v1/responses", request);
      const json::array& output = r.at("output").as_array();
      ASSERT_FALSE(output.empty());
      const json::object& call = output.back().as_object();
      ASSERT_EQ(call.at("type"), "function_call") << json::serialize(r).substr(0, 400);
      EXPECT_EQ(call.at("name"), json::value(name));
      expect_valid(std::string(call.at("arguments").as_string()), t.at("parameters"));
      ++forced;
    }
  }
  EXPECT_GE(forced, 5);
  // tool_choice "required": some tool is called, with valid arguments.
  json::object request = body;
  request["tool_choice"] = "required";
  json::object r = post("/v1/responses", request);
  const json::object& call = r.at("output").as_array().back().as_object();
  ASSERT_EQ(call.at("type"), "function_call");
  for (const json::value& tool : body.at("tools").as_array()) {
    if (tool.as_object().contains("name") && tool.at("name") == call.at("name")) {
      expect_valid(std::string(call.at("arguments").as_string()), tool.at("parameters"));
    }
  }
}

TEST_F(Constrained, ChatForcedFunctionCallValidates) {
  const json::value params = json::parse(R"({"type":"object","properties":{"path":{"type":"string"},
    "lines":{"type":"array","items":{"type":"integer"},"minItems":1,"maxItems":2}},"required":["path","lines"],"additionalProperties":false})");
  json::object body{{"model", "any"}, {"messages", json::array{json::object{{"role", "user"}, {"content", "read it"}}}},
                    {"max_tokens", 60}, {"temperature", 1.0},
                    {"tools", json::array{json::object{{"type", "function"},
                                                       {"function", json::object{{"name", "read_lines"}, {"strict", true}, {"parameters", params}}}}}},
                    {"tool_choice", json::object{{"type", "function"}, {"function", json::object{{"name", "read_lines"}}}}}};
  for (uint64_t seed : {4u, 5u}) {
    body["seed"] = seed;
    json::object r = post("/v1/chat/completions", body);
    const json::object& message = r.at("choices").at(0).at("message").as_object();
    ASSERT_TRUE(message.contains("tool_calls")) << json::serialize(message);
    const json::object& fn = message.at("tool_calls").at(0).at("function").as_object();
    EXPECT_EQ(fn.at("name"), "read_lines");
    expect_valid(std::string(fn.at("arguments").as_string()), params);
  }
}

}  // namespace
}  // namespace wafer::server::testing
