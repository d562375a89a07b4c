// GPT-2's byte-level alphabet: every byte maps to one printable code point, so byte-level BPE
// vocabularies can store arbitrary bytes as text ("Ġ" is the space byte 0x20).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace wafer {

// The code point byte `b` is written as in byte-level token texts.
char32_t byte_level_codepoint(uint8_t b);
// The byte a code point stands for, or -1 when `cp` is not in the alphabet.
int byte_level_byte(char32_t cp);

// Raw bytes -> their byte-level text (one character per byte), appended to `out`.
void append_byte_level_text(std::string_view bytes, std::string* out);
// Byte-level text -> raw bytes. Characters outside the alphabet (and invalid UTF-8) are copied
// through unchanged, so a malformed vocabulary degrades rather than fails.
std::string byte_level_text_to_bytes(std::string_view text);

}  // namespace wafer
