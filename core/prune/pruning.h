#pragma once
// Pruning, ours to write (LibTorch has no pruning module): unstructured magnitude pruning with
// masks that keep pruned weights at zero, and structured L1-norm filter pruning (Li et al. 2017)
// that physically removes channels and returns a smaller model.

#include <torch/torch.h>

#include <string>
#include <vector>

#include "core/data/dataset.h"
#include "core/models/arch_plan.h"
#include "core/models/model.h"
#include "core/prune/prune_api.h"

namespace scalelab {

// Which weights take part: every conv (stem, expansion, depthwise, SE, projection, shortcuts) and
// the classifier unless excluded; `stage` limits them to one stage (sensitivity analysis).
struct PruneScope {
    bool includeClassifier = false;  // prune the final Linear too
    int stage = -1;                  // -1: all; 0: stem; k >= 1: only stage k's layers
};

// Binary masks by parameter name: 1 keeps a weight, 0 holds it at zero.
struct MaskSet {
    std::vector<std::pair<std::string, torch::Tensor>> masks;  // same shapes as the weights
};

struct LayerSparsity {
    std::string name;   // parameter name ("layer1.0.conv1.weight")
    int64_t total = 0;  // weights
    int64_t zeros = 0;  // weights that are exactly zero
};

struct SparsityReport {
    std::vector<LayerSparsity> layers;
    int64_t total = 0;
    int64_t zeros = 0;
    double sparsity() const { return total ? double(zeros) / double(total) : 0.0; }
};

// Names of the prunable weights of a model within a scope.
std::vector<std::string> prunableWeights(const ScaleModelImpl& model, const PruneScope& scope);

// Zeroes the `level` fraction (0..1) of prunable weights with the smallest magnitude: one
// threshold over all layers (global) or the same fraction of every layer (layer-wise). Returns
// the masks (apply them after every optimizer step to keep the weights at zero).
MaskSet magnitudePrune(ScaleModelImpl& model, double level, bool global, const PruneScope& scope);

// weights *= masks (no gradient).
void applyMasks(ScaleModelImpl& model, const MaskSet& masks);

// Exact zeros among the prunable weights, per layer and in total.
SparsityReport measureSparsity(const ScaleModelImpl& model, const PruneScope& scope);

// MACs a sparse kernel would execute: each layer's MACs times its density (the dense model still
// runs all of them; unstructured pruning saves memory, not time, on LibTorch's dense kernels).
int64_t sparseMacs(const ScaleModelImpl& model, const PruneScope& scope);

struct StructuredPruneResult {
    ArchPlan plan;                      // the smaller architecture
    ScaleModel model;                   // its weights: the kept filters of the original
    double removedChannelFraction = 0;  // of the prunable inner channels
};

// L1-norm filter pruning of `level` (0..1) of the prunable inner channels, by the family's
// rules (ModelFamily::pruneGroups: ResNet blocks' conv1 and Bottleneck conv2 outputs,
// EfficientNet's and MobileNetV2's expansion channels, ...). Residual widths stay.
StructuredPruneResult l1StructuredPrune(const ScaleModelImpl& model, double level,
                                        const PruneScope& scope);

// runPruneSweep on a dataset object instead of the run's dataset spec (it must have the run's
// channels and classes): core tests prune runs trained on generated data this way.
PruneSweepResult runPruneSweep(const PruneSweepOptions& options, const PruneHooks& hooks,
                               std::shared_ptr<const Dataset> dataset);

}  // namespace scalelab
