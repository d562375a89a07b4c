// output_grammar: forced and strict tool calls in each chat format's own syntax. A grammar
// accepts the call a model would write, and noise drawn under it always parses, through the
// real ToolCallParser, into a call whose arguments validate against the tool's schema.
#include <gtest/gtest.h>

#include "../sampling/noise_draw.h"
#include "../sampling/schema_validator.h"
#include "api/output_grammar.h"
#include "api/tool_call_parser.h"
#include "api_test_support.h"
#include "sampling/grammar_matcher.h"
#include "sampling/lark.h"
#include "sampling/token_constraint.h"

namespace wafer::api {
namespace {
namespace json = boost::json;

const json::value kParams = json::parse(R"({"type":"object","properties":{"path":{"type":"string"},
  "line":{"type":"integer"},"recursive":{"type":"boolean"}},"required":["path","line"],"additionalProperties":false})");

std::vector<Tool> tools() {
  Tool read;
  read.name = "read_file";
  read.parameters = kParams;
  read.strict = true;
  Tool other;
  other.name = "list_dir";
  other.parameters = json::parse(R"({"type":"object","properties":{"dir":{"type":"string"}},"required":["dir"]})");
  return {read, other};
}

Conversation forced(const std::string& name) {
  Conversation c;
  c.messages.push_back({ConvMessage::Role::kUser, "read it", {}, ""});
  ToolChoice choice;
  choice.mode = ToolChoice::Mode::kRequired;
  if (!name.empty()) choice.allowed = {name};
  set_tools(tools(), choice, &c);
  return c;
}

std::shared_ptr<const Grammar> grammar_for(ChatFormat format, const Conversation& c, std::string* trigger = nullptr) {
  Result<OutputGrammar> g = output_grammar(format, c, OutputFormat{});
  EXPECT_TRUE(g.ok()) << (g.ok() ? "" : g.error().message);
  if (!g.ok()) return nullptr;
  if (trigger != nullptr) *trigger = g->trigger;
  return g->grammar;
}

bool matches(const std::shared_ptr<const Grammar>& g, std::string_view text) {
  GrammarMatcher m(g);
  return m.accept_bytes(text) && m.done();
}

TEST(OutputGrammar, ForcedCallsInEachFormatsSyntax) {
  struct Case {
    ChatFormat format;
    std::string forced;
    std::string good;
    std::string bad;
  };
  const std::vector<Case> cases = {
      {ChatFormat::kChatMl, "read_file", "{\"path\": \"a.txt\", \"line\": 3}}\n</tool_call>", "{\"path\": \"a.txt\"}}\n</tool_call>"},
      {ChatFormat::kChatMl, "", "{\"name\": \"list_dir\", \"arguments\": {\"dir\": \"src\"}}\n</tool_call>",
       "{\"name\": \"rm\", \"arguments\": {}}\n</tool_call>"},
      {ChatFormat::kQwen3Coder, "read_file", "<parameter=path>\na <b> </param\n</parameter>\n<parameter=line>\n7\n</parameter>\n</function>\n</tool_call>",
       "<parameter=line>\n7\n</parameter>\n</function>\n</tool_call>"},
      {ChatFormat::kQwen3Coder, "", "list_dir>\n<parameter=dir>\n.\n</parameter>\n</function>\n</tool_call>",
       "list_dir>\n<parameter=dir>\n.\n</parameter>\n</parameter>\n</function>\n</tool_call>"},
      {ChatFormat::kLlama3, "read_file", "{\"path\": \"x\", \"line\": -1, \"recursive\": true}}", "{\"path\": \"x\", \"line\": 1.5}}"},
      {ChatFormat::kLlama3, "", "list_dir\", \"parameters\": {\"dir\": \"/\"}}", "list_dir\", \"arguments\": {\"dir\": \"/\"}}"},
  };
  for (const Case& c : cases) {
    auto g = grammar_for(c.format, forced(c.forced));
    ASSERT_TRUE(g);
    EXPECT_TRUE(matches(g, c.good)) << chat_format_name(c.format) << ": " << c.good;
    EXPECT_FALSE(matches(g, c.bad)) << chat_format_name(c.format) << ": " << c.bad;
  }
}

TEST(OutputGrammar, StrictToolsUnderAutoAreConstrainedFromTheCallOpening) {
  Conversation c;
  c.messages.push_back({ConvMessage::Role::kUser, "read it", {}, ""});
  set_tools(tools(), ToolChoice{}, &c);
  std::string trigger;
  auto g = grammar_for(ChatFormat::kChatMl, c, &trigger);
  ASSERT_TRUE(g);
  EXPECT_EQ(trigger, "<tool_call>");
  EXPECT_TRUE(matches(g, "\n{\"name\": \"read_file\", \"arguments\": {\"path\": \"p\", \"line\": 1}}\n</tool_call>"));
  // A non-strict tool's schema is followed too (leniently: unsupported keywords allow anything).
  EXPECT_TRUE(matches(g, "\n{\"name\": \"list_dir\", \"arguments\": {\"dir\": \"src\"}}\n</tool_call>"));
  EXPECT_FALSE(matches(g, "\n{\"name\": \"read_file\", \"arguments\": {\"path\": 1, \"line\": 1}}\n</tool_call>"));
  // Without strict tools nothing is constrained.
  std::vector<Tool> loose = tools();
  loose[0].strict = false;
  Conversation plain;
  set_tools(loose, ToolChoice{}, &plain);
  EXPECT_EQ(grammar_for(ChatFormat::kChatMl, plain), nullptr);
}

