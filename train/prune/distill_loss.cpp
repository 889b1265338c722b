#include "train/prune/distill_loss.h"

namespace rt3::train {

torch::Tensor distillation_loss(const torch::Tensor& student_logits, const torch::Tensor& teacher_logits,
                                const torch::Tensor& label_loss, double alpha, double temperature) {
  const int64_t classes = student_logits.size(-1);
  const torch::Tensor s = student_logits.reshape({-1, classes}) / temperature;
  const torch::Tensor t = teacher_logits.reshape({-1, classes}).detach() / temperature;
  const torch::Tensor log_p_student = torch::log_softmax(s, -1);
  const torch::Tensor log_p_teacher = torch::log_softmax(t, -1);
  // KL(teacher || student) per row, from log-probabilities (no log of a rounded-to-zero softmax).
  const torch::Tensor kl = (log_p_teacher.exp() * (log_p_teacher - log_p_student)).sum(-1).mean();
  return (1.0 - alpha) * label_loss + alpha * temperature * temperature * kl;
}

}  // namespace rt3::train
