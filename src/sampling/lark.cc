// Lark and regex front ends: text -> a small expression tree -> grammar rules. Errors are
// collected in the parser/emitter (the first one wins) and returned at the boundary.
#include "sampling/lark.h"

#include <cctype>
#include <map>
#include <optional>

#include <fmt/core.h>

namespace wafer {
namespace {

struct Node {
  enum class Kind { kSeq, kAlt, kRepeat, kLiteral, kClass, kRef };
  Kind kind = Kind::kSeq;
  std::vector<Node> children;  // kSeq, kAlt; kRepeat: one
  std::string text;            // kLiteral: bytes; kRef: symbol name
  ByteSet set;                 // kClass: ASCII bytes
  bool non_ascii = false;      // kClass: also any multi-byte UTF-8 character
  int min = 0;                 // kRepeat
  int max = -1;                // kRepeat; -1: unbounded
};

constexpr int kMaxRepeat = 1000;
// Nesting of groups, and elements one repetition may unroll into: beyond these a grammar is
// refused rather than allowed to exhaust the stack or memory.
constexpr int kMaxNesting = 200;
constexpr size_t kMaxUnrolled = size_t{1} << 18;

Node literal(std::string text) {
  Node n;
  n.kind = Node::Kind::kLiteral;
  n.text = std::move(text);
  return n;
}
Node char_class(const ByteSet& set, bool non_ascii) {
  Node n;
  n.kind = Node::Kind::kClass;
  n.set = set;
  n.non_ascii = non_ascii;
  return n;
}
Node repeat(Node child, int min, int max) {
  // (X+)+, (X*)+, (X+)*, (X+)? ...: one loop. Nested unbounded loops would make every
  // repeated byte ambiguous in exponentially many ways.
  if (child.kind == Node::Kind::kRepeat && child.max < 0 && child.min <= 1 && min <= 1) {
    child.min = child.min * min;
    return child;
  }
  // (X*){n,m} with m >= 1 is X*: copies of a loop that may be empty only multiply the ways
  // to read the same text.
  if (child.kind == Node::Kind::kRepeat && child.max < 0 && child.min == 0 && max != 0) return child;
  // (X+){n,m} with n >= 1 is X{n,}.
  if (child.kind == Node::Kind::kRepeat && child.max < 0 && child.min == 1 && min >= 1) {
    child.min = min;
    return child;
  }
  // (X?)* and (X?)+ are X*: a loop over something that can be empty would never advance.
  if (child.kind == Node::Kind::kRepeat && child.min == 0 && child.max == 1 && max < 0) {
    child.max = -1;
    return child;
  }
  Node n;
  n.kind = Node::Kind::kRepeat;
  n.children.push_back(std::move(child));
  n.min = min;
  n.max = max;
  return n;
}
ByteSet ascii_complement(const ByteSet& s) {
  ByteSet out;
  for (int c = 0; c < 0x80; ++c) {
    if (!s.has(static_cast<uint8_t>(c))) out.add(static_cast<uint8_t>(c));
  }
  return out;
}

// ---- regular expressions ----

class RegexParser {
 public:
  explicit RegexParser(std::string_view p) : p_(p) {}
  Result<Node> parse() {
    Node n = alt();
    if (!error_.empty()) return make_error(ErrorCode::kInvalidArgument, "regex /{}/: {}", p_, error_);
    if (i_ != p_.size()) return make_error(ErrorCode::kInvalidArgument, "regex /{}/: unbalanced ')' at {}", p_, i_);
    return n;
  }

