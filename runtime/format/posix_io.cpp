#include "runtime/format/posix_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace rt3::format {

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) ::close(fd_);
}

UniqueFd& UniqueFd::operator=(UniqueFd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

int UniqueFd::close_checked() {
  if (fd_ < 0) return 0;
  const int rc = ::close(fd_);
  fd_ = -1;  // never retry close(): on Linux the descriptor is gone even after EINTR
  return rc == 0 ? 0 : errno;
}

int pread_exact(int fd, uint8_t* dst, size_t size, uint64_t offset) {
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pread(fd, dst + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return ENODATA;
    done += static_cast<size_t>(n);
  }
  return 0;
}

int write_all(int fd, const uint8_t* src, size_t size) {
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::write(fd, src + done, size - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    done += static_cast<size_t>(n);
  }
  return 0;
}

int fsync_parent_dir(const std::string& path) {
  const auto slash = path.find_last_of('/');
  const std::string dir =
      slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return errno;
  if (::fsync(fd.get()) != 0) return errno;
  return fd.close_checked();
}

}  // namespace rt3::format
