#include "dvfs/trace.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "dvfs/sysfs.h"
#include "runtime/format/input_file.h"

namespace rt3::dvfs {
namespace {

const char* kHeader = "time_s,freq_khz,battery_percent";

std::vector<std::string> split_commas(const std::string& line) {
  std::vector<std::string> out;
  std::size_t b = 0;
  for (;;) {
    const auto e = line.find(',', b);
    out.push_back(sysfs::trim(line.substr(b, e == std::string::npos ? std::string::npos : e - b)));
    if (e == std::string::npos) return out;
    b = e + 1;
  }
}

double parse_double(const std::string& s, const std::string& where, const char* field) {
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || errno == ERANGE || !std::isfinite(v))
    throw std::runtime_error(where + ": " + field + " '" + s + "' is not a finite number");
  return v;
}

}  // namespace

Trace Trace::parse(const std::string& csv, const std::string& name) {
  Trace tr;
  std::istringstream in(csv);
  std::string line;
  int lineno = 0;
  bool header = false;
  while (std::getline(in, line)) {
    ++lineno;
    const std::string where = name + ":" + std::to_string(lineno);
    const std::string t = sysfs::trim(line);
    if (t.empty()) continue;  // blank lines (e.g. a trailing one) carry no data
    if (!header) {
      if (t != kHeader)
        throw std::runtime_error(where + ": expected header '" + kHeader + "', got '" + t + "'");
      header = true;
      continue;
    }
    const auto f = split_commas(t);
    if (f.size() != 3)
      throw std::runtime_error(where + ": expected 3 fields (time_s,freq_khz,battery_percent), got " +
                               std::to_string(f.size()));
    TracePoint p;
    p.time_s = parse_double(f[0], where, "time_s");
    try {
      p.freq_khz = sysfs::parse_u64(f[1], where + ": freq_khz");
    } catch (const std::runtime_error&) {
      throw std::runtime_error(where + ": freq_khz '" + f[1] + "' is not an unsigned integer");
    }
    p.battery_percent = parse_double(f[2], where, "battery_percent");
    if (p.time_s < 0) throw std::runtime_error(where + ": time_s " + f[0] + " is negative");
    if (p.freq_khz == 0) throw std::runtime_error(where + ": freq_khz must be > 0");
    if (p.battery_percent < 0 || p.battery_percent > 100)
      throw std::runtime_error(where + ": battery_percent " + f[2] + " is outside 0..100");
    if (!tr.points_.empty() && !(p.time_s > tr.points_.back().time_s))
      throw std::runtime_error(where + ": time_s " + f[0] + " is not after the previous row (" +
                               std::to_string(tr.points_.back().time_s) +
                               "); times must strictly increase");
    tr.points_.push_back(p);
  }
  if (!header) throw std::runtime_error(name + ": empty trace, expected header '" + kHeader + "'");
  if (tr.points_.empty()) throw std::runtime_error(name + ": header but no rows");
  return tr;
}

Trace Trace::load(const std::string& path) {
  std::string text;
  try {
    text = format::read_input_file(path);
  } catch (const format::InputFileError& e) {
    throw std::runtime_error("cannot open trace " + path + " (" + e.what() + "): check the --trace path");
  }
  return parse(text, path);
}

const TracePoint& Trace::at(double t) const {
  // Last row with time <= t; before the first row, the first row.
  auto it = std::upper_bound(points_.begin(), points_.end(), t,
                             [](double x, const TracePoint& p) { return x < p.time_s; });
  return it == points_.begin() ? points_.front() : *std::prev(it);
}

std::vector<std::uint64_t> Trace::levels_khz() const {
  std::vector<std::uint64_t> v;
  for (const auto& p : points_) v.push_back(p.freq_khz);
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

}  // namespace rt3::dvfs
