#include "cli/demo_report.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "report/svg_plot.h"
#include "rt3/version.h"
#include "runtime/format/atomic_file.h"

namespace rt3::cli {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

std::string esc(const std::string& s) { return report::xml_escape(s); }

std::string fmt(double v, const char* f = "%.2f") {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

std::string cpu_model() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown CPU";
}

// An SVG file's markup without its XML declaration, to inline it.
std::string inline_svg(const std::string& path) {
  std::ifstream f(path);
  if (!f) return "<p class=note>(plot " + esc(path) + " missing)</p>";
  std::stringstream ss;
  ss << f.rdbuf();
  std::string s = ss.str();
  const auto start = s.find("<svg");
  return start == std::string::npos ? s : s.substr(start);
}

double metric(const json& test, const char* name) { return test.at("metrics").at(name).get<double>(); }

const json* stage(const json& summary, const std::string& name) {
  const auto& st = summary.at("stages");
  return st.contains(name) ? &st.at(name) : nullptr;
}

std::string mhz(const std::string& khz) { return fmt(std::stod(khz) / 1000, "%.0f"); }

// One row per variant of a latency table: sparsity, accuracy, host ms, ms per level, speed-up.
std::string variant_rows(const json& variants, const json& per_level, const std::vector<std::string>& levels,
                         const std::string& prefix, double dense_ms) {
  std::string h;
  for (const auto& v : variants) {
    const std::string name = v["name"];
    const double ms = v["measured_s"].get<double>() * 1e3;
    h += "<tr><td>" + esc(prefix + name) + "</td><td>" + fmt(v["sparsity"].get<double>() * 100, "%.1f") + " %</td><td>" +
         (v["accuracy"].is_null() ? "-" : fmt(v["accuracy"].get<double>() * 100) + " %") + "</td><td>" + fmt(ms, "%.3f") +
         "</td><td>" + fmt(dense_ms / ms) + "x</td>";
    for (const auto& l : levels) h += "<td>" + fmt(per_level.at(name).at(l).get<double>(), "%.2f") + "</td>";
    h += "</tr>\n";
  }
  return h;
}

std::string battery_bars(const json& battery) {
  report::BarChart c;
  c.title = "Battery life per policy (hours)";
  c.y_label = "hours";
  c.series_names = {"battery life"};
  c.values.resize(1);
  c.faded.resize(1);
  for (const auto& p : battery["policies"]) {
    c.groups.push_back(p["id"]);
    c.values[0].push_back(p["projected_life_h"].get<double>());
    c.faded[0].push_back(p["miss_rate"].get<double>() > 0);
  }
  c.faded_note = "pale: misses deadlines";
  return report::bar_chart_svg(c);
}

}  // namespace

