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
        options_.up_patience >= 1 && options_.decay > 0 && options_.decay <= 1))
    throw std::invalid_argument("deadline controller: need 0 < up_margin <= margin <= 1, up_patience >= 1, decay in (0, 1]");
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
  current_ = preference_.front();
}

void DeadlineController::reset() {
  current_ = preference_.front();
  observed_ = false;
  slowdown_ = 1.0;
  up_streak_ = 0;
}

std::size_t DeadlineController::slot_of(int variant) const {
  const auto it = std::find(variants_.begin(), variants_.end(), variant);
  return static_cast<std::size_t>(it - variants_.begin());
}

std::size_t DeadlineController::best_within(double limit_s) const {
  for (std::size_t s : preference_)
    if (predict(s) <= limit_s) return s;
  return models_.size();
}

void DeadlineController::reconsider(double deadline_s, bool allow_up) {
  if (!observed_) return;  // nothing measured yet: stay on the most preferred variant
  const double limit = options_.margin * deadline_s;
  if (predict(current_) > limit) {
    const std::size_t s = best_within(limit);
    current_ = s == models_.size() ? fastest_ : s;
    up_streak_ = 0;
    return;
  }
  if (!allow_up) return;
  const std::size_t up = best_within(options_.up_margin * deadline_s);
  if (up == models_.size() || rank_[up] >= rank_[current_]) {
    up_streak_ = 0;
    return;
  }
  if (++up_streak_ >= options_.up_patience) {
    current_ = up;
    up_streak_ = 0;
  }
}

int DeadlineController::choose(double deadline_s) {
  // A deadline made shorter since the last inference can demand a faster variant right away;
  // moving up waits for the next measurement.
  reconsider(deadline_s, /*allow_up=*/false);
  return variants_[current_];
}

void DeadlineController::observe(int variant, double measured_s, double deadline_s) {
  const std::size_t slot = slot_of(variant);
  if (slot == models_.size() || !(measured_s >= 0) || !std::isfinite(measured_s)) return;
  const double r = measured_s / models_[slot].at_ref();
  if (!observed_ || r > slowdown_) slowdown_ = r;
  else slowdown_ += options_.decay * (r - slowdown_);
  observed_ = true;
  reconsider(deadline_s, /*allow_up=*/true);
}

double DeadlineController::predicted_s(int variant) const {
  const std::size_t slot = slot_of(variant);
  if (!observed_ || slot == models_.size()) return std::numeric_limits<double>::quiet_NaN();
  return predict(slot);
}

}  // namespace rt3::adapt
