#pragma once
// Building blocks shared by the model families, with torchvision's names.

#include <torch/torch.h>

namespace scalelab {

// A Sequential that can sit inside another Sequential (LibTorch's own has a templated forward).
// Children are named "0", "1", ... like PyTorch's nn.Sequential.
class SeqImpl : public torch::nn::SequentialImpl {
public:
    using torch::nn::SequentialImpl::SequentialImpl;
    torch::Tensor forward(torch::Tensor x) { return torch::nn::SequentialImpl::forward(x); }
};
TORCH_MODULE(Seq);

// Conv2d (bias-free, "same" padding) -> BatchNorm2d -> optional activation, as a Sequential
// whose children are "0", "1", "2": torchvision's Conv2dNormActivation.
enum class Act { None, ReLU, ReLU6, SiLU };
Seq convNormAct(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t groups, Act act,
                double bnEps, double bnMomentum);

// A depthwise k x k convolution (groups == channels, no bias) that runs core/ops/depthwise_conv
// on the CPU. Its parameter is "weight" [C,1,k,k], like the nn::Conv2d it replaces, so state
// dicts keep torchvision's keys.
class DepthwiseConv2dImpl : public torch::nn::Module {
public:
    DepthwiseConv2dImpl(int64_t channels, int64_t kernel, int64_t stride);
    torch::Tensor forward(torch::Tensor x);
    torch::Tensor weight;
    int64_t stride = 1;
    int64_t padding = 0;
    bool fast = true;  // our kernel on the CPU; false: LibTorch's grouped conv2d (kernel choice)
};
TORCH_MODULE(DepthwiseConv2d);

// Squeeze-and-excitation with 1x1 convs "fc1" and "fc2" (torchvision's SqueezeExcitation).
class SqueezeExcitationImpl : public torch::nn::Module {
public:
    SqueezeExcitationImpl(int64_t channels, int64_t squeeze);
    torch::Tensor forward(torch::Tensor x);
    torch::nn::Conv2d fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(SqueezeExcitation);

// ResNet's parameter-free option-A shortcut (arch_plan.h): every `stride`-th row and column of
// the block's input from the first, then `padChannels` zero channels appended.
torch::Tensor optionAShortcut(const torch::Tensor& x, int64_t stride, int64_t padChannels);

// Stochastic depth in "row" mode: drops whole samples of a residual branch while training,
// scaling the survivors by 1 / (1 - p).
torch::Tensor stochasticDepth(const torch::Tensor& x, double p, bool training);

// torchvision's initialisation: Kaiming-normal (fan_out) convs with zero bias, BN weight 1 and
// bias 0; EfficientNet's Linear layers uniform(+-1/sqrt(out)), ResNet's keep PyTorch's default.
void initConvBn(torch::nn::Module& model);

}  // namespace scalelab
