// WAFER_CHECK: always-on assertions for bugs and broken invariants (never for bad input,
// which returns a Result). A failed check prints where and why, then aborts.
#pragma once

#include <fmt/core.h>

namespace wafer {
[[noreturn]] void check_failure(const char* file, int line, const char* condition,
                                const std::string& message);
}  // namespace wafer

#define WAFER_CHECK(cond, ...)                                                    \
  do {                                                                            \
    if (__builtin_expect(!(cond), 0))                                             \
      ::wafer::check_failure(__FILE__, __LINE__, #cond, ::fmt::format("" __VA_ARGS__)); \
  } while (0)
