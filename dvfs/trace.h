// A recorded (or hand-written) DVFS trace replayed instead of real hardware, for machines without
// cpufreq and for reproducible experiments. CSV: header "time_s,freq_khz,battery_percent", then one
// row per change, times strictly increasing. Values are a step function: each row holds until the
// next; the last row holds forever; before the first row the first row applies.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dvfs/frequency_source.h"

namespace rt3::dvfs {

struct TracePoint {
  double time_s = 0;
  std::uint64_t freq_khz = 0;
  double battery_percent = 0;
};

class Trace {
 public:
  // Throws with "<name>:<line>: <problem>" on any malformed row.
  static Trace parse(const std::string& csv, const std::string& name = "<trace>");
  static Trace load(const std::string& path);

  const std::vector<TracePoint>& points() const { return points_; }
  const TracePoint& at(double t) const;  // the row in force at time t
  std::uint64_t freq_khz_at(double t) const { return at(t).freq_khz; }
  double battery_percent_at(double t) const { return at(t).battery_percent; }
  std::vector<std::uint64_t> levels_khz() const;  // distinct frequencies, ascending
  double duration_s() const { return points_.back().time_s - points_.front().time_s; }

 private:
  std::vector<TracePoint> points_;  // non-empty, strictly increasing time
};

// A Trace seen at one moment, through the same interface as CpufreqBackend.
class TraceClock : public FrequencySource {
 public:
  explicit TraceClock(Trace trace, double time_s = 0) : trace_(std::move(trace)), time_s_(time_s) {}

  void set_time(double t) { time_s_ = t; }
  double time() const { return time_s_; }
  const Trace& trace() const { return trace_; }

  std::uint64_t current_khz() override { return trace_.freq_khz_at(time_s_); }
  std::vector<std::uint64_t> available_frequencies_khz() override { return trace_.levels_khz(); }

 private:
  Trace trace_;
  double time_s_;
};

}  // namespace rt3::dvfs
