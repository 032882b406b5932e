#pragma once
// LibTorch models built from a plan by its family's builder (core/models/families/), with
// torchvision's module layout, so state-dict keys match torchvision's exactly.

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "core/models/arch_plan.h"
#include "core/models/family.h"
#include "core/models/model_spec.h"

namespace scalelab {

// Where a stage's output sits: for feature-map viewers and pruning.
struct FeatureInfo {
    int stage = 0;          // 0 = stem, 1.. = stages
    std::string name;       // "stem", "stage 1", ...
    std::string module;     // module path of the stage ("features.1", "layer1")
    int64_t channels = 0;   // output channels
    int64_t reduction = 1;  // input side / output side
};

// Stage outputs of one forward, plus the logits.
struct FeatureOutputs {
    std::vector<torch::Tensor> stages;  // one per FeatureInfo, [N,C,H,W]
    torch::Tensor logits;               // [N, classes]
};

class TrainPath;  // core/models/train_path.h

class ScaleModelImpl : public torch::nn::Module {
public:
    explicit ScaleModelImpl(ArchPlan plan);
    ~ScaleModelImpl() override;

    // Logits [N, classes]. While training with recompute() on: the training path
    // (core/models/train_path.h), which keeps about a third of the activations for the backward
    // pass and recomputes the rest; otherwise the modules' own forward.
    torch::Tensor forward(torch::Tensor x);
    // The modules' own forward (the family's).
    virtual torch::Tensor forwardModules(torch::Tensor x) = 0;
    // The forward that also returns every stage's output (stem, stage 1..N).
    virtual FeatureOutputs forwardFeatures(torch::Tensor x) = 0;

    // Channels-last (NHWC) weights and activations: the layout the depthwise kernel and oneDNN's
    // convolutions run fastest in on the CPU. forward() converts its input accordingly.
    void setChannelsLast(bool enabled);
    bool channelsLast() const { return channelsLast_; }
    // Which kernel the depthwise convolutions run on the CPU: ours (true, the default) or
    // LibTorch's grouped conv2d. Chosen per model by measuring (core/train/kernel_choice.h).
    void setFastDepthwise(bool enabled);
    bool fastDepthwise() const { return fastDepthwise_; }
    // Whether the model has any depthwise convolution (the choice above matters).
    bool hasDepthwise() const;
    // Inference (InferenceNet) in oneDNN's blocked layout, where the plan allows it
    // (InferenceNet::blockedSupported); training never uses it. Chosen by measuring.
    void setBlockedInference(bool enabled) { blockedInference_ = enabled; }
    bool blockedInference() const { return blockedInference_; }
    // Inference with every convolution run by oneDNN directly, stride-1 3x3 ones on its Winograd
    // kernel (InferenceNet::winogradSupported; core/ops/onednn_conv.h). Chosen by measuring.
    void setWinogradInference(bool enabled) { winogradInference_ = enabled; }
    bool winogradInference() const { return winogradInference_; }

    // Recompute BatchNorm + activation in the backward pass instead of keeping their outputs
    // (default on; off: the modules' own forward while training, for comparisons).
    void setRecompute(bool enabled) { recompute_ = enabled; }
    bool recompute() const { return recompute_; }
    // The stochastic-depth probability of block `block`'s residual branch while training (0 for
    // families without it).
    virtual double dropPathProb(int block) const;

    const ArchPlan& plan() const { return plan_; }
    const ModelSpec& spec() const { return plan_.spec; }
    std::vector<FeatureInfo> featureInfo() const;
    int64_t parameterCount() const;

protected:
    // The input in the layout this model runs in.
    torch::Tensor prepareInput(const torch::Tensor& x) const {
        return channelsLast_ ? x.contiguous(torch::MemoryFormat::ChannelsLast) : x;
    }
    ArchPlan plan_;
    bool channelsLast_ = false;
    bool fastDepthwise_ = true;
    bool blockedInference_ = false;
    bool winogradInference_ = false;
    bool recompute_ = true;

private:
    std::shared_ptr<TrainPath> trainPath_;  // compiled at the first training forward
};

// Validates and builds the model with torchvision's initialisation. Throws SpecError before
// allocating anything when the spec is impossible.
ScaleModel buildModel(const ModelSpec& spec);
// Builds an explicit plan (a pruned model's); the plan is trusted, not re-validated.
ScaleModel buildModelFromPlan(const ArchPlan& plan);

// Parameters and buffers under their module paths -- torchvision's key names.
std::vector<std::pair<std::string, torch::Tensor>> namedStateDict(const torch::nn::Module& model);

// Writes the state dict as a pickled dict of tensors (CPU, contiguous) that Python's
// torch.load reads directly and torchvision's load_state_dict accepts.
void saveStateDictPickle(const torch::nn::Module& model, const std::string& path);

// Reads a file written by saveStateDictPickle (or torch.save(model.state_dict()) in Python)
// into the model. Throws DataError on missing/unexpected keys or shape mismatches.
void loadStateDictPickle(torch::nn::Module& model, const std::string& path);

}  // namespace scalelab
