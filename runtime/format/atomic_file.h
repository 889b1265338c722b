#pragma once
// Output files are written whole or not at all: a temporary file next to the target, then
// rename() (atomic on one filesystem), so a killed run never leaves a half-written file. The one
// writer of small text outputs (JSON, SVG, HTML) for the CLI, train/ and the reports; the
// safetensors writer has its own (it streams large tensors and fsyncs).
#include <string>

namespace rt3::format {

// Writes text to path via "<path>.tmp.<pid>" + rename; throws std::runtime_error naming the path
// and the cause. On failure the temporary file is removed and the target is untouched.
void write_file_atomic(const std::string& path, const std::string& text);

// Copies a (small: tokenizer, vocab) regular file the same way: the target is the whole source
// or untouched, never a truncated copy on a full disk.
void copy_file_atomic(const std::string& from, const std::string& to);

}  // namespace rt3::format
