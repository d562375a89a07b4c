// GrammarMatcher: stack-set expansion (refs pushed, ends popped) and byte advance.
#include "sampling/grammar_matcher.h"

#include <algorithm>
#include <unordered_map>

#include "base/check.h"

namespace wafer {
namespace {

// Expansion recursion bound: far beyond any real nesting, short of the thread's stack.
constexpr int kMaxExpandDepth = 4000;
// Live derivations kept per state: a grammar ambiguous enough to need more (nested loops
// over the same text) is followed along the first ones found rather than without bound.
constexpr size_t kMaxHeads = 128;
// Expansion steps per state built (one byte's advance, or the start): nested optional
// elements can reach the same few heads along exponentially many paths; past this many
// steps the rest are cut, as for too many heads.
constexpr size_t kMaxExpandCalls = size_t{1} << 16;
// The committed arena is compacted when it grows past this many nodes.
constexpr size_t kCompactNodes = size_t{1} << 16;

}  // namespace

GrammarMatcher::GrammarMatcher(std::shared_ptr<const Grammar> grammar) : grammar_(std::move(grammar)) {
  WAFER_CHECK(grammar_ != nullptr);
  reset();
}

void GrammarMatcher::reset() {
  nodes_.clear();
  state_.clear();
  expand_calls_ = 0;
  for (uint32_t start : grammar_->alternatives(grammar_->root())) expand(start, kRoot, &state_, 0);
}

int32_t GrammarMatcher::new_node(uint32_t pos, int32_t parent) {
  const uint32_t below = parent >= 0 ? nodes_[static_cast<size_t>(parent)].min_rem : 0;
  nodes_.push_back({pos, parent, grammar_->min_suffix(pos) + below});
  return static_cast<int32_t>(nodes_.size() - 1);
}

void GrammarMatcher::add_head(State* s, uint32_t pos, int32_t parent, int32_t existing) {
  for (int32_t h : s->heads) {
    const Node& n = nodes_[static_cast<size_t>(h)];
    if (n.pos == pos && n.parent == parent) return;
  }
  s->heads.push_back(existing >= 0 ? existing : new_node(pos, parent));
}

void GrammarMatcher::expand(uint32_t pos, int32_t parent, State* out, int depth) {
  if (depth > kMaxExpandDepth || out->heads.size() >= kMaxHeads || ++expand_calls_ > kMaxExpandCalls) {
    saturated_ = true;
    return;
  }
  const Grammar& g = *grammar_;
  const GrammarElement& e = g.element(pos);
  switch (e.kind) {
    case GrammarElement::Kind::kEnd:
      if (parent == kRoot) {
        out->accept = true;
      } else if (parent == kContext) {
        out->reached_context = true;
      } else {
        const Node frame = nodes_[static_cast<size_t>(parent)];
        expand(frame.pos, frame.parent, out, depth + 1);
      }
      return;
    case GrammarElement::Kind::kBytes:
      add_head(out, pos, parent, -1);
      return;
    case GrammarElement::Kind::kBytesStar:
      add_head(out, pos, parent, -1);
      expand(pos + 1, parent, out, depth + 1);
      return;
    case GrammarElement::Kind::kRef: {
      // A reference in tail position returns straight to our parent: right recursion
      // (item lists, string bodies) keeps the stack flat.
      const int32_t ret = g.element(pos + 1).kind == GrammarElement::Kind::kEnd ? parent : new_node(pos + 1, parent);
      for (uint32_t start : g.alternatives(e.arg)) expand(start, ret, out, depth + 1);
      return;
    }
  }
}

void GrammarMatcher::advance_head(int32_t head, uint8_t byte, State* to) {
  const Node n = nodes_[static_cast<size_t>(head)];
  const GrammarElement& e = grammar_->element(n.pos);
  if (!grammar_->set(e.arg).has(byte)) return;
  if (e.kind == GrammarElement::Kind::kBytesStar) add_head(to, n.pos, n.parent, head);
  expand(n.pos + 1, n.parent, to, 0);
}

void GrammarMatcher::advance(const State& from, uint8_t byte, State* to) {
  to->clear();
  expand_calls_ = 0;
  for (int32_t h : from.heads) advance_head(h, byte, to);
}

bool GrammarMatcher::accept_bytes(std::string_view bytes) {
  const size_t mark = nodes_.size();
  State cur = state_;
  for (char c : bytes) {
    advance(cur, static_cast<uint8_t>(c), &scratch_);
    if (scratch_.heads.empty() && !scratch_.accept) {
      nodes_.resize(mark);
      return false;
    }
    std::swap(cur, scratch_);
  }
  // A derivation that completed before the last byte is not complete after it.
  state_ = std::move(cur);
  if (nodes_.size() > kCompactNodes) compact();
  return true;
}

uint32_t GrammarMatcher::min_remaining(const State& s) const {
  if (s.accept) return 0;
  uint32_t best = UINT32_MAX;
  for (int32_t h : s.heads) best = std::min(best, nodes_[static_cast<size_t>(h)].min_rem);
  return best;
}

void GrammarMatcher::state_from_frames(const std::vector<uint32_t>& frames, int32_t bottom, State* to) {
  to->clear();
  int32_t parent = bottom;
  for (size_t i = frames.size(); i-- > 1;) parent = new_node(frames[i], parent);
  to->heads.push_back(new_node(frames[0], parent));
}

void GrammarMatcher::compact() {
  std::unordered_map<int32_t, int32_t> remap;
  std::vector<Node> kept;
  // Parents precede children in the arena, so copying ancestors first keeps that order.
  std::vector<int32_t> chain;
  for (int32_t h : state_.heads) {
    chain.clear();
    for (int32_t n = h; n >= 0 && !remap.count(n); n = nodes_[static_cast<size_t>(n)].parent) chain.push_back(n);
    for (size_t i = chain.size(); i-- > 0;) {
      Node copy = nodes_[static_cast<size_t>(chain[i])];
      if (copy.parent >= 0) copy.parent = remap.at(copy.parent);
      kept.push_back(copy);
      remap[chain[i]] = static_cast<int32_t>(kept.size() - 1);
    }
  }
  for (int32_t& h : state_.heads) h = remap.at(h);
  nodes_ = std::move(kept);
}

}  // namespace wafer
