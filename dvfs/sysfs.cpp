#include "dvfs/sysfs.h"

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fcntl.h>
#include <unistd.h>

namespace rt3::dvfs::sysfs {
namespace {

std::string errno_text(int err) {
  if (err == EACCES || err == EPERM) return "permission denied";
  return std::strerror(err);
}

}  // namespace

std::string trim(const std::string& s) {
  const char* ws = " \t\r\n";
  const auto b = s.find_first_not_of(ws);
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

std::optional<std::string> read_optional(const std::string& path) {
  // POSIX open/read rather than ifstream: we need errno to tell "absent" from "root-only".
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR) return std::nullopt;
    if (err == EACCES || err == EPERM)
      throw std::runtime_error("cannot read " + path + ": needs root or read permission on " + path);
    throw std::runtime_error("cannot read " + path + ": " + errno_text(err));
  }
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      if (err == EACCES || err == EPERM)
        throw std::runtime_error("cannot read " + path + ": needs root or read permission on " +
                                 path);
      throw std::runtime_error("cannot read " + path + ": " + errno_text(err));
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

std::string read_required(const std::string& path) {
  auto text = read_optional(path);
  if (!text) throw std::runtime_error("missing " + path + ": the kernel does not expose it here");
  return *text;
}

std::uint64_t parse_u64(const std::string& text, const std::string& path) {
  const std::string t = trim(text);
  if (t.empty()) throw std::runtime_error(path + ": empty, expected an unsigned integer");
  std::uint64_t v = 0;
  for (char c : t) {
    if (c < '0' || c > '9')
      throw std::runtime_error(path + ": '" + t + "' is not an unsigned integer");
    const std::uint64_t d = static_cast<std::uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) throw std::runtime_error(path + ": '" + t + "' overflows 64 bits");
    v = v * 10 + d;
  }
  return v;
}

std::vector<std::uint64_t> parse_u64_list(const std::string& text, const std::string& path) {
  std::vector<std::uint64_t> out;
  std::size_t i = 0;
  const char* ws = " \t\r\n";
  while ((i = text.find_first_not_of(ws, i)) != std::string::npos) {
    const std::size_t e = text.find_first_of(ws, i);
    out.push_back(parse_u64(text.substr(i, e == std::string::npos ? std::string::npos : e - i), path));
    i = e;
  }
  return out;
}

void write(const std::string& path, const std::string& value) {
  // O_TRUNC matters only for the fake regular files in tests; sysfs ignores it.
  const int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == EACCES || err == EPERM)
      throw std::runtime_error("cannot write " + path + ": needs root or write permission on " + path);
    throw std::runtime_error("cannot write " + path + ": " + errno_text(err));
  }
  const std::string data = value + "\n";
  const ssize_t n = ::write(fd, data.data(), data.size());
  const int err = errno;
  ::close(fd);
  if (n < 0) {
    if (err == EACCES || err == EPERM)
      throw std::runtime_error("cannot write " + path + ": needs root or write permission on " + path);
    throw std::runtime_error("cannot write '" + value + "' to " + path + ": " + errno_text(err) +
                             " (the driver rejected the value)");
  }
  if (static_cast<std::size_t>(n) != data.size())
    throw std::runtime_error("short write of '" + value + "' to " + path);
}

}  // namespace rt3::dvfs::sysfs
