#include "runtime/adapt/deadline_controller.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace rt3::adapt {

DeadlineController::DeadlineController(std::vector<int> variants, std::vector<LatencyModel> models,
                                       std::vector<std::size_t> preference, DeadlineOptions options)
    : variants_(std::move(variants)), models_(std::move(models)), preference_(std::move(preference)), options_(options) {
  if (variants_.empty() || variants_.size() != models_.size() || preference_.size() != models_.size())
    throw std::invalid_argument("deadline controller: need one latency model and one rank per variant");
  if (!(options_.margin > 0 && options_.margin <= 1 && options_.up_margin > 0 && options_.up_margin <= options_.margin &&
        options_.up_window >= 1 && options_.max_up_window >= options_.up_window && options_.max_up_window <= 4096))
    throw std::invalid_argument(
        "deadline controller: need 0 < up_margin <= margin <= 1 and 1 <= up_window <= max_up_window <= 4096");
  rank_.assign(models_.size(), models_.size());
  for (std::size_t r = 0; r < preference_.size(); ++r) {
    if (preference_[r] >= models_.size() || rank_[preference_[r]] != models_.size())
      throw std::invalid_argument("deadline controller: preference is not a permutation");
    rank_[preference_[r]] = r;
  }
  for (std::size_t i = 0; i < models_.size(); ++i) {
    if (!(models_[i].at_ref() > 0) || !std::isfinite(models_[i].at_ref()))
      throw std::invalid_argument("deadline controller: variant " + std::to_string(variants_[i]) +
                                  " has a latency model of 0");
    if (models_[i].at_ref() < models_[fastest_].at_ref()) fastest_ = i;
  }
  history_.assign(static_cast<std::size_t>(options_.max_up_window), 0.0);
  reset();
}

void DeadlineController::reset() {
  current_ = preference_.front();
  count_ = 0;
  slowdown_ = 1.0;
  up_window_ = options_.up_window;
  probation_ = 0;
}

std::size_t DeadlineController::slot_of(int variant) const {
  const auto it = std::find(variants_.begin(), variants_.end(), variant);
  return static_cast<std::size_t>(it - variants_.begin());
}

std::size_t DeadlineController::best_within(double limit_s, double slowdown) const {
  for (std::size_t s : preference_)
    if (slowdown * models_[s].at_ref() <= limit_s) return s;
  return models_.size();
}

double DeadlineController::recent(int back) const {
  const std::size_t n = history_.size();
  return history_[(count_ - 1 - static_cast<std::size_t>(back)) % n];
}

DeadlineController::Recent DeadlineController::last(int n) const {
  Recent r;
  for (int i = 0; i < n; ++i) {
    const double v = recent(i);
    if (v > r.worst) r.second = r.worst, r.worst = v;
    else r.second = std::max(r.second, v);
    r.mean += v;
  }
  r.mean /= n;
  return r;
}

void DeadlineController::move_down_if_needed(double deadline_s) {
  const double limit = options_.margin * deadline_s;
  if (slowdown_ * models_[current_].at_ref() <= limit) return;
  const std::size_t s = best_within(limit, slowdown_);
  current_ = s == models_.size() ? fastest_ : s;
  if (probation_ > 0) up_window_ = std::min(2 * up_window_, options_.max_up_window);  // the probe failed
  probation_ = 0;
}

void DeadlineController::move_up_if_safe(double deadline_s) {
  if (probation_ > 0 && --probation_ == 0) up_window_ = std::max(up_window_ / 2, options_.up_window);  // it held
  if (count_ < static_cast<std::size_t>(up_window_)) return;
  const Recent r = last(up_window_);
  for (std::size_t up : preference_) {
    if (rank_[up] >= rank_[current_]) return;
    const double cost = models_[up].at_ref();
    if (r.worst * cost <= deadline_s && r.second * cost <= options_.margin * deadline_s &&
        r.mean * cost <= options_.up_margin * deadline_s) {
      current_ = up;
      probation_ = up_window_;
      return;
    }
  }
}

int DeadlineController::choose(double deadline_s, double waited_s) {
  // A deadline made shorter since the last inference can demand a faster variant right away;
  // moving up waits for the next measurement.
  if (!observed()) return variants_[current_];
  move_down_if_needed(deadline_s);
  const double limit = options_.margin * (deadline_s - (waited_s > 0 ? waited_s : 0));
  if (slowdown_ * models_[current_].at_ref() <= limit) return variants_[current_];
  const std::size_t s = best_within(limit, slowdown_);  // this late request only
  return variants_[s == models_.size() ? fastest_ : s];
}

void DeadlineController::observe(int variant, double measured_s, double deadline_s) {
  const std::size_t slot = slot_of(variant);
  if (slot == models_.size() || !(measured_s >= 0) || !std::isfinite(measured_s)) return;
  history_[count_ % history_.size()] = measured_s / models_[slot].at_ref();
  ++count_;
  if (measured_s > deadline_s || count_ == 1) {
    slowdown_ = recent(0);  // a miss: react to this one inference
  } else {  // the second highest of the last three (of two: the lower): one spike is not enough
    double v[3] = {recent(0), recent(1), count_ > 2 ? recent(2) : 0};
    std::sort(v, v + 3);
    slowdown_ = v[1];
  }
  move_down_if_needed(deadline_s);
  move_up_if_safe(deadline_s);
}

double DeadlineController::predicted_s(int variant) const {
  const std::size_t slot = slot_of(variant);
  if (!observed() || slot == models_.size()) return std::numeric_limits<double>::quiet_NaN();
  return slowdown_ * models_[slot].at_ref();
}

}  // namespace rt3::adapt
