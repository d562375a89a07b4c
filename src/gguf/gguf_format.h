// Constants and name rules of the GGUF format shared by the reader and the writer
// (internal to src/gguf).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace wafer {

inline constexpr std::string_view kAlignmentKey = "general.alignment";
inline constexpr uint64_t kDefaultAlignment = 32;
inline constexpr uint32_t kGgufVersion = 3;           // what the writer produces
inline constexpr uint64_t kMaxNameBytes = 64 * 1024;  // keys and tensor names
inline constexpr int kMaxArrayDepth = 8;              // arrays of arrays of ...
inline constexpr uint32_t kMaxDims = 4;
// Each array element costs sizeof(GgufValue) (~100 bytes) in memory; this caps the total so
// a large hostile file cannot make the reader allocate 100x its size. Real vocabularies
// hold a few hundred thousand elements per array.
inline constexpr uint64_t kMaxArrayElements = uint64_t{1} << 24;

// A key or tensor name: 1 to kMaxNameBytes bytes of UTF-8 without control characters.
bool is_valid_name(std::string_view name);
// Printable ASCII copy of (the start of) untrusted bytes, for error messages.
std::string escape_name(std::string_view bytes);

}  // namespace wafer
