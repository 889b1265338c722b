#pragma once
// Each subcommand registers itself on the app and returns the function that runs it.
#include <CLI/CLI.hpp>

#include <functional>

namespace rt3::cli {

using Runner = std::function<int()>;

// Options every subcommand shares.
struct GlobalOptions {
  int threads = 2;
  bool json = false;
};

Runner add_doctor(CLI::App& app, GlobalOptions& g);
Runner add_export(CLI::App& app, GlobalOptions& g);
Runner add_inspect(CLI::App& app, GlobalOptions& g);
Runner add_run(CLI::App& app, GlobalOptions& g);
Runner add_device(CLI::App& app, GlobalOptions& g);
// `rt3 simulate` (battery life, cli/cmd_simulate.cpp) and `rt3 govern` (live governor, cli/cmd_govern.cpp).
Runner add_simulate(CLI::App& app, GlobalOptions& g);
Runner add_govern(CLI::App& app, GlobalOptions& g);
Runner add_profile(CLI::App& app, GlobalOptions& g);
// `rt3 bench` and its subcommands (cli/cmd_bench.cpp); add_bench_* register on the bench app.
Runner add_bench(CLI::App& app, GlobalOptions& g);
Runner add_bench_kernels(CLI::App& bench, GlobalOptions& g);
Runner add_bench_model(CLI::App& bench, GlobalOptions& g);
Runner add_bench_switch(CLI::App& bench, GlobalOptions& g);
Runner add_bench_adapt(CLI::App& bench, GlobalOptions& g);
Runner add_bench_ort(CLI::App& bench, GlobalOptions& g);
#ifdef RT3_WITH_TRAIN
Runner add_train(CLI::App& app, GlobalOptions& g);
Runner add_eval(CLI::App& app, GlobalOptions& g);
Runner add_import(CLI::App& app, GlobalOptions& g);
Runner add_demo(CLI::App& app, GlobalOptions& g);
Runner add_prune(CLI::App& app, GlobalOptions& g);
Runner add_search(CLI::App& app, GlobalOptions& g);
Runner add_search_worker(CLI::App& app, GlobalOptions& g);
#endif

}  // namespace rt3::cli
