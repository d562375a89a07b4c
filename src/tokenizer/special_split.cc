// The special-token partition, applied token by token in Vocab::special_tokens() order so a
// longer token wins over any shorter one it contains.
#include "tokenizer/special_split.h"

namespace wafer {
namespace {

bool is_eligible(TokenType type, bool parse_special) {
  if (type == TokenType::kUserDefined) return true;
  return parse_special && (type == TokenType::kControl || type == TokenType::kUnknown);
}

bool any_fragment_contains(const std::vector<TextFragment>& fragments, std::string_view needle) {
  for (const TextFragment& f : fragments) {
    if (f.id < 0 && f.text.find(needle) != std::string_view::npos) return true;
  }
  return false;
}

}  // namespace

std::vector<TextFragment> split_special_tokens(std::string_view text, const Vocab& vocab,
                                               bool parse_special) {
  std::vector<TextFragment> fragments;
  if (text.empty()) return fragments;
  fragments.push_back({-1, text});
  std::vector<TextFragment> next;
  for (TokenId id : vocab.special_tokens()) {
    if (!is_eligible(vocab.type(id), parse_special)) continue;
    std::string_view needle = vocab.text(id);
    if (!any_fragment_contains(fragments, needle)) continue;
    next.clear();
    for (const TextFragment& f : fragments) {
      if (f.id >= 0) {
        next.push_back(f);
        continue;
      }
      std::string_view rest = f.text;
      for (size_t at = rest.find(needle); at != std::string_view::npos; at = rest.find(needle)) {
        if (at > 0) next.push_back({-1, rest.substr(0, at)});
        next.push_back({id, rest.substr(at, needle.size())});
        rest.remove_prefix(at + needle.size());
      }
      if (!rest.empty()) next.push_back({-1, rest});
    }
    fragments.swap(next);
  }
  return fragments;
}

}  // namespace wafer