 private:
  void fail(std::string why) {
    if (error_.empty()) error_ = std::move(why);
  }
  bool at_end() const { return i_ >= p_.size() || !error_.empty(); }
  Node alt() {
    Node n;
    n.kind = Node::Kind::kAlt;
    n.children.push_back(seq());
    while (!at_end() && p_[i_] == '|') {
      ++i_;
      n.children.push_back(seq());
    }
    return n.children.size() == 1 ? std::move(n.children[0]) : n;
  }
  Node seq() {
    Node n;
    while (!at_end() && p_[i_] != '|' && p_[i_] != ')') {
      Node a = atom();
      n.children.push_back(quantified(std::move(a)));
    }
    return n;
  }
  std::optional<int> number() {
    size_t start = i_;
    int v = 0;
    while (i_ < p_.size() && std::isdigit(static_cast<unsigned char>(p_[i_]))) {
      v = std::min(v * 10 + (p_[i_] - '0'), kMaxRepeat + 1);
      ++i_;
    }
    if (i_ == start) return std::nullopt;
    return v;
  }
  Node quantified(Node a) {
    while (!at_end()) {
      const char c = p_[i_];
      int min = 0, max = -1;
      if (c == '*') {
        ++i_;
      } else if (c == '+') {
        min = 1;
        ++i_;
      } else if (c == '?') {
        max = 1;
        ++i_;
      } else if (c == '{') {
        ++i_;
        auto lo = number();
        if (!lo) {
          fail("'{' must start a repetition like {2}, {2,} or {2,5}");
          return a;
        }
        min = *lo;
        max = *lo;
        if (i_ < p_.size() && p_[i_] == ',') {
          ++i_;
          auto hi = number();
          max = hi ? *hi : -1;
        }
        if (i_ >= p_.size() || p_[i_] != '}') {
          fail("unterminated {repetition}");
          return a;
        }
        ++i_;
        if ((max >= 0 && max < min) || min > kMaxRepeat || max > kMaxRepeat) {
          fail(fmt::format("repetition bounds must satisfy n <= m <= {}", kMaxRepeat));
          return a;
        }
      } else {
        return a;
      }
      if (i_ < p_.size() && p_[i_] == '?') ++i_;  // lazy: the same language
      a = repeat(std::move(a), min, max);
    }
    return a;
  }
  // \d \w \s and friends as a class; nullopt for a single-character escape.
  std::optional<Node> class_escape(char c) {
    ByteSet s;
    switch (c) {
      case 'd': case 'D': s.add_range('0', '9'); break;
      case 'w': case 'W': s.add_range('a', 'z'); s.add_range('A', 'Z'); s.add_range('0', '9'); s.add('_'); break;
      case 's': case 'S': for (char w : std::string(" \t\n\r\f\v")) s.add(static_cast<uint8_t>(w)); break;
      default: return std::nullopt;
    }
    if (std::isupper(static_cast<unsigned char>(c))) return char_class(ascii_complement(s), true);
    return char_class(s, false);
  }
  // The byte a single-character escape stands for.
  int escaped_byte(char c) {
    switch (c) {
      case 'n': return '\n';
      case 't': return '\t';
      case 'r': return '\r';
      case 'f': return '\f';
      case 'v': return '\v';
      case '0': return 0;
      default:
        if (std::isalnum(static_cast<unsigned char>(c))) {
          fail(fmt::format("the escape \\{} is not supported", c));
          return -1;
        }
        return static_cast<unsigned char>(c);
    }
  }
  Node atom() {
    const char c = p_[i_];
    if (c == '(') {
      ++i_;
      if (++depth_ > kMaxNesting) {
        fail(fmt::format("groups nest deeper than {}", kMaxNesting));
        return Node{};
      }
      if (p_.substr(i_, 2) == "?:") i_ += 2;
      else if (i_ < p_.size() && p_[i_] == '?') fail("only (?: ) groups are supported");
      Node inner = alt();
      --depth_;
      if (i_ >= p_.size() || p_[i_] != ')') {
        fail("unbalanced '('");
        return inner;
      }
      ++i_;
      return inner;
    }
    if (c == '[') return bracket();
    if (c == '.') {
      ++i_;
      ByteSet nl;
      nl.add('\n');
      return char_class(ascii_complement(nl), true);
    }
    if (c == '^' || c == '$') {
      ++i_;
      return Node{};  // the whole input is matched anyway
    }
    if (c == '\\') {
      ++i_;
      if (i_ >= p_.size()) {
        fail("a trailing backslash");
        return Node{};
      }
      const char e = p_[i_++];
      if (auto cls = class_escape(e)) return *cls;
      const int b = escaped_byte(e);
      return b < 0 ? Node{} : literal(std::string(1, static_cast<char>(b)));
    }
    // A whole UTF-8 character as one literal.
    size_t len = 1;
    const auto lead = static_cast<unsigned char>(c);
    if (lead >= 0xF0) len = 4;
    else if (lead >= 0xE0) len = 3;
    else if (lead >= 0xC0) len = 2;
    Node n = literal(std::string(p_.substr(i_, len)));
    i_ += len;
    return n;
  }
  Node bracket() {
    ++i_;  // '['
    bool negate = false;
    if (i_ < p_.size() && p_[i_] == '^') {
      negate = true;
      ++i_;
    }
    ByteSet s;
    bool non_ascii = false;
    bool first = true;
    while (i_ < p_.size() && (p_[i_] != ']' || first)) {
      first = false;
      int lo = static_cast<unsigned char>(p_[i_++]);
      if (lo == '\\' && i_ < p_.size()) {
        const char e = p_[i_++];
        if (auto cls = class_escape(e)) {
          for (int b = 0; b < 0x80; ++b) {
            if (cls->set.has(static_cast<uint8_t>(b))) s.add(static_cast<uint8_t>(b));
          }
          non_ascii = non_ascii || cls->non_ascii;
          continue;
        }
        lo = escaped_byte(e);
        if (lo < 0) return Node{};
      }
      int hi = lo;
      if (i_ + 1 < p_.size() && p_[i_] == '-' && p_[i_ + 1] != ']') {
        ++i_;
        hi = static_cast<unsigned char>(p_[i_++]);
        if (hi == '\\' && i_ < p_.size()) hi = escaped_byte(p_[i_++]);
      }
      if (lo >= 0x80 || hi >= 0x80) {
        fail("non-ASCII characters inside [classes] are not supported");
        return Node{};
      }
      if (hi < lo) {
        fail("a class range runs backwards");
        return Node{};
      }
      s.add_range(static_cast<uint8_t>(lo), static_cast<uint8_t>(hi));
    }
    if (i_ >= p_.size()) {
      fail("unterminated [class]");
      return Node{};
    }
    ++i_;  // ']'
    if (negate) return char_class(ascii_complement(s), !non_ascii);
    return char_class(s, non_ascii);
  }

