// rt3: the command-line tool. Subcommands live in cmd_*.cpp; this file only wires them up and
// owns what every command shares: usage errors and failures are one line on stderr with a
// non-zero exit (docs/limits.md "Exit codes"), no flag holds NaN or Inf, and a lost stdout
// write is an error.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>
#include <map>
#include <string>

#include "cli/checked_stdout.h"
#include "cli/commands.h"
#include "cli/flag_checks.h"
#include "rt3/version.h"

namespace {

constexpr int kExitFailure = 1;  // the command ran and failed
constexpr int kExitUsage = 2;    // bad flags or values, found before any work started

// The first line of an error message: LibTorch's c10::Error appends a multi-line C++ backtrace
// after it, which says nothing to a user.
std::string first_line(const char* what) {
  std::string s = what ? what : "";
  const auto nl = s.find('\n');
  if (nl != std::string::npos) s.erase(nl);
  while (!s.empty() && (s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s.empty() ? "unknown error" : s;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"rt3 - run-time reconfigurable Transformers for DVFS devices"};
  // Before the subcommands are added: they copy it. CLI11's default adds a second line.
  app.failure_message([](const CLI::App*, const CLI::Error& e) {
    return "rt3: error: " + first_line(e.what()) + " (rt3 --help lists the commands and flags)\n";
  });
  app.set_version_flag("--version", rt3::version_string());
  app.require_subcommand(1);
  rt3::cli::GlobalOptions g;

  std::map<std::string, rt3::cli::Runner> runners;
  runners["doctor"] = rt3::cli::add_doctor(app, g);
  runners["export"] = rt3::cli::add_export(app, g);
  runners["inspect"] = rt3::cli::add_inspect(app, g);
  runners["run"] = rt3::cli::add_run(app, g);
  runners["device"] = rt3::cli::add_device(app, g);
  runners["simulate"] = rt3::cli::add_simulate(app, g);
  runners["govern"] = rt3::cli::add_govern(app, g);
  runners["bench"] = rt3::cli::add_bench(app, g);
  runners["profile"] = rt3::cli::add_profile(app, g);
#ifdef RT3_WITH_TRAIN
  runners["train"] = rt3::cli::add_train(app, g);
  runners["eval"] = rt3::cli::add_eval(app, g);
  runners["import"] = rt3::cli::add_import(app, g);
  runners["prune"] = rt3::cli::add_prune(app, g);
  runners["search"] = rt3::cli::add_search(app, g);
  runners["search-worker"] = rt3::cli::add_search_worker(app, g);
  runners["demo"] = rt3::cli::add_demo(app, g);

#endif

  try {
    app.parse(argc, argv);
    rt3::cli::refuse_non_finite_flags(app);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);  // 0 for --help / --version, printed on stdout
    return rt3::cli::finish_stdout(rc == 0 ? 0 : kExitUsage, "rt3");
  }
  for (auto* sub : app.get_subcommands()) {
    const std::string name = sub->get_name();
    int rc = kExitFailure;
    try {
      rc = runners.at(name)();
    } catch (const CLI::ParseError& e) {  // a runner's late flag check
      std::fprintf(stderr, "rt3 %s: error: %s\n", name.c_str(), first_line(e.what()).c_str());
      rc = kExitUsage;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "rt3 %s: error: %s\n", name.c_str(), first_line(e.what()).c_str());
      rc = kExitFailure;
    } catch (...) {
      std::fprintf(stderr, "rt3 %s: error: unknown failure\n", name.c_str());
      rc = kExitFailure;
    }
    return rt3::cli::finish_stdout(rc, "rt3 " + name);
  }
  return 0;
}
