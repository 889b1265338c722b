#pragma once
// Knowledge distillation options of the pruning runs (docs/pruning.md "Distillation"): the pruned
// student learns from the dense teacher's softened output distribution as well as from the labels.
// Torch-free (the CLI validates a --config before anything heavy starts); stored in rt3_prune.json
// under "distill" of the bp and pattern options.
#include <string>

#include <nlohmann/json.hpp>

namespace rt3::train {

struct DistillOptions {
  // Weight of the distillation term: loss = (1 - alpha) x label loss + alpha x T^2 x KL(teacher_T ||
  // student_T). 0 turns distillation off.
  double alpha = 0.0;
  double temperature = 2.0;  // T: softens both distributions (> 0)
  // Run directory whose model.safetensors is the teacher. Empty: the dense run the pruning chain
  // started from (prune bp: its --checkpoint; prune pattern: the BP run's own source), recorded
  // when the run starts so a resumed run uses the same teacher.
  std::string teacher;

  bool enabled() const { return alpha > 0; }
};

// Throws std::invalid_argument("<prefix>.distill.<field> ...") for alpha outside [0, 1] or a
// temperature that is not a finite number in (0, 100].
void validate(const DistillOptions& o, const std::string& prefix);
nlohmann::json to_json(const DistillOptions& o);
// Applies {"alpha": .., "temperature": .., "teacher": ..} on top of base; unknown keys and wrong
// types are errors naming "<prefix>.distill.<key>".
DistillOptions apply_distill_json(DistillOptions base, const nlohmann::json& j, const std::string& prefix);

}  // namespace rt3::train
