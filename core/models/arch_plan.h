#pragma once
// A model spec resolved into concrete layers: every block's channels, kernel and stride. The
// LibTorch builder and the analysis both walk this plan, so they cannot disagree. Torch-free.

#include <string>
#include <vector>

#include "core/models/model_spec.h"

namespace scalelab {

struct MBConvPlan {
    int in = 0;              // input channels
    int expanded = 0;        // channels after the 1x1 expansion (== in when expand ratio is 1)
    bool hasExpand = false;  // the block has the 1x1 expansion conv (planned expanded != in; kept
                             // when pruning makes the two equal)
    int out = 0;             // output channels
    int kernel = 3;          // depthwise kernel size
    int stride = 1;          // depthwise stride
    int squeeze = 0;         // squeeze-excitation channels: max(1, in / 4)
    bool residual = false;   // identity skip: stride 1 and in == out
    double dropProb = 0.0;   // stochastic depth probability of this block
};

struct ResBlockPlan {
    int in = 0;      // input channels
    int mid = 0;     // channels out of conv1 (Basic: == out; Bottleneck: out / 4); pruning cuts it
    int mid2 = 0;    // Bottleneck: channels out of conv2 (== mid unless pruned); unused by Basic
    int out = 0;     // output channels
    int stride = 1;  // stride of the 3x3 conv (torchvision: on the 3x3, also in Bottleneck)
    bool downsample = false;  // the shortcut changes shape (stride != 1 or in != out)
};

struct StagePlan {
    std::string name;  // "stage 1"
    std::string key;   // module path of the stage: "features.1" or "layer1"
    int outChannels = 0;
    int repeats = 0;                   // blocks in the stage
    int stride = 1;                    // stride of its first block
    int kernel = 3;                    // EfficientNet: depthwise kernel
    int expandRatio = 1;               // EfficientNet: expansion ratio
    std::vector<MBConvPlan> mbconv;    // EfficientNet blocks
    std::vector<ResBlockPlan> resnet;  // ResNet blocks
};

struct ArchPlan {
    ModelSpec spec;
    int stemOut = 0;     // channels out of the stem conv
    int stemKernel = 3;  // px
    int stemStride = 1;
    bool stemPool = false;  // ResNet ImageNet stem: 3x3/2 max-pool after the conv
    std::vector<StagePlan> stages;
    int headOut = 0;     // EfficientNet: 1x1 head conv channels (4 x last stage); 0 for ResNet
    int featureDim = 0;  // classifier input features
};

// Validates the spec (validateSpec) and resolves it. Throws SpecError.
ArchPlan planModel(const ModelSpec& spec);

// True when some block's inner width differs from what its spec plans (a pruned model).
bool planIsPruned(const ArchPlan& plan);

// Output side of a conv/pool with "same"-style padding: floor((in + 2*pad - k) / s) + 1.
inline int convOut(int in, int kernel, int stride, int pad) {
    return (in + 2 * pad - kernel) / stride + 1;
}

}  // namespace scalelab
