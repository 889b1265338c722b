#pragma once
// Which run teaches a pruning run (docs/pruning.md "Distillation"), decided when the run starts.
#include <string>

#include "train/prune/distill_config.h"
#include "train/tasks.h"

namespace rt3::train {

// The teacher run directory for a pruning run started from source_dir: `o.teacher` when set,
// else the dense run the chain began with: source_dir itself, or, when source_dir is a pruning
// run (its rt3_prune.json names a source), that run's source, followed back to a run that is not
// a pruning run. Absolute. Throws when the teacher has no model.safetensors. Only called with
// distillation enabled.
std::string resolve_teacher(const DistillOptions& o, const std::string& source_dir);

// Makes `task` learn from o.teacher (already resolved) when distillation is enabled.
void attach_teacher(Task& task, const DistillOptions& o);

}  // namespace rt3::train
