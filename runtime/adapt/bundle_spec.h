#pragma once
// Builds the adaptation policy's view of a loaded bundle: level table, per-variant latency models
// and accuracies (metadata "adaptation"), and the active power per level from the device profile.
#include <string>
#include <vector>

#include "runtime/adapt/adapter.h"
#include "runtime/format/bundle.h"

namespace rt3::adapt {

// variants / sparsity: the engine's variants in index order ([0] = "base"). threads: engine threads
// (the busy cores of an inference, capped at the inference cluster's cores).
PolicySpec spec_from_bundle(const format::Bundle& bundle, const std::vector<std::string>& variants,
                            const std::vector<double>& sparsity, int threads);
// The same for a bundle that is not loaded into an engine (simulation): the engine's variant order
// ("base", then the pattern variants in file order).
PolicySpec spec_from_bundle(const format::Bundle& bundle, int threads);

}  // namespace rt3::adapt
