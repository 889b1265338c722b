#pragma once
// stdout is what most commands produce: a write that fails (disk full, /dev/full, a closed
// descriptor) must end the command with an error, never exit 0 with the output missing or cut.
#include <nlohmann/json.hpp>

#include <string>

namespace rt3::cli {

// Flushes stdout; throws std::runtime_error when this or any earlier write to it failed. Commands
// that print as they go (one line per input) call it after each line, so they stop at the first
// lost line instead of computing results nobody receives.
void flush_stdout();

// Called once by main() after the command: flush and close stdout (close can be the first to
// report a lost write). Returns rc, or 1 after printing "<who>: error: ..." to stderr if the
// output was lost.
int finish_stdout(int rc, const std::string& who);

// JSON text that never throws on strings that are not valid UTF-8 (an input line, a file name):
// such bytes are replaced by U+FFFD, the rest of the output is unaffected.
std::string json_text(const nlohmann::json& j, int indent = -1);

}  // namespace rt3::cli
