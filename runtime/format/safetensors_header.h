#pragma once
// Strict parsing and validation of a safetensors header. Separate from file I/O so the same
// checks run for files on disk, in-memory buffers and the fuzzer.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/format/dtype.h"

namespace rt3::format {

struct HeaderEntry {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  uint64_t begin = 0;  // relative to the start of the data buffer
  uint64_t end = 0;
};

struct ParsedHeader {
  std::map<std::string, std::string> metadata;
  std::vector<HeaderEntry> tensors;  // sorted by (begin, end): the order of the data buffer
};

// Validates the 8-byte length prefix against the total byte count and the cap, before anything
// large is allocated or read. Returns the header length N. Throws SafetensorsError.
uint64_t check_header_length(uint64_t header_len, uint64_t total_size, uint64_t max_header_bytes,
                             const std::string& source);

// Parses the header JSON and checks every rule of docs/format.md against a data buffer of
// data_len bytes. Throws SafetensorsError naming `source` on the first violation.
ParsedHeader parse_header(std::string_view json, uint64_t data_len, const std::string& source);

// Element count x dtype size, or nullopt when it does not fit in 64 bits. Dims must be >= 0.
// Any zero dim gives 0 bytes, whatever the other dims are.
std::optional<uint64_t> checked_nbytes(const std::vector<int64_t>& shape, DType dtype);

// Little-endian u64 from 8 bytes, independent of host byte order.
uint64_t read_u64_le(const uint8_t* p);

}  // namespace rt3::format
