#pragma once
// The one way RT3 opens a file it reads as input (bundles, configs, tokenizers, traces,
// profiles). open() on a FIFO blocks until a writer appears and read() on a device may never
// end, so the file is opened with O_NONBLOCK and refused unless it is a regular file; only then
// is it read, and never more than a stated number of bytes.
#include <cstdint>
#include <stdexcept>
#include <string>

#include "runtime/format/posix_io.h"

namespace rt3::format {

// Largest text input (JSON config, vocab, trace, profile) read whole: far above any real one.
inline constexpr uint64_t kMaxTextInputBytes = 256ull << 20;

// Thrown for a missing, unreadable, non-regular or too large input; what() names the path.
class InputFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct InputFile {
  UniqueFd fd;
  uint64_t size = 0;
};

// Opens a regular file for reading without blocking (a FIFO, socket, device or directory is an
// error). Throws InputFileError.
InputFile open_input_file(const std::string& path);

// Reads a whole regular file; more than max_bytes is an error, not a huge allocation.
std::string read_input_file(const std::string& path, uint64_t max_bytes = kMaxTextInputBytes);

}  // namespace rt3::format
