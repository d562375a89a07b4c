// Pre-tokenizer splits, with expectations derived by hand from each regex's semantics.
#include "tokenizer/pretokenizer.h"

#include <gtest/gtest.h>

namespace wafer {
namespace {

using Pieces = std::vector<std::string>;

Pieces split(PreTokenizer kind, std::string_view text) {
  auto splitter = RegexSplitter::create(kind);
  EXPECT_TRUE(splitter.ok()) << (splitter.ok() ? "" : splitter.error().message);
  if (!splitter.ok()) return {};
  std::vector<std::string_view> views;
  splitter->split(text, &views);
  return Pieces(views.begin(), views.end());
}

TEST(PreTokenizerName, KnownAndUnknown) {
  EXPECT_EQ(*pre_tokenizer_from_name("qwen2"), PreTokenizer::kQwen2);
  EXPECT_EQ(*pre_tokenizer_from_name("gpt-2"), PreTokenizer::kGpt2);
  EXPECT_EQ(*pre_tokenizer_from_name("default"), PreTokenizer::kGpt2);
  EXPECT_EQ(*pre_tokenizer_from_name("llama-bpe"), PreTokenizer::kLlama3);
  EXPECT_EQ(*pre_tokenizer_from_name("deepseek-coder"), PreTokenizer::kDeepseekCoder);
  EXPECT_EQ(*pre_tokenizer_from_name("starcoder"), PreTokenizer::kStarcoder);
  auto bad = pre_tokenizer_from_name("falcon");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kUnsupported);
  EXPECT_NE(bad.error().message.find("'falcon'"), std::string::npos) << bad.error().message;
  EXPECT_NE(bad.error().message.find("qwen2"), std::string::npos) << bad.error().message;
  EXPECT_NE(bad.error().message.find("llama-bpe"), std::string::npos) << bad.error().message;
}

TEST(PreTokenizerSplit, EmptyTextHasNoPieces) {
  EXPECT_TRUE(split(PreTokenizer::kQwen2, "").empty());
  EXPECT_TRUE(split(PreTokenizer::kDeepseekCoder, "").empty());
}

TEST(PreTokenizerSplit, Gpt2) {
  EXPECT_EQ(split(PreTokenizer::kGpt2, "Hello world"), (Pieces{"Hello", " world"}));
  EXPECT_EQ(split(PreTokenizer::kGpt2, "I'm 1234 ok!!"), (Pieces{"I", "'m", " 1234", " ok", "!!"}));
  // Contractions are lowercase only: "'RE" is punctuation then letters.
  EXPECT_EQ(split(PreTokenizer::kGpt2, "YOU'RE"), (Pieces{"YOU", "'", "RE"}));
  // \s+(?!\S) leaves the last space to join the word after it.
  EXPECT_EQ(split(PreTokenizer::kGpt2, "a   b"), (Pieces{"a", "  ", " b"}));
  EXPECT_EQ(split(PreTokenizer::kGpt2, "\tfoo"), (Pieces{"\t", "foo"}));
  EXPECT_EQ(split(PreTokenizer::kGpt2, "end  "), (Pieces{"end", "  "}));
}

TEST(PreTokenizerSplit, Llama3NumbersInGroupsOfThree) {
  EXPECT_EQ(split(PreTokenizer::kLlama3, "1234567"), (Pieces{"123", "456", "7"}));
  EXPECT_EQ(split(PreTokenizer::kLlama3, "12345 678"), (Pieces{"123", "45", " ", "678"}));
  EXPECT_EQ(split(PreTokenizer::kLlama3, "x=100000;"), (Pieces{"x", "=", "100", "000", ";"}));
}

TEST(PreTokenizerSplit, Llama3ContractionsAreCaseInsensitive) {
  EXPECT_EQ(split(PreTokenizer::kLlama3, "he's HE'S We'Ve"),
            (Pieces{"he", "'s", " HE", "'S", " We", "'Ve"}));
  EXPECT_EQ(split(PreTokenizer::kLlama3, "I'LL"), (Pieces{"I", "'LL"}));
  // A quote after a space joins the space as punctuation; after a letter "'T" is 't.
  EXPECT_EQ(split(PreTokenizer::kLlama3, " 'Told"), (Pieces{" '", "Told"}));
  EXPECT_EQ(split(PreTokenizer::kLlama3, "x'Told"), (Pieces{"x", "'T", "old"}));
}

TEST(PreTokenizerSplit, Llama3Whitespace) {
  // A letter run takes one leading non-letter, non-newline character, tabs included.
  EXPECT_EQ(split(PreTokenizer::kLlama3, "\tfoo"), (Pieces{"\tfoo"}));
  EXPECT_EQ(split(PreTokenizer::kLlama3, "  foo"), (Pieces{" ", " foo"}));
  EXPECT_EQ(split(PreTokenizer::kLlama3, "a\n\nb"), (Pieces{"a", "\n\n", "b"}));
  EXPECT_EQ(split(PreTokenizer::kLlama3, "ok!!\n\nnext"), (Pieces{"ok", "!!\n\n", "next"}));
  EXPECT_EQ(split(PreTokenizer::kLlama3, "x  >  3"), (Pieces{"x", " ", " >", " ", " ", "3"}));
  EXPECT_EQ(split(PreTokenizer::kLlama3, "  \n  x"), (Pieces{"  \n", " ", " x"}));
}

TEST(PreTokenizerSplit, Llama3Unicode) {
  EXPECT_EQ(split(PreTokenizer::kLlama3, "Привет мир"), (Pieces{"Привет", " мир"}));
  // U+3000 (ideographic space) and U+0085 (next line) are whitespace, as in Oniguruma.
  EXPECT_EQ(split(PreTokenizer::kLlama3, "a\u3000\u3000b"), (Pieces{"a", "\u3000", "\u3000b"}));
  EXPECT_EQ(split(PreTokenizer::kLlama3, "!\u0085"), (Pieces{"!", "\u0085"}));
  EXPECT_EQ(split(PreTokenizer::kGpt2, "!\u0085"), (Pieces{"!", "\u0085"}));
  EXPECT_EQ(split(PreTokenizer::kLlama3, "日本語のコメント"), (Pieces{"日本語のコメント"}));
  EXPECT_EQ(split(PreTokenizer::kLlama3, "٣٤٥٦"), (Pieces{"٣٤٥", "٦"}));  // Arabic-Indic digits
}

TEST(PreTokenizerSplit, Qwen2SingleDigits) {
  EXPECT_EQ(split(PreTokenizer::kQwen2, "x = 1234;"),
            (Pieces{"x", " =", " ", "1", "2", "3", "4", ";"}));
  EXPECT_EQ(split(PreTokenizer::kQwen2, "It'S"), (Pieces{"It", "'S"}));
}

TEST(PreTokenizerSplit, StarcoderSplitsDigitsThenGpt2) {
  EXPECT_EQ(split(PreTokenizer::kStarcoder, " 12 ab"), (Pieces{" ", "1", "2", " ab"}));
  EXPECT_EQ(split(PreTokenizer::kStarcoder, "x1y"), (Pieces{"x", "1", "y"}));
}

TEST(PreTokenizerSplit, DeepseekCoderSequence) {
  // Letters, then punctuation (\p{P}: '(' ')' ','), CJK runs, single digits; symbols such
  // as '=' are no class of their own and stay in the gaps.
  EXPECT_EQ(split(PreTokenizer::kDeepseekCoder, "a = 12"), (Pieces{"a", " = ", "1", "2"}));
  EXPECT_EQ(split(PreTokenizer::kDeepseekCoder, "f(x, y)\n"),
            (Pieces{"f", "(", "x", ",", " y", ")", "\n"}));
  EXPECT_EQ(split(PreTokenizer::kDeepseekCoder, "\n\n"), (Pieces{"\n", "\n"}));
}

TEST(PreTokenizerSplit, PiecesConcatenateToInputEvenWhenInvalidUtf8) {
  std::string text = "ok \xFF\xFE bad\xE6\x97 日本 12\n";
  for (PreTokenizer kind : {PreTokenizer::kGpt2, PreTokenizer::kQwen2, PreTokenizer::kLlama3,
                            PreTokenizer::kDeepseekCoder, PreTokenizer::kStarcoder}) {
    std::string joined;
    for (const std::string& p : split(kind, text)) {
      EXPECT_FALSE(p.empty());
      joined += p;
    }
    EXPECT_EQ(joined, text) << pre_tokenizer_name(kind);
  }
}

TEST(PreTokenizerSplit, LongRunsDoNotExhaustTheMatcher) {
  std::string spaces(200000, ' ');
  spaces += "x";
  Pieces p = split(PreTokenizer::kLlama3, spaces);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].size(), 199999u);
  EXPECT_EQ(p[1], " x");
}

}  // namespace
}  // namespace wafer
