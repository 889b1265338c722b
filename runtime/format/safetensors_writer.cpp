#include "runtime/format/safetensors_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <nlohmann/json.hpp>

#include "runtime/format/posix_io.h"
#include "runtime/format/safetensors_error.h"
#include "runtime/format/safetensors_header.h"

namespace rt3::format {

namespace {

using K = SafetensorsErrorKind;
using ordered_json = nlohmann::ordered_json;
const char* const kWriterSource = "<writer>";

[[noreturn]] void fail(K kind, const std::string& source, const std::string& detail) {
  throw SafetensorsError(kind, source, detail);
}

// Serialising invalid UTF-8 would make a header no reader accepts; refuse it when added.
void require_utf8(const std::string& s, const char* what) {
  try {
    (void)ordered_json(s).dump();
  } catch (const nlohmann::json::type_error&) {
    fail(K::kInvalidArgument, kWriterSource, std::string(what) + " is not valid UTF-8");
  }
}

// Removes the temporary file unless the rename went through.
class TempFileGuard {
 public:
  explicit TempFileGuard(std::string path) : path_(std::move(path)) {}
  ~TempFileGuard() {
    if (armed_) ::unlink(path_.c_str());
  }
  TempFileGuard(const TempFileGuard&) = delete;
  TempFileGuard& operator=(const TempFileGuard&) = delete;
  void disarm() { armed_ = false; }

 private:
  std::string path_;
  bool armed_ = true;
};

}  // namespace

void SafetensorsWriter::set_metadata(const std::string& key, const std::string& value) {
  require_utf8(key, "metadata key");
  require_utf8(value, "metadata value");
  metadata_[key] = value;
}

void SafetensorsWriter::add(const std::string& name, DType dtype,
                            const std::vector<int64_t>& shape, const void* data, size_t nbytes) {
  if (name.empty()) fail(K::kEmptyName, kWriterSource, "tensor name is empty");
  if (name == "__metadata__")
    fail(K::kInvalidArgument, kWriterSource, "tensor name '__metadata__' is reserved");
  require_utf8(name, "tensor name");
  if (names_.count(name)) fail(K::kDuplicateName, kWriterSource, "tensor '" + name + "' added twice");
  for (int64_t d : shape)
    if (d < 0)
      fail(K::kBadShape, kWriterSource, "tensor '" + name + "' has a negative dimension");
  const auto expected = checked_nbytes(shape, dtype);
  if (!expected)
    fail(K::kSizeOverflow, kWriterSource, "tensor '" + name + "': byte size overflows 64 bits");
  if (*expected != nbytes)
    fail(K::kByteSpanMismatch, kWriterSource,
         "tensor '" + name + "': shape and dtype need " + std::to_string(*expected) +
             " bytes, got " + std::to_string(nbytes));
  if (nbytes != 0 && data == nullptr)
    fail(K::kInvalidArgument, kWriterSource, "tensor '" + name + "': null data");

  Entry e{name, dtype, shape, {}};
  if (nbytes) {
    const auto* p = static_cast<const uint8_t*>(data);
    e.bytes.assign(p, p + nbytes);
  }
  entries_.push_back(std::move(e));
  names_.insert(name);
}

void SafetensorsWriter::add(const std::string& name, DType dtype,
                            const std::vector<int64_t>& shape, const std::vector<uint8_t>& bytes) {
  add(name, dtype, shape, bytes.data(), bytes.size());
}

void SafetensorsWriter::add_f32(const std::string& name, const std::vector<int64_t>& shape,
                                const std::vector<float>& values) {
  add(name, DType::F32, shape, values.data(), values.size() * sizeof(float));
}

std::string SafetensorsWriter::header_with_prefix() const {
  ordered_json h = ordered_json::object();
  if (!metadata_.empty()) {
    ordered_json m = ordered_json::object();
    for (const auto& [k, v] : metadata_) m[k] = v;
    h["__metadata__"] = std::move(m);
  }
  uint64_t offset = 0;
  for (const auto& e : entries_) {
    ordered_json t = ordered_json::object();
    t["dtype"] = dtype_name(e.dtype);
    t["shape"] = e.shape;
    t["data_offsets"] = ordered_json::array({offset, offset + e.bytes.size()});
    offset += e.bytes.size();
    h[e.name] = std::move(t);
  }
  std::string json = h.dump();
  // Pad so the data buffer (at 8 + json.size()) starts on an 8-byte boundary.
  json.append((8 - json.size() % 8) % 8, ' ');

  std::string out(8, '\0');
  uint64_t n = json.size();
  for (int i = 0; i < 8; ++i, n >>= 8) out[static_cast<size_t>(i)] = static_cast<char>(n & 0xff);
  return out + json;
}

std::vector<uint8_t> SafetensorsWriter::to_bytes() const {
  const std::string head = header_with_prefix();
  size_t total = head.size();
  for (const auto& e : entries_) total += e.bytes.size();
  std::vector<uint8_t> out;
  out.reserve(total);
  out.insert(out.end(), head.begin(), head.end());
  for (const auto& e : entries_) out.insert(out.end(), e.bytes.begin(), e.bytes.end());
  return out;
}

void SafetensorsWriter::write(const std::string& path) const {
  const std::string head = header_with_prefix();

  // Same directory as the target, so rename() is atomic (no cross-filesystem move). The pid
  // plus mkstemp's random suffix keeps concurrent writers (processes or threads) apart.
  std::string tmp = path + ".tmp." + std::to_string(::getpid()) + ".XXXXXX";
  UniqueFd fd(::mkostemp(tmp.data(), O_CLOEXEC));
  if (fd.get() < 0)
    fail(K::kIo, path, "cannot create temporary file " + tmp + ": " + std::strerror(errno));
  TempFileGuard guard(tmp);
  if (::fchmod(fd.get(), 0644) != 0)  // mkstemp creates 0600; bundles are meant to be shared
    fail(K::kIo, path, std::string("cannot chmod temporary file: ") + std::strerror(errno));

  int err = write_all(fd.get(), reinterpret_cast<const uint8_t*>(head.data()), head.size());
  for (size_t i = 0; err == 0 && i < entries_.size(); ++i)
    err = write_all(fd.get(), entries_[i].bytes.data(), entries_[i].bytes.size());
  if (err != 0) fail(K::kIo, path, "write to " + tmp + " failed: " + std::strerror(err));
  if (::fsync(fd.get()) != 0)
    fail(K::kIo, path, "fsync of " + tmp + " failed: " + std::strerror(errno));
  if ((err = fd.close_checked()) != 0)
    fail(K::kIo, path, "close of " + tmp + " failed: " + std::strerror(err));
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    fail(K::kIo, path, "rename from " + tmp + " failed: " + std::strerror(errno));
  guard.disarm();
  // Best effort: the file is complete either way; this only makes the new name durable on
  // filesystems that support fsync on directories.
  (void)fsync_parent_dir(path);
}

}  // namespace rt3::format
