#pragma once
// A one-line progress display for long jobs: redrawn in place on a terminal, a plain line every
// few percent when stderr is a file or a pipe (CI logs stay readable).
#include <cstdint>
#include <string>

namespace rt3::cli {

class ProgressLine {
 public:
  explicit ProgressLine(std::string label);
  // done/total units; `detail` is appended after the bar (loss, speed, ...).
  void update(int64_t done, int64_t total, double elapsed_s, const std::string& detail);
  // Prints a message on its own line without garbling the bar.
  void note(const std::string& message);
  void finish();

 private:
  std::string label_;
  bool tty_;
  int last_percent_ = -1;
  bool drawn_ = false;
};

std::string format_duration(double seconds);  // "1h02m", "3m07s", "12s"

}  // namespace rt3::cli
