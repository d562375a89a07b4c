// `wafer tokenize`: the token ids of a text, as one JSON array. Works on tokenizer-only GGUFs.
#include <cstdio>
#include <fstream>
#include <sstream>

#include "apps/commands.h"
#include "apps/json_out.h"
#include "gguf/gguf.h"
#include "tokenizer/tokenizer.h"

namespace wafer::apps {
namespace {

struct TokenizeFlags {
  std::string model_path;
  std::string text;
  std::string file;
  bool parse_special = false;
  bool add_special = false;
};

int tokenize(const TokenizeFlags& f) {
  std::string text = f.text;
  if (!f.file.empty()) {
    std::ifstream in(f.file, std::ios::binary);
    if (!in) return user_error(fmt::format("cannot read --file '{}'", f.file));
    std::ostringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  auto file = GgufFile::open(f.model_path);
  if (!file) return user_error(file.error().message);
  auto tok = Tokenizer::from_gguf(**file);
  if (!tok) return user_error(tok.error().message);
  std::vector<TokenId> ids = (*tok)->encode(text, f.parse_special, f.add_special);
  std::string s = boost::json::serialize(to_json_array<TokenId>(ids));
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fputc('\n', stdout);
  return 0;
}

}  // namespace

Command add_tokenize_command(CLI::App& app) {
  auto f = std::make_shared<TokenizeFlags>();
  app.add_option("-m,--model", f->model_path, "GGUF file holding a tokenizer (model or vocab-only)")->required();
  auto* text = app.add_option("text", f->text, "text to tokenize");
  auto* file = app.add_option("--file", f->file, "read the text from this file instead");
  text->excludes(file);
  app.add_flag("--parse-special", f->parse_special, "turn special-token texts like <|im_start|> into their ids");
  app.add_flag("--add-special", f->add_special, "add BOS/EOS as the model asks");
  return [f] { return tokenize(*f); };
}

}  // namespace wafer::apps
