// KV cache growth: doubling chunks so long prompts do not reallocate per token.
#include "model/kv_cache.h"

#include <algorithm>

namespace wafer {

KvCache::KvCache(const ModelConfig& config, int64_t capacity)
    : capacity_(capacity), kv_dim_(config.kv_dim()), k_(config.n_layer), v_(config.n_layer) {}

bool KvCache::reserve_more(int64_t n) {
  const int64_t need = size_ + n;
  if (need > capacity_) return false;
  if (need <= allocated_positions_) return true;
  const int64_t grown = std::min(capacity_, std::max<int64_t>({need, allocated_positions_ * 2, 256}));
  for (size_t l = 0; l < k_.size(); ++l) {
    k_[l].resize(grown * kv_dim_);
    v_[l].resize(grown * kv_dim_);
  }
  allocated_positions_ = grown;
  return true;
}

size_t KvCache::allocated_bytes() const {
  return 2 * k_.size() * static_cast<size_t>(allocated_positions_ * kv_dim_) * sizeof(float);
}

}  // namespace wafer
