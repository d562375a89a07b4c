// Memory for large buffers that decode streams through every token: repacked weights and
// KV caches. One of 2 MiB or more is its own anonymous mapping, started on a 2 MiB boundary
// and advised for transparent huge pages, so reading it sequentially takes one TLB entry
// per 2 MiB instead of one per 4 KiB (with the common THP policy `madvise`, memory without
// the advice gets 4 KiB pages). The tail past the last 2 MiB boundary keeps small pages, so
// no memory is lost to rounding. Smaller buffers come from the heap, 64-byte aligned.
#pragma once

#include <cstddef>
#include <cstdint>

namespace wafer {

class LargeBuffer {
 public:
  // kSmall: a mapping all the same, without the advice. Touching fresh memory costs a page
  // fault per page; on a VM whose host maps guest memory lazily a 2 MiB page's first touch
  // took ~5 ms against ~1 ms for the same bytes in 4 KiB pages (decision 0013), so memory
  // that is filled while a client waits (prefix-cache blocks) takes small pages.
  enum class Pages { kHuge, kSmall };

  LargeBuffer() = default;
  // `bytes` zeroed bytes (fresh anonymous pages); an empty buffer for 0. Throws
  // std::bad_alloc when the mapping fails, as operator new does.
  explicit LargeBuffer(size_t bytes, Pages pages = Pages::kHuge);
  ~LargeBuffer();
  LargeBuffer(LargeBuffer&& other) noexcept;
  LargeBuffer& operator=(LargeBuffer&& other) noexcept;
  LargeBuffer(const LargeBuffer&) = delete;
  LargeBuffer& operator=(const LargeBuffer&) = delete;

  uint8_t* data() { return data_; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

 private:
  void release();

  uint8_t* data_ = nullptr;
  size_t size_ = 0;
  size_t mapped_ = 0;  // bytes mapped at data_ (size_ rounded up to whole pages); 0: heap
};

}  // namespace wafer
