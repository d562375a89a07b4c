// Random and counting id generators.
#include "api/ids.h"

#include <memory>
#include <random>

#include <fmt/core.h>

namespace wafer::api {

IdGenerator make_random_id_generator() {
  std::random_device device;
  auto rng = std::make_shared<std::mt19937_64>((static_cast<uint64_t>(device()) << 32) ^ device());
  return [rng](std::string_view prefix) {
    uint64_t hi = (*rng)();
    uint64_t lo = (*rng)();
    return fmt::format("{}{:016x}{:016x}", prefix, hi, lo);
  };
}

IdGenerator make_counter_id_generator() {
  auto counter = std::make_shared<uint64_t>(0);
  return [counter](std::string_view prefix) { return fmt::format("{}{}", prefix, ++*counter); };
}

}  // namespace wafer::api