  std::string_view p_;
  size_t i_ = 0;
  int depth_ = 0;
  std::string error_;
};

// ---- Lark ----

struct Token {
  enum class Kind { kName, kString, kRegex, kOp, kNumber, kNewline, kDirective, kEnd };
  Kind kind = Kind::kEnd;
  std::string text;   // name, decoded string bytes, regex source, operator, directive
  bool flag_i = false;
  int line = 0;
};

const std::map<std::string, std::string>& common_terminals() {
  static const std::map<std::string, std::string> kCommon = {
      {"LF", R"("\n")"}, {"CR", R"("\r")"}, {"NEWLINE", "(CR? LF)+"}, {"WS", R"(/[ \t\f\r\n]/+)"},
      {"WS_INLINE", R"(/[ \t]/+)"}, {"DIGIT", "/[0-9]/"}, {"HEXDIGIT", "/[0-9a-fA-F]/"}, {"INT", "DIGIT+"},
      {"SIGNED_INT", R"(/[+-]/? INT)"}, {"DECIMAL", R"(INT "." INT? | "." INT)"},
      {"FLOAT", R"(INT /[eE][+-]?[0-9]+/ | DECIMAL /[eE][+-]?[0-9]+/?)"}, {"NUMBER", "FLOAT | INT"},
      {"SIGNED_NUMBER", R"(/[+-]/? NUMBER)"}, {"LETTER", "/[a-zA-Z]/"}, {"LCASE_LETTER", "/[a-z]/"},
      {"UCASE_LETTER", "/[A-Z]/"}, {"WORD", "LETTER+"}, {"CNAME", "/[a-zA-Z_][a-zA-Z0-9_]*/"},
      {"ESCAPED_STRING", R"(/"([^"\\\n]|\\.)*"/)"},
  };
  return kCommon;
}

class LarkParser {
 public:
  explicit LarkParser(std::string_view text) : src_(text) {}

  std::map<std::string, Node> definitions;
  std::vector<Node> ignored;

  Status parse() {
    tokenize();
    while (error_.empty() && peek().kind != Token::Kind::kEnd) {
      if (peek().kind == Token::Kind::kNewline) {
        ++pos_;
        continue;
      }
      if (peek().kind == Token::Kind::kDirective) {
        directive();
        continue;
      }
      definition();
    }
    if (!error_.empty()) return make_error(ErrorCode::kInvalidArgument, "lark grammar: {}", error_);
    return {};
  }
  // A common terminal's definition, parsed on demand (they refer to each other).
  bool import_common(const std::string& name, const std::string& as) {
    auto it = common_terminals().find(name);
    if (it == common_terminals().end()) return false;
    LarkParser sub(it->second);
    sub.tokenize();
    Node n = sub.expansions();
    if (!sub.error_.empty()) return false;
    definitions[as] = std::move(n);
    for (const auto& [dep, _] : common_terminals()) {
      if (!definitions.count(dep) && it->second.find(dep) != std::string::npos) import_common(dep, dep);
    }
    return true;
  }

 private:
  void fail(int line, std::string why) {
    if (error_.empty()) error_ = fmt::format("line {}: {}", line, why);
  }
  const Token& peek(size_t ahead = 0) const { return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)]; }
  bool is_op(const char* op, size_t ahead = 0) const {
    return peek(ahead).kind == Token::Kind::kOp && peek(ahead).text == op;
  }

  void tokenize() {
    int line = 1;
    size_t i = 0;
    auto push = [&](Token::Kind k, std::string text) { tokens_.push_back({k, std::move(text), false, line}); };
    while (i < src_.size() && error_.empty()) {
      const char c = src_[i];
      if (c == '\n') {
        push(Token::Kind::kNewline, "");
        ++line;
        ++i;
      } else if (c == ' ' || c == '\t' || c == '\r') {
        ++i;
      } else if (src_.substr(i, 2) == "//") {
        while (i < src_.size() && src_[i] != '\n') ++i;
      } else if (c == '"') {
        std::string bytes;
        ++i;
        while (i < src_.size() && src_[i] != '"') {
          if (src_[i] == '\\' && i + 1 < src_.size()) {
            const char e = src_[i + 1];
            const std::map<char, char> esc = {{'n', '\n'}, {'t', '\t'}, {'r', '\r'}, {'f', '\f'}, {'\\', '\\'}, {'"', '"'}};
            auto it = esc.find(e);
            if (it == esc.end()) {
              bytes += '\\';
              bytes += e;
            } else {
              bytes += it->second;
            }
            i += 2;
          } else {
            bytes += src_[i++];
          }
        }
        if (i >= src_.size()) return fail(line, "unterminated string");
        ++i;
        push(Token::Kind::kString, std::move(bytes));
        if (i < src_.size() && src_[i] == 'i') {
          tokens_.back().flag_i = true;
          ++i;
        }
      } else if (c == '/' ) {
        size_t j = i + 1;
        std::string re;
        while (j < src_.size() && src_[j] != '/' && src_[j] != '\n') {
          if (src_[j] == '\\' && j + 1 < src_.size()) {
            re += src_.substr(j, 2);
            j += 2;
          } else {
            re += src_[j++];
          }
        }
        if (j >= src_.size() || src_[j] != '/') return fail(line, "unterminated /regex/");
        i = j + 1;
        push(Token::Kind::kRegex, std::move(re));
        while (i < src_.size() && std::isalpha(static_cast<unsigned char>(src_[i]))) {
          if (src_[i] != 'i') return fail(line, fmt::format("regex flag '{}' is not supported", src_[i]));
          tokens_.back().flag_i = true;
          ++i;
        }
      } else if (c == '%') {
        size_t j = i + 1;
        while (j < src_.size() && std::isalpha(static_cast<unsigned char>(src_[j]))) ++j;
        push(Token::Kind::kDirective, std::string(src_.substr(i, j - i)));
        i = j;
      } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_' || ((c == '?' || c == '!') && i + 1 < src_.size() &&
                 (std::isalpha(static_cast<unsigned char>(src_[i + 1])) || src_[i + 1] == '_') &&
                 (tokens_.empty() || tokens_.back().kind == Token::Kind::kNewline))) {
        size_t j = (c == '?' || c == '!') ? i + 1 : i;
        while (j < src_.size() && (std::isalnum(static_cast<unsigned char>(src_[j])) || src_[j] == '_')) ++j;
        push(Token::Kind::kName, std::string(src_.substr(c == '?' || c == '!' ? i + 1 : i, j - (c == '?' || c == '!' ? i + 1 : i))));
        i = j;
      } else if (std::isdigit(static_cast<unsigned char>(c))) {
        size_t j = i;
        while (j < src_.size() && std::isdigit(static_cast<unsigned char>(src_[j]))) ++j;
        push(Token::Kind::kNumber, std::string(src_.substr(i, j - i)));
        i = j;
      } else if (src_.substr(i, 2) == "->" || src_.substr(i, 2) == "..") {
        push(Token::Kind::kOp, std::string(src_.substr(i, 2)));
        i += 2;
      } else if (std::string_view(":|()[]?*+~,.").find(c) != std::string_view::npos) {
        push(Token::Kind::kOp, std::string(1, c));
        ++i;
      } else {
        return fail(line, fmt::format("unexpected character '{}'", c));
      }
    }
    tokens_.push_back({Token::Kind::kEnd, "", false, line});
  }

