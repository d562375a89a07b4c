// Decoding and the streaming detokenizer: chunks are always whole UTF-8 characters and
// concatenate to the full decode.
#include <gtest/gtest.h>

#include <random>

#include "test_support.h"
#include "tokenizer/utf8.h"

namespace wafer {
namespace {

using Ids = std::vector<TokenId>;

std::string stream_all(const Tokenizer& tok, const Ids& ids, size_t* empty_chunks = nullptr) {
  StreamingDetokenizer detok(tok);
  std::string joined;
  for (TokenId id : ids) {
    std::string chunk = detok.push(id);
    EXPECT_TRUE(utf8::is_valid(chunk)) << "token " << id << " gave a chunk with invalid UTF-8";
    if (chunk.empty() && empty_chunks) ++*empty_chunks;
    joined += chunk;
  }
  std::string rest = detok.flush();
  EXPECT_TRUE(utf8::is_valid(rest));
  return joined + rest;
}

TEST(Detokenizer, MultiByteTextStreamsWhole) {
  // The golden tiny vocabulary has few merges, so emoji and CJK arrive a byte at a time.
  auto tok = test::load_tokenizer(test::shared_path("golden/tiny-qwen2-f32.gguf"));
  ASSERT_TRUE(tok);
  for (std::string text : {"🚀 日本語のコメント 🦙✅ naïve café", "Ünïcödé ✓ 😶‍🌫️ Привет",
                           "ខ្មែរ 作天工 \u3000 ½"}) {
    Ids ids = tok->encode(text, false, false);
    size_t empty_chunks = 0;
    EXPECT_EQ(stream_all(*tok, ids, &empty_chunks), text);
    EXPECT_GT(empty_chunks, 0u) << "some bytes must have been held back";
    EXPECT_EQ(tok->decode(ids), text);
  }
}

TEST(Detokenizer, HoldsBackThenReleasesACharacter) {
  auto tok = test::load_tokenizer(test::shared_path("golden/tiny-qwen2-f32.gguf"));
  ASSERT_TRUE(tok);
  Ids rocket = tok->encode("🚀", false, false);
  ASSERT_EQ(rocket.size(), 4u);  // F0 9F 9A 80, one token each
  StreamingDetokenizer detok(*tok);
  EXPECT_EQ(detok.push(rocket[0]), "");
  EXPECT_EQ(detok.push(rocket[1]), "");
  EXPECT_EQ(detok.push(rocket[2]), "");
  EXPECT_EQ(detok.push(rocket[3]), "🚀");
  EXPECT_EQ(detok.flush(), "");
}

TEST(Detokenizer, InvalidBytesBecomeReplacementCharacters) {
  auto tok = test::load_tokenizer(test::shared_path("golden/tiny-qwen2-f32.gguf"));
  ASSERT_TRUE(tok);
  auto byte_token = [&](uint8_t b) {
    Ids ids = tok->encode(std::string(1, static_cast<char>(b)), false, false);
    EXPECT_EQ(ids.size(), 1u);
    return ids[0];
  };
  StreamingDetokenizer detok(*tok);
  EXPECT_EQ(detok.push(byte_token(0x80)), "\xEF\xBF\xBD");  // stray continuation: at once
  EXPECT_EQ(detok.push(byte_token(0xE6)), "");              // might still complete
  EXPECT_EQ(detok.push(byte_token('a')), "\xEF\xBF\xBD" "a");
  EXPECT_EQ(detok.push(byte_token(0xF0)), "");
  EXPECT_EQ(detok.flush(), "\xEF\xBF\xBD");  // cut off at the end
  EXPECT_EQ(detok.flush(), "");
}

TEST(Detokenizer, SpecialTokensDecodeAsTheirText) {
  auto tok = test::load_tokenizer(test::shared_path("golden/tiny-qwen2-f32.gguf"));
  ASSERT_TRUE(tok);
  EXPECT_EQ(tok->token_to_bytes(4098), "<|im_end|>");
  EXPECT_EQ(tok->token_to_bytes(4110), "<tool_call>");
  EXPECT_EQ(tok->token_to_bytes(220), " ");
  EXPECT_EQ(tok->token_to_bytes(198), "\n");
  StreamingDetokenizer detok(*tok);
  EXPECT_EQ(detok.push(4097), "<|im_start|>");
}

// Random mixes of ASCII, whitespace oddities, multi-byte characters, special-token texts and
// invalid bytes: encode/decode is lossless and streaming equals decoding once at the end.
TEST(Detokenizer, RandomTextRoundTrips) {
  auto tok = test::load_tokenizer(test::shared_path("golden/tiny-qwen2-f32.gguf"));
  ASSERT_TRUE(tok);
  const std::vector<std::string> atoms = {
      "a", "Z", "9", " ", "  ", "\n", "\r\n", "\t", "'s", "'RE", "!", "==", "(", "é", "日本",
      "\u0085", "\u3000", "\u00a0", "🚀", "😶\u200d🌫\ufe0f", "<|im_start|>", "<|im_end",
      "<tool_call>", "\x80", "\xFF", "\xE6\x97", "\xF0\x9F", "123456", "ქართ", "x_y", "\\", "\"", "_"};
  std::mt19937 rng(1234);
  std::uniform_int_distribution<size_t> pick(0, atoms.size() - 1);
  std::uniform_int_distribution<int> length(0, 40);
  for (int round = 0; round < 300; ++round) {
    std::string text;
    for (int n = length(rng); n > 0; --n) text += atoms[pick(rng)];
    for (bool parse_special : {false, true}) {
      Ids ids = tok->encode(text, parse_special, false);
      ASSERT_EQ(tok->decode(ids), text) << "round " << round;
      std::string expected;
      utf8::sanitize(text, true, &expected);
      ASSERT_EQ(stream_all(*tok, ids), expected) << "round " << round;
    }
  }
}

}  // namespace
}  // namespace wafer
