#pragma once
// The generic layer plan: a spec resolved into typed layers (conv, depthwise conv, BN,
// activation, squeeze-excitation, pooling, dropout, linear, residual add), each with its module
// path, shapes, stride, params and MACs; each stage's output size and reduction recorded once
// (timm's feature_info); and the blocks whose inner widths structured pruning may cut. Every
// family's planner emits it through PlanBuilder; the builder, the analysis, pruning, JSON and
// the feature viewer read it. Torch-free.

#include <cstdint>
#include <string>
#include <vector>

#include "core/models/model_spec.h"

namespace scalelab {

enum class LayerKind {
    Conv,           // Conv2d (groups may be > 1)
    DepthwiseConv,  // Conv2d with groups == in == out
    BatchNorm,      // BatchNorm2d
    Activation,     // ReLU, ReLU6, SiLU
    SqueezeExcite,  // global pool, 1x1 fc1 (c->squeeze), act, 1x1 fc2 (squeeze->c), sigmoid, scale
    MaxPool,        // MaxPool2d
    GlobalPool,     // AdaptiveAvgPool2d(1)
    Dropout,        // Dropout (no cost)
    Linear,         // Linear
    ResidualAdd     // y + shortcut
};
enum class ActKind { None, ReLU, ReLU6, SiLU };

const char* layerKindName(LayerKind kind);  // "conv", "dwconv", "bn", ... (plan JSON)
const char* actKindName(ActKind kind);      // "relu", "relu6", "silu"

struct PlanLayer {
    LayerKind kind = LayerKind::Conv;
    std::string path;             // module path ("features.1.0.block.0.0", "layer1.0.conv1")
    int stage = 0;                // 0 stem, 1..N stages, N+1 head, N+2 classifier
    int64_t in = 0;               // input channels (features for Linear)
    int64_t out = 0;              // output channels (features for Linear)
    int kernel = 1;               // px (conv, pool)
    int stride = 1;               // conv, pool
    int groups = 1;               // conv groups
    bool bias = false;            // conv has a bias
    int64_t squeeze = 0;          // SqueezeExcite: inner channels
    ActKind act = ActKind::None;  // Activation: which; SqueezeExcite: its inner activation
    int64_t inSide = 0;           // input map side, px (1 for Linear)
    int64_t outSide = 0;          // output map side, px
    int64_t params = 0;           // learnable parameters
    int64_t macs = 0;             // multiply-accumulates for one image (conv and linear only)
    int block = -1;               // index into ArchPlan::blocks of the block it sits in; -1 none
    bool shortcut = false;        // on its block's shortcut branch (PlanBuilder::branch)
};

// Where a stage's output sits (feature maps, pruning scopes, the per-stage cost chart).
struct PlanStage {
    int index = 0;          // 0 = stem, 1.. = stages
    std::string name;       // "stem", "stage 1", ...
    std::string module;     // path of the module whose output is the stage's output
    int64_t channels = 0;   // output channels
    int64_t side = 0;       // output side, px
    int64_t reduction = 1;  // input side / output side (product of strides)
    int repeats = 0;        // blocks (0 for the stem)
    int stride = 1;         // stride of its first block (stem: its total stride)
};

// A block (residual unit) whose inner widths are the family's to define: EfficientNet MBConv
// {expanded}, MobileNetV2 {hidden}, ResNet Basic {mid}, Bottleneck {mid, mid2}.
struct BlockPlan {
    int stage = 1;                  // 1..N
    int indexInStage = 0;           // 0.. within the stage
    std::string path;               // module path ("features.2.0", "layer1.0", "features.4")
    int in = 0;                     // input channels
    int out = 0;                    // output channels
    int stride = 1;                 // stride of the block
    int kernel = 3;                 // its spatial kernel
    std::vector<int> inner;         // inner widths as built (pruning may have cut them)
    std::vector<int> plannedInner;  // the same widths as the spec plans them (unpruned)
};

// How data flows through `layers` (what the ONNX exporter walks, core/export/onnx_graph.cpp):
// each layer takes the previous main-path layer's output, except that
// - a `shortcut` layer takes its block's input (the tensor entering the block's first layer),
//   then the previous shortcut layer's output;
// - ResidualAdd adds the main path and the shortcut: the last shortcut layer's output, or the
//   block's input when the block has none -- subsampled by the block's stride (every stride-th
//   row and column from the first) and zero-padded to the add's channels when its shape differs
//   (ResNet's parameter-free option-A shortcut);
// - SqueezeExcite multiplies its input by sigmoid(fc2(act(fc1(global average pool)))), fc1 and
//   fc2 being 1x1 convs with bias under its path;
// - Linear flattens a [N,C,1,1] input first; Dropout is the identity outside training.
struct ArchPlan {
    ModelSpec spec;
    std::vector<PlanLayer> layers;         // in forward order
    std::vector<PlanStage> stages;         // stem first, then stage 1..N
    std::vector<BlockPlan> blocks;         // every block, in forward order
    int64_t featureDim = 0;                // classifier input features
    int64_t params = 0;                    // sum over layers
    int64_t macs = 0;                      // sum over layers, per image
    int64_t activationValuesPerImage = 0;  // float values training keeps per image for the
                                           // backward pass (estimate; without the outputs
                                           // recomputedLayers marks)

