// Shared set-up for the end-to-end server tests: one engine over the golden tiny Qwen2 model
// for the whole test program, and a fresh Server on an ephemeral loopback port per test.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include <fmt/core.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "server/server.h"
#include "test_client.h"
#include "wafer/engine.h"

namespace wafer::server::testing {

inline std::string golden_model() { return std::string(WAFER_SHARED_DIR) + "/golden/tiny-qwen2-q8_0.gguf"; }

inline std::unique_ptr<Engine> make_engine(int max_pending = 8) {
  EngineConfig config;
  config.model_path = golden_model();
  config.threads = 2;
  config.max_pending = max_pending;
  auto engine = Engine::create(config);
  if (!engine.ok()) ADD_FAILURE() << engine.error().message;
  return engine.ok() ? std::move(*engine) : nullptr;
}

// One engine for the whole program: loading it once keeps the tests fast.
inline Engine& shared_engine() {
  static std::unique_ptr<Engine> engine = make_engine();
  return *engine;
}

inline std::filesystem::path test_dir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              fmt::format("wafer-server-test-{}", ::getpid()) /
                              fmt::format("{}.{}", info->test_suite_name(), info->name());
  std::filesystem::create_directories(dir);
  return dir;
}

inline std::shared_ptr<spdlog::logger> quiet_logger() {
  auto logger = std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  logger->set_level(spdlog::level::warn);
  return logger;
}

inline ServerConfig test_config(const std::filesystem::path& dir) {
  ServerConfig config;
  config.port = 0;
  config.store_path = (dir / "responses.db").string();
  config.logger = quiet_logger();
  config.drain_timeout_s = 5;
  return config;
}

inline std::unique_ptr<Server> start_server(Engine& engine, ServerConfig config) {
  auto server = Server::start(engine, std::move(config));
  if (!server.ok()) {
    ADD_FAILURE() << server.error().message;
    return nullptr;
  }
  return std::move(*server);
}

}  // namespace wafer::server::testing
