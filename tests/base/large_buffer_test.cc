#include "base/large_buffer.h"

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <utility>

#include <gtest/gtest.h>

namespace wafer {
namespace {

constexpr size_t kMiB = size_t{1} << 20;

// Every byte starts at zero and holds what is written to it, first to last.
void expect_usable(LargeBuffer& b) {
  for (size_t i = 0; i < b.size(); ++i) ASSERT_EQ(b.data()[i], 0) << "byte " << i;
  for (size_t i = 0; i < b.size(); ++i) b.data()[i] = static_cast<uint8_t>(i * 131 + 7);
  for (size_t i = 0; i < b.size(); ++i) ASSERT_EQ(b.data()[i], static_cast<uint8_t>(i * 131 + 7)) << "byte " << i;
}

TEST(LargeBufferTest, SmallBuffersAreZeroedAndAligned) {
  for (size_t bytes : {size_t{1}, size_t{63}, size_t{4096}, 2 * kMiB - 1}) {
    LargeBuffer b(bytes);
    ASSERT_EQ(b.size(), bytes);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(b.data()) % 64, 0u) << bytes;
    expect_usable(b);
  }
}

TEST(LargeBufferTest, LargeBuffersStartOnAHugePageBoundary) {
  for (size_t bytes : {2 * kMiB, 5 * kMiB + 123, 16 * kMiB}) {
    LargeBuffer b(bytes);
    ASSERT_EQ(b.size(), bytes);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(b.data()) % (2 * kMiB), 0u) << bytes;
    expect_usable(b);
  }
}

// The mapping holding a large buffer carries the huge-page advice (the `hg` flag of
// /proc/self/smaps), where the kernel has transparent huge pages at all.
TEST(LargeBufferTest, LargeBuffersAreAdvisedForHugePages) {
  std::ifstream thp("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string policy;
  if (!std::getline(thp, policy) || policy.find("[never]") != std::string::npos)
    GTEST_SKIP() << "no transparent huge pages on this kernel";
  LargeBuffer b(8 * kMiB);
  const uintptr_t at = reinterpret_cast<uintptr_t>(b.data());
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false, found = false;
  while (std::getline(smaps, line)) {
    uintptr_t lo = 0, hi = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx ", &lo, &hi) == 2) {  // a mapping's first line
      inside = lo <= at && at < hi;
      continue;
    }
    if (inside && line.rfind("VmFlags:", 0) == 0) {
      found = true;
      EXPECT_NE(line.find(" hg"), std::string::npos) << line;
      break;
    }
  }
  EXPECT_TRUE(found) << "no mapping in /proc/self/smaps holds the buffer";
}

TEST(LargeBufferTest, MovesHandOverTheBytes) {
  LargeBuffer a(3 * kMiB);
  a.data()[3 * kMiB - 1] = 42;
  const uint8_t* p = a.data();
  LargeBuffer b(std::move(a));
  EXPECT_EQ(b.data(), p);
  EXPECT_EQ(b.size(), 3 * kMiB);
  EXPECT_TRUE(a.empty());
  LargeBuffer c(100);
  c = std::move(b);
  EXPECT_EQ(c.data(), p);
  EXPECT_EQ(c.data()[3 * kMiB - 1], 42);
  LargeBuffer empty(0);
  EXPECT_TRUE(empty.empty());
  EXPECT_EQ(empty.data(), nullptr);
}

}  // namespace
}  // namespace wafer
