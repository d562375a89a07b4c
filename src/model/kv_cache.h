// Per-sequence key/value cache: for each layer, the rotated keys and the values of every
// position so far. Grows on demand up to a fixed capacity (the context size).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "model/config.h"

namespace wafer {

class KvCache {
 public:
  // capacity: the most positions this sequence may hold (its context window).
  KvCache(const ModelConfig& config, int64_t capacity);
  KvCache(KvCache&&) = default;
  KvCache& operator=(KvCache&&) = default;

  int64_t size() const { return size_; }
  int64_t capacity() const { return capacity_; }
  int64_t kv_dim() const { return kv_dim_; }

  // Makes room for `n` more positions (allocating in chunks); false past capacity.
  bool reserve_more(int64_t n);
  // Marks `n` further positions as filled (after the forward pass wrote them).
  void commit(int64_t n) { size_ += n; }
  // Forgets positions at and past `n` (rolls back rejected speculation, reuses a prefix).
  void truncate(int64_t n) { if (n < size_) size_ = n; }

  float* key(int64_t layer, int64_t pos) { return k_[layer].data() + pos * kv_dim_; }
  float* value(int64_t layer, int64_t pos) { return v_[layer].data() + pos * kv_dim_; }
  const float* key(int64_t layer, int64_t pos) const { return k_[layer].data() + pos * kv_dim_; }
  const float* value(int64_t layer, int64_t pos) const { return v_[layer].data() + pos * kv_dim_; }

  size_t allocated_bytes() const;

 private:
  int64_t capacity_;
  int64_t kv_dim_;
  int64_t size_ = 0;
  int64_t allocated_positions_ = 0;
  std::vector<std::vector<float>> k_, v_;  // [n_layer][positions, kv_dim]
};

}  // namespace wafer
