// EfficientNet (Tan & Le 2019) as one registered family: B0's stage table, the B0-B7 presets,
// the planner, the LibTorch builder with torchvision's module layout and the pruning rules.
//   features.0 stem | features.1..7 stages of MBConv | features.8 head | avgpool | classifier.1

#include <cmath>
#include <cstdio>

#include "core/models/arch_plan.h"
#include "core/models/family.h"
#include "core/models/layers.h"
#include "core/models/model.h"

namespace scalelab {

namespace nn = torch::nn;

namespace {

// EfficientNet-B0 (the paper's table 1; torchvision's _efficientnet_conf).
struct MBStageRow {
    int expand, kernel, stride, channels, repeats;
};
// expand, kernel, stride, channels, repeats
const MBStageRow kB0Stages[] = {
    {1, 3, 1, 16, 1},  {6, 3, 2, 24, 2},  {6, 5, 2, 40, 2},  {6, 3, 2, 80, 3},
    {6, 5, 1, 112, 3}, {6, 5, 2, 192, 4}, {6, 3, 1, 320, 1},
};
constexpr int kStem = 32;       // stem channels before width scaling
constexpr int kHeadFactor = 4;  // head conv = 4 x last stage channels (1280 for B0)

PresetDecl preset(int b, double width, double depth, int resolution, double dropout) {
    PresetDecl p;
    p.name = "efficientnet-b" + std::to_string(b);
    p.aliases = {"efficientnet_b" + std::to_string(b), "b" + std::to_string(b)};
    p.width = width;
    p.depth = depth;
    p.resolutionCoef = resolution / 224.0;
    p.values["dropout"] = dropout;
    if (b >= 5) {  // torchvision: BatchNorm2d(eps=1e-3, momentum=0.01) for B5-B7
        p.values["bn_eps"] = 1e-3;
        p.values["bn_momentum"] = 0.01;
    }
    char note[96];
    std::snprintf(note, sizeof note, "w %.1f, d %.1f, %d px at base 224, dropout %.1f", width,
                  depth, resolution, dropout);
    p.note = note;
    return p;
}

// --- LibTorch modules --------------------------------------------------------------------------

// Inverted residual block: [1x1 expand] -> kxk depthwise -> squeeze-excitation -> 1x1 project.
class MBConvImpl : public nn::Module {
public:
    MBConvImpl(const BlockPlan& p, double dropProb, double eps, double momentum)
        : residual_(p.stride == 1 && p.in == p.out), dropProb_(dropProb) {
        const bool hasExpand = !p.inner.empty();
        const int expanded = hasExpand ? p.inner[0] : p.in;
        block = Seq();
        if (hasExpand) {
            block->push_back(convNormAct(p.in, expanded, 1, 1, 1, Act::SiLU, eps, momentum));
        }
        block->push_back(convNormAct(expanded, expanded, p.kernel, p.stride, expanded, Act::SiLU,
                                     eps, momentum));
        block->push_back(SqueezeExcitation(expanded, std::max(1, p.in / 4)));
        block->push_back(convNormAct(expanded, p.out, 1, 1, 1, Act::None, eps, momentum));
        register_module("block", block);
    }

    torch::Tensor forward(torch::Tensor x) {
        auto y = block->forward(x);
        if (residual_) {
            y = stochasticDepth(y, dropProb_, is_training());
            y = y + x;
        }
        return y;
    }

