#pragma once
// A depthwise 2-D convolution (groups == channels, one k x k filter per channel) with its own
// CPU forward and backward. LibTorch 1.13's CPU backward for this case is 10-30x slower than the
// arithmetic needs (docs/PERF-NOTES in shared/, docs/BENCHMARKS.md); this one is plain loops the
// compiler vectorizes, parallel over batch x channel. CUDA tensors use LibTorch's conv2d.

#include <torch/torch.h>

namespace scalelab {

// x: [N,C,H,W] float or double; weight: [C,1,k,k]; "same"-style symmetric padding.
// Differentiable with respect to x and weight.
torch::Tensor depthwiseConv2d(const torch::Tensor& x, const torch::Tensor& weight, int64_t stride,
                              int64_t padding);

// The raw kernels (no autograd), for tests and benchmarks.
torch::Tensor depthwiseForward(const torch::Tensor& x, const torch::Tensor& weight, int64_t stride,
                               int64_t padding);
torch::Tensor depthwiseBackwardInput(const torch::Tensor& gradOut, const torch::Tensor& weight,
                                     int64_t stride, int64_t padding, int64_t height,
                                     int64_t width);
torch::Tensor depthwiseBackwardWeight(const torch::Tensor& gradOut, const torch::Tensor& x,
                                      int64_t kernel, int64_t stride, int64_t padding);

// Process-wide switch (default on): off makes the models use LibTorch's grouped conv2d, for
// comparisons. Read once per forward.
void setFastDepthwise(bool enabled);
bool fastDepthwiseEnabled();

}  // namespace scalelab
