// ResponseStore: put/get/remove, replace, persistence across reopen, WAL mode, bad paths.
#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "server/store.h"

namespace wafer::server {
namespace {

std::filesystem::path fresh_dir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  auto dir = std::filesystem::temp_directory_path() / ("wafer-store-test-" + std::to_string(::getpid())) / info->name();
  std::filesystem::remove_all(dir);
  return dir;
}

StoredResponse sample(std::string id) {
  return StoredResponse{std::move(id), 1700000000, R"({"id":"x","output":[]})", R"({"input":[]})"};
}

TEST(ResponseStore, PutGetRemove) {
  const auto dir = fresh_dir();
  auto store = ResponseStore::open((dir / "sub" / "r.db").string());  // folders are created
  ASSERT_TRUE(store.ok()) << store.error().message;
  ResponseStore& s = **store;
  EXPECT_FALSE(s.get("resp_1")->has_value());
  ASSERT_TRUE(s.put(sample("resp_1")).ok());
  auto got = s.get("resp_1");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->created_at, 1700000000);
  EXPECT_EQ((*got)->response_json, R"({"id":"x","output":[]})");
  EXPECT_EQ((*got)->context_json, R"({"input":[]})");

  StoredResponse replaced = sample("resp_1");
  replaced.response_json = "{}";
  ASSERT_TRUE(s.put(replaced).ok());
  EXPECT_EQ((*s.get("resp_1"))->response_json, "{}");

  EXPECT_TRUE(*s.remove("resp_1"));
  EXPECT_FALSE(*s.remove("resp_1"));
  EXPECT_FALSE(s.get("resp_1")->has_value());
}

TEST(ResponseStore, SurvivesReopenAndUsesWal) {
  const auto dir = fresh_dir();
  const std::string path = (dir / "r.db").string();
  {
    auto store = ResponseStore::open(path);
    ASSERT_TRUE(store.ok());
    // Ids and JSON may hold any bytes, quotes and NULs included.
    StoredResponse odd = sample("resp_'quoted\"");
    odd.response_json = std::string("{\"a\":\"\\u0000\"}");
    ASSERT_TRUE((*store)->put(odd).ok());
  }
  auto store = ResponseStore::open(path);
  ASSERT_TRUE(store.ok());
  auto got = (*store)->get("resp_'quoted\"");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->response_json, std::string("{\"a\":\"\\u0000\"}"));

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "wal");
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

TEST(ResponseStore, UnusablePathIsAnErrorNamingIt) {
  const auto dir = fresh_dir();
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "a-directory").string();
  std::filesystem::create_directories(path);
  auto store = ResponseStore::open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().message.find(path), std::string::npos) << store.error().message;
}

TEST(ResponseStore, DefaultPathFollowsXdg) {
  const char* old = std::getenv("XDG_DATA_HOME");
  const std::string saved = old ? old : "";
  setenv("XDG_DATA_HOME", "/tmp/xdg-test", 1);
  EXPECT_EQ(default_store_path(), "/tmp/xdg-test/wafer/responses.db");
  unsetenv("XDG_DATA_HOME");
  EXPECT_TRUE(default_store_path().ends_with("/.local/share/wafer/responses.db"));
  if (old) setenv("XDG_DATA_HOME", saved.c_str(), 1);
}

}  // namespace
}  // namespace wafer::server
