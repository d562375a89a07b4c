// Runs a Grammar over bytes as a set of parse stacks (one per live derivation), so
// ambiguous and nondeterministic grammars work byte by byte. Stacks are persistent linked
// nodes in one arena: advancing copies nothing below the top, and a trial run (a token
// tested for the mask) is undone by truncating the arena. A state keeps at most 128
// derivations (pathologically ambiguous grammars are followed along the first ones). Not
// thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "sampling/grammar.h"

namespace wafer {

class GrammarMatcher {
 public:
  // Stack bottoms: popping kRoot finishes the grammar; popping kContext means "the rest of
  // the stack is unknown" (the token-mask cache analyses heads without their context).
  static constexpr int32_t kRoot = -1;
  static constexpr int32_t kContext = -2;

  struct Node {
    uint32_t pos;      // element position: the next element to match in this frame
    int32_t parent;    // frame to return to, or kRoot / kContext
    uint32_t min_rem;  // fewest bytes that finish this frame and every frame below it
  };
  struct State {
    std::vector<int32_t> heads;   // nodes whose element is kBytes or kBytesStar
    bool accept = false;          // some derivation is complete
    bool reached_context = false; // some derivation popped into kContext
    void clear() {
      heads.clear();
      accept = false;
      reached_context = false;
    }
  };

  explicit GrammarMatcher(std::shared_ptr<const Grammar> grammar);

  // The committed state.
  const State& state() const { return state_; }
  // Consumes bytes if the grammar allows all of them; otherwise changes nothing.
  bool accept_bytes(std::string_view bytes);
  bool can_end() const { return state_.accept; }
  // Complete and nothing may follow.
  bool done() const { return state_.accept && state_.heads.empty(); }
  // Fewest bytes that complete the grammar from the committed state.
  uint32_t min_remaining() const { return min_remaining(state_); }
  uint32_t min_remaining(const State& s) const;
  void reset();  // back to the start of the grammar

  // Low-level steps for the token mask (all nodes they create can be dropped by truncate()).
  void advance(const State& from, uint8_t byte, State* to);
  // `from` with only one head (a token tried against one derivation).
  void advance_head(int32_t head, uint8_t byte, State* to);
  // A start state from an explicit frame list (top first), ending in kRoot or kContext.
  void state_from_frames(const std::vector<uint32_t>& frames, int32_t bottom, State* to);
  size_t arena_size() const { return nodes_.size(); }
  void truncate(size_t size) { nodes_.resize(size); }
  const Node& node(int32_t id) const { return nodes_[static_cast<size_t>(id)]; }
  const Grammar& grammar() const { return *grammar_; }
  // True once a state was cut at the derivation or depth limit: from then on the mask and the
  // shortest completion follow only the derivations kept.
  bool saturated() const { return saturated_; }

 private:
  int32_t new_node(uint32_t pos, int32_t parent);
  void add_head(State* s, uint32_t pos, int32_t parent, int32_t existing);
  void expand(uint32_t pos, int32_t parent, State* out, int depth);
  void compact();

  std::shared_ptr<const Grammar> grammar_;
  std::vector<Node> nodes_;
  State state_;
  State scratch_;
  bool saturated_ = false;
  size_t expand_calls_ = 0;  // since the current state construction began (bounded)
};

}  // namespace wafer
