// KV cache growth (doubling chunks, so long prompts do not reallocate per token), writes into
// key tiles and value rows, and runs of positions copied out and in for the prefix cache.
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

namespace {

constexpr int64_t kTile = KvCache::kKeyTile;

int64_t key_tiles(int64_t positions) { return (positions + kTile - 1) / kTile; }

// Copies the keys of n positions from tiles at src (position src_pos counted from src's
// first tile) to tiles at dst (position dst_pos), in runs that stay inside one tile of
// each: whole tiles where the two positions agree modulo kTile, as they do for the prefix
// cache's blocks.
void copy_keys(uint8_t* dst, int64_t dst_pos, const uint8_t* src, int64_t src_pos, int64_t n, int64_t kv_dim,
               size_t elem) {
  const size_t tile_bytes = static_cast<size_t>(kv_dim * kTile) * elem, lane_row = kTile * elem;
  while (n > 0) {
    const int64_t run = std::min({n, kTile - dst_pos % kTile, kTile - src_pos % kTile});
    uint8_t* d = dst + static_cast<size_t>(dst_pos / kTile) * tile_bytes + static_cast<size_t>(dst_pos % kTile) * elem;
    const uint8_t* s = src + static_cast<size_t>(src_pos / kTile) * tile_bytes + static_cast<size_t>(src_pos % kTile) * elem;
    for (int64_t i = 0; i < kv_dim; ++i) std::memcpy(d + i * lane_row, s + i * lane_row, static_cast<size_t>(run) * elem);
    dst_pos += run;
    src_pos += run;
    n -= run;
  }
}

}  // namespace

bool KvCache::reserve_more(int64_t n) {
  const int64_t need = size_ + n;
  if (need > capacity_) return false;
  if (need <= allocated_positions_) return true;
  // Whole key tiles, so a tile's place never depends on how much is allocated.
  const int64_t grown = key_tiles(std::min(capacity_, std::max<int64_t>({need, allocated_positions_ * 2, 256}))) * kTile;
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
  uint8_t* k = k_[layer].data() + static_cast<size_t>(pos / kTile) * key_tile_bytes() +
               static_cast<size_t>(pos % kTile) * elem_bytes_;
  uint8_t* v = v_[layer].data() + pos * row_bytes();
  if (type_ == DType::kF32) {
    for (int64_t i = 0; i < kv_dim_; ++i) std::memcpy(k + i * kTile * 4, &key[i], 4);
    std::memcpy(v, value, row_bytes());
    return;
  }
  auto* k16 = reinterpret_cast<uint16_t*>(k);
  auto* v16 = reinterpret_cast<uint16_t*>(v);
  for (int64_t i = 0; i < kv_dim_; ++i) {
    k16[i * kTile] = f32_to_f16(key[i]);
    v16[i] = f32_to_f16(value[i]);
  }
}

void KvCache::read(int64_t layer, int64_t pos, float* key, float* value) const {
  const uint8_t* v = value_row(layer, pos);
  for (int64_t i = 0; i < kv_dim_; ++i) {
    const uint8_t* k = key_at(layer, pos, i);
    if (type_ == DType::kF32) {
      std::memcpy(&key[i], k, 4);
      std::memcpy(&value[i], v + i * 4, 4);
    } else {
      uint16_t kh, vh;
      std::memcpy(&kh, k, 2);
      std::memcpy(&vh, v + i * 2, 2);
      key[i] = f16_to_f32(kh);
      value[i] = f16_to_f32(vh);
    }
  }
}

size_t KvCache::run_bytes(int64_t n) const {
  return k_.size() * (static_cast<size_t>(key_tiles(n)) * key_tile_bytes() + static_cast<size_t>(n) * row_bytes());
}

void KvCache::export_positions(int64_t pos, int64_t n, uint8_t* out) const {
  WAFER_CHECK(pos >= 0 && n >= 0 && pos + n <= size_, "exporting positions [{}, {}) of {}", pos, pos + n, size_);
  const size_t key_bytes = static_cast<size_t>(key_tiles(n)) * key_tile_bytes();
  for (size_t l = 0; l < k_.size(); ++l) {
    copy_keys(out, 0, k_[l].data(), pos, n, kv_dim_, elem_bytes_);
    std::memcpy(out + key_bytes, v_[l].data() + pos * row_bytes(), static_cast<size_t>(n) * row_bytes());
    out += key_bytes + static_cast<size_t>(n) * row_bytes();
  }
}

bool KvCache::import_positions(int64_t n, const uint8_t* in, int64_t in_positions, int64_t in_first) {
  WAFER_CHECK(n >= 0 && in_first >= 0 && in_first + n <= in_positions, "importing [{}, {}) of a {}-position run",
              in_first, in_first + n, in_positions);
  if (!reserve_more(n)) return false;
  const size_t rb = row_bytes();
  const size_t key_bytes = static_cast<size_t>(key_tiles(in_positions)) * key_tile_bytes();
  for (size_t l = 0; l < k_.size(); ++l) {
    copy_keys(k_[l].data(), size_, in, in_first, n, kv_dim_, elem_bytes_);
    std::memcpy(v_[l].data() + size_ * rb, in + key_bytes + in_first * rb, static_cast<size_t>(n) * rb);
    in += key_bytes + static_cast<size_t>(in_positions) * rb;
  }
  commit(n);
  return true;
}

size_t KvCache::allocated_bytes() const {
  return 2 * k_.size() * static_cast<size_t>(allocated_positions_) * row_bytes();
}

}  // namespace wafer
