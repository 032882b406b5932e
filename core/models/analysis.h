#pragma once
// Cost of a model without building or running it: per-layer rows (name, type, output shape,
// params, MACs), per-stage totals and an activation-memory estimate. Torch-free and fast enough
// to run on every slider move (B7: see docs/BENCHMARKS.md).
//
// MACs are multiply-accumulates of convolutions and linear layers only -- the convention behind
// the EfficientNet paper's and torchvision's "FLOPs". FLOPs, where shown, are 2 x MACs.

#include <cstdint>
#include <string>
#include <vector>

#include "core/models/model_spec.h"

namespace scalelab {

struct LayerRow {
    std::string name;      // torchvision module path ("features.1.0.block.0.0", "layer1.0.conv1")
    std::string type;      // "Conv2d 3x3/2 dw", "BatchNorm2d", "Linear", ...
    std::string stage;     // "stem", "stage 1".., "head", "classifier"
    int64_t channels = 0;  // output channels (features for Linear)
    int64_t height = 0;    // output px (1 for Linear)
    int64_t width = 0;     // output px
    int64_t params = 0;    // learnable parameters
    int64_t macs = 0;      // multiply-accumulates for one image
};

struct StageCost {
    std::string name;  // "stem", "stage 1".., "head", "classifier"
    int64_t outChannels = 0;
    int64_t repeats = 0;    // blocks (0 for stem/head/classifier)
    int64_t stride = 1;     // stride of its first layer/block
    int64_t outHeight = 0;  // px
    int64_t outWidth = 0;   // px
    int64_t params = 0;
    int64_t macs = 0;  // per image
};

struct ModelAnalysis {
    ModelSpec spec;
    std::vector<LayerRow> layers;
    std::vector<StageCost> stages;
    int64_t params = 0;  // total learnable parameters (equals the built module's count)
    int64_t macs = 0;    // total conv + linear multiply-accumulates per image
    int64_t flops() const { return 2 * macs; }  // FLOPs = 2 x MACs
    // Float32 values training keeps for the backward pass per image: every layer's output but
    // those the training path recomputes (ArchPlan::activationValuesPerImage, an estimate).
    int64_t activationValuesPerImage = 0;
    int64_t largestActivationValues = 0;  // the largest layer output (or input), values/image
    double analysisSeconds = 0;           // wall time this analysis took

    // Estimated training memory in bytes for a batch: activations x batch x 4 B, plus weights,
    // gradients and two optimizer slots (4 x params x 4 B).
    double trainingMemoryBytes(int64_t batchSize) const;
    // Estimated memory of an evaluation forward (the inference path) for a batch: three of the
    // largest layer outputs alive at once x batch x 4 B, plus the weights and their folded copy.
    double inferenceMemoryBytes(int64_t batchSize) const;
    // The evaluation batch to run: `requested`, or fewer images (at least 1) so that evaluating
    // needs no more memory than a training step at `trainBatch` (which was checked to fit) or
    // kEvalFloorBytes, whichever is more.
    // Evaluation results do not depend on the batch (BatchNorm uses its running statistics).
    int64_t evalBatchWithin(int64_t requested, int64_t trainBatch) const;
    static constexpr int64_t kEvalFloorBytes = int64_t(256) << 20;  // evaluation may use this much
};

// Plans (validating; SpecError on an impossible spec) and costs the model.
ModelAnalysis analyzeModel(const ModelSpec& spec);

// Costs an explicit plan -- e.g. a structurally pruned one whose inner widths differ from its
// spec's.
struct ArchPlan;
ModelAnalysis analyzePlan(const ArchPlan& plan);

// JSON: params, macs, flops, resolution, in_channels, num_classes, name, family, width, depth,
// resolution_coef, stages [{name, out_channels, repeats, stride, out_size, params, macs}],
// memory estimate, and when `withLayers` the per-layer rows.
std::string analysisToJson(const ModelAnalysis& analysis, bool withLayers, int64_t batchSize = 128);

// "5.29 M", "385.8 M", "1.81 G": for readouts.
std::string humanCount(double value);

}  // namespace scalelab
