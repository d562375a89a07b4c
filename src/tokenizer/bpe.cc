// BPE merge table (keyed by pair of token ids) and the heap-driven merge loop: O(n log n) in
// the pre-token's length instead of rescanning all pairs after every merge.
#include "tokenizer/bpe.h"

#include <algorithm>
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
  model.merges_.reserve(merges.size());
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
    model.merges_.emplace(pair_key(*left_id, *right_id),
                          Merge{static_cast<int32_t>(rank), *result_id});
  }
  return model;
}

void BpeModel::push_candidate(int32_t left, BpeScratch* scratch) const {
  const BpeScratch::Symbol& l = scratch->symbols[left];
  if (l.next < 0) return;
  const BpeScratch::Symbol& r = scratch->symbols[l.next];
  auto it = merges_.find(pair_key(l.id, r.id));
  if (it == merges_.end()) return;
  scratch->heap.push_back({it->second.rank, left, l.id, r.id, it->second.result});
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