TEST(OutputGrammar, NoiseUnderAForcedCallParsesIntoValidArguments) {
  const Tokenizer& tok = test::qwen_tokenizer();
  const auto vocab = make_vocab_index(tok);
  for (ChatFormat format : {ChatFormat::kChatMl, ChatFormat::kQwen3Coder, ChatFormat::kLlama3}) {
    for (const std::string& name : {std::string("read_file"), std::string()}) {
      const Conversation c = forced(name);
      auto g = grammar_for(format, c);
      ASSERT_TRUE(g);
      // The call's opening the prompt writes (the Qwen vocabulary has no Llama 3 markers, so
      // that one is spelled out as render_generation_prompt writes it).
      std::string opening;
      if (format == ChatFormat::kLlama3) {
        opening = name.empty() ? "{\"name\": \"" : "{\"name\": \"read_file\", \"parameters\": ";
      } else {
        Result<Prompt> prompt = build_prompt(tok, format, c);
        ASSERT_TRUE(prompt.ok());
        opening = prompt->assistant_prefix;
      }
      for (uint64_t seed : {1u, 2u}) {
        GrammarConstraint constraint(g, vocab);
        const std::optional<std::string> drawn =
            wafer::test::draw_from_noise(constraint, *vocab, wafer::test::sampling(1.0f, seed), seed * 977, 96);
        ASSERT_TRUE(drawn.has_value());
        const std::string& text = *drawn;
        ASSERT_TRUE(constraint.done()) << text;
        ToolCallParser parser(format, c.tools, false);
        std::vector<OutputEvent> events = parser.push(opening + text);
        for (OutputEvent& e : parser.finish()) events.push_back(std::move(e));
        const OutputEvent* done = nullptr;
        for (const OutputEvent& e : events) {
          if (e.kind == OutputEvent::Kind::kCallDone) done = &e;
        }
        ASSERT_NE(done, nullptr) << chat_format_name(format) << ": " << opening << text;
        const json::value& schema = done->name == "read_file" ? kParams : c.tools[1].parameters;
        boost::system::error_code ec;
        json::value args = json::parse(done->text, ec);
        ASSERT_FALSE(ec) << done->text;
        EXPECT_EQ(wafer::test::schema_violation(args, schema, schema), "") << chat_format_name(format) << ": " << text;
      }
    }
  }
}

TEST(OutputGrammar, AnUnreadableCustomGrammarLeavesTheInputFree) {
  for (const char* definition : {"start: start \"a\" | \"a\"\n", "start: %declare\n", "start: (\"a\"?)* \"b\"\n"}) {
    Tool patch;
    patch.kind = Tool::Kind::kCustom;
    patch.name = "apply_patch";
    patch.format = json::object{{"type", "grammar"}, {"syntax", "lark"}, {"definition", definition}};
    Conversation c;
    ToolChoice choice;
    choice.mode = ToolChoice::Mode::kRequired;
    set_tools({patch}, choice, &c);
    Result<OutputGrammar> g = output_grammar(ChatFormat::kChatMl, c, OutputFormat{});
    ASSERT_TRUE(g.ok()) << definition << ": " << g.error().message;
    EXPECT_TRUE(matches(g->grammar, "{\"name\": \"apply_patch\", \"arguments\": {\"input\": \"b\"}}\n</tool_call>"));
  }
}

// A custom tool whose input follows a Lark grammar, forced: the parsed custom call's input
// (unescaped from JSON for ChatML, raw for Qwen3-Coder XML) is in the grammar's language.
TEST(OutputGrammar, ForcedCustomToolFollowsItsLarkGrammar) {
  const char* lark = "start: \"BEGIN\\n\" line+ \"END\"\nline: (\"+\" | \"-\") /[^\\n\"]*/ LF\n%import common.LF\n";
  Tool patch;
  patch.kind = Tool::Kind::kCustom;
  patch.name = "apply_patch";
  patch.format = json::object{{"type", "grammar"}, {"syntax", "lark"}, {"definition", lark}};
  auto language = std::make_shared<const Grammar>(std::move(compile_lark(lark)).value());
  const auto vocab = make_vocab_index(test::qwen_tokenizer());
  for (ChatFormat format : {ChatFormat::kChatMl, ChatFormat::kQwen3Coder}) {
    Conversation c;
    c.messages.push_back({ConvMessage::Role::kUser, "patch it", {}, ""});
    ToolChoice choice;
    choice.mode = ToolChoice::Mode::kRequired;
    choice.allowed = {"apply_patch"};
    set_tools({patch}, choice, &c);
    auto g = grammar_for(format, c);
    ASSERT_TRUE(g);
    Result<Prompt> prompt = build_prompt(test::qwen_tokenizer(), format, c);
    ASSERT_TRUE(prompt.ok());
    for (uint64_t seed : {7u, 8u}) {
      GrammarConstraint constraint(g, vocab);
      const std::optional<std::string> drawn =
          wafer::test::draw_from_noise(constraint, *vocab, wafer::test::sampling(1.0f, seed), seed, 80);
      ASSERT_TRUE(drawn.has_value());
      const std::string& text = *drawn;
      ToolCallParser parser(format, c.tools, false);
      std::vector<OutputEvent> events = parser.push(prompt->assistant_prefix + text);
      for (OutputEvent& e : parser.finish()) events.push_back(std::move(e));
      const OutputEvent* done = nullptr;
      for (const OutputEvent& e : events) {
        if (e.kind == OutputEvent::Kind::kCallDone) done = &e;
      }
      ASSERT_NE(done, nullptr) << prompt->assistant_prefix << text;
      EXPECT_TRUE(done->custom);
      GrammarMatcher m(language);
      EXPECT_TRUE(m.accept_bytes(done->text) && m.can_end()) << chat_format_name(format) << ": " << done->text;
    }
  }
}

}  // namespace
}  // namespace wafer::api
