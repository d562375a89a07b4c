// Test helpers: file access and TinyVocab -> GGUF bytes -> Tokenizer.
#include "test_support.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "tokenizer/byte_level.h"

namespace wafer::test {

std::string shared_path(const std::string& relative) {
  return std::string(WAFER_SHARED_DIR) + "/" + relative;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::unique_ptr<Tokenizer> load_tokenizer(const std::string& gguf_path) {
  auto file = GgufFile::open(gguf_path);
  if (!file.ok()) {
    ADD_FAILURE() << gguf_path << ": " << file.error().message;
    return nullptr;
  }
  auto tok = Tokenizer::from_gguf(**file);
  if (!tok.ok()) {
    ADD_FAILURE() << gguf_path << ": " << tok.error().message;
    return nullptr;
  }
  return std::move(tok).value();
}

std::string byte_level(std::string_view bytes) {
  std::string out;
  append_byte_level_text(bytes, &out);
  return out;
}

std::vector<uint8_t> tiny_vocab_gguf(const TinyVocab& v) {
  std::vector<std::string> tokens;
  std::vector<int32_t> types;
  for (int b = 0; b < 256; ++b) {
    tokens.push_back(byte_level(std::string(1, static_cast<char>(b))));
    types.push_back(static_cast<int32_t>(TokenType::kNormal));
  }
  for (const std::string& t : v.extra) {
    tokens.push_back(t);
    types.push_back(static_cast<int32_t>(TokenType::kNormal));
  }
  for (const auto& [text, type] : v.specials) {
    tokens.push_back(text);
    types.push_back(static_cast<int32_t>(type));
  }
  GgufWriter w;
  w.set_string("tokenizer.ggml.model", "gpt2");
  w.set_string("tokenizer.ggml.pre", v.pre);
  w.set_string_array("tokenizer.ggml.tokens", tokens);
  w.set_i32_array("tokenizer.ggml.token_type", types);
  w.set_string_array("tokenizer.ggml.merges", v.merges);
  for (const auto& [k, s] : v.string_keys) w.set_string(k, s);
  for (const auto& [k, i] : v.int_keys) w.set_i32(k, i);
  for (const auto& [k, b] : v.bool_keys) w.set_bool(k, b);
  return w.serialize();
}

Result<std::unique_ptr<Tokenizer>> make_tiny_tokenizer(const TinyVocab& v) {
  std::vector<uint8_t> bytes = tiny_vocab_gguf(v);
  WAFER_ASSIGN_OR_RETURN(std::unique_ptr<GgufFile> file,
                         GgufFile::parse(MappedFile::borrow({bytes.data(), bytes.size()})));
  return Tokenizer::from_gguf(*file);  // copies what it needs; `bytes` may go
}

}  // namespace wafer::test
