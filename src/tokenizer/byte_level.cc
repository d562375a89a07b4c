// The byte <-> code point tables of GPT-2's bytes_to_unicode(): the printable Latin-1 bytes
// ('!'..'~', '¡'..'¬', '®'..'ÿ') stand for themselves; the other 68 bytes, in increasing
// order, take U+0100, U+0101, ...
#include "tokenizer/byte_level.h"

#include <array>

#include "tokenizer/utf8.h"

namespace wafer {
namespace {

constexpr bool is_self_mapped(int b) {
  return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

constexpr int kAlphabetEnd = 0x100 + 68;  // one past the largest code point used

constexpr std::array<char32_t, 256> make_byte_to_cp() {
  std::array<char32_t, 256> table{};
  char32_t next_extra = 0x100;
  for (int b = 0; b < 256; ++b)
    table[b] = is_self_mapped(b) ? static_cast<char32_t>(b) : next_extra++;
  return table;
}

constexpr std::array<int16_t, kAlphabetEnd> make_cp_to_byte() {
  std::array<int16_t, kAlphabetEnd> table{};
  for (auto& v : table) v = -1;
  auto forward = make_byte_to_cp();
  for (int b = 0; b < 256; ++b) table[forward[b]] = static_cast<int16_t>(b);
  return table;
}

constexpr std::array<char32_t, 256> kByteToCp = make_byte_to_cp();
constexpr std::array<int16_t, kAlphabetEnd> kCpToByte = make_cp_to_byte();
static_assert(kByteToCp[0x20] == 0x120, "space is written as U+0120 (Ġ)");
static_assert(kByteToCp[0x0A] == 0x10A, "newline is written as U+010A (Ċ)");

}  // namespace

char32_t byte_level_codepoint(uint8_t b) { return kByteToCp[b]; }

int byte_level_byte(char32_t cp) {
  return cp < static_cast<char32_t>(kAlphabetEnd) ? kCpToByte[cp] : -1;
}

void append_byte_level_text(std::string_view bytes, std::string* out) {
  for (char c : bytes) utf8::append(out, kByteToCp[static_cast<uint8_t>(c)]);
}

std::string byte_level_text_to_bytes(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (pos < text.size()) {
    size_t start = pos;
    std::optional<char32_t> cp = utf8::next(text, &pos);
    int b = cp ? byte_level_byte(*cp) : -1;
    if (b >= 0) {
      out.push_back(static_cast<char>(b));
    } else {
      out.append(text.substr(start, pos - start));
    }
  }
  return out;
}

}  // namespace wafer
