// MobileNetV2 (Sandler et al. 2018) exactly as torchvision defines it, as one registered family:
// inverted residual blocks with ReLU6, the width multiplier rounded by _make_divisible(., 8), a
// last conv of 1280 * max(1, w) channels. torchvision's module layout:
//   features.0 stem | features.1..17 InvertedResidual (flat) | features.18 head | classifier.1

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/models/arch_plan.h"
#include "core/models/family.h"
#include "core/models/layers.h"
#include "core/models/model.h"

namespace scalelab {

namespace nn = torch::nn;

namespace {

struct IRStageRow {
    int expand, channels, repeats, stride;
};
// t, c, n, s (the paper's table 2)
const IRStageRow kStages[] = {
    {1, 16, 1, 1}, {6, 24, 2, 2},  {6, 32, 3, 2},  {6, 64, 4, 2},
    {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1},
};
constexpr int kStem = 32;
constexpr int kLastChannel = 1280;

// Inverted residual: [1x1 expand, ReLU6] -> 3x3 depthwise, ReLU6 -> 1x1 linear projection.
class InvertedResidualImpl : public nn::Module {
public:
    explicit InvertedResidualImpl(const BlockPlan& p) : residual_(p.stride == 1 && p.in == p.out) {
        const bool hasExpand = !p.inner.empty();
        const int hidden = hasExpand ? p.inner[0] : p.in;
        conv = Seq();
        if (hasExpand) {
            conv->push_back(convNormAct(p.in, hidden, 1, 1, 1, Act::ReLU6, 1e-5, 0.1));
        }
        conv->push_back(
            convNormAct(hidden, hidden, p.kernel, p.stride, hidden, Act::ReLU6, 1e-5, 0.1));
        conv->push_back(nn::Conv2d(nn::Conv2dOptions(hidden, p.out, 1).bias(false)));
        conv->push_back(nn::BatchNorm2d(p.out));
        register_module("conv", conv);
    }

    torch::Tensor forward(torch::Tensor x) {
        auto y = conv->forward(x);
        return residual_ ? x + y : y;
    }

    Seq conv{nullptr};

private:
    bool residual_;
};
TORCH_MODULE(InvertedResidual);

class MobileNetV2Impl : public ScaleModelImpl {
public:
    explicit MobileNetV2Impl(ArchPlan plan) : ScaleModelImpl(std::move(plan)) {
        const ModelSpec& s = plan_.spec;
        features = Seq();
        features->push_back(
            convNormAct(s.inChannels, plan_.stages[0].channels, 3, 2, 1, Act::ReLU6, 1e-5, 0.1));
        for (const BlockPlan& b : plan_.blocks) {
            features->push_back(InvertedResidual(b));
        }
        features->push_back(convNormAct(plan_.stages.back().channels, plan_.featureDim, 1, 1, 1,
                                        Act::ReLU6, 1e-5, 0.1));
        register_module("features", features);
        classifier = nn::Sequential(nn::Dropout(nn::DropoutOptions(s.number("dropout"))),
                                    nn::Linear(plan_.featureDim, s.numClasses));
        register_module("classifier", classifier);
        // features index (1-based blocks) after which each stage ends
        size_t index = 0;
        for (int st = 1; st <= plan_.stageCount(); ++st) {
            index += size_t(plan_.stages[size_t(st)].repeats);
            stageEnds_.push_back(index);
        }
        initConvBn(*this);
        torch::NoGradGuard guard;
        auto* linear = classifier[1]->as<nn::Linear>();
        nn::init::normal_(linear->weight, 0.0, 0.01);
        nn::init::zeros_(linear->bias);
    }

    torch::Tensor forwardModules(torch::Tensor x) override {
        x = features->forward(prepareInput(x));
        x = torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1);
        return classifier->forward(x);
    }

    FeatureOutputs forwardFeatures(torch::Tensor x) override {
        FeatureOutputs out;
        x = forwardAt(0, prepareInput(x));
        out.stages.push_back(x);  // the stem
        size_t next = 0;
        for (size_t i = 1; i < features->size(); ++i) {
            x = forwardAt(i, x);
            if (next < stageEnds_.size() && i == stageEnds_[next]) {
                out.stages.push_back(x);
                ++next;
            }
        }
        x = torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1);
        out.logits = classifier->forward(x);
        return out;
    }

    Seq features{nullptr};
    nn::Sequential classifier{nullptr};

private:
    torch::Tensor forwardAt(size_t i, const torch::Tensor& x) {
        if (auto* seq = features[i]->as<Seq>()) {
            return seq->forward(x);
        }
        return features[i]->as<InvertedResidual>()->forward(x);
    }
    std::vector<size_t> stageEnds_;
};

