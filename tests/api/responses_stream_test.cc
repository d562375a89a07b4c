// ResponseStreamWriter against the event streams recorded with Codex CLI and the SDK: the
// same event types in the same order with the same fields, fed with the recorded deltas.
#include <gtest/gtest.h>

#include <set>

#include "api/responses_stream.h"
#include "api_test_support.h"

namespace wafer::api {
namespace {

namespace json = boost::json;
using Kind = OutputEvent::Kind;

constexpr std::string_view kModel = "capture-model";

// Values that differ per run (ids, times) or that the capture server did not echo (tools,
// instructions: wafer echoes them as the API reference says).
bool skip_value(std::string_view key) {
  static const std::set<std::string_view> kSkip = {"id", "item_id", "call_id", "created_at",
                                                   "tools", "instructions"};
  return kSkip.count(key) > 0;
}

void expect_same_shape(const json::value& ours, const json::value& theirs,
                       const std::string& path) {
  if (theirs.is_object()) {
    ASSERT_TRUE(ours.is_object()) << path;
    std::set<std::string> our_keys, their_keys;
    for (const auto& kv : ours.get_object()) our_keys.insert(std::string(kv.key()));
    for (const auto& kv : theirs.get_object()) their_keys.insert(std::string(kv.key()));
    EXPECT_EQ(our_keys, their_keys) << path;
    for (const auto& kv : theirs.get_object()) {
      if (skip_value(kv.key()) || !ours.get_object().contains(kv.key())) continue;
      expect_same_shape(ours.get_object().at(kv.key()), kv.value(),
                        path + "." + std::string(kv.key()));
    }
  } else if (theirs.is_array()) {
    ASSERT_TRUE(ours.is_array()) << path;
    ASSERT_EQ(ours.get_array().size(), theirs.get_array().size()) << path;
    for (size_t i = 0; i < theirs.get_array().size(); ++i) {
      expect_same_shape(ours.get_array()[i], theirs.get_array()[i],
                        path + "[" + std::to_string(i) + "]");
    }
  } else if (theirs.is_number()) {
    ASSERT_TRUE(ours.is_number()) << path;
    EXPECT_EQ(ours.to_number<double>(), theirs.to_number<double>()) << path;
  } else {
    EXPECT_EQ(ours, theirs) << path;
  }
}

Usage usage_of(const json::object& response) {
  Usage u;
  const json::value& usage = response.at("usage");
  if (usage.is_null()) return u;
  u.prompt_tokens = usage.at("input_tokens").to_number<int64_t>();
  u.cached_tokens = usage.at("input_tokens_details").at("cached_tokens").to_number<int64_t>();
  u.completion_tokens = usage.at("output_tokens").to_number<int64_t>();
  return u;
}

// Replays a recorded server stream through a writer: the recorded deltas become output
// events, the recorded terminal event picks finish() or fail().
std::vector<StreamEvent> replay(const ResponsesRequest& request,
                                const std::vector<json::object>& recorded) {
  ResponseStreamWriter writer(request, std::string(kModel), make_counter_id_generator(), 0);
  std::vector<StreamEvent> out = writer.start();
  auto add = [&](std::vector<StreamEvent> events) {
    out.insert(out.end(), events.begin(), events.end());
  };
  std::string call_name;
  bool custom = false;
  for (const json::object& e : recorded) {
    std::string_view type = e.at("type").as_string();
    if (type == "response.output_text.delta") {
      add(writer.push({Kind::kText, std::string(e.at("delta").as_string()), "", false}));
    } else if (type == "response.reasoning_text.delta") {
      add(writer.push({Kind::kReasoning, std::string(e.at("delta").as_string()), "", false}));
    } else if (type == "response.output_item.added") {
      const json::object& item = e.at("item").as_object();
      std::string_view item_type = item.at("type").as_string();
      if (item_type == "function_call" || item_type == "custom_tool_call") {
        call_name = std::string(item.at("name").as_string());
        custom = item_type == "custom_tool_call";
        add(writer.push({Kind::kCallStart, "", call_name, custom}));
      }
    } else if (type == "response.function_call_arguments.delta" ||
               type == "response.custom_tool_call_input.delta") {
      add(writer.push({Kind::kCallDelta, std::string(e.at("delta").as_string()), call_name,
                       custom}));
    } else if (type == "response.function_call_arguments.done") {
      add(writer.push({Kind::kCallDone, std::string(e.at("arguments").as_string()), call_name,
                       custom}));
    } else if (type == "response.custom_tool_call_input.done") {
      add(writer.push({Kind::kCallDone, std::string(e.at("input").as_string()), call_name,
                       custom}));
    } else if (type == "response.completed") {
      add(writer.finish("stop", usage_of(e.at("response").as_object())));
    } else if (type == "response.incomplete") {
      add(writer.finish("length", usage_of(e.at("response").as_object())));
    }
  }
  return out;
}

std::vector<json::object> parse_events(const std::vector<StreamEvent>& events) {
  std::vector<json::object> out;
  for (const StreamEvent& e : events) {
    json::value v = json::parse(e.json);
    EXPECT_EQ(v.at("type").as_string(), e.type);
    out.push_back(v.as_object());
  }
  return out;
}

void expect_same_stream(const ResponsesRequest& request, const std::vector<json::object>& theirs,
                        const std::string& name) {
  std::vector<json::object> ours = parse_events(replay(request, theirs));
  ASSERT_EQ(ours.size(), theirs.size()) << name;
  for (size_t i = 0; i < theirs.size(); ++i) {
    EXPECT_EQ(ours[i].at("type"), theirs[i].at("type")) << name << " event " << i;
    expect_same_shape(ours[i], theirs[i], name + " event " + std::to_string(i));
  }
}

const json::object& http_exchange(const std::vector<test::Fixture>& all, std::string_view path) {
  for (const test::Fixture& f : all) {
    if (f.path == path) return f.json.as_object();
  }
  ADD_FAILURE() << "missing fixture " << path;
  std::abort();
}

ResponsesRequest request_of(const json::value& body) {
  Result<ResponsesRequest> r = parse_responses_request(json::serialize(body));
  EXPECT_TRUE(r.ok()) << r.error().message;
  return r.ok() ? std::move(r).value() : ResponsesRequest{};
}

std::vector<json::object> sse_events(const json::object& exchange) {
  std::vector<json::object> out;
  for (const json::value& e : exchange.at("response").at("sse_events").as_array()) {
    out.push_back(e.as_object());
  }
  return out;
}

class ResponsesStreamTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { fixtures_ = new std::vector<test::Fixture>(test::load_fixtures()); }
  static void TearDownTestSuite() { delete fixtures_; }
  static std::vector<test::Fixture>* fixtures_;
};
std::vector<test::Fixture>* ResponsesStreamTest::fixtures_ = nullptr;

// Every complete recorded HTTP stream (the reduced and failing variants are checked apart).
TEST_F(ResponsesStreamTest, HttpStreamsMatchRecordings) {
  int checked = 0;
  for (const test::Fixture& f : *fixtures_) {
    if (f.path.find("_v1_responses") == std::string::npos ||
        f.path.find("-http-POST-") == std::string::npos ||
        f.path.find("item-done") != std::string::npos ||
        f.path.find("-reasoning/") != std::string::npos ||
        f.path.find("-fail-") != std::string::npos) {
      continue;
    }
    const json::object& exchange = f.json.as_object();
    if (!exchange.at("response").as_object().contains("sse_events")) continue;
    expect_same_stream(request_of(exchange.at("request").at("body")), sse_events(exchange),
                       f.path);
    ++checked;
  }
  EXPECT_GE(checked, 15);
}

// wafer's reasoning items carry the raw reasoning text, never a summary: the recorded stream
// minus its summary events.
TEST_F(ResponsesStreamTest, ReasoningMatchesRecordingWithoutSummary) {
  const json::object& exchange =
      http_exchange(*fixtures_, "codex-http-reasoning/001-http-POST-_v1_responses.json");
  std::vector<json::object> theirs;
  for (json::object& e : sse_events(exchange)) {
    if (e.at("type").as_string().starts_with("response.reasoning_summary")) continue;
    e["sequence_number"] = theirs.size();  // renumbered without the summary events
    theirs.push_back(e);
  }
  std::vector<json::object> ours =
      parse_events(replay(request_of(exchange.at("request").at("body")), theirs));
  ASSERT_EQ(ours.size(), theirs.size());
  for (size_t i = 0; i < ours.size(); ++i) {
    EXPECT_EQ(ours[i].at("type"), theirs[i].at("type")) << i;
    if (ours[i].at("type").as_string() == "response.reasoning_text.done") {
      expect_same_shape(ours[i], theirs[i], "reasoning_text.done");
    }
  }
  const json::object& item = ours[5].at("item").as_object();
  EXPECT_EQ(item.at("type").as_string(), "reasoning");
  EXPECT_EQ(item.at("content").at(0).at("text").as_string(), "raw chain of thought text");
}

TEST_F(ResponsesStreamTest, NonStreamingBodyMatchesRecording) {
  const json::object& exchange =
      http_exchange(*fixtures_, "sdk-openai-node/004-http-POST-_v1_responses.json");
  const json::value& theirs = exchange.at("response").at("body");
  ResponseStreamWriter writer(request_of(exchange.at("request").at("body")), std::string(kModel),
                              make_counter_id_generator(), 0);
  writer.start();
  writer.push({Kind::kText, "done.", "", false});
  writer.finish("stop", usage_of(theirs.as_object()));
  expect_same_shape(writer.response_object(), theirs, "body");
}

// Every response on the recorded WebSocket connections: warm-ups, text, calls, custom calls.
TEST_F(ResponsesStreamTest, WebSocketResponsesMatchRecordings) {
  int checked = 0;
  for (const test::Fixture& f : *fixtures_) {
    if (f.path.find("-ws-v1_responses") == std::string::npos) continue;
    const json::array& messages = f.json.at("messages").as_array();
    ResponsesRequest request;
    std::vector<json::object> events;
    for (const json::value& m : messages) {
      const json::object& data = m.at("data").as_object();
      if (m.at("dir").as_string() == "client->server") {
        Result<WsClientMessage> parsed = parse_ws_client_message(json::serialize(data));
        ASSERT_TRUE(parsed.ok()) << f.path << ": " << parsed.error().message;
        request = parsed->create;
        events.clear();
        continue;
      }
      std::string_view type = data.at("type").as_string();
      if (type == "error" || type.starts_with("response.steer")) continue;
      events.push_back(data);
      if (type == "response.completed") {
        // Recordings without stream_id lanes only: the SDK lane runs are checked below.
        if (!request.stream_id.empty()) {
          std::vector<json::object> ours = parse_events(replay(request, events));
          ASSERT_EQ(ours.size(), events.size());
          for (const json::object& e : ours) EXPECT_EQ(e.at("stream_id"), data.at("stream_id"));
        } else {
          expect_same_stream(request, events, f.path);
        }
        ++checked;
        events.clear();
      }
    }
  }
  EXPECT_GE(checked, 10);
}

TEST_F(ResponsesStreamTest, IncompleteAndFailed) {
  const json::object& exchange =
      http_exchange(*fixtures_, "codex-http-fail-incomplete/001-http-POST-_v1_responses.json");
  ResponsesRequest request = request_of(exchange.at("request").at("body"));
  ResponseStreamWriter writer(request, std::string(kModel), make_counter_id_generator(), 0);
  writer.start();
  writer.push({Kind::kText, "partial answer", "", false});
  std::vector<json::object> tail = parse_events(writer.finish("length", Usage{10, 0, 5}));
  ASSERT_EQ(tail.size(), 4u);
  // The recording skips the content events; the item and terminal event must agree with it.
  std::vector<json::object> theirs = sse_events(exchange);
  expect_same_shape(tail[2].at("item"), theirs[3].at("item"), "incomplete item");
  EXPECT_EQ(tail[3].at("type").as_string(), "response.incomplete");
  EXPECT_EQ(tail[3].at("response").at("incomplete_details"),
            theirs[4].at("response").at("incomplete_details"));
  EXPECT_EQ(tail[3].at("response").at("status").as_string(), "incomplete");

  const json::object& failed =
      http_exchange(*fixtures_, "codex-http-fail-failed/001-http-POST-_v1_responses.json");
  std::vector<json::object> theirs_failed = sse_events(failed);
  ResponseStreamWriter fw(request_of(failed.at("request").at("body")), std::string(kModel),
                          make_counter_id_generator(), 0);
  std::vector<json::object> ours = parse_events(fw.start());
  ApiError error{500, "server_error", "server_error", "", "boom"};
  for (json::object& e : parse_events(fw.fail(error))) ours.push_back(e);
  ASSERT_EQ(ours.size(), theirs_failed.size());
  for (size_t i = 0; i < ours.size(); ++i) {
    EXPECT_EQ(ours[i].at("type"), theirs_failed[i].at("type"));
  }
  const json::object& err = ours.back().at("response").at("error").as_object();
  EXPECT_EQ(err.at("code").as_string(), "server_error");
  EXPECT_EQ(err.at("message").as_string(), "boom");
  std::set<std::string> keys, their_keys;
  for (const auto& kv : err) keys.insert(std::string(kv.key()));
  for (const auto& kv : theirs_failed.back().at("response").at("error").as_object()) {
    their_keys.insert(std::string(kv.key()));
  }
  EXPECT_EQ(keys, their_keys);
}

TEST(ResponsesStreamWriterTest, SequenceNumbersAndItemOrder) {
  Result<ResponsesRequest> r = parse_responses_request(R"({"stream":true,"tools":[
      {"type":"namespace","name":"multi_agent_v1","tools":[{"type":"function","name":"spawn_agent"}]},
      {"type":"custom","name":"apply_patch"}]})");
  ASSERT_TRUE(r.ok());
  ResponseStreamWriter writer(*r, "m", make_counter_id_generator(), 7);
  std::vector<StreamEvent> all = writer.start();
  auto add = [&](const OutputEvent& e) {
    auto events = writer.push(e);
    all.insert(all.end(), events.begin(), events.end());
  };
  add({Kind::kReasoning, "\nthink\n", "", false});
  add({Kind::kText, "\n\n", "", false});        // whitespace alone makes no item
  add({Kind::kText, "Hello ", "", false});
  add({Kind::kText, " \n", "", false});          // trailing spaces held back...
  add({Kind::kCallStart, "", "multi_agent_v1.spawn_agent", false});  // ...and dropped
  add({Kind::kCallDone, "{}", "multi_agent_v1.spawn_agent", false});
  add({Kind::kText, "\n", "", false});
  add({Kind::kCallStart, "", "apply_patch", true});
  add({Kind::kCallDelta, "*** Begin", "apply_patch", true});
  add({Kind::kCallDone, "*** Begin", "apply_patch", true});
  add({Kind::kText, "Bye", "", false});
  auto tail = writer.finish("stop", Usage{100, 40, 9});
  all.insert(all.end(), tail.begin(), tail.end());

  std::vector<json::object> events = parse_events(all);
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].at("sequence_number").as_int64(), static_cast<int64_t>(i));
  }
  ASSERT_EQ(writer.output().size(), 5u);
  EXPECT_EQ(writer.output()[0].kind, ResponseItem::Kind::kReasoning);
  EXPECT_EQ(writer.output()[0].text, "think");
  EXPECT_EQ(writer.output()[1].text, "Hello");
  EXPECT_EQ(writer.output()[2].name, "spawn_agent");
  EXPECT_EQ(writer.output()[2].namespace_name, "multi_agent_v1");
  EXPECT_EQ(writer.output()[3].kind, ResponseItem::Kind::kCustomToolCall);
  EXPECT_EQ(writer.output()[3].text, "*** Begin");
  EXPECT_EQ(writer.output()[4].text, "Bye");
  std::vector<std::string> done_types;
  for (const json::object& e : events) {
    if (e.at("type").as_string() == "response.output_item.done") {
      done_types.emplace_back(e.at("item").at("type").as_string());
      EXPECT_EQ(e.at("output_index").as_int64() + 1, static_cast<int64_t>(done_types.size()));
    }
  }
  EXPECT_EQ(done_types, (std::vector<std::string>{"reasoning", "message", "function_call",
                                                  "custom_tool_call", "message"}));
  json::object response = writer.response_object();
  EXPECT_EQ(response.at("status").as_string(), "completed");
  EXPECT_EQ(response.at("output").as_array().size(), 5u);
  EXPECT_EQ(response.at("usage").at("input_tokens_details").at("cached_tokens").as_int64(), 40);
  EXPECT_EQ(response.at("usage").at("total_tokens").as_int64(), 109);
  EXPECT_EQ(response.at("output").at(2).at("namespace").as_string(), "multi_agent_v1");
  // The stored output replays as input items.
  for (const ResponseItem& item : writer.output()) {
    EXPECT_TRUE(parse_input_item(item_to_json(item), "output").ok());
  }
}

TEST(ResponsesStreamWriterTest, WarmUpHasNoOutput) {
  Result<ResponsesRequest> r = parse_responses_request(R"({"input":"x"})");
  ASSERT_TRUE(r.ok());
  ResponseStreamWriter writer(*r, "m", make_counter_id_generator(), 0);
  EXPECT_EQ(writer.id(), "resp_1");
  std::vector<StreamEvent> events = writer.start();
  std::vector<StreamEvent> tail = writer.finish("stop", Usage{5, 0, 0});
  ASSERT_EQ(events.size() + tail.size(), 3u);
  EXPECT_EQ(tail[0].type, "response.completed");
  EXPECT_TRUE(writer.output().empty());
  EXPECT_EQ(json::parse(writer.response_json()).at("output").as_array().size(), 0u);
}

}  // namespace
}  // namespace wafer::api
