// Parses real GGUF files from ../shared: a llama-quantize Q4_K_M model and a 152k-token
// tokenizer-only vocabulary, and the fuzzing seeds kept in tests/fuzz/corpus.
#include <chrono>
#include <filesystem>

#include "gguf/gguf.h"
#include "gguf_test_util.h"

namespace wafer {
namespace {

using testing::shared_path;

TEST(GgufRealFile, TinyQwen2Q4KM) {
  auto file = GgufFile::open(shared_path("golden/tiny-qwen2-q4_k_m.gguf"));
  ASSERT_TRUE(file.ok()) << file.error().message;
  const GgufFile& f = **file;
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(**f.get_string("general.architecture"), "qwen2");
  EXPECT_EQ(**f.get_int("qwen2.embedding_length"), 256);
  EXPECT_EQ(**f.get_int("qwen2.block_count"), 2);
  EXPECT_EQ(**f.get_int("qwen2.attention.head_count"), 4);
  EXPECT_EQ(**f.get_int("qwen2.attention.head_count_kv"), 2);
  EXPECT_NEAR(**f.get_float("qwen2.rope.freq_base"), 1e6, 1.0);
  EXPECT_EQ(**f.get_string("tokenizer.ggml.pre"), "qwen2");

  auto tokens = f.get_string_array("tokenizer.ggml.tokens");
  ASSERT_TRUE(tokens.ok()) << tokens.error().message;
  ASSERT_EQ((*tokens)->size(), 4118u);  // 4096 BPE tokens + 22 added
  EXPECT_EQ((**tokens)[4096], "<|endoftext|>");
  EXPECT_EQ((**tokens)[4097], "<|im_start|>");
  auto merges = f.get_string_array("tokenizer.ggml.merges");
  ASSERT_TRUE(merges.ok());
  EXPECT_EQ((*merges)->size(), 3840u);

  // 2 layers x (4 norms/biases ... ) plus embeddings and the output norm; tied output.
  ASSERT_GT(f.tensors().size(), 10u);
  EXPECT_EQ(f.find_tensor("output.weight"), nullptr);
  const GgufTensorInfo* emb = f.find_tensor("token_embd.weight");
  ASSERT_NE(emb, nullptr);
  EXPECT_EQ(emb->shape, (std::vector<uint64_t>{256, 4118}));
  const GgufTensorInfo* q = f.find_tensor("blk.0.attn_q.weight");
  ASSERT_NE(q, nullptr);
  EXPECT_TRUE(q->type == DType::kQ4_K || q->type == DType::kQ6_K) << dtype_name(q->type);
  EXPECT_EQ(q->num_bytes, row_bytes(q->type, 256) * 256);
  const GgufTensorInfo* norm = f.find_tensor("output_norm.weight");
  ASSERT_NE(norm, nullptr);
  EXPECT_EQ(norm->type, DType::kF32);
  EXPECT_EQ(norm->shape, (std::vector<uint64_t>{256}));
  bool any_q4_k = false, any_q6_k = false;
  for (const GgufTensorInfo& t : f.tensors()) {
    any_q4_k |= t.type == DType::kQ4_K;
    any_q6_k |= t.type == DType::kQ6_K;
    EXPECT_EQ(t.offset % f.alignment(), 0u) << t.name;
  }
  EXPECT_TRUE(any_q4_k && any_q6_k);
}

TEST(GgufRealFile, Qwen2Vocabulary) {
  const auto start = std::chrono::steady_clock::now();
  auto file = GgufFile::open(shared_path("vocab/ggml-vocab-qwen2.gguf"));
  const double parse_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(file.ok()) << file.error().message;
  const GgufFile& f = **file;
  EXPECT_EQ(**f.get_string("general.architecture"), "qwen2");
  EXPECT_EQ(**f.get_string("tokenizer.ggml.model"), "gpt2");
  EXPECT_TRUE(f.tensors().empty());
  auto tokens = f.get_string_array("tokenizer.ggml.tokens");
  ASSERT_TRUE(tokens.ok()) << tokens.error().message;
  EXPECT_GE((*tokens)->size(), 151643u + 22u);
  EXPECT_EQ((**tokens)[0], "!");
  auto types = f.get_int_array("tokenizer.ggml.token_type");
  ASSERT_TRUE(types.ok()) << types.error().message;
  EXPECT_EQ((*types)->size(), (*tokens)->size());
  // Release parses this in ~25 ms; the loose bound (Debug, sanitizers, a loaded machine)
  // catches accidental quadratic work, not small regressions.
  EXPECT_LT(parse_ms, 3000.0);
  RecordProperty("parse_ms", std::to_string(parse_ms));
  std::printf("parsed %zu tokens in %.1f ms\n", (*tokens)->size(), parse_ms);
}

TEST(GgufRealFile, FuzzSeedsParse) {
  const std::filesystem::path dir = std::string(WAFER_SOURCE_DIR) + "/tests/fuzz/corpus";
  size_t seeds = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    auto file = GgufFile::open(entry.path().string());
    EXPECT_TRUE(file.ok()) << entry.path() << ": " << file.error().message;
    EXPECT_LT(entry.file_size(), 4096u) << entry.path();
    ++seeds;
  }
  EXPECT_GE(seeds, 2u);
}

}  // namespace
}  // namespace wafer
