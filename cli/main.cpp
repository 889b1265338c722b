// rt3: the command-line tool. Subcommands live in cmd_*.cpp; this file only wires them up and
// turns exceptions into one-line errors with a non-zero exit.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>
#include <map>
#include <string>

#include "cli/commands.h"
#include "rt3/version.h"

int main(int argc, char** argv) {
  CLI::App app{"rt3 - run-time reconfigurable Transformers for DVFS devices"};
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
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  for (auto* sub : app.get_subcommands()) {
    try {
      return runners.at(sub->get_name())();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "rt3 %s: error: %s\n", sub->get_name().c_str(), e.what());
      return 1;
    }
  }
  return 0;
}
