// `rt3 profile`: the latency table of a bundle (what the search, the governor and the battery
// simulation predict latency from). See cli/profile_bundle.h and docs/dvfs.md "Latency table".
#include <chrono>
#include <cstdio>
#include <memory>
#include <sstream>

#include "cli/commands.h"
#include "cli/flag_checks.h"
#include "cli/flag_limits.h"
#include "cli/output_paths.h"
#include "cli/profile_bundle.h"
#include "cli/progress.h"
#include "runtime/format/atomic_file.h"

namespace rt3::cli {
namespace {

std::vector<int> parse_int_list(const std::string& s) {
  std::vector<int> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    size_t used = 0;
    int v = 0;
    try {
      v = std::stoi(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != item.size())
      throw std::runtime_error("--pruning-numbers: '" + item + "' is not an integer (e.g. 8,10,12,14)");
    out.push_back(v);
  }
  return out;
}

}  // namespace

Runner add_profile(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand(
      "profile",
      "Measure a bundle's latency table on this machine: every prunable layer dense and at each pattern pruning "
      "number, the whole model per variant, and the part no pruning touches");
  auto o = std::make_shared<ProfileOptions>();
  auto out = std::make_shared<std::string>();
  auto pns = std::make_shared<std::string>();
  auto accuracy = std::make_shared<std::string>();
  cmd->add_option("bundle", o->bundle, "Bundle file (.rt3), e.g. from rt3 export of an rt3 prune pattern run")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--out", *out, "Write the table here (JSON, read by rt3 simulate / govern / search)");
  cmd->add_option("--threads", o->threads, "Threads for the kernels and the engine")
      ->capture_default_str()
      ->check(CLI::Range(1, kMaxThreads));
  cmd->add_option("--reps", o->reps, "Timed repetitions per measurement (median kept)")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--seq-len", o->seq_len, "Tokens per inference (classifier input / LM prefill)")
      ->capture_default_str()
      ->check(positive_number());
  cmd->add_option("--pruning-numbers", *pns,
                  "Comma-separated pruning numbers to measure (default: tile_cols/4 .. tile_cols-1; the bundle's "
                  "own sets are always measured)");
  cmd->add_option("--host-khz", o->host_khz, "This CPU's frequency (default: cpufreq, else /proc/cpuinfo)");
  cmd->add_option("--accuracy", *accuracy,
                  "Validation accuracy per variant: NAME=FRACTION,... or a JSON file {\"p63\": 0.83}");
  cmd->add_flag("--json", g.json, "Print the table as JSON");
  return [o, out, pns, accuracy, &g]() {
    refuse_output_over_inputs(*out, "--out", {o->bundle, *accuracy});
    if (!pns->empty()) o->pruning_numbers = parse_int_list(*pns);
    o->accuracy = parse_accuracy_arg(*accuracy);
    ProgressLine bar("profile");
    const auto t0 = std::chrono::steady_clock::now();
    const dvfs::LatencyTable t = profile_bundle(*o, [&](int done, int total) {
      bar.update(done, total, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), "");
    });
    bar.finish();
    const std::string text = dvfs::to_json(t).dump(2) + "\n";
    if (!out->empty()) format::write_file_atomic(*out, text);
    if (g.json) std::printf("%s", text.c_str());
    else print_latency_table(t);
    if (!out->empty() && !g.json) std::printf("\nwrote %s\n", out->c_str());
    return 0;
  };
}

}  // namespace rt3::cli
