// ToolCallParser: the same events whatever the chunking; malformed calls come out as text.
#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "api/tool_call_parser.h"

namespace wafer::api {
namespace {

using Kind = OutputEvent::Kind;

std::vector<Tool> tools() {
  Tool f;
  f.name = "exec_command";
  Tool ns;
  ns.name = "spawn_agent";
  ns.namespace_name = "multi_agent_v1";
  Tool patch;
  patch.kind = Tool::Kind::kCustom;
  patch.name = "apply_patch";
  return {f, ns, patch};
}

// Adjacent events of the same text kind merged, so results compare across chunkings.
std::vector<OutputEvent> normalise(const std::vector<OutputEvent>& events) {
  std::vector<OutputEvent> out;
  for (const OutputEvent& e : events) {
    bool mergeable = e.kind == Kind::kText || e.kind == Kind::kReasoning;
    if (mergeable && !out.empty() && out.back().kind == e.kind) {
      out.back().text += e.text;
    } else if (!(mergeable && e.text.empty())) {
      out.push_back(e);
    }
  }
  return out;
}

std::vector<OutputEvent> run(ChatFormat format, std::string_view text,
                             const std::vector<size_t>& cuts, bool reasoning = false) {
  ToolCallParser parser(format, tools(), reasoning);
  std::vector<OutputEvent> all;
  size_t at = 0;
  for (size_t cut : cuts) {
    auto events = parser.push(text.substr(at, cut - at));
    all.insert(all.end(), events.begin(), events.end());
    at = cut;
  }
  auto events = parser.push(text.substr(at));
  all.insert(all.end(), events.begin(), events.end());
  events = parser.finish();
  all.insert(all.end(), events.begin(), events.end());
  return normalise(all);
}

// Every single split position and every pair of split positions give `expected`.
void expect_all_splits(ChatFormat format, std::string_view text,
                       const std::vector<OutputEvent>& expected, bool reasoning = false) {
  EXPECT_EQ(run(format, text, {}, reasoning), expected) << "whole: " << text;
  for (size_t i = 0; i <= text.size(); ++i) {
    ASSERT_EQ(run(format, text, {i}, reasoning), expected) << "split at " << i << ": " << text;
  }
  if (text.size() <= 160) {
    for (size_t i = 0; i <= text.size(); ++i) {
      for (size_t j = i; j <= text.size(); ++j) {
        ASSERT_EQ(run(format, text, {i, j}, reasoning), expected)
            << "split at " << i << "," << j << ": " << text;
      }
    }
  }
  // One byte at a time.
  std::vector<size_t> bytes;
  for (size_t i = 1; i < text.size(); ++i) bytes.push_back(i);
  EXPECT_EQ(run(format, text, bytes, reasoning), expected) << "bytewise: " << text;
}

OutputEvent text(std::string t) { return {Kind::kText, std::move(t), "", false}; }
OutputEvent reasoning(std::string t) { return {Kind::kReasoning, std::move(t), "", false}; }
std::vector<OutputEvent> call(std::string name, std::string args, bool custom = false) {
  std::vector<OutputEvent> out{{Kind::kCallStart, "", name, custom}};
  if (!args.empty()) out.push_back({Kind::kCallDelta, args, name, custom});
  out.push_back({Kind::kCallDone, args, name, custom});
  return out;
}
std::vector<OutputEvent> concat(std::initializer_list<std::vector<OutputEvent>> parts) {
  std::vector<OutputEvent> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

TEST(ToolCallParserTest, PlainText) {
  expect_all_splits(ChatFormat::kChatMl, "Hello <b>world</b> < tool_call >",
                    {text("Hello <b>world</b> < tool_call >")});
}

TEST(ToolCallParserTest, NoToolsMeansNoParsing) {
  ToolCallParser parser(ChatFormat::kChatMl, {});
  auto events = parser.push("<tool_call>\n{\"name\": \"x\", \"arguments\": {}}\n</tool_call>");
  auto rest = parser.finish();
  events.insert(events.end(), rest.begin(), rest.end());
  EXPECT_EQ(normalise(events),
            std::vector<OutputEvent>{text("<tool_call>\n{\"name\": \"x\", \"arguments\": {}}\n</tool_call>")});
}

TEST(ToolCallParserTest, OneCallWithTextAround) {
  std::string s =
      "Let me look.\n<tool_call>\n{\"name\": \"exec_command\", \"arguments\": {\"cmd\": \"ls "
      "-la\"}}\n</tool_call>\nDone";
  expect_all_splits(ChatFormat::kChatMl, s,
                    concat({{text("Let me look.\n")}, call("exec_command", R"({"cmd":"ls -la"})"),
                            {text("\nDone")}}));
}

TEST(ToolCallParserTest, SeveralCallsUnicodeAndEscapes) {
  std::string s =
      "<tool_call>\n{\"name\": \"exec_command\", \"arguments\": {\"cmd\": \"echo \\\"}</tool_call>"
      "\\\" é😀 \\u00e9\\n\"}}\n</tool_call>\n<tool_call>{\"arguments\":{\"message\":\"hi\"},"
      "\"name\":\"multi_agent_v1.spawn_agent\"}</tool_call>";
  expect_all_splits(
      ChatFormat::kChatMl, s,
      concat({call("exec_command", "{\"cmd\":\"echo \\\"}</tool_call>\\\" é😀 é\\n\"}"),
              {text("\n")}, call("multi_agent_v1.spawn_agent", R"({"message":"hi"})")}));
}

TEST(ToolCallParserTest, CustomToolInput) {
  std::string s =
      "<tool_call>\n{\"name\": \"apply_patch\", \"arguments\": {\"input\": \"*** Begin Patch\\n"
      "*** End Patch\"}}\n</tool_call>";
  expect_all_splits(ChatFormat::kChatMl, s,
                    call("apply_patch", "*** Begin Patch\n*** End Patch", true));
}

TEST(ToolCallParserTest, ArgumentsAsStringAndMissing) {
  expect_all_splits(
      ChatFormat::kChatMl,
      "<tool_call>{\"name\": \"exec_command\", \"arguments\": \"{\\\"cmd\\\":\\\"ls\\\"}\"}"
      "</tool_call><tool_call>{\"name\": \"exec_command\"}</tool_call>",
      concat({call("exec_command", R"({"cmd":"ls"})"), call("exec_command", "{}")}));
}

TEST(ToolCallParserTest, MalformedCallsAreText) {
  const char* cases[] = {
      "<tool_call>not json</tool_call> after",
      "<tool_call>\n{\"name\": 5, \"arguments\": {}}\n</tool_call>",
      "<tool_call>\n{\"arguments\": {}}\n</tool_call>",
      "<tool_call>{\"name\": \"x\", \"arguments\": {}} trailing</tool_call>",
      "<tool_call>{\"name\": \"x\", \"arguments\": {]}</tool_call>",
      "<tool_call>[1,2]</tool_call>",
      "<tool_call>{\"name\": \"x\"",
      "<tool_call>",
      "<tool_call>   ",
      "text <tool_",
      "<tool_call>{\"name\": \"x\"}</tool_cal",
  };
  for (const char* c : cases) expect_all_splits(ChatFormat::kChatMl, c, {text(c)});
}

TEST(ToolCallParserTest, MalformedThenValid) {
  std::string bad = "<tool_call>{oops}</tool_call>";
  std::string good = "<tool_call>{\"name\": \"exec_command\", \"arguments\": {}}</tool_call>";
  expect_all_splits(ChatFormat::kChatMl, bad + "x" + good,
                    concat({{text(bad + "x")}, call("exec_command", "{}")}));
  // A close tag missing before the next open: the first block is text, the second a call.
  std::string unclosed = "<tool_call>{\"name\": \"exec_command\", \"arguments\": {}}";
  expect_all_splits(ChatFormat::kChatMl, unclosed + "\n" + good,
                    concat({{text(unclosed + "\n")}, call("exec_command", "{}")}));
}

TEST(ToolCallParserTest, UnclosedValidCallAtEndIsACall) {
  expect_all_splits(ChatFormat::kChatMl,
                    "<tool_call>\n{\"name\": \"exec_command\", \"arguments\": {\"cmd\": \"ls\"}}\n",
                    call("exec_command", R"({"cmd":"ls"})"));
}

TEST(ToolCallParserTest, UnknownToolIsStillACall) {
  expect_all_splits(ChatFormat::kChatMl,
                    "<tool_call>{\"name\": \"nope\", \"arguments\": {\"a\": 1}}</tool_call>",
                    call("nope", R"({"a":1})"));
}

TEST(ToolCallParserTest, Reasoning) {
  expect_all_splits(ChatFormat::kChatMl,
                    "<think>\nplan <tool_call> here\n</think>\n\nAnswer<tool_call>{\"name\": "
                    "\"exec_command\", \"arguments\": {}}</tool_call>",
                    concat({{reasoning("\nplan <tool_call> here\n"), text("\n\nAnswer")},
                            call("exec_command", "{}")}),
                    true);
  // Without a leading <think>, it is all text.
  expect_all_splits(ChatFormat::kChatMl, "a<think>b</think>", {text("a<think>b</think>")}, true);
  // Unclosed reasoning stays reasoning.
  expect_all_splits(ChatFormat::kChatMl, "<think>abc</thi", {reasoning("abc</thi")}, true);
}

TEST(ToolCallParserTest, Llama3BareJson) {
  expect_all_splits(ChatFormat::kLlama3,
                    "{\"name\": \"exec_command\", \"parameters\": {\"cmd\": \"ls\"}}",
                    call("exec_command", R"({"cmd":"ls"})"));
  expect_all_splits(ChatFormat::kLlama3,
                    "<|python_tag|>{\"name\": \"exec_command\", \"parameters\": {}}",
                    call("exec_command", "{}"));
  expect_all_splits(ChatFormat::kLlama3, "{\"a\": 1} is JSON", {text("{\"a\": 1} is JSON")});
  expect_all_splits(ChatFormat::kLlama3, "Hello {\"name\": \"x\"}",
                    {text("Hello {\"name\": \"x\"}")});
  // Qwen-style tags mean nothing to the Llama format.
  expect_all_splits(ChatFormat::kLlama3, "<tool_call>{}</tool_call>",
                    {text("<tool_call>{}</tool_call>")});
}

// Qwen3-Coder's XML calls. Values are typed by the tool's schema: strings stay text
// (newlines and markup inside included), other types are read as JSON.
std::vector<Tool> xml_tools() {
  std::vector<Tool> out = tools();
  Tool typed;
  typed.name = "write_file";
  boost::system::error_code ec;
  typed.parameters = boost::json::parse(
      R"({"type":"object","properties":{"path":{"type":"string"},"content":{"type":"string"},)"
      R"("line":{"type":"integer"},"force":{"type":"boolean"},"tags":{"type":"array"}}})", ec);
  out.push_back(typed);
  return out;
}

std::vector<OutputEvent> run_xml(std::string_view text, size_t cut) {
  ToolCallParser parser(ChatFormat::kQwen3Coder, xml_tools());
  std::vector<OutputEvent> all = parser.push(text.substr(0, cut));
  auto more = parser.push(text.substr(cut));
  all.insert(all.end(), more.begin(), more.end());
  more = parser.finish();
  all.insert(all.end(), more.begin(), more.end());
  return normalise(all);
}

void expect_xml_splits(std::string_view text, const std::vector<OutputEvent>& expected) {
  for (size_t i = 0; i <= text.size(); ++i) ASSERT_EQ(run_xml(text, i), expected) << "split at " << i << ": " << text;
}

TEST(ToolCallParserTest, Qwen3CoderXmlCall) {
  std::string s =
      "I'll write it.\n<tool_call>\n<function=write_file>\n<parameter=path>\nsrc/a b.py\n</parameter>\n"
      "<parameter=content>\ndef f():\n    return \"<b>é😀</b>\"\n\n</parameter>\n<parameter=line>\n42\n"
      "</parameter>\n<parameter=force>\ntrue\n</parameter>\n<parameter=tags>\n[\"x\", 1]\n</parameter>\n"
      "</function>\n</tool_call>\nafter";
  expect_xml_splits(s, concat({{text("I'll write it.\n")},
                               call("write_file",
                                    R"({"path":"src/a b.py","content":"def f():\n    return \"<b>é😀</b>\"\n",)"
                                    R"("line":42,"force":true,"tags":["x",1]})"),
                               {text("\nafter")}}));
}

TEST(ToolCallParserTest, Qwen3CoderXmlSeveralCallsAndCustomTool) {
  std::string s =
      "<tool_call>\n<function=exec_command>\n<parameter=cmd>\nls -la\n</parameter>\n</function>\n"
      "</tool_call>\n<tool_call>\n<function=apply_patch>\n<parameter=input>\n*** Begin Patch\n"
      "*** End Patch\n</parameter>\n</function>\n</tool_call>";
  expect_xml_splits(s, concat({call("exec_command", R"({"cmd":"ls -la"})"), {text("\n")},
                               call("apply_patch", "*** Begin Patch\n*** End Patch", true)}));
  // A typed value that is not valid JSON stays text; an untyped tool keeps text.
  expect_xml_splits("<tool_call><function=write_file><parameter=line>forty</parameter></function></tool_call>",
                    call("write_file", R"({"line":"forty"})"));
  // No parameters; and a call cut off by the end of generation after </function>.
  expect_xml_splits("<tool_call>\n<function=exec_command>\n</function>\n", call("exec_command", "{}"));
}

TEST(ToolCallParserTest, Qwen3CoderMalformedXmlIsText) {
  const char* cases[] = {
      "<tool_call>\n{\"name\": \"exec_command\", \"arguments\": {}}\n</tool_call>",
      "<tool_call>\n<function=exec_command>\n<parameter=cmd>\nls\n</function>\n</tool_call>",
      "<tool_call>\n<function=>\n</function>\n</tool_call>",
      "<tool_call>\n<function=exec_command>\n<parameter=cmd>\nls\n</parameter>\n",
      "<tool_call>\n<function=exec_command>\n</function> junk\n</tool_call>",
      "<tool_call><function",
      "<tool_call>\n<func",
  };
  for (const char* c : cases) expect_xml_splits(c, {text(c)});
}

}  // namespace
}  // namespace wafer::api