  void skip_line() {
    while (peek().kind != Token::Kind::kNewline && peek().kind != Token::Kind::kEnd) ++pos_;
  }

  void directive() {
    const Token d = tokens_[pos_++];
    if (d.text == "%ignore") {
      Node n = expr();
      ignored.push_back(std::move(n));
      return skip_line();
    }
    if (d.text != "%import") return fail(d.line, fmt::format("{} is not supported", d.text));
    if (peek().kind != Token::Kind::kName || peek().text != "common") {
      return fail(d.line, "only %import common.NAME is supported");
    }
    ++pos_;
    std::vector<std::string> names;
    if (is_op(".")) {
      ++pos_;
      names.push_back(peek().text);
      ++pos_;
    } else if (is_op("(")) {
      ++pos_;
      while (peek().kind == Token::Kind::kName) {
        names.push_back(peek().text);
        ++pos_;
        if (is_op(",")) ++pos_;
      }
      if (!is_op(")")) return fail(d.line, "unterminated %import list");
      ++pos_;
    }
    std::string alias;
    if (is_op("->")) {
      ++pos_;
      alias = peek().text;
      ++pos_;
    }
    for (const std::string& name : names) {
      if (!import_common(name, alias.empty() || names.size() > 1 ? name : alias)) {
        return fail(d.line, fmt::format("common.{} is not a terminal wafer knows", name));
      }
    }
    skip_line();
  }

