// libFuzzer target for the safetensors loader. Contract under test: for ANY input bytes,
// SafetensorsFile::from_bytes either returns a file or throws SafetensorsError. Any other
// exception escapes and aborts, and ASan/UBSan turn memory errors and UB into crashes, so
// every finding is a bug.
//
// Accepted inputs also go through a second property: writing the file back out with
// SafetensorsWriter and loading that image must give the same metadata and tensors.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>

#include "runtime/format/safetensors.h"

namespace {

using rt3::format::DType;
using rt3::format::SafetensorsError;
using rt3::format::SafetensorsFile;
using rt3::format::SafetensorsWriter;

// Reads every byte of every tensor and converts float tensors, so ASan sees any view that
// points outside the buffer.
uint64_t touch(const SafetensorsFile& f) {
  uint64_t sum = 0;
  for (const auto& t : f.tensors()) {
    for (size_t i = 0; i < t.nbytes; ++i) sum += t.data[i];
    if (f.find(t.name) != &t) __builtin_trap();
    if (t.dtype == DType::F32 || t.dtype == DType::F16 || t.dtype == DType::BF16) {
      const auto v = f.to_floats(t);
      if (v.size() != t.numel()) __builtin_trap();
    }
  }
  return sum;
}

void check_round_trip(const SafetensorsFile& f) {
  SafetensorsWriter w;
  for (const auto& [k, v] : f.metadata()) w.set_metadata(k, v);
  for (const auto& t : f.tensors()) w.add(t.name, t.dtype, t.shape, t.data, t.nbytes);
  const auto image = w.to_bytes();
  const auto g = SafetensorsFile::from_bytes(image, "fuzz-roundtrip");
  if (g.metadata() != f.metadata() || g.tensors().size() != f.tensors().size()) __builtin_trap();
  for (size_t i = 0; i < f.tensors().size(); ++i) {
    const auto& a = f.tensors()[i];
    const auto& b = g.tensors()[i];
    if (a.name != b.name || a.dtype != b.dtype || a.shape != b.shape || a.nbytes != b.nbytes ||
        (a.nbytes && std::memcmp(a.data, b.data, a.nbytes) != 0))
      __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::optional<SafetensorsFile> f;
  try {
    f.emplace(SafetensorsFile::from_bytes(data, size, "fuzz-input"));
  } catch (const SafetensorsError&) {
    return 0;  // rejection with our own error type is the expected outcome for malformed input
  }
  volatile uint64_t sink = touch(*f);
  (void)sink;
  // Everything the loader accepted must be writable and re-readable: no exception allowed.
  try {
    check_round_trip(*f);
  } catch (...) {
    __builtin_trap();
  }
  return 0;
}
