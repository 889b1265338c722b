// libFuzzer target for the bundle loader (container checks + __metadata__["rt3"] schema,
// required tensors, tokenizer). Contract: for ANY input bytes, Bundle::from_bytes either returns
// a bundle or throws BundleError. Anything else (another exception, a crash, ASan/UBSan report)
// is a bug.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "runtime/format/bundle.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<uint8_t> bytes(data, data + size);
  try {
    auto b = rt3::format::Bundle::from_bytes(bytes, "fuzz.rt3");
    // Touch what a loader user reads: the tokenizer and every required weight pointer.
    volatile size_t sink = b.tokenizer_bytes().size();
    for (const auto& t : b.file().tensors()) sink += t.nbytes;
    (void)sink;
  } catch (const rt3::format::BundleError&) {
  }
  return 0;
}
