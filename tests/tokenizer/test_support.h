// Helpers for the tokenizer tests: shared data files, and small in-memory byte-level BPE
// vocabularies written through GgufWriter so tests exercise the real loading path.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "tokenizer/tokenizer.h"

namespace wafer::test {

std::string shared_path(const std::string& relative);  // under WAFER_SHARED_DIR
std::string read_file(const std::string& path);        // whole file; fails the test if missing
std::unique_ptr<Tokenizer> load_tokenizer(const std::string& gguf_path);  // asserts success

// A tiny vocabulary: the 256 byte-level tokens (ids 0..255, in byte order), then `extra`
// (byte-level texts) as normal tokens, then `specials` with their types.
struct TinyVocab {
  std::string pre = "qwen2";
  std::vector<std::string> extra;
  std::vector<std::string> merges;  // "left right"
  std::vector<std::pair<std::string, TokenType>> specials;
  std::vector<std::pair<std::string, std::string>> string_keys;  // more metadata
  std::vector<std::pair<std::string, int32_t>> int_keys;
  std::vector<std::pair<std::string, bool>> bool_keys;
};
// The serialized GGUF of a TinyVocab.
std::vector<uint8_t> tiny_vocab_gguf(const TinyVocab& v);
Result<std::unique_ptr<Tokenizer>> make_tiny_tokenizer(const TinyVocab& v);

// Byte-level text of raw bytes ("a b" -> "aĠb").
std::string byte_level(std::string_view bytes);

}  // namespace wafer::test
