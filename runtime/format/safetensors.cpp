#include "runtime/format/safetensors.h"

#include <cerrno>
#include <cstring>
#include <limits>
#include <utility>

#include "runtime/format/input_file.h"
#include "runtime/format/posix_io.h"
#include "runtime/format/safetensors_header.h"

namespace rt3::format {

namespace {

using K = SafetensorsErrorKind;

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "tensor data is little-endian and is used in place; big-endian hosts need a "
              "byte-swapping loader");

[[noreturn]] void fail(K kind, const std::string& source, const std::string& detail) {
  throw SafetensorsError(kind, source, detail);
}

std::string shape_str(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// Where to put the file inside its buffer so that the data buffer (after 8 + N header bytes)
// starts on a 64-byte boundary.
size_t aligned_file_offset(uint64_t header_len) {
  const uint64_t a = AlignedBuffer::kAlignment;
  return static_cast<size_t>((a - (8 + header_len) % a) % a);
}

AlignedBuffer allocate(size_t file_offset, uint64_t file_size, const std::string& source) {
  if (file_size > std::numeric_limits<size_t>::max() - file_offset - AlignedBuffer::kAlignment)
    fail(K::kIo, source, "file of " + std::to_string(file_size) + " bytes does not fit in memory");
  return AlignedBuffer(file_offset + static_cast<size_t>(file_size));
}

void read_exact(int fd, uint8_t* dst, size_t size, const std::string& source) {
  const int err = pread_exact(fd, dst, size, 0);
  if (err == ENODATA) fail(K::kIo, source, "file shrank while being read");
  if (err != 0) fail(K::kIo, source, std::string("read failed: ") + std::strerror(err));
}

}  // namespace

uint64_t TensorView::numel() const {
  uint64_t n = 1;
  for (int64_t d : shape) n *= static_cast<uint64_t>(d);  // cannot overflow: validated at load
  return n;
}

SafetensorsFile SafetensorsFile::open(const std::string& path, const LoadOptions& options) {
  // Never blocks: a FIFO or a device given as a bundle is refused before any read.
  InputFile in;
  try {
    in = open_input_file(path);
  } catch (const InputFileError& e) {
    fail(K::kIo, path, e.what());
  }
  const UniqueFd& fd = in.fd;
  const uint64_t file_size = in.size;
  if (file_size < 8)
    fail(K::kFileTooSmall, path,
         "file is " + std::to_string(file_size) + " bytes, shorter than the 8-byte length prefix");

  // Check the length prefix before allocating the whole file, so junk is rejected cheaply.
  uint8_t prefix[8];
  read_exact(fd.get(), prefix, sizeof prefix, path);
  const uint64_t header_len =
      check_header_length(read_u64_le(prefix), file_size, options.max_header_bytes, path);

  const size_t off = aligned_file_offset(header_len);
  AlignedBuffer buffer = allocate(off, file_size, path);
  read_exact(fd.get(), buffer.data() + off, static_cast<size_t>(file_size), path);
  return parse(std::move(buffer), off, file_size, header_len, path);
}

SafetensorsFile SafetensorsFile::from_bytes(const uint8_t* bytes, size_t size,
                                            const std::string& source_name,
                                            const LoadOptions& options) {
  if (size < 8)
    fail(K::kFileTooSmall, source_name,
         "input is " + std::to_string(size) + " bytes, shorter than the 8-byte length prefix");
  const uint64_t header_len =
      check_header_length(read_u64_le(bytes), size, options.max_header_bytes, source_name);
  const size_t off = aligned_file_offset(header_len);
  AlignedBuffer buffer = allocate(off, size, source_name);
  std::memcpy(buffer.data() + off, bytes, size);
  return parse(std::move(buffer), off, size, header_len, source_name);
}

SafetensorsFile SafetensorsFile::from_bytes(const std::vector<uint8_t>& bytes,
                                            const std::string& source_name,
                                            const LoadOptions& options) {
  return from_bytes(bytes.data(), bytes.size(), source_name, options);
}

SafetensorsFile SafetensorsFile::parse(AlignedBuffer buffer, size_t file_offset,
                                       uint64_t file_size, uint64_t header_len,
                                       const std::string& source) {
  const uint8_t* file = buffer.data() + file_offset;
  const std::string_view header(reinterpret_cast<const char*>(file + 8),
                                static_cast<size_t>(header_len));
  const uint64_t data_len = file_size - 8 - header_len;
  ParsedHeader parsed = parse_header(header, data_len, source);

  SafetensorsFile f;
  f.source_ = source;
  f.metadata_ = std::move(parsed.metadata);
  const uint8_t* data_start = file + 8 + header_len;
  f.tensors_.reserve(parsed.tensors.size());
  for (auto& e : parsed.tensors) {
    TensorView t;
    t.name = std::move(e.name);
    t.dtype = e.dtype;
    t.shape = std::move(e.shape);
    t.data = data_start + e.begin;
    t.nbytes = static_cast<size_t>(e.end - e.begin);  // <= data_len, which fits in memory
    t.offset = e.begin;
    f.index_.emplace(t.name, f.tensors_.size());
    f.tensors_.push_back(std::move(t));
  }
  f.buffer_ = std::move(buffer);  // heap block does not move, so the views stay valid
  return f;
}

const TensorView* SafetensorsFile::find(std::string_view name) const {
  const auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

const TensorView& SafetensorsFile::get(std::string_view name) const {
  const TensorView* t = find(name);
  if (t == nullptr)
    fail(K::kTensorNotFound, source_, "no tensor named '" + std::string(name) + "'");
  return *t;
}

void SafetensorsFile::check_shape(const TensorView& t, const std::vector<int64_t>& expected) const {
  if (t.shape != expected)
    fail(K::kWrongShape, source_,
         "tensor '" + t.name + "' has shape " + shape_str(t.shape) + ", expected " +
             shape_str(expected));
}

const float* SafetensorsFile::get_f32(std::string_view name,
                                      const std::vector<int64_t>& expected_shape) const {
  const TensorView& t = get(name);
  if (t.dtype != DType::F32)
    fail(K::kWrongDtype, source_,
         "tensor '" + t.name + "' is " + dtype_name(t.dtype) + ", expected F32");
  check_shape(t, expected_shape);
  if (reinterpret_cast<uintptr_t>(t.data) % alignof(float) != 0)
    fail(K::kMisaligned, source_,
         "tensor '" + t.name + "' starts at data offset " + std::to_string(t.offset) +
             ", not a multiple of 4; use read_floats() to copy it");
  return reinterpret_cast<const float*>(t.data);
}

std::vector<float> SafetensorsFile::read_floats(std::string_view name,
                                                const std::vector<int64_t>& expected_shape) const {
  const TensorView& t = get(name);
  check_shape(t, expected_shape);
  return to_floats(t);
}

std::vector<float> SafetensorsFile::to_floats(const TensorView& t) const {
  const size_t n = static_cast<size_t>(t.numel());
  std::vector<float> out(n);
  // memcpy per element: tensors need not be aligned to their dtype inside the buffer.
  switch (t.dtype) {
    case DType::F32:
      if (n) std::memcpy(out.data(), t.data, n * sizeof(float));
      break;
    case DType::F16:
    case DType::BF16:
      for (size_t i = 0; i < n; ++i) {
        uint16_t bits;
        std::memcpy(&bits, t.data + 2 * i, sizeof bits);
        out[i] = t.dtype == DType::F16 ? half_to_float(bits) : bf16_to_float(bits);
      }
      break;
    default:
      fail(K::kWrongDtype, source_,
           "tensor '" + t.name + "' is " + dtype_name(t.dtype) +
               "; only F32, F16 and BF16 convert to float");
  }
  return out;
}

}  // namespace rt3::format
