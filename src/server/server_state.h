// What every session shares (Beast examples' shared_state): the engine, configuration,
// metrics, the store and its thread, ids, and the gate through which engine events reach the
// network threads. Owned by the Server; sessions hold a reference and never outlive it.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/post.hpp>

#include "api/ids.h"
#include "server/metrics.h"
#include "tokenizer/encode_memo.h"
#include "server/server.h"
#include "server/store.h"
#include "wafer/engine.h"

namespace wafer::server {

namespace net = boost::asio;

// Carries work from the engine thread (and the store thread) onto network executors while
// the io_context lives; once closed, posts are dropped. Thread-safe.
class PostGate {
 public:
  void post(const net::any_io_executor& executor, std::function<void()> fn) {
    std::lock_guard lock(mutex_);
    if (open_) net::post(executor, std::move(fn));
  }
  void close() {
    std::lock_guard lock(mutex_);
    open_ = false;
  }

 private:
  std::mutex mutex_;
  bool open_ = true;
};

// Engine requests submitted and not yet finished, so stop() can cancel them and wait until
// the engine will post no more events. Thread-safe.
class InFlight {
 public:
  // Registers a request about to be submitted; attach() its handle once submit returns
  // (its terminal event, and so remove(), may come first).
  uint64_t reserve() {
    std::lock_guard lock(mutex_);
    handles_.emplace(next_, RequestHandle());
    return next_++;
  }
  void attach(uint64_t key, RequestHandle handle) {
    std::lock_guard lock(mutex_);
    if (auto it = handles_.find(key); it != handles_.end()) it->second = std::move(handle);
  }
  void remove(uint64_t key) {
    std::lock_guard lock(mutex_);
    handles_.erase(key);
    if (handles_.empty()) empty_.notify_all();
  }
  void cancel_all() {
    std::lock_guard lock(mutex_);
    for (auto& [key, handle] : handles_) handle.cancel();
  }
  template <typename Clock, typename Duration>
  bool wait_empty_until(std::chrono::time_point<Clock, Duration> deadline) {
    std::unique_lock lock(mutex_);
    return empty_.wait_until(lock, deadline, [&] { return handles_.empty(); });
  }

 private:
  std::mutex mutex_;
  std::condition_variable empty_;
  std::map<uint64_t, RequestHandle> handles_;
  uint64_t next_ = 1;
};

// Counts requests in progress (from the moment a request is accepted for work until its
// answer is written) so stop() can drain them.
class BusyCounter {
 public:
  void enter() {
    std::lock_guard lock(mutex_);
    ++busy_;
  }
  void leave() {
    std::lock_guard lock(mutex_);
    if (--busy_ == 0) idle_.notify_all();
  }
  // True when idle before the deadline.
  template <typename Clock, typename Duration>
  bool wait_idle_until(std::chrono::time_point<Clock, Duration> deadline) {
    std::unique_lock lock(mutex_);
    return idle_.wait_until(lock, deadline, [&] { return busy_ == 0; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable idle_;
  int busy_ = 0;
};

struct ServerState {
  ServerState(Engine& engine_in, ServerConfig config_in) : engine(engine_in), config(std::move(config_in)) {}

  Engine& engine;
  const ServerConfig config;
  std::string model_id;
  ChatFormat chat_format = ChatFormat::kChatMl;
  EncodeMemo encode_memo;  // earlier turns' messages, tokenised (histories are resent)
  Metrics metrics;
  std::unique_ptr<ResponseStore> store;       // null: store disabled
  net::any_io_executor store_executor;        // one thread, FIFO: a put before a get is seen
  std::shared_ptr<PostGate> gate = std::make_shared<PostGate>();
  InFlight in_flight;
  BusyCounter busy;
  std::atomic<bool> draining{false};
  std::atomic<uint64_t> next_connection_id{1};
  std::shared_ptr<spdlog::logger> logger;

  // Fresh ids ("resp_...", "msg_..."); thread-safe.
  std::string new_id(std::string_view prefix) {
    std::lock_guard lock(ids_mutex_);
    return ids_(prefix);
  }

 private:
  std::mutex ids_mutex_;
  api::IdGenerator ids_ = api::make_random_id_generator();
};

}  // namespace wafer::server
