// Moving matrices between the file's layout and the 16-row layouts of repack.h.
#include "kernels/repack.h"

#include <cstring>

namespace wafer::kernels {
namespace {

constexpr size_t kBlockBytes = 34;  // f16 scale + 32 int8
constexpr size_t kGroupBlockQuants = 512;
constexpr size_t kGroupBlockScales = 32;

}  // namespace

void pack_q8_0_rows16(const Matrix& w, size_t row_begin, size_t row_end, uint8_t* out) {
  const size_t nb = w.cols / 32;
  uint8_t* scales = out + w.rows / kRows16Group * nb * kGroupBlockQuants;
  for (size_t r = row_begin; r < row_end; ++r) {
    const size_t g = r / kRows16Group, lane = r % kRows16Group;
    const uint8_t* src = w.data + r * w.row_bytes;
    for (size_t b = 0; b < nb; ++b, src += kBlockBytes) {
      const size_t gb = g * nb + b;
      std::memcpy(scales + gb * kGroupBlockScales + 2 * lane, src, 2);
      uint8_t* q = out + gb * kGroupBlockQuants + 4 * lane;
      for (size_t j = 0; j < 8; ++j) {
        uint32_t v;
        std::memcpy(&v, src + 2 + 4 * j, 4);
        v ^= 0x80808080u;
        std::memcpy(q + 64 * j, &v, 4);
      }
    }
  }
}

void unpack_q8_0_rows16(const Matrix& w, size_t row, size_t block_begin, size_t num_blocks, uint8_t* out) {
  const size_t nb = w.cols / 32;
  const size_t g = row / kRows16Group, lane = row % kRows16Group;
  const uint8_t* scales = w.data + w.rows / kRows16Group * nb * kGroupBlockQuants;
  for (size_t b = block_begin; b < block_begin + num_blocks; ++b, out += kBlockBytes) {
    const size_t gb = g * nb + b;
    std::memcpy(out, scales + gb * kGroupBlockScales + 2 * lane, 2);
    const uint8_t* q = w.data + gb * kGroupBlockQuants + 4 * lane;
    for (size_t j = 0; j < 8; ++j) {  // four bytes at a time, each q + 128 back to q
      uint32_t v;
      std::memcpy(&v, q + 64 * j, 4);
      v ^= 0x80808080u;
      std::memcpy(out + 2 + 4 * j, &v, 4);
    }
  }
}

namespace {

constexpr size_t kQ4kBlockBytes = 144;  // d, dmin, 12 scale bytes, 128 nibble bytes
constexpr size_t kQ4kGroupBlock = 16 * kQ4kBlockBytes;
constexpr size_t kQ4kQuants = 256;      // offset of the nibbles in a group's super-block

inline uint32_t load32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// The file's nibble bytes pair weight i with a partner further on (i + 32 in a Q4_K chunk,
// i + 16 in a Q5_0 block); the 16-row lines pair weight i with i + 4. Four file bytes at
// i (lo4) and four at i + 4 (hi4) hold the same 16 nibbles as the line word of the first
// weights (first) and that of their partners (second).
inline void file_to_lines(uint32_t lo4, uint32_t hi4, uint32_t* first, uint32_t* second) {
  *first = (lo4 & 0x0F0F0F0Fu) | (hi4 & 0x0F0F0F0Fu) << 4;
  *second = (lo4 >> 4 & 0x0F0F0F0Fu) | (hi4 & 0xF0F0F0F0u);
}

inline void lines_to_file(uint32_t first, uint32_t second, uint32_t* lo4, uint32_t* hi4) {
  *lo4 = (first & 0x0F0F0F0Fu) | (second & 0x0F0F0F0Fu) << 4;
  *hi4 = (first >> 4 & 0x0F0F0F0Fu) | (second & 0xF0F0F0F0u);
}

}  // namespace

// The file's 128 nibble bytes pair weight i of each 64-weight chunk C (low nibble) with
// weight i + 32 (high), so sub-blocks 2C and 2C + 1 share bytes 32C..32C+31: the bytes at
// 32C + 8c and 32C + 8c + 4 hold line c of both.
void pack_q4_k_rows16(const Matrix& w, size_t row_begin, size_t row_end, uint8_t* out) {
  const size_t ns = w.cols / 256;
  for (size_t r = row_begin; r < row_end; ++r) {
    const size_t g = r / kRows16Group, lane = r % kRows16Group;
    const uint8_t* src = w.data + r * w.row_bytes;
    for (size_t s = 0; s < ns; ++s, src += kQ4kBlockBytes) {
      uint8_t* dst = out + (g * ns + s) * kQ4kGroupBlock;
      std::memcpy(dst + 2 * lane, src, 2);
      std::memcpy(dst + 32 + 2 * lane, src + 2, 2);
      for (size_t k = 0; k < 3; ++k) std::memcpy(dst + 64 + 64 * k + 4 * lane, src + 4 + 4 * k, 4);
      const uint8_t* qs = src + 16;
      for (size_t C = 0; C < 4; ++C) {
        for (size_t c = 0; c < 4; ++c) {
          uint32_t even, odd;
          file_to_lines(load32(qs + 32 * C + 8 * c), load32(qs + 32 * C + 8 * c + 4), &even, &odd);
          std::memcpy(dst + kQ4kQuants + (4 * (2 * C) + c) * 64 + 4 * lane, &even, 4);
          std::memcpy(dst + kQ4kQuants + (4 * (2 * C + 1) + c) * 64 + 4 * lane, &odd, 4);
        }
      }
    }
  }
}

void unpack_q4_k_rows16(const Matrix& w, size_t row, size_t block_begin, size_t num_blocks, uint8_t* out) {
  const size_t ns = w.cols / 256;
  const size_t g = row / kRows16Group, lane = row % kRows16Group;
  for (size_t s = block_begin; s < block_begin + num_blocks; ++s, out += kQ4kBlockBytes) {
    const uint8_t* src = w.data + (g * ns + s) * kQ4kGroupBlock;
    std::memcpy(out, src + 2 * lane, 2);
    std::memcpy(out + 2, src + 32 + 2 * lane, 2);
    for (size_t k = 0; k < 3; ++k) std::memcpy(out + 4 + 4 * k, src + 64 + 64 * k + 4 * lane, 4);
    uint8_t* qs = out + 16;
    for (size_t C = 0; C < 4; ++C) {
      for (size_t c = 0; c < 4; ++c) {
        uint32_t lo4, hi4;
        lines_to_file(load32(src + kQ4kQuants + (4 * (2 * C) + c) * 64 + 4 * lane),
                      load32(src + kQ4kQuants + (4 * (2 * C + 1) + c) * 64 + 4 * lane), &lo4, &hi4);
        std::memcpy(qs + 32 * C + 8 * c, &lo4, 4);
        std::memcpy(qs + 32 * C + 8 * c + 4, &hi4, 4);
      }
    }
  }
}

// Q5_0's 16 nibble bytes pair weight i (low) with i + 16 (high): lines c and c + 2 of the
// 16-row layout share bytes 8c..8c+7.
void pack_q5_0_rows16(const Matrix& w, size_t row_begin, size_t row_end, uint8_t* out) {
  const size_t nb = w.cols / 32, groups = w.rows / kRows16Group;
  uint8_t* high = out + groups * nb * 256;
  uint8_t* scales = out + groups * nb * 320;
  for (size_t r = row_begin; r < row_end; ++r) {
    const size_t g = r / kRows16Group, lane = r % kRows16Group;
    const uint8_t* src = w.data + r * w.row_bytes;
    for (size_t b = 0; b < nb; ++b, src += 22) {
      const size_t gb = g * nb + b;
      std::memcpy(scales + gb * 32 + 2 * lane, src, 2);
      // Nibble m of the lane's qh word into nibble `lane` of mask m.
      const uint32_t qh = load32(src + 2);
      for (size_t m = 0; m < 8; ++m) {
        uint8_t& byte = high[gb * 64 + 8 * m + lane / 2];
        const uint8_t nib = static_cast<uint8_t>((qh >> (4 * m)) & 0xF);
        byte = lane % 2 == 0 ? static_cast<uint8_t>((byte & 0xF0) | nib) : static_cast<uint8_t>((byte & 0x0F) | (nib << 4));
      }
      const uint8_t* qs = src + 6;
      for (size_t c = 0; c < 2; ++c) {
        uint32_t first, second;
        file_to_lines(load32(qs + 8 * c), load32(qs + 8 * c + 4), &first, &second);
        std::memcpy(out + gb * 256 + c * 64 + 4 * lane, &first, 4);
        std::memcpy(out + gb * 256 + (c + 2) * 64 + 4 * lane, &second, 4);
      }
    }
  }
}

void unpack_q5_0_rows16(const Matrix& w, size_t row, size_t block_begin, size_t num_blocks, uint8_t* out) {
  const size_t nb = w.cols / 32, groups = w.rows / kRows16Group;
  const uint8_t* high = w.data + groups * nb * 256;
  const uint8_t* scales = w.data + groups * nb * 320;
  const size_t g = row / kRows16Group, lane = row % kRows16Group;
  for (size_t b = block_begin; b < block_begin + num_blocks; ++b, out += 22) {
    const size_t gb = g * nb + b;
    std::memcpy(out, scales + gb * 32 + 2 * lane, 2);
    uint32_t qh = 0;
    for (size_t m = 0; m < 8; ++m)
      qh |= static_cast<uint32_t>((high[gb * 64 + 8 * m + lane / 2] >> (4 * (lane % 2))) & 0xF) << (4 * m);
    std::memcpy(out + 2, &qh, 4);
    for (size_t c = 0; c < 2; ++c) {
      uint32_t lo4, hi4;
      lines_to_file(load32(w.data + gb * 256 + c * 64 + 4 * lane), load32(w.data + gb * 256 + (c + 2) * 64 + 4 * lane),
                    &lo4, &hi4);
      std::memcpy(out + 6 + 8 * c, &lo4, 4);
      std::memcpy(out + 6 + 8 * c + 4, &hi4, 4);
    }
  }
}

namespace {

constexpr size_t kQ6kBlockBytes = 210;  // ql[128], qh[64], 16 int8 scales, f16 d
constexpr size_t kQ6kGroupBlock = 3328;  // a group's super-block less its d: 52 lines
constexpr size_t kQ6kSubBlocks = 256;    // offset of sub-block 0 in a group's super-block

// The file keeps weight e = 128h + 32u + l (u < 4, l < 32) of a Q6_K super-block in the low
// (u < 2) or high nibble of ql[64h + 32(u % 2) + l] and bits 2u, 2u + 1 of qh[32h + l]. The
// 16 weights of sub-block j (h = j / 8, u = j % 8 / 2, l = 16(j % 2) + i) are 16 bytes in a
// row of each, so a sub-block moves as 4 words: word m holds the 6-bit q of weights
// 4m..4m+3, one a byte.
struct Q6kFileSpot {
  size_t ql, qh;
  unsigned nibble_shift, top_shift;
};

inline Q6kFileSpot q6k_file_spot(size_t j) {
  const size_t h = j / 8, u = j % 8 / 2, l = 16 * (j % 2);
  return {64 * h + 32 * (u % 2) + l, 128 + 32 * h + l, static_cast<unsigned>(u < 2 ? 0 : 4),
          static_cast<unsigned>(2 * u)};
}

inline void q6k_file_to_words(const uint8_t* block, size_t j, uint32_t q[4]) {
  const Q6kFileSpot at = q6k_file_spot(j);
  for (size_t m = 0; m < 4; ++m)
    q[m] = (load32(block + at.ql + 4 * m) >> at.nibble_shift & 0x0F0F0F0Fu) |
           (load32(block + at.qh + 4 * m) >> at.top_shift & 0x03030303u) << 4;
}

// ORs the words into a block whose ql and qh bytes start at zero.
inline void q6k_words_to_file(const uint32_t q[4], size_t j, uint8_t* block) {
  const Q6kFileSpot at = q6k_file_spot(j);
  for (size_t m = 0; m < 4; ++m) {
    const uint32_t ql = load32(block + at.ql + 4 * m) | (q[m] & 0x0F0F0F0Fu) << at.nibble_shift;
    const uint32_t qh = load32(block + at.qh + 4 * m) | (q[m] >> 4 & 0x03030303u) << at.top_shift;
    std::memcpy(block + at.ql + 4 * m, &ql, 4);
    std::memcpy(block + at.qh + 4 * m, &qh, 4);
  }
}

// The 16-row layout's three lane words of a sub-block: two of nibbles (weights 8c + k in
// byte k's low nibble, 8c + 4 + k in its high one) and one of top bits (weights k, 4 + k,
// 8 + k, 12 + k in byte k's bits 0-1, 2-3, 4-5, 6-7).
inline void q6k_words_to_lines(const uint32_t q[4], uint32_t lines[3]) {
  lines[0] = (q[0] & 0x0F0F0F0Fu) | (q[1] & 0x0F0F0F0Fu) << 4;
  lines[1] = (q[2] & 0x0F0F0F0Fu) | (q[3] & 0x0F0F0F0Fu) << 4;
  lines[2] = 0;
  for (size_t m = 0; m < 4; ++m) lines[2] |= (q[m] >> 4 & 0x03030303u) << (2 * m);
}

inline void q6k_lines_to_words(const uint32_t lines[3], uint32_t q[4]) {
  for (size_t m = 0; m < 4; ++m)
    q[m] = (lines[m / 2] >> (4 * (m % 2)) & 0x0F0F0F0Fu) | (lines[2] >> (2 * m) & 0x03030303u) << 4;
}

}  // namespace

void pack_q6_k_rows16(const Matrix& w, size_t row_begin, size_t row_end, uint8_t* out) {
  const size_t ns = w.cols / 256, groups = w.rows / kRows16Group;
  uint8_t* d = out + groups * ns * kQ6kGroupBlock;
  for (size_t r = row_begin; r < row_end; ++r) {
    const size_t g = r / kRows16Group, lane = r % kRows16Group;
    const uint8_t* src = w.data + r * w.row_bytes;
    for (size_t s = 0; s < ns; ++s, src += kQ6kBlockBytes) {
      uint8_t* dst = out + (g * ns + s) * kQ6kGroupBlock;
      std::memcpy(d + (g * ns + s) * 32 + 2 * lane, src + 208, 2);
      for (size_t k = 0; k < 4; ++k) std::memcpy(dst + 64 * k + 4 * lane, src + 192 + 4 * k, 4);
      for (size_t j = 0; j < 16; ++j) {
        uint32_t q[4], lines[3];
        q6k_file_to_words(src, j, q);
        q6k_words_to_lines(q, lines);
        for (size_t c = 0; c < 3; ++c) std::memcpy(dst + kQ6kSubBlocks + 192 * j + 64 * c + 4 * lane, &lines[c], 4);
      }
    }
  }
}

void unpack_q6_k_rows16(const Matrix& w, size_t row, size_t block_begin, size_t num_blocks, uint8_t* out) {
  const size_t ns = w.cols / 256, groups = w.rows / kRows16Group;
  const size_t g = row / kRows16Group, lane = row % kRows16Group;
  const uint8_t* d = w.data + groups * ns * kQ6kGroupBlock;
  for (size_t s = block_begin; s < block_begin + num_blocks; ++s, out += kQ6kBlockBytes) {
    const uint8_t* src = w.data + (g * ns + s) * kQ6kGroupBlock;
    std::memset(out, 0, 192);
    std::memcpy(out + 208, d + (g * ns + s) * 32 + 2 * lane, 2);
    for (size_t k = 0; k < 4; ++k) std::memcpy(out + 192 + 4 * k, src + 64 * k + 4 * lane, 4);
    for (size_t j = 0; j < 16; ++j) {
      uint32_t lines[3], q[4];
      for (size_t c = 0; c < 3; ++c) lines[c] = load32(src + kQ6kSubBlocks + 192 * j + 64 * c + 4 * lane);
      q6k_lines_to_words(lines, q);
      q6k_words_to_file(q, j, out);
    }
  }
}

void pack_rows16(const Matrix& w, size_t row_begin, size_t row_end, uint8_t* out) {
  switch (rows16_layout(w.type)) {
    case WeightLayout::kQ5_0Rows16: return pack_q5_0_rows16(w, row_begin, row_end, out);
    case WeightLayout::kQ4_KRows16: return pack_q4_k_rows16(w, row_begin, row_end, out);
    case WeightLayout::kQ6_KRows16: return pack_q6_k_rows16(w, row_begin, row_end, out);
    case WeightLayout::kQ8_0Rows16:
    case WeightLayout::kRows: break;
  }
  pack_q8_0_rows16(w, row_begin, row_end, out);
}

void unpack_rows16(const Matrix& w, size_t row, size_t block_begin, size_t num_blocks, uint8_t* out) {
  switch (w.layout) {
    case WeightLayout::kQ5_0Rows16: return unpack_q5_0_rows16(w, row, block_begin, num_blocks, out);
    case WeightLayout::kQ4_KRows16: return unpack_q4_k_rows16(w, row, block_begin, num_blocks, out);
    case WeightLayout::kQ6_KRows16: return unpack_q6_k_rows16(w, row, block_begin, num_blocks, out);
    case WeightLayout::kQ8_0Rows16:
    case WeightLayout::kRows: break;
  }
  unpack_q8_0_rows16(w, row, block_begin, num_blocks, out);
}

}  // namespace wafer::kernels
