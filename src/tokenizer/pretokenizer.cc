// The pre-tokenizer regexes, written as in the models' HF tokenizer.json files, compiled with
// PCRE2 (UTF + UCP, JIT when available).
#include "tokenizer/pretokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <array>
#include <string>

#include "base/check.h"

namespace wafer {
namespace {

// GPT-2 (and the byte-level pre-tokenizer of HF tokenizers).
constexpr std::string_view kGpt2Regex =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
// Llama 3: case-insensitive contractions, a letter run may take one leading non-letter,
// numbers in groups of up to three, punctuation runs keep trailing newlines. HF writes the
// contractions as (?i:'s|...); ASCII classes avoid Unicode case folding ('ſ' for 's').
constexpr std::string_view kLlama3Regex =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+)"
    R"(|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
// Qwen2 / Qwen2.5 / Qwen3: Llama 3's regex with single digits.
constexpr std::string_view kQwen2Regex =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+)"
    R"(|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
// DeepSeek-Coder: newlines alone, letter runs, punctuation runs, CJK runs, single digits.
constexpr std::array<std::string_view, 5> kDeepseekCoderRegexes = {
    R"([\r\n])",
    R"(\s?\p{L}+)",
    R"(\s?\p{P}+)",
    R"([\x{4E00}-\x{9FA5}\x{0800}-\x{4E00}\x{AC00}-\x{D7FF}]+)",
    R"(\p{N})",
};

// HF tokenizers match with Oniguruma, whose Unicode \s is the White_Space property; PCRE2's
// \s (even with UCP) lacks U+0085. Spelling the class out makes both agree on every character.
constexpr std::string_view kWhitespaceClass = R"(\x09-\x0D\x{85}\p{Z})";

// Rewrites \s and \S (outside and inside brackets) to kWhitespaceClass.
std::string expand_whitespace(std::string_view pattern) {
  std::string out;
  bool in_class = false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      char escaped = pattern[++i];
      if (escaped == 's') {
        out += in_class ? std::string(kWhitespaceClass) : fmt::format("[{}]", kWhitespaceClass);
      } else if (escaped == 'S') {
        WAFER_CHECK(!in_class, "\\S inside a class is not supported: {}", pattern);
        out += fmt::format("[^{}]", kWhitespaceClass);
      } else {
        out += c;
        out += escaped;
      }
      continue;
    }
    if (c == '[') in_class = true;
    if (c == ']') in_class = false;
    out += c;
  }
  return out;
}

std::vector<std::string_view> patterns_for(PreTokenizer kind) {
  switch (kind) {
    case PreTokenizer::kGpt2: return {kGpt2Regex};
    case PreTokenizer::kQwen2: return {kQwen2Regex};
    case PreTokenizer::kLlama3: return {kLlama3Regex};
    case PreTokenizer::kDeepseekCoder:
      return {kDeepseekCoderRegexes.begin(), kDeepseekCoderRegexes.end()};
    case PreTokenizer::kStarcoder: return {R"(\p{N})", kGpt2Regex};
  }
  WAFER_CHECK(false, "unhandled PreTokenizer {}", static_cast<int>(kind));
  return {};
}

struct NameEntry {
  std::string_view name;
  PreTokenizer kind;
};
// Names as llama.cpp's converter writes them to tokenizer.ggml.pre.
constexpr std::array<NameEntry, 9> kNames = {{
    {"gpt2", PreTokenizer::kGpt2},
    {"gpt-2", PreTokenizer::kGpt2},
    {"default", PreTokenizer::kGpt2},
    {"qwen2", PreTokenizer::kQwen2},
    {"llama-bpe", PreTokenizer::kLlama3},
    {"llama3", PreTokenizer::kLlama3},
    {"llama-v3", PreTokenizer::kLlama3},
    {"deepseek-coder", PreTokenizer::kDeepseekCoder},
    {"starcoder", PreTokenizer::kStarcoder},
}};

struct MatchDataDeleter {
  void operator()(pcre2_match_data* md) const { pcre2_match_data_free(md); }
};

}  // namespace