  void definition() {
    const Token name = peek();
    if (name.kind != Token::Kind::kName) return fail(name.line, "expected a rule or terminal name");
    ++pos_;
    if (is_op(".") && peek(1).kind == Token::Kind::kNumber) pos_ += 2;  // priority
    if (!is_op(":")) return fail(name.line, fmt::format("expected ':' after '{}'", name.text));
    ++pos_;
    Node body = expansions();
    definitions[name.text] = std::move(body);
  }

 public:
  Node expansions() {
    Node n;
    n.kind = Node::Kind::kAlt;
    n.children.push_back(alias());
    for (;;) {
      size_t ahead = 0;
      while (peek(ahead).kind == Token::Kind::kNewline) ++ahead;
      if (!is_op("|", ahead)) break;
      pos_ += ahead + 1;
      n.children.push_back(alias());
    }
    return n.children.size() == 1 ? std::move(n.children[0]) : n;
  }

 private:
  Node alias() {
    Node n = expansion();
    if (is_op("->")) pos_ += 2;
    return n;
  }
  Node expansion() {
    Node n;
    while (error_.empty()) {
      const Token& t = peek();
      if (t.kind == Token::Kind::kEnd || t.kind == Token::Kind::kNewline || t.kind == Token::Kind::kDirective) break;
      if (t.kind == Token::Kind::kOp && (t.text == "|" || t.text == ")" || t.text == "]" || t.text == "->")) break;
      n.children.push_back(expr());
    }
    return n;
  }
  Node expr() {
    Node a = atom();
    if (is_op("?")) {
      ++pos_;
      return repeat(std::move(a), 0, 1);
    }
    if (is_op("*")) {
      ++pos_;
      return repeat(std::move(a), 0, -1);
    }
    if (is_op("+")) {
      ++pos_;
      return repeat(std::move(a), 1, -1);
    }
    if (is_op("~")) {
      ++pos_;
      const int lo = peek().kind == Token::Kind::kNumber ? std::stoi(peek().text) : -1;
      ++pos_;
      int hi = lo;
      if (is_op("..")) {
        ++pos_;
        hi = peek().kind == Token::Kind::kNumber ? std::stoi(peek().text) : -1;
        ++pos_;
      }
      if (lo < 0 || hi < lo || hi > kMaxRepeat) {
        fail(peek().line, fmt::format("'~' needs counts n or n..m with n <= m <= {}", kMaxRepeat));
        return a;
      }
      return repeat(std::move(a), lo, hi);
    }
    return a;
  }
  Node atom() {
    const Token t = peek();
    ++pos_;
    if (t.kind == Token::Kind::kOp && (t.text == "(" || t.text == "[")) {
      if (++depth_ > kMaxNesting) {
        fail(t.line, fmt::format("groups nest deeper than {}", kMaxNesting));
        return Node{};
      }
      Node inner = expansions();
      --depth_;
      const char* close = t.text == "(" ? ")" : "]";
      if (!is_op(close)) {
        fail(t.line, fmt::format("unbalanced '{}'", t.text));
        return inner;
      }
      ++pos_;
      return t.text == "[" ? repeat(std::move(inner), 0, 1) : inner;
    }
    if (t.kind == Token::Kind::kString) {
      if (is_op("..") && peek(1).kind == Token::Kind::kString) {
        const std::string hi = peek(1).text;
        pos_ += 2;
        if (t.text.size() != 1 || hi.size() != 1 || hi[0] < t.text[0]) {
          fail(t.line, "a \"a\"..\"z\" range needs single ASCII characters in order");
          return Node{};
        }
        ByteSet s;
        s.add_range(static_cast<uint8_t>(t.text[0]), static_cast<uint8_t>(hi[0]));
        return char_class(s, false);
      }
      if (!t.flag_i) return literal(t.text);
      Node seq;
      for (char c : t.text) {
        ByteSet s;
        s.add(static_cast<uint8_t>(std::tolower(static_cast<unsigned char>(c))));
        s.add(static_cast<uint8_t>(std::toupper(static_cast<unsigned char>(c))));
        seq.children.push_back(char_class(s, false));
      }
      return seq;
    }
    if (t.kind == Token::Kind::kRegex) {
      if (t.flag_i) {
        fail(t.line, "the regex flag i is not supported");
        return Node{};
      }
      Result<Node> r = RegexParser(t.text).parse();
      if (!r.ok()) {
        fail(t.line, r.error().message);
        return Node{};
      }
      return std::move(r).value();
    }
    if (t.kind == Token::Kind::kName) {
      Node n;
      n.kind = Node::Kind::kRef;
      n.text = t.text;
      return n;
    }
    fail(t.line, fmt::format("unexpected '{}'", t.text));
    return Node{};
  }

