// Per-sequence key/value cache: for each layer, the rotated keys and the values of every
// position so far, stored as F16 (default: half the memory traffic of F32 at long context)
// or F32. Grows on demand up to a fixed capacity (the context size).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "base/dtype.h"
#include "base/large_buffer.h"
#include "model/config.h"

namespace wafer {

class KvCache {
 public:
  // capacity: the most positions this sequence may hold (its context window).
  // type: kF16 or kF32.
  KvCache(const ModelConfig& config, int64_t capacity, DType type = DType::kF16);
  KvCache(KvCache&&) = default;
  KvCache& operator=(KvCache&&) = default;

  int64_t size() const { return size_; }
  int64_t capacity() const { return capacity_; }
  int64_t kv_dim() const { return kv_dim_; }
  DType type() const { return type_; }

  // Makes room for `n` more positions (allocating in chunks); false past capacity.
  bool reserve_more(int64_t n);
  // Marks `n` further positions as filled (after the forward pass wrote them).
  void commit(int64_t n) { size_ += n; }
  // Forgets positions at and past `n` (rolls back rejected speculation, reuses a prefix).
  void truncate(int64_t n) { if (n < size_) size_ = n; }

  // Stores key and value [kv_dim] of one position (converting to the cache's type).
  void write(int64_t layer, int64_t pos, const float* key, const float* value);

  // Rows of a layer: position p's key is at keys(layer) + p * row_bytes() (bytes).
  const uint8_t* keys(int64_t layer) const { return k_[layer].data(); }
  const uint8_t* values(int64_t layer) const { return v_[layer].data(); }
  size_t row_bytes() const { return static_cast<size_t>(kv_dim_) * elem_bytes_; }

  size_t allocated_bytes() const;

  // Bytes one position takes over all layers (keys and values).
  size_t position_bytes() const { return 2 * k_.size() * row_bytes(); }
  // Copies positions [pos, pos + n) out as one run: layer by layer, that layer's n key rows
  // then its n value rows (n * position_bytes() bytes). Positions must be filled.
  void export_positions(int64_t pos, int64_t n, uint8_t* out) const;
  // Appends n positions (committed) taken from a run that export_positions wrote for
  // `in_positions` positions: its positions [in_first, in_first + n). False past capacity.
  bool import_positions(int64_t n, const uint8_t* in, int64_t in_positions, int64_t in_first);

 private:
  int64_t capacity_;
  int64_t kv_dim_;
  DType type_;
  size_t elem_bytes_;
  int64_t size_ = 0;
  int64_t allocated_positions_ = 0;
  std::vector<LargeBuffer> k_, v_;  // [n_layer][allocated positions * row_bytes], huge pages where large
};

}  // namespace wafer
