// The `wafer` verbs. Each registers its flags on a CLI11 subcommand and runs when chosen;
// a run returns the process exit status (0 ok, 1 user error with a one-line message).
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace wafer::apps {

using Command = std::function<int()>;

Command add_run_command(CLI::App& app);
Command add_tokenize_command(CLI::App& app);
Command add_info_command(CLI::App& app);
Command add_synth_command(CLI::App& app);
Command add_bench_command(CLI::App& app);
Command add_bench_spec_command(CLI::App& app);  // under bench
Command add_bench_agent_command(CLI::App& app);  // under bench
Command add_bench_batch_command(CLI::App& app);  // under bench
Command add_serve_command(CLI::App& app);

// Prints "wafer: <message>" on stderr and returns 1.
int user_error(const std::string& message);

}  // namespace wafer::apps
