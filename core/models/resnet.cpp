// ResNet (He et al. 2016) with torchvision's module layout:
//   conv1 bn1 [maxpool] | layer1..N of BasicBlock/Bottleneck | avgpool | fc
// The stride sits on the 3x3 conv (torchvision's "ResNet v1.5" also for Bottleneck).

#include "core/models/layers.h"
#include "core/models/model.h"

namespace scalelab {

namespace nn = torch::nn;

namespace {

nn::Conv2d conv(int64_t in, int64_t out, int64_t k, int64_t stride) {
    return nn::Conv2d(
        nn::Conv2dOptions(in, out, k).stride(stride).padding((k - 1) / 2).bias(false));
}

class ResBlockImpl : public nn::Module {
public:
    ResBlockImpl(const ResBlockPlan& p, bool bottleneck, Shortcut shortcut)
        : plan_(p), bottleneck_(bottleneck), shortcut_(shortcut) {
        if (bottleneck) {
            conv1 = register_module("conv1", conv(p.in, p.mid, 1, 1));
            bn1 = register_module("bn1", nn::BatchNorm2d(p.mid));
            conv2 = register_module("conv2", conv(p.mid, p.mid2, 3, p.stride));
            bn2 = register_module("bn2", nn::BatchNorm2d(p.mid2));
            conv3 = register_module("conv3", conv(p.mid2, p.out, 1, 1));
            bn3 = register_module("bn3", nn::BatchNorm2d(p.out));
        } else {
            conv1 = register_module("conv1", conv(p.in, p.mid, 3, p.stride));
            bn1 = register_module("bn1", nn::BatchNorm2d(p.mid));
            conv2 = register_module("conv2", conv(p.mid, p.out, 3, 1));
            bn2 = register_module("bn2", nn::BatchNorm2d(p.out));
        }
        if (p.downsample && shortcut == Shortcut::Projection) {
            downsample = register_module(
                "downsample",
                nn::Sequential(conv(p.in, p.out, 1, p.stride), nn::BatchNorm2d(p.out)));
        }
    }

    torch::Tensor forward(torch::Tensor x) {
        auto y = bn1->forward(conv1->forward(x)).relu_();
        if (bottleneck_) {
            y = bn2->forward(conv2->forward(y)).relu_();
            y = bn3->forward(conv3->forward(y));
        } else {
            y = bn2->forward(conv2->forward(y));
        }
        return (y + identity(x)).relu_();
    }

    nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
    nn::BatchNorm2d bn1{nullptr}, bn2{nullptr}, bn3{nullptr};
    nn::Sequential downsample{nullptr};

private:
    torch::Tensor identity(const torch::Tensor& x) {
        if (!plan_.downsample) {
            return x;
        }
        if (shortcut_ == Shortcut::Projection) {
            return downsample->forward(x);
        }
        // Option A: subsample spatially, pad the new channels with zeros (no parameters).
        using torch::indexing::Slice;
        auto s = x.index({Slice(), Slice(), Slice(0, torch::indexing::None, plan_.stride),
                          Slice(0, torch::indexing::None, plan_.stride)});
        return torch::constant_pad_nd(s, {0, 0, 0, 0, 0, plan_.out - plan_.in}, 0);
    }

    ResBlockPlan plan_;
    bool bottleneck_;
    Shortcut shortcut_;
};
TORCH_MODULE(ResBlock);

class ResNetImpl : public ScaleModelImpl {
public:
    explicit ResNetImpl(ArchPlan plan) : ScaleModelImpl(std::move(plan)) {
        const ModelSpec& s = plan_.spec;
        conv1 = register_module(
            "conv1", conv(s.inChannels, plan_.stemOut, plan_.stemKernel, plan_.stemStride));
        bn1 = register_module("bn1", nn::BatchNorm2d(plan_.stemOut));
        const bool bottleneck = s.block == BlockType::Bottleneck;
        for (const StagePlan& st : plan_.stages) {
            nn::Sequential layer;
            for (const ResBlockPlan& b : st.resnet) {
                layer->push_back(ResBlock(b, bottleneck, s.shortcut));
            }
            layers.push_back(register_module(st.key, layer));
        }
        fc = register_module("fc", nn::Linear(plan_.featureDim, s.numClasses));
        initConvBn(*this);
    }

    torch::Tensor stem(torch::Tensor x) {
        x = bn1->forward(conv1->forward(x)).relu_();
        if (plan_.stemPool) {
            x = torch::max_pool2d(x, 3, 2, 1);
        }
        return x;
    }

    torch::Tensor forward(torch::Tensor x) override {
        x = prepareInput(x);
        x = stem(x);
        for (auto& layer : layers) {
            x = layer->forward(x);
        }
        return fc->forward(torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1));
    }

    FeatureOutputs forwardFeatures(torch::Tensor x) override {
        x = prepareInput(x);
        FeatureOutputs out;
        x = stem(x);
        out.stages.push_back(x);
        for (auto& layer : layers) {
            x = layer->forward(x);
            out.stages.push_back(x);
        }
        out.logits = fc->forward(torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1));
        return out;
    }

    nn::Conv2d conv1{nullptr};
    nn::BatchNorm2d bn1{nullptr};
    std::vector<nn::Sequential> layers;
    nn::Linear fc{nullptr};
};

}  // namespace

ScaleModel buildResNet(const ArchPlan& plan) {
    return std::make_shared<ResNetImpl>(plan);
}

}  // namespace scalelab