  std::string_view src_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
  int depth_ = 0;
  std::string error_;
};

// ---- emission ----

class Emitter {
 public:
  Emitter(GrammarBuilder& b, JsonGrammar& j, bool json_escaped) : b_(b), j_(j), json_(json_escaped) {}

  const std::map<std::string, Node>* definitions = nullptr;
  std::optional<uint32_t> ignore_rule;

  std::string error;

  Seq emit(const Node& n, bool in_rule) {
    switch (n.kind) {
      case Node::Kind::kLiteral: return emit_literal(n.text);
      case Node::Kind::kClass: return seq_of(class_element(n.set, n.non_ascii));
      case Node::Kind::kRef: return seq_of(GrammarBuilder::ref(symbol(n.text)));
      case Node::Kind::kSeq: {
        Seq s;
        for (size_t i = 0; i < n.children.size(); ++i) {
          if (in_rule && ignore_rule && i > 0) s += GrammarBuilder::ref(*ignore_rule);
          s += emit(n.children[i], in_rule);
        }
        return s;
      }
      case Node::Kind::kAlt: {
        const uint32_t r = b_.declare(fmt::format("alt_{}", counter_++));
        for (const Node& c : n.children) b_.add_alternative(r, emit(c, in_rule));
        return seq_of(GrammarBuilder::ref(r));
      }
      case Node::Kind::kRepeat: return emit_repeat(n, in_rule);
    }
    return {};
  }

