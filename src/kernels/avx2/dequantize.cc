// AVX2 level's row decoding (embedding lookups, and the rows the prefill panels pack): the
// scalar decoders; prefill decodes each weight once for all its tokens.
#include "kernels/avx2/kernels.h"
#include "quant/quant.h"

namespace wafer::kernels::avx2 {

void dequantize(const Matrix& w, size_t row, size_t col_begin, size_t n, float* out) {
  const DTypeTraits* tr = dtype_traits(static_cast<uint32_t>(w.type));
  const uint8_t* src = w.data + row * w.row_bytes + col_begin / tr->block_elems * tr->block_bytes;
  dequantize_row(w.type, src, out, n);
}

}  // namespace wafer::kernels::avx2