namespace wafer::api {
namespace {

// A whole source file as one argument (quotes, backslashes, tabs, unicode, "</tool_call>"
// and "</parameter>" inside the text), in both call syntaxes, split at every position.
TEST(ToolCallParserTest, LongFileContentsAsArguments) {
  std::string file;
  for (int i = 0; i < 60; ++i) {
    file += fmt::format("\tif (s[{}] == '\\\\' && t != \"</tool_call>\") {{ puts(\"é😀 line {}\"); }} // </param\n", i, i);
  }
  ASSERT_GT(file.size(), 4000u);
  const std::string args = boost::json::serialize(boost::json::object{{"cmd", file}});
  const std::string hermes = "Writing it.\n<tool_call>\n{\"name\": \"exec_command\", \"arguments\": " + args +
                             "}\n</tool_call>";
  const auto expected = concat({{text("Writing it.\n")}, call("exec_command", args)});
  EXPECT_EQ(run(ChatFormat::kChatMl, hermes, {}), expected);
  for (size_t i = 0; i <= hermes.size(); i += 7) {
    ASSERT_EQ(run(ChatFormat::kChatMl, hermes, {i}), expected) << "split at " << i;
  }
  const std::string xml = "<tool_call>\n<function=apply_patch>\n<parameter=input>\n" + file +
                          "\n</parameter>\n</function>\n</tool_call>";
  const auto expected_xml = call("apply_patch", file, true);
  for (size_t i = 0; i <= xml.size(); i += 7) {
    ASSERT_EQ(run(ChatFormat::kQwen3Coder, xml, {i}), expected_xml) << "split at " << i;
  }
}

}  // namespace
}  // namespace wafer::api
