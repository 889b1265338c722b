#pragma once
// An output must never destroy an input: `rt3 export --checkpoint R --out R/model.safetensors`
// would overwrite the weights it reads, `rt3 profile B.rt3 --out B.rt3` the bundle it measures.
#include <string>
#include <vector>

namespace rt3::cli {

// Throws std::runtime_error when `out` (the value of flag `out_flag`) is one of `inputs`, or lies
// inside one of them that is a directory. Paths are compared after resolving symlinks and "..",
// so another spelling of the same file is caught too. Empty paths are ignored.
void refuse_output_over_inputs(const std::string& out, const std::string& out_flag,
                               const std::vector<std::string>& inputs);

}  // namespace rt3::cli
