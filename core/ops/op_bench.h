#pragma once
// Micro-benchmarks of the kernels that decide CPU training speed. Torch-free interface.

#include <cstdint>
#include <string>
#include <vector>

#include "core/models/arch_plan.h"

namespace scalelab {

struct OpTiming {
    std::string what;           // "depthwise 3x3/1, 1152 ch, 1x1 map, batch 128"
    double torchForwardMs = 0;  // LibTorch's grouped conv2d, NCHW input
    double torchTrainMs = 0;    // forward + backward
    double oursForwardMs = 0;   // core/ops/depthwise_conv, channels-last input
    double oursTrainMs = 0;
};

// Depthwise convolutions at the shapes EfficientNet-B0 meets at 32 px and batch `batch`;
// median of `reps` timed runs after one warm-up.
std::vector<OpTiming> benchDepthwise(int batch, int reps);

// Achieved GFLOP/s of a size x size float32 matmul through torch::mm (OpenBLAS on the CPU).
double benchMatmulGflops(int size, int reps);
// Achieved GFLOP/s of LibTorch's convolution path on a GEMM-shaped problem: a 1x1 convolution,
// 1024 -> 1024 channels, 8 images of 32x32 (oneDNN on the CPU). Where OpenBLAS does not use
// the processor's widest vectors and oneDNN does, this is the higher of the two.
double benchConvGemmGflops(int reps);

// One layer shape of a model's dense convolutions or linear layers, timed three ways.
struct LayerTiming {
    std::string type;       // "conv 3x3/1", "conv 3x3/2", "conv 1x1/1", "conv 7x7/2", "linear"
    std::string shape;      // "64->64 ch, 32x32 map"
    int count = 0;          // layers of the model with this shape
    int64_t macs = 0;       // per image, one layer
    double torchMs = 0;     // LibTorch's conv2d / linear (oneDNN), median ms at the batch
    double im2colMs = 0;    // im2col + one GEMM (core/ops/conv_kernels.h); 0: not applicable
    double winogradMs = 0;  // Winograd F(2x2, 3x3); 0: not applicable (not a stride-1 3x3)
    double onednnWinogradMs = 0;  // oneDNN's Winograd F(4x4, 3x3) on nChw16c activations (the
                                  // inference path's Winograd candidate); 0: not applicable
                                  // (training, not a stride-1 3x3, or no such kernel here)
};

// Times every distinct dense-conv and linear shape among `plan`'s layers at `batch` images,
// NCHW float32: eval forward, or forward + backward with `training`. Median of `reps` runs
// after a warm-up. Depthwise convolutions are benchDepthwise's.
std::vector<LayerTiming> benchLayers(const ArchPlan& plan, int64_t batch, bool training, int reps);

}  // namespace scalelab
