// Tokenizer's private state, shared by tokenizer.cc (encoding, accessors) and
// tokenizer_load.cc (reading it from GGUF metadata).
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tokenizer/bpe.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab.h"

namespace wafer {

// Token ids with a role; each is a valid id of the vocabulary when set.
struct SpecialIds {
  std::optional<TokenId> bos;
  std::optional<TokenId> eos;
  std::optional<TokenId> eot;
  std::optional<TokenId> fim_prefix;
  std::optional<TokenId> fim_suffix;
  std::optional<TokenId> fim_middle;
  std::vector<TokenId> end_of_generation;  // sorted, unique
};

struct Tokenizer::Impl {
  Impl(Vocab v, BpeModel b, RegexSplitter s)
      : vocab(std::move(v)), bpe(std::move(b)), splitter(std::move(s)), instance(next_instance()) {}

  Vocab vocab;
  BpeModel bpe;
  RegexSplitter splitter;
  PreTokenizer pre = PreTokenizer::kGpt2;
  // Llama 3 (HF "ignore_merges"): a pre-token that is itself a token is emitted as is.
  bool ignore_merges = false;
  bool add_bos = false;  // tokenizer.ggml.add_bos_token
  bool add_eos = false;  // tokenizer.ggml.add_eos_token
  SpecialIds ids;
  std::string chat_template;
  // Unique in the process (never reused, unlike an address): names this tokenizer's
  // per-thread word cache.
  const uint64_t instance;

 private:
  static uint64_t next_instance() {
    static std::atomic<uint64_t> counter{0};
    return counter.fetch_add(1) + 1;
  }
};

}  // namespace wafer
