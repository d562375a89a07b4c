// Chat formats (ChatML, Llama 3) and fill-in-the-middle prompts. wafer does not run Jinja:
// it recognises the format a model's template implements and renders that format itself.
#include <string>

#include "tokenizer/tokenizer.h"

namespace wafer {
namespace {

constexpr std::string_view kImStart = "<|im_start|>";
constexpr std::string_view kStartHeader = "<|start_header_id|>";

void render_chatml(const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                   std::string* out) {
  for (const ChatMessage& m : messages) {
    *out += fmt::format("<|im_start|>{}\n{}<|im_end|>\n", m.role, m.content);
  }
  if (add_generation_prompt) *out += "<|im_start|>assistant\n";
}

void render_llama3(const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                   std::string* out) {
  *out += "<|begin_of_text|>";
  for (const ChatMessage& m : messages) {
    *out += fmt::format("<|start_header_id|>{}<|end_header_id|>\n\n{}<|eot_id|>", m.role,
                        m.content);
  }
  if (add_generation_prompt) *out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
}

}  // namespace

const char* chat_format_name(ChatFormat format) {
  switch (format) {
    case ChatFormat::kChatMl: return "chatml";
    case ChatFormat::kLlama3: return "llama3";
    case ChatFormat::kQwen3Coder: return "qwen3-coder";
  }
  return "chatml";
}

Result<ChatFormat> detect_chat_format(const Tokenizer& tokenizer) {
  const std::string& tmpl = tokenizer.chat_template();
  if (tmpl.find(kStartHeader) != std::string::npos) return ChatFormat::kLlama3;
  if (tmpl.find(kImStart) != std::string::npos)
    return tmpl.find("<function=") != std::string::npos ? ChatFormat::kQwen3Coder : ChatFormat::kChatMl;
  // No template (or one wafer cannot read): fall back on the vocabulary's turn markers.
  if (tokenizer.find_token(kImStart)) return ChatFormat::kChatMl;
  if (tokenizer.find_token(kStartHeader)) return ChatFormat::kLlama3;
  std::string shown = tmpl.empty() ? std::string("no tokenizer.chat_template")
                                   : fmt::format("tokenizer.chat_template begins '{}'",
                                                 tmpl.substr(0, 60));
  return make_error(ErrorCode::kUnsupported,
                    "model has no chat template wafer recognises ({}; supported: ChatML with "
                    "<|im_start|>, Llama 3 with <|start_header_id|>); use a plain prompt instead",
                    shown);
}

std::string render_chat(ChatFormat format, const std::vector<ChatMessage>& messages,
                        bool add_generation_prompt) {
  std::string out;
  switch (format) {
    case ChatFormat::kChatMl:
    case ChatFormat::kQwen3Coder: render_chatml(messages, add_generation_prompt, &out); break;
    case ChatFormat::kLlama3: render_llama3(messages, add_generation_prompt, &out); break;
  }
  return out;
}

Result<std::vector<TokenId>> render_fim(const Tokenizer& tokenizer, std::string_view prefix,
                                        std::string_view suffix) {
  struct Role {
    std::optional<TokenId> id;
    std::string_view name;
    std::string_view key;
    std::string_view texts;
  };
  const Role roles[] = {
      {tokenizer.fim_prefix(), "prefix", "tokenizer.ggml.fim_pre_token_id",
       "<|fim_prefix|>, <fim_prefix>, <｜fim▁begin｜>"},
      {tokenizer.fim_suffix(), "suffix", "tokenizer.ggml.fim_suf_token_id",
       "<|fim_suffix|>, <fim_suffix>, <｜fim▁hole｜>"},
      {tokenizer.fim_middle(), "middle", "tokenizer.ggml.fim_mid_token_id",
       "<|fim_middle|>, <fim_middle>, <｜fim▁end｜>"},
  };
  for (const Role& r : roles) {
    if (!r.id) {
      return make_error(ErrorCode::kUnsupported,
                        "model has no fill-in-the-middle {} token (no {} and none of {} in the "
                        "vocabulary); it cannot do FIM completion",
                        r.name, r.key, r.texts);
    }
  }
  std::vector<TokenId> ids{*roles[0].id};
  std::vector<TokenId> prefix_ids = tokenizer.encode(prefix, false, false);
  ids.insert(ids.end(), prefix_ids.begin(), prefix_ids.end());
  ids.push_back(*roles[1].id);
  std::vector<TokenId> suffix_ids = tokenizer.encode(suffix, false, false);
  ids.insert(ids.end(), suffix_ids.begin(), suffix_ids.end());
  ids.push_back(*roles[2].id);
  return ids;
}

}  // namespace wafer
