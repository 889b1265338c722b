#pragma once
// Output files are written whole or not at all: a temporary file next to the target, then
// rename() (atomic on one filesystem), so a killed run never leaves a half-written file.
#include <string>

namespace rt3::cli {

// Writes text to path via "<path>.tmp.<pid>" + rename; throws std::runtime_error naming the path.
void write_text_atomic(const std::string& path, const std::string& text);

}  // namespace rt3::cli
