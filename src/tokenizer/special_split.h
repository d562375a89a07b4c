// Cuts special-token texts (e.g. "<|im_start|>") out of text before pre-tokenization, so
// they become their own ids and never merge with neighbouring text.
#pragma once

#include <string_view>
#include <vector>

#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab.h"

namespace wafer {

// One run of the input: a special token (id >= 0) or plain text to pre-tokenize (id == -1).
struct TextFragment {
  TokenId id = -1;
  std::string_view text;  // view into the input
};

// Splits `text` on special-token texts, longest token first: each token in turn cuts every
// remaining plain-text fragment at its occurrences (left to right). User-defined tokens are
// always cut out; control and unknown tokens only when parse_special is true.
std::vector<TextFragment> split_special_tokens(std::string_view text, const Vocab& vocab,
                                               bool parse_special);

}  // namespace wafer
