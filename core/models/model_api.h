#pragma once
// Torch-free entry points to the models, for the CLI and the GUI.

#include <cstdint>
#include <string>

#include "core/models/model_spec.h"

namespace scalelab {

// Builds the model with seeded random weights and randomized BatchNorm statistics (so eval-mode
// BN is not the identity), runs `batch` seeded random inputs through it in eval mode, and writes
// into `dir`: weights.pt (state dict, torchvision key names) and io.pt ({"input", "logits"}).
// Both are pickled dicts of tensors that Python's torch.load reads. For parity tests.
void writeParityCase(const ModelSpec& spec, uint64_t seed, int batch, const std::string& dir);

// Builds the model and counts its parameters (to cross-check the analysis).
int64_t builtParameterCount(const ModelSpec& spec);

}  // namespace scalelab
