// A context-free grammar over bytes: the one form every constraint (JSON Schema, Lark,
// regex) compiles to. Rules are alternatives of element sequences; an element is a byte set,
// a byte set repeated zero or more times (the loops of strings and numbers, kept flat so they
// cost nothing per byte), or a reference to a rule. Immutable once built; share freely.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace wafer {

// 256-bit set of byte values.
struct ByteSet {
  std::array<uint64_t, 4> bits{};
  bool has(uint8_t b) const { return (bits[b >> 6] >> (b & 63)) & 1; }
  void add(uint8_t b) { bits[b >> 6] |= uint64_t{1} << (b & 63); }
  void add_range(uint8_t lo, uint8_t hi) {
    for (int b = lo; b <= hi; ++b) add(static_cast<uint8_t>(b));
  }
  bool empty() const { return (bits[0] | bits[1] | bits[2] | bits[3]) == 0; }
  bool operator==(const ByteSet&) const = default;
};

struct GrammarElement {
  enum class Kind : uint8_t {
    kEnd,        // closes an alternative
    kBytes,      // one byte from set `arg`
    kBytesStar,  // zero or more bytes from set `arg`
    kRef,        // rule `arg`
  };
  Kind kind = Kind::kEnd;
  uint32_t arg = 0;
};

// An element sequence under construction; literal() and friends append to it.
class Seq {
 public:
  std::vector<GrammarElement> elements;
};

class Grammar {
 public:
  using Kind = GrammarElement::Kind;

  const GrammarElement& element(uint32_t pos) const { return elements_[pos]; }
  const ByteSet& set(uint32_t id) const { return sets_[id]; }
  const std::vector<uint32_t>& alternatives(uint32_t rule) const { return alternatives_[rule]; }
  uint32_t root() const { return root_; }
  size_t num_rules() const { return alternatives_.size(); }
  size_t num_elements() const { return elements_.size(); }
  const std::string& rule_name(uint32_t rule) const { return names_[rule]; }
  // Fewest bytes that finish the alternative from element `pos` on (kBytesStar counts 0).
  uint32_t min_suffix(uint32_t pos) const { return min_suffix_[pos]; }
  // Fewest bytes any string of `rule` has.
  uint32_t min_rule(uint32_t rule) const { return min_rule_[rule]; }
  // Human-readable BNF-like dump (tests, debugging).
  std::string to_string() const;

 private:
  friend class GrammarBuilder;
  std::vector<GrammarElement> elements_;          // every alternative, each ended by kEnd
  std::vector<std::vector<uint32_t>> alternatives_;  // rule -> start positions
  std::vector<std::string> names_;                // rule -> name
  std::vector<ByteSet> sets_;
  std::vector<uint32_t> min_suffix_;
  std::vector<uint32_t> min_rule_;
  uint32_t root_ = 0;
};

// Builds a Grammar rule by rule. Rules may refer to rules declared later (recursion), but
// no rule may be left-recursive (a rule reaching itself before consuming a byte): build()
// rejects that, as it rejects rules without alternatives and rules that derive nothing finite.
class GrammarBuilder {
 public:
  uint32_t declare(std::string name);  // a rule id to refer to before its alternatives exist
  void add_alternative(uint32_t rule, Seq seq);
  // declare + add_alternative for each sequence.
  uint32_t rule(std::string name, std::vector<Seq> alternatives);

  // Element helpers.
  GrammarElement bytes(const ByteSet& set);
  GrammarElement star(const ByteSet& set);
  static GrammarElement ref(uint32_t rule) { return {GrammarElement::Kind::kRef, rule}; }
  Seq literal(std::string_view text);  // one kBytes element per byte

  // Rules that are often needed: `item*` and `item+` as right-recursive rules.
  uint32_t repeat_star(std::string name, Seq item);
  uint32_t repeat_plus(std::string name, Seq item);
  uint32_t optional(std::string name, Seq item);

  Result<Grammar> build(uint32_t root) &&;

 private:
  Grammar g_;
};

// Appends elements to a sequence: seq_of(b.literal("{"), GrammarBuilder::ref(x), ...).
Seq& operator+=(Seq& seq, const GrammarElement& e);
Seq& operator+=(Seq& seq, const Seq& more);
template <typename... Parts>
Seq seq_of(const Parts&... parts) {
  Seq s;
  ((s += parts), ...);
  return s;
}

}  // namespace wafer
