#pragma once
// A KernelChoice as JSON: the run folder's kernels.json and `bench --json` write the same fields.

#include <nlohmann/json.hpp>

#include "core/train/kernel_choice.h"

namespace scalelab {

// {"channels_last", "fast_depthwise", "blocked", "winograd", "source", "key", "note", "timings":
// [{"channels_last", "fast_depthwise", "ms_per_step", "batch", "cut_after_warmup", "blocked",
// "winograd"}]}.
nlohmann::ordered_json kernelChoiceToJson(const KernelChoice& choice);

}  // namespace scalelab
