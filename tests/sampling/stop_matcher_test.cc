// StopMatcher tests: every way of splitting a text into pushes must give the same output as
// a whole-text reference, and nothing that could start a stop string is emitted early.
#include <gtest/gtest.h>

#include <random>

#include "sampling/sampler.h"

namespace wafer {
namespace {

struct Expected {
  std::string output;
  bool stopped = false;
};

// Reference on the whole text: the stop string that completes first (the longest among
// those completing at the same byte) cuts the text at its start.
Expected reference(const std::string& text, const std::vector<std::string>& stops) {
  for (size_t end = 1; end <= text.size(); ++end) {
    size_t best_start = std::string::npos;
    for (const std::string& stop : stops) {
      if (stop.empty() || stop.size() > end) continue;
      if (text.compare(end - stop.size(), stop.size(), stop) == 0)
        best_start = std::min(best_start, end - stop.size());
    }
    if (best_start != std::string::npos) return {text.substr(0, best_start), true};
  }
  return {text, false};
}

// Longest stop-string length minus one: the most a matcher may hold back.
size_t max_hold(const std::vector<std::string>& stops) {
  size_t hold = 0;
  for (const std::string& s : stops) hold = std::max(hold, s.empty() ? 0 : s.size() - 1);
  return hold;
}

// Pushes text cut at the given offsets and checks the result against the reference, plus
// the streaming invariants after each push.
void check_split(const std::string& text, const std::vector<std::string>& stops,
                 const std::vector<size_t>& cuts) {
  const Expected want = reference(text, stops);
  StopMatcher matcher(stops);
  std::string emitted;
  size_t pos = 0;
  std::vector<size_t> bounds = cuts;
  bounds.push_back(text.size());
  for (size_t bound : bounds) {
    const bool was_stopped = matcher.stopped();
    const std::string out = matcher.push(std::string_view(text).substr(pos, bound - pos));
    if (was_stopped) {
      EXPECT_EQ(out, "");
    }
    emitted += out;
    pos = bound;
    // Never emit beyond what the whole-text answer allows.
    ASSERT_EQ(want.output.compare(0, emitted.size(), emitted), 0)
        << "text=" << text << " emitted=" << emitted;
    // Hold back no more than a stop string's proper prefix.
    if (!matcher.stopped()) {
      EXPECT_GE(emitted.size() + max_hold(stops), pos);
    }
  }
  emitted += matcher.flush();
  EXPECT_EQ(emitted, want.output) << "text=" << text;
  EXPECT_EQ(matcher.stopped(), want.stopped) << "text=" << text;
  EXPECT_EQ(matcher.flush(), "");
  EXPECT_EQ(matcher.push("more"), matcher.stopped() ? "" : "more");
}

void check_all_splits(const std::string& text, const std::vector<std::string>& stops) {
  SCOPED_TRACE("text=" + text);
  check_split(text, stops, {});
  std::vector<size_t> each;
  for (size_t i = 1; i < text.size(); ++i) each.push_back(i);
  check_split(text, stops, each);  // byte by byte
  for (size_t i = 0; i <= text.size(); ++i) {
    for (size_t j = i; j <= text.size(); ++j) check_split(text, stops, {i, j});
  }
}

TEST(StopMatcher, NoStopsPassesEverything) {
  StopMatcher matcher({});
  EXPECT_EQ(matcher.push("hello "), "hello ");
  EXPECT_EQ(matcher.push("world"), "world");
  EXPECT_EQ(matcher.flush(), "");
  EXPECT_FALSE(matcher.stopped());
}

TEST(StopMatcher, EmptyStopStringsAreIgnored) {
  StopMatcher matcher({"", "END"});
  EXPECT_EQ(matcher.push("abc"), "abc");
  EXPECT_EQ(matcher.push("E"), "");
  EXPECT_EQ(matcher.push("Nx"), "ENx");
  EXPECT_FALSE(matcher.stopped());
  check_all_splits("abc END def", {"", "END"});
}

TEST(StopMatcher, HoldsBackPartialMatchAndStopsAcrossPushes) {
  StopMatcher matcher({"</s>"});
  EXPECT_EQ(matcher.push("Hello <"), "Hello ");
  EXPECT_EQ(matcher.push("/"), "");
  EXPECT_EQ(matcher.push("s> trailing"), "");
  EXPECT_TRUE(matcher.stopped());
  EXPECT_EQ(matcher.push("x"), "");
  EXPECT_EQ(matcher.flush(), "");
}

TEST(StopMatcher, FalseStartIsReleased) {
  StopMatcher matcher({"</s>"});
  EXPECT_EQ(matcher.push("a </"), "a ");
  EXPECT_EQ(matcher.push("p>"), "</p>");
  EXPECT_EQ(matcher.push("<"), "");
  EXPECT_EQ(matcher.flush(), "<");
  EXPECT_FALSE(matcher.stopped());
}

TEST(StopMatcher, StopAtVeryStart) {
  StopMatcher matcher({"STOP"});
  EXPECT_EQ(matcher.push("STOP and more"), "");
  EXPECT_TRUE(matcher.stopped());
  check_all_splits("STOPSTOP", {"STOP"});
  check_all_splits("\n\nrest", {"\n\n"});
}

TEST(StopMatcher, EverySplitMatchesReference) {
  const std::vector<std::string> stops = {"\n\nUser:", "<|im_end|>", "###"};
  for (const std::string text :
       {"Hello world", "Answer: 42\n\nUser: next", "a<|im_end|>b", "##x###y", "#\n\nUse<|im_end",
        "<|im_end|", "\n\nUser", "x\n\n\nUser:", ""}) {
    check_all_splits(text, stops);
  }
}

TEST(StopMatcher, OverlappingStops) {
  // Overlapping but not nested: the first to complete is also the first to start.
  check_all_splits("xxabcdyy", {"abc", "bcd"});
  check_all_splits("xxbcdabc", {"abc", "bcd"});
  check_all_splits("aaab", {"aab", "ab"});  // "ab" nested in "aab": both complete together
  check_all_splits("aaaab", {"aaab"});      // self-overlapping prefix
  check_all_splits("abababc", {"ababc"});
  // Nested with different ends: "bc" completes before "abcd" could, so it wins.
  check_all_splits("xabcd", {"abcd", "bc"});
  StopMatcher matcher({"abcd", "bc"});
  EXPECT_EQ(matcher.push("xabcd"), "xa");
}

TEST(StopMatcher, RandomTextsAndSplits) {
  std::mt19937 rng(2024);
  const std::vector<std::vector<std::string>> stop_sets = {
      {"ab"}, {"aba", "bb"}, {"abc", "cab", "c"}, {"aaaa"}, {"ba", "abab", "cc"}};
  for (const auto& stops : stop_sets) {
    for (int trial = 0; trial < 300; ++trial) {
      std::string text;
      const size_t len = rng() % 16;
      for (size_t i = 0; i < len; ++i) text.push_back("abc"[rng() % 3]);
      std::vector<size_t> cuts;
      for (size_t i = 1; i < len; ++i) {
        if (rng() % 3 == 0) cuts.push_back(i);
      }
      SCOPED_TRACE("text=" + text);
      check_split(text, stops, cuts);
    }
  }
}

TEST(StopMatcher, NonNestedStopsCutAtFirstOccurrence) {
  // With no stop inside another, the answer is simply the text before the first occurrence.
  const std::vector<std::string> stops = {"ab", "ca", "bbb"};
  std::mt19937 rng(7);
  for (int trial = 0; trial < 500; ++trial) {
    std::string text;
    for (size_t i = rng() % 20; i > 0; --i) text.push_back("abc"[rng() % 3]);
    size_t first = std::string::npos;
    for (const std::string& s : stops) first = std::min(first, text.find(s));
    StopMatcher matcher(stops);
    std::string out;
    for (char c : text) out += matcher.push(std::string(1, c));
    out += matcher.flush();
    EXPECT_EQ(out, text.substr(0, first)) << text;
    EXPECT_EQ(matcher.stopped(), first != std::string::npos) << text;
  }
}

}  // namespace
}  // namespace wafer
