// UTF-8 helpers: encoding, decoding and replacement of invalid or cut sequences.
#include "tokenizer/utf8.h"

#include <gtest/gtest.h>

namespace wafer {
namespace {

std::string sanitized(std::string_view bytes, bool final, size_t* consumed = nullptr) {
  std::string out;
  size_t n = utf8::sanitize(bytes, final, &out);
  if (consumed) *consumed = n;
  return out;
}

TEST(Utf8, AppendEncodesEveryLength) {
  std::string s;
  utf8::append(&s, U'A');
  utf8::append(&s, U'é');
  utf8::append(&s, U'日');
  utf8::append(&s, U'🚀');
  EXPECT_EQ(s, "Aé日🚀");
}

TEST(Utf8, NextDecodesAndRejects) {
  std::string_view text = "é\xFF日";
  size_t pos = 0;
  EXPECT_EQ(utf8::next(text, &pos), U'é');
  EXPECT_EQ(pos, 2u);
  EXPECT_EQ(utf8::next(text, &pos), std::nullopt);
  EXPECT_EQ(pos, 3u);
  EXPECT_EQ(utf8::next(text, &pos), U'日');
  EXPECT_EQ(pos, text.size());
}

TEST(Utf8, SanitizeKeepsValidText) {
  size_t consumed = 0;
  EXPECT_EQ(sanitized("héllo 日本 🚀", false, &consumed), "héllo 日本 🚀");
  EXPECT_EQ(consumed, std::string_view("héllo 日本 🚀").size());
}

TEST(Utf8, SanitizeHoldsBackIncompleteCharacterUnlessFinal) {
  std::string rocket = "🚀";
  for (size_t cut = 1; cut < rocket.size(); ++cut) {
    std::string bytes = "a" + rocket.substr(0, cut);
    size_t consumed = 0;
    EXPECT_EQ(sanitized(bytes, false, &consumed), "a");
    EXPECT_EQ(consumed, 1u);
    EXPECT_EQ(sanitized(bytes, true, &consumed), "a\xEF\xBF\xBD");
    EXPECT_EQ(consumed, bytes.size());
  }
}

TEST(Utf8, SanitizeReplacesMaximalSubparts) {
  EXPECT_EQ(sanitized("\x80", false), "\xEF\xBF\xBD");
  EXPECT_EQ(sanitized("\xC0\xAF", false), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong lead, stray
  EXPECT_EQ(sanitized("\xE6\x97" "a", false), "\xEF\xBF\xBD" "a");       // cut 3-byte sequence
  EXPECT_EQ(sanitized("\xED\xA0\x80", false), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  EXPECT_EQ(sanitized("\xF4\x90\x80\x80", false),
            "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // above U+10FFFF
  EXPECT_EQ(sanitized("\xF0\x9F\x9A" "b", false), "\xEF\xBF\xBD" "b");
}

TEST(Utf8, IsValid) {
  EXPECT_TRUE(utf8::is_valid(""));
  EXPECT_TRUE(utf8::is_valid("日本語 🦙"));
  EXPECT_FALSE(utf8::is_valid("\xE6\x97"));
  EXPECT_FALSE(utf8::is_valid("a\xFF"));
  EXPECT_FALSE(utf8::is_valid("\xC1\xBF"));
}

}  // namespace
}  // namespace wafer
