#include "base/large_buffer.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

namespace wafer {
namespace {

constexpr size_t kHugePage = size_t{2} << 20;

size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }

}  // namespace

LargeBuffer::LargeBuffer(size_t bytes, Pages pages) : size_(bytes) {
  if (bytes == 0) return;
  if (bytes < kHugePage) {  // too small for a huge page: the heap, 64-byte aligned
    data_ = static_cast<uint8_t*>(std::aligned_alloc(64, round_up(bytes, 64)));
    if (data_ == nullptr) throw std::bad_alloc();
    std::memset(data_, 0, bytes);
    return;
  }
  mapped_ = round_up(bytes, static_cast<size_t>(::sysconf(_SC_PAGESIZE)));
  // Map a huge page more than needed and keep the 2 MiB-aligned run of mapped_ bytes in it.
  void* base = ::mmap(nullptr, mapped_ + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED) throw std::bad_alloc();
  auto* p = static_cast<uint8_t*>(base);
  const uintptr_t at = round_up(reinterpret_cast<uintptr_t>(p), kHugePage);
  const size_t head = at - reinterpret_cast<uintptr_t>(p);
  if (head != 0) ::munmap(p, head);
  if (kHugePage - head != 0) ::munmap(reinterpret_cast<uint8_t*>(at) + mapped_, kHugePage - head);
  data_ = reinterpret_cast<uint8_t*>(at);
  if (pages == Pages::kHuge) ::madvise(data_, mapped_, MADV_HUGEPAGE);  // a kernel without THP ignores it
}

void LargeBuffer::release() {
  if (data_ == nullptr) return;
  if (mapped_ != 0) ::munmap(data_, mapped_);
  else std::free(data_);
}

LargeBuffer::~LargeBuffer() { release(); }

LargeBuffer::LargeBuffer(LargeBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      mapped_(std::exchange(other.mapped_, 0)) {}

LargeBuffer& LargeBuffer::operator=(LargeBuffer&& other) noexcept {
  if (this != &other) {
    release();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    mapped_ = std::exchange(other.mapped_, 0);
  }
  return *this;
}

}  // namespace wafer
