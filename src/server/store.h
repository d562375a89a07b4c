// Stored responses (store:true) in SQLite, so GET /v1/responses/{id} and previous_response_id
// work over plain HTTP and across restarts. WAL journal, synchronous=FULL.
// Thread-safe (one connection under a mutex), but blocking: call it from the server's store
// thread, never from a network thread or the engine thread.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

struct sqlite3;

namespace wafer::server {

struct StoredResponse {
  std::string id;
  int64_t created_at = 0;     // unix seconds
  std::string response_json;  // the Response object as sent to the client
  // The context that produced it, as JSON: {"input": [every input item, earlier turns
  // included], "instructions": ..., "tools": [...]}.
  std::string context_json;
};

class ResponseStore {
 public:
  // Opens or creates the database at `path` (parent folders are created).
  static Result<std::unique_ptr<ResponseStore>> open(const std::string& path);
  ~ResponseStore();
  ResponseStore(const ResponseStore&) = delete;
  ResponseStore& operator=(const ResponseStore&) = delete;

  Status put(const StoredResponse& response);  // insert or replace
  Result<std::optional<StoredResponse>> get(std::string_view id);
  Result<bool> remove(std::string_view id);  // false: there was no such id

  const std::string& path() const { return path_; }

 private:
  ResponseStore(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  Status exec(const char* sql);

  std::mutex mutex_;
  sqlite3* db_;
  std::string path_;
};

// $XDG_DATA_HOME/wafer/responses.db, else ~/.local/share/wafer/responses.db.
std::string default_store_path();

}  // namespace wafer::server
