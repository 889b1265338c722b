#pragma once
// Checks on parsed flags that hold for every command, made once in main() instead of per flag.
#include <CLI/CLI.hpp>

namespace rt3::cli {

// Every floating-point flag must be a finite number. CLI11 reads "nan" and "inf" as doubles and
// its Range / PositiveNumber checks let NaN through (every comparison with NaN is false), so a
// `--sparsity nan` would otherwise reach the command. Throws CLI::ValidationError naming the flag.
void refuse_non_finite_flags(const CLI::App& app);

// CLI::PositiveNumber / NonNegativeNumber for the flags of this project: the same ranges, but Inf
// is refused as "not a finite number" (CLI11 reports it against a 300-digit upper bound).
CLI::Validator positive_number();
CLI::Validator non_negative_number();

}  // namespace rt3::cli
