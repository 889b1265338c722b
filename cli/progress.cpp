#include "cli/progress.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>

namespace rt3::cli {

std::string format_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  char buf[32];
  const long t = std::lround(s);
  if (t >= 3600) std::snprintf(buf, sizeof buf, "%ldh%02ldm", t / 3600, (t % 3600) / 60);
  else if (t >= 60) std::snprintf(buf, sizeof buf, "%ldm%02lds", t / 60, t % 60);
  else std::snprintf(buf, sizeof buf, "%lds", t);
  return buf;
}

ProgressLine::ProgressLine(std::string label) : label_(std::move(label)), tty_(::isatty(STDERR_FILENO) != 0) {}

void ProgressLine::update(int64_t done, int64_t total, double elapsed_s, const std::string& detail) {
  const double frac = total > 0 ? double(done) / double(total) : 0.0;
  const int percent = static_cast<int>(frac * 100.0);
  if (!tty_) {
    // Files and pipes: one line per 5 %, plus the last step.
    if (percent / 5 == last_percent_ / 5 && done != total) return;
    last_percent_ = percent;
    std::fprintf(stderr, "%s %lld/%lld (%d%%) %s elapsed %s\n", label_.c_str(), (long long)done, (long long)total,
                 percent, detail.c_str(), format_duration(elapsed_s).c_str());
    return;
  }
  constexpr int kWidth = 24;
  const int filled = static_cast<int>(frac * kWidth);
  std::string bar(filled, '#');
  bar.resize(kWidth, '.');
  std::fprintf(stderr, "\r\033[K%s [%s] %lld/%lld %s elapsed %s", label_.c_str(), bar.c_str(), (long long)done,
               (long long)total, detail.c_str(), format_duration(elapsed_s).c_str());
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressLine::note(const std::string& message) {
  if (tty_ && drawn_) std::fprintf(stderr, "\r\033[K");
  std::fprintf(stderr, "%s\n", message.c_str());
  drawn_ = false;
}

void ProgressLine::finish() {
  if (tty_ && drawn_) std::fprintf(stderr, "\n");
  drawn_ = false;
}

}  // namespace rt3::cli
