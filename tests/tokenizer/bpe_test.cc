// BPE merging on tiny in-memory vocabularies: rank order, leftmost ties, chains, Llama 3's
// ignore_merges, and merge-table errors.
#include <gtest/gtest.h>

#include "test_support.h"

namespace wafer {
namespace {

using test::TinyVocab;
using Ids = std::vector<TokenId>;

constexpr TokenId kFirstExtra = 256;  // TinyVocab puts the 256 byte tokens first

std::unique_ptr<Tokenizer> make(const TinyVocab& v) {
  auto tok = test::make_tiny_tokenizer(v);
  EXPECT_TRUE(tok.ok()) << (tok.ok() ? "" : tok.error().message);
  return tok.ok() ? std::move(tok).value() : nullptr;
}

TEST(Bpe, LowerRankMergesFirst) {
  TinyVocab v;
  v.extra = {"ab", "bc"};
  v.merges = {"a b", "b c"};
  auto tok = make(v);
  ASSERT_TRUE(tok);
  EXPECT_EQ(tok->encode("abc", false, false), (Ids{kFirstExtra, 'c'}));

  v.merges = {"b c", "a b"};
  tok = make(v);
  ASSERT_TRUE(tok);
  EXPECT_EQ(tok->encode("abc", false, false), (Ids{'a', kFirstExtra + 1}));
}

TEST(Bpe, EqualRanksMergeLeftmostFirst) {
  TinyVocab v;
  v.extra = {"aa"};
  v.merges = {"a a"};
  auto tok = make(v);
  ASSERT_TRUE(tok);
  EXPECT_EQ(tok->encode("aaa", false, false), (Ids{kFirstExtra, 'a'}));
  EXPECT_EQ(tok->encode("aaaa", false, false), (Ids{kFirstExtra, kFirstExtra}));
}

TEST(Bpe, MergesChainIntoOneToken) {
  TinyVocab v;
  v.extra = {"ab", "abc", "Ġabc", "Ġ" "abcabc"};
  v.merges = {"a b", "ab c", "Ġ abc", "Ġabc abc"};
  auto tok = make(v);
  ASSERT_TRUE(tok);
  EXPECT_EQ(tok->encode("abc", false, false), (Ids{kFirstExtra + 1}));
  EXPECT_EQ(tok->encode(" abc", false, false), (Ids{kFirstExtra + 2}));
  EXPECT_EQ(tok->encode(" abcabc", false, false), (Ids{kFirstExtra + 3}));
  // Pieces are merged separately: the regex cuts before the space.
  EXPECT_EQ(tok->encode("abc abc", false, false), (Ids{kFirstExtra + 1, kFirstExtra + 2}));
}

TEST(Bpe, MergesOverUnknownTokensAreSkipped) {
  TinyVocab v;
  v.extra = {"xy"};
  v.merges = {"x q", "q y", "x y"};  // "xq" and "qy" are not tokens
  auto tok = make(v);
  ASSERT_TRUE(tok);
  EXPECT_EQ(tok->encode("xqy", false, false), (Ids{'x', 'q', 'y'}));
  EXPECT_EQ(tok->encode("xy", false, false), (Ids{kFirstExtra}));
}

TEST(Bpe, Llama3EmitsWholeWordTokensWithoutMerging) {
  TinyVocab v;
  v.extra = {"abc"};
  v.pre = "llama-bpe";
  auto llama = make(v);
  ASSERT_TRUE(llama);
  EXPECT_EQ(llama->encode("abc", false, false), (Ids{kFirstExtra}));
  EXPECT_EQ(llama->encode("abcd", false, false), (Ids{'a', 'b', 'c', 'd'}));

  v.pre = "qwen2";  // standard BPE: no merge reaches "abc"
  auto qwen = make(v);
  ASSERT_TRUE(qwen);
  EXPECT_EQ(qwen->encode("abc", false, false), (Ids{'a', 'b', 'c'}));
}

TEST(Bpe, EveryByteEncodesAndDecodes) {
  TinyVocab v;
  auto tok = make(v);
  ASSERT_TRUE(tok);
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  std::vector<TokenId> ids = tok->encode(all, false, false);
  EXPECT_EQ(ids.size(), 256u);
  EXPECT_EQ(tok->decode(ids), all);
}

TEST(Bpe, MalformedMergeIsAnError) {
  TinyVocab v;
  v.merges = {"a b", "ab"};
  auto tok = test::make_tiny_tokenizer(v);
  ASSERT_FALSE(tok.ok());
  EXPECT_EQ(tok.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(tok.error().message.find("tokenizer.ggml.merges[1]"), std::string::npos)
      << tok.error().message;
}

}  // namespace
}  // namespace wafer