    Seq block{nullptr};

private:
    bool residual_;
    double dropProb_;
};
TORCH_MODULE(MBConv);

class EfficientNetImpl : public ScaleModelImpl {
public:
    explicit EfficientNetImpl(ArchPlan plan) : ScaleModelImpl(std::move(plan)) {
        const ModelSpec& s = plan_.spec;
        const double eps = s.number("bn_eps"), momentum = s.number("bn_momentum");
        features = Seq();
        features->push_back(
            convNormAct(s.inChannels, plan_.stages[0].channels, 3, 2, 1, Act::SiLU, eps, momentum));
        const double total = double(plan_.blocks.size());
        const double sd = s.number("stochastic_depth");
        for (int st = 1; st <= plan_.stageCount(); ++st) {
            Seq stage;
            for (size_t i = 0; i < plan_.blocks.size(); ++i) {
                if (plan_.blocks[i].stage == st) {
                    dropPath_.resize(std::max(dropPath_.size(), i + 1), 0.0);
                    dropPath_[i] = sd * double(i) / total;  // torchvision's linear rule
                    stage->push_back(MBConv(plan_.blocks[i], dropPath_[i], eps, momentum));
                }
            }
            features->push_back(stage);
        }
        features->push_back(convNormAct(plan_.stages.back().channels, plan_.featureDim, 1, 1, 1,
                                        Act::SiLU, eps, momentum));
        register_module("features", features);
        classifier = nn::Sequential(nn::Dropout(nn::DropoutOptions(s.number("dropout"))),
                                    nn::Linear(plan_.featureDim, s.numClasses));
        register_module("classifier", classifier);

        initConvBn(*this);
        torch::NoGradGuard guard;
        auto* linear = classifier[1]->as<nn::Linear>();
        // torchvision's U(+-1/sqrt(classes)), but never wider than for its 1000 ImageNet classes:
        // with 10 classes that rule starts the logits at a spread of ~3 (initial loss ~7.6, ln 10
        // = 2.3 is chance) and short runs never recover (issue 11; docs/BENCHMARKS.md).
        const double range = 1.0 / std::sqrt(double(std::max<int64_t>(s.numClasses, 1000)));
        nn::init::uniform_(linear->weight, -range, range);
        nn::init::zeros_(linear->bias);
    }

    torch::Tensor forwardModules(torch::Tensor x) override {
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

    double dropPathProb(int block) const override {
        return block >= 0 && size_t(block) < dropPath_.size() ? dropPath_[size_t(block)] : 0.0;
    }

    Seq features{nullptr};
    nn::Sequential classifier{nullptr};

private:
    std::vector<double> dropPath_;  // stochastic-depth probability by block index
};

// --- the family ------------------------------------------------------------------------------

class EfficientNetFamily : public ModelFamily {
public:
    EfficientNetFamily() {
        id = "efficientnet";
        label = "EfficientNet";
        summary =
            "MBConv blocks with squeeze-excitation (Tan & Le 2019); B0-B7 by compound scaling";
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
            {"stochastic_depth",
             "Stochastic depth",
             ParamKind::Real,
             0.0,
             0.99,
             0.2,
             {},
             8,
             "drop probability of the last block's residual branch, scaled linearly by index"},
            {"bn_eps",
             "BN epsilon",
             ParamKind::Real,
             1e-8,
             0.1,
             1e-5,
             {},
             8,
             "BatchNorm epsilon (torchvision: 1e-3 for B5-B7)"},
            {"bn_momentum",
             "BN momentum",
             ParamKind::Real,
             0.0,
             1.0,
             0.1,
             {},
             8,
             "BatchNorm running-statistics momentum (torchvision: 0.01 for B5-B7)"},
        };
        // b, width, depth, resolution, dropout
        presets = {preset(0, 1.0, 1.0, 224, 0.2), preset(1, 1.0, 1.1, 240, 0.2),
                   preset(2, 1.1, 1.2, 260, 0.3), preset(3, 1.2, 1.4, 300, 0.3),
                   preset(4, 1.4, 1.8, 380, 0.4), preset(5, 1.6, 2.2, 456, 0.4),
                   preset(6, 1.8, 2.6, 528, 0.5), preset(7, 2.0, 3.1, 600, 0.5)};
        defaultBaseResolution = 224;
        // scripts/defaults_sweep.sh, 2026-11-30: best of six candidates (docs/BENCHMARKS.md).
        trainDefaults = {"adamw", 0.003, 0.05, 0.5,
                         "B0 at 32 px, 2 epochs on 3000 Fashion-MNIST images: 68.6 % test "
                         "accuracy in the sweep (2000 test images), 64.7 % on all 10,000"};
    }

