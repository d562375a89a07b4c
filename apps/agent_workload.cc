// The agent session's text: see agent_workload.h.
#include "apps/agent_workload.h"

#include <functional>

#include <fmt/core.h>

namespace wafer::apps {

namespace json = boost::json;

std::string instructions(const std::string& session, int words) {
  static const char* kWords[] = {
      "the", "agent", "must", "read", "files", "before", "editing", "them", "and", "run", "tests", "after",
      "every", "change", "prefer", "small", "patches", "that", "keep", "style", "consistent", "with", "code",
      "around", "it", "never", "delete", "user", "data", "without", "asking", "explain", "what", "you", "did",
      "in", "one", "short", "paragraph", "use", "shell", "commands", "to", "inspect", "repository", "layout",
      "when", "a", "command", "fails", "report", "its", "output", "verbatim", "sandbox", "rules", "apply",
      "network", "access", "is", "disabled", "unless", "approved", "by", "operator"};
  constexpr size_t kCount = sizeof(kWords) / sizeof(kWords[0]);
  std::string s = fmt::format("You are a coding agent working in session {}.\n\n# Instructions\n", session);
  uint64_t x = std::hash<std::string>{}(session) | 1;
  for (int i = 0; i < words; ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    s += kWords[x % kCount];
    s += (i % 17 == 16) ? ".\n- " : " ";
  }
  return s + "\n";
}

std::string tool_output(int turn, int tokens) {
  std::string s = fmt::format("Chunk ID: {:04x}\nWall time: 0.{} seconds\nProcess exited with code 0\nOutput:\n",
                              0x3a00 + turn, 100 + turn * 7);
  for (int line = 0; s.size() < static_cast<size_t>(tokens) * 3; ++line)
    s += fmt::format("src/net/conn_{}.cc:{}: warning: unused variable 'buf_{}' [-Wunused-variable]\n", turn,
                     40 + line * 13, line);
  return s;
}

json::array tool_list() {
  auto fn = [](const char* name, const char* description, json::object properties, json::array required) {
    return json::object{{"type", "function"},
                        {"name", name},
                        {"description", description},
                        {"strict", false},
                        {"parameters", json::object{{"type", "object"},
                                                    {"properties", std::move(properties)},
                                                    {"required", std::move(required)},
                                                    {"additionalProperties", false}}}};
  };
  auto str = [](const char* d) { return json::object{{"type", "string"}, {"description", d}}; };
  auto num = [](const char* d) { return json::object{{"type", "number"}, {"description", d}}; };
  return json::array{
      fn("exec_command", "Runs a command in a PTY, returning output or a session ID for ongoing interaction.",
         {{"cmd", str("Shell command to execute.")},
          {"workdir", str("Optional working directory to run the command in; defaults to the turn cwd.")},
          {"yield_time_ms", num("How long to wait (in milliseconds) for output before yielding.")},
          {"max_output_tokens", num("Maximum number of tokens to return. Excess output will be truncated.")}},
         {"cmd"}),
      fn("write_stdin", "Writes characters to an existing unified exec session and returns recent output.",
         {{"session_id", num("Identifier of the running unified exec session.")},
          {"chars", str("Bytes to write to stdin (may be empty to poll).")}},
         {"session_id"}),
      fn("apply_patch", "Applies a patch in the apply_patch format to files in the workspace.",
         {{"input", str("The entire contents of the apply_patch command.")}}, {"input"}),
  };
}

json::object message(const char* role, const std::string& text) {
  return json::object{{"type", "message"},
                      {"role", role},
                      {"content", json::array{json::object{{"type", "input_text"}, {"text", text}}}}};
}

}  // namespace wafer::apps
