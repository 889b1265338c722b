#pragma once
// The closed loop of the engine's deadline mode (docs/adapt.md "Deadline mode"): it needs no OS
// signal at all, only the latency the engine measures for each inference. Whatever slows the CPU
// down (a lower clock, thermal throttling, a move to a little core, another app on the cores) shows
// up as a slowdown factor s = measured / modelled latency of the variant that ran. The bundle's
// latency models give every variant's cost relative to the others, so s predicts what each variant
// would take now: predicted(w) = s * model(w).
//
// Rules (D = deadline):
//  - s rises at once to a higher observation (one slow inference is enough to react) and falls
//    as an exponential moving average (decay) so one fast inference does not undo it;
//  - the running variant is kept while predicted <= margin * D; above that the engine moves to
//    the most preferred variant predicted within margin * D (the fastest when none is);
//  - it moves to a more preferred (more accurate) variant only when that one is predicted within
//    up_margin * D for up_patience inferences in a row (hysteresis: no flapping at a boundary).
// Not thread-safe: the engine calls it under its inference lock.
#include <cstddef>
#include <vector>

#include "runtime/adapt/latency_model.h"

namespace rt3::adapt {

struct DeadlineOptions {
  // Keep 10 % of the deadline for what the prediction misses. Moving up needs predicted <= 0.8 D
  // for 5 inferences in a row: a variant at 0.8 D (a deadline 1.25x its idle latency) can still be
  // returned to, and noise of +-10 % at a boundary does not make the choice flap.
  double margin = 0.9;
  double up_margin = 0.8;
  int up_patience = 5;
  double decay = 0.3;
};

class DeadlineController {
 public:
  // models[i]: latency model of engine variant variants[i]; preference: indices into `variants`
  // (equivalently `models`), most preferred first. Throws std::invalid_argument on empty input,
  // a zero model or bad options.
  DeadlineController(std::vector<int> variants, std::vector<LatencyModel> models, std::vector<std::size_t> preference,
                     DeadlineOptions options = {});

  // The variant the next inference runs on for deadline_s (> 0). Before any observation: the
  // most preferred one.
  int choose(double deadline_s);
  // Feeds the measured latency of an inference that ran on engine variant `variant` (ignored if
  // that variant has no model).
  void observe(int variant, double measured_s, double deadline_s);
  // Predicted latency of engine variant `variant` at the current slowdown (NaN before any
  // observation or without a model).
  double predicted_s(int variant) const;
  double slowdown() const { return observed_ ? slowdown_ : 0.0; }
  bool observed() const { return observed_; }
  void reset();

 private:
  std::size_t slot_of(int variant) const;     // models_.size() when none
  std::size_t best_within(double limit_s) const;  // slot; models_.size() when none
  double predict(std::size_t slot) const { return slowdown_ * models_[slot].at_ref(); }
  void reconsider(double deadline_s, bool allow_up);

  std::vector<int> variants_;
  std::vector<LatencyModel> models_;
  std::vector<std::size_t> preference_;
  std::vector<std::size_t> rank_;  // rank_[slot] = position in preference_
  std::size_t fastest_ = 0;
  DeadlineOptions options_;
  std::size_t current_;
  bool observed_ = false;
  double slowdown_ = 1.0;
  int up_streak_ = 0;
};

}  // namespace rt3::adapt
