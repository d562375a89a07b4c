// The golden prompts (shared/golden/*.json, ids from llama.cpp's tokenizer with special
// tokens parsed and no BOS) must tokenise to exactly their prompt_ids.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>

#include "test_support.h"

namespace wafer {
namespace {

TEST(GoldenPrompts, MatchPromptIds) {
  namespace fs = std::filesystem;
  size_t files = 0;
  for (const fs::directory_entry& e : fs::directory_iterator(test::shared_path("golden"))) {
    if (e.path().extension() != ".json") continue;
    boost::json::value doc = boost::json::parse(test::read_file(e.path().string()));
    const boost::json::object& root = doc.as_object();
    // "model" names the GGUF beside the JSON (possibly with a directory in front).
    std::string model = fs::path(std::string(root.at("model").as_string())).filename().string();
    auto tok = test::load_tokenizer(test::shared_path("golden/" + model));
    ASSERT_TRUE(tok) << model;
    size_t index = 0;
    for (const boost::json::value& c : root.at("cases").as_array()) {
      std::string prompt(c.at("prompt").as_string());
      std::vector<TokenId> want;
      for (const boost::json::value& id : c.at("prompt_ids").as_array())
        want.push_back(static_cast<TokenId>(id.as_int64()));
      EXPECT_EQ(tok->encode(prompt, true, false), want)
          << e.path().filename() << " case " << index << ": '" << prompt << "'";
      ++index;
    }
    EXPECT_GT(index, 0u) << e.path();
    ++files;
  }
  EXPECT_GE(files, 5u);
}

}  // namespace
}  // namespace wafer
