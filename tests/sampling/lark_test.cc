// Lark and regex grammars: Codex's own apply_patch grammar (read from the captured request)
// accepts real patches and refuses broken ones, raw and JSON-escaped; regexes agree with
// std::regex; noise drawn under a grammar always satisfies an independent check.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>

#include <boost/json.hpp>

#include "gguf/gguf.h"
#include "sampling/grammar_matcher.h"
#include "sampling/lark.h"
#include "noise_draw.h"
#include "sampling/token_constraint.h"

namespace wafer {
namespace {
namespace json = boost::json;

// The apply_patch grammar Codex CLI 0.169 declares (format.definition of its custom tool).
std::string codex_apply_patch_grammar() {
  std::ifstream in(std::string(WAFER_SHARED_DIR) + "/fixtures/codex-0.169/codex-http-compaction/002-http-POST-_v1_responses.json");
  std::stringstream ss;
  ss << in.rdbuf();
  if (ss.str().empty()) return "";
  const json::value doc = json::parse(ss.str());
  for (const json::value& tool : doc.at("request").at("body").at("tools").as_array()) {
    const json::object& t = tool.as_object();
    if (t.contains("format") && t.at("format").as_object().contains("definition")) {
      return std::string(t.at("format").at("definition").as_string());
    }
  }
  return "";
}

std::shared_ptr<const Grammar> shared(Result<Grammar> g) {
  EXPECT_TRUE(g.ok()) << (g.ok() ? "" : g.error().message);
  return g.ok() ? std::make_shared<const Grammar>(std::move(g).value()) : nullptr;
}

bool matches(const std::shared_ptr<const Grammar>& g, std::string_view text) {
  GrammarMatcher m(g);
  return m.accept_bytes(text) && m.can_end();
}

const char* kAdd = "*** Begin Patch\n*** Add File: hello.txt\n+Hello, world!\n+\n*** End Patch\n";
const char* kUpdate =
    "*** Begin Patch\n*** Update File: src/app.py\n*** Move to: src/main.py\n@@ def greet():\n-print(\"Hi\")\n"
    "+print(\"Hello, \\\"world\\\"\")\n \treturn 0\n*** End of File\n*** Delete File: obsolete.txt\n*** End Patch";

TEST(Lark, CodexApplyPatchGrammarAcceptsPatches) {
  const std::string def = codex_apply_patch_grammar();
  if (def.empty()) GTEST_SKIP() << "no Codex fixture";
  auto g = shared(compile_lark(def));
  ASSERT_TRUE(g);
  EXPECT_TRUE(matches(g, kAdd));
  EXPECT_TRUE(matches(g, kUpdate));
  EXPECT_TRUE(matches(g, "*** Begin Patch\n*** Update File: a\n@@\n x\n*** End Patch\n"));
  EXPECT_FALSE(matches(g, "*** Begin Patch\n*** End Patch\n"));                          // hunk+
  EXPECT_FALSE(matches(g, "*** Begin Patch\n*** Add File: a\n*** End Patch\n"));          // add_line+
  EXPECT_FALSE(matches(g, "*** Begin Patch\n*** Update File: a\n?bad\n*** End Patch\n"));
  EXPECT_FALSE(matches(g, "*** Begin Patch\n*** Add File: a\n+x\n"));                     // no end
  EXPECT_FALSE(matches(g, "--- a/x\n+++ b/x\n"));
}

TEST(Lark, JsonEscapedTextIsTheInsideOfAJsonString) {
  const std::string def = codex_apply_patch_grammar();
  if (def.empty()) GTEST_SKIP() << "no Codex fixture";
  GrammarBuilder b;
  JsonGrammar j(&b, true);
  Result<uint32_t> root = add_lark_grammar(b, j, def, true);
  ASSERT_TRUE(root.ok()) << root.error().message;
  auto g = shared(std::move(b).build(*root));
  for (const char* patch : {kAdd, kUpdate}) {
    std::string escaped = json::serialize(json::string(patch));
    escaped = escaped.substr(1, escaped.size() - 2);
    EXPECT_TRUE(matches(g, escaped)) << escaped;
    EXPECT_FALSE(matches(g, patch));  // raw newlines are not JSON string content
  }
}

TEST(Lark, Constructs) {
  auto g = shared(compile_lark(R"(
// comments, aliases, priorities, ranges, repetition counts, case-insensitive strings
start: greeting ("," WS? NAME)~1..3 "!"? -> hello
greeting.2: "hello"i
       | "hi"
NAME: ("a".."z")+ DIGIT*
%import common.WS
%import common.DIGIT
)"));
  ASSERT_TRUE(g);
  EXPECT_TRUE(matches(g, "HeLLo,bob"));
  EXPECT_TRUE(matches(g, "hi, ann1, joe,  kim!"));
  EXPECT_FALSE(matches(g, "hi"));
  EXPECT_FALSE(matches(g, "hi,a,b,c,d"));
  EXPECT_FALSE(matches(g, "HI,a"));
}

TEST(Lark, IgnoreAllowsTextBetweenRuleItems) {
  auto g = shared(compile_lark("start: \"(\" item* \")\"\nitem: NUMBER\n%import common.NUMBER\n%import common.WS\n%ignore WS\n"));
  ASSERT_TRUE(g);
  EXPECT_TRUE(matches(g, "( 1 2.5  3 )"));
  EXPECT_TRUE(matches(g, "(1)"));
  EXPECT_FALSE(matches(g, "(1 x)"));
}

TEST(Lark, ErrorsNameTheProblem) {
  struct Bad {
    const char* grammar;
    const char* says;
  };
  for (const Bad& bad : {Bad{"start: thing\n", "'thing'"}, Bad{"start: \"a\"\n%declare X\n", "%declare"},
                         Bad{"item: \"a\"\n", "start"}, Bad{"start: start \"a\" | \"a\"\n", "left-recursive"},
                         Bad{"start: /a(?=b)/\n", "(?:"}, Bad{"start: \"unterminated\n", "unterminated"},
                         Bad{"start: x\n%import common.NOPE\n", "NOPE"}}) {
    Result<Grammar> g = compile_lark(bad.grammar);
    ASSERT_FALSE(g.ok()) << bad.grammar;
    EXPECT_NE(g.error().message.find(bad.says), std::string::npos) << g.error().message;
  }
}

TEST(Regex, AgreesWithStdRegex) {
  struct Case {
    const char* pattern;
    std::vector<std::string> texts;
  };
  const std::vector<Case> cases = {
      {R"([a-z]+\d{2,3})", {"ab12", "a1", "abc1234", "z999", "", "AB12"}},
      {R"((?:foo|ba[rz])*\.txt)", {".txt", "foobar.txt", "baz.txt", "fo.txt", "foo.tx"}},
      {R"([^\s,]+(,[^\s,]+)?)", {"a,b", "a", "a,", "a b", "x,y,z"}},
      {R"(-?(0|[1-9][0-9]*)(\.[0-9]+)?)", {"0", "-12.5", "012", "1.", "7"}},
      {R"(\w+@\w+\.(com|org))", {"me@x.com", "me@x.net", "@x.com", "a_b@c.org"}},
      {R"(a.c)", {"abc", "a\nc", "ac", "a-c"}},
  };
  for (const Case& c : cases) {
    auto g = shared(compile_regex(c.pattern));
    ASSERT_TRUE(g) << c.pattern;
    const std::regex re(c.pattern);
    for (const std::string& t : c.texts) {
      EXPECT_EQ(matches(g, t), std::regex_match(t, re)) << "/" << c.pattern << "/ on '" << t << "'";
    }
  }
}

TEST(Regex, NoiseUnderARegexMatchesStdRegex) {
  auto file = GgufFile::open(std::string(WAFER_SHARED_DIR) + "/vocab/ggml-vocab-qwen2.gguf");
  ASSERT_TRUE(file.ok());
  auto tok = Tokenizer::from_gguf(**file);
  ASSERT_TRUE(tok.ok());
  const auto vocab = make_vocab_index(**tok);
  const char* pattern = R"((get|set)_[a-z]{1,12}\((\d+(, \d+){0,3})?\))";
  auto g = shared(compile_regex(pattern));
  const std::regex re(pattern);
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    GrammarConstraint constraint(g, vocab);
    const std::optional<std::string> drawn = test::draw_from_noise(constraint, *vocab, test::sampling(1.0f, seed), seed, 40);
    ASSERT_TRUE(drawn.has_value());
    const std::string& out = *drawn;
    EXPECT_TRUE(std::regex_match(out, re)) << out;
  }
}

}  // namespace
}  // namespace wafer
