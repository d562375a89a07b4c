// Grammar, GrammarMatcher and JSON Schema compilation: what a compiled schema accepts and
// refuses, byte by byte, and the errors a bad grammar or schema gets.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "sampling/grammar.h"
#include "sampling/grammar_matcher.h"
#include "sampling/json_schema.h"

namespace wafer {
namespace {
namespace json = boost::json;

std::shared_ptr<const Grammar> schema_grammar(std::string_view schema_text, bool strict = true) {
  Result<Grammar> g = compile_json_schema(json::parse(schema_text), strict);
  EXPECT_TRUE(g.ok()) << (g.ok() ? "" : g.error().message);
  if (!g.ok()) return nullptr;
  return std::make_shared<const Grammar>(std::move(g).value());
}

bool matches(const std::shared_ptr<const Grammar>& g, std::string_view text) {
  GrammarMatcher m(g);
  return m.accept_bytes(text) && m.can_end();
}

TEST(GrammarBuilder, RejectsLeftRecursion) {
  GrammarBuilder b;
  const uint32_t r = b.declare("list");
  b.add_alternative(r, seq_of(GrammarBuilder::ref(r), b.literal("x")));
  b.add_alternative(r, b.literal("x"));
  Result<Grammar> g = std::move(b).build(r);
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.error().message.find("left-recursive"), std::string::npos);
}

TEST(GrammarBuilder, RejectsRulesThatNeverFinish) {
  GrammarBuilder b;
  const uint32_t r = b.declare("forever");
  b.add_alternative(r, seq_of(b.literal("a"), GrammarBuilder::ref(r)));
  Result<Grammar> g = std::move(b).build(r);
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.error().message.find("never finishes"), std::string::npos);
}

TEST(GrammarBuilder, ShortestCompletionLengths) {
  auto g = schema_grammar(R"({"type":"object","properties":{"a":{"type":"integer"}},"required":["a"]})");
  ASSERT_TRUE(g);
  GrammarMatcher m(g);
  EXPECT_EQ(m.min_remaining(), std::string(R"({"a":0})").size());
  ASSERT_TRUE(m.accept_bytes(R"({"a": 12)"));
  EXPECT_EQ(m.min_remaining(), 1u);
  ASSERT_TRUE(m.accept_bytes("}"));
  EXPECT_TRUE(m.done());
}

TEST(GrammarMatcher, RejectedBytesLeaveTheStateAlone) {
  auto g = schema_grammar(R"({"type":"boolean"})");
  GrammarMatcher m(g);
  ASSERT_TRUE(m.accept_bytes("tr"));
  EXPECT_FALSE(m.accept_bytes("x"));
  EXPECT_FALSE(m.accept_bytes("uex"));
  EXPECT_TRUE(m.accept_bytes("ue"));
  EXPECT_TRUE(m.done());
}

struct SchemaCase {
  const char* schema;
  std::vector<std::string> valid;
  std::vector<std::string> invalid;
};

