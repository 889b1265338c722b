#pragma once
// report.html of `rt3 demo`: one self-contained page (inline SVG charts, no external files) that
// says what was run on what, compares dense, BP, every pattern set and the searched RT3 bundle,
// and checks the published RT3 claims against our numbers. Also adds summary["claims"].
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

namespace rt3::cli {

// The claims table (published RT3 number, ours, met or not), from a finished summary.
nlohmann::json demo_claims(const nlohmann::json& summary);

// Writes <out>/report.html atomically from the summary (its "device" section included) and the
// SVG files it names. Returns the path.
std::string write_demo_report(const nlohmann::json& summary, const std::filesystem::path& out);

}  // namespace rt3::cli
