// libFuzzer target for the bundle metadata (__metadata__["rt3"]): config values, the variant
// table, the level table, the adaptation section, the bp section. Random bytes almost never get
// past the container checks, so this target keeps the container valid and fuzzes only the
// metadata: the tensors of a tiny classifier with three pattern variants and a level table
// (tests/common/variant_bundles.h) are wrapped around metadata built from the input:
//   first byte even: the rest is a JSON merge patch (RFC 7386) applied to the valid metadata,
//                    e.g. {"model":{"config":{"n_layers":1000000}}} or {"variants":null};
//   first byte odd:  the rest is the whole metadata text.
// Contract: Bundle::from_bytes returns a bundle or throws BundleError, within the memory limit
// the run sets (-rss_limit_mb): a config alone must never make the loader allocate by its values.
// Seeds: tests/fuzz/corpus/bundle_metadata; dictionary: tests/fuzz/bundle_metadata.dict.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/format/bundle.h"
#include "tests/common/variant_bundles.h"

namespace {

struct Base {
  nlohmann::json metadata;
  std::vector<rt3::format::TensorView> tensors;  // views into `file`
  rt3::format::SafetensorsFile file;
};

const Base& base() {
  static const Base* b = [] {
    rt3::test_util::VariantModel m = rt3::test_util::make_variant_bert();
    rt3::format::BundleWriter w = m.writer(m.weights, /*with_variants=*/true);
    const rt3::test_util::AdaptationFixture f;
    w.set_level_to_variant(f.levels);
    w.set_adaptation(f.info());
    w.set_device_profile_json(rt3::test_util::AdaptationFixture::profile_json());
    auto file = rt3::format::SafetensorsFile::from_bytes(w.to_bytes(), "base.rt3");
    auto* out = new Base{nlohmann::json::parse(file.metadata().at(rt3::format::kBundleMetadataKey)), {},
                         std::move(file)};
    out->tensors = out->file.tensors();
    return out;
  }();
  return *b;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Base& b = base();
  std::string metadata;
  if (size == 0 || data[0] % 2 == 0) {
    nlohmann::json patch = nlohmann::json::parse(data + (size ? 1 : 0), data + size, nullptr, /*allow_exceptions=*/false);
    if (patch.is_discarded()) return 0;  // not JSON: nothing for this mode to apply
    nlohmann::json m = b.metadata;
    m.merge_patch(patch);
    metadata = m.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    metadata.assign(reinterpret_cast<const char*>(data) + 1, size - 1);
  }
  std::vector<uint8_t> bytes;
  try {
    rt3::format::SafetensorsWriter w;
    w.set_metadata(rt3::format::kBundleMetadataKey, metadata);
    for (const auto& t : b.tensors) w.add(t.name, t.dtype, t.shape, t.data, t.nbytes);
    bytes = w.to_bytes();
  } catch (const rt3::format::SafetensorsError&) {
    return 0;  // the writer refuses it (e.g. invalid UTF-8): no container to load
  }
  try {
    auto bundle = rt3::format::Bundle::from_bytes(bytes, "fuzz.rt3");
    volatile size_t sink = bundle.variants().size() + bundle.level_to_variant().size();
    for (const auto* v : bundle.pattern_variants()) sink += bundle.pattern_variant_layers(v->name).size();
    (void)sink;
  } catch (const rt3::format::BundleError&) {
  }
  return 0;
}
