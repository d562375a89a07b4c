// Prefix cache bookkeeping: a hash map from chained block hashes to blocks, each knowing its
// parent and how many cached blocks continue it; the blocks nothing continues are kept in
// last-use order for eviction.
#include "engine/prefix_cache.h"

#include <algorithm>

#include <fmt/format.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "base/check.h"

namespace wafer {

struct PrefixCache::Block {
  uint64_t hash = 0;
  Block* parent = nullptr;
  std::vector<TokenId> tokens;
  uint8_t* data = nullptr;  // block_bytes of a slab
  uint32_t children = 0;
  uint64_t last_used = 0;
};

namespace {
constexpr uint64_t kRootHash = 0x77616665722d6b76ull;  // the chain's seed
constexpr size_t kSlabBytes = size_t{32} << 20;        // a slab's bytes, about
constexpr size_t kSlabMaxBlocks = 1024;                 // and at most its blocks
}  // namespace

uint8_t* PrefixCache::take_memory() {
  if (free_.empty()) {
    const size_t bb = options_.block_bytes;
    const size_t blocks =
        std::clamp<size_t>(std::min(kSlabBytes / bb, kSlabMaxBlocks), 1, std::max<size_t>(1, options_.budget_bytes / bb));
    slabs_.emplace_back(blocks * bb, LargeBuffer::Pages::kSmall);
    for (size_t i = blocks; i-- > 0;) free_.push_back(slabs_.back().data() + i * bb);
  }
  uint8_t* p = free_.back();
  free_.pop_back();
  return p;
}

void PrefixCache::erase(std::unordered_map<uint64_t, std::unique_ptr<Block>>::iterator it) {
  free_.push_back(it->second->data);
  index_.erase(it);
}

PrefixCache::PrefixCache(const Options& options) : options_(options) {
  WAFER_CHECK(options.block_tokens > 0, "prefix cache blocks need at least one position");
}

PrefixCache::~PrefixCache() = default;

uint64_t PrefixCache::block_hash(uint64_t parent_hash, std::span<const TokenId> tokens) const {
  return XXH3_64bits_withSeed(tokens.data(), tokens.size_bytes(), parent_hash);
}

PrefixCache::Block* PrefixCache::find(const Block* parent, std::span<const TokenId> tokens, uint64_t* hash) const {
  *hash = block_hash(parent != nullptr ? parent->hash : kRootHash, tokens);
  auto it = index_.find(*hash);
  if (it == index_.end()) return nullptr;
  Block* b = it->second.get();
  // A hash collision is never taken for a match.
  if (b->parent != parent || !std::equal(tokens.begin(), tokens.end(), b->tokens.begin(), b->tokens.end()))
    return nullptr;
  return b;
}

void PrefixCache::touch(Block* b) {
  if (b->children == 0) leaves_.erase({b->last_used, b});
  b->last_used = ++clock_;
  if (b->children == 0) leaves_.insert({b->last_used, b});
}

void PrefixCache::add_child(Block* parent) {
  if (parent == nullptr) return;
  if (parent->children++ == 0) leaves_.erase({parent->last_used, parent});
}

void PrefixCache::remove_child(Block* parent) {
  if (parent == nullptr) return;
  if (--parent->children == 0) leaves_.insert({parent->last_used, parent});
}

bool PrefixCache::evict_one() {
  if (leaves_.empty()) return false;
  Block* b = leaves_.begin()->second;
  leaves_.erase(leaves_.begin());
  remove_child(b->parent);
  erase(index_.find(b->hash));
  ++evicted_;
  return true;
}

std::vector<const uint8_t*> PrefixCache::match(std::span<const TokenId> tokens) {
  std::vector<const uint8_t*> out;
  const size_t bt = options_.block_tokens;
  Block* parent = nullptr;
  for (size_t pos = 0; pos + bt <= tokens.size(); pos += bt) {
    uint64_t hash;
    Block* b = find(parent, tokens.subspan(pos, bt), &hash);
    if (b == nullptr) break;
    touch(b);
    out.push_back(b->data);
    parent = b;
  }
  return out;
}

size_t PrefixCache::insert(std::span<const TokenId> tokens, const std::function<void(size_t, uint8_t*)>& fill,
                           const std::function<bool()>& go_on) {
  const size_t bt = options_.block_tokens;
  size_t added = 0;
  Block* parent = nullptr;
  for (size_t pos = 0; pos + bt <= tokens.size(); pos += bt) {
    const std::span<const TokenId> piece = tokens.subspan(pos, bt);
    uint64_t hash;
    if (Block* b = find(parent, piece, &hash)) {
      touch(b);
      parent = b;
      continue;
    }
    if (index_.count(hash) != 0) break;  // another block owns this hash: keep the held one
    if (go_on && !go_on()) break;
    // The parent gains its child first, so making room can never evict it.
    add_child(parent);
    bool room = options_.block_bytes <= options_.budget_bytes;
    while (room && bytes() + options_.block_bytes > options_.budget_bytes) room = evict_one();
    if (!room) {
      remove_child(parent);
      break;
    }
    auto block = std::make_unique<Block>();
    block->hash = hash;
    block->parent = parent;
    block->tokens.assign(piece.begin(), piece.end());
    block->data = take_memory();
    fill(pos, block->data);
    block->last_used = ++clock_;
    leaves_.insert({block->last_used, block.get()});
    parent = block.get();
    index_.emplace(hash, std::move(block));
    ++added;
  }
  return added;
}

void PrefixCache::clear() {
  leaves_.clear();
  while (!index_.empty()) erase(index_.begin());
}

std::string PrefixCache::check_invariants() const {
  std::unordered_map<const Block*, uint32_t> children;
  size_t leaf_count = 0;
  for (const auto& [hash, b] : index_) {
    if (b->hash != hash) return fmt::format("a block is filed under hash {:x} but has {:x}", hash, b->hash);
    if (b->tokens.size() != options_.block_tokens) return "a block holds the wrong number of tokens";
    if (b->data == nullptr) return "a block holds no memory";
    const uint64_t expect = block_hash(b->parent != nullptr ? b->parent->hash : kRootHash, b->tokens);
    if (expect != hash) return "a block's hash does not chain from its parent";
    if (b->parent != nullptr) {
      auto it = index_.find(b->parent->hash);
      if (it == index_.end() || it->second.get() != b->parent) return "a block's parent is no longer held";
      ++children[b->parent];
    }
  }
  for (const auto& [hash, b] : index_) {
    const uint32_t c = children.count(b.get()) != 0 ? children[b.get()] : 0;
    if (c != b->children) return fmt::format("a block counts {} children but has {}", b->children, c);
    const bool listed = leaves_.count({b->last_used, b.get()}) != 0;
    if ((c == 0) != listed) return c == 0 ? "a leaf is missing from the eviction order" : "an inner block is in the eviction order";
    if (c == 0) ++leaf_count;
  }
  if (leaf_count != leaves_.size()) return "the eviction order lists blocks that are not held";
  // Every slab block is either one held block's memory or free, exactly once.
  const size_t bb = options_.block_bytes;
  size_t slab_blocks = 0;
  for (const LargeBuffer& slab : slabs_) slab_blocks += slab.size() / bb;
  std::set<const uint8_t*> seen;
  auto in_a_slab = [&](const uint8_t* p) {
    return std::any_of(slabs_.begin(), slabs_.end(), [&](const LargeBuffer& slab) {
      return p >= slab.data() && p < slab.data() + slab.size() && (p - slab.data()) % bb == 0;
    });
  };
  for (const auto& [hash, b] : index_)
    if (!in_a_slab(b->data) || !seen.insert(b->data).second) return "a block's memory is not its own slab block";
  for (const uint8_t* p : free_)
    if (!in_a_slab(p) || !seen.insert(p).second) return "free block memory is held or listed twice";
  if (seen.size() != slab_blocks) return fmt::format("{} of {} slab blocks are lost", slab_blocks - seen.size(), slab_blocks);
  if (bytes() > options_.budget_bytes) return fmt::format("{} bytes held over a budget of {}", bytes(), options_.budget_bytes);
  return {};
}

}  // namespace wafer
