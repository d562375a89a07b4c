// Every optimised level's matmul against the scalar reference, for every weight type. The
// spec of each path is the reference applied to exactly what that path computes with:
// matrix-vector kernels see int8-quantised activations (their dequantised values are the
// reference's input), the prefill panels (AMX tiles, AVX-512 BF16) see bf16 parts of both
// operands, the exact f32 panels (AVX2, F32/F16 on AVX-512) the activations as they are.
// So the tolerance is only
// f32 accumulation error: 1e-5 of sum |w * x| per output.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "kernel_test_util.h"
#include "kernels/amx_gemm.h"
#include "kernels/reference/act_quant_ref.h"
#include "kernels/repack.h"

namespace wafer::kernels::test {
namespace {

constexpr double kTolerance = 1e-5;

// The bf16 panel product (AMX tiles or AVX-512 BF16) with the parts panel_parts names; F32
// (and F16 if asked) take the exact f32 panels instead where the level has them, whose spec
// is the plain reference.
bool uses_bf16_panels(const KernelTable& k, size_t num_tokens, DType type, F16Panels f16) {
  if (k.gemm == nullptr || num_tokens < kAmxMinTokens) return false;
  return !panel_parts(k, type, f16).exact_f32;
}

// What the matrix-vector path's activations stand for after int8 quantisation.
std::vector<float> effective_activations(DType type, const float* x, size_t num_tokens, size_t cols) {
  std::vector<float> out(x, x + num_tokens * cols);
  const ActFormat f = act_format(type);
  if (f == ActFormat::kFloat) return out;
  std::vector<int8_t> qs(cols);
  std::vector<float> scales(cols);
  std::vector<int32_t> sums(cols);
  std::vector<int16_t> groups(cols);
  for (size_t t = 0; t < num_tokens; ++t) {
    const float* xt = x + t * cols;
    if (f == ActFormat::kQ8Block32) {
      wafer::reference::quantize_q8_block32(xt, cols, qs.data(), scales.data(), sums.data());
      wafer::reference::dequantize_q8_block32(qs.data(), scales.data(), cols, &out[t * cols]);
    } else {
      wafer::reference::quantize_q8_block256(xt, cols, qs.data(), scales.data(), groups.data());
      wafer::reference::dequantize_q8_block256(qs.data(), scales.data(), cols, &out[t * cols]);
    }
  }
  return out;
}

float bf16_round(float v) { return bf16_to_f32(f32_to_bf16(v)); }

// The bf16 panels' products: the hi parts of weights and activations, and the lo parts
// (the rest, rounded to bf16) that `parts` names.
std::vector<float> bf16_panel_spec(const TestMatrix& m, const float* x, size_t num_tokens, PanelParts parts) {
  const size_t rows = m.view.rows, cols = m.view.cols;
  const bool float_w = parts.activation_lo;
  const bool w_lo = parts.weight_lo;
  std::vector<float> y(num_tokens * rows);
  for (size_t t = 0; t < num_tokens; ++t) {
    for (size_t r = 0; r < rows; ++r) {
      double acc = 0.0;
      for (size_t c = 0; c < cols; ++c) {
        const float w = m.values[r * cols + c], xv = x[t * cols + c];
        const float wh = bf16_round(w), xh = bf16_round(xv);
        const float wl = w_lo ? bf16_round(w - wh) : 0.0f;
        const float xl = float_w ? bf16_round(xv - xh) : 0.0f;
        acc += static_cast<double>(wh) * xh + static_cast<double>(wh) * xl + static_cast<double>(wl) * xh;
      }
      y[t * rows + r] = static_cast<float>(acc);
    }
  }
  return y;
}

// Runs one shape on one level and returns the worst relative error against its spec.
double run_case(const KernelTable& k, const TestMatrix& m, const std::vector<float>& x_buffer,
                size_t x_offset, size_t num_tokens, ThreadPool& pool, F16Panels f16 = F16Panels::kBf16) {
  const size_t rows = m.view.rows, cols = m.view.cols;
  const float* x = x_buffer.data() + x_offset;
  std::vector<float> got(num_tokens * rows, -12345.0f);
  matmul_with(k, m.view, x, num_tokens, got.data(), pool, MatmulKernel::kAuto, f16);
  if (uses_bf16_panels(k, num_tokens, m.view.type, f16)) {
    const std::vector<float> x_ref(x, x + num_tokens * cols);
    const PanelParts parts = panel_parts(k, m.view.type, f16);
    return max_relative_error(m, x_ref, num_tokens, got, bf16_panel_spec(m, x, num_tokens, parts));
  }
  // The exact f32 panels read the activations as they are.
  const bool f32_panels =
      k.gemm != nullptr && num_tokens >= kAmxMinTokens && panel_parts(k, m.view.type, f16).exact_f32;
  const std::vector<float> x_ref = f32_panels ? std::vector<float>(x, x + num_tokens * cols)
                                              : effective_activations(m.view.type, x, num_tokens, cols);
  std::vector<float> want(num_tokens * rows);
  wafer::reference::matmul(m.view, x_ref.data(), num_tokens, want.data(), pool);
  return max_relative_error(m, x_ref, num_tokens, got, want);
}

std::vector<size_t> cols_for(DType type) {
  switch (block_elems(type)) {
    case 1: return {1, 5, 15, 16, 17, 31, 32, 33, 47, 48, 63, 64, 65, 100, 257};
    case 32: return {32, 64, 96, 128, 160, 192, 224};
    default: return {256, 512, 768};
  }
}

class MatmulTest : public ::testing::TestWithParam<std::tuple<Isa, DType>> {
 protected:
  const KernelTable* table() const { return kernel_table_for(std::get<0>(GetParam())); }
  DType type() const { return std::get<1>(GetParam()); }
};

TEST_P(MatmulTest, MatchesReferenceOverShapes) {
  const KernelTable* k = table();
  if (k == nullptr) GTEST_SKIP() << "this CPU lacks " << isa_name(std::get<0>(GetParam()));
  std::mt19937 rng(1234);
  ThreadPool pool(2);
  const size_t tokens[] = {1, 2, 3, 4, 5, 7, 8, 9, 12, 16, 17, 32, 33, 70};
  for (size_t cols : cols_for(type())) {
    for (size_t rows : {1, 2, 7, 33}) {
      const size_t w_offset = (rows + cols) % 2 == 0 ? 0 : 3;
      const TestMatrix m = make_matrix(type(), rows, cols, rng, w_offset);
      for (size_t t : tokens) {
        const size_t x_offset = t % 2;
        const std::vector<float> x = gaussian(t * cols + x_offset, rng);
        const double err = run_case(*k, m, x, x_offset, t, pool);
        ASSERT_LE(err, kTolerance) << "rows " << rows << " cols " << cols << " tokens " << t;
        if (type() != DType::kF16) continue;
        const double exact = run_case(*k, m, x, x_offset, t, pool, F16Panels::kExact);
        ASSERT_LE(exact, kTolerance) << "exact f32 panels: rows " << rows << " cols " << cols << " tokens " << t;
      }
    }
  }
}

TEST_P(MatmulTest, RandomBitsAndAdversarialActivations) {
  const KernelTable* k = table();
  if (k == nullptr) GTEST_SKIP() << "this CPU lacks " << isa_name(std::get<0>(GetParam()));
  std::mt19937 rng(99);
  ThreadPool pool(2);
  const size_t cols = block_elems(type()) == 1 ? 96 : 2 * block_elems(type()) * (block_elems(type()) == 32 ? 3 : 1);
  const TestMatrix m = make_matrix(type(), 19, cols, rng, 1, /*raw_bytes=*/true);
  for (size_t t : {1, 3, 8, 11, 40}) {
    for (int pattern = 0; pattern < 5; ++pattern) {
      std::vector<float> x = gaussian(t * cols, rng);
      for (size_t i = 0; i < x.size(); ++i) {
        if (pattern == 0) x[i] = 0.0f;
        if (pattern == 1) x[i] = 1.5f;
        if (pattern == 2) x[i] *= 1e6f;
        if (pattern == 3) x[i] = (i % 37 == 5) ? 3e4f : x[i] * 1e-3f;
        if (pattern == 4) x[i] = (i % 2 == 0) ? 127.0f : -127.0f;
      }
      const double err = run_case(*k, m, x, 0, t, pool);
      ASSERT_LE(err, kTolerance) << "pattern " << pattern << " tokens " << t;
    }
  }
}

// Prefill-sized: several row panels and row blocks, and k long enough to be taken in more
// than one packed k range (later ranges accumulate into y).
TEST_P(MatmulTest, PrefillShapeSpansPanelsAndKRanges) {
  const KernelTable* k = table();
  if (k == nullptr) GTEST_SKIP() << "this CPU lacks " << isa_name(std::get<0>(GetParam()));
  std::mt19937 rng(31);
  ThreadPool pool(2);
  const size_t cols = block_elems(type()) == 1 ? 1100 : (block_elems(type()) == 32 ? 1056 : 1280);
  const TestMatrix m = make_matrix(type(), 161, cols, rng);
  for (size_t t : {33, 45}) {
    const std::vector<float> x = gaussian(t * cols, rng);
    EXPECT_LE(run_case(*k, m, x, 0, t, pool), kTolerance) << "tokens " << t;
  }
}

TEST_P(MatmulTest, OneThreadAndEmptyShapes) {
  const KernelTable* k = table();
  if (k == nullptr) GTEST_SKIP() << "this CPU lacks " << isa_name(std::get<0>(GetParam()));
  std::mt19937 rng(7);
  ThreadPool one(1);
  const size_t cols = 2 * block_elems(type()) + (block_elems(type()) == 1 ? 3 : 0);
  const TestMatrix m = make_matrix(type(), 45, cols, rng);
  for (size_t t : {1, 6, 35}) {
    const std::vector<float> x = gaussian(t * cols, rng);
    EXPECT_LE(run_case(*k, m, x, 0, t, one), kTolerance) << "tokens " << t;
  }
  std::vector<float> y(4, 7.0f);
  matmul_with(*k, m.view, nullptr, 0, y.data(), one);  // no tokens: nothing written
  EXPECT_EQ(y[0], 7.0f);
  const WeightView empty{type(), 0, cols, m.view.data};
  matmul_with(*k, empty, y.data(), 1, y.data(), one);
  EXPECT_EQ(y[0], 7.0f);
}

INSTANTIATE_TEST_SUITE_P(
    Levels, MatmulTest,
    ::testing::Combine(::testing::ValuesIn(kOptimisedLevels), ::testing::ValuesIn(kAllTypes)),
    [](const auto& info) {
      return isa_name(std::get<0>(info.param)) + "_" + std::string(dtype_name(std::get<1>(info.param)));
    });

// Q8_0 repacked into 16-row groups (WeightLayout::kQ8_0Rows16) on the levels that read it.
class Rows16Test : public ::testing::TestWithParam<Isa> {
 protected:
  const KernelTable* table() const { return kernel_table_for(GetParam()); }
};

// A TestMatrix moved to kQ8_0Rows16, its values unchanged.
TestMatrix repacked(const KernelTable& k, const TestMatrix& m, WeightStorage* storage) {
  TestMatrix p = m;
  EXPECT_TRUE(repack_weights_for(k, &p.view, storage));
  EXPECT_EQ(p.view.layout, WeightLayout::kQ8_0Rows16);
  return p;
}

// A matrix `p` repacked from `m` reads back exactly: the reference gives the same result to
// the bit, rows decode to what the file's bytes decode to, and unpacking each row gives the
// file's bytes back.
void expect_same_reads(const KernelTable& k, const TestMatrix& m, const TestMatrix& p, std::mt19937& rng,
                       ThreadPool& pool) {
  const size_t rows = m.view.rows, cols = m.view.cols;
  const DType type = m.view.type;
  const std::vector<float> x = gaussian(3 * cols, rng);
  std::vector<float> a(3 * rows), b(3 * rows);
  wafer::reference::matmul(m.view, x.data(), 3, a.data(), pool);
  wafer::reference::matmul(p.view, x.data(), 3, b.data(), pool);
  ASSERT_EQ(a, b) << "rows " << rows << " cols " << cols;
  std::vector<float> want(cols), got(cols);
  for (size_t r = 0; r < rows; r += 7) {
    get_row_with(k, m.view, r, want.data());
    get_row_with(k, p.view, r, got.data());
    ASSERT_EQ(want, got) << "row " << r;
  }
  const Matrix pm{type, rows, cols, row_bytes(type, cols), p.view.data, p.view.layout};
  std::vector<uint8_t> row(row_bytes(type, cols));
  for (size_t r = 0; r < rows; ++r) {
    unpack_rows16(pm, r, 0, cols / traits(type).block_elems, row.data());
    ASSERT_TRUE(std::equal(row.begin(), row.end(), m.view.data + r * row.size())) << "row " << r;
  }
}

TEST_P(Rows16Test, MatchesReferenceAndTheFileLayout) {
  const KernelTable* k = table();
  if (k == nullptr) GTEST_SKIP() << "this CPU lacks " << isa_name(GetParam());
  if (k->matvec_q8_0_rows16 == nullptr) GTEST_SKIP() << isa_name(GetParam()) << " keeps the file layout";
  std::mt19937 rng(77);
  ThreadPool pool(2);
  for (size_t cols : {32, 96, 896}) {
    for (size_t rows : {16, 48, 160}) {
      for (bool raw : {false, true}) {
        const TestMatrix m = make_matrix(DType::kQ8_0, rows, cols, rng, rows % 32 == 0 ? 0 : 5, raw);
        WeightStorage storage;
        const TestMatrix p = repacked(*k, m, &storage);
        for (size_t t : {1, 2, 3, 8, 9, 13, 17, 33, 45}) {
          const std::vector<float> x = gaussian(t * cols, rng);
          ASSERT_LE(run_case(*k, p, x, 0, t, pool), kTolerance)
              << "rows " << rows << " cols " << cols << " tokens " << t << " raw " << raw;
          // The panel products (33 and 45 tokens) read the repacked rows back exactly.
          if (t >= kAmxMinTokens) {
            std::vector<float> a(t * rows), b(t * rows);
            matmul_with(*k, m.view, x.data(), t, a.data(), pool);
            matmul_with(*k, p.view, x.data(), t, b.data(), pool);
            ASSERT_EQ(a, b) << "rows " << rows << " cols " << cols << " tokens " << t;
          }
        }
        expect_same_reads(*k, m, p, rng, pool);
      }
    }
  }
}

// A token's result is bit for bit the same whatever else is in the call: what batched
// decoding and speculative verification rest on.
TEST_P(Rows16Test, TokensOfABatchEqualLoneTokens) {
  const KernelTable* k = table();
  if (k == nullptr) GTEST_SKIP() << "this CPU lacks " << isa_name(GetParam());
  if (k->matvec_q8_0_rows16 == nullptr) GTEST_SKIP() << isa_name(GetParam()) << " keeps the file layout";
  std::mt19937 rng(5);
  ThreadPool pool(2);
  const size_t rows = 64, cols = 224;
  WeightStorage storage;
  const TestMatrix p = repacked(*k, make_matrix(DType::kQ8_0, rows, cols, rng), &storage);
  for (size_t t : {2, 5, 8, 9, 16, 20, 40}) {
    const std::vector<float> x = gaussian(t * cols, rng);
    std::vector<float> all(t * rows), one(rows);
    matmul_with(*k, p.view, x.data(), t, all.data(), pool, MatmulKernel::kPerToken);
    for (size_t i = 0; i < t; ++i) {
      matmul_with(*k, p.view, x.data() + i * cols, 1, one.data(), pool, MatmulKernel::kPerToken);
      ASSERT_TRUE(std::equal(one.begin(), one.end(), all.begin() + i * rows)) << "token " << i << " of " << t;
    }
  }
}

TEST_P(Rows16Test, OtherShapesAndTypesKeepTheFileLayoutInTheirOwnCopy) {
  const KernelTable* k = table();
  if (k == nullptr) GTEST_SKIP() << "this CPU lacks " << isa_name(GetParam());
  std::mt19937 rng(3);
  WeightStorage storage;
  const bool reads = k->matvec_q8_0_rows16 != nullptr;
  for (auto [type, rows] : {std::pair{DType::kQ8_0, size_t{24}}, std::pair{DType::kQ4_0, size_t{32}},
                            std::pair{DType::kQ5_K, size_t{32}}, std::pair{DType::kQ8_0, size_t{32}}}) {
    TestMatrix m = make_matrix(type, rows, block_elems(type) * 2, rng);
    const WeightView before = m.view;
    const bool grouped = reads && type == DType::kQ8_0 && rows % 16 == 0;
    ASSERT_TRUE(repack_weights_for(*k, &m.view, &storage)) << dtype_name(type) << " rows " << rows;
    EXPECT_NE(m.view.data, before.data);
    EXPECT_EQ(m.view.layout == WeightLayout::kRows, !grouped) << dtype_name(type) << " rows " << rows;
    if (!grouped) {  // the same bytes, moved into the storage
      const size_t bytes = rows * row_bytes(type, before.cols);
      EXPECT_EQ(m.view.data, storage.data());
      EXPECT_EQ(std::memcmp(m.view.data, before.data, bytes), 0) << dtype_name(type);
    }
  }
  // Already in its grouped layout: left alone.
  TestMatrix m = make_matrix(DType::kQ8_0, 16, 64, rng);
  ASSERT_TRUE(repack_weights_for(*k, &m.view, &storage));
  if (m.view.layout != WeightLayout::kRows) {
    WeightStorage again;
    const uint8_t* at = m.view.data;
    EXPECT_FALSE(repack_weights_for(*k, &m.view, &again));
    EXPECT_EQ(m.view.data, at);
  }
  // The reference level reads every matrix where it is.
  TestMatrix f = make_matrix(DType::kQ8_0, 16, 64, rng);
  const uint8_t* in_place = f.view.data;
  EXPECT_FALSE(repack_weights_for(*kernel_table_for(Isa::kReference), &f.view, &storage));
  EXPECT_EQ(f.view.data, in_place);
}

INSTANTIATE_TEST_SUITE_P(Levels, Rows16Test, ::testing::ValuesIn(kOptimisedLevels),
                         [](const auto& info) { return isa_name(info.param); });

// Q4_K, Q6_K and Q5_0 repacked into 16-row groups (kQ4_KRows16, kQ6_KRows16, kQ5_0Rows16):
// the same checks as Q8_0's above, and each token of a call equals the same token alone.
void check_rows16(const KernelTable* k, DType type, WeightLayout layout, std::initializer_list<size_t> col_counts) {
  std::mt19937 rng(91);
  ThreadPool pool(2);
  for (size_t cols : col_counts) {
    for (size_t rows : {16, 48, 160}) {
      for (bool raw : {false, true}) {
        const TestMatrix m = make_matrix(type, rows, cols, rng, rows % 32 == 0 ? 0 : 3, raw);
        WeightStorage storage;
        TestMatrix p = m;
        ASSERT_TRUE(repack_weights_for(*k, &p.view, &storage));
        ASSERT_EQ(p.view.layout, layout);
        for (size_t t : {1, 2, 3, 8, 9, 13, 33}) {
          const std::vector<float> x = gaussian(t * cols, rng);
          ASSERT_LE(run_case(*k, p, x, 0, t, pool), kTolerance)
              << "rows " << rows << " cols " << cols << " tokens " << t << " raw " << raw;
          // The panel products (33 tokens) read the repacked rows back exactly; and a token's
          // result does not depend on the others of the call.
          std::vector<float> a(t * rows), b(t * rows), one(rows);
          if (t >= kAmxMinTokens) {
            matmul_with(*k, m.view, x.data(), t, a.data(), pool);
            matmul_with(*k, p.view, x.data(), t, b.data(), pool);
            ASSERT_EQ(a, b) << "rows " << rows << " cols " << cols << " tokens " << t;
          }
          matmul_with(*k, p.view, x.data(), t, b.data(), pool, MatmulKernel::kPerToken);
          for (size_t i = 0; i < t; ++i) {
            matmul_with(*k, p.view, x.data() + i * cols, 1, one.data(), pool, MatmulKernel::kPerToken);
            ASSERT_TRUE(std::equal(one.begin(), one.end(), b.begin() + i * rows)) << "token " << i << " of " << t;
          }
        }
        expect_same_reads(*k, m, p, rng, pool);
      }
    }
  }
}

TEST_P(Rows16Test, Q4kMatchesReferenceAndTheFileLayout) {
  const KernelTable* k = table();
  if (k == nullptr) GTEST_SKIP() << "this CPU lacks " << isa_name(GetParam());
  if (k->matvec_q4_k_rows16 == nullptr) GTEST_SKIP() << isa_name(GetParam()) << " keeps Q4_K in the file layout";
  check_rows16(k, DType::kQ4_K, WeightLayout::kQ4_KRows16, {256, 768, 1536});
}

TEST_P(Rows16Test, Q6kMatchesReferenceAndTheFileLayout) {
  const KernelTable* k = table();
  if (k == nullptr) GTEST_SKIP() << "this CPU lacks " << isa_name(GetParam());
  if (k->matvec_q6_k_rows16 == nullptr) GTEST_SKIP() << isa_name(GetParam()) << " keeps Q6_K in the file layout";
  check_rows16(k, DType::kQ6_K, WeightLayout::kQ6_KRows16, {256, 768, 1536});
}

TEST_P(Rows16Test, Q5_0MatchesReferenceAndTheFileLayout) {
  const KernelTable* k = table();
  if (k == nullptr) GTEST_SKIP() << "this CPU lacks " << isa_name(GetParam());
  if (k->matvec_q5_0_rows16 == nullptr) GTEST_SKIP() << isa_name(GetParam()) << " keeps Q5_0 in the file layout";
  check_rows16(k, DType::kQ5_0, WeightLayout::kQ5_0Rows16, {32, 96, 896});
}

// matmul_shared gives each target exactly what its own matmul gives: mixed weight types
// (so several activation formats), repacked and file layouts, decode and prefill token counts,
// the per-token kernels, and on the reference level too.
class MatmulSharedTest : public ::testing::TestWithParam<Isa> {};

TEST_P(MatmulSharedTest, EachTargetEqualsItsOwnMatmul) {
  const KernelTable* k = kernel_table_for(GetParam());
  if (k == nullptr) GTEST_SKIP() << "this CPU lacks " << isa_name(GetParam());
  std::mt19937 rng(11);
  ThreadPool pool(2);
  const size_t cols = 512;
  const std::vector<std::vector<std::pair<DType, size_t>>> groups = {
      {{DType::kQ8_0, 96}, {DType::kQ8_0, 32}, {DType::kQ8_0, 32}},    // Q, K, V of one type
      {{DType::kQ5_0, 64}, {DType::kQ6_K, 48}, {DType::kQ8_0, 160}},   // three formats
      {{DType::kF16, 40}, {DType::kQ4_K, 256}},                         // float and 256-blocks
      {{DType::kQ4_0, 16}},                                             // a single target
  };
  for (const auto& group : groups) {
    std::vector<TestMatrix> matrices;
    std::vector<WeightStorage> storage(group.size());
    for (size_t i = 0; i < group.size(); ++i) {
      matrices.push_back(make_matrix(group[i].first, group[i].second, cols, rng));
      repack_weights_for(*k, &matrices.back().view, &storage[i]);  // where the level reads it
    }
    for (MatmulKernel kernel : {MatmulKernel::kAuto, MatmulKernel::kPerToken}) {
      for (size_t t : {1, 3, 8, 40}) {
        const std::vector<float> x = gaussian(t * cols, rng);
        std::vector<std::vector<float>> shared(group.size()), alone(group.size());
        std::vector<MatmulTarget> targets;
        for (size_t i = 0; i < group.size(); ++i) {
          shared[i].assign(t * group[i].second, -1.0f);
          alone[i].assign(t * group[i].second, -2.0f);
          targets.push_back({&matrices[i].view, shared[i].data()});
          matmul_with(*k, matrices[i].view, x.data(), t, alone[i].data(), pool, kernel);
        }
        matmul_shared_with(*k, targets, x.data(), t, pool, kernel);
        for (size_t i = 0; i < group.size(); ++i)
          ASSERT_EQ(shared[i], alone[i]) << dtype_name(group[i].first) << " target " << i << " tokens " << t
                                         << (kernel == MatmulKernel::kAuto ? " auto" : " per-token");
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Levels, MatmulSharedTest,
                         ::testing::Values(Isa::kReference, Isa::kAvx2, Isa::kAvx512, Isa::kAmx),
                         [](const auto& info) { return isa_name(info.param); });

}  // namespace
}  // namespace wafer::kernels::test
