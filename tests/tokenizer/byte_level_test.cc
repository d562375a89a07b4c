// GPT-2 byte-level alphabet: a bijection between the 256 bytes and 256 printable characters.
#include "tokenizer/byte_level.h"

#include <gtest/gtest.h>

#include <set>

namespace wafer {
namespace {

TEST(ByteLevel, KnownCharacters) {
  EXPECT_EQ(byte_level_codepoint(' '), U'Ġ');
  EXPECT_EQ(byte_level_codepoint('\n'), U'Ċ');
  EXPECT_EQ(byte_level_codepoint('\t'), U'ĉ');
  EXPECT_EQ(byte_level_codepoint('a'), U'a');
  EXPECT_EQ(byte_level_codepoint(0xE9), U'é');
  EXPECT_EQ(byte_level_codepoint(0x00), U'Ā');
  EXPECT_EQ(byte_level_codepoint(0xA0), U'ł');  // no-break space: not printable
  EXPECT_EQ(byte_level_codepoint(0xAD), U'Ń');  // soft hyphen: the last extra one
}

TEST(ByteLevel, IsABijection) {
  std::set<char32_t> seen;
  for (int b = 0; b < 256; ++b) {
    char32_t cp = byte_level_codepoint(static_cast<uint8_t>(b));
    EXPECT_TRUE(seen.insert(cp).second) << "byte " << b;
    EXPECT_EQ(byte_level_byte(cp), b);
  }
  EXPECT_EQ(byte_level_byte(U'日'), -1);
  EXPECT_EQ(byte_level_byte(U' '), -1);  // a raw space never appears in byte-level text
}

TEST(ByteLevel, TextRoundTrip) {
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  std::string text;
  append_byte_level_text(all, &text);
  EXPECT_EQ(byte_level_text_to_bytes(text), all);

  std::string hello;
  append_byte_level_text(" Hello\n", &hello);
  EXPECT_EQ(hello, "ĠHelloĊ");
}

TEST(ByteLevel, CharactersOutsideTheAlphabetPassThrough) {
  EXPECT_EQ(byte_level_text_to_bytes("Ġ日"), " 日");
  EXPECT_EQ(byte_level_text_to_bytes("a\xFF"), "a\xFF");
}

}  // namespace
}  // namespace wafer
