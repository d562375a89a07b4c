// Legacy completions and fill-in-the-middle.
#include <gtest/gtest.h>

#include "api/completions.h"
#include "api/sampling_fields.h"
#include "api_test_support.h"

namespace wafer::api {
namespace {

namespace json = boost::json;

TEST(CompletionsTest, FimPrompt) {
  Result<CompletionRequest> r = parse_completion_request(
      R"({"model":"m","prompt":"def add(a, b):\n    ","suffix":"\n\nprint(add(1, 2))\n",
          "max_tokens":32,"temperature":0,"stop":["\n\n"],"stream":true})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->max_tokens, 32);
  EXPECT_TRUE(r->stream);
  EXPECT_EQ(r->stop, std::vector<std::string>{"\n\n"});
  const Tokenizer& tok = test::qwen_tokenizer();
  Result<Prompt> p = build_completion_prompt(tok, *r);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->tokens.front(), *tok.fim_prefix());
  EXPECT_EQ(p->tokens.back(), *tok.fim_middle());
  EXPECT_EQ(p->text,
            "<|fim_prefix|>def add(a, b):\n    <|fim_suffix|>\n\nprint(add(1, 2))\n<|fim_middle|>");
}

TEST(CompletionsTest, PlainPromptAndDefaults) {
  Result<CompletionRequest> r = parse_completion_request(R"({"prompt":["Once upon"]})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->max_tokens, 16);
  EXPECT_FALSE(r->suffix.has_value());
  Result<Prompt> p = build_completion_prompt(test::qwen_tokenizer(), *r);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->tokens, test::qwen_tokenizer().encode("Once upon", true, true));
}

TEST(CompletionsTest, Errors) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"prompt":[1,2,3]})", "prompt: token-id prompts"},
      {R"({"prompt":5})", "prompt: expected a string"},
      {R"({"prompt":"a","echo":true})", "echo: not supported"},
      {R"({"prompt":"a","best_of":3})", "best_of: only 1"},
      {R"({"prompt":"a","logprobs":2})", "logprobs: not supported"},
      {R"({"prompt":"a","max_tokens":-1})", "max_tokens: must be at least 1"},
      {R"({"prompt":"a","suffix":3})", "suffix: expected a string"},
  };
  for (const auto& [body, prefix] : cases) {
    Result<CompletionRequest> r = parse_completion_request(body);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.error().message.substr(0, std::string_view(prefix).size()), prefix)
        << r.error().message;
  }
  Result<CompletionRequest> empty = parse_completion_request(R"({"prompt":""})");
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(build_completion_prompt(test::qwen_tokenizer(), *empty).ok());
}

TEST(CompletionsTest, Chunks) {
  CompletionWriter writer("cmpl-1", "m", 3, true);
  std::vector<std::string> lines = writer.push("/* m");
  for (auto& l : writer.push("")) lines.push_back(l);
  for (auto& l : writer.push("iddle */")) lines.push_back(l);
  for (auto& l : writer.finish("stop", Usage{7, 0, 2})) lines.push_back(l);
  ASSERT_EQ(lines.size(), 4u);
  json::value first = json::parse(lines[0]);
  EXPECT_EQ(first.at("object").as_string(), "text_completion");
  EXPECT_EQ(first.at("choices").at(0).at("text").as_string(), "/* m");
  EXPECT_TRUE(first.at("choices").at(0).at("finish_reason").is_null());
  EXPECT_EQ(json::parse(lines[2]).at("choices").at(0).at("finish_reason").as_string(), "stop");
  EXPECT_EQ(json::parse(lines[3]).at("usage").at("total_tokens").as_int64(), 9);
  json::value full = json::parse(writer.completion_json());
  EXPECT_EQ(full.at("choices").at(0).at("text").as_string(), "/* middle */");
  EXPECT_EQ(full.at("usage").at("prompt_tokens").as_int64(), 7);
}

TEST(SamplingFieldsTest, MapsAndValidates) {
  SamplingParams defaults;
  defaults.temperature = 0.7f;
  SamplingFields f;
  Result<SamplingParams> p = to_sampling_params(f, defaults, 100);
  ASSERT_TRUE(p.ok());
  EXPECT_FLOAT_EQ(p->temperature, 0.7f);
  f.temperature = 0.0;
  f.top_p = 0.9;
  f.seed = 5;
  f.presence_penalty = 1.0;
  f.logit_bias = {{3, -100.0}};
  p = to_sampling_params(f, defaults, 100);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_FLOAT_EQ(p->temperature, 0.0f);
  EXPECT_FLOAT_EQ(p->top_p, 0.9f);
  EXPECT_EQ(p->seed, 5u);
  EXPECT_EQ(p->penalty_last_n, -1);
  ASSERT_EQ(p->logit_bias.size(), 1u);
  EXPECT_EQ(p->logit_bias[0].first, 3);

  auto error_of = [&](SamplingFields bad) {
    Result<SamplingParams> r = to_sampling_params(bad, defaults, 100);
    return r.ok() ? std::string() : r.error().message;
  };
  SamplingFields bad;
  bad.temperature = 2.5;
  EXPECT_EQ(error_of(bad).substr(0, 12), "temperature:");
  bad = {};
  bad.top_p = 0.0;
  EXPECT_EQ(error_of(bad).substr(0, 6), "top_p:");
  bad = {};
  bad.frequency_penalty = -3;
  EXPECT_EQ(error_of(bad).substr(0, 18), "frequency_penalty:");
  bad = {};
  bad.logit_bias = {{100, 1.0}};
  EXPECT_EQ(error_of(bad).substr(0, 15), "logit_bias.100:");
  bad = {};
  bad.logit_bias = {{1, 101.0}};
  EXPECT_EQ(error_of(bad).substr(0, 13), "logit_bias.1:");
}

}  // namespace
}  // namespace wafer::api
