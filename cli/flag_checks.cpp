#include "cli/flag_checks.h"

#include <cmath>
#include <cstdlib>
#include <string>

namespace rt3::cli {
namespace {

bool is_float_option(const CLI::Option* o) {
  const std::string t = o->get_type_name();
  return t.rfind("FLOAT", 0) == 0 || t.rfind("NUMBER", 0) == 0;
}

// "" when `s` is a finite number that `ok` accepts, else the reason.
template <typename Ok>
std::string check_number(const std::string& s, Ok ok, const char* want) {
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || *end != '\0') return "'" + s + "' is not a number";
  if (!std::isfinite(v)) return "'" + s + "' is not a finite number";
  return ok(v) ? std::string() : "'" + s + "' must be " + want;
}

}  // namespace

CLI::Validator positive_number() {
  return CLI::Validator([](std::string& s) { return check_number(s, [](double v) { return v > 0; }, "> 0"); },
                        "POSITIVE");
}

CLI::Validator non_negative_number() {
  return CLI::Validator([](std::string& s) { return check_number(s, [](double v) { return v >= 0; }, ">= 0"); },
                        "NONNEGATIVE");
}

void refuse_non_finite_flags(const CLI::App& app) {
  for (const CLI::Option* o : app.get_options()) {
    if (o->count() == 0 || !is_float_option(o)) continue;
    for (const std::string& s : o->results()) {
      char* end = nullptr;
      const double v = std::strtod(s.c_str(), &end);
      if (end != s.c_str() && !std::isfinite(v))
        throw CLI::ValidationError(o->get_name(), "'" + s + "' is not a finite number");
    }
  }
  for (const CLI::App* sub : app.get_subcommands()) refuse_non_finite_flags(*sub);
}

}  // namespace rt3::cli
