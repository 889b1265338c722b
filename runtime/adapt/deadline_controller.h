#pragma once
// The closed loop of the engine's deadline mode (docs/adapt.md "Deadline mode"): it needs no OS
// signal at all, only the latency the engine measures for each inference. Whatever slows the CPU
// down (a lower clock, thermal throttling, a move to a little core, another app on the cores) shows
// up as a slowdown factor s = measured / modelled latency of the variant that ran. The bundle's
// latency models give every variant's cost relative to the others, so s predicts what each variant
// would take now: predicted(w) = s * model(w).
//
// Rules (D = deadline), chosen for slowdowns that come and go as well as ones that stay (docs/adapt.md
// "Deadline mode"):
//  - moving down: an inference that missed D moves the engine at once, with s = that inference's
//    slowdown; otherwise s is the second highest of the last three observations, so a slowdown
//    that lasts two inferences moves it but a single spike below D does not. The running variant
//    is kept while s * model <= margin * D; above that the engine moves to the most preferred
//    variant predicted within margin * D (the fastest when none is);
//  - moving up: to the most preferred variant that the rule above would have kept through the
//    last up_window observations (none of them a miss, their second highest within margin * D)
//    and whose prediction with their mean fits up_margin * D. On a time-shared core most
//    inferences run unhindered and a few are cut by a whole time slice: the highest sees those
//    few, the mean keeps the usual latency clear of the margin (hysteresis).
//  - back-off: a move down within up_window inferences of a move up was a failed probe and
//    doubles the window (up to max_up_window); a probe that holds halves it back toward up_window.
//    Under a load that defeats every probe the engine probes ever more rarely, so misses from
//    probing fall geometrically, while after a passing spike it returns within up_window.
//  - a request that already waited (queued behind others, or for the engine's lock) has only
//    D - waited left: it runs on the most preferred variant predicted within margin * (D - waited)
//    (the fastest when none is), once. The steady choice stays: a queue says nothing about the
//    CPU's speed, and the next request may not wait at all.
// Not thread-safe: the engine calls it under its inference lock.
#include <cstddef>
#include <vector>

#include "runtime/adapt/latency_model.h"

namespace rt3::adapt {

struct DeadlineOptions {
  // Keep 10 % of the deadline for what the prediction misses. Moving up needs the mean of the
  // last 8 observations to predict <= 0.8 D: a variant at 0.8 D (a deadline 1.25x its idle
  // latency) can still be returned to, and noise of +-10 % at a boundary does not make it flap.
  double margin = 0.9;
  double up_margin = 0.8;
  int up_window = 8;
  int max_up_window = 64;
};

class DeadlineController {
 public:
  // models[i]: latency model of engine variant variants[i]; preference: indices into `variants`
  // (equivalently `models`), most preferred first. Throws std::invalid_argument on empty input,
  // a zero model or bad options.
  DeadlineController(std::vector<int> variants, std::vector<LatencyModel> models, std::vector<std::size_t> preference,
                     DeadlineOptions options = {});

  // The variant the next inference runs on for deadline_s (> 0), for a request that has waited
  // waited_s (>= 0) since it arrived. Before any observation: the most preferred one.
  int choose(double deadline_s, double waited_s = 0);
  // Feeds the measured latency of an inference that ran on engine variant `variant` (ignored if
  // that variant has no model).
  void observe(int variant, double measured_s, double deadline_s);
  // Predicted latency of engine variant `variant` at the current slowdown (NaN before any
  // observation or without a model).
  double predicted_s(int variant) const;
  // The slowdown the move-down rule judges by (0 before any observation).
  double slowdown() const { return observed() ? slowdown_ : 0.0; }
  bool observed() const { return count_ > 0; }
  // Observations whose worst slowdown must fit before the next move up (grows after failed probes).
  int up_window() const { return up_window_; }
  void reset();

 private:
  std::size_t slot_of(int variant) const;     // models_.size() when none
  std::size_t best_within(double limit_s, double slowdown) const;  // slot; models_.size() when none
  double recent(int back) const;  // observation `back` steps ago (0: the latest)
  struct Recent {
    double worst = 0, second = 0, mean = 0;  // highest, second highest, mean
  };
  Recent last(int n) const;  // of the last n observations
  void move_down_if_needed(double deadline_s);
  void move_up_if_safe(double deadline_s);

  std::vector<int> variants_;
  std::vector<LatencyModel> models_;
  std::vector<std::size_t> preference_;
  std::vector<std::size_t> rank_;  // rank_[slot] = position in preference_
  std::size_t fastest_ = 0;
  DeadlineOptions options_;
  std::size_t current_;
  std::vector<double> history_;  // ring of the last max_up_window slowdowns
  std::size_t count_ = 0;        // observations so far
  double slowdown_ = 1.0;
  int up_window_;
  int probation_ = 0;  // inferences left before the last move up counts as held
};

}  // namespace rt3::adapt
