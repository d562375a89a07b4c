// MappedFile: a whole file mapped read-only (MAP_PRIVATE), so tensors are read in place
// and pages come from the page cache instead of a heap copy.
#include "gguf/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace wafer {
namespace {

Error os_error(int err, const std::string& path, std::string_view what) {
  const ErrorCode code = (err == ENOENT || err == ENOTDIR) ? ErrorCode::kNotFound : ErrorCode::kIo;
  return make_error(code, "cannot {} '{}': {}", what, path, std::strerror(err));
}

}  // namespace

Result<MappedFile> MappedFile::open(const std::string& path) {
  // O_NONBLOCK: a FIFO given as a model path must fail below, not block here.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return os_error(errno, path, "open");

  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return os_error(err, path, "stat");
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return make_error(ErrorCode::kInvalidArgument, "cannot map '{}': not a regular file", path);
  }

  MappedFile file;
  if (st.st_size == 0) {  // mmap rejects length 0; an empty file is an empty span
    ::close(fd);
    return file;
  }
  const size_t size = static_cast<size_t>(st.st_size);
  void* addr = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  const int err = errno;
  ::close(fd);  // the mapping keeps the file referenced
  if (addr == MAP_FAILED) return os_error(err, path, "mmap");

  file.data_ = static_cast<const uint8_t*>(addr);
  file.size_ = size;
  file.owned_ = true;
  return file;
}

MappedFile MappedFile::borrow(std::span<const uint8_t> bytes) {
  MappedFile file;
  file.data_ = bytes.data();
  file.size_ = bytes.size();
  file.owned_ = false;
  return file;
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      owned_(std::exchange(other.owned_, false)) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    if (owned_) ::munmap(const_cast<uint8_t*>(data_), size_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    owned_ = std::exchange(other.owned_, false);
  }
  return *this;
}

MappedFile::~MappedFile() {
  if (owned_) ::munmap(const_cast<uint8_t*>(data_), size_);
}

}  // namespace wafer
