// Byte-level BPE tokenizer as GGUF stores it (tokenizer.ggml.model = "gpt2"): vocabulary,
// merges, pre-tokenizer chosen by tokenizer.ggml.pre, special/control tokens.
// Immutable after construction; safe to share between threads.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "gguf/gguf.h"

namespace wafer {

using TokenId = int32_t;

// tokenizer.ggml.token_type values
enum class TokenType : int32_t {
  kUndefined = 0, kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6,
};

enum class PreTokenizer { kGpt2, kQwen2, kLlama3, kDeepseekCoder, kStarcoder };

class Tokenizer {
 public:
  // Reads tokenizer.ggml.* from any GGUF (model or vocab-only). Errors name the key.
  static Result<std::unique_ptr<Tokenizer>> from_gguf(const GgufFile& file);
  ~Tokenizer();

  // parse_special: text like "<|im_start|>" becomes its special token (else plain text).
  // add_special: prepend BOS when the model asks for it (tokenizer.ggml.add_bos_token).
  std::vector<TokenId> encode(std::string_view text, bool parse_special, bool add_special) const;

  // The bytes a token stands for (byte-level BPE decoded; special tokens as their text).
  std::string token_to_bytes(TokenId id) const;
  // Concatenated bytes of ids; may end inside a UTF-8 character.
  std::string decode(const std::vector<TokenId>& ids) const;

  size_t vocab_size() const;
  std::string_view token_text(TokenId id) const;  // as stored in the GGUF
  TokenType token_type(TokenId id) const;
  std::optional<TokenId> find_token(std::string_view text) const;  // exact stored text
  PreTokenizer pre_tokenizer() const;

  std::optional<TokenId> bos() const;
  std::optional<TokenId> eos() const;
  std::optional<TokenId> eot() const;  // <|im_end|>, <|eot_id|>, ...
  bool add_bos() const;
  // End-of-generation: eos, eot and other control tokens that end a turn.
  bool is_end_of_generation(TokenId id) const;

  // Fill-in-the-middle tokens from metadata (tokenizer.ggml.fim_*_token_id) or, failing
  // that, from well-known token texts (<|fim_prefix|>, <fim_prefix>, ...).
  std::optional<TokenId> fim_prefix() const;
  std::optional<TokenId> fim_suffix() const;
  std::optional<TokenId> fim_middle() const;

  const std::string& chat_template() const;  // tokenizer.chat_template, may be empty

 private:
  struct Impl;
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Turns a stream of token ids into text, holding back bytes until they complete a UTF-8
// character, so no chunk ever ends in half a character. Invalid sequences come out as U+FFFD.
class StreamingDetokenizer {
 public:
  explicit StreamingDetokenizer(const Tokenizer& tokenizer) : tokenizer_(&tokenizer) {}
  std::string push(TokenId id);  // complete characters ready to emit (possibly empty)
  std::string flush();           // whatever is held back, invalid bytes replaced
 private:
  const Tokenizer* tokenizer_;
  std::string pending_;
};

// Chat and fill-in-the-middle prompt formats.
// kQwen3Coder: ChatML turns whose tool calls are XML (<tool_call><function=NAME>
// <parameter=KEY>value</parameter></function></tool_call>), as Qwen3-Coder's template writes.
enum class ChatFormat { kChatMl, kLlama3, kQwen3Coder };
const char* chat_format_name(ChatFormat format);  // "chatml", "llama3", "qwen3-coder"

struct ChatMessage {
  std::string role;  // system, user, assistant, tool
  std::string content;
};

// Picks the chat format from tokenizer.chat_template and the vocabulary; Error when the
// model has neither a recognised template nor the tokens of one.
Result<ChatFormat> detect_chat_format(const Tokenizer& tokenizer);
// Renders messages as text with special-token markers (encode with parse_special = true).
std::string render_chat(ChatFormat format, const std::vector<ChatMessage>& messages,
                        bool add_generation_prompt);
// <prefix_tok> prefix <suffix_tok> suffix <middle_tok> as token ids (prefix-suffix-middle);
// Error naming the missing token when the model has no FIM tokens.
Result<std::vector<TokenId>> render_fim(const Tokenizer& tokenizer, std::string_view prefix,
                                        std::string_view suffix);

}  // namespace wafer
