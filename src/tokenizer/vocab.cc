// Vocab construction: packs the texts, decodes each token's bytes once, indexes texts, and
// orders the special tokens for encode().
#include "tokenizer/vocab.h"

#include <algorithm>
#include <charconv>

#include "base/check.h"
#include "tokenizer/byte_level.h"

namespace wafer {
namespace {

bool is_special_type(TokenType type) {
  return type == TokenType::kControl || type == TokenType::kUserDefined ||
         type == TokenType::kUnknown;
}

// "<0x0A>" -> 0x0A (byte tokens of SentencePiece-style vocabularies).
std::optional<char> parse_byte_token(std::string_view text) {
  if (text.size() != 6 || !text.starts_with("<0x") || text.back() != '>') return std::nullopt;
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data() + 3, text.data() + 5, value, 16);
  if (ec != std::errc() || end != text.data() + 5) return std::nullopt;
  return static_cast<char>(value);
}

std::string decode_token(std::string_view text, TokenType type) {
  if (is_special_type(type)) return std::string(text);
  if (type == TokenType::kByte) {
    if (std::optional<char> b = parse_byte_token(text)) return std::string(1, *b);
  }
  return byte_level_text_to_bytes(text);
}

}  // namespace

Vocab::Vocab(const std::vector<std::string_view>& texts, std::vector<TokenType> types)
    : types_(std::move(types)) {
  if (types_.empty()) types_.assign(texts.size(), TokenType::kNormal);
  WAFER_CHECK(types_.size() == texts.size(), "{} token types for {} tokens", types_.size(),
              texts.size());
  size_t total = 0;
  for (std::string_view t : texts) total += t.size();
  text_arena_.reserve(total);
  bytes_arena_.reserve(total);
  text_offsets_.reserve(texts.size() + 1);
  bytes_offsets_.reserve(texts.size() + 1);
  text_offsets_.push_back(0);
  bytes_offsets_.push_back(0);
  for (size_t id = 0; id < texts.size(); ++id) {
    text_arena_.insert(text_arena_.end(), texts[id].begin(), texts[id].end());
    text_offsets_.push_back(static_cast<uint32_t>(text_arena_.size()));
    std::string bytes = decode_token(texts[id], types_[id]);
    bytes_arena_.insert(bytes_arena_.end(), bytes.begin(), bytes.end());
    bytes_offsets_.push_back(static_cast<uint32_t>(bytes_arena_.size()));
  }
  // Index only after the arena is complete: its buffer no longer moves.
  index_.reserve(texts.size());
  for (size_t id = 0; id < texts.size(); ++id) {
    auto tid = static_cast<TokenId>(id);
    // Duplicate texts (padding entries in some vocabularies) resolve to the first id.
    index_.emplace(text(tid), tid);
    if (is_special_type(types_[id]) && !texts[id].empty()) special_tokens_.push_back(tid);
  }
  std::stable_sort(special_tokens_.begin(), special_tokens_.end(), [&](TokenId a, TokenId b) {
    return text(a).size() > text(b).size();
  });
}

std::optional<TokenId> Vocab::find(std::string_view text) const {
  auto it = index_.find(text);
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

}  // namespace wafer
