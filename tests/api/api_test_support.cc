// Test helpers: shared files, the Qwen2 tokenizer, fixture loading.
#include "api_test_support.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "gguf/gguf.h"

namespace wafer::api::test {

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

const Tokenizer& qwen_tokenizer() {
  static const std::unique_ptr<Tokenizer> tokenizer = [] {
    auto file = GgufFile::open(shared_path("vocab/ggml-vocab-qwen2.gguf"));
    if (!file.ok()) {
      ADD_FAILURE() << file.error().message;
      std::abort();
    }
    auto tok = Tokenizer::from_gguf(**file);
    if (!tok.ok()) {
      ADD_FAILURE() << tok.error().message;
      std::abort();
    }
    return std::move(tok).value();
  }();
  return *tokenizer;
}

std::vector<Fixture> load_fixtures() {
  namespace fs = std::filesystem;
  fs::path root = shared_path("fixtures/codex-0.169");
  std::vector<Fixture> out;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".json") continue;
    std::string text = read_file(entry.path().string());
    boost::system::error_code ec;
    boost::json::value value = boost::json::parse(text, ec);
    EXPECT_FALSE(ec) << entry.path() << ": " << ec.message();
    out.push_back({fs::relative(entry.path(), root).string(), std::move(value)});
  }
  std::sort(out.begin(), out.end(),
            [](const Fixture& a, const Fixture& b) { return a.path < b.path; });
  return out;
}

}  // namespace wafer::api::test
