// Real vocabularies against their expected tokenisations (shared/vocab/*.gguf.inp / .out,
// produced by HF tokenizers): every case must match, and decode must give the text back.
#include <gtest/gtest.h>

#include <chrono>
#include <sstream>
#include <thread>

#include "test_support.h"

namespace wafer {
namespace {

using Ids = std::vector<TokenId>;

struct VocabCases {
  std::vector<std::string> inputs;
  std::vector<Ids> expected;
};

// .inp: cases each followed by "\n__ggml_vocab_test__\n"; .out: one line of ids per case.
VocabCases read_cases(const std::string& gguf_path) {
  VocabCases c;
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::string inp = test::read_file(gguf_path + ".inp");
  for (size_t pos = 0; pos < inp.size();) {
    size_t end = inp.find(sep, pos);
    if (end == std::string::npos) break;
    c.inputs.push_back(inp.substr(pos, end - pos));
    pos = end + sep.size();
  }
  std::istringstream out(test::read_file(gguf_path + ".out"));
  std::string line;
  while (c.expected.size() < c.inputs.size() && std::getline(out, line)) {
    std::istringstream ids(line);
    Ids row;
    for (TokenId id; ids >> id;) row.push_back(id);
    c.expected.push_back(row);
  }
  return c;
}

std::string ids_to_string(const Ids& ids) {
  std::string s;
  for (TokenId id : ids) s += (s.empty() ? "" : " ") + std::to_string(id);
  return s;
}

class VocabFile : public ::testing::TestWithParam<std::string> {};

TEST_P(VocabFile, EveryCaseMatches) {
  std::string path = test::shared_path("vocab/ggml-vocab-" + GetParam() + ".gguf");
  auto tok = test::load_tokenizer(path);
  ASSERT_TRUE(tok);
  VocabCases cases = read_cases(path);
  ASSERT_EQ(cases.inputs.size(), cases.expected.size());
  ASSERT_GE(cases.inputs.size(), 40u);

  size_t failures = 0;
  std::string diffs;
  for (size_t i = 0; i < cases.inputs.size(); ++i) {
    Ids got = tok->encode(cases.inputs[i], false, false);
    if (got != cases.expected[i]) {
      if (++failures <= 5) {
        diffs += "\n  case " + std::to_string(i) + " '" + cases.inputs[i] + "'\n    want " +
                 ids_to_string(cases.expected[i]) + "\n    got  " + ids_to_string(got);
      }
    }
    EXPECT_EQ(tok->decode(got), cases.inputs[i]) << "round trip of case " << i;
  }
  std::printf("[ vocab    ] %s: %zu/%zu cases match\n", GetParam().c_str(),
              cases.inputs.size() - failures, cases.inputs.size());
  EXPECT_EQ(failures, 0u) << failures << " of " << cases.inputs.size()
                          << " cases differ; first ones:" << diffs;
}

INSTANTIATE_TEST_SUITE_P(Tokenizer, VocabFile,
                         ::testing::Values("qwen2", "deepseek-coder", "starcoder", "gpt-2"),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name) c = c == '-' ? '_' : c;
                           return name;
                         });

// Each thread remembers the ids of short words per tokenizer: encoding every case again
// (all words remembered), with two tokenizers taking turns on one thread, and on a fresh
// thread must all give the expected ids.
TEST(TokenizerWordCache, RememberedWordsEncodeAsFreshOnes) {
  const std::string qwen_path = test::shared_path("vocab/ggml-vocab-qwen2.gguf");
  const std::string gpt2_path = test::shared_path("vocab/ggml-vocab-gpt-2.gguf");
  auto qwen = test::load_tokenizer(qwen_path);
  auto gpt2 = test::load_tokenizer(gpt2_path);
  ASSERT_TRUE(qwen && gpt2);
  const VocabCases qc = read_cases(qwen_path);
  const VocabCases gc = read_cases(gpt2_path);
  for (int pass = 0; pass < 3; ++pass) {
    for (size_t i = 0; i < std::max(qc.inputs.size(), gc.inputs.size()); ++i) {
      if (i < qc.inputs.size()) {
        EXPECT_EQ(qwen->encode(qc.inputs[i], false, false), qc.expected[i]) << "qwen2 case " << i << " pass " << pass;
      }
      if (pass > 0 && i < gc.inputs.size()) {  // then the two take turns
        EXPECT_EQ(gpt2->encode(gc.inputs[i], false, false), gc.expected[i]) << "gpt-2 case " << i << " pass " << pass;
      }
    }
  }
  std::thread fresh([&] {
    for (size_t i = 0; i < qc.inputs.size(); ++i)
      EXPECT_EQ(qwen->encode(qc.inputs[i], false, false), qc.expected[i]) << "qwen2 case " << i << " on a new thread";
  });
  fresh.join();
  // The same words in other contexts, long words (kept out of the cache) and words of many
  // tokens, each encoded twice.
  std::string text;
  for (const std::string& input : qc.inputs) text += input + " " + input + "\n";
  text += std::string(200, 'x') + " " + std::string(31, 'y') + " " + "\xF0\x9F\x9A\x80\xF0\x9F\x9A\x80\xF0\x9F\x9A\x80";
  const Ids once = qwen->encode(text, false, false);
  EXPECT_EQ(qwen->encode(text, false, false), once);
  EXPECT_EQ(qwen->decode(once), text);
}

TEST(TokenizerLongText, TenThousandTokensOfCode) {
  auto tok = test::load_tokenizer(test::shared_path("vocab/ggml-vocab-qwen2.gguf"));
  ASSERT_TRUE(tok);
  // Varied code: each copy renames identifiers so repeated words do not all look alike.
  std::string code;
  for (int i = 0; code.size() < 40000; ++i) {
    code += "static int sum_" + std::to_string(i) + "(const node_t *head) {\n"
            "    int total_" + std::to_string(i * 7) + " = 0; // ünïcode 日本語 🚀\n"
            "    for (const node_t *p = head; p; p = p->next) total += p->value * " +
            std::to_string(i * 31) + ";\n    return total;\n}\n\n";
  }
  auto start = std::chrono::steady_clock::now();
  Ids ids = tok->encode(code, false, false);
  std::chrono::duration<double, std::milli> elapsed = std::chrono::steady_clock::now() - start;
  double ms = elapsed.count();
  std::printf("[ speed    ] %zu bytes -> %zu tokens in %.2f ms\n", code.size(), ids.size(), ms);
  EXPECT_GE(ids.size(), 10000u);
  EXPECT_EQ(tok->decode(ids), code);
}

TEST(TokenizerThreads, ConcurrentEncodesAgree) {
  auto tok = test::load_tokenizer(test::shared_path("vocab/ggml-vocab-deepseek-coder.gguf"));
  ASSERT_TRUE(tok);
  std::string text = test::read_file(test::shared_path("vocab/ggml-vocab-deepseek-coder.gguf.inp"));
  const Ids expected = tok->encode(text, true, false);
  std::vector<int> matches(4, 0);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < matches.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) matches[t] += tok->encode(text, true, false) == expected;
    });
  }
  for (std::thread& th : threads) th.join();
  for (int m : matches) EXPECT_EQ(m, 20);
}

}  // namespace
}  // namespace wafer
