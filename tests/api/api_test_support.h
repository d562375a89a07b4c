// Helpers for the api tests: shared data files, the Qwen2 vocabulary, the captured
// Codex/SDK fixtures.
#pragma once

#include <string>
#include <vector>

#include <boost/json.hpp>

#include "tokenizer/tokenizer.h"

namespace wafer::api::test {

std::string shared_path(const std::string& relative);  // under WAFER_SHARED_DIR
std::string read_file(const std::string& path);        // fails the test if unreadable
// ggml-vocab-qwen2.gguf, loaded once per process (immutable, shared).
const Tokenizer& qwen_tokenizer();

struct Fixture {
  std::string path;        // relative to the fixtures folder
  boost::json::value json; // the whole file
};
// Every *.json exchange under fixtures/codex-0.169 (sorted by path).
std::vector<Fixture> load_fixtures();

}  // namespace wafer::api::test
