// Lark grammars and regular expressions -> Grammar, for custom tools whose input follows a
// grammar (Codex declares apply_patch with `format: {type: "grammar", syntax: "lark"}`).
//
// Lark subset: rules and terminals (`name: ...`, `NAME: ...`, priorities ignored), `|`
// (also on continuation lines), `( )`, `[ ]`, `? * +`, `~ n` and `~ n..m`, "strings" (with
// the `i` flag), "a".."z" ranges, /regex/ terminals, `-> alias` (ignored), `//` comments,
// `%import common.NAME` (LF, CR, NEWLINE, WS, WS_INLINE, DIGIT, HEXDIGIT, INT, SIGNED_INT,
// DECIMAL, FLOAT, NUMBER, SIGNED_NUMBER, LETTER, LCASE_LETTER, UCASE_LETTER, WORD, CNAME,
// ESCAPED_STRING) and `%ignore NAME` (allowed between the items of rules). The language is
// read scannerless: a text is accepted when some derivation produces it.
// Regex subset: literals and escapes, `.`, classes (ranges, negation, \d \w \s), groups
// (also `(?:`), `|`, `? * + {n} {n,} {n,m}`; non-ASCII text as literals and through `.` and
// negated classes. Anything else is an error naming it.
#pragma once

#include <string_view>

#include "base/result.h"
#include "sampling/grammar.h"
#include "sampling/json_schema.h"

namespace wafer {

// Adds the rules of `definition` to `b` and returns the rule for its `start`. With
// json_escaped, the text comes out as the inside of a JSON string: quotes, backslashes and
// control characters escaped (a custom tool's input inside a JSON call). Errors:
// kInvalidArgument naming the line and what is not supported or malformed.
Result<uint32_t> add_lark_grammar(GrammarBuilder& b, JsonGrammar& j, std::string_view definition,
                                  bool json_escaped);
Result<uint32_t> add_regex(GrammarBuilder& b, JsonGrammar& j, std::string_view pattern, bool json_escaped);

// The whole grammar (tests, tools).
Result<Grammar> compile_lark(std::string_view definition);
Result<Grammar> compile_regex(std::string_view pattern);

}  // namespace wafer
