// wafer: one command for every job (run, tokenize, info, synth, bench).
#include <cstdio>
#include <map>

#include "apps/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"wafer: a self-hosted inference engine for coding models (GGUF, CPU)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "wafer 0.1.0");
  std::map<CLI::App*, wafer::apps::Command> commands;
  auto add = [&](wafer::apps::Command (*adder)(CLI::App&), const char* name, const char* about) {
    CLI::App* sub = app.add_subcommand(name, about);
    commands[sub] = adder(*sub);
  };
  add(wafer::apps::add_run_command, "run", "generate text from a model");
  add(wafer::apps::add_tokenize_command, "tokenize", "print the token ids of a text as a JSON array");
  add(wafer::apps::add_info_command, "info", "describe a GGUF model: architecture, shapes, types, tokenizer");
  add(wafer::apps::add_synth_command, "synth", "write a random-weight model of a real shape");
  add(wafer::apps::add_bench_command, "bench", "measure prompt and generation speed against the memory roofline");
  add(wafer::apps::add_serve_command, "serve", "serve the OpenAI-compatible API (Responses over HTTP/SSE and WebSocket, Chat, Completions)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return e.get_exit_code() == 0 ? app.exit(e) : (app.exit(e), 1);
  }
  for (auto& [sub, run] : commands)
    if (sub->parsed()) return run();
  return 1;
}
