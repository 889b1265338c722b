#pragma once
// Strict safetensors reader (the container of the RT3 bundle and of Hugging Face checkpoints).
// Every rule it enforces is listed in docs/format.md, "Container: safetensors". Nothing is
// returned until the whole file has been validated, so a SafetensorsFile in hand is always
// internally consistent. Including this header also brings in the writer.

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/format/aligned_buffer.h"
#include "runtime/format/dtype.h"
#include "runtime/format/safetensors_error.h"
#include "runtime/format/safetensors_writer.h"

namespace rt3::format {

struct LoadOptions {
  // Largest accepted JSON header. The reference implementation uses 100 MB; a bundle's header
  // (config, tokenizer, pattern sets) is far below that.
  uint64_t max_header_bytes = 100ull << 20;
};

// One tensor of a loaded file. `data` points into the file's buffer and stays valid as long as
// the SafetensorsFile lives (moving the file keeps it valid).
struct TensorView {
  std::string name;
  DType dtype = DType::U8;
  std::vector<int64_t> shape;  // [] is a scalar (1 element)
  const uint8_t* data = nullptr;
  size_t nbytes = 0;
  uint64_t offset = 0;  // begin offset inside the data buffer (the data buffer is 64-byte aligned)

  uint64_t numel() const;  // product of shape, 1 for a scalar
};

class SafetensorsFile {
 public:
  // Reads the whole file into 64-byte aligned memory and validates it. Throws SafetensorsError.
  static SafetensorsFile open(const std::string& path, const LoadOptions& options = {});
  // Same checks on bytes already in memory (copied); source_name appears in error messages.
  static SafetensorsFile from_bytes(const uint8_t* bytes, size_t size,
                                    const std::string& source_name,
                                    const LoadOptions& options = {});
  static SafetensorsFile from_bytes(const std::vector<uint8_t>& bytes,
                                    const std::string& source_name,
                                    const LoadOptions& options = {});

  SafetensorsFile(SafetensorsFile&&) noexcept = default;
  SafetensorsFile& operator=(SafetensorsFile&&) noexcept = default;
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::string& source() const { return source_; }
  // "__metadata__" (empty when the file has none).
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  // Every tensor, in the order of its bytes in the data buffer.
  const std::vector<TensorView>& tensors() const { return tensors_; }

  const TensorView* find(std::string_view name) const;  // nullptr when absent
  const TensorView& get(std::string_view name) const;   // throws kTensorNotFound

  // Zero-copy typed access: checks dtype F32 (kWrongDtype), shape (kWrongShape) and 4-byte
  // alignment of the data (kMisaligned). Points at numel() floats.
  const float* get_f32(std::string_view name, const std::vector<int64_t>& expected_shape) const;

  // Copy as float from F32, F16 or BF16 (other dtypes: kWrongDtype). Checks the shape.
  std::vector<float> read_floats(std::string_view name,
                                 const std::vector<int64_t>& expected_shape) const;
  // Same, for any shape.
  std::vector<float> to_floats(const TensorView& tensor) const;

 private:
  SafetensorsFile() = default;
  // `buffer` holds the file at byte `file_offset`, chosen so the data buffer is 64-byte aligned.
  static SafetensorsFile parse(AlignedBuffer buffer, size_t file_offset, uint64_t file_size,
                               uint64_t header_len, const std::string& source);
  void check_shape(const TensorView& t, const std::vector<int64_t>& expected) const;

  std::string source_;
  AlignedBuffer buffer_;
  std::map<std::string, std::string> metadata_;
  std::vector<TensorView> tensors_;
  std::map<std::string, size_t, std::less<>> index_;  // name -> position in tensors_
};

}  // namespace rt3::format
