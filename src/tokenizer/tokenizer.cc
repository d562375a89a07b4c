// Tokenizer: encode (special-token split -> pre-tokenizer -> byte-level BPE) and accessors.
#include "tokenizer/tokenizer.h"

#include <algorithm>
#include <memory>

#include "base/check.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/special_split.h"
#include "tokenizer/tokenizer_impl.h"

namespace wafer {
namespace {

// This thread's word cache for one tokenizer; another tokenizer used on the thread starts
// it afresh.
BpeWordCache& word_cache_for(uint64_t instance) {
  thread_local uint64_t owner = 0;
  thread_local std::unique_ptr<BpeWordCache> cache;
  if (owner != instance || !cache) {
    cache = std::make_unique<BpeWordCache>();
    owner = instance;
  }
  return *cache;
}

}  // namespace

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::~Tokenizer() = default;

std::vector<TokenId> Tokenizer::encode(std::string_view text, bool parse_special,
                                       bool add_special) const {
  const Impl& m = *impl_;
  std::vector<TokenId> ids;
  ids.reserve(text.size() / 3 + 2);
  if (add_special && m.add_bos && m.ids.bos) ids.push_back(*m.ids.bos);

  BpeScratch scratch;
  BpeWordCache& words = word_cache_for(m.instance);
  std::vector<std::string_view> pieces;
  std::string piece_text;
  for (const TextFragment& fragment : split_special_tokens(text, m.vocab, parse_special)) {
    if (fragment.id >= 0) {
      ids.push_back(fragment.id);
      continue;
    }
    pieces.clear();
    m.splitter.split(fragment.text, &pieces);
    for (std::string_view piece : pieces) {
      if (m.ignore_merges && piece.size() > 1) {
        piece_text.clear();
        append_byte_level_text(piece, &piece_text);
        if (std::optional<TokenId> whole = m.vocab.find(piece_text)) {
          ids.push_back(*whole);
          continue;
        }
      }
      if (piece.size() > 1 && words.find(piece, &ids)) continue;
      const size_t before = ids.size();
      m.bpe.encode(piece, &scratch, &ids);
      words.store(piece, ids.data() + before, ids.size() - before);
    }
  }

  if (add_special && m.add_eos && m.ids.eos) ids.push_back(*m.ids.eos);
  return ids;
}

std::string Tokenizer::token_to_bytes(TokenId id) const {
  WAFER_CHECK(impl_->vocab.contains(id), "token id {} outside the vocabulary of {}", id,
              impl_->vocab.size());
  return std::string(impl_->vocab.bytes(id));
}

std::string Tokenizer::decode(const std::vector<TokenId>& ids) const {
  std::string out;
  for (TokenId id : ids) {
    WAFER_CHECK(impl_->vocab.contains(id), "token id {} outside the vocabulary of {}", id,
                impl_->vocab.size());
    out.append(impl_->vocab.bytes(id));
  }
  return out;
}

size_t Tokenizer::vocab_size() const { return impl_->vocab.size(); }

std::string_view Tokenizer::token_text(TokenId id) const {
  WAFER_CHECK(impl_->vocab.contains(id), "token id {} outside the vocabulary", id);
  return impl_->vocab.text(id);
}

TokenType Tokenizer::token_type(TokenId id) const {
  WAFER_CHECK(impl_->vocab.contains(id), "token id {} outside the vocabulary", id);
  return impl_->vocab.type(id);
}

std::optional<TokenId> Tokenizer::find_token(std::string_view text) const {
  return impl_->vocab.find(text);
}

PreTokenizer Tokenizer::pre_tokenizer() const { return impl_->pre; }
std::optional<TokenId> Tokenizer::bos() const { return impl_->ids.bos; }
std::optional<TokenId> Tokenizer::eos() const { return impl_->ids.eos; }
std::optional<TokenId> Tokenizer::eot() const { return impl_->ids.eot; }
bool Tokenizer::add_bos() const { return impl_->add_bos; }

bool Tokenizer::is_end_of_generation(TokenId id) const {
  const std::vector<TokenId>& eog = impl_->ids.end_of_generation;
  return std::binary_search(eog.begin(), eog.end(), id);
}

std::optional<TokenId> Tokenizer::fim_prefix() const { return impl_->ids.fim_prefix; }
std::optional<TokenId> Tokenizer::fim_suffix() const { return impl_->ids.fim_suffix; }
std::optional<TokenId> Tokenizer::fim_middle() const { return impl_->ids.fim_middle; }
const std::string& Tokenizer::chat_template() const { return impl_->chat_template; }

}  // namespace wafer
