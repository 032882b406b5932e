// EfficientNet (Tan & Le 2019) with torchvision's module layout:
//   features.0 stem | features.1..7 stages of MBConv | features.8 head | avgpool | classifier.1

#include <cmath>

#include "core/models/layers.h"
#include "core/models/model.h"

namespace scalelab {

namespace nn = torch::nn;

namespace {

// Inverted residual block: [1x1 expand] -> kxk depthwise -> squeeze-excitation -> 1x1 project.
class MBConvImpl : public nn::Module {
public:
    MBConvImpl(const MBConvPlan& p, double eps, double momentum) : plan_(p) {
        block = Seq();
        if (p.hasExpand) {
            block->push_back(convNormAct(p.in, p.expanded, 1, 1, 1, Act::SiLU, eps, momentum));
        }
        block->push_back(convNormAct(p.expanded, p.expanded, p.kernel, p.stride, p.expanded,
                                     Act::SiLU, eps, momentum));
        block->push_back(SqueezeExcitation(p.expanded, p.squeeze));
        block->push_back(convNormAct(p.expanded, p.out, 1, 1, 1, Act::None, eps, momentum));
        register_module("block", block);
    }

    torch::Tensor forward(torch::Tensor x) {
        auto y = block->forward(x);
        if (plan_.residual) {
            y = stochasticDepth(y, plan_.dropProb, is_training());
            y = y + x;
        }
        return y;
    }

    Seq block{nullptr};

private:
    MBConvPlan plan_;
};
TORCH_MODULE(MBConv);

class EfficientNetImpl : public ScaleModelImpl {
public:
    explicit EfficientNetImpl(ArchPlan plan) : ScaleModelImpl(std::move(plan)) {
        const ModelSpec& s = plan_.spec;
        features = Seq();
        features->push_back(
            convNormAct(s.inChannels, plan_.stemOut, 3, 2, 1, Act::SiLU, s.bnEps, s.bnMomentum));
        for (const StagePlan& st : plan_.stages) {
            Seq stage;
            for (const MBConvPlan& b : st.mbconv) {
                stage->push_back(MBConv(b, s.bnEps, s.bnMomentum));
            }
            features->push_back(stage);
        }
        features->push_back(convNormAct(plan_.stages.back().outChannels, plan_.headOut, 1, 1, 1,
                                        Act::SiLU, s.bnEps, s.bnMomentum));
        register_module("features", features);
        classifier = nn::Sequential(nn::Dropout(nn::DropoutOptions(s.dropout)),
                                    nn::Linear(plan_.featureDim, s.numClasses));
        register_module("classifier", classifier);

        initConvBn(*this);
        torch::NoGradGuard guard;
        auto* linear = classifier[1]->as<nn::Linear>();
        const double range = 1.0 / std::sqrt(double(s.numClasses));
        nn::init::uniform_(linear->weight, -range, range);
        nn::init::zeros_(linear->bias);
    }

    torch::Tensor forward(torch::Tensor x) override {
        x = prepareInput(x);
        x = features->forward(x);
        x = torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1);
        return classifier->forward(x);
    }

    FeatureOutputs forwardFeatures(torch::Tensor x) override {
        x = prepareInput(x);
        FeatureOutputs out;
        const size_t last = features->size() - 1;
        for (size_t i = 0; i < features->size(); ++i) {
            x = features[i]->as<Seq>()->forward(x);
            if (i < last) {
                out.stages.push_back(x);  // stem and stages; the head is not a stage
            }
        }
        x = torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1);
        out.logits = classifier->forward(x);
        return out;
    }

    Seq features{nullptr};
    nn::Sequential classifier{nullptr};
};

}  // namespace

ScaleModel buildEfficientNet(const ArchPlan& plan) {
    return std::make_shared<EfficientNetImpl>(plan);
}

}  // namespace scalelab
