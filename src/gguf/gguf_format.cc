// Name rules for GGUF keys and tensor names, and escaping of untrusted bytes in messages.
#include "gguf/gguf_format.h"

#include <fmt/core.h>

namespace wafer {
namespace {

// Length of the UTF-8 sequence starting at s[i], or 0 when it is malformed (truncated,
// overlong, a surrogate or above U+10FFFF).
size_t utf8_sequence_length(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  const auto is_cont = [&](size_t k) { return k < s.size() && (byte(k) & 0xc0) == 0x80; };
  const uint8_t b0 = byte(i);
  if (b0 < 0x80) return 1;
  if (b0 >= 0xc2 && b0 <= 0xdf) return is_cont(i + 1) ? 2 : 0;
  if (b0 >= 0xe0 && b0 <= 0xef) {
    if (!is_cont(i + 1) || !is_cont(i + 2)) return 0;
    const uint8_t b1 = byte(i + 1);
    if ((b0 == 0xe0 && b1 < 0xa0) || (b0 == 0xed && b1 >= 0xa0)) return 0;
    return 3;
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    if (!is_cont(i + 1) || !is_cont(i + 2) || !is_cont(i + 3)) return 0;
    const uint8_t b1 = byte(i + 1);
    if ((b0 == 0xf0 && b1 < 0x90) || (b0 == 0xf4 && b1 >= 0x90)) return 0;
    return 4;
  }
  return 0;
}

}  // namespace

bool is_valid_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameBytes) return false;
  for (size_t i = 0; i < name.size();) {
    const uint8_t b = static_cast<uint8_t>(name[i]);
    if (b < 0x20 || b == 0x7f) return false;
    const size_t len = utf8_sequence_length(name, i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

std::string escape_name(std::string_view bytes) {
  constexpr size_t kMaxShown = 64;
  std::string out;
  for (size_t i = 0; i < bytes.size() && i < kMaxShown; ++i) {
    const uint8_t b = static_cast<uint8_t>(bytes[i]);
    if (b >= 0x20 && b < 0x7f && b != '\\')
      out += static_cast<char>(b);
    else
      out += fmt::format("\\x{:02x}", b);
  }
  if (bytes.size() > kMaxShown) out += "...";
  return out;
}

}  // namespace wafer
