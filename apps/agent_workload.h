// The Codex-like session `wafer bench agent` replays, also used by bench/turn_bench: a long
// developer prompt, Codex's kind of tool list, and tool outputs of a few hundred tokens.
// Deterministic, so every run and every transport sees the same text.
#pragma once

#include <string>

#include <boost/json.hpp>

namespace wafer::apps {

// `words` words of a coding agent's instructions, seeded by the session name.
std::string instructions(const std::string& session, int words);
// A tool's output of about `tokens` tokens for turn `turn` (compiler warnings).
std::string tool_output(int turn, int tokens);
// exec_command, write_stdin and apply_patch, as Codex declares them.
boost::json::array tool_list();
// {"type":"message","role":role,"content":[{"type":"input_text","text":text}]}
boost::json::object message(const char* role, const std::string& text);

}  // namespace wafer::apps
