// libFuzzer target for src/api: arbitrary bytes as Responses / WebSocket / Chat / Completions
// request bodies (then their conversations rendered in both chat formats), and as model
// output through the ToolCallParser and the stream writers. Nothing may crash; the parser
// must return every byte of text it is given when no tools are declared.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "api/chat.h"
#include "api/completions.h"
#include "api/errors.h"
#include "api/prompt.h"
#include "api/responses.h"
#include "api/responses_stream.h"
#include "api/tool_call_parser.h"

namespace {

using namespace wafer;
using namespace wafer::api;

size_t touch_error(const Error& error) {
  ApiError api = to_api_error(error);
  return error_body_json(api).size() + ws_error_frame_json(api, "s").size();
}

size_t render_both(const Conversation& c) {
  return render_prompt_text(ChatFormat::kChatMl, c, "sys").size() +
         render_prompt_text(ChatFormat::kLlama3, c).size();
}

// Splits `text` into chunks whose sizes come from `sizes`, feeding the parser and a writer.
size_t run_output(std::string_view text, std::string_view sizes, const ResponsesRequest& request,
                  ChatFormat format, bool reasoning) {
  ToolCallParser parser(format, request.tools, reasoning);
  ResponseStreamWriter writer(request, "m", make_counter_id_generator(), 0);
  ChatWriter chat("c", "m", 0, true, make_counter_id_generator());
  size_t total = writer.start().size();
  std::string plain;
  auto feed = [&](const std::vector<OutputEvent>& events) {
    for (const OutputEvent& e : events) {
      if (e.kind == OutputEvent::Kind::kText) plain += e.text;
      total += writer.push(e).size() + chat.push(e).size();
    }
  };
  size_t at = 0;
  for (size_t i = 0; at < text.size(); ++i) {
    size_t n = 1 + (i < sizes.size() ? static_cast<uint8_t>(sizes[i]) % 16 : text.size());
    n = std::min(n, text.size() - at);
    feed(parser.push(text.substr(at, n)));
    at += n;
  }
  feed(parser.finish());
  if (request.tools.empty() && !reasoning && plain != text) __builtin_trap();
  total += writer.finish("length", Usage{1, 0, 1}).size() + writer.response_json().size();
  total += chat.finish("stop", Usage{}).size() + chat.completion_json().size();
  return total;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  volatile size_t sink = 0;
  switch (data[0] % 6) {
    case 0: {
      Result<ResponsesRequest> r = parse_responses_request(body);
      if (!r.ok()) { sink = sink + touch_error(r.error()); break; }
      sink = sink + render_both(responses_conversation(*r, r->input));
      for (const ResponseItem& item : r->input) sink = sink + item_to_json(item).size();
      break;
    }
    case 1: {
      Result<WsClientMessage> m = parse_ws_client_message(body);
      if (!m.ok()) { sink = sink + touch_error(m.error()); break; }
      sink = sink + render_both(responses_conversation(m->create, {}));
      break;
    }
    case 2: {
      Result<ChatRequest> r = parse_chat_request(body);
      if (!r.ok()) { sink = sink + touch_error(r.error()); break; }
      sink = sink + render_both(chat_conversation(*r));
      break;
    }
    case 3: {
      Result<CompletionRequest> r = parse_completion_request(body);
      if (!r.ok()) { sink = sink + touch_error(r.error()); break; }
      sink = sink + r->prompt.size();
      break;
    }
    default: {
      // Model output: the first byte of the body picks the format and tools, the next 32
      // the chunk sizes, the rest is the generated text.
      uint8_t mode = body.empty() ? 0 : static_cast<uint8_t>(body[0]);
      std::string_view rest = body.empty() ? body : body.substr(1);
      std::string_view sizes = rest.substr(0, std::min<size_t>(32, rest.size()));
      std::string_view text = rest.substr(sizes.size());
      ResponsesRequest request;
      if (mode & 1) {
        Tool f;
        f.name = "exec_command";
        Tool patch;
        patch.kind = Tool::Kind::kCustom;
        patch.name = "apply_patch";
        request.tools = {f, patch};
      }
      ChatFormat format = (mode & 2) ? ChatFormat::kLlama3 : ChatFormat::kChatMl;
      sink = sink + run_output(text, sizes, request, format, (mode & 4) != 0);
      break;
    }
  }
  return 0;
}