    void plan(const ModelSpec& spec, PlanBuilder& b) const override {
        const double w = spec.width, d = spec.depth;
        const int stemOut = roundFilters(kStem, w);
        b.setStage(0);
        b.convNormAct("features.0", spec.inChannels, stemOut, 3, 2, 1, ActKind::SiLU);
        b.markStage(0, "stem", "features.0", stemOut, 0, 2);
        int in = stemOut;
        int index = 1;
        for (const MBStageRow& row : kB0Stages) {
            const std::string key = "features." + std::to_string(index);
            const int out = roundFilters(row.channels, w);
            const int repeats = roundRepeats(row.repeats, d);
            b.setStage(index);
            for (int r = 0; r < repeats; ++r) {
                const int blockIn = r == 0 ? in : out;
                const int stride = r == 0 ? row.stride : 1;
                const std::string path = key + "." + std::to_string(r);
                const std::string p = path + ".block.";
                b.beginBlock(path, blockIn, out, stride, row.kernel);
                const int planned = makeDivisible(double(blockIn) * row.expand, 8);
                const bool hasExpand = planned != blockIn;
                const int expanded = hasExpand ? b.inner(planned) : blockIn;
                int i = 0;
                if (hasExpand) {
                    b.convNormAct(p + "0", blockIn, expanded, 1, 1, 1, ActKind::SiLU);
                    i = 1;
                }
                b.convNormAct(p + std::to_string(i), expanded, expanded, row.kernel, stride,
                              expanded, ActKind::SiLU);
                b.squeezeExcite(p + std::to_string(i + 1), expanded, std::max(1, blockIn / 4),
                                ActKind::SiLU);
                b.convNormAct(p + std::to_string(i + 2), expanded, out, 1, 1, 1, ActKind::None);
                if (stride == 1 && blockIn == out) {
                    b.add(path, out);
                }
                b.endBlock();
            }
            b.markStage(index, "stage " + std::to_string(index), key, out, repeats, row.stride);
            in = out;
            ++index;
        }
        const std::string head = "features." + std::to_string(index);
        const int headOut = kHeadFactor * in;
        b.setStage(index);
        b.convNormAct(head, in, headOut, 1, 1, 1, ActKind::SiLU);
        b.setStage(index + 1);
        b.dropoutClassifier(headOut, spec.numClasses);
    }

    ScaleModel build(const ArchPlan& plan) const override {
        return std::make_shared<EfficientNetImpl>(plan);
    }

    // The expansion channels: expansion conv, depthwise conv, SE input/output and projection
    // input are cut together. Blocks of expansion ratio 1 have none.
    std::vector<PruneGroup> pruneGroups(const ArchPlan& plan) const override {
        std::vector<PruneGroup> out;
        for (size_t i = 0; i < plan.blocks.size(); ++i) {
            const BlockPlan& blk = plan.blocks[i];
            if (blk.inner.empty()) {
                continue;
            }
            const std::string p = blk.path + ".block.";
            PruneGroup g;
            g.block = int(i);
            g.producer = p + "0.0.weight";
            g.members = {{p + "0.0.weight", 0},   {p + "1.0.weight", 0}, {p + "2.fc1.weight", 1},
                         {p + "2.fc2.weight", 0}, {p + "2.fc2.bias", 0}, {p + "3.0.weight", 1}};
            addBatchNormMembers(g, p + "0.1");
            addBatchNormMembers(g, p + "1.1");
            out.push_back(std::move(g));
        }
        return out;
    }
};

}  // namespace

const ModelFamily& efficientNetFamily() {
    static const EfficientNetFamily family;
    return family;
}

}  // namespace scalelab
