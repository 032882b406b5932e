#pragma once
// ModelSpec <-> JSON, for run records and session files: the common fields, then every
// parameter the spec's family declares, by its key. Torch-free.

#include <nlohmann/json.hpp>

#include "core/models/model_spec.h"

namespace scalelab {

// A JSON whole number in [min, max]: an integer, or a float with an integral value. Throws
// SpecError naming `what` (never converts an out-of-range float, which is undefined behaviour).
int64_t jsonInteger(const nlohmann::json& value, const std::string& what,
                    int64_t min = -(int64_t(1) << 53), int64_t max = int64_t(1) << 53);

nlohmann::ordered_json specToJson(const ModelSpec& spec);
// Throws SpecError naming the field when the JSON is incomplete or holds an impossible spec.
ModelSpec specFromJson(const nlohmann::json& json);

// A plan: its spec, every block's inner widths (what structured pruning cuts) and, for readers,
// the stages and the typed layer list with params and MACs. How a structurally pruned model is
// recorded next to its weights.
struct ArchPlan;
nlohmann::ordered_json planToJson(const ArchPlan& plan);
// Re-plans the spec with the recorded inner widths (also ScaleLab 0.1's "block_widths"). Throws
// SpecError when a width is missing or outside 1..the unpruned width.
ArchPlan planFromJson(const nlohmann::json& json);

}  // namespace scalelab
