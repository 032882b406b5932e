#pragma once
// ModelSpec <-> JSON, for run records and session files. Torch-free.

#include <nlohmann/json.hpp>

#include "core/models/model_spec.h"

namespace scalelab {

nlohmann::ordered_json specToJson(const ModelSpec& spec);
// Throws SpecError naming the field when the JSON is incomplete or holds an impossible spec.
ModelSpec specFromJson(const nlohmann::json& json);

}  // namespace scalelab
