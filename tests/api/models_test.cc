// /v1/models and the Codex model catalog.
#include <gtest/gtest.h>

#include "api/models.h"
#include "api_test_support.h"

namespace wafer::api {
namespace {

namespace json = boost::json;

TEST(ModelsTest, List) {
  ModelInfo info{"qwen2.5-coder-7b", "qwen2", 32768, 151936};
  json::value v = json::parse(models_list_json(info, 99));
  EXPECT_EQ(v.at("object").as_string(), "list");
  ASSERT_EQ(v.at("data").as_array().size(), 1u);
  EXPECT_EQ(v.at("data").at(0).at("id").as_string(), "qwen2.5-coder-7b");
  EXPECT_EQ(v.at("data").at(0).at("object").as_string(), "model");
  EXPECT_EQ(v.at("data").at(0).at("created").as_int64(), 99);
  EXPECT_EQ(json::parse(model_json(info, 1)).at("owned_by").as_string(), "wafer");
}

TEST(ModelsTest, CodexCatalogHasEveryKeyOfTheAcceptedDocument) {
  ModelInfo info{"qwen2.5-coder-7b", "qwen2", 32768, 151936};
  json::value ours = json::parse(codex_model_catalog_json(info));
  json::value accepted =
      json::parse(test::read_file(test::shared_path("fixtures/codex-0.169/model-catalog-small.json")));
  const json::object& entry = ours.at("models").at(0).as_object();
  for (const auto& kv : accepted.at("models").at(0).as_object()) {
    ASSERT_TRUE(entry.contains(kv.key())) << kv.key();
    EXPECT_EQ(entry.at(kv.key()).kind(), kv.value().kind()) << kv.key();
  }
  EXPECT_EQ(entry.at("slug").as_string(), "qwen2.5-coder-7b");
  EXPECT_EQ(entry.at("context_window").as_int64(), 32768);
  EXPECT_LT(entry.at("auto_compact_token_limit").as_int64(), 32768);
  EXPECT_EQ(entry.at("apply_patch_tool_type").as_string(), "freeform");
  EXPECT_FALSE(entry.at("model_messages").at("instructions_template").as_string().empty());
}

}  // namespace
}  // namespace wafer::api
