#include "runtime/format/input_file.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace rt3::format {

InputFile open_input_file(const std::string& path) {
  InputFile f;
  f.fd = UniqueFd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (f.fd.get() < 0) throw InputFileError("cannot open '" + path + "': " + std::strerror(errno));
  struct stat st {};
  if (::fstat(f.fd.get(), &st) != 0) throw InputFileError("cannot stat '" + path + "': " + std::strerror(errno));
  if (!S_ISREG(st.st_mode))
    throw InputFileError("'" + path + "' is not a regular file (" +
                         (S_ISFIFO(st.st_mode) ? "a FIFO" : S_ISDIR(st.st_mode) ? "a directory" : "a device or socket") +
                         "): pass a file");
  // Regular files never block; clear the flag anyway so later reads behave as usual.
  const int flags = ::fcntl(f.fd.get(), F_GETFL);
  if (flags >= 0) ::fcntl(f.fd.get(), F_SETFL, flags & ~O_NONBLOCK);
  f.size = static_cast<uint64_t>(st.st_size);
  return f;
}

std::string read_input_file(const std::string& path, uint64_t max_bytes) {
  InputFile f = open_input_file(path);
  if (f.size > max_bytes)
    throw InputFileError("'" + path + "' is " + std::to_string(f.size) + " bytes, more than the " +
                         std::to_string(max_bytes) + " this input may have (see docs/limits.md)");
  std::string text(static_cast<size_t>(f.size), '\0');
  const int err = pread_exact(f.fd.get(), reinterpret_cast<uint8_t*>(text.data()), text.size(), 0);
  if (err == ENODATA) throw InputFileError("'" + path + "' shrank while being read");
  if (err != 0) throw InputFileError("cannot read '" + path + "': " + std::strerror(err));
  return text;
}

}  // namespace rt3::format
