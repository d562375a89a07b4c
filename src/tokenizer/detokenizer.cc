// StreamingDetokenizer: accumulates token bytes and releases only whole UTF-8 characters, so
// a client never receives half of a character split across tokens.
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace wafer {

std::string StreamingDetokenizer::push(TokenId id) {
  pending_ += tokenizer_->token_to_bytes(id);
  std::string out;
  // Holds back at most the 3 leading bytes of a character still being completed; bytes that
  // can no longer become a valid character come out as U+FFFD right away.
  size_t consumed = utf8::sanitize(pending_, /*final=*/false, &out);
  pending_.erase(0, consumed);
  return out;
}

std::string StreamingDetokenizer::flush() {
  std::string out;
  utf8::sanitize(pending_, /*final=*/true, &out);
  pending_.clear();
  return out;
}

}  // namespace wafer
