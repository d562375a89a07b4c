// Failure paths of WAFER_CHECK and Result access.
#include "base/check.h"

#include <cstdio>
#include <cstdlib>

#include "base/result.h"

namespace wafer {

void check_failure(const char* file, int line, const char* condition,
                   const std::string& message) {
  std::fprintf(stderr, "wafer: check failed at %s:%d: %s %s\n", file, line, condition,
               message.c_str());
  std::fflush(stderr);
  std::abort();
}

void result_access_failure(const char* what) {
  std::fprintf(stderr, "wafer: bad Result access: %s\n", what);
  std::fflush(stderr);
  std::abort();
}

}  // namespace wafer