  uint32_t symbol(const std::string& name) {
    auto it = rules_.find(name);
    if (it != rules_.end()) return it->second;
    const uint32_t r = b_.declare(name);
    rules_[name] = r;
    auto def = definitions->find(name);
    if (def == definitions->end()) {
      if (error.empty()) error = fmt::format("lark grammar: '{}' is used but never defined", name);
      b_.add_alternative(r, Seq{});
      return r;
    }
    // Rules (lowercase) allow %ignore'd text between their items; terminals do not.
    const bool rule = !name.empty() && std::islower(static_cast<unsigned char>(name[0]));
    const Node& body = def->second;
    if (body.kind == Node::Kind::kAlt) {
      for (const Node& c : body.children) b_.add_alternative(r, emit(c, rule));
    } else {
      b_.add_alternative(r, emit(body, rule));
    }
    return r;
  }

 private:
  static bool special(uint8_t c) { return c < 0x20 || c == '"' || c == '\\'; }
  static std::string escape(uint8_t c) {
    switch (c) {
      case '"': return "\\\"";
      case '\\': return "\\\\";
      case '\n': return "\\n";
      case '\r': return "\\r";
      case '\t': return "\\t";
      case '\b': return "\\b";
      case '\f': return "\\f";
      default: return fmt::format("\\u{:04x}", c);
    }
  }
  Seq emit_literal(const std::string& text) {
    if (!json_) return b_.literal(text);
    std::string out;
    for (char c : text) out += special(static_cast<uint8_t>(c)) ? escape(static_cast<uint8_t>(c)) : std::string(1, c);
    return b_.literal(out);
  }
  bool plain_set(const ByteSet& s) const {
    if (!json_) return true;
    for (int c = 0; c < 0x20; ++c) {
      if (s.has(static_cast<uint8_t>(c))) return false;
    }
    return !s.has('"') && !s.has('\\');
  }
  GrammarElement class_element(const ByteSet& s, bool non_ascii) {
    if (!non_ascii && plain_set(s)) return b_.bytes(s);
    for (const auto& [key, rule] : classes_) {
      if (key.first == s && key.second == non_ascii) return GrammarBuilder::ref(rule);
    }
    const uint32_t r = b_.declare(fmt::format("class_{}", counter_++));
    ByteSet plain = s;
    for (int c = 0; c < 0x80; ++c) {
      if (s.has(static_cast<uint8_t>(c)) && json_ && special(static_cast<uint8_t>(c))) {
        plain.bits[c >> 6] &= ~(uint64_t{1} << (c & 63));
        b_.add_alternative(r, b_.literal(escape(static_cast<uint8_t>(c))));
      }
    }
    if (!plain.empty()) b_.add_alternative(r, seq_of(b_.bytes(plain)));
    if (non_ascii) b_.add_alternative(r, seq_of(GrammarBuilder::ref(j_.utf8_char())));
    classes_.push_back({{s, non_ascii}, r});
    return GrammarBuilder::ref(r);
  }
  Seq emit_repeat(const Node& n, bool in_rule) {
    const Node& child = n.children[0];
    // A plain class looped: one flat element.
    if (child.kind == Node::Kind::kClass && !child.non_ascii && plain_set(child.set) && n.max < 0 && !(in_rule && ignore_rule)) {
      Seq s;
      for (int k = 0; k < n.min; ++k) s += b_.bytes(child.set);
      s += b_.star(child.set);
      return s;
    }
    if (n.max == 0) return {};
    const Seq item = emit(child, in_rule);
    const size_t copies = static_cast<size_t>(std::max(n.min, n.max)) + 1;
    if (item.elements.size() * copies > kMaxUnrolled) {
      if (error.empty()) error = fmt::format("grammar: a repetition unrolls into more than {} elements", kMaxUnrolled);
      return {};
    }
    Seq sep;  // %ignore'd text between the items of a rule
    if (in_rule && ignore_rule) sep += GrammarBuilder::ref(*ignore_rule);
    const Seq next = seq_of(sep, item);
    const int id = counter_++;
    // What may follow the first item: (sep item) repeated, unbounded or up to `extra` times.
    auto tail = [&](int extra) {
      if (extra < 0) return b_.repeat_star(fmt::format("repeat_{}", id), next);
      uint32_t t = b_.rule(fmt::format("upto_{}_0", id), {Seq{}});
      for (int k = 1; k <= extra; ++k) t = b_.rule(fmt::format("upto_{}_{}", id, k), {seq_of(next, GrammarBuilder::ref(t)), Seq{}});
      return t;
    };
    if (n.min == 0) {
      const uint32_t rest = tail(n.max < 0 ? -1 : n.max - 1);
      return seq_of(GrammarBuilder::ref(b_.rule(fmt::format("optional_{}", id), {seq_of(item, GrammarBuilder::ref(rest)), Seq{}})));
    }
    Seq s = item;
    for (int k = 1; k < n.min; ++k) s += next;
    if (n.max < 0 || n.max > n.min) s += GrammarBuilder::ref(tail(n.max < 0 ? -1 : n.max - n.min));
    return s;
  }

