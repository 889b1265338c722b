#pragma once
// JSON form of AdaptationInfo (the "adaptation" metadata field), read and written by the bundle
// code only. Errors are BundleError kBadVariants naming the field.
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "runtime/format/bundle_adaptation.h"

namespace rt3::format {

// `names`: the bundle's variant names plus "base"; every key of "variants" must be one of them.
AdaptationInfo parse_adaptation(const nlohmann::json& j, const std::set<std::string>& names, const std::string& source);
nlohmann::json adaptation_to_json(const AdaptationInfo& a);

}  // namespace rt3::format
