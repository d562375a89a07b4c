// The shared prefix cache: the KV of whole blocks of positions, kept after their requests
// end and shared by every later request whose tokens start the same way (a resent history,
// a common system prompt). Blocks are indexed by chained hashes of their token ids (a block's
// key covers every token before it), so a lookup walks the prompt a block at a time. Only
// leaves (blocks no cached block continues) are evicted, least recently used first, so what
// is held is always a set of whole prefixes and stays within the byte budget. Block memory
// comes from slabs in huge pages and is reused after evictions: a new block costs a copy,
// not a fresh allocation's page faults and zeroing (which cost more than the copy).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/large_buffer.h"
#include "tokenizer/tokenizer.h"

namespace wafer {

class PrefixCache {
 public:
  struct Options {
    size_t block_tokens = 64;   // positions per block
    size_t block_bytes = 0;     // KV bytes one block holds
    size_t budget_bytes = 0;    // most block bytes held (0: nothing is cached)
  };
  explicit PrefixCache(const Options& options);
  PrefixCache(const PrefixCache&) = delete;
  PrefixCache& operator=(const PrefixCache&) = delete;
  ~PrefixCache();

  size_t block_tokens() const { return options_.block_tokens; }

  // The data of the cached blocks that start `tokens`, in order (whole blocks only; empty
  // when the first is not held). Marks them used.
  std::vector<const uint8_t*> match(std::span<const TokenId> tokens);

  // Holds every whole block of `tokens` not yet held: fill(first_position, out) writes one
  // block's data (block_bytes). Evicts least recently used leaves to stay within the budget
  // (never a block of `tokens` itself) and stops when no more can go, or before a block
  // when `go_on` (if given) says false. Returns blocks added.
  size_t insert(std::span<const TokenId> tokens, const std::function<void(size_t, uint8_t*)>& fill,
                const std::function<bool()>& go_on = {});

  void clear();

  size_t num_blocks() const { return index_.size(); }
  size_t bytes() const { return index_.size() * options_.block_bytes; }
  uint64_t evicted_blocks() const { return evicted_; }

  // Checks the index's own bookkeeping (parents, child counts, the leaf order, the budget);
  // returns what is wrong, or an empty string. For tests.
  std::string check_invariants() const;

 private:
  struct Block;
  uint64_t block_hash(uint64_t parent_hash, std::span<const TokenId> tokens) const;
  Block* find(const Block* parent, std::span<const TokenId> tokens, uint64_t* hash) const;
  void touch(Block* b);
  void add_child(Block* parent);
  void remove_child(Block* parent);
  bool evict_one();
  uint8_t* take_memory();
  void erase(std::unordered_map<uint64_t, std::unique_ptr<Block>>::iterator it);

  Options options_;
  std::unordered_map<uint64_t, std::unique_ptr<Block>> index_;  // by chained hash
  std::set<std::pair<uint64_t, Block*>> leaves_;                // by last use, oldest first
  std::vector<LargeBuffer> slabs_;  // block memory, never returned while the cache lives
  std::vector<uint8_t*> free_;       // slab blocks no cached block holds
  uint64_t clock_ = 0;
  uint64_t evicted_ = 0;
};

}  // namespace wafer
