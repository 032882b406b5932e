#pragma once
// The training path: a model's train-mode forward compiled from its layer plan (arch_plan.h says
// how data flows). It computes what the modules compute, with their parameters and buffers in
// place (BatchNorm's running statistics update exactly as BatchNorm2d::forward updates them;
// dropout and stochastic depth draw in the modules' order), but keeps less for the backward pass:
// where BatchNorm -> activation [-> squeeze-excitation scale] feeds a convolution or a global
// pool, autograd keeps only the BatchNorm's input (the previous convolution's output) and the
// chain is recomputed in the backward pass, just before the convolution's own backward. An
// MBConv block then keeps two expanded-size tensors instead of eight; MobileNetV2's block three
// instead of five; a ResNet basic block three instead of four. The price is one extra pass of
// BatchNorm + activation per chain in the backward pass (docs/BENCHMARKS.md has the figures).
// No family is named here. ScaleModelImpl::forward uses it while training (setRecompute).

#include <torch/torch.h>

#include <vector>

#include "core/models/model.h"

namespace scalelab {

class TrainPath {
public:
    // Compiles the model's plan against its modules (kept by pointer: the model owns this path).
    // Throws Error naming the layer when the plan and the modules disagree.
    explicit TrainPath(ScaleModelImpl& model);
    ~TrainPath();

    // Logits [N, classes] of images [N, C, R, R], as the model's own train-mode forward.
    torch::Tensor forward(const torch::Tensor& x) const;

    // Chains (BatchNorm [-> activation] [-> squeeze-excitation]) that the backward pass
    // recomputes: as recomputedLayers (arch_plan.h) marks them, and as the last forward applied
    // them (the two agree; a test holds them to it).
    int64_t recomputedChains() const { return chains_; }
    int64_t chainsLastForward() const { return applied_; }

private:
    struct Step;
    std::vector<Step> steps_;
    ScaleModelImpl& model_;
    int64_t chains_ = 0;
    mutable int64_t applied_ = 0;
};

}  // namespace scalelab
