// ResponseStore over the SQLite C API: one table, prepared statements per call (calls are
// rare next to generation), errors returned with SQLite's own message.
#include "server/store.h"

#include <cstdlib>
#include <filesystem>
#include <system_error>

#include <sqlite3.h>

namespace wafer::server {
namespace {

// Finalises a statement on every path out.
struct Statement {
  sqlite3_stmt* stmt = nullptr;
  ~Statement() { sqlite3_finalize(stmt); }
};

Error sqlite_error(sqlite3* db, std::string_view what) {
  return make_error(ErrorCode::kIo, "response store: {}: {}", what, sqlite3_errmsg(db));
}

}  // namespace

std::string default_store_path() {
  const char* xdg = std::getenv("XDG_DATA_HOME");
  if (xdg != nullptr && xdg[0] != '\0') return std::string(xdg) + "/wafer/responses.db";
  const char* home = std::getenv("HOME");
  const std::string base = (home != nullptr && home[0] != '\0') ? home : ".";
  return base + "/.local/share/wafer/responses.db";
}

Result<std::unique_ptr<ResponseStore>> ResponseStore::open(const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) return make_error(ErrorCode::kIo, "--store {}: cannot create {}: {}", path, parent.string(), ec.message());
  }
  sqlite3* db = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;
  if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    Error error = make_error(ErrorCode::kIo, "--store {}: {}", path, db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    return error;
  }
  sqlite3_busy_timeout(db, 5000);
  std::unique_ptr<ResponseStore> store(new ResponseStore(db, path));
  WAFER_RETURN_IF_ERROR(store->exec("PRAGMA journal_mode=WAL"));
  WAFER_RETURN_IF_ERROR(store->exec("PRAGMA synchronous=FULL"));
  WAFER_RETURN_IF_ERROR(store->exec(
      "CREATE TABLE IF NOT EXISTS responses ("
      " id TEXT PRIMARY KEY,"
      " created_at INTEGER NOT NULL,"
      " response TEXT NOT NULL,"
      " context TEXT NOT NULL)"));
  return store;
}

ResponseStore::~ResponseStore() { sqlite3_close(db_); }

Status ResponseStore::exec(const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    Error error = make_error(ErrorCode::kIo, "response store ({}): {}: {}", path_, sql, message ? message : "?");
    sqlite3_free(message);
    return error;
  }
  return {};
}

Status ResponseStore::put(const StoredResponse& response) {
  std::lock_guard lock(mutex_);
  Statement s;
  const char* sql = "INSERT OR REPLACE INTO responses (id, created_at, response, context) VALUES (?, ?, ?, ?)";
  if (sqlite3_prepare_v2(db_, sql, -1, &s.stmt, nullptr) != SQLITE_OK) return sqlite_error(db_, "prepare insert");
  sqlite3_bind_text(s.stmt, 1, response.id.data(), static_cast<int>(response.id.size()), SQLITE_STATIC);
  sqlite3_bind_int64(s.stmt, 2, response.created_at);
  sqlite3_bind_text(s.stmt, 3, response.response_json.data(), static_cast<int>(response.response_json.size()), SQLITE_STATIC);
  sqlite3_bind_text(s.stmt, 4, response.context_json.data(), static_cast<int>(response.context_json.size()), SQLITE_STATIC);
  if (sqlite3_step(s.stmt) != SQLITE_DONE) return sqlite_error(db_, "insert");
  return {};
}

Result<std::optional<StoredResponse>> ResponseStore::get(std::string_view id) {
  std::lock_guard lock(mutex_);
  Statement s;
  const char* sql = "SELECT id, created_at, response, context FROM responses WHERE id = ?";
  if (sqlite3_prepare_v2(db_, sql, -1, &s.stmt, nullptr) != SQLITE_OK) return sqlite_error(db_, "prepare select");
  sqlite3_bind_text(s.stmt, 1, id.data(), static_cast<int>(id.size()), SQLITE_STATIC);
  const int rc = sqlite3_step(s.stmt);
  if (rc == SQLITE_DONE) return std::optional<StoredResponse>();
  if (rc != SQLITE_ROW) return sqlite_error(db_, "select");
  auto text = [&](int column) {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s.stmt, column));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(s.stmt, column))) : std::string();
  };
  StoredResponse out;
  out.id = text(0);
  out.created_at = sqlite3_column_int64(s.stmt, 1);
  out.response_json = text(2);
  out.context_json = text(3);
  return std::optional<StoredResponse>(std::move(out));
}

Result<bool> ResponseStore::remove(std::string_view id) {
  std::lock_guard lock(mutex_);
  Statement s;
  if (sqlite3_prepare_v2(db_, "DELETE FROM responses WHERE id = ?", -1, &s.stmt, nullptr) != SQLITE_OK)
    return sqlite_error(db_, "prepare delete");
  sqlite3_bind_text(s.stmt, 1, id.data(), static_cast<int>(id.size()), SQLITE_STATIC);
  if (sqlite3_step(s.stmt) != SQLITE_DONE) return sqlite_error(db_, "delete");
  return sqlite3_changes(db_) > 0;
}

}  // namespace wafer::server