    int stageCount() const { return int(stages.size()) - 1; }  // without the stem
    // The layer whose module path is the longest prefix of a parameter name; nullptr if none.
    const PlanLayer* layerOfParam(const std::string& paramName) const;
};

// Inner widths by block: a pruned model's, or empty for the planned ones.
using InnerWidths = std::vector<std::vector<int>>;

// Validates the spec (validateSpec) and plans it. `inner` replaces the planned inner widths
// (a pruned model); each must be 1..the planned width. Throws SpecError.
ArchPlan planModel(const ModelSpec& spec, const InnerWidths& inner = {});

// The layers whose outputs the training path (core/models/train_path.h) recomputes in the
// backward pass instead of keeping, by index: a BatchNorm, and the activation and
// squeeze-excitation after it, where they feed a convolution or a global pool on the same branch
// -- except a block's first convolution when the block's input is read again (by its residual
// add or its shortcut branch), which needs that input as a tensor.
std::vector<bool> recomputedLayers(const ArchPlan& plan);

// True when some block's inner width differs from what its spec plans (a pruned model).
bool planIsPruned(const ArchPlan& plan);

// What family planners emit the plan through. It tracks the map side, the reduction and the
// current stage; computes every layer's params and MACs; checks that no stride-2 layer sees a
// 1x1 map; and hands out inner widths (the planned one, or a pruned plan's).
class PlanBuilder {
public:
    PlanBuilder(ArchPlan& plan, const InnerWidths& inner);

    int64_t side() const { return side_; }
    int stage() const { return stage_; }
    void setStage(int stage) { stage_ = stage; }  // 0 stem, 1..N, N+1 head, N+2 classifier

    // A conv with padding (k-1)/2; groups == in == out makes it depthwise.
    void conv(const std::string& path, int64_t in, int64_t out, int kernel, int stride,
              int groups = 1, bool bias = false);
    void bn(const std::string& path, int64_t channels);
    // torchvision's Conv2dNormActivation: conv `path.0`, BN `path.1`, activation `path.2`.
    void convNormAct(const std::string& path, int64_t in, int64_t out, int kernel, int stride,
                     int groups, ActKind act);
    // Global average pool, `classifier.0` dropout and `classifier.1` linear to `classes`.
    void dropoutClassifier(int64_t features, int64_t classes);
    void act(const std::string& path, ActKind kind, int64_t channels);
    void squeezeExcite(const std::string& path, int64_t channels, int64_t squeeze, ActKind inner);
    void maxPool(const std::string& path, int64_t channels, int kernel, int stride);
    void globalPool(const std::string& path, int64_t channels);
    void dropout(const std::string& path, int64_t channels);
    void linear(const std::string& path, int64_t in, int64_t out);
    // A residual add of `channels` at the current side; `shortcutLayers` already emitted.
    void add(const std::string& path, int64_t channels);
    // Runs `f` on a map of `side` (a shortcut branch: its layers are marked `shortcut`) and
    // restores the main path's side.
    template <typename F>
    void branch(int64_t fromSide, F f) {
        const int64_t keepSide = side_, keepReduction = reduction_;
        side_ = fromSide;
        inBranch_ = true;
        f();
        inBranch_ = false;
        side_ = keepSide;
        reduction_ = keepReduction;
    }

    // Starts a block; inner(planned) then returns its inner widths slot by slot.
    void beginBlock(const std::string& path, int in, int out, int stride, int kernel);
    int inner(int planned);
    void endBlock();

    // Records the stage just emitted (stem: index 0) at the current side and reduction.
    void markStage(int index, const std::string& name, const std::string& module, int64_t channels,
                   int repeats, int stride);
    void setFeatureDim(int64_t features) { plan_.featureDim = features; }

    // After planning: throws SpecError when a stride-2 layer saw a 1x1 map.
    void finish();

private:
    PlanLayer& push(LayerKind kind, const std::string& path, int64_t in, int64_t out);
    void shrink(int kernel, int stride, const std::string& where);

    ArchPlan& plan_;
    const InnerWidths& innerOverride_;
    int64_t side_;
    int64_t reduction_ = 1;
    int stage_ = 0;
    bool inBlock_ = false;
    bool inBranch_ = false;
    size_t slot_ = 0;
    std::string tooSmallAt_;  // first layer that saw a 1x1 map with stride 2
};

}  // namespace scalelab