  GrammarBuilder& b_;
  JsonGrammar& j_;
  bool json_;
  std::map<std::string, uint32_t> rules_;
  std::vector<std::pair<std::pair<ByteSet, bool>, uint32_t>> classes_;
  int counter_ = 0;
};

}  // namespace

Result<uint32_t> add_lark_grammar(GrammarBuilder& b, JsonGrammar& j, std::string_view definition, bool json_escaped) {
  LarkParser parser(definition);
  WAFER_RETURN_IF_ERROR(parser.parse());
  if (!parser.definitions.count("start")) {
    return make_error(ErrorCode::kInvalidArgument, "lark grammar: there is no 'start' rule");
  }
  Emitter e(b, j, json_escaped);
  e.definitions = &parser.definitions;
  if (!parser.ignored.empty()) {
    Node any;
    any.kind = Node::Kind::kAlt;
    for (Node& n : parser.ignored) any.children.push_back(std::move(n));
    if (any.children.size() == 1) {
      Node only = std::move(any.children[0]);
      any = std::move(only);
    }
    const Seq one = e.emit(any, false);
    e.ignore_rule = b.repeat_star("ignored", one);
  }
  const uint32_t root = e.symbol("start");
  if (!e.error.empty()) return make_error(ErrorCode::kInvalidArgument, "{}", e.error);
  return root;
}

Result<uint32_t> add_regex(GrammarBuilder& b, JsonGrammar& j, std::string_view pattern, bool json_escaped) {
  WAFER_ASSIGN_OR_RETURN(Node n, RegexParser(pattern).parse());
  Emitter e(b, j, json_escaped);
  std::map<std::string, Node> none;
  e.definitions = &none;
  const Seq body = e.emit(n, false);
  if (!e.error.empty()) return make_error(ErrorCode::kInvalidArgument, "{}", e.error);
  return b.rule("regex", {body});
}

Result<Grammar> compile_lark(std::string_view definition) {
  GrammarBuilder b;
  JsonGrammar j(&b, true);
  WAFER_ASSIGN_OR_RETURN(uint32_t root, add_lark_grammar(b, j, definition, false));
  return std::move(b).build(root);
}

Result<Grammar> compile_regex(std::string_view pattern) {
  GrammarBuilder b;
  JsonGrammar j(&b, true);
  WAFER_ASSIGN_OR_RETURN(uint32_t root, add_regex(b, j, pattern, false));
  return std::move(b).build(root);
}

}  // namespace wafer
