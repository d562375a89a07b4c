// Shared by the kernel tests: random and adversarial weight matrices of every type, the
// kernel levels this machine runs, and error measures relative to sum |w * x|.
#pragma once

#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "base/half.h"
#include "kernels/dispatch.h"
#include "quant/quant.h"

namespace wafer::kernels::test {

inline const DType kAllTypes[] = {DType::kF32, DType::kF16, DType::kBF16, DType::kQ8_0, DType::kQ4_0,
                                  DType::kQ5_0, DType::kQ4_K, DType::kQ5_K, DType::kQ6_K};
inline const Isa kOptimisedLevels[] = {Isa::kAvx2, Isa::kAvx512, Isa::kAmx};

inline std::string isa_name(Isa isa) {
  switch (isa) {
    case Isa::kReference: return "reference";
    case Isa::kAvx2: return "avx2";
    case Isa::kAvx512: return "avx512";
    case Isa::kAmx: return "amx";
  }
  return "?";
}

inline size_t block_elems(DType t) { return traits(t).block_elems; }

inline std::vector<float> gaussian(size_t n, std::mt19937& rng, float sigma = 1.0f) {
  std::normal_distribution<float> dist(0.0f, sigma);
  std::vector<float> x(n);
  for (float& v : x) v = dist(rng);
  return x;
}

// A weight matrix owned by the test, placed `offset` bytes into its buffer (odd offsets
// test unaligned rows), with its dequantised values for the reference.
struct TestMatrix {
  std::vector<uint8_t> buffer;
  size_t offset = 0;
  WeightView view;
  std::vector<float> values;  // [rows][cols], exactly what the format decodes to
};

// Overwrites the f16 scale fields of a random block with a moderate value so random bytes
// stay finite.
inline void tame_scales(DType type, uint8_t* block, std::mt19937& rng) {
  std::uniform_real_distribution<float> u(0.001f, 0.05f);
  auto put = [&](size_t at) {
    const uint16_t h = f32_to_f16(u(rng));
    std::memcpy(block + at, &h, 2);
  };
  switch (type) {
    case DType::kQ8_0: case DType::kQ4_0: case DType::kQ5_0: put(0); break;
    case DType::kQ4_K: case DType::kQ5_K: put(0); put(2); break;
    case DType::kQ6_K: put(208); break;
    default: break;
  }
}

// Quantised from gaussian rows, or (raw_bytes) every quant bit random, scales tamed.
inline TestMatrix make_matrix(DType type, size_t rows, size_t cols, std::mt19937& rng,
                              size_t offset = 0, bool raw_bytes = false) {
  TestMatrix m;
  const size_t rb = row_bytes(type, cols);
  m.buffer.assign(offset + rows * rb + 64, 0);
  m.offset = offset;
  uint8_t* data = m.buffer.data() + offset;
  const size_t be = block_elems(type), bb = traits(type).block_bytes;
  for (size_t r = 0; r < rows; ++r) {
    uint8_t* row = data + r * rb;
    if (raw_bytes && be > 1) {
      std::uniform_int_distribution<int> byte(0, 255);
      for (size_t i = 0; i < rb; ++i) row[i] = static_cast<uint8_t>(byte(rng));
      for (size_t b = 0; b < cols / be; ++b) tame_scales(type, row + b * bb, rng);
    } else {
      const std::vector<float> src = gaussian(cols, rng);
      quantize_row(type, src.data(), row, cols);
    }
  }
  m.view = WeightView{type, rows, cols, data};
  m.values.resize(rows * cols);
  for (size_t r = 0; r < rows; ++r) dequantize_row(type, data + r * rb, &m.values[r * cols], cols);
  return m;
}

// Largest |got - want| / (sum |w * x| + tiny) over all outputs, given the reference's x.
inline double max_relative_error(const TestMatrix& m, const std::vector<float>& x_ref,
                                 size_t num_tokens, const std::vector<float>& got,
                                 const std::vector<float>& want) {
  const size_t rows = m.view.rows, cols = m.view.cols;
  double worst = 0.0;
  for (size_t t = 0; t < num_tokens; ++t) {
    for (size_t r = 0; r < rows; ++r) {
      double mag = 0.0;
      for (size_t c = 0; c < cols; ++c)
        mag += std::abs(static_cast<double>(m.values[r * cols + c]) * x_ref[t * cols + c]);
      const double err = std::abs(static_cast<double>(got[t * rows + r]) - want[t * rows + r]);
      worst = std::max(worst, err / (mag + 1e-30));
    }
  }
  return worst;
}

}  // namespace wafer::kernels::test
