#include "train/data/label_order.h"

#include <algorithm>
#include <set>
#include <string>

namespace rt3::data {
namespace {

bool canonical_integer(const std::string& s) {
  const std::size_t d = s.size() > 0 && s[0] == '-' ? 1 : 0;
  if (s.size() == d || s.size() - d > 18) return false;
  for (std::size_t i = d; i < s.size(); ++i)
    if (s[i] < '0' || s[i] > '9') return false;
  if (s[d] == '0' && (s.size() - d > 1 || d == 1)) return false;  // "01", "-0"
  return true;
}

}  // namespace

std::vector<std::string> label_order(const std::vector<std::string>& labels) {
  const std::set<std::string> distinct(labels.begin(), labels.end());
  std::vector<std::string> out(distinct.begin(), distinct.end());  // byte order
  const bool integers = std::all_of(out.begin(), out.end(), canonical_integer);
  if (integers)
    std::sort(out.begin(), out.end(), [](const std::string& a, const std::string& b) { return std::stoll(a) < std::stoll(b); });
  return out;
}

}  // namespace rt3::data
