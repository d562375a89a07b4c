// Row decoding (embedding lookups, and the k ranges prefill packs) on every level against
// the reference decoders, bit for bit: whole rows and every block-aligned sub-range, at odd
// row addresses, for every type.
#include <gtest/gtest.h>

#include "kernel_test_util.h"

namespace wafer::kernels::test {
namespace {

class GetRowTest : public ::testing::TestWithParam<std::tuple<Isa, DType>> {};

TEST_P(GetRowTest, MatchesReferenceDecoder) {
  const KernelTable* k = kernel_table_for(std::get<0>(GetParam()));
  if (k == nullptr) GTEST_SKIP() << "this CPU lacks " << isa_name(std::get<0>(GetParam()));
  const DType type = std::get<1>(GetParam());
  const size_t be = block_elems(type), step = be == 1 ? 16 : be;
  std::mt19937 rng(11);
  for (size_t cols : {be == 1 ? size_t{37} : be, 3 * step, 8 * step + (be == 1 ? 5 : 0)}) {
    for (bool raw : {false, true}) {
      const TestMatrix m = make_matrix(type, 5, cols, rng, 1, raw);
      for (size_t r = 0; r < 5; ++r) {
        std::vector<float> got(cols, -1.0f);
        get_row_with(*k, m.view, r, got.data());
        for (size_t c = 0; c < cols; ++c)
          ASSERT_EQ(f32_to_bits(got[c]), f32_to_bits(m.values[r * cols + c])) << "row " << r << " col " << c;
        // Block-aligned sub-ranges, as prefill packing asks for them.
        const Matrix mx{type, 5, cols, row_bytes(type, cols), m.view.data};
        for (size_t begin = 0; begin < cols; begin += step) {
          const size_t n = std::min(cols - begin, 2 * step);
          if (be > 1 && n % be != 0) continue;
          std::vector<float> part(n);
          k->dequantize(mx, r, begin, n, part.data());
          for (size_t c = 0; c < n; ++c)
            ASSERT_EQ(f32_to_bits(part[c]), f32_to_bits(m.values[r * cols + begin + c])) << begin + c;
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Levels, GetRowTest,
    ::testing::Combine(::testing::ValuesIn(kOptimisedLevels), ::testing::ValuesIn(kAllTypes)),
    [](const auto& info) {
      return isa_name(std::get<0>(info.param)) + "_" + std::string(dtype_name(std::get<1>(info.param)));
    });

}  // namespace
}  // namespace wafer::kernels::test
