#pragma once
// Alternative dense convolution kernels, measured against LibTorch's own path (oneDNN on the
// CPU) per layer shape by `scalelab-cli bench --layers`: im2col + one GEMM (OpenBLAS through
// torch::matmul) and Winograd F(2x2, 3x3) for stride-1 3x3 layers. Both are written in tensor
// operations, so autograd differentiates them (training as well as inference).

#include <torch/torch.h>

namespace scalelab {

// x [N,C,H,W], weight [O,C,k,k] (groups 1), bias [O] or undefined; symmetric padding. Equal to
// torch::conv2d within float rounding.
torch::Tensor convIm2colGemm(const torch::Tensor& x, const torch::Tensor& weight,
                             const torch::Tensor& bias, int64_t stride, int64_t padding);
// Stride 1, padding 1, 3x3, groups 1: F(2x2, 3x3), 16 batched GEMMs over 4x4 input tiles.
torch::Tensor convWinograd3x3(const torch::Tensor& x, const torch::Tensor& weight,
                              const torch::Tensor& bias);

}  // namespace scalelab
