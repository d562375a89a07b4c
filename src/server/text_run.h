// A Chat Completions or legacy Completions generation over HTTP: engine tokens go through a
// ChunkFormatter (the api writers) and out as `data:` SSE lines ending in `data: [DONE]`,
// or as one JSON body. Lives on the connection's strand; keep it in a shared_ptr.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "server/exchange.h"
#include "wafer/engine.h"

namespace wafer::server {

struct ServerState;

// api::ChatWriter (with its tool-call parser) or api::CompletionWriter behind one face.
class ChunkFormatter {
 public:
  virtual ~ChunkFormatter() = default;
  virtual std::vector<std::string> push(std::string_view text) = 0;  // chunk JSONs
  virtual std::vector<std::string> finish(std::string_view finish_reason, const Usage& usage) = 0;
  virtual std::string completion_json() const = 0;  // the non-streamed answer
};

class TextRun : public std::enable_shared_from_this<TextRun> {
 public:
  TextRun(ServerState& state, std::shared_ptr<Exchange> exchange, std::unique_ptr<ChunkFormatter> formatter,
          bool stream, std::string route);
  // Submits; an error means nothing was sent: the caller answers it.
  Status start(GenerationRequest request);

 private:
  void on_engine_event(Event&& event);
  void send(std::vector<std::string>&& chunks);

  ServerState& state_;
  std::shared_ptr<Exchange> exchange_;
  std::unique_ptr<ChunkFormatter> formatter_;
  bool stream_;
  std::string route_;
  RequestHandle handle_;
  bool finished_ = false;
};

}  // namespace wafer::server