Result<PreTokenizer> pre_tokenizer_from_name(std::string_view name) {
  for (const NameEntry& e : kNames) {
    if (e.name == name) return e.kind;
  }
  std::string supported;
  for (const NameEntry& e : kNames)
    supported += fmt::format("{}{}", supported.empty() ? "" : ", ", e.name);
  return make_error(ErrorCode::kUnsupported,
                    "tokenizer.ggml.pre = '{}' is not a pre-tokenizer wafer supports ({})", name,
                    supported);
}

std::string_view pre_tokenizer_name(PreTokenizer kind) {
  switch (kind) {
    case PreTokenizer::kGpt2: return "gpt2";
    case PreTokenizer::kQwen2: return "qwen2";
    case PreTokenizer::kLlama3: return "llama-bpe";
    case PreTokenizer::kDeepseekCoder: return "deepseek-coder";
    case PreTokenizer::kStarcoder: return "starcoder";
  }
  return "unknown";
}

void RegexSplitter::CodeDeleter::operator()(pcre2_real_code_8* code) const {
  pcre2_code_free(code);
}

Result<RegexSplitter> RegexSplitter::create(PreTokenizer kind) {
  RegexSplitter splitter;
  for (std::string_view pattern : patterns_for(kind)) {
    std::string expanded = expand_whitespace(pattern);
    int error_code = 0;
    PCRE2_SIZE error_offset = 0;
    pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(expanded.data()), expanded.size(),
                                     PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &error_code,
                                     &error_offset, nullptr);
    if (code == nullptr) {
      std::array<PCRE2_UCHAR, 256> message{};
      pcre2_get_error_message(error_code, message.data(), message.size());
      return make_error(ErrorCode::kInternal,
                        "pre-tokenizer {} regex '{}' does not compile at {}: {}",
                        pre_tokenizer_name(kind), pattern, error_offset,
                        reinterpret_cast<const char*>(message.data()));
    }
    // Without JIT support pcre2_match interprets the pattern; same results, slower.
    (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
    splitter.regexes_.emplace_back(code);
  }
  return splitter;
}

void RegexSplitter::split_one(const Code& code, std::string_view text,
                              std::vector<std::string_view>* out) const {
  std::unique_ptr<pcre2_match_data, MatchDataDeleter> md(
      pcre2_match_data_create_from_pattern(code.get(), nullptr));
  WAFER_CHECK(md != nullptr, "out of memory for PCRE2 match data");
  auto subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t offset = 0;
  while (offset < text.size()) {
    int rc = pcre2_match(code.get(), subject, text.size(), offset, 0, md.get(), nullptr);
    // The JIT's fixed stack can run out on pathological input; the interpreter uses the heap.
    if (rc < 0 && rc != PCRE2_ERROR_NOMATCH)
      rc = pcre2_match(code.get(), subject, text.size(), offset, PCRE2_NO_JIT, md.get(), nullptr);
    if (rc < 0) break;  // no further match (any other failure: keep the rest as one piece)
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(md.get());
    size_t start = ovector[0];
    size_t end = ovector[1];
    WAFER_CHECK(end > start && start >= offset, "pre-tokenizer regex matched empty text");
    if (start > offset) out->push_back(text.substr(offset, start - offset));
    out->push_back(text.substr(start, end - start));
    offset = end;
  }
  if (offset < text.size()) out->push_back(text.substr(offset));
}

void RegexSplitter::split(std::string_view text, std::vector<std::string_view>* pieces) const {
  if (text.empty()) return;
  if (regexes_.size() == 1) {
    split_one(regexes_[0], text, pieces);
    return;
  }
  std::vector<std::string_view> current{text};
  std::vector<std::string_view> next;
  for (const Code& code : regexes_) {
    next.clear();
    for (std::string_view piece : current) split_one(code, piece, &next);
    current.swap(next);
  }
  pieces->insert(pieces->end(), current.begin(), current.end());
}

}  // namespace wafer
