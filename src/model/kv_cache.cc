// KV cache growth (doubling chunks, so long prompts do not reallocate per token) and writes.
#include "model/kv_cache.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "base/check.h"
#include "base/half.h"

namespace wafer {

KvCache::KvCache(const ModelConfig& config, int64_t capacity, DType type)
    : capacity_(capacity), kv_dim_(config.kv_dim()), type_(type),
      elem_bytes_(type == DType::kF16 ? 2 : 4), k_(config.n_layer), v_(config.n_layer) {
  WAFER_CHECK(type == DType::kF16 || type == DType::kF32, "KV cache type must be f16 or f32");
}

bool KvCache::reserve_more(int64_t n) {
  const int64_t need = size_ + n;
  if (need > capacity_) return false;
  if (need <= allocated_positions_) return true;
  const int64_t grown = std::min(capacity_, std::max<int64_t>({need, allocated_positions_ * 2, 256}));
  const size_t keep = static_cast<size_t>(allocated_positions_) * row_bytes();
  for (std::vector<LargeBuffer>* kv : {&k_, &v_}) {
    for (LargeBuffer& layer : *kv) {
      LargeBuffer bigger(static_cast<size_t>(grown) * row_bytes());
      if (keep != 0) std::memcpy(bigger.data(), layer.data(), keep);
      layer = std::move(bigger);
    }
  }
  allocated_positions_ = grown;
  return true;
}

void KvCache::write(int64_t layer, int64_t pos, const float* key, const float* value) {
  uint8_t* k = k_[layer].data() + pos * row_bytes();
  uint8_t* v = v_[layer].data() + pos * row_bytes();
  if (type_ == DType::kF32) {
    std::memcpy(k, key, row_bytes());
    std::memcpy(v, value, row_bytes());
    return;
  }
  auto* k16 = reinterpret_cast<uint16_t*>(k);
  auto* v16 = reinterpret_cast<uint16_t*>(v);
  for (int64_t i = 0; i < kv_dim_; ++i) {
    k16[i] = f32_to_f16(key[i]);
    v16[i] = f32_to_f16(value[i]);
  }
}

void KvCache::export_positions(int64_t pos, int64_t n, uint8_t* out) const {
  WAFER_CHECK(pos >= 0 && n >= 0 && pos + n <= size_, "exporting positions [{}, {}) of {}", pos, pos + n, size_);
  const size_t run = static_cast<size_t>(n) * row_bytes();
  for (size_t l = 0; l < k_.size(); ++l) {
    std::memcpy(out, k_[l].data() + pos * row_bytes(), run);
    std::memcpy(out + run, v_[l].data() + pos * row_bytes(), run);
    out += 2 * run;
  }
}

bool KvCache::import_positions(int64_t n, const uint8_t* in, int64_t in_positions, int64_t in_first) {
  WAFER_CHECK(n >= 0 && in_first >= 0 && in_first + n <= in_positions, "importing [{}, {}) of a {}-position run",
              in_first, in_first + n, in_positions);
  if (!reserve_more(n)) return false;
  const size_t rb = row_bytes();
  const size_t run = static_cast<size_t>(in_positions) * rb;
  const size_t bytes = static_cast<size_t>(n) * rb;
  const size_t skip = static_cast<size_t>(in_first) * rb;
  for (size_t l = 0; l < k_.size(); ++l) {
    std::memcpy(k_[l].data() + size_ * rb, in + skip, bytes);
    std::memcpy(v_[l].data() + size_ * rb, in + run + skip, bytes);
    in += 2 * run;
  }
  commit(n);
  return true;
}

size_t KvCache::allocated_bytes() const {
  return 2 * k_.size() * static_cast<size_t>(allocated_positions_) * row_bytes();
}

}  // namespace wafer