json demo_claims(const json& summary) {
  json claims = json::array();
  const json& dev = summary.value("device", json::object());
  // 1. Switch time.
  if (dev.contains("rt3_bundle") && dev["rt3_bundle"].contains("switch") && !dev["rt3_bundle"]["switch"].is_null() &&
      dev["rt3_bundle"]["switch"].contains("switch_latency_us")) {
    const double p99 = dev["rt3_bundle"]["switch"]["switch_latency_us"]["p99"];
    const bool ok = dev["rt3_bundle"]["switch"]["ok"].get<bool>();
    claims.push_back({{"id", "switch_time"}, {"claim", "switch between pattern sets within 45 ms"},
                      {"published", "45 ms"}, {"ours", fmt(p99, "%.3f") + " us (p99 switch call), bit-exact outputs: " +
                                                        (ok ? std::string("yes") : std::string("NO"))},
                      {"value", p99 / 1e3}, {"met", ok && p99 / 1e3 <= 45.0}});
  }
  // 2. Battery life.
  // Judged on the processor basis (the CPU cluster's energy: what DVFS controls and, as far as the
  // paper's abstract lets us tell, what it measured); the whole-device ratio is stated beside it.
  if (dev.contains("battery") && dev["battery"].contains("bases")) {
    const json& bases = dev["battery"]["bases"];
    const double r = bases["processor"]["rt3_over_max_dense"], rd = bases["device"]["rt3_over_max_dense"];
    double rt3_miss = 0;
    for (const auto& p : dev["battery"]["policies"])
      if (p["id"] == "rt3") rt3_miss = p["miss_rate"];
    claims.push_back({{"id", "battery_life"}, {"claim", "over 4x battery life"}, {"published", "> 4x (baseline not stated)"},
                      {"basis", "processor"},
                      {"ours", fmt(r) + "x over dense at the highest frequency (a) on the processor alone; " + fmt(rd) +
                                   "x on the whole device (+ " + fmt(bases["device"]["base_power_mw"].get<double>(), "%.0f") +
                                   " mW rest of device); RT3 miss rate " + fmt(rt3_miss * 100) + " %"},
                      {"value", r}, {"met", r >= 4.0 && rt3_miss == 0}});
  }
  // 3. Transformer LM: relative next-token accuracy loss of the worst pattern set.
  if (const json* lm = stage(summary, "lm"); lm && stage(summary, "lm_pat") && stage(summary, "lm_pat")->contains("test_sets")) {
    const double dense = metric(lm->at("test"), "accuracy");
    double worst = 0;
    std::string worst_set;
    for (auto it = stage(summary, "lm_pat")->at("test_sets").begin(); it != stage(summary, "lm_pat")->at("test_sets").end(); ++it) {
      const double loss = (dense - metric(it.value(), "accuracy")) / dense;
      if (worst_set.empty() || loss > worst) {
        worst = loss;
        worst_set = it.key();
      }
    }
    claims.push_back({{"id", "lm_accuracy_loss"}, {"claim", "< 1 % accuracy loss for the Transformer"}, {"published", "< 1 %"},
                      {"ours", fmt(worst * 100) + " % relative next-token accuracy loss (worst set " + worst_set + ")"},
                      {"value", worst}, {"met", worst < 0.01}});
  }
  // 4. DistilBERT classifier: points lost by the worst set of the shipped (searched) bundle.
  if (const json* cls = stage(summary, "spam"); cls && dev.contains("rt3_bundle")) {
    const double dense = metric(cls->at("test"), "accuracy");
    double worst = 0;
    std::string worst_set;
    for (auto it = dev["rt3_bundle"]["test_accuracy"].begin(); it != dev["rt3_bundle"]["test_accuracy"].end(); ++it) {
      const double loss = (dense - it.value().get<double>()) * 100;
      if (worst_set.empty() || loss > worst) {
        worst = loss;
        worst_set = it.key();
      }
    }
    claims.push_back({{"id", "distilbert_accuracy_loss"}, {"claim", "<= 1.5 points accuracy loss for DistilBERT"},
                      {"published", "<= 1.5 points"},
                      {"ours", fmt(worst) + " points (worst set of the RT3 bundle: " + worst_set + ", spam test split)"},
                      {"value", worst}, {"met", worst <= 1.5}});
  }
  return claims;
}

