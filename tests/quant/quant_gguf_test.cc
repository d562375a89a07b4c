// Real data: llama-quantize's Q4_K/Q6_K/Q8_0/F16 tensors of the golden tiny models, decoded
// and compared with the F32 originals of the same random weights; and wafer's own encoders
// on those originals, which should do about as well as llama-quantize.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "quant/quant.h"

namespace wafer {
namespace {

const std::string kGolden = std::string(WAFER_SHARED_DIR) + "/golden/";

double rel_rms(const std::vector<float>& got, const std::vector<float>& want) {
  double err = 0, ref = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    const double diff = static_cast<double>(got[i]) - want[i];
    err += diff * diff;
    ref += static_cast<double>(want[i]) * want[i];
  }
  return std::sqrt(err / ref);
}

std::vector<float> decode_tensor(const GgufTensorInfo& t) {
  std::vector<float> out(t.num_elements);
  const size_t row = t.shape.at(0);
  const size_t stride = row_bytes(t.type, row);
  for (size_t r = 0; r < t.num_elements / row; ++r)
    dequantize_row(t.type, t.data + r * stride, out.data() + r * row, row);
  return out;
}

std::vector<float> encode_decode(DType type, const std::vector<float>& x, size_t row) {
  std::vector<uint8_t> bytes(row_bytes(type, row));
  std::vector<float> out(x.size());
  for (size_t r = 0; r < x.size() / row; ++r) {
    quantize_row(type, x.data() + r * row, bytes.data(), row);
    dequantize_row(type, bytes.data(), out.data() + r * row, row);
  }
  return out;
}

// Upper bounds on relative RMS error against the F32 originals. Measured: q8_0 0.004,
// q4_K 0.071, q6_K 0.018, f16 0.0002; a misplaced scale or nibble gives 0.3 or more.
double max_rel_rms(DType type) {
  switch (type) {
    case DType::kF16:
      return 1e-3;
    case DType::kQ8_0:
      return 0.01;
    case DType::kQ4_K:
      return 0.1;
    case DType::kQ6_K:
      return 0.03;
    default:
      return 0.0;
  }
}

struct FilePair {
  const char* quantised;
  const char* original;
};

class QuantGguf : public ::testing::TestWithParam<FilePair> {
 protected:
  void SetUp() override {
    const std::string q_path = kGolden + GetParam().quantised;
    const std::string f_path = kGolden + GetParam().original;
    if (!std::filesystem::exists(q_path) || !std::filesystem::exists(f_path))
      GTEST_SKIP() << "golden files not found under " << kGolden;
    auto q = GgufFile::open(q_path);
    ASSERT_TRUE(q.ok()) << q.error().message;
    auto f = GgufFile::open(f_path);
    ASSERT_TRUE(f.ok()) << f.error().message;
    quantised_ = std::move(q).value();
    original_ = std::move(f).value();
  }
  std::unique_ptr<GgufFile> quantised_;
  std::unique_ptr<GgufFile> original_;
};

TEST_P(QuantGguf, DecodesCloseToOriginals) {
  int seen = 0;
  for (const GgufTensorInfo& t : quantised_->tensors()) {
    if (t.type == DType::kF32) continue;
    ASSERT_GT(max_rel_rms(t.type), 0.0) << t.name << " has unexpected type " << dtype_name(t.type);
    const GgufTensorInfo* ref = original_->find_tensor(t.name);
    ASSERT_NE(ref, nullptr) << t.name;
    ASSERT_EQ(ref->type, DType::kF32) << t.name;
    ASSERT_EQ(ref->shape, t.shape) << t.name;
    ASSERT_EQ(t.num_bytes, row_bytes(t.type, t.shape[0]) * (t.num_elements / t.shape[0])) << t.name;
    const double e = rel_rms(decode_tensor(t), decode_tensor(*ref));
    std::printf("  %-26s %-4s relative RMS vs f32: %.4f\n", t.name.c_str(),
                dtype_name(t.type).data(), e);
    EXPECT_LT(e, max_rel_rms(t.type)) << t.name;
    ++seen;
  }
  EXPECT_GT(seen, 0);
}

// wafer's encoders on the F32 originals, against llama-quantize's result for the same
// tensor and type: within 5% of its error (no importance matrix on either side). The first
// 64K elements of each tensor are enough to tell and keep Debug builds quick.
TEST_P(QuantGguf, OwnEncodersMatchLlamaQuantizeQuality) {
  constexpr size_t kMaxElements = 64 * 1024;
  for (const GgufTensorInfo& t : quantised_->tensors()) {
    if (t.type == DType::kF32) continue;
    const size_t n = std::min<size_t>(t.num_elements, kMaxElements) / t.shape[0] * t.shape[0];
    std::vector<float> want = decode_tensor(*original_->find_tensor(t.name));
    std::vector<float> theirs_full = decode_tensor(t);
    want.resize(n);
    theirs_full.resize(n);
    const double theirs = rel_rms(theirs_full, want);
    const double ours = rel_rms(encode_decode(t.type, want, t.shape[0]), want);
    std::printf("  %-26s %-4s wafer %.4f llama-quantize %.4f\n", t.name.c_str(),
                dtype_name(t.type).data(), ours, theirs);
    EXPECT_LE(ours, 1.05 * theirs) << t.name;
  }
}

// Q8_0 and F16 leave no freedom to an encoder beyond rounding (scale = max|x| / 127, round
// to nearest), so wafer must reproduce llama-quantize's bytes.
TEST_P(QuantGguf, Q8_0AndF16BytesMatchLlamaQuantize) {
  int seen = 0;
  for (const GgufTensorInfo& t : quantised_->tensors()) {
    if (t.type != DType::kQ8_0 && t.type != DType::kF16) continue;
    ++seen;
    const std::vector<float> x = decode_tensor(*original_->find_tensor(t.name));
    std::vector<uint8_t> ours(t.num_bytes);
    const size_t row = t.shape[0], stride = row_bytes(t.type, row);
    for (size_t r = 0; r < x.size() / row; ++r)
      quantize_row(t.type, x.data() + r * row, ours.data() + r * stride, row);
    size_t differing = 0;
    for (size_t i = 0; i < t.num_bytes; ++i) differing += ours[i] != t.data[i];
    EXPECT_EQ(differing, 0u) << t.name << " of " << t.num_bytes << " bytes";
  }
  if (seen == 0) GTEST_SKIP() << "no q8_0 or f16 tensors in " << GetParam().quantised;
}

INSTANTIATE_TEST_SUITE_P(
    Golden, QuantGguf,
    ::testing::Values(FilePair{"tiny-qwen2-q4_k_m.gguf", "tiny-qwen2-f32.gguf"},
                      FilePair{"tiny-qwen3-q4_k_m.gguf", "tiny-qwen3-f32.gguf"},
                      FilePair{"tiny-qwen2-q8_0.gguf", "tiny-qwen2-f32.gguf"},
                      FilePair{"tiny-llama-q8_0.gguf", "tiny-llama-f32.gguf"},
                      FilePair{"tiny-qwen2-f16.gguf", "tiny-qwen2-f32.gguf"}));

}  // namespace
}  // namespace wafer