class MobileNetV2Family : public ModelFamily {
public:
    MobileNetV2Family() {
        id = "mobilenet-v2";
        label = "MobileNetV2";
        summary = "inverted residuals with linear bottlenecks and ReLU6 (Sandler et al. 2018)";
        params = {
            {"dropout",
             "Dropout",
             ParamKind::Real,
             0.0,
             0.99,
             0.2,
             {},
             8,
             "classifier dropout probability"},
        };
        for (double w : {1.0, 0.35, 0.5, 0.75, 1.4}) {
            PresetDecl p;
            char name[48];
            std::snprintf(name, sizeof name, "mobilenet-v2-%.2g", w);
            p.name = w == 1.0 ? "mobilenet-v2" : name;
            if (w == 1.0) {
                p.aliases = {"mobilenet_v2", "mobilenetv2"};
            }
            p.width = w;
            char note[64];
            std::snprintf(note, sizeof note, "width multiplier %.2g (torchvision width_mult)", w);
            p.note = note;
            presets.push_back(p);
        }
        defaultBaseResolution = 224;
        // scripts/defaults_sweep.sh, 2026-11-30: best of six candidates (docs/BENCHMARKS.md).
        trainDefaults = {"sgd", 0.05, 5e-4, 0.5,
                         "w 1.0 at 32 px, 2 epochs on 3000 Fashion-MNIST images: 76.1 % test "
                         "accuracy (2000 test images)"};
    }

    void plan(const ModelSpec& spec, PlanBuilder& b) const override {
        const double w = spec.width;
        const int stemOut = roundFilters(kStem, w);
        const int last = makeDivisible(kLastChannel * std::max(1.0, w), 8);
        b.setStage(0);
        b.convNormAct("features.0", spec.inChannels, stemOut, 3, 2, 1, ActKind::ReLU6);
        b.markStage(0, "stem", "features.0", stemOut, 0, 2);
        int in = stemOut;
        int index = 1;  // features.<index>
        int stage = 1;
        for (const IRStageRow& row : kStages) {
            const int out = roundFilters(row.channels, w);
            const int repeats = roundRepeats(row.repeats, spec.depth);
            b.setStage(stage);
            for (int r = 0; r < repeats; ++r, ++index) {
                const int stride = r == 0 ? row.stride : 1;
                const std::string path = "features." + std::to_string(index);
                const std::string p = path + ".conv.";
                b.beginBlock(path, in, out, stride, 3);
                int hidden = in;
                int j = 0;
                if (row.expand != 1) {
                    hidden = b.inner(int(std::lround(in * double(row.expand))));
                    b.convNormAct(p + "0", in, hidden, 1, 1, 1, ActKind::ReLU6);
                    j = 1;
                }
                b.convNormAct(p + std::to_string(j), hidden, hidden, 3, stride, hidden,
                              ActKind::ReLU6);
                b.conv(p + std::to_string(j + 1), hidden, out, 1, 1);
                b.bn(p + std::to_string(j + 2), out);
                if (stride == 1 && in == out) {
                    b.add(path, out);
                }
                b.endBlock();
                in = out;
            }
            b.markStage(stage, "stage " + std::to_string(stage),
                        "features." + std::to_string(index - 1), out, repeats, row.stride);
            ++stage;
        }
        const std::string head = "features." + std::to_string(index);
        b.setStage(stage);
        b.convNormAct(head, in, last, 1, 1, 1, ActKind::ReLU6);
        b.setStage(stage + 1);
        b.dropoutClassifier(last, spec.numClasses);
    }

    ScaleModel build(const ArchPlan& plan) const override {
        return std::make_shared<MobileNetV2Impl>(plan);
    }

    // The hidden (expanded) channels: expansion conv, depthwise conv and projection input.
    std::vector<PruneGroup> pruneGroups(const ArchPlan& plan) const override {
        std::vector<PruneGroup> out;
        for (size_t i = 0; i < plan.blocks.size(); ++i) {
            const BlockPlan& blk = plan.blocks[i];
            if (blk.inner.empty()) {
                continue;
            }
            const std::string p = blk.path + ".conv.";
            PruneGroup g;
            g.block = int(i);
            g.producer = p + "0.0.weight";
            g.members = {{p + "0.0.weight", 0}, {p + "1.0.weight", 0}, {p + "2.weight", 1}};
            addBatchNormMembers(g, p + "0.1");
            addBatchNormMembers(g, p + "1.1");
            out.push_back(std::move(g));
        }
        return out;
    }
};

}  // namespace

const ModelFamily& mobileNetV2Family() {
    static const MobileNetV2Family family;
    return family;
}

}  // namespace scalelab
