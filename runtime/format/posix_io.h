#pragma once
// Thin POSIX helpers for the safetensors reader and writer: an owning file descriptor and
// loops that finish partial reads/writes and retry on EINTR. Errors come back as errno values
// so the callers can word them with the file name and throw their own error kind.

#include <cstddef>
#include <cstdint>
#include <string>

namespace rt3::format {

class UniqueFd {
 public:
  explicit UniqueFd(int fd = -1) : fd_(fd) {}
  ~UniqueFd();
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  UniqueFd& operator=(UniqueFd&& o) noexcept;

  int get() const { return fd_; }
  // Closes now and reports the result: close() can be the first to report a failed write.
  int close_checked();

 private:
  int fd_;
};

// 0 on success, else errno; ENODATA when the file ended before `size` bytes.
int pread_exact(int fd, uint8_t* dst, size_t size, uint64_t offset);
// 0 on success, else errno.
int write_all(int fd, const uint8_t* src, size_t size);
// fsync of the directory holding `path`, so a rename into it survives power loss.
// 0 on success, else errno.
int fsync_parent_dir(const std::string& path);

}  // namespace rt3::format
