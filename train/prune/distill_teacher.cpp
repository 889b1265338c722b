#include "train/prune/distill_teacher.h"

#include <filesystem>
#include <stdexcept>

#include "train/prune/prune_api.h"
#include "train/run_files.h"

namespace rt3::train {
namespace fs = std::filesystem;

std::string resolve_teacher(const DistillOptions& o, const std::string& source_dir) {
  std::string dir = o.teacher;
  if (dir.empty()) {
    dir = source_dir;
    // A chain dense -> bp -> pattern is short; the bound only stops a cycle of hand-edited files.
    for (int hops = 0; hops < 16 && fs::exists(fs::path(dir) / kPruneFile); ++hops) {
      const std::string up = read_json_file((fs::path(dir) / kPruneFile).string()).value("source", "");
      if (up.empty()) break;
      dir = up;
    }
  }
  dir = fs::absolute(dir).lexically_normal().string();
  if (!fs::exists(fs::path(dir) / "model.safetensors"))
    throw std::runtime_error("distill.teacher '" + dir + "' has no model.safetensors: name a finished run with distill.teacher");
  return dir;
}

void attach_teacher(Task& task, const DistillOptions& o) {
  if (o.enabled()) task.set_teacher(o.teacher + "/model.safetensors", o.alpha, o.temperature);
}

}  // namespace rt3::train
