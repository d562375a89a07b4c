// UTF-8 encoding and replacement-character decoding (Unicode's "maximal subpart" practice,
// the same rule WHATWG decoders and Python's errors="replace" follow).
#include "tokenizer/utf8.h"

namespace wafer::utf8 {
namespace {

struct SequenceShape {
  size_t length;       // total bytes, 0 when the lead byte can never start a character
  uint8_t second_lo;   // allowed range of the second byte (excludes overlongs, surrogates)
  uint8_t second_hi;
};

SequenceShape shape_of(uint8_t lead) {
  if (lead < 0x80) return {1, 0, 0};
  if (lead >= 0xC2 && lead <= 0xDF) return {2, 0x80, 0xBF};
  if (lead == 0xE0) return {3, 0xA0, 0xBF};
  if (lead == 0xED) return {3, 0x80, 0x9F};
  if (lead >= 0xE1 && lead <= 0xEF) return {3, 0x80, 0xBF};
  if (lead == 0xF0) return {4, 0x90, 0xBF};
  if (lead >= 0xF1 && lead <= 0xF3) return {4, 0x80, 0xBF};
  if (lead == 0xF4) return {4, 0x80, 0x8F};
  return {0, 0, 0};
}

enum class Scan { kComplete, kInvalid, kTruncated };

// Checks the sequence at bytes[pos]; `valid_len` receives how many bytes belong to it (the
// whole character, or the maximal valid subpart before the problem).
Scan scan(std::string_view bytes, size_t pos, size_t* valid_len) {
  auto lead = static_cast<uint8_t>(bytes[pos]);
  SequenceShape s = shape_of(lead);
  if (s.length == 0) {
    *valid_len = 1;
    return Scan::kInvalid;
  }
  for (size_t k = 1; k < s.length; ++k) {
    if (pos + k >= bytes.size()) {
      *valid_len = k;
      return Scan::kTruncated;
    }
    auto b = static_cast<uint8_t>(bytes[pos + k]);
    uint8_t lo = k == 1 ? s.second_lo : 0x80;
    uint8_t hi = k == 1 ? s.second_hi : 0xBF;
    if (b < lo || b > hi) {
      *valid_len = k;
      return Scan::kInvalid;
    }
  }
  *valid_len = s.length;
  return Scan::kComplete;
}

}  // namespace

void append(std::string* out, char32_t cp) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::optional<char32_t> next(std::string_view text, size_t* pos) {
  size_t len = 0;
  if (scan(text, *pos, &len) != Scan::kComplete) {
    *pos += 1;
    return std::nullopt;
  }
  auto lead = static_cast<uint8_t>(text[*pos]);
  char32_t cp = len == 1 ? lead : lead & (0x7F >> len);
  for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<uint8_t>(text[*pos + k]) & 0x3F);
  *pos += len;
  return cp;
}

size_t sanitize(std::string_view bytes, bool final, std::string* out) {
  size_t pos = 0;
  while (pos < bytes.size()) {
    size_t len = 0;
    switch (scan(bytes, pos, &len)) {
      case Scan::kComplete:
        out->append(bytes.substr(pos, len));
        break;
      case Scan::kInvalid:
        out->append(kReplacement);
        break;
      case Scan::kTruncated:
        if (!final) return pos;
        out->append(kReplacement);
        break;
    }
    pos += len;
  }
  return pos;
}

bool is_valid(std::string_view bytes) {
  size_t pos = 0;
  while (pos < bytes.size()) {
    size_t len = 0;
    if (scan(bytes, pos, &len) != Scan::kComplete) return false;
    pos += len;
  }
  return true;
}

}  // namespace wafer::utf8
