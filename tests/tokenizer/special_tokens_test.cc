// Special tokens, role ids and loading: which texts become special ids, BOS/EOS, end of
// generation, FIM ids, and the errors from_gguf reports.
#include <gtest/gtest.h>

#include <algorithm>

#include "test_support.h"

namespace wafer {
namespace {

using test::TinyVocab;
using Ids = std::vector<TokenId>;

bool contains(const Ids& ids, TokenId id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

class QwenVocab : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tok_ = test::load_tokenizer(test::shared_path("vocab/ggml-vocab-qwen2.gguf")).release();
  }
  static void TearDownTestSuite() {
    delete tok_;
    tok_ = nullptr;
  }
  static Tokenizer* tok_;
};
Tokenizer* QwenVocab::tok_ = nullptr;

TEST_F(QwenVocab, ControlTokensOnlyWhenParsingSpecial) {
  ASSERT_TRUE(tok_);
  EXPECT_EQ(tok_->encode("<|im_start|>", true, false), (Ids{151644}));
  Ids plain = tok_->encode("<|im_start|>", false, false);
  EXPECT_GT(plain.size(), 1u);
  EXPECT_FALSE(contains(plain, 151644));
  EXPECT_EQ(tok_->decode(plain), "<|im_start|>");
  EXPECT_EQ(tok_->encode("a<|im_end|>\nb", true, false),
            (Ids{64, 151645, 198, 65}));  // "a", <|im_end|>, "\n", "b"
}

TEST_F(QwenVocab, UserDefinedTokensAlwaysParsed) {
  ASSERT_EQ(tok_->token_type(151657), TokenType::kUserDefined);
  EXPECT_EQ(tok_->encode("<tool_call>", false, false), (Ids{151657}));
  EXPECT_EQ(tok_->encode("<tool_call>", true, false), (Ids{151657}));
}

TEST_F(QwenVocab, RoleIds) {
  EXPECT_EQ(tok_->pre_tokenizer(), PreTokenizer::kQwen2);
  EXPECT_EQ(tok_->bos(), 151643);
  EXPECT_EQ(tok_->eos(), 151645);
  EXPECT_EQ(tok_->eot(), 151645);  // no eot key: found as <|im_end|>
  EXPECT_FALSE(tok_->add_bos());
  EXPECT_TRUE(tok_->is_end_of_generation(151645));
  EXPECT_TRUE(tok_->is_end_of_generation(151643));  // <|endoftext|>
  EXPECT_FALSE(tok_->is_end_of_generation(151644));
  EXPECT_FALSE(tok_->is_end_of_generation(0));
  EXPECT_EQ(tok_->fim_prefix(), 151659);
  EXPECT_EQ(tok_->fim_middle(), 151660);
  EXPECT_EQ(tok_->fim_suffix(), 151661);
  EXPECT_EQ(tok_->vocab_size(), 151936u);
  EXPECT_EQ(tok_->find_token("<|im_start|>"), 151644);
  EXPECT_EQ(tok_->find_token("no such token"), std::nullopt);
  EXPECT_EQ(tok_->token_text(151644), "<|im_start|>");
  EXPECT_EQ(tok_->token_type(151644), TokenType::kControl);
}

TEST_F(QwenVocab, AddSpecialAddsNothingWithoutAddBos) {
  EXPECT_EQ(tok_->encode("hi", false, true), tok_->encode("hi", false, false));
}

TEST(SpecialTokens, DeepseekAddsBosWhenAsked) {
  auto tok = test::load_tokenizer(test::shared_path("vocab/ggml-vocab-deepseek-coder.gguf"));
  ASSERT_TRUE(tok);
  EXPECT_TRUE(tok->add_bos());
  Ids with = tok->encode("hi", false, true);
  Ids without = tok->encode("hi", false, false);
  ASSERT_EQ(with.size(), without.size() + 1);
  EXPECT_EQ(with[0], 32013);
  EXPECT_EQ(tok->fim_prefix(), 32016);  // <｜fim▁begin｜>
  EXPECT_EQ(tok->fim_suffix(), 32015);  // <｜fim▁hole｜>
  EXPECT_EQ(tok->fim_middle(), 32017);  // <｜fim▁end｜>
  EXPECT_EQ(tok->eos(), 32014);
  EXPECT_EQ(tok->eot(), 32021);  // <|EOT|>
  EXPECT_TRUE(tok->is_end_of_generation(32014));
}

TEST(SpecialTokens, StarcoderFimAndEos) {
  auto tok = test::load_tokenizer(test::shared_path("vocab/ggml-vocab-starcoder.gguf"));
  ASSERT_TRUE(tok);
  EXPECT_EQ(tok->fim_prefix(), 1);
  EXPECT_EQ(tok->fim_middle(), 2);
  EXPECT_EQ(tok->fim_suffix(), 3);
  EXPECT_EQ(tok->eos(), 0);
  EXPECT_EQ(tok->eot(), std::nullopt);
  EXPECT_TRUE(tok->is_end_of_generation(0));
  EXPECT_EQ(tok->encode("<fim_prefix>x", true, false)[0], 1);
  // StarCoder has no tokens for bytes that never occur in UTF-8: such input bytes are dropped.
  EXPECT_EQ(tok->decode(tok->encode("a\xC0\xFF b", false, false)), "a b");
}

TEST(SpecialTokens, LongestTokenWins) {
  TinyVocab v;
  v.specials = {{"<a>", TokenType::kControl}, {"<a><b>", TokenType::kControl},
                {"<b>", TokenType::kControl}};
  auto tok = test::make_tiny_tokenizer(v);
  ASSERT_TRUE(tok.ok()) << tok.error().message;
  EXPECT_EQ((*tok)->encode("<a><b><b><a>x", true, false), (Ids{257, 258, 256, 'x'}));
}

TEST(SpecialTokens, MetadataIdsOverrideTexts) {
  TinyVocab v;
  v.specials = {{"<|im_end|>", TokenType::kControl}, {"<|my_eot|>", TokenType::kControl},
                {"<|p|>", TokenType::kControl}, {"<|s|>", TokenType::kControl},
                {"<|m|>", TokenType::kControl}};
  v.int_keys = {{"tokenizer.ggml.eot_token_id", 257}, {"tokenizer.ggml.fim_pre_token_id", 258},
                {"tokenizer.ggml.fim_suf_token_id", 259}, {"tokenizer.ggml.fim_mid_token_id", 260},
                {"tokenizer.ggml.bos_token_id", 'A'}};
  v.bool_keys = {{"tokenizer.ggml.add_bos_token", true}};
  auto tok = test::make_tiny_tokenizer(v);
  ASSERT_TRUE(tok.ok()) << tok.error().message;
  const Tokenizer& t = **tok;
  EXPECT_EQ(t.eot(), 257);
  EXPECT_EQ(t.eos(), 256);  // no eos key: found as <|im_end|>
  EXPECT_EQ(t.fim_prefix(), 258);
  EXPECT_EQ(t.fim_suffix(), 259);
  EXPECT_EQ(t.fim_middle(), 260);
  EXPECT_TRUE(t.is_end_of_generation(256));
  EXPECT_TRUE(t.is_end_of_generation(257));
  EXPECT_EQ(t.encode("b", false, true), (Ids{'A', 'b'}));
}

TEST(TokenizerLoad, Errors) {
  TinyVocab v;
  v.string_keys = {{"tokenizer.ggml.model", "llama"}};
  auto r = test::make_tiny_tokenizer(v);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnsupported);
  EXPECT_NE(r.error().message.find("'llama'"), std::string::npos) << r.error().message;

  v = TinyVocab{};
  v.pre = "jais";
  r = test::make_tiny_tokenizer(v);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("'jais'"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("deepseek-coder"), std::string::npos) << r.error().message;

  v = TinyVocab{};
  v.int_keys = {{"tokenizer.ggml.bos_token_id", 100000}};
  r = test::make_tiny_tokenizer(v);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(r.error().message.find("tokenizer.ggml.bos_token_id"), std::string::npos);

  GgufWriter empty;
  std::vector<uint8_t> bytes = empty.serialize();
  auto file = GgufFile::parse(MappedFile::borrow({bytes.data(), bytes.size()}));
  ASSERT_TRUE(file.ok()) << file.error().message;
  r = Tokenizer::from_gguf(**file);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  EXPECT_NE(r.error().message.find("tokenizer.ggml.model"), std::string::npos);
}

}  // namespace
}  // namespace wafer