std::string write_demo_report(const json& summary, const fs::path& out) {
  const json& dev = summary.at("device");
  const json claims = summary.contains("claims") ? summary["claims"] : demo_claims(summary);
  std::ostringstream h;
  h << "<!DOCTYPE html><html><head><meta charset=utf-8><title>RT3 demo report</title><style>"
       "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
       "table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}"
       "th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}.met{color:#0a0;font-weight:bold}"
       ".miss{color:#c00;font-weight:bold}.note{color:#666;font-size:.9em}h2{border-bottom:1px solid #ddd;margin-top:2em}"
       "svg{max-width:100%;height:auto}table.kv td{text-align:left}</style></head><body>\n";
  h << "<h1>RT3 demo report</h1>\n<p>RT3 runs Transformer NLP models on devices whose CPU frequency changes: one set of "
       "block-pruned weights carries several pattern-pruned variants of different sparsity, a search picks one variant "
       "per DVFS frequency level so every level meets a latency deadline, and the runtime switches variants in "
       "microseconds as the frequency moves.</p>\n";

  // What was run, on what.
  const json& lat = dev["latency"];
  h << "<h2>What was run</h2><table class=kv>"
    << "<tr><td>machine</td><td>" << esc(cpu_model()) << ", " << std::thread::hardware_concurrency() << " cores, "
    << fmt(lat["host_khz"].get<double>() / 1000, "%.0f") << " MHz</td></tr>"
    << "<tr><td>rt3</td><td>" << RT3_VERSION_STRING << " (commit " << esc(summary.value("commit", "unknown")) << ")</td></tr>"
    << "<tr><td>BLAS (training)</td><td>" << esc(summary.value("blas", "")) << "</td></tr>"
    << "<tr><td>budget, threads</td><td>" << esc(summary.value("budget", "")) << ", " << summary.value("threads", 0) << "</td></tr>"
    << "<tr><td>device profile</td><td>" << esc(dev["profile"].get<std::string>()) << " (" << esc(dev["profile_file"].get<std::string>()) << ")</td></tr>"
    << "<tr><td>workload</td><td>one " << esc(dev["task"].get<std::string>()) << " classification ("
    << lat["tokens"].get<int64_t>() << " tokens) every " << fmt(lat["period_ms"].get<double>(), "%.1f") << " ms, deadline "
    << fmt(lat["deadline_ms"].get<double>(), "%.2f") << " ms (the larger of the dense latency at the middle usable level "
       "and an 81 %-sparse set's at the lowest); RT3 may use only sets within 1.5 points of dense accuracy</td></tr>"
    << "<tr><td>time</td><td>" << fmt(summary.value("seconds", 0.0) / 60, "%.1f") << " min"
    << (summary.value("resumed", false) ? " (this invocation only: stages done by an earlier run were skipped and are not counted)" : "")
    << "</td></tr></table>\n";

  // Claims.
  h << "<h2>Published RT3 claims vs this run</h2><table><tr><th>claim</th><th>published</th><th>ours</th><th>verdict</th></tr>";
  for (const auto& c : claims)
    h << "<tr><td>" << esc(c["claim"]) << "</td><td>" << esc(c["published"]) << "</td><td>" << esc(c["ours"])
      << "</td><td class=" << (c["met"].get<bool>() ? "met>met" : "miss>not met") << "</td></tr>";
  h << "</table><p class=note>Honest by construction: every number is computed from this run's summary.json; the "
       "battery ratio depends on the stated assumptions (base power, idle power, the device's speed per clock) listed "
       "below.</p>\n";

  // Models side by side.
  std::vector<std::string> levels;
  for (auto it = lat["pattern_latency_per_level_ms"]["base"].begin(); it != lat["pattern_latency_per_level_ms"]["base"].end(); ++it)
    levels.push_back(it.key());
  std::sort(levels.begin(), levels.end(), [](const std::string& a, const std::string& b) { return std::stod(a) < std::stod(b); });
  const double dense_ms = lat["bp_dense_ms_host"].get<double>();
  h << "<h2>Classifier (" << esc(dev["task"].get<std::string>()) << "): dense, BP, pattern sets, RT3 bundle</h2>"
    << "<p>Accuracy on the test split; host latency measured here (median, 1 thread); device latency per frequency "
       "level predicted from the latency table (ms). Speed-up over the dense model.</p><table><tr><th>model / set</th>"
       "<th>sparsity</th><th>accuracy</th><th>host ms</th><th>speed-up</th>";
  for (const auto& l : levels) h << "<th>" << mhz(l) << " MHz</th>";
  h << "</tr>";
  if (const json* d = stage(summary, "spam"))
    h << "<tr><td>dense (trained)</td><td>0 %</td><td>" << fmt(metric(d->at("test"), "accuracy") * 100) << " %</td><td colspan="
      << levels.size() + 2 << " class=note>bundle " << d->at("runtime").value("bundle_bytes", 0) << " bytes</td></tr>";
  if (const json* d = stage(summary, "spam_bp"))
    h << "<tr><td>BP 50 %</td><td>50 %</td><td>" << fmt(metric(d->at("test"), "accuracy") * 100) << " %</td><td colspan="
      << levels.size() + 2 << " class=note>bundle " << d->at("runtime").value("bundle_bytes", 0) << " bytes</td></tr>";
  h << variant_rows(lat["pattern_variants"], lat["pattern_latency_per_level_ms"], levels, "pattern stage: ", dense_ms);
  const json& rb = dev["rt3_bundle"];
  h << variant_rows(rb["variants"], rb["latency_per_level_ms"], levels, "RT3 bundle: ", dense_ms);
  h << "</table><p class=note>RT3 bundle: " << rb["bundle_bytes"].get<int64_t>() << " bytes (weights once + every set's "
       "patterns and tile ids).</p>\n";

  if (const json* lm = stage(summary, "lm")) {
    h << "<h2>Language model (sotu)</h2><table><tr><th>model / set</th><th>perplexity</th><th>next-token accuracy</th>"
         "<th>ms / generated token</th></tr>";
    auto row = [&](const std::string& name, const json& test, const json& rt) {
      h << "<tr><td>" << esc(name) << "</td><td>" << fmt(metric(test, "perplexity")) << "</td><td>"
        << fmt(metric(test, "accuracy") * 100) << " %</td><td>"
        << (rt.contains("generate_ms_per_token_median") ? fmt(rt["generate_ms_per_token_median"].get<double>(), "%.3f") : "-")
        << "</td></tr>";
    };
    row("dense", lm->at("test"), lm->at("runtime"));
    if (const json* bp = stage(summary, "lm_bp")) row("BP 50 %", bp->at("test"), bp->at("runtime"));
    if (const json* pat = stage(summary, "lm_pat"); pat && pat->contains("test_sets"))
      for (auto it = pat->at("test_sets").begin(); it != pat->at("test_sets").end(); ++it)
        row("pattern set " + it.key(), it.value(), pat->at("runtime").value("variants", json::object()).value(it.key(), json::object()));
    h << "</table>\n";
  }

  // Search.
  const json& s = dev["search"];
  h << "<h2>Search of one set per frequency level</h2><p>Search space: " << s["rl"]["space"]["decisions"] << " decisions, 10^"
    << fmt(s["rl"]["space"]["log10_size"].get<double>(), "%.1f") << " candidates (10^"
    << fmt(s["rl"]["space"]["log10_unshrunk_size"].get<double>(), "%.1f") << " before the latency table shrank it). "
    << s["episodes"] << " episodes per method.</p><table><tr><th>method</th><th>best reward</th><th>candidates trained</th>"
       "<th>seconds</th></tr>";
  for (const char* m : {"rl", "random"})
    h << "<tr><td>" << (std::string(m) == "rl" ? "RL (LSTM + REINFORCE)" : "random search") << "</td><td>"
      << fmt(s[m]["best_reward"].get<double>(), "%.4f") << "</td><td>" << s[m]["evaluations"] << "</td><td>"
      << fmt(s[m]["seconds"].get<double>(), "%.0f") << "</td></tr>";
  h << "</table>";
  const json& bat = dev["battery"];
  for (const auto& p : bat["plots"])
    if (p.get<std::string>().find("search_reward") != std::string::npos) h << inline_svg(p);
  h << "<table><tr><th>level</th><th>set</th><th>predicted ms</th><th>dense ms</th><th>valid accuracy</th></tr>";
  std::vector<json> by_level(rb["levels"].begin(), rb["levels"].end());
  std::sort(by_level.begin(), by_level.end(), [](const json& a, const json& b) { return a["khz"] < b["khz"]; });
  for (const auto& l : by_level)
    h << "<tr><td>" << mhz(std::to_string(l["khz"].get<int64_t>())) << " MHz</td><td>" << esc(l["set"]) << "</td><td>"
      << (l.contains("latency_ms") ? fmt(l["latency_ms"].get<double>(), "%.3f") : "unreachable") << "</td><td>"
      << (l.contains("dense_latency_ms") ? fmt(l["dense_latency_ms"].get<double>(), "%.3f") : "-") << "</td><td>"
      << fmt(l["final_accuracy"].get<double>() * 100) << " %</td></tr>";
  h << "</table>\n";

  // Switching.
  if (rb.contains("switch") && rb["switch"].contains("switch_latency_us")) {
    const json& sw = rb["switch"];
    h << "<h2>Run-time switching under load</h2><table><tr><th>switch p50</th><th>p99</th><th>max</th><th>switches</th>"
         "<th>inferences</th><th>mismatched outputs</th></tr><tr><td>"
      << fmt(sw["switch_latency_us"]["p50"].get<double>(), "%.3f") << " us</td><td>"
      << fmt(sw["switch_latency_us"]["p99"].get<double>(), "%.3f") << " us</td><td>"
      << fmt(sw["switch_latency_us"]["max"].get<double>(), "%.1f") << " us</td><td>" << sw["switches"] << "</td><td>"
      << sw["inferences"] << "</td><td>" << sw["check"]["mismatches"] << "</td></tr></table>\n";
  }

  // Following real slowdowns (rt3 bench adapt).
  if (dev.contains("adapt") && dev["adapt"].contains("policies")) {
    const json& ad = dev["adapt"];
    const json& lg = ad["load_generator"];
    h << "<h2>Following slowdowns on this machine</h2><p class=note>load: " << esc(lg["kind"].get<std::string>()) << " ("
      << esc(lg.value("what", "")) << "); phases at speed 1, 1/2, 1/3, 2/3, 1; deadline " << fmt(ad["deadline_ms"].get<double>(), "%.2f")
      << " ms here (" << esc(ad["deadline_source"].get<std::string>()) << ").</p><table><tr><th>policy</th><th>deadline misses</th>"
         "<th>accuracy</th><th>p99 response</th><th>switches / min</th><th>steady switches / request</th></tr>";
    for (const auto& [name, p] : ad["policies"].items())
      h << "<tr><td>" << esc(name) << "</td><td>" << fmt(p["miss_rate"].get<double>() * 100) << " %</td><td>"
        << (p["accuracy"].is_null() ? "-" : fmt(p["accuracy"].get<double>() * 100) + " %") << "</td><td>"
        << fmt(p["p99_response_ms"].get<double>()) << " ms</td><td>" << fmt(p["switches_per_min"].get<double>(), "%.1f")
        << "</td><td>" << fmt(p["steady_switches_per_request"].get<double>(), "%.3f") << "</td></tr>";
    h << "</table>";
  }

  // Battery.
  h << "<h2>Battery life</h2>" << battery_bars(bat) << "<table><tr><th>policy</th><th>life (h)</th><th>mJ / inference</th>"
       "<th>avg mW</th><th>deadline misses</th><th>accuracy</th></tr>";
  for (const auto& p : bat["policies"])
    h << "<tr><td>" << esc(p["id"]) << "</td><td>" << fmt(p["projected_life_h"].get<double>()) << "</td><td>"
      << fmt(p["energy_per_inference_mj"].get<double>(), "%.3f") << "</td><td>" << fmt(p["average_power_mw"].get<double>(), "%.1f")
      << "</td><td>" << fmt(p["miss_rate"].get<double>() * 100) << " %</td><td>"
      << (p["accuracy"].is_null() ? "-" : fmt(p["accuracy"].get<double>() * 100) + " %") << "</td></tr>";
  h << "</table><p>RT3 / (a) dense at max frequency: <b>" << fmt(bat["ratios"]["rt3_over_max_dense"].get<double>())
    << "x</b>; / (b) dense at the needed frequency: " << fmt(bat["ratios"]["rt3_over_min_dense"].get<double>())
    << "x; / (c) schedutil: " << fmt(bat["ratios"]["rt3_over_schedutil_dense"].get<double>()) << "x (whole device).</p>";
  if (bat.contains("bases")) {
    const json& b = bat["bases"];
    h << "<table><tr><th>basis</th><th>rest-of-device mW</th><th>RT3 / (a)</th><th>RT3 / (b)</th><th>RT3 / (c)</th></tr>";
    for (const char* basis : {"processor", "device"})
      h << "<tr><td>" << basis << "</td><td>" << fmt(b[basis]["base_power_mw"].get<double>(), "%.0f") << "</td><td>"
        << fmt(b[basis]["rt3_over_max_dense"].get<double>()) << "x</td><td>" << fmt(b[basis]["rt3_over_min_dense"].get<double>())
        << "x</td><td>" << fmt(b[basis]["rt3_over_schedutil_dense"].get<double>()) << "x</td></tr>";
    h << "</table><p>"
      << (b["gain_halves_at"]["base_power_mw"].is_null()
              ? esc(b["gain_halves_at"]["note"].get<std::string>())
              : "RT3's gain over (a) halves at " + fmt(b["gain_halves_at"]["base_power_mw"].get<double>(), "%.0f") +
                    " mW of rest-of-device power.")
      << "</p>";
  }
  for (const auto& p : bat["plots"])
    if (p.get<std::string>().find("search_reward") == std::string::npos) h << inline_svg(p);
  h << "<h3>Sensitivity of RT3 / (a) to the workload period and the rest-of-device power</h3><table><tr><th>period ms</th>";
  std::map<double, std::map<double, double>> grid;
  for (const auto& c : bat["sensitivity"]["cells"])
    grid[c["period_ms"].get<double>()][c["base_power_mw"].get<double>()] = c["rt3_over_max_dense"].get<double>();
  if (!grid.empty())
    for (const auto& [base, v] : grid.begin()->second) h << "<th>base " << fmt(base, "%.0f") << " mW</th>";
  h << "</tr>";
  for (const auto& [period, row] : grid) {
    h << "<tr><td>" << fmt(period, "%.0f") << "</td>";
    for (const auto& [base, v] : row) h << "<td>" << fmt(v) << "x</td>";
    h << "</tr>";
  }
  h << "</table><h3>Assumptions</h3><ul>";
  for (const auto& a : bat["assumptions"])
    h << "<li><b>" << esc(a["name"]) << "</b> = " << esc(a["value"]) << " <span class=note>(" << esc(a["source"]) << ")</span></li>";
  h << "</ul></body></html>\n";
  const std::string path = (out / "report.html").string();
  format::write_file_atomic(path, h.str());
  return path;
}

}  // namespace rt3::cli
