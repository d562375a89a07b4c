// Per-sequence key/value cache: for each layer, the rotated keys and the values of every
// position so far, stored as F16 (default: half the memory traffic of F32 at long context)
// or F32. Grows on demand up to a fixed capacity (the context size).
//
// Values are rows: position p's [kv_dim] at values(layer) + p * row_bytes(). Keys are tiles
// of kKeyTile positions, transposed: tile t = p / kKeyTile holds, for each index i of
// [kv_dim], the keys of its positions side by side, so element (p, i) is at
//   keys(layer) + ((t * kv_dim + i) * kKeyTile + p % kKeyTile) * element bytes.
// Decode attention scores a block of positions with one position a vector lane; with keys
// in rows every block had to be transposed first, which cost more than the scores did.
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
  int64_t n_layer() const { return static_cast<int64_t>(k_.size()); }
  DType type() const { return type_; }

  // Makes room for `n` more positions (allocating in chunks); false past capacity.
  bool reserve_more(int64_t n);
  // Marks `n` further positions as filled (after the forward pass wrote them).
  void commit(int64_t n) { size_ += n; }
  // Forgets positions at and past `n` (rolls back rejected speculation, reuses a prefix).
  void truncate(int64_t n) { if (n < size_) size_ = n; }

  // Stores key and value [kv_dim] of one position (converting to the cache's type).
  void write(int64_t layer, int64_t pos, const float* key, const float* value);

  static constexpr int64_t kKeyTile = 32;

  // A layer's key tiles and value rows (layout above).
  const uint8_t* keys(int64_t layer) const { return k_[layer].data(); }
  const uint8_t* values(int64_t layer) const { return v_[layer].data(); }
  size_t row_bytes() const { return static_cast<size_t>(kv_dim_) * elem_bytes_; }
  size_t elem_bytes() const { return elem_bytes_; }
  // Bytes of one key tile (every index of kKeyTile positions).
  size_t key_tile_bytes() const { return row_bytes() * kKeyTile; }
  // Element i of position pos's key, and position pos's value row.
  const uint8_t* key_at(int64_t layer, int64_t pos, int64_t i) const {
    return keys(layer) + ((pos / kKeyTile * kv_dim_ + i) * kKeyTile + pos % kKeyTile) * elem_bytes_;
  }
  const uint8_t* value_row(int64_t layer, int64_t pos) const { return values(layer) + pos * row_bytes(); }
  // Position pos's key and value of a layer as floats, [kv_dim] each.
  void read(int64_t layer, int64_t pos, float* key, float* value) const;

  size_t allocated_bytes() const;

  // Bytes one position takes over all layers (keys and values).
  size_t position_bytes() const { return 2 * k_.size() * row_bytes(); }
  // Bytes of a run of n positions as export_positions writes it: position_bytes() * n when
  // n is a multiple of kKeyTile, a little more otherwise (the keys' last tile is whole).
  size_t run_bytes(int64_t n) const;
  // Copies positions [pos, pos + n) out as one run (run_bytes(n) bytes): layer by layer,
  // the n keys as tiles counted from pos (run position j in tile j / kKeyTile), then the n
  // value rows. Positions must be filled.
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
  // [n_layer][allocated positions * row_bytes] (keys: whole tiles), huge pages where large
  std::vector<LargeBuffer> k_, v_;
};

}  // namespace wafer
