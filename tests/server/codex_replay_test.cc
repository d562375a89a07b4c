// Replays the captured Codex CLI 0.169 and openai SDK 7.57 traffic (shared/fixtures/
// codex-0.169) against the server: every request body and WebSocket message as the clients
// sent them, with long texts shortened so the prompts fit the tiny test model, and the
// captured response ids mapped to the ids this server hands out.
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <gtest/gtest.h>

#include "server_fixture.h"

namespace wafer::server::testing {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

constexpr size_t kMaxChars = 48;

fs::path fixtures() { return fs::path(WAFER_SHARED_DIR) / "fixtures" / "codex-0.169"; }

json::value load(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str());
}

// Cuts every string to kMaxChars (at a UTF-8 character boundary), recursively.
void shrink(json::value& v) {
  if (v.is_string()) {
    std::string s(v.as_string());
    if (s.size() <= kMaxChars) return;
    size_t cut = kMaxChars;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
    v = s.substr(0, cut);
  } else if (v.is_array()) {
    for (json::value& e : v.as_array()) shrink(e);
  } else if (v.is_object()) {
    for (auto& [key, e] : v.as_object())
      if (key != "type" && key != "role" && key != "call_id" && key != "previous_response_id") shrink(e);
  }
}

bool is_terminal(const std::string& type) {
  return type == "response.completed" || type == "response.incomplete" || type == "response.failed" ||
         type == "error" || type == "response.steer.failed";
}

std::vector<fs::path> exchanges(const std::string& run) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(fixtures() / run))
    if (entry.path().filename().string()[0] != 's' && entry.path().extension() == ".json")
      files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

class CodexReplay : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!fs::exists(fixtures())) GTEST_SKIP() << "no fixtures at " << fixtures();
    ServerConfig config = test_config(test_dir());
    config.max_output_tokens = 3;
    server_ = start_server(shared_engine(), config);
    ASSERT_NE(server_, nullptr);
  }

  // One captured WebSocket connection, message by message, in order.
  void replay_ws(const json::object& capture) {
    std::vector<std::string> captured_terminals;  // type:id of each captured terminal frame
    for (const json::value& m : capture.at("messages").as_array()) {
      if (json_string(m, "dir") != "server->client") continue;
      const json::value& data = m.at("data");
      const std::string type = json_string(data, "type");
      if (!is_terminal(type)) continue;
      const json::value* response = data.as_object().if_contains("response");
      captured_terminals.push_back(type + ":" + (response ? json_string(*response, "id") : ""));
    }
    Headers headers;
    for (const auto& [name, value] : capture.at("handshake").at("headers").as_object())
      if (name == "openai-beta" || name == "originator") headers.emplace_back(name, std::string(value.as_string()));
    WsClient ws(server_->port(), headers, /*deflate=*/true);
    size_t turn = 0;
    for (const json::value& m : capture.at("messages").as_array()) {
      if (json_string(m, "dir") != "client->server") continue;
      json::value data = m.at("data");
      shrink(data);
      json::object& message = data.as_object();
      if (auto* previous = message.if_contains("previous_response_id"); previous && previous->is_string()) {
        auto it = ids_.find(std::string(previous->as_string()));
        if (it != ids_.end()) *previous = it->second;
      }
      ws.send(data);
      const std::vector<json::object> frames = ws.read_until_terminal_or_steer();
      ASSERT_LT(turn, captured_terminals.size());
      const std::string& expected = captured_terminals[turn++];
      const std::string got = json_string(frames.back(), "type");
      const bool expected_error = expected.starts_with("error:") || expected.starts_with("response.steer.failed:");
      EXPECT_EQ(expected_error, got == "error" || got == "response.steer.failed")
          << "captured " << expected << ", got " << json::serialize(frames.back());
      if (frames.back().contains("response"))
        ids_[expected.substr(expected.find(':') + 1)] = json_string(frames.back().at("response"), "id");
      check_events(frames);
    }
  }

  void replay_http(const json::object& exchange) {
    const json::value& request = exchange.at("request");
    std::string url = json_string(request, "url");
    url = url.substr(0, url.find('?'));
    // The recording server served its model catalog at a path of its own; wafer's is fixed.
    if (url.ends_with("/models") && url != "/v1/models") url = "/v1/codex/models";
    json::value body = request.at("body");
    const int captured_status = static_cast<int>(exchange.at("response").at("status").as_int64());
    shrink(body);
    HttpClient client(server_->port());
    HttpReply reply = json_string(request, "method") == "GET" ? client.get(url) : client.post(url, json::serialize(body));
    if (captured_status != 200) return;  // the capture server refused on purpose
    ASSERT_EQ(reply.status, 200) << url << ": " << reply.body.substr(0, 400);
    if (url != "/v1/responses" || !body.as_object().contains("stream") || !body.at("stream").as_bool()) return;
    std::vector<json::object> frames;
    for (const SseEvent& e : parse_sse(reply.body)) frames.push_back(e.json().as_object());
    ASSERT_FALSE(frames.empty());
    EXPECT_TRUE(is_terminal(json_string(frames.back(), "type")));
    check_events(frames);
  }

  // What Codex relies on: one output_item.done per output item, a terminal event with the
  // response id and usage, sequence numbers 0, 1, ...
  static void check_events(const std::vector<json::object>& frames) {
    if (json_string(frames.back(), "type") == "error" || json_string(frames.back(), "type") == "response.steer.failed") return;
    size_t items_done = 0;
    for (size_t i = 0; i < frames.size(); ++i) {
      EXPECT_EQ(frames[i].at("sequence_number").as_int64(), static_cast<int64_t>(i));
      items_done += json_string(frames[i], "type") == "response.output_item.done";
    }
    const json::value& response = frames.back().at("response");
    EXPECT_TRUE(json_string(response, "id").starts_with("resp_"));
    EXPECT_EQ(items_done, response.at("output").as_array().size());
    EXPECT_GT(response.at("usage").at("input_tokens").as_int64(), 0);
  }

  std::unique_ptr<Server> server_;
  std::map<std::string, std::string> ids_;  // captured response id -> ours
};

TEST_P(CodexReplay, EveryCapturedExchangeIsServed) {
  for (const fs::path& file : exchanges(GetParam())) {
    SCOPED_TRACE(file.string());
    const json::value capture = load(file);
    const std::string kind = json_string(capture, "kind");
    if (file.filename().string().find("-ws-v1_responses") != std::string::npos) replay_ws(capture.as_object());
    else if (file.filename().string().find("-http-") != std::string::npos) replay_http(capture.as_object());
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, CodexReplay,
                         ::testing::Values("codex-http-text", "codex-http-tool", "codex-http-reasoning",
                                           "codex-http-provider-extras", "codex-minimal-provider",
                                           "codex-ws-text", "codex-ws-tool", "codex-ws-no-deflate",
                                           "codex-ws-catalog-apply-patch", "codex-ws-resume",
                                           "codex-ws-provider-extras", "sdk-openai-node"),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name)
                             if (c == '-') c = '_';
                           return name;
                         });

}  // namespace
}  // namespace wafer::server::testing
