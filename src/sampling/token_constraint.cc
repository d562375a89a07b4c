// GrammarConstraint: the per-position mask cache, the live-stack check of the tokens the
// cache cannot decide, and budget-aware drawing.
#include "sampling/token_constraint.h"

#include <algorithm>
#include <limits>
#include <numeric>

#include "base/check.h"

namespace wafer {
namespace {

// Frames of a head's stack that key the mask cache. Deeper keys decide more tokens in the
// cache (fewer live checks) but make more distinct entries.
constexpr size_t kCacheFrames = 3;
constexpr uint32_t kBottomRoot = 0xFFFFFFFFu;
constexpr uint32_t kBottomContext = 0xFFFFFFFEu;
// Cache entries kept before the cache is cleared (each is a bitset over the vocabulary:
// 19 KB for 151k tokens).
constexpr size_t kMaxCacheEntries = 512;
// Draws refused (each could not close within the budget) before the shortest completion
// takes over.
constexpr int kMaxRedraws = 8;

void set_bit(std::vector<uint64_t>& bits, size_t i) { bits[i >> 6] |= uint64_t{1} << (i & 63); }
bool get_bit(const std::vector<uint64_t>& bits, size_t i) { return (bits[i >> 6] >> (i & 63)) & 1; }

}  // namespace

VocabIndex::VocabIndex(std::vector<std::string> token_bytes, std::vector<int32_t> end_tokens)
    : bytes_(std::move(token_bytes)), end_tokens_(std::move(end_tokens)) {
  for (size_t id = 0; id < bytes_.size(); ++id) {
    // Longer tokens than the cache's depth counter holds are left out (none exist in practice).
    if (!bytes_[id].empty() && bytes_[id].size() < 65535) sorted_.push_back(static_cast<int32_t>(id));
  }
  std::sort(sorted_.begin(), sorted_.end(), [&](int32_t a, int32_t b) { return bytes_[a] < bytes_[b]; });
  lcp_.assign(sorted_.size(), 0);
  for (size_t i = 0; i < sorted_.size(); ++i) {
    const std::string& cur = bytes_[sorted_[i]];
    max_len_ = std::max(max_len_, cur.size());
    if (i == 0) continue;
    const std::string& prev = bytes_[sorted_[i - 1]];
    const size_t n = std::min(prev.size(), cur.size());
    size_t k = 0;
    while (k < n && prev[k] == cur[k]) ++k;
    lcp_[i] = static_cast<uint16_t>(k);
  }
  std::sort(end_tokens_.begin(), end_tokens_.end());
  for (int32_t id : sorted_) by_bytes_.emplace(bytes_[static_cast<size_t>(id)], id);
}

int32_t VocabIndex::find(std::string_view bytes) const {
  auto it = by_bytes_.find(bytes);
  return it == by_bytes_.end() ? -1 : it->second;
}

bool VocabIndex::is_end(int32_t id) const {
  return std::binary_search(end_tokens_.begin(), end_tokens_.end(), id);
}

std::shared_ptr<const VocabIndex> make_vocab_index(const Tokenizer& tokenizer) {
  const size_t n = tokenizer.vocab_size();
  std::vector<std::string> bytes(n);
  std::vector<int32_t> ends;
  for (size_t i = 0; i < n; ++i) {
    const TokenId id = static_cast<TokenId>(i);
    if (tokenizer.is_end_of_generation(id)) ends.push_back(id);
    const TokenType type = tokenizer.token_type(id);
    if (type == TokenType::kControl || type == TokenType::kUnused || type == TokenType::kUnknown) continue;
    bytes[i] = tokenizer.token_to_bytes(id);
  }
  return std::make_shared<const VocabIndex>(std::move(bytes), std::move(ends));
}

uint64_t fingerprint(const Grammar& g) {
  uint64_t h = 14695981039346656037ull;  // FNV-1a over the grammar's structure
  auto mix = [&h](uint64_t v) {
    for (int i = 0; i < 8; ++i) {
      h ^= (v >> (8 * i)) & 0xFF;
      h *= 1099511628211ull;
    }
  };
  mix(g.root());
  mix(g.num_elements());
  for (uint32_t pos = 0; pos < g.num_elements(); ++pos) {
    const GrammarElement& e = g.element(pos);
    mix((static_cast<uint64_t>(e.kind) << 32) | e.arg);
    if (e.kind == GrammarElement::Kind::kBytes || e.kind == GrammarElement::Kind::kBytesStar) {
      for (uint64_t w : g.set(e.arg).bits) mix(w);
    }
  }
  for (uint32_t r = 0; r < g.num_rules(); ++r) {
    mix(0xA17ull);
    for (uint32_t start : g.alternatives(r)) mix(start);
  }
  return h;
}

GrammarConstraint::GrammarConstraint(std::shared_ptr<const Grammar> grammar, std::shared_ptr<const VocabIndex> vocab,
                                     std::shared_ptr<MaskCache> cache)
    : grammar_(grammar), vocab_(std::move(vocab)), matcher_(std::move(grammar)), cache_(std::move(cache)) {
  WAFER_CHECK(vocab_ != nullptr);
  if (!cache_) cache_ = std::make_shared<MaskCache>();
}

GrammarConstraint::Entry GrammarConstraint::compute_entry(const std::vector<uint32_t>& frames, int32_t bottom) {
  const VocabIndex& v = *vocab_;
  const std::vector<int32_t>& sorted = v.sorted();
  const std::vector<uint16_t>& lcp = v.lcp();
  Entry entry;
  entry.accepted.assign((v.vocab_size() + 63) / 64, 0);

  const size_t base = matcher_.arena_size();
  std::vector<GrammarMatcher::State> level(v.max_token_bytes() + 1);
  std::vector<size_t> arena_mark(v.max_token_bytes() + 1);
  matcher_.state_from_frames(frames, bottom, &level[0]);
  arena_mark[0] = matcher_.arena_size();

  size_t valid = 0;  // level[0..valid] hold the states after the current token's prefix
  size_t i = 0;
  while (i < sorted.size()) {
    const int32_t id = sorted[i];
    const std::string& t = v.bytes(id);
    size_t d = std::min<size_t>(valid, lcp[i]);
    matcher_.truncate(arena_mark[d]);
    bool dead = false;
    for (; d < t.size(); ++d) {
      GrammarMatcher::State& next = level[d + 1];
      matcher_.advance(level[d], static_cast<uint8_t>(t[d]), &next);
      next.reached_context = next.reached_context || level[d].reached_context;
      arena_mark[d + 1] = matcher_.arena_size();
      if (!next.heads.empty()) continue;
      // No derivation continues past t[0..d]: every token with that prefix is decided here.
      if (d + 1 == t.size() && next.accept) {
        set_bit(entry.accepted, static_cast<size_t>(id));
      } else if (next.reached_context) {
        entry.uncertain.push_back(id);
      }
      size_t j = i + 1;
      for (; j < sorted.size() && lcp[j] >= d + 1; ++j) {
        if (next.reached_context) entry.uncertain.push_back(sorted[j]);
      }
      i = j;
      valid = d;
      dead = true;
      break;
    }
    if (dead) continue;
    set_bit(entry.accepted, static_cast<size_t>(id));
    valid = t.size();
    ++i;
  }
  matcher_.truncate(base);
  return entry;
}

const GrammarConstraint::Entry& GrammarConstraint::entry_for(int32_t head) {
  std::vector<uint32_t> key;
  int32_t n = head;
  while (n >= 0 && key.size() < kCacheFrames) {
    key.push_back(matcher_.node(n).pos);
    n = matcher_.node(n).parent;
  }
  const size_t depth = key.size();
  key.push_back(n == GrammarMatcher::kRoot ? kBottomRoot : kBottomContext);
  auto& entries = cache_->entries;
  auto it = entries.find(key);
  if (it != entries.end()) return it->second;
  if (entries.size() >= kMaxCacheEntries) entries.clear();
  std::vector<uint32_t> frames(key.begin(), key.begin() + static_cast<std::ptrdiff_t>(depth));
  Entry e = compute_entry(frames, n == GrammarMatcher::kRoot ? GrammarMatcher::kRoot : GrammarMatcher::kContext);
  stats_.cache_entries += 1;
  return entries.emplace(std::move(key), std::move(e)).first->second;
}

bool GrammarConstraint::token_allowed_from(int32_t head, const std::string& bytes) {
  const size_t mark = matcher_.arena_size();
  GrammarMatcher::State a;
  GrammarMatcher::State b;
  matcher_.advance_head(head, static_cast<uint8_t>(bytes[0]), &a);
  for (size_t k = 1; k < bytes.size() && !a.heads.empty(); ++k) {
    matcher_.advance(a, static_cast<uint8_t>(bytes[k]), &b);
    std::swap(a, b);
    if (a.heads.empty() && !(k + 1 == bytes.size() && a.accept)) {
      a.accept = false;
      break;
    }
  }
  const bool ok = !a.heads.empty() || a.accept;
  matcher_.truncate(mark);
  return ok;
}

void GrammarConstraint::fill_allowed() {
  const VocabIndex& v = *vocab_;
  allowed_.assign((v.vocab_size() + 63) / 64, 0);
  // Copy: entry_for and the live checks append to the arena but never move committed heads.
  const std::vector<int32_t> heads = matcher_.state().heads;
  for (int32_t h : heads) {
    const Entry& e = entry_for(h);
    for (size_t w = 0; w < allowed_.size(); ++w) allowed_[w] |= e.accepted[w];
    for (int32_t u : e.uncertain) {
      if (get_bit(allowed_, static_cast<size_t>(u))) continue;
      stats_.checked_tokens += 1;
      if (token_allowed_from(h, v.bytes(u))) set_bit(allowed_, static_cast<size_t>(u));
    }
  }
  if (matcher_.can_end()) {
    for (int32_t id : v.end_tokens()) {
      if (static_cast<size_t>(id) < v.vocab_size()) set_bit(allowed_, static_cast<size_t>(id));
    }
  }
  stats_.masks += 1;
}

std::vector<uint8_t> GrammarConstraint::allowed_tokens() {
  fill_allowed();
  std::vector<uint8_t> out(vocab_->vocab_size());
  for (size_t id = 0; id < out.size(); ++id) out[id] = get_bit(allowed_, id);
  return out;
}

void GrammarConstraint::mask(std::span<float> logits) {
  fill_allowed();
  const float kMasked = -std::numeric_limits<float>::infinity();
  const size_t n = std::min(logits.size(), vocab_->vocab_size());
  for (size_t w = 0; w * 64 < n; ++w) {
    const uint64_t bits = allowed_[w];
    if (bits == ~uint64_t{0}) continue;
    const size_t end = std::min(n, w * 64 + 64);
    for (size_t id = w * 64; id < end; ++id) {
      if (!((bits >> (id & 63)) & 1)) logits[id] = kMasked;
    }
  }
  for (size_t id = n; id < logits.size(); ++id) logits[id] = kMasked;
}

uint32_t GrammarConstraint::remaining_after(int32_t token) {
  if (vocab_->is_end(token)) return matcher_.can_end() ? 0 : UINT32_MAX;
  const std::string& bytes = vocab_->bytes(token);
  if (bytes.empty()) return UINT32_MAX;
  const size_t mark = matcher_.arena_size();
  GrammarMatcher::State a = matcher_.state();
  GrammarMatcher::State b;
  for (char c : bytes) {
    matcher_.advance(a, static_cast<uint8_t>(c), &b);
    std::swap(a, b);
    if (a.heads.empty()) break;
  }
  uint32_t need = UINT32_MAX;
  if (a.accept && a.heads.empty()) {
    need = 0;
  } else if (!a.heads.empty() || a.accept) {
    need = matcher_.min_remaining(a) + 1;  // the rest, then an end token
  }
  matcher_.truncate(mark);
  return need;
}

int32_t GrammarConstraint::sample(Sampler& sampler, std::span<float> logits, int64_t tokens_left) {
  mask(logits);
  saved_.assign(logits.begin(), logits.end());
  const float kMasked = -std::numeric_limits<float>::infinity();
  for (int attempt = 0; attempt < kMaxRedraws; ++attempt) {
    const int32_t t = sampler.sample(logits);
    const uint32_t need = remaining_after(t);
    if (need != UINT32_MAX && static_cast<int64_t>(need) <= tokens_left - 1) return t;
    stats_.resamples += 1;
    saved_[static_cast<size_t>(t)] = kMasked;
    std::copy(saved_.begin(), saved_.end(), logits.begin());
  }
  // A model set on rambling: follow the shortest completion.
  return closing_token();
}

std::string GrammarConstraint::shortest_completion(size_t max_bytes) {
  const size_t mark = matcher_.arena_size();
  GrammarMatcher::State cur = matcher_.state();
  GrammarMatcher::State next;
  GrammarMatcher::State best;
  std::string out;
  // Each byte taken lowers the fewest-bytes-to-finish by exactly one.
  while (!cur.accept && out.size() < max_bytes) {
    const uint32_t need = matcher_.min_remaining(cur);
    int chosen = -1;
    for (int b = 0; b < 256 && chosen < 0; ++b) {
      // Printable ASCII first: a closing quote or brace rather than a control byte.
      const int byte = (b + 0x20) & 0xFF;
      matcher_.advance(cur, static_cast<uint8_t>(byte), &next);
      if ((!next.heads.empty() || next.accept) && matcher_.min_remaining(next) + 1 == need) {
        chosen = byte;
        std::swap(best, next);
      }
    }
    if (chosen < 0) break;  // cannot happen for a built grammar; stop rather than loop
    out += static_cast<char>(chosen);
    std::swap(cur, best);
  }
  matcher_.truncate(mark);
  return out;
}

int32_t GrammarConstraint::closing_token() {
  const std::string rest = shortest_completion(vocab_->max_token_bytes());
  if (rest.empty()) return vocab_->end_tokens().empty() ? 0 : vocab_->end_tokens()[0];
  for (size_t len = std::min(rest.size(), vocab_->max_token_bytes()); len > 0; --len) {
    const int32_t id = vocab_->find(std::string_view(rest).substr(0, len));
    if (id >= 0) return id;
  }
  return vocab_->end_tokens().empty() ? 0 : vocab_->end_tokens()[0];
}

size_t GrammarConstraint::valid_prefix(std::span<const int32_t> tokens) {
  const size_t mark = matcher_.arena_size();
  GrammarMatcher::State cur = matcher_.state();
  GrammarMatcher::State next;
  size_t n = 0;
  for (; n < tokens.size(); ++n) {
    const int32_t t = tokens[n];
    if (t < 0 || static_cast<size_t>(t) >= vocab_->vocab_size() || vocab_->is_end(t)) break;
    const std::string& bytes = vocab_->bytes(t);
    if (bytes.empty() || cur.heads.empty()) break;
    for (char c : bytes) {
      matcher_.advance(cur, static_cast<uint8_t>(c), &next);
      std::swap(cur, next);
      if (cur.heads.empty()) break;
    }
    if (cur.heads.empty() && !cur.accept) break;
  }
  matcher_.truncate(mark);
  return n;
}

bool GrammarConstraint::accept(int32_t token) {
  if (vocab_->is_end(token)) return matcher_.can_end();
  const std::string& bytes = vocab_->bytes(token);
  if (bytes.empty()) return false;
  return matcher_.accept_bytes(bytes);
}

}  // namespace wafer
