// GrammarBuilder: rules to a flat element array, plus the shortest-completion lengths the
// matcher uses to close output before the token budget runs out.
#include "sampling/grammar.h"

#include <algorithm>
#include <limits>

#include <fmt/core.h>

namespace wafer {
namespace {

constexpr uint32_t kInfinite = std::numeric_limits<uint32_t>::max() / 4;

uint32_t add_saturating(uint32_t a, uint32_t b) { return std::min(kInfinite, a + b); }

std::string describe_set(const ByteSet& set) {
  int count = 0;
  int only = 0;
  for (int b = 0; b < 256; ++b) {
    if (set.has(static_cast<uint8_t>(b))) {
      ++count;
      only = b;
    }
  }
  auto show = [](int b) {
    if (b == '"' || b == '\\') return fmt::format("\\{}", static_cast<char>(b));
    if (b >= 0x20 && b < 0x7f) return std::string(1, static_cast<char>(b));
    return fmt::format("\\x{:02x}", b);
  };
  if (count == 1) return fmt::format("\"{}\"", show(only));
  std::string out = "[";
  for (int b = 0; b < 256;) {
    if (!set.has(static_cast<uint8_t>(b))) {
      ++b;
      continue;
    }
    int e = b;
    while (e + 1 < 256 && set.has(static_cast<uint8_t>(e + 1))) ++e;
    out += show(b);
    if (e > b) out += "-" + show(e);
    b = e + 1;
  }
  return out + "]";
}

}  // namespace

Seq& operator+=(Seq& seq, const GrammarElement& e) {
  seq.elements.push_back(e);
  return seq;
}
Seq& operator+=(Seq& seq, const Seq& more) {
  seq.elements.insert(seq.elements.end(), more.elements.begin(), more.elements.end());
  return seq;
}

uint32_t GrammarBuilder::declare(std::string name) {
  g_.alternatives_.emplace_back();
  g_.names_.push_back(std::move(name));
  return static_cast<uint32_t>(g_.alternatives_.size() - 1);
}

void GrammarBuilder::add_alternative(uint32_t rule, Seq seq) {
  g_.alternatives_[rule].push_back(static_cast<uint32_t>(g_.elements_.size()));
  g_.elements_.insert(g_.elements_.end(), seq.elements.begin(), seq.elements.end());
  g_.elements_.push_back({GrammarElement::Kind::kEnd, rule});
}

uint32_t GrammarBuilder::rule(std::string name, std::vector<Seq> alternatives) {
  const uint32_t id = declare(std::move(name));
  for (Seq& s : alternatives) add_alternative(id, std::move(s));
  return id;
}

GrammarElement GrammarBuilder::bytes(const ByteSet& set) {
  auto it = std::find(g_.sets_.begin(), g_.sets_.end(), set);
  if (it == g_.sets_.end()) it = g_.sets_.insert(g_.sets_.end(), set);
  return {GrammarElement::Kind::kBytes, static_cast<uint32_t>(it - g_.sets_.begin())};
}

GrammarElement GrammarBuilder::star(const ByteSet& set) {
  GrammarElement e = bytes(set);
  e.kind = GrammarElement::Kind::kBytesStar;
  return e;
}

Seq GrammarBuilder::literal(std::string_view text) {
  Seq s;
  for (char c : text) {
    ByteSet one;
    one.add(static_cast<uint8_t>(c));
    s += bytes(one);
  }
  return s;
}

uint32_t GrammarBuilder::repeat_star(std::string name, Seq item) {
  const uint32_t id = declare(std::move(name));
  add_alternative(id, seq_of(item, ref(id)));
  add_alternative(id, Seq{});
  return id;
}

uint32_t GrammarBuilder::repeat_plus(std::string name, Seq item) {
  const uint32_t rest = repeat_star(name + "_rest", item);
  return rule(std::move(name), {seq_of(item, ref(rest))});
}

uint32_t GrammarBuilder::optional(std::string name, Seq item) {
  return rule(std::move(name), {std::move(item), Seq{}});
}

Result<Grammar> GrammarBuilder::build(uint32_t root) && {
  Grammar& g = g_;
  const size_t n_rules = g.alternatives_.size();
  if (root >= n_rules) return make_error(ErrorCode::kInternal, "grammar root {} is not a rule", root);
  for (size_t r = 0; r < n_rules; ++r) {
    if (g.alternatives_[r].empty()) {
      return make_error(ErrorCode::kInvalidArgument, "grammar rule '{}' has no alternatives", g.names_[r]);
    }
  }
  for (const GrammarElement& e : g.elements_) {
    if (e.kind == GrammarElement::Kind::kRef && e.arg >= n_rules) {
      return make_error(ErrorCode::kInternal, "grammar refers to rule {} that does not exist", e.arg);
    }
  }
  // Shortest derivations: a fixpoint over the rules.
  g.min_rule_.assign(n_rules, kInfinite);
  auto alt_min = [&](uint32_t pos) {
    uint32_t total = 0;
    for (; g.elements_[pos].kind != GrammarElement::Kind::kEnd; ++pos) {
      const GrammarElement& e = g.elements_[pos];
      if (e.kind == GrammarElement::Kind::kBytes) total = add_saturating(total, 1);
      if (e.kind == GrammarElement::Kind::kRef) total = add_saturating(total, g.min_rule_[e.arg]);
    }
    return total;
  };
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t r = 0; r < n_rules; ++r) {
      for (uint32_t start : g.alternatives_[r]) {
        const uint32_t m = alt_min(start);
        if (m < g.min_rule_[r]) {
          g.min_rule_[r] = m;
          changed = true;
        }
      }
    }
  }
  for (size_t r = 0; r < n_rules; ++r) {
    if (g.min_rule_[r] >= kInfinite) {
      return make_error(ErrorCode::kInvalidArgument,
                        "grammar rule '{}' never finishes (every alternative recurses forever)", g.names_[r]);
    }
  }
  g.min_suffix_.assign(g.elements_.size(), 0);
  for (size_t pos = g.elements_.size(); pos-- > 0;) {
    const GrammarElement& e = g.elements_[pos];
    if (e.kind == GrammarElement::Kind::kEnd) continue;
    const uint32_t own = e.kind == GrammarElement::Kind::kBytes ? 1
                         : e.kind == GrammarElement::Kind::kRef ? g.min_rule_[e.arg] : 0;
    g.min_suffix_[pos] = add_saturating(own, g.min_suffix_[pos + 1]);
  }
  // Left recursion: rule -> rules reachable before any byte must be consumed.
  std::vector<std::vector<uint32_t>> first(n_rules);
  for (size_t r = 0; r < n_rules; ++r) {
    for (uint32_t pos : g.alternatives_[r]) {
      for (; g.elements_[pos].kind != GrammarElement::Kind::kEnd; ++pos) {
        const GrammarElement& e = g.elements_[pos];
        if (e.kind == GrammarElement::Kind::kBytes) break;
        if (e.kind == GrammarElement::Kind::kRef) {
          first[r].push_back(e.arg);
          if (g.min_rule_[e.arg] > 0) break;
        }
      }
    }
  }
  std::vector<uint8_t> mark(n_rules, 0);  // 0 new, 1 on the path, 2 done
  std::vector<std::pair<uint32_t, size_t>> stack;
  for (uint32_t r0 = 0; r0 < n_rules; ++r0) {
    if (mark[r0]) continue;
    stack.push_back({r0, 0});
    mark[r0] = 1;
    while (!stack.empty()) {
      auto& [r, next] = stack.back();
      if (next == first[r].size()) {
        mark[r] = 2;
        stack.pop_back();
        continue;
      }
      const uint32_t s = first[r][next++];
      if (mark[s] == 1) {
        return make_error(ErrorCode::kInvalidArgument, "grammar rule '{}' is left-recursive", g.names_[s]);
      }
      if (mark[s] == 0) {
        mark[s] = 1;
        stack.push_back({s, 0});
      }
    }
  }
  g.root_ = root;
  return std::move(g_);
}

std::string Grammar::to_string() const {
  std::string out;
  for (size_t r = 0; r < alternatives_.size(); ++r) {
    out += names_[r] + " ::=";
    for (size_t a = 0; a < alternatives_[r].size(); ++a) {
      if (a > 0) out += " |";
      uint32_t pos = alternatives_[r][a];
      if (elements_[pos].kind == Kind::kEnd) out += " \"\"";
      for (; elements_[pos].kind != Kind::kEnd; ++pos) {
        const GrammarElement& e = elements_[pos];
        out += " ";
        if (e.kind == Kind::kRef) out += names_[e.arg];
        if (e.kind == Kind::kBytes) out += describe_set(sets_[e.arg]);
        if (e.kind == Kind::kBytesStar) out += describe_set(sets_[e.arg]) + "*";
      }
    }
    out += "\n";
  }
  return out;
}

}  // namespace wafer
