#include "core/models/layers.h"

#include "core/ops/depthwise_conv.h"

namespace scalelab {

namespace nn = torch::nn;

Seq convNormAct(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t groups, Act act,
                double bnEps, double bnMomentum) {
    Seq seq;
    if (groups > 1 && groups == in && in == out) {
        seq->push_back(DepthwiseConv2d(in, kernel, stride));
    } else {
        seq->push_back(nn::Conv2d(nn::Conv2dOptions(in, out, kernel)
                                      .stride(stride)
                                      .padding((kernel - 1) / 2)
                                      .groups(groups)
                                      .bias(false)));
    }
    seq->push_back(nn::BatchNorm2d(nn::BatchNorm2dOptions(out).eps(bnEps).momentum(bnMomentum)));
    if (act == Act::ReLU) {
        seq->push_back(nn::ReLU(nn::ReLUOptions().inplace(true)));
    } else if (act == Act::ReLU6) {
        seq->push_back(nn::ReLU6(nn::ReLU6Options().inplace(true)));
    } else if (act == Act::SiLU) {
        seq->push_back(nn::SiLU());
    }
    return seq;
}

DepthwiseConv2dImpl::DepthwiseConv2dImpl(int64_t channels, int64_t kernel, int64_t stride_)
    : stride(stride_), padding((kernel - 1) / 2) {
    weight = register_parameter("weight", torch::empty({channels, 1, kernel, kernel}));
    nn::init::kaiming_normal_(weight, 0.0, torch::kFanOut, torch::kReLU);
}

torch::Tensor DepthwiseConv2dImpl::forward(torch::Tensor x) {
    if (!fast) {
        return torch::conv2d(x, weight, {}, stride, padding, 1, weight.size(0));
    }
    return depthwiseConv2d(x, weight, stride, padding);
}

SqueezeExcitationImpl::SqueezeExcitationImpl(int64_t channels, int64_t squeeze) {
    fc1 = register_module("fc1", nn::Conv2d(nn::Conv2dOptions(channels, squeeze, 1)));
    fc2 = register_module("fc2", nn::Conv2d(nn::Conv2dOptions(squeeze, channels, 1)));
}

torch::Tensor SqueezeExcitationImpl::forward(torch::Tensor x) {
    auto s = torch::adaptive_avg_pool2d(x, {1, 1});
    s = torch::silu(fc1->forward(s));
    s = torch::sigmoid(fc2->forward(s));
    return x * s;
}

torch::Tensor optionAShortcut(const torch::Tensor& x, int64_t stride, int64_t padChannels) {
    using torch::indexing::None;
    using torch::indexing::Slice;
    torch::Tensor s =
        stride > 1 ? x.index({Slice(), Slice(), Slice(0, None, stride), Slice(0, None, stride)})
                   : x;
    return padChannels > 0 ? torch::constant_pad_nd(s, {0, 0, 0, 0, 0, padChannels}, 0) : s;
}

torch::Tensor stochasticDepth(const torch::Tensor& x, double p, bool training) {
    if (!training || p <= 0.0) {
        return x;
    }
    const double survival = 1.0 - p;
    auto mask = torch::empty({x.size(0), 1, 1, 1}, x.options()).bernoulli_(survival);
    return x * mask.div_(survival);
}

void initConvBn(torch::nn::Module& model) {
    torch::NoGradGuard guard;
    for (auto& m : model.modules(/*include_self=*/false)) {
        if (auto* conv = m->as<nn::Conv2d>()) {
            nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanOut, torch::kReLU);
            if (conv->bias.defined()) {
                nn::init::zeros_(conv->bias);
            }
        } else if (auto* dw = m->as<DepthwiseConv2d>()) {
            nn::init::kaiming_normal_(dw->weight, 0.0, torch::kFanOut, torch::kReLU);
        } else if (auto* bn = m->as<nn::BatchNorm2d>()) {
            nn::init::ones_(bn->weight);
            nn::init::zeros_(bn->bias);
        }
    }
}

}  // namespace scalelab
