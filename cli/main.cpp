// rt3: the command-line tool. Subcommands live in cmd_*.cpp; this file only wires them up.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>

#include "rt3/version.h"

int main(int argc, char** argv) {
  CLI::App app{"rt3 - run-time reconfigurable Transformers for DVFS devices"};
  app.set_version_flag("--version", rt3::version_string());
  app.require_subcommand(1);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return 0;
}
