#pragma once
// The inference path: a model's eval-mode forward compiled from its layer plan (arch_plan.h says
// how data flows), with every BatchNorm that follows a convolution folded into that convolution's
// weights and bias, and each activation applied in place to the tensor that produced it. No
// family is named here: a family whose plan uses the existing layer kinds runs without a change.
// Evaluation, feature maps, pruning's evaluations and the ONNX export use it; training uses the
// model itself (BatchNorm's batch statistics cannot be folded).

#include <torch/torch.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/models/model.h"

namespace scalelab {

// The model's tensors with each BatchNorm that directly follows a convolution on the same branch
// folded into it, computed in float64 and stored in the model's dtype:
//   W' = W * g / sqrt(v + eps)  (per output channel),  b' = (b - m) * g / sqrt(v + eps) + beta.
struct FoldedWeights {
    std::map<std::string, torch::Tensor> tensors;  // the state dict, each folded conv's "weight"
                                                   // replaced and its "bias" set
    std::set<std::string> foldedNorms;             // paths of the BatchNorm layers folded away
};
FoldedWeights foldBatchNorm(const ScaleModelImpl& model);

class InferenceNet {
public:
    // Compiles the model as it is now (its weights are copied: later training does not change
    // this net) on the model's device and dtype, with its layout and depthwise-kernel choice.
    // Throws Error naming the layer when the plan and the model's tensors disagree.
    explicit InferenceNet(const ScaleModelImpl& model);
    ~InferenceNet();
    InferenceNet(InferenceNet&&) noexcept;
    InferenceNet& operator=(InferenceNet&&) noexcept;

    // Logits [N, classes] of images [N, C, R, R] (no gradients).
    torch::Tensor forward(const torch::Tensor& x) const;
    // Every stage's output (stem, stage 1..N) and the logits, as ScaleModelImpl::forwardFeatures.
    // `keepGraph`: under the caller's grad mode with no in-place activation, so gradients reach
    // the stage outputs (Grad-CAM).
    FeatureOutputs forwardFeatures(const torch::Tensor& x, bool keepGraph = false) const;

    // Whether a plan can run in oneDNN's blocked layout (MKL-DNN tensors): convolutions, ReLU,
    // residual adds of same-shaped tensors, max and global pooling, linear -- ResNets with
    // projection shortcuts. The model's blockedInference() then selects it (float32, CPU).
    static bool blockedSupported(const ArchPlan& plan);
    bool blocked() const { return blocked_; }
    // Whether a plan can run with every convolution on oneDNN directly (core/ops/onednn_conv.h):
    // as blockedSupported, convolutions ungrouped, and this build and processor offer oneDNN's
    // Winograd kernel. The model's winogradInference() then selects it (float32, CPU).
    static bool winogradSupported(const ArchPlan& plan);
    bool winograd() const { return winograd_; }

    int64_t foldedNorms() const;       // BatchNorms folded into a convolution
    int64_t fusedActivations() const;  // activations applied in place to their producer's output
    int64_t steps() const;             // operations one forward runs

private:
    struct Step;
    torch::Tensor run(const torch::Tensor& x, std::vector<torch::Tensor>* stages,
                      bool keepGraph) const;
    torch::Tensor runOneDnn(const torch::Tensor& x, std::vector<torch::Tensor>* stages) const;
    std::vector<Step> steps_;
    bool channelsLast_ = false;
    bool blocked_ = false;   // oneDNN blocked layout (forward only; forwardFeatures with a graph
                             // runs the dense weights)
    bool winograd_ = false;  // oneDNN directly, Winograd for 3x3/1 (forward only, as blocked_)
    int64_t folded_ = 0, fused_ = 0;
    int stageCount_ = 0;  // stem + stages
};

}  // namespace scalelab
