#include "cli/output_paths.h"

#include <filesystem>
#include <stdexcept>

namespace rt3::cli {
namespace fs = std::filesystem;

namespace {

fs::path resolved(const std::string& p) {
  std::error_code ec;
  fs::path r = fs::weakly_canonical(fs::absolute(p), ec);
  return ec ? fs::absolute(p).lexically_normal() : r;
}

// True when `inner` is `outer` or a path below it.
bool within(const fs::path& inner, const fs::path& outer) {
  auto i = inner.begin();
  for (auto o = outer.begin(); o != outer.end(); ++o, ++i) {
    if (o->empty()) continue;  // trailing separator
    if (i == inner.end() || *i != *o) return false;
  }
  return true;
}

}  // namespace

void refuse_output_over_inputs(const std::string& out, const std::string& out_flag,
                               const std::vector<std::string>& inputs) {
  if (out.empty()) return;
  const fs::path o = resolved(out);
  for (const std::string& in : inputs) {
    if (in.empty()) continue;
    const fs::path i = resolved(in);
    if (o == i)
      throw std::runtime_error(out_flag + " " + out + " is the input " + in + ": writing it would destroy the input; choose another path");
    std::error_code ec;
    if (fs::is_directory(i, ec) && within(o, i))
      throw std::runtime_error(out_flag + " " + out + " lies inside the input " + in +
                               ": writing it could overwrite the input's files; choose a path outside it");
  }
}

}  // namespace rt3::cli
