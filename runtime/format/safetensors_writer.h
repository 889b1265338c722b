#pragma once
// Writes safetensors files that SafetensorsFile (and any other safetensors reader) accepts.
// Layout choices:
//  - tensors are laid out in insertion order (the Hugging Face reference sorts by dtype
//    alignment, then name; we keep the caller's order so a bundle's bytes follow its model).
//    Consequence: a tensor is aligned to its dtype inside the file only if everything before
//    it has a size that is a multiple of that alignment; add wide dtypes first to be sure.
//  - "__metadata__" (only when non-empty) comes first in the header, keys sorted.
//  - the header is padded with spaces so the data buffer starts at a multiple of 8 bytes.
//  - write() goes through a temporary file in the same directory, fsync, then rename, so a
//    crash leaves either the old file or the complete new one, never a partial file.

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "runtime/format/dtype.h"

namespace rt3::format {

class SafetensorsWriter {
 public:
  // Replaces an earlier value of the same key. Key and value must be valid UTF-8.
  void set_metadata(const std::string& key, const std::string& value);

  // Copies `nbytes` bytes of little-endian data. Throws SafetensorsError: kEmptyName,
  // kDuplicateName, kInvalidArgument (reserved "__metadata__" or invalid UTF-8 name),
  // kBadShape (negative dim), kSizeOverflow, kByteSpanMismatch (nbytes != numel * dtype size).
  void add(const std::string& name, DType dtype, const std::vector<int64_t>& shape,
           const void* data, size_t nbytes);
  void add(const std::string& name, DType dtype, const std::vector<int64_t>& shape,
           const std::vector<uint8_t>& bytes);
  // F32 tensor from floats; values.size() must equal the element count.
  void add_f32(const std::string& name, const std::vector<int64_t>& shape,
               const std::vector<float>& values);

  size_t tensor_count() const { return entries_.size(); }

  // The complete file image.
  std::vector<uint8_t> to_bytes() const;
  // Atomic write (see above). Throws SafetensorsError kIo naming the path and the OS error;
  // on failure the temporary file is removed and `path` is untouched.
  void write(const std::string& path) const;

 private:
  struct Entry {
    std::string name;
    DType dtype;
    std::vector<int64_t> shape;
    std::vector<uint8_t> bytes;
  };
  // 8-byte length prefix + padded JSON header.
  std::string header_with_prefix() const;

  std::vector<Entry> entries_;
  std::set<std::string> names_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace rt3::format
