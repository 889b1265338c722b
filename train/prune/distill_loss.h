#pragma once
// The distillation loss (docs/pruning.md "Distillation"), Hinton et al.'s form:
//   (1 - alpha) x label_loss + alpha x T^2 x KL(softmax(teacher / T) || softmax(student / T)),
// the KL averaged over rows (a row = one classified example, or one next-token position of the
// LM). T^2 keeps the soft term's gradient on the scale of the label loss's as T grows.
#include <torch/torch.h>

namespace rt3::train {

// student_logits, teacher_logits: [rows, classes] (or any leading shape, flattened to rows).
torch::Tensor distillation_loss(const torch::Tensor& student_logits, const torch::Tensor& teacher_logits,
                                const torch::Tensor& label_loss, double alpha, double temperature);

}  // namespace rt3::train
