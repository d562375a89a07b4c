// UTF-8 for the tokenizer: encoding code points, reading one character, and decoding byte
// streams that may be cut mid-character, with U+FFFD for each maximal invalid subpart.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace wafer::utf8 {

// The replacement character U+FFFD as UTF-8.
inline constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

// Appends `cp` (at most U+10FFFF) as UTF-8.
void append(std::string* out, char32_t cp);

// Decodes the character at text[*pos] and advances *pos past it. An invalid or truncated
// sequence returns nullopt and advances *pos by one byte.
std::optional<char32_t> next(std::string_view text, size_t* pos);

// Copies the complete characters of `bytes` to `out`, each maximal invalid subpart replaced by
// U+FFFD. When `final` is false an incomplete but so-far valid character at the end is left
// unconsumed (it may be completed by later bytes). Returns the number of bytes consumed.
size_t sanitize(std::string_view bytes, bool final, std::string* out);

bool is_valid(std::string_view bytes);

}  // namespace wafer::utf8
