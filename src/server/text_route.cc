// POST /v1/chat/completions and POST /v1/completions: parse, build the prompt, and hand the
// generation to a TextRun with the matching api writer.
#include <chrono>
#include <optional>

#include "api/chat.h"
#include "api/completions.h"
#include "api/output_grammar.h"
#include "api/prompt.h"
#include "api/sampling_fields.h"
#include "api/tool_call_parser.h"
#include "server/replies.h"
#include "server/routes.h"
#include "server/server_state.h"
#include "server/text_run.h"

namespace wafer::server {

namespace {

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class ChatFormatter final : public ChunkFormatter {
 public:
  ChatFormatter(api::ChatWriter writer, api::ToolCallParser parser, std::string assistant_prefix)
      : writer_(std::move(writer)), parser_(std::move(parser)), prefix_(std::move(assistant_prefix)) {}
  std::vector<std::string> push(std::string_view text) override {
    std::vector<std::string> out;
    if (!prefix_.empty()) append(parser_.push(std::exchange(prefix_, std::string())), out);
    append(parser_.push(text), out);
    return out;
  }
  std::vector<std::string> finish(std::string_view finish_reason, const Usage& usage) override {
    std::vector<std::string> out;
    if (!prefix_.empty()) append(parser_.push(std::exchange(prefix_, std::string())), out);
    append(parser_.finish(), out);
    for (std::string& chunk : writer_.finish(finish_reason, usage)) out.push_back(std::move(chunk));
    return out;
  }
  std::string completion_json() const override { return writer_.completion_json(); }

 private:
  void append(std::vector<api::OutputEvent>&& events, std::vector<std::string>& out) {
    for (const api::OutputEvent& event : events)
      for (std::string& chunk : writer_.push(event)) out.push_back(std::move(chunk));
  }
  api::ChatWriter writer_;
  api::ToolCallParser parser_;
  std::string prefix_;  // a forced tool call's opening, fed to the parser first
};

class CompletionFormatter final : public ChunkFormatter {
 public:
  explicit CompletionFormatter(api::CompletionWriter writer) : writer_(std::move(writer)) {}
  std::vector<std::string> push(std::string_view text) override { return writer_.push(text); }
  std::vector<std::string> finish(std::string_view finish_reason, const Usage& usage) override {
    return writer_.finish(finish_reason, usage);
  }
  std::string completion_json() const override { return writer_.completion_json(); }

 private:
  api::CompletionWriter writer_;
};

int64_t capped_max_tokens(const ServerState& state, std::optional<int64_t> asked) {
  int64_t cap = state.config.max_output_tokens > 0 ? state.config.max_output_tokens : -1;
  if (asked && *asked > 0) cap = cap < 0 ? *asked : std::min(cap, *asked);
  return cap;
}

void run_text(ServerState& state, std::shared_ptr<Exchange> exchange, std::unique_ptr<ChunkFormatter> formatter,
              bool stream, std::string route, GenerationRequest gen) {
  auto run = std::make_shared<TextRun>(state, exchange, std::move(formatter), stream, std::move(route));
  if (Status started = run->start(std::move(gen)); !started.ok()) exchange->respond(error_reply(started.error()));
}

}  // namespace

void handle_chat_completions(ServerState& state, std::shared_ptr<Exchange> exchange, StringRequest&& request) {
  auto parsed = api::parse_chat_request(request.body());
  if (!parsed.ok()) return exchange->respond(error_reply(parsed.error()));
  const api::ChatRequest& req = *parsed;
  const Tokenizer& tokenizer = state.engine.tokenizer();
  const api::Conversation conversation = api::chat_conversation(req);
  auto prompt = api::build_prompt(tokenizer, state.chat_format, conversation,
                                  req.cache_prompt ? &state.encode_memo : nullptr);
  if (!prompt.ok()) return exchange->respond(error_reply(prompt.error()));
  auto sampling = api::to_sampling_params(req.sampling, SamplingParams{}, tokenizer.vocab_size());
  if (!sampling.ok()) return exchange->respond(error_reply(sampling.error()));
  api::OutputFormat format;
  if (req.json_response) {
    format.kind = req.response_schema.is_null() ? api::OutputFormat::Kind::kJsonObject : api::OutputFormat::Kind::kJsonSchema;
    format.schema = req.response_schema;
    format.strict = req.response_schema_strict;
  }
  auto constraint = api::output_grammar(state.chat_format, conversation, format);
  if (!constraint.ok()) return exchange->respond(error_reply(constraint.error()));

  GenerationRequest gen;
  gen.request_id = state.new_id("chatcmpl-");
  gen.grammar = std::move(constraint->grammar);
  gen.grammar_trigger = std::move(constraint->trigger);
  if (!req.prediction.empty()) gen.prediction = tokenizer.encode(req.prediction, false, false);
  gen.prompt = std::move(prompt->tokens);
  gen.sampling = std::move(*sampling);
  gen.max_tokens = capped_max_tokens(state, req.max_tokens);
  gen.stop = req.stop;
  gen.cache_prompt = req.cache_prompt;
  api::ChatWriter writer(gen.request_id, state.model_id, unix_now(), req.include_usage, api::make_random_id_generator());
  api::ToolCallParser parser(state.chat_format, conversation.tools, state.engine.model_info().architecture == "qwen3");
  auto formatter = std::make_unique<ChatFormatter>(std::move(writer), std::move(parser), prompt->assistant_prefix);
  run_text(state, std::move(exchange), std::move(formatter), req.stream, "/v1/chat/completions", std::move(gen));
}

void handle_completions(ServerState& state, std::shared_ptr<Exchange> exchange, StringRequest&& request) {
  auto parsed = api::parse_completion_request(request.body());
  if (!parsed.ok()) return exchange->respond(error_reply(parsed.error()));
  const api::CompletionRequest& req = *parsed;
  const Tokenizer& tokenizer = state.engine.tokenizer();
  auto prompt = api::build_completion_prompt(tokenizer, req);
  if (!prompt.ok()) return exchange->respond(error_reply(prompt.error()));
  auto sampling = api::to_sampling_params(req.sampling, SamplingParams{}, tokenizer.vocab_size());
  if (!sampling.ok()) return exchange->respond(error_reply(sampling.error()));

  GenerationRequest gen;
  gen.request_id = state.new_id("cmpl-");
  gen.prompt = std::move(prompt->tokens);
  gen.sampling = std::move(*sampling);
  gen.max_tokens = capped_max_tokens(state, req.max_tokens);
  gen.stop = req.stop;
  gen.cache_prompt = req.cache_prompt;
  api::CompletionWriter writer(gen.request_id, state.model_id, unix_now(), req.include_usage);
  auto formatter = std::make_unique<CompletionFormatter>(std::move(writer));
  run_text(state, std::move(exchange), std::move(formatter), req.stream, "/v1/completions", std::move(gen));
}

}  // namespace wafer::server
