#pragma once
// Convolutions run by oneDNN itself (the library LibTorch's own CPU convolutions call), for the
// inference path's "oneDNN Winograd" candidate: oneDNN 2.x has a Winograd F(4x4, 3x3) float32
// kernel for stride-1 3x3 convolutions on AVX-512 processors that LibTorch never selects (it
// always asks for the direct algorithm). On this project's AVX-512 Xeon it runs ResNet's 3x3
// layers at batch 128 in 0.34-0.50x the time of the direct kernel (docs/BENCHMARKS.md).
//
// Activations are kept in oneDNN's nChw16c layout as dense float32 tensors of shape
// [N, ceil(C / 16), H, W, 16]; channels past C are zero. Built only where the project links the
// same oneDNN as LibTorch (Debian's libtorch-dev with libdnnl-dev, see CMakeLists.txt); elsewhere
// oneDnnLinked() is false and nothing here is used.

#include <torch/torch.h>

#include <memory>
#include <string>

namespace scalelab {

// Whether this build calls oneDNN directly.
bool oneDnnLinked();
// Whether oneDNN offers its Winograd float32 convolution on this processor (probed once: a small
// stride-1 3x3 convolution is created with the Winograd algorithm).
bool oneDnnWinogradAvailable();

// Empties oneDNN's cache of compiled primitives (LibTorch's convolutions fill it too): after
// timing kernel candidates, their primitives (generated code and descriptors) need not stay.
// Returns false where this build does not call oneDNN.
bool clearOneDnnPrimitiveCache();

// [N, C, H, W] (any layout) -> [N, ceil(C/16), H, W, 16], zero-padded channels.
torch::Tensor toBlocked16(const torch::Tensor& x);
// Back to a contiguous [N, channels, H, W].
torch::Tensor fromBlocked16(const torch::Tensor& x, int64_t channels);
// Max pooling and global average pooling of a blocked tensor: [N, Cb, H', W', 16] and [N, Cb*16].
torch::Tensor maxPoolBlocked16(const torch::Tensor& x, int64_t kernel, int64_t stride, int64_t pad);
torch::Tensor globalPoolBlocked16(const torch::Tensor& x);

// One convolution (groups 1, square kernel, symmetric padding) with its bias and an optional
// fused ReLU, compiled per input shape on first use (thread-safe).
class OneDnnConv {
public:
    // weight [O, I, k, k] float32 on the CPU (copied); bias [O] or undefined. `winograd`: use
    // oneDNN's Winograd algorithm where it has one for the shape, the direct one elsewhere.
    // Throws Error when this build has no oneDNN.
    OneDnnConv(const torch::Tensor& weight, const torch::Tensor& bias, int64_t stride, int64_t pad,
               bool relu, bool winograd);
    ~OneDnnConv();
    OneDnnConv(const OneDnnConv&) = delete;
    OneDnnConv& operator=(const OneDnnConv&) = delete;

    // x: blocked [N, ceil(I/16), H, W, 16], or a plain [N, I, H, W] (the network's input).
    // `residual`: when defined, a blocked tensor of the output's shape that the convolution adds
    // into (before the ReLU) and returns -- it is overwritten. Returns the blocked output.
    torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& residual = {}) const;

    // The implementation oneDNN picked for the most recent shape ("jit_wino_4x3:avx512_core",
    // "brgconv:avx512_core"), "" before the first forward.
    std::string implementation() const;
    int64_t outChannels() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace scalelab
