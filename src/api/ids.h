// Ids for responses, items and calls (resp_..., msg_..., fc_..., call_...). Injectable so
// tests get deterministic ids.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace wafer::api {

// Returns a fresh id starting with `prefix` (e.g. "resp_"). Called from one thread at a time.
using IdGenerator = std::function<std::string(std::string_view prefix)>;

// prefix + 32 random hex digits, from its own generator seeded by std::random_device.
// Each call returns an independent generator (not shared, no global state).
IdGenerator make_random_id_generator();
// prefix + a decimal counter starting at 1 (tests).
IdGenerator make_counter_id_generator();

}  // namespace wafer::api
