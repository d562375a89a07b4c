// Moving Q8_0 matrices between the file's layout and kQ8_0Rows16 (repack.h).
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

}  // namespace wafer::kernels
