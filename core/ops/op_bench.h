#pragma once
// Micro-benchmarks of the kernels that decide CPU training speed. Torch-free interface.

#include <string>
#include <vector>

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

// Achieved GFLOP/s of a size x size float32 matmul (the practical peak of this machine).
double benchMatmulGflops(int size, int reps);

}  // namespace scalelab
