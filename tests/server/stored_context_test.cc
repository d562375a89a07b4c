// Stored context round trip: what a response stores reads back as the same history items.
#include <gtest/gtest.h>

#include "server/stored_context.h"

namespace wafer::server {
namespace {

TEST(StoredContext, HistoryIsInputThenOutput) {
  auto request = api::parse_responses_request(R"({"model":"m","instructions":"Be kind","input":[
      {"type":"message","role":"developer","content":"sys"},
      {"type":"message","role":"user","content":[{"type":"input_text","text":"run ls"}]},
      {"type":"function_call","call_id":"call_1","name":"exec_command","arguments":"{\"cmd\":\"ls\"}"},
      {"type":"function_call_output","call_id":"call_1","output":"a.txt"}],
      "tools":[{"type":"function","name":"exec_command","parameters":{"type":"object"}}]})");
  ASSERT_TRUE(request.ok()) << request.error().message;
  const std::string context = context_to_json(request->input, *request);
  const std::string response =
      R"({"id":"resp_1","output":[{"id":"msg_1","type":"message","role":"assistant","status":"completed",
          "content":[{"type":"output_text","text":"Done.","annotations":[]}]}]})";
  auto history = history_from_stored(context, response);
  ASSERT_TRUE(history.ok()) << history.error().message;
  ASSERT_EQ(history->size(), 5u);
  EXPECT_EQ((*history)[0].role, "developer");
  EXPECT_EQ((*history)[1].text, "run ls");
  EXPECT_EQ((*history)[2].kind, api::ResponseItem::Kind::kFunctionCall);
  EXPECT_EQ((*history)[2].arguments, R"({"cmd":"ls"})");
  EXPECT_EQ((*history)[3].kind, api::ResponseItem::Kind::kFunctionCallOutput);
  EXPECT_EQ((*history)[3].text, "a.txt");
  EXPECT_EQ((*history)[4].role, "assistant");
  EXPECT_EQ((*history)[4].text, "Done.");

  auto items = stored_input_items(context);
  ASSERT_TRUE(items.ok());
  EXPECT_EQ(items->size(), 4u);
}

TEST(StoredContext, CorruptTextIsAnError) {
  EXPECT_FALSE(history_from_stored("not json", "{}").ok());
  EXPECT_FALSE(history_from_stored(R"({"input":5})", "{}").ok());
  EXPECT_FALSE(history_from_stored(R"({"input":[{"type":"bogus"}]})", "{}").ok());
  EXPECT_FALSE(stored_input_items("[]").ok());
}

}  // namespace
}  // namespace wafer::server