TEST(JsonSchema, AcceptsExactlyTheValidDocuments) {
  const std::vector<SchemaCase> cases = {
      {R"({"type":"string"})",
       {R"("")", R"("plain")", R"("esc \" \\ \/ \b \f \n \r \t \u00e9")", "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\""},
       {R"(plain)", R"("unterminated)", "\"bad \\x\"", "\"ctrl \x01\"", "\"\xC3\"", "\"\xED\xA0\x80\"", "\"\xC0\xAF\"",
        R"("\u12G4")"}},
      {R"({"type":"integer"})", {"0", "-7", "1234567890"}, {"01", "-", "1.5", "+1", "1e3", ""}},
      {R"({"type":"number"})", {"0", "-0.5", "3.25e-10", "1E+2", "7"}, {".5", "1.", "1e", "--1", "0x10"}},
      {R"({"enum":["a",1,null,{"k":[true]}]})", {R"("a")", "1", "null", R"({"k":[true]})"}, {R"("b")", "2", "true"}},
      {R"({"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"string"}},"required":["b"]})",
       {R"({"b":"x"})", R"({"a":1,"b":"x"})", R"({ "a" : 1 ,
 "b": "x" })"},
       {R"({})", R"({"a":1})", R"({"b":"x","a":1})", R"({"b":"x","c":2})", R"({"a":"1","b":"x"})", R"({"b":"x",})"}},
      {R"({"type":"object","properties":{"a":{"type":"integer"}},"additionalProperties":true})",
       {R"({})", R"({"a":1})", R"({"a":1,"zz":[1,{"q":null}]})", R"({"other":"v"})"}, {R"({"a":"no"})"}},
      {R"({"type":"object","properties":{"p":{"type":"boolean"}},"additionalProperties":false})",
       {R"({})", R"({"p":false})"}, {R"({"q":1})"}},
      {R"({"type":"array","items":{"type":"integer"},"minItems":1,"maxItems":3})",
       {"[1]", "[1,2]", "[ 1 , 2 , 3 ]"}, {"[]", "[1,2,3,4]", "[1,]", "[\"a\"]"}},
      {R"({"type":["integer","null"]})", {"5", "null"}, {"\"5\"", "true"}},
      {R"({"anyOf":[{"type":"boolean"},{"type":"array","items":{"type":"null"}}]})",
       {"true", "[]", "[null,null]"}, {"null", "[true]"}},
      {R"({"$defs":{"n":{"type":"object","properties":{"v":{"type":"integer"},"next":{"anyOf":[{"$ref":"#/$defs/n"},{"type":"null"}]}},"required":["v","next"],"additionalProperties":false}},"$ref":"#/$defs/n"})",
       {R"({"v":1,"next":null})", R"({"v":1,"next":{"v":2,"next":{"v":3,"next":null}}})"},
       {R"({"v":1})", R"({"v":1,"next":{"v":2}})"}},
      {R"({"type":"object"})", {R"({})", R"({"a":{"b":[1,2.5,"x",false,null]}})"}, {"[]", "1"}},
      {R"({})", {"1", "\"s\"", "[{}]", "null"}, {"nul", "{"}},
  };
  for (const SchemaCase& c : cases) {
    auto g = schema_grammar(c.schema);
    ASSERT_TRUE(g) << c.schema;
    for (const std::string& doc : c.valid) EXPECT_TRUE(matches(g, doc)) << c.schema << " should accept " << doc;
    for (const std::string& doc : c.invalid) EXPECT_FALSE(matches(g, doc)) << c.schema << " should refuse " << doc;
  }
}

TEST(JsonSchema, StrictRefusesUnsupportedKeywordsByNameAndPath) {
  Result<Grammar> g = compile_json_schema(
      json::parse(R"({"type":"object","properties":{"name":{"type":"string","pattern":"^a"}}})"), true);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(g.error().message.find("'pattern'"), std::string::npos) << g.error().message;
  EXPECT_NE(g.error().message.find("/properties/name"), std::string::npos) << g.error().message;
}

TEST(JsonSchema, LenientLetsAnUnsupportedSubschemaBeAnyValue) {
  auto g = schema_grammar(R"({"type":"object","properties":{"name":{"type":"string","pattern":"^a"}},"required":["name"]})",
                          false);
  ASSERT_TRUE(g);
  EXPECT_TRUE(matches(g, R"({"name":"abc"})"));
  EXPECT_TRUE(matches(g, R"({"name":42})"));
  EXPECT_FALSE(matches(g, R"({})"));
}

TEST(JsonSchema, RequiredNamesWithoutPropertiesAreStillRequired) {
  auto g = schema_grammar(R"({"type":"object","properties":{"a":{"type":"integer"}},"required":["x"]})");
  ASSERT_TRUE(g);
  EXPECT_TRUE(matches(g, R"({"x":[1]})"));
  EXPECT_TRUE(matches(g, R"({"a":1,"x":null})"));
  EXPECT_FALSE(matches(g, R"({"a":1})"));
}

TEST(JsonSchema, MalformedSchemasGetErrors) {
  for (const char* bad : {R"(false)", R"({"type":"strnig"})", R"({"enum":[]})", R"({"$ref":"#/$defs/missing"})",
                          R"({"$ref":"http://example.com/s.json"})", R"({"type":"array","minItems":3,"maxItems":1})",
R"({"type":"array","maxItems":100000})",
                          R"(7)"}) {
    Result<Grammar> g = compile_json_schema(json::parse(bad), true);
    EXPECT_FALSE(g.ok()) << bad;
  }
}

}  // namespace
}  // namespace wafer
