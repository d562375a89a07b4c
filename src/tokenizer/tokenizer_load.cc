// Tokenizer::from_gguf: reads tokenizer.ggml.* (vocabulary, types, merges, pre-tokenizer,
// role ids) and resolves ids that the metadata omits from well-known token texts.
#include <algorithm>
#include <initializer_list>
#include <limits>

#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_impl.h"

namespace wafer {
namespace {

constexpr std::string_view kModelKey = "tokenizer.ggml.model";
constexpr std::string_view kPreKey = "tokenizer.ggml.pre";
constexpr std::string_view kTokensKey = "tokenizer.ggml.tokens";
constexpr std::string_view kTypesKey = "tokenizer.ggml.token_type";
constexpr std::string_view kMergesKey = "tokenizer.ggml.merges";

Result<std::vector<TokenType>> read_token_types(const GgufFile& file, size_t num_tokens) {
  WAFER_ASSIGN_OR_RETURN(std::optional<std::vector<int64_t>> raw, file.get_int_array(kTypesKey));
  std::vector<TokenType> types;
  if (!raw) return types;  // all normal
  if (raw->size() != num_tokens) {
    return make_error(ErrorCode::kCorrupt, "{} has {} entries but {} has {}", kTypesKey,
                      raw->size(), kTokensKey, num_tokens);
  }
  types.reserve(raw->size());
  for (size_t i = 0; i < raw->size(); ++i) {
    int64_t t = (*raw)[i];
    if (t < 0 || t > static_cast<int64_t>(TokenType::kByte)) {
      return make_error(ErrorCode::kCorrupt, "{}[{}] = {} is not a token type (0..6)", kTypesKey,
                        i, t);
    }
    types.push_back(static_cast<TokenType>(t));
  }
  return types;
}

// A role id from metadata: absent or negative means none; beyond the vocabulary is corrupt.
Result<std::optional<TokenId>> read_token_id(const GgufFile& file, std::string_view key,
                                             const Vocab& vocab) {
  WAFER_ASSIGN_OR_RETURN(std::optional<int64_t> id, file.get_int(key));
  if (!id || *id < 0) return std::optional<TokenId>();
  if (*id >= static_cast<int64_t>(vocab.size())) {
    return make_error(ErrorCode::kCorrupt, "{} = {} is outside the vocabulary of {} tokens", key,
                      *id, vocab.size());
  }
  return std::optional<TokenId>(static_cast<TokenId>(*id));
}

std::optional<TokenId> find_first(const Vocab& vocab,
                                  std::initializer_list<std::string_view> texts) {
  for (std::string_view text : texts) {
    if (std::optional<TokenId> id = vocab.find(text)) return id;
  }
  return std::nullopt;
}

// Metadata first; otherwise the first of `texts` present in the vocabulary.
Result<std::optional<TokenId>> resolve_id(const GgufFile& file, std::string_view key,
                                          const Vocab& vocab,
                                          std::initializer_list<std::string_view> texts) {
  WAFER_ASSIGN_OR_RETURN(std::optional<TokenId> id, read_token_id(file, key, vocab));
  if (id) return id;
  return find_first(vocab, texts);
}

Result<SpecialIds> resolve_special_ids(const GgufFile& file, const Vocab& vocab) {
  SpecialIds ids;
  WAFER_ASSIGN_OR_RETURN(ids.bos, read_token_id(file, "tokenizer.ggml.bos_token_id", vocab));
  WAFER_ASSIGN_OR_RETURN(ids.eos, resolve_id(file, "tokenizer.ggml.eos_token_id", vocab,
                                             {"<|endoftext|>", "<|end_of_text|>", "<|im_end|>",
                                              "<|eot_id|>"}));
  WAFER_ASSIGN_OR_RETURN(ids.eot, resolve_id(file, "tokenizer.ggml.eot_token_id", vocab,
                                             {"<|im_end|>", "<|eot_id|>", "<|EOT|>"}));
  // Qwen, StarCoder and DeepSeek-Coder spellings (DeepSeek: begin = prefix, hole = suffix,
  // end = middle).
  WAFER_ASSIGN_OR_RETURN(ids.fim_prefix,
                         resolve_id(file, "tokenizer.ggml.fim_pre_token_id", vocab,
                                    {"<|fim_prefix|>", "<fim_prefix>", "<｜fim▁begin｜>"}));
  WAFER_ASSIGN_OR_RETURN(ids.fim_suffix,
                         resolve_id(file, "tokenizer.ggml.fim_suf_token_id", vocab,
                                    {"<|fim_suffix|>", "<fim_suffix>", "<｜fim▁hole｜>"}));
  WAFER_ASSIGN_OR_RETURN(ids.fim_middle,
                         resolve_id(file, "tokenizer.ggml.fim_mid_token_id", vocab,
                                    {"<|fim_middle|>", "<fim_middle>", "<｜fim▁end｜>"}));

  std::vector<TokenId>& eog = ids.end_of_generation;
  for (std::optional<TokenId> id : {ids.eos, ids.eot}) {
    if (id) eog.push_back(*id);
  }
  for (std::string_view text :
       {"<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|eom_id|>", "<|end_of_text|>"}) {
    if (std::optional<TokenId> id = vocab.find(text)) eog.push_back(*id);
  }
  std::sort(eog.begin(), eog.end());
  eog.erase(std::unique(eog.begin(), eog.end()), eog.end());
  return ids;
}

Result<Vocab> read_vocab(const GgufFile& file) {
  WAFER_ASSIGN_OR_RETURN(std::optional<std::vector<std::string_view>> tokens,
                         file.get_string_array(kTokensKey));
  if (!tokens || tokens->empty())
    return make_error(ErrorCode::kNotFound, "GGUF has no {} (or it is empty)", kTokensKey);
  if (tokens->size() > static_cast<size_t>(std::numeric_limits<TokenId>::max()))
    return make_error(ErrorCode::kOutOfRange, "{} has {} entries", kTokensKey, tokens->size());
  size_t total_bytes = 0;
  for (std::string_view t : *tokens) total_bytes += t.size();
  if (total_bytes > std::numeric_limits<uint32_t>::max())
    return make_error(ErrorCode::kOutOfRange, "{} holds {} bytes of text (limit 4 GiB)", kTokensKey,
                      total_bytes);
  WAFER_ASSIGN_OR_RETURN(std::vector<TokenType> types, read_token_types(file, tokens->size()));
  return Vocab(*tokens, std::move(types));
}

}  // namespace

Result<std::unique_ptr<Tokenizer>> Tokenizer::from_gguf(const GgufFile& file) {
  WAFER_ASSIGN_OR_RETURN(std::optional<std::string> model, file.get_string(kModelKey));
  if (!model)
    return make_error(ErrorCode::kNotFound, "GGUF has no {}: the file carries no tokenizer",
                      kModelKey);
  if (*model != "gpt2") {
    return make_error(ErrorCode::kUnsupported,
                      "{} = '{}' is not supported: wafer implements byte-level BPE ('gpt2')",
                      kModelKey, *model);
  }
  WAFER_ASSIGN_OR_RETURN(std::optional<std::string> pre_name, file.get_string(kPreKey));
  WAFER_ASSIGN_OR_RETURN(PreTokenizer pre, pre_tokenizer_from_name(pre_name.value_or("default")));
  WAFER_ASSIGN_OR_RETURN(Vocab vocab, read_vocab(file));
  WAFER_ASSIGN_OR_RETURN(std::optional<std::vector<std::string_view>> merges,
                         file.get_string_array(kMergesKey));
  if (!merges) return make_error(ErrorCode::kNotFound, "GGUF has no {}", kMergesKey);
  WAFER_ASSIGN_OR_RETURN(BpeModel bpe, BpeModel::create(vocab, *merges));
  WAFER_ASSIGN_OR_RETURN(RegexSplitter splitter, RegexSplitter::create(pre));
  WAFER_ASSIGN_OR_RETURN(SpecialIds ids, resolve_special_ids(file, vocab));
  WAFER_ASSIGN_OR_RETURN(std::optional<bool> add_bos,
                         file.get_bool("tokenizer.ggml.add_bos_token"));
  WAFER_ASSIGN_OR_RETURN(std::optional<bool> add_eos,
                         file.get_bool("tokenizer.ggml.add_eos_token"));
  WAFER_ASSIGN_OR_RETURN(std::optional<std::string> chat_template,
                         file.get_string("tokenizer.chat_template"));

  auto impl = std::make_unique<Impl>(std::move(vocab), std::move(bpe), std::move(splitter));
  impl->pre = pre;
  impl->ignore_merges = pre == PreTokenizer::kLlama3;
  impl->add_bos = add_bos.value_or(false);
  impl->add_eos = add_eos.value_or(false);
  impl->ids = std::move(ids);
  impl->chat_template = chat_template.value_or("");
  return std::unique_ptr<Tokenizer>(new Tokenizer(std::move(impl)));
}

}  // namespace wafer
