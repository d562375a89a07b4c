// StopMatcher: streams text through while holding back any tail that could still grow into
// a stop string, so a stop string split across tokens is never partly emitted.
#include <algorithm>

#include "sampling/sampler.h"

namespace wafer {
namespace {

// Length of the longest suffix of text that is a proper prefix of stop.
size_t partial_match_length(std::string_view text, std::string_view stop) {
  for (size_t len = std::min(text.size(), stop.size() - 1); len > 0; --len) {
    if (text.ends_with(stop.substr(0, len))) return len;
  }
  return 0;
}

}  // namespace

std::string StopMatcher::push(std::string_view text) {
  if (stopped_) return {};
  held_.append(text);

  // Stop at the occurrence that completes first: generation halts as soon as any stop
  // string has been produced. Among occurrences ending at the same place the longest wins.
  // Everything from that occurrence's start is still held (see the hold rule below), so the
  // result does not depend on how the text was split into pushes.
  size_t best_end = std::string::npos;
  size_t best_start = std::string::npos;
  for (const std::string& stop : stops_) {
    if (stop.empty()) continue;
    const size_t start = held_.find(stop);
    if (start == std::string::npos) continue;
    const size_t end = start + stop.size();
    if (end < best_end || (end == best_end && start < best_start)) {
      best_end = end;
      best_start = start;
    }
  }
  if (best_start != std::string::npos) {
    std::string out = held_.substr(0, best_start);
    held_.clear();
    stopped_ = true;
    return out;
  }

  // Hold back the longest tail that is the beginning of some stop string.
  size_t hold = 0;
  for (const std::string& stop : stops_) {
    if (!stop.empty()) hold = std::max(hold, partial_match_length(held_, stop));
  }
  std::string out = held_.substr(0, held_.size() - hold);
  held_.erase(0, held_.size() - hold);
  return out;
}

std::string StopMatcher::flush() {
  if (stopped_) return {};
  std::string out = std::move(held_);
  held_.clear();
  return out;
}

}  // namespace wafer
