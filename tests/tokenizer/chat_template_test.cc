// Chat format detection and rendering, and FIM prompts.
#include <gtest/gtest.h>

#include <algorithm>

#include "test_support.h"

namespace wafer {
namespace {

using test::TinyVocab;
using Ids = std::vector<TokenId>;

TEST(ChatTemplate, QwenIsChatMl) {
  auto tok = test::load_tokenizer(test::shared_path("golden/tiny-qwen2-f32.gguf"));
  ASSERT_TRUE(tok);
  auto format = detect_chat_format(*tok);
  ASSERT_TRUE(format.ok()) << format.error().message;
  EXPECT_EQ(*format, ChatFormat::kChatMl);
  std::vector<ChatMessage> messages = {{"system", "You are a helpful coding assistant."},
                                       {"user", "Write hello world in C."}};
  std::string text = render_chat(ChatFormat::kChatMl, messages, true);
  EXPECT_EQ(text,
            "<|im_start|>system\nYou are a helpful coding assistant.<|im_end|>\n"
            "<|im_start|>user\nWrite hello world in C.<|im_end|>\n<|im_start|>assistant\n");
  // The golden prompt is this rendering without the final newline.
  Ids ids = tok->encode(text, true, false);
  Ids golden = {4097, 82,  612, 198, 2610, 525,  264, 1492, 1262, 272, 3700, 1071,
                380,  517, 13,  4098, 198, 4097, 872, 198,  54,   1247, 305, 301,
                385,  1879, 304, 356, 13,  4098, 198, 4097, 395,  380,  517};
  ASSERT_EQ(ids.size(), golden.size() + 1);
  EXPECT_EQ(Ids(ids.begin(), ids.end() - 1), golden);
  EXPECT_EQ(ids.back(), 198);
  EXPECT_EQ(render_chat(ChatFormat::kChatMl, {{"user", "hi"}}, false),
            "<|im_start|>user\nhi<|im_end|>\n");
}

TEST(ChatTemplate, ChatMlFromVocabularyWithoutTemplate) {
  TinyVocab v;
  v.specials = {{"<|im_start|>", TokenType::kControl}, {"<|im_end|>", TokenType::kControl}};
  auto tok = test::make_tiny_tokenizer(v);
  ASSERT_TRUE(tok.ok()) << tok.error().message;
  auto format = detect_chat_format(**tok);
  ASSERT_TRUE(format.ok());
  EXPECT_EQ(*format, ChatFormat::kChatMl);
}

TEST(ChatTemplate, Llama3) {
  TinyVocab v;
  v.specials = {{"<|begin_of_text|>", TokenType::kControl},
                {"<|start_header_id|>", TokenType::kControl},
                {"<|end_header_id|>", TokenType::kControl},
                {"<|eot_id|>", TokenType::kControl}};
  v.string_keys = {{"tokenizer.chat_template",
                    "{{ bos_token }}{% for m in messages %}<|start_header_id|>{{ m.role }}"
                    "<|end_header_id|>\n\n{{ m.content }}<|eot_id|>{% endfor %}"}};
  v.pre = "llama-bpe";
  auto tok = test::make_tiny_tokenizer(v);
  ASSERT_TRUE(tok.ok()) << tok.error().message;
  auto format = detect_chat_format(**tok);
  ASSERT_TRUE(format.ok());
  EXPECT_EQ(*format, ChatFormat::kLlama3);
  std::string text =
      render_chat(ChatFormat::kLlama3, {{"system", "Be brief."}, {"user", "Hi"}}, true);
  EXPECT_EQ(text,
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
            "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n");
  Ids ids = (*tok)->encode(text, true, false);
  EXPECT_EQ(ids.front(), 256);
  EXPECT_EQ(ids[1], 257);
  EXPECT_EQ((*tok)->eot(), 259);
  EXPECT_TRUE((*tok)->is_end_of_generation(259));
}

TEST(ChatTemplate, UnrecognisedIsAnError) {
  auto tok = test::load_tokenizer(test::shared_path("vocab/ggml-vocab-gpt-2.gguf"));
  ASSERT_TRUE(tok);
  auto format = detect_chat_format(*tok);
  ASSERT_FALSE(format.ok());
  EXPECT_NE(format.error().message.find("no chat template wafer recognises"), std::string::npos)
      << format.error().message;
}

TEST(Fim, QwenMatchesGoldenPrompt) {
  auto tok = test::load_tokenizer(test::shared_path("golden/tiny-qwen2-f32.gguf"));
  ASSERT_TRUE(tok);
  auto ids = render_fim(*tok, "def add(a, b):\n    ", "\n    return c");
  ASSERT_TRUE(ids.ok()) << ids.error().message;
  EXPECT_EQ(*ids, (Ids{4112, 750, 912, 2877, 11, 293, 982, 257, 4114, 198, 262, 470, 272, 4113}));
}

TEST(Fim, SpecialTextInsideCodeIsNotParsed) {
  auto tok = test::load_tokenizer(test::shared_path("golden/tiny-qwen2-f32.gguf"));
  ASSERT_TRUE(tok);
  auto ids = render_fim(*tok, "<|fim_middle|>", "");
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(std::count(ids->begin(), ids->end(), 4113), 1);
  EXPECT_EQ(ids->back(), 4113);
}

TEST(Fim, MissingTokensAreNamed) {
  auto tok = test::load_tokenizer(test::shared_path("vocab/ggml-vocab-gpt-2.gguf"));
  ASSERT_TRUE(tok);
  auto ids = render_fim(*tok, "a", "b");
  ASSERT_FALSE(ids.ok());
  EXPECT_NE(ids.error().message.find("prefix"), std::string::npos) << ids.error().message;

  TinyVocab v;
  v.specials = {{"<fim_prefix>", TokenType::kControl}, {"<fim_suffix>", TokenType::kControl}};
  auto partial = test::make_tiny_tokenizer(v);
  ASSERT_TRUE(partial.ok());
  ids = render_fim(**partial, "a", "b");
  ASSERT_FALSE(ids.ok());
  EXPECT_NE(ids.error().message.find("middle"), std::string::npos) << ids.error().message;
  EXPECT_NE(ids.error().message.find("tokenizer.ggml.fim_mid_token_id"), std::string::npos);
}

}  // namespace
}  // namespace wafer
