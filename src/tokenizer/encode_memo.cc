// EncodeMemo: an LRU list of (text, ids) with a hash index over the texts.
#include "tokenizer/encode_memo.h"

namespace wafer {

EncodeMemo::EncodeMemo(size_t budget_bytes, size_t min_bytes) : budget_bytes_(budget_bytes), min_bytes_(min_bytes) {}

std::vector<TokenId> EncodeMemo::encode(const Tokenizer& tokenizer, std::string_view text) {
  if (text.size() < min_bytes_) return tokenizer.encode(text, false, false);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = index_.find(text); it != index_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second);
      ++hits_;
      return it->second->ids;
    }
  }
  // Encode outside the lock: other connections keep going meanwhile.
  Entry e{std::string(text), tokenizer.encode(text, false, false)};
  std::vector<TokenId> ids = e.ids;
  if (entry_bytes(e) > budget_bytes_) return ids;
  std::lock_guard<std::mutex> lock(mu_);
  if (index_.count(text) != 0) return ids;  // another thread stored it meanwhile
  bytes_ += entry_bytes(e);
  lru_.push_front(std::move(e));
  index_.emplace(std::string_view(lru_.front().text), lru_.begin());
  while (bytes_ > budget_bytes_) {
    index_.erase(std::string_view(lru_.back().text));
    bytes_ -= entry_bytes(lru_.back());
    lru_.pop_back();
  }
  return ids;
}

size_t EncodeMemo::hits() const {
  std::lock_guard<std::mutex> lock(mu_);
  return hits_;
}

size_t EncodeMemo::bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bytes_;
}

}  // namespace wafer
