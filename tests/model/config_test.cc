// Model loading from metadata: supported architectures, clear errors for what is missing.
#include <gtest/gtest.h>

#include "gguf/gguf.h"
#include "model/config.h"
#include "model/model.h"

namespace wafer {
namespace {

GgufWriter base_writer(const std::string& arch) {
  GgufWriter w;
  w.set_string("general.architecture", arch);
  w.set_u32(arch + ".embedding_length", 64);
  w.set_u32(arch + ".block_count", 1);
  w.set_u32(arch + ".feed_forward_length", 128);
  w.set_u32(arch + ".attention.head_count", 4);
  w.set_u32(arch + ".attention.head_count_kv", 2);
  w.set_u32(arch + ".context_length", 2048);
  w.add_tensor("token_embd.weight", DType::kF32, {64, 10}, std::vector<uint8_t>(64 * 10 * 4));
  return w;
}

Result<ModelConfig> parse(const GgufWriter& w) {
  static std::vector<uint8_t> bytes;
  bytes = w.serialize();
  auto file = GgufFile::parse(MappedFile::borrow(bytes));
  if (!file) return file.take_error();
  return read_model_config(**file);
}

TEST(ModelConfig, ReadsQwen2Hyperparameters) {
  auto c = parse(base_writer("qwen2"));
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->arch, Arch::kQwen2);
  EXPECT_EQ(c->head_dim, 16);
  EXPECT_EQ(c->n_vocab, 10);
  EXPECT_EQ(c->rope_style, RopeStyle::kNeox);
  EXPECT_TRUE(c->has_qkv_bias);
  EXPECT_TRUE(c->tied_output);
}

TEST(ModelConfig, Qwen3HeadDimComesFromKeyLength) {
  GgufWriter w = base_writer("qwen3");
  w.set_u32("qwen3.attention.key_length", 32);
  auto c = parse(w);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->head_dim, 32);
  EXPECT_EQ(c->q_dim(), 128);
  EXPECT_TRUE(c->has_qk_norm);
}

TEST(ModelConfig, LlamaUsesNormalRopeAndYarnKeysAreRead) {
  GgufWriter w = base_writer("llama");
  w.set_string("llama.rope.scaling.type", "yarn");
  w.set_f32("llama.rope.scaling.factor", 4.0f);
  w.set_u32("llama.rope.scaling.original_context_length", 512);
  auto c = parse(w);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->rope_style, RopeStyle::kNormal);
  EXPECT_EQ(c->rope_scaling, RopeScaling::kYarn);
  EXPECT_EQ(c->rope_orig_ctx, 512);
  EXPECT_FLOAT_EQ(c->rope_scale_factor, 4.0f);
}

TEST(ModelConfig, UnsupportedArchitectureIsNamed) {
  auto c = parse(base_writer("mamba"));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("'mamba'"), std::string::npos);
  EXPECT_EQ(c.error().code, ErrorCode::kUnsupported);
}

TEST(ModelConfig, MissingKeyIsNamed) {
  GgufWriter w;
  w.set_string("general.architecture", "qwen2");
  w.set_u32("qwen2.embedding_length", 64);
  auto c = parse(w);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("qwen2.block_count"), std::string::npos);
}

TEST(ModelConfig, WrongKeyTypeIsAnError) {
  GgufWriter w = base_writer("qwen2");
  w.set_string("qwen2.block_count", "two");
  auto c = parse(w);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("qwen2.block_count"), std::string::npos);
}

TEST(ModelLoad, MissingTensorIsNamed) {
  GgufWriter w = base_writer("qwen2");
  w.set_string("tokenizer.ggml.model", "gpt2");
  const std::string path = std::string(WAFER_BINARY_DIR) + "/missing_tensor.gguf";
  ASSERT_TRUE(w.write(path).ok());
  auto m = Model::load(path);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message.find("output_norm.weight"), std::string::npos) << m.error().message;
}

TEST(ModelLoad, MissingFileIsAClearError) {
  auto m = Model::load("/nonexistent/model.gguf");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message.find("/nonexistent/model.gguf"), std::string::npos);
}

}  // namespace
}  // namespace wafer
