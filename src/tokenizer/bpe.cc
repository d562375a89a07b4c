// BPE merge table (keyed by pair of token ids) and the heap-driven merge loop: O(n log n) in
// the pre-token's length instead of rescanning all pairs after every merge.
#include "tokenizer/bpe.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <functional>
#include <string>

#include "tokenizer/byte_level.h"
#include "tokenizer/utf8.h"

namespace wafer {
namespace {

// Min-heap order: lowest rank first, then leftmost.
bool later(const BpeScratch::Candidate& a, const BpeScratch::Candidate& b) {
  if (a.rank != b.rank) return a.rank > b.rank;
  return a.left > b.left;
}

}  // namespace

size_t BpeWordCache::slot_of(std::string_view word) {
  return std::hash<std::string_view>{}(word) & (kEntries - 1);
}

bool BpeWordCache::find(std::string_view word, std::vector<TokenId>* out) const {
  if (word.size() > kMaxWordBytes) return false;
  const Entry& e = entries_[slot_of(word)];
  if (e.length != word.size() || std::memcmp(e.text, word.data(), word.size()) != 0) return false;
  out->insert(out->end(), e.ids, e.ids + e.count);
  return true;
}

void BpeWordCache::store(std::string_view word, const TokenId* ids, size_t count) {
  if (word.size() < 2 || word.size() > kMaxWordBytes || count > kMaxIds) return;
  Entry& e = entries_[slot_of(word)];
  e.length = static_cast<uint8_t>(word.size());
  e.count = static_cast<uint8_t>(count);
  std::memcpy(e.text, word.data(), word.size());
  std::copy(ids, ids + count, e.ids);
}

Result<BpeModel> BpeModel::create(const Vocab& vocab, const std::vector<std::string_view>& merges) {
  BpeModel model;
  for (int b = 0; b < 256; ++b) {
    std::string text;
    utf8::append(&text, byte_level_codepoint(static_cast<uint8_t>(b)));
    std::optional<TokenId> id = vocab.find(text);
    // Rare non-ASCII bytes may lack a token (StarCoder's vocabulary has none for 0xC0, 0xC1,
    // 0xF1, 0xF5..0xFF, which real text hardly ever contains); input bytes without one are
    // dropped. A missing ASCII byte means this is not a byte-level vocabulary at all.
    if (!id && b < 0x80) {
      return make_error(ErrorCode::kCorrupt,
                        "tokenizer.ggml.tokens lacks '{}', the byte-level token for byte 0x{:02X}; "
                        "is this a byte-level BPE vocabulary?", text, b);
    }
    model.byte_tokens_[b] = id.value_or(-1);
  }
  size_t capacity = 16;
  while (capacity < 2 * merges.size()) capacity *= 2;
  model.merges_.assign(capacity, MergeSlot{kEmpty, 0, 0});
  model.shift_ = 64 - std::countr_zero(capacity);
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    std::string_view merge = merges[rank];
    // Search from 1: a merge's left part may itself be a space in non-byte-level vocabularies.
    size_t space = merge.find(' ', 1);
    if (space == std::string_view::npos) {
      return make_error(ErrorCode::kCorrupt,
                        "tokenizer.ggml.merges[{}] = '{}' is not of the form 'left right'", rank,
                        merge);
    }
    std::string_view left = merge.substr(0, space);
    std::string_view right = merge.substr(space + 1);
    std::optional<TokenId> left_id = vocab.find(left);
    std::optional<TokenId> right_id = vocab.find(right);
    std::optional<TokenId> result_id = vocab.find(std::string(left) + std::string(right));
    if (!left_id || !right_id || !result_id) continue;
    model.insert_merge(pair_key(*left_id, *right_id), static_cast<int32_t>(rank), *result_id);
  }
  return model;
}

void BpeModel::insert_merge(uint64_t key, int32_t rank, TokenId result) {
  const size_t mask = merges_.size() - 1;
  for (size_t i = slot_of(key);; i = (i + 1) & mask) {
    MergeSlot& slot = merges_[i];
    if (slot.key == key) return;  // listed before, with a better rank
    if (slot.key == kEmpty) {
      slot = {key, rank, result};
      ++num_merges_;
      return;
    }
  }
}

const BpeModel::MergeSlot* BpeModel::find_merge(uint64_t key) const {
  const size_t mask = merges_.size() - 1;
  for (size_t i = slot_of(key);; i = (i + 1) & mask) {
    const MergeSlot& slot = merges_[i];
    if (slot.key == key) return &slot;
    if (slot.key == kEmpty) return nullptr;
  }
}

void BpeModel::push_candidate(int32_t left, BpeScratch* scratch) const {
  const BpeScratch::Symbol& l = scratch->symbols[left];
  if (l.next < 0) return;
  const BpeScratch::Symbol& r = scratch->symbols[l.next];
  if (l.id < 0 || r.id < 0) return;  // a byte without a token merges with nothing
  const MergeSlot* merge = find_merge(pair_key(l.id, r.id));
  if (merge == nullptr) return;
  scratch->heap.push_back({merge->rank, left, l.id, r.id, merge->result});
  std::push_heap(scratch->heap.begin(), scratch->heap.end(), later);
}

void BpeModel::encode(std::string_view bytes, BpeScratch* scratch,
                      std::vector<TokenId>* out) const {
  if (bytes.empty()) return;
  if (bytes.size() == 1) {
    TokenId id = byte_tokens_[static_cast<uint8_t>(bytes[0])];
    if (id >= 0) out->push_back(id);
    return;
  }
  auto n = static_cast<int32_t>(bytes.size());
  std::vector<BpeScratch::Symbol>& symbols = scratch->symbols;
  symbols.resize(bytes.size());
  for (int32_t i = 0; i < n; ++i)
    symbols[i] = {byte_tokens_[static_cast<uint8_t>(bytes[i])], i - 1, i + 1 < n ? i + 1 : -1};
  scratch->heap.clear();
  for (int32_t i = 0; i + 1 < n; ++i) push_candidate(i, scratch);

  while (!scratch->heap.empty()) {
    std::pop_heap(scratch->heap.begin(), scratch->heap.end(), later);
    BpeScratch::Candidate c = scratch->heap.back();
    scratch->heap.pop_back();
    BpeScratch::Symbol& l = symbols[c.left];
    // Stale when either side has been merged since the candidate was pushed.
    if (l.id != c.left_id || l.next < 0 || symbols[l.next].id != c.right_id) continue;
    int32_t right = l.next;
    l.id = c.result;
    l.next = symbols[right].next;
    if (l.next >= 0) symbols[l.next].prev = c.left;
    symbols[right].id = -1;
    if (l.prev >= 0) push_candidate(l.prev, scratch);
    push_candidate(c.left, scratch);
  }
  for (int32_t i = 0; i >= 0; i = symbols[i].next) {
    if (symbols[i].id >= 0) out->push_back(symbols[i].id);  // -1: a byte without a token
  }
}

}  // namespace wafer
