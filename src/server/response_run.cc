// ResponseRun: request -> conversation -> prompt -> engine; engine tokens -> ToolCallParser ->
// ResponseStreamWriter events; the terminal event also stores the response (store:true)
// before it is emitted, so a client that chains on it at once finds it.
#include "server/response_run.h"

#include <chrono>

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include "api/errors.h"
#include "api/output_grammar.h"
#include "api/prompt.h"
#include "api/sampling_fields.h"
#include "server/engine_call.h"
#include "server/server_state.h"
#include "server/stored_context.h"

namespace wafer::server {

namespace {

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The text a chat format appends to open the assistant's turn.
std::string_view generation_prompt_text(ChatFormat format) {
  switch (format) {
    case ChatFormat::kChatMl:
    case ChatFormat::kQwen3Coder: return "<|im_start|>assistant\n";
    case ChatFormat::kLlama3: return "<|start_header_id|>assistant<|end_header_id|>\n\n";
  }
  return "";
}

// A warm-up prefills the context as the next turn will see it: without the opening of an
// assistant turn, which the next turn's prompt will not have at that position.
void strip_generation_prompt(const Tokenizer& tokenizer, ChatFormat format, std::vector<TokenId>& tokens) {
  const std::vector<TokenId> tail = tokenizer.encode(generation_prompt_text(format), true, false);
  if (tail.empty() || tail.size() >= tokens.size()) return;
  if (std::equal(tail.begin(), tail.end(), tokens.end() - static_cast<std::ptrdiff_t>(tail.size())))
    tokens.resize(tokens.size() - tail.size());
}

}  // namespace

ResponseRun::ResponseRun(ServerState& state, boost::asio::any_io_executor executor, api::ResponsesRequest request,
                         std::vector<api::ResponseItem> history, std::string cache_slot, Callbacks callbacks)
    : state_(state),
      executor_(std::move(executor)),
      request_(std::move(request)),
      history_(std::move(history)),
      cache_slot_(std::move(cache_slot)),
      callbacks_(std::move(callbacks)),
      created_at_(unix_now()),
      writer_(request_, state.model_id, api::make_random_id_generator(), created_at_) {}

int64_t ResponseRun::max_tokens() const {
  int64_t cap = state_.config.max_output_tokens > 0 ? state_.config.max_output_tokens : -1;
  if (request_.max_output_tokens && *request_.max_output_tokens > 0)
    cap = cap < 0 ? *request_.max_output_tokens : std::min(cap, *request_.max_output_tokens);
  return cap;
}

Status ResponseRun::start() {
  const Tokenizer& tokenizer = state_.engine.tokenizer();
  const api::Conversation conversation = api::responses_conversation(request_, history_);
  WAFER_ASSIGN_OR_RETURN(api::Prompt prompt, api::build_prompt(tokenizer, state_.chat_format, conversation,
                                                                         request_.cache_prompt ? &state_.encode_memo : nullptr));
  if (!request_.generate) strip_generation_prompt(tokenizer, state_.chat_format, prompt.tokens);

  api::OutputFormat format;
  using TK = api::TextFormat::Kind;
  format.kind = request_.text_format.kind == TK::kJsonObject   ? api::OutputFormat::Kind::kJsonObject
                : request_.text_format.kind == TK::kJsonSchema ? api::OutputFormat::Kind::kJsonSchema
                                                               : api::OutputFormat::Kind::kText;
  format.schema = request_.text_format.schema;
  format.strict = request_.text_format.strict;
  WAFER_ASSIGN_OR_RETURN(api::OutputGrammar constraint, api::output_grammar(state_.chat_format, conversation, format));

  GenerationRequest gen;
  gen.request_id = writer_.id();
  gen.grammar = std::move(constraint.grammar);
  gen.grammar_trigger = std::move(constraint.trigger);
  if (!request_.prediction.empty()) gen.prediction = tokenizer.encode(request_.prediction, false, false);
  gen.prompt = std::move(prompt.tokens);
  WAFER_ASSIGN_OR_RETURN(gen.sampling,
                         api::to_sampling_params(request_.sampling, SamplingParams{}, tokenizer.vocab_size()));
  gen.max_tokens = max_tokens();
  gen.cache_slot = cache_slot_;
  gen.generate = request_.generate;
  gen.cache_prompt = request_.cache_prompt;

  parser_.emplace(state_.chat_format, conversation.tools, state_.engine.model_info().architecture == "qwen3");
  auto self = shared_from_this();
  WAFER_ASSIGN_OR_RETURN(RequestHandle handle,
                         submit_generation(state_, std::move(gen), "/v1/responses", executor_,
                                           [self](Event&& event) { self->on_engine_event(std::move(event)); }));
  handle_ = handle;
  emit(writer_.start());
  if (!prompt.assistant_prefix.empty()) push_output(parser_->push(prompt.assistant_prefix));
  return {};
}

void ResponseRun::cancel() {
  if (handle_) handle_->cancel();
}

void ResponseRun::emit(std::vector<api::StreamEvent>&& events) {
  if (!callbacks_.on_event) return;
  for (const api::StreamEvent& event : events) callbacks_.on_event(event);
}

void ResponseRun::push_output(std::vector<api::OutputEvent>&& events) {
  for (const api::OutputEvent& event : events) emit(writer_.push(event));
}

void ResponseRun::on_engine_event(Event&& event) {
  if (finished_) return;
  if (auto* token = std::get_if<TokenEvent>(&event)) {
    if (!token->text.empty()) push_output(parser_->push(token->text));
    return;
  }
  if (auto* done = std::get_if<DoneEvent>(&event)) {
    push_output(parser_->finish());
    return finish_with(writer_.finish(done->finish_reason, done->usage));
  }
  const Error& error = std::get<ErrorEvent>(event).error;
  push_output(parser_->finish());
  finish_with(writer_.fail(api::to_api_error(error)));
}

void ResponseRun::finish_with(std::vector<api::StreamEvent>&& terminal) {
  finished_ = true;
  ResponseOutcome outcome;
  outcome.id = writer_.id();
  outcome.status = writer_.status();
  outcome.response_json = writer_.response_json();
  outcome.input = std::move(history_);
  outcome.input.insert(outcome.input.end(), request_.input.begin(), request_.input.end());
  outcome.output = writer_.output();
  if (request_.store && state_.store) {
    StoredResponse stored;
    stored.id = outcome.id;
    stored.created_at = created_at_;
    stored.response_json = outcome.response_json;
    stored.context_json = context_to_json(outcome.input, request_);
    // The terminal event goes out only once the row is durable, so a client that chains on
    // it at once (or after a crash of the server) finds it.
    auto self = shared_from_this();
    auto gate = state_.gate;
    net::post(state_.store_executor, [self, gate, stored = std::move(stored), terminal = std::move(terminal),
                                      outcome = std::move(outcome)]() mutable {
      if (Status s = self->state_.store->put(stored); !s.ok())
        self->state_.logger->error("event=store_failed request_id={} error=\"{}\"", stored.id, s.error().message);
      gate->post(self->executor_, [self, terminal = std::move(terminal), outcome = std::move(outcome)]() mutable {
        self->deliver(std::move(terminal), std::move(outcome));
      });
    });
    return;
  }
  deliver(std::move(terminal), std::move(outcome));
}

void ResponseRun::deliver(std::vector<api::StreamEvent>&& terminal, ResponseOutcome&& outcome) {
  emit(std::move(terminal));
  if (callbacks_.on_done) callbacks_.on_done(std::move(outcome));
}

}  // namespace wafer::server
