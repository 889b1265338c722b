// The label ids of a user's classification data: a stable, documented order, so the same data
// always gives the same id2label (docs/data.md "Bring your own data").
#pragma once

#include <string>
#include <vector>

namespace rt3::data {

// Distinct labels in id order: when every label is an integer written canonically (optional
// '-', digits, no leading zero, at most 18 digits) they are sorted by value, so 0/1 stay 0/1
// and 1..5 stars keep their order; otherwise they are sorted as strings by byte order.
std::vector<std::string> label_order(const std::vector<std::string>& labels);

}  // namespace rt3::data
