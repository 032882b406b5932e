#pragma once
// ModelSpec <-> JSON, for run records and session files. Torch-free.

#include <nlohmann/json.hpp>

#include "core/models/model_spec.h"

namespace scalelab {

nlohmann::ordered_json specToJson(const ModelSpec& spec);
// Throws SpecError naming the field when the JSON is incomplete or holds an impossible spec.
ModelSpec specFromJson(const nlohmann::json& json);

// A plan with its per-block inner widths (EfficientNet expansion channels; ResNet conv1/conv2
// outputs): how a structurally pruned model is recorded next to its weights.
struct ArchPlan;
nlohmann::ordered_json planToJson(const ArchPlan& plan);
// Throws SpecError when a width is missing or outside 1..the unpruned width.
ArchPlan planFromJson(const nlohmann::json& json);

}  // namespace scalelab
