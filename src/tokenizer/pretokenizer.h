// Pre-tokenization: the regex sequence each tokenizer.ggml.pre value names splits text into
// the pieces that BPE then encodes one at a time (as the models' HF tokenizer.json files do).
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "tokenizer/tokenizer.h"

struct pcre2_real_code_8;  // PCRE2's compiled pattern (pcre2_code_8)

namespace wafer {

// Maps tokenizer.ggml.pre to a PreTokenizer; an absent key means GPT-2's. The Error for an
// unknown value names it and the supported ones.
Result<PreTokenizer> pre_tokenizer_from_name(std::string_view name);
std::string_view pre_tokenizer_name(PreTokenizer kind);

// A compiled regex sequence. Each regex splits every piece the previous one produced into its
// matches and the gaps between them (HF's Split with behaviour "Isolated"), so no byte is lost.
// Immutable after create(); split() may run on many threads at once.
class RegexSplitter {
 public:
  static Result<RegexSplitter> create(PreTokenizer kind);

  // Appends the pieces of `text` (views into it, in order, concatenating to it) to `pieces`.
  // Invalid UTF-8 never matches a regex, so it ends up in gap pieces of its own.
  void split(std::string_view text, std::vector<std::string_view>* pieces) const;

 private:
  struct CodeDeleter {
    void operator()(pcre2_real_code_8* code) const;
  };
  using Code = std::unique_ptr<pcre2_real_code_8, CodeDeleter>;

  RegexSplitter() = default;
  void split_one(const Code& code, std::string_view text, std::vector<std::string_view>* out) const;

  std::vector<Code> regexes_;
};

}  // namespace wafer
