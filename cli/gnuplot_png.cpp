#include "cli/gnuplot_png.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <sstream>
#include <vector>

#include "runtime/format/atomic_file.h"

extern char** environ;

namespace rt3::cli {
namespace {

// gnuplot string literal: single quotes, a quote doubled.
std::string quoted(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("''") : std::string(1, c);
  return q + "'";
}

}  // namespace

bool line_chart_png(const report::LineChart& chart, const std::string& png_path, std::string* why) {
  const std::string pid = std::to_string(::getpid());
  const std::string script = png_path + ".gp." + pid, tmp_png = png_path + ".tmp." + pid + ".png";
  std::ostringstream gp;
  gp << "set terminal png size 900,420\n"
     << "set output " << quoted(tmp_png) << "\n"
     << "set title " << quoted(chart.title) << "\n"
     << "set xlabel " << quoted(chart.x.label) << "\nset ylabel " << quoted(chart.y.label) << "\n"
     << "set key outside right\nset grid\n";
  for (size_t s = 0; s < chart.series.size(); ++s) {
    gp << "$s" << s << " << EOD\n";
    const auto& sr = chart.series[s];
    for (size_t i = 0; i < sr.x.size() && i < sr.y.size(); ++i) gp << sr.x[i] << " " << sr.y[i] << "\n";
    gp << "EOD\n";
  }
  gp << "plot ";
  for (size_t s = 0; s < chart.series.size(); ++s)
    gp << (s ? ", " : "") << "$s" << s << " using 1:2 with " << (chart.series[s].step ? "steps" : "linespoints")
       << " title " << quoted(chart.series[s].name);
  gp << "\n";
  auto cleanup = [&] {
    std::error_code ec;
    std::filesystem::remove(script, ec);
    std::filesystem::remove(tmp_png, ec);
  };
  try {
    format::write_file_atomic(script, gp.str());
  } catch (const std::exception& e) {
    if (why) *why = e.what();
    return false;
  }
  std::vector<std::string> args = {"gnuplot", script};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t child = 0;
  const int rc = posix_spawnp(&child, "gnuplot", &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  int status = 0;
  if (rc != 0 || waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
      !std::filesystem::exists(tmp_png)) {
    if (why) *why = rc != 0 ? "gnuplot is not installed (apt install gnuplot-nox)" : "gnuplot failed";
    cleanup();
    return false;
  }
  std::error_code ec;
  std::filesystem::rename(tmp_png, png_path, ec);
  cleanup();
  if (ec) {
    if (why) *why = "cannot write " + png_path + ": " + ec.message();
    return false;
  }
  return true;
}

}  // namespace rt3::cli
