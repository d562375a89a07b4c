// EncodeMemo: a hit gives exactly what encoding gives, under repeated and interleaved texts,
// from several threads at once; memory stays within its budget.
#include "tokenizer/encode_memo.h"

#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "test_support.h"

namespace wafer {
namespace {

const Tokenizer& qwen() {
  static std::unique_ptr<Tokenizer> t = test::load_tokenizer(test::shared_path("vocab/ggml-vocab-qwen2.gguf"));
  return *t;
}

std::string random_text(std::mt19937& rng) {
  static const char* kPieces[] = {"int ", "main", "(void)", " {\n", "  return ", "0;", "\n}\n", "é", "日本",
                                  "  ", "\t", "'s ", "123", "4567", "//", " the", "The", "🙂", "\r\n", "x_y"};
  std::uniform_int_distribution<int> n(10, 300), pick(0, 19);
  std::string s;
  for (int i = n(rng); i > 0; --i) s += kPieces[pick(rng)];
  return s;
}

TEST(EncodeMemo, HitsEqualFreshEncodings) {
  std::mt19937 rng(5);
  std::vector<std::string> texts;
  for (int i = 0; i < 40; ++i) texts.push_back(random_text(rng));
  EncodeMemo memo(size_t{1} << 20, 16);
  for (int round = 0; round < 400; ++round) {
    const std::string& t = texts[rng() % texts.size()];
    ASSERT_EQ(memo.encode(qwen(), t), qwen().encode(t, false, false)) << t;
  }
  EXPECT_GT(memo.hits(), 300u);
}

TEST(EncodeMemo, StaysWithinItsBudgetAndStillAnswersRight) {
  std::mt19937 rng(9);
  EncodeMemo memo(8 << 10, 16);  // a few texts at most
  for (int i = 0; i < 300; ++i) {
    const std::string t = random_text(rng);
    ASSERT_EQ(memo.encode(qwen(), t), qwen().encode(t, false, false));
    ASSERT_EQ(memo.encode(qwen(), t), qwen().encode(t, false, false));
    ASSERT_LE(memo.bytes(), size_t{8} << 10);
  }
  EXPECT_GE(memo.hits(), 200u);  // texts larger than the whole budget are never kept
}

TEST(EncodeMemo, ManyThreadsAtOnce) {
  std::mt19937 rng(2);
  std::vector<std::string> texts;
  for (int i = 0; i < 16; ++i) texts.push_back(random_text(rng));
  std::vector<std::vector<TokenId>> want;
  for (const std::string& t : texts) want.push_back(qwen().encode(t, false, false));
  EncodeMemo memo(16 << 10, 16);
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int th = 0; th < 4; ++th)
    threads.emplace_back([&, th] {
      for (int i = 0; i < 200; ++i) {
        const size_t k = static_cast<size_t>(i * 7 + th) % texts.size();
        if (memo.encode(qwen(), texts[k]) != want[k]) ++wrong;
      }
    });
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
}  // namespace wafer
