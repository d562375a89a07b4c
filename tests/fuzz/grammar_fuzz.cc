// libFuzzer target: the grammar front ends (JSON Schema strict and lenient, Lark, regex) on
// arbitrary text, and, for what compiles, the matcher and the token mask over a small
// vocabulary. Any input must give a grammar or an error: never a crash, hang or blowup.
#include <cstddef>
#include <cstdint>
#include <string>

#include <boost/json.hpp>

#include "sampling/json_schema.h"
#include "sampling/lark.h"
#include "sampling/token_constraint.h"

namespace {

const std::shared_ptr<const wafer::VocabIndex>& vocab() {
  static const auto index = [] {
    std::vector<std::string> bytes;
    for (int b = 0; b < 256; ++b) bytes.emplace_back(1, static_cast<char>(b));
    for (const char* t : {"{\"", "\":", "\", \"", "true", "null", "*** ", "\n+", "12", "é", "\\n"}) bytes.emplace_back(t);
    return std::make_shared<const wafer::VocabIndex>(std::move(bytes), std::vector<int32_t>{256});
  }();
  return index;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const int mode = data[0] % 4;
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  wafer::Result<wafer::Grammar> g = wafer::make_error(wafer::ErrorCode::kInvalidArgument, "none");
  if (mode <= 1) {
    boost::system::error_code ec;
    boost::json::value schema = boost::json::parse(text, ec);
    if (ec) return 0;
    g = wafer::compile_json_schema(schema, mode == 0);
  } else if (mode == 2) {
    g = wafer::compile_lark(text);
  } else {
    g = wafer::compile_regex(text);
  }
  if (!g.ok()) return 0;
  auto grammar = std::make_shared<const wafer::Grammar>(std::move(g).value());
  // Walking a grammar whose shortest text is megabytes long (a{1000} repeated) is slow, not
  // wrong; the front ends above have been exercised on it already.
  if (grammar->num_elements() > 50000 || grammar->min_rule(grammar->root()) > 4096) return 0;
  wafer::GrammarConstraint constraint(grammar, vocab());
  // Walk a few steps along allowed tokens, then along the shortest completion.
  for (int step = 0; step < 8 && !constraint.done(); ++step) {
    const std::vector<uint8_t> allowed = constraint.allowed_tokens();
    int32_t pick = -1;
    for (size_t id = 0; id < allowed.size() && pick < 0; ++id) {
      if (allowed[(id + step * 37 + data[size - 1]) % allowed.size()]) pick = static_cast<int32_t>((id + step * 37 + data[size - 1]) % allowed.size());
    }
    if (pick < 0 || pick == 256) break;
    if (!constraint.accept(pick)) __builtin_trap();  // the mask allowed it
  }
  const std::string rest = constraint.shortest_completion_text();
  const bool completed = constraint.accept_text(rest) && constraint.can_end();
  // Guaranteed unless a pathologically ambiguous grammar hit the derivation limit.
  if (!completed && !constraint.saturated()) __builtin_trap();
  return 0;
}
