// ResNet (He et al. 2016) with torchvision's full generality as one registered family: Basic
// and Bottleneck blocks, grouped 3x3 convolutions and width per group (ResNeXt, wide ResNets),
// ImageNet or small-input stems, projection or parameter-free shortcuts, and the CIFAR 6n+2
// networks. torchvision's module layout:
//   conv1 bn1 relu [maxpool] | layer1..N of BasicBlock/Bottleneck | avgpool | fc
// The stride sits on the 3x3 conv (torchvision's "ResNet v1.5", also for Bottleneck).

#include <cstdio>

#include "core/error.h"
#include "core/models/arch_plan.h"
#include "core/models/family.h"
#include "core/models/layers.h"
#include "core/models/model.h"

namespace scalelab {

namespace nn = torch::nn;

namespace {

constexpr int kBottleneckExpansion = 4;
constexpr int kAutoImageNetStemFrom = 128;  // px: the "auto" stem is ImageNet-style from here
constexpr int kMaxChannels = 16384;         // a stage wider than this would not fit in memory

struct Layout {
    std::vector<int> blocks;  // blocks per stage as given (before depth scaling)
    bool bottleneck = false;
    int baseWidth = 64;  // first stage's planes
    int groups = 1;
    int widthPerGroup = 64;
    bool imagenetStem = true;
    bool projection = true;
};

Layout layoutOf(const ModelSpec& s) {
    Layout l;
    l.blocks = s.list("blocks");
    l.bottleneck = s.text("block") == "bottleneck";
    l.baseWidth = s.integer("base_width");
    l.groups = s.integer("groups");
    l.widthPerGroup = s.integer("width_per_group");
    const std::string stem = s.text("stem");
    l.imagenetStem =
        stem == "imagenet" || (stem == "auto" && s.resolution >= kAutoImageNetStemFrom);
    l.projection = s.text("shortcut") == "projection";
    return l;
}

nn::Conv2d conv(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t groups = 1) {
    return nn::Conv2d(nn::Conv2dOptions(in, out, k)
                          .stride(stride)
                          .padding((k - 1) / 2)
                          .groups(groups)
                          .bias(false));
}

class ResBlockImpl : public nn::Module {
public:
    ResBlockImpl(const BlockPlan& p, const Layout& l)
        : bottleneck_(l.bottleneck),
          projection_(l.projection),
          stride_(p.stride),
          padChannels_(p.out - p.in),
          downsample_(p.stride != 1 || p.in != p.out) {
        const int mid = p.inner[0];
        if (bottleneck_) {
            const int mid2 = p.inner[1];
            conv1 = register_module("conv1", conv(p.in, mid, 1, 1));
            bn1 = register_module("bn1", nn::BatchNorm2d(mid));
            conv2 = register_module("conv2", conv(mid, mid2, 3, p.stride, l.groups));
            bn2 = register_module("bn2", nn::BatchNorm2d(mid2));
            conv3 = register_module("conv3", conv(mid2, p.out, 1, 1));
            bn3 = register_module("bn3", nn::BatchNorm2d(p.out));
        } else {
            conv1 = register_module("conv1", conv(p.in, mid, 3, p.stride));
            bn1 = register_module("bn1", nn::BatchNorm2d(mid));
            conv2 = register_module("conv2", conv(mid, p.out, 3, 1));
            bn2 = register_module("bn2", nn::BatchNorm2d(p.out));
        }
        if (downsample_ && projection_) {
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
        if (!downsample_) {
            return x;
        }
        if (projection_) {
            return downsample->forward(x);
        }
        return optionAShortcut(x, stride_, padChannels_);
    }

    bool bottleneck_, projection_;
    int64_t stride_, padChannels_;
    bool downsample_;
};
TORCH_MODULE(ResBlock);

class ResNetImpl : public ScaleModelImpl {
public:
    explicit ResNetImpl(ArchPlan plan) : ScaleModelImpl(std::move(plan)) {
        const ModelSpec& s = plan_.spec;
        const Layout l = layoutOf(s);
        const int stemOut = int(plan_.stages[0].channels);
        stemPool_ = l.imagenetStem;
        conv1 = register_module(
            "conv1", conv(s.inChannels, stemOut, l.imagenetStem ? 7 : 3, l.imagenetStem ? 2 : 1));
        bn1 = register_module("bn1", nn::BatchNorm2d(stemOut));
        for (int st = 1; st <= plan_.stageCount(); ++st) {
            nn::Sequential layer;
            for (const BlockPlan& b : plan_.blocks) {
                if (b.stage == st) {
                    layer->push_back(ResBlock(b, l));
                }
            }
            layers.push_back(register_module(plan_.stages[size_t(st)].module, layer));
        }
        fc = register_module("fc", nn::Linear(plan_.featureDim, s.numClasses));
        initConvBn(*this);
    }

    torch::Tensor stem(torch::Tensor x) {
        x = bn1->forward(conv1->forward(x)).relu_();
        if (stemPool_) {
            x = torch::max_pool2d(x, 3, 2, 1);
        }
        return x;
    }

    torch::Tensor forwardModules(torch::Tensor x) override {
        x = stem(prepareInput(x));
        for (auto& layer : layers) {
            x = layer->forward(x);
        }
        return fc->forward(torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1));
    }

    FeatureOutputs forwardFeatures(torch::Tensor x) override {
        FeatureOutputs out;
        x = stem(prepareInput(x));
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

private:
    bool stemPool_ = false;
};

// --- the family ------------------------------------------------------------------------------

PresetDecl imagenet(const std::string& name, std::vector<std::string> aliases,
                    std::vector<int> blocks, bool bottleneck, int groups = 1,
                    int widthPerGroup = 64) {
    PresetDecl p;
    p.name = name;
    p.aliases = std::move(aliases);
    p.values["blocks"] = blocks;
    p.values["block"] = std::string(bottleneck ? "bottleneck" : "basic");
    if (groups != 1) {
        p.values["groups"] = double(groups);
    }
    if (widthPerGroup != 64) {
        p.values["width_per_group"] = double(widthPerGroup);
    }
    std::string b;
    for (int n : blocks) {
        b += (b.empty() ? "" : ",") + std::to_string(n);
    }
    p.note = std::string(bottleneck ? "bottleneck " : "basic ") + b;
    if (groups != 1 || widthPerGroup != 64) {
        p.note += ", groups " + std::to_string(groups) + " x " + std::to_string(widthPerGroup);
    }
    return p;
}

PresetDecl cifar(int layers) {
    const int n = (layers - 2) / 6;
    PresetDecl p;
    p.name = "resnet-cifar-" + std::to_string(layers);
    p.aliases = {"resnet" + std::to_string(layers) + "-cifar"};
    p.values["blocks"] = std::vector<int>{n, n, n};
    p.values["block"] = std::string("basic");
    p.values["base_width"] = 16.0;
    p.values["stem"] = std::string("small");
    p.values["shortcut"] = std::string("zero-pad");
    p.baseResolution = 32;
    p.numClasses = 10;
    p.note = "CIFAR-style 6n+2, n = " + std::to_string(n) + ", widths 16/32/64, option-A shortcuts";
    return p;
}

class ResNetFamily : public ModelFamily {
public:
    ResNetFamily() {
        id = "resnet";
        label = "ResNet";
        summary = "residual networks: ResNet, ResNeXt (groups) and wide ResNets (width per group)";
        params = {
            {"blocks",
             "Blocks per stage",
             ParamKind::IntList,
             1,
             200,
             std::vector<int>{2, 2, 2, 2},
             {},
             8,
             "residual blocks per stage; planes double per stage"},
            {"block",
             "Block",
             ParamKind::Choice,
             0,
             0,
             std::string("basic"),
             {"basic", "bottleneck"},
             8,
             "basic: two 3x3 convs; bottleneck: 1x1-3x3-1x1 with 4x output channels"},
            {"base_width",
             "Base width",
             ParamKind::Int,
             4,
             512,
             64.0,
             {},
             8,
             "planes of the first stage (64 ImageNet, 16 CIFAR); the stem has as many channels"},
            {"groups",
             "Groups",
             ParamKind::Int,
             1,
             256,
             1.0,
             {},
             8,
             "groups of the 3x3 conv, ResNeXt's cardinality (bottleneck blocks only)"},
            {"width_per_group",
             "Width per group",
             ParamKind::Int,
             1,
             1024,
             64.0,
             {},
             8,
             "3x3 conv channels per group at 64 planes (torchvision's width_per_group: 4 for "
             "resnext50_32x4d, 128 for wide_resnet50_2; bottleneck only)"},
            {"stem",
             "Stem",
             ParamKind::Choice,
             0,
             0,
             std::string("auto"),
             {"auto", "imagenet", "small"},
             8,
             "imagenet: 7x7/2 conv + 3x3/2 max-pool; small: 3x3/1 conv; auto: imagenet from 128 "
             "px"},
            {"shortcut",
             "Shortcut",
             ParamKind::Choice,
             0,
             0,
             std::string("projection"),
             {"projection", "zero-pad"},
             8,
             "how a block that changes shape adds its input: 1x1 conv + BN (option B) or "
             "subsampling with zero channels (option A, no parameters)"},
        };
        presets = {
            imagenet("resnet-18", {"resnet18"}, {2, 2, 2, 2}, false),
            imagenet("resnet-34", {"resnet34"}, {3, 4, 6, 3}, false),
            imagenet("resnet-50", {"resnet50"}, {3, 4, 6, 3}, true),
            imagenet("resnet-101", {"resnet101"}, {3, 4, 23, 3}, true),
            imagenet("resnet-152", {"resnet152"}, {3, 8, 36, 3}, true),
            imagenet("resnext50_32x4d", {"resnext-50-32x4d"}, {3, 4, 6, 3}, true, 32, 4),
            imagenet("resnext101_32x8d", {"resnext-101-32x8d"}, {3, 4, 23, 3}, true, 32, 8),
            imagenet("wide_resnet50_2", {"wide-resnet-50-2"}, {3, 4, 6, 3}, true, 1, 128),
            imagenet("wide_resnet101_2", {"wide-resnet-101-2"}, {3, 4, 23, 3}, true, 1, 128),
            cifar(8),
            cifar(14),
            cifar(20),
            cifar(32),
            cifar(44),
            cifar(56),
            cifar(110),
        };
        defaultBaseResolution = 224;
        // scripts/defaults_sweep.sh, 2026-11-30: best of six candidates (docs/BENCHMARKS.md).
        trainDefaults = {"adamw", 0.003, 0.05, 0.5,
                         "resnet-cifar-20 at 32 px, 2 epochs on 3000 Fashion-MNIST images: 74.4 % "
                         "test accuracy (2000 test images)"};
        customNameHint = "resnet-cifar-N (N = 6n+2)";
    }

    void check(const ModelSpec& spec) const override {
        const Layout l = layoutOf(spec);
        if (!l.bottleneck && (l.groups != 1 || l.widthPerGroup != 64)) {
            throw SpecError("model " + spec.name + ": groups = " + std::to_string(l.groups) +
                            " and width per group = " + std::to_string(l.widthPerGroup) +
                            " need bottleneck blocks (a basic block takes only groups 1 and "
                            "width per group 64, as in torchvision)");
        }
    }

    std::optional<ModelSpec> parseName(const std::string& name) const override {
        const std::string prefix = "resnet-cifar-";
        if (name.rfind(prefix, 0) != 0) {
            return std::nullopt;
        }
        const std::string digits = name.substr(prefix.size());
        if (digits.empty() || digits.size() > 4 ||
            digits.find_first_not_of("0123456789") != std::string::npos) {
            throw SpecError("model '" + name + "': expected a number after '" + prefix + "'");
        }
        const int layers = std::stoi(digits);
        if (layers < 8 || (layers - 2) % 6 != 0) {
            throw SpecError("CIFAR ResNet depth " + std::to_string(layers) +
                            " is not 6n+2 with n >= 1 (8, 14, 20, 32, 44, 56, 110, ...)");
        }
        const PresetDecl p = cifar(layers);
        return presetSpec(&p);
    }

    void plan(const ModelSpec& spec, PlanBuilder& b) const override {
        const Layout l = layoutOf(spec);
        const int expansion = l.bottleneck ? kBottleneckExpansion : 1;
        const int stemOut = roundFilters(l.baseWidth, spec.width);
        b.setStage(0);
        b.conv("conv1", spec.inChannels, stemOut, l.imagenetStem ? 7 : 3, l.imagenetStem ? 2 : 1);
        b.bn("bn1", stemOut);
        b.act("relu", ActKind::ReLU, stemOut);
        if (l.imagenetStem) {
            b.maxPool("maxpool", stemOut, 3, 2);
        }
        b.markStage(0, "stem", "conv1", stemOut, 0, l.imagenetStem ? 4 : 1);
        int in = stemOut;
        for (size_t s = 0; s < l.blocks.size(); ++s) {
            const int stage = int(s) + 1;
            const std::string key = "layer" + std::to_string(stage);
            const int planes = roundFilters(l.baseWidth << s, spec.width);
            const int width =
                l.bottleneck ? int(planes * (l.widthPerGroup / 64.0)) * l.groups : planes;
            const int out = planes * expansion;
            if (width < 1) {
                throw SpecError("model " + spec.name + ": stage " + std::to_string(stage) +
                                " rounds to 0 channels (" + std::to_string(planes) +
                                " planes x width per group " + std::to_string(l.widthPerGroup) +
                                " / 64); raise the width per group or the width");
            }
            if (out > kMaxChannels || width > kMaxChannels) {
                throw SpecError("model " + spec.name + ": stage " + std::to_string(stage) +
                                " would have " + std::to_string(std::max(out, width)) +
                                " channels (at most " + std::to_string(kMaxChannels) +
                                "); lower the base width, width per group or width");
            }
            const int repeats = roundRepeats(l.blocks[s], spec.depth);
            const int firstStride = s == 0 ? 1 : 2;
            b.setStage(stage);
            for (int r = 0; r < repeats; ++r) {
                const int blockIn = r == 0 ? in : out;
                const int stride = r == 0 ? firstStride : 1;
                const std::string path = key + "." + std::to_string(r);
                const std::string p = path + ".";
                const int64_t inSide = b.side();
                b.beginBlock(path, blockIn, out, stride, 3);
                if (l.bottleneck) {
                    const int mid = b.inner(width);
                    const int mid2 = b.inner(width);
                    if (mid % l.groups != 0 || mid2 % l.groups != 0) {
                        throw SpecError(
                            "model plan: block " + path + ": inner widths " + std::to_string(mid) +
                            "/" + std::to_string(mid2) +
                            " are not divisible by groups = " + std::to_string(l.groups));
                    }
                    b.conv(p + "conv1", blockIn, mid, 1, 1);
                    b.bn(p + "bn1", mid);
                    b.act(p + "relu", ActKind::ReLU, mid);
                    b.conv(p + "conv2", mid, mid2, 3, stride, l.groups);
                    b.bn(p + "bn2", mid2);
                    b.act(p + "relu", ActKind::ReLU, mid2);
                    b.conv(p + "conv3", mid2, out, 1, 1);
                    b.bn(p + "bn3", out);
                } else {
                    const int mid = b.inner(planes);
                    b.conv(p + "conv1", blockIn, mid, 3, stride);
                    b.bn(p + "bn1", mid);
                    b.act(p + "relu", ActKind::ReLU, mid);
                    b.conv(p + "conv2", mid, out, 3, 1);
                    b.bn(p + "bn2", out);
                }
                if ((stride != 1 || blockIn != out) && l.projection) {
                    b.branch(inSide, [&] {
                        b.conv(p + "downsample.0", blockIn, out, 1, stride);
                        b.bn(p + "downsample.1", out);
                    });
                }
                b.add(path, out);
                b.act(p + "relu", ActKind::ReLU, out);
                b.endBlock();
            }
            b.markStage(stage, "stage " + std::to_string(stage), key, out, repeats, firstStride);
            in = out;
        }
        b.setStage(int(l.blocks.size()) + 2);
        b.globalPool("avgpool", in);
        b.linear("fc", in, spec.numClasses);
        b.setFeatureDim(in);
    }

    ScaleModel build(const ArchPlan& plan) const override {
        return std::make_shared<ResNetImpl>(plan);
    }

    // conv1's outputs feed conv2 only, and a Bottleneck's conv2 outputs feed conv3 only; the
    // residual widths stay. Grouped 3x3 convs (ResNeXt) keep their inputs and lose the same
    // number of outputs in every group.
    std::vector<PruneGroup> pruneGroups(const ArchPlan& plan) const override {
        const Layout l = layoutOf(plan.spec);
        std::vector<PruneGroup> out;
        for (size_t i = 0; i < plan.blocks.size(); ++i) {
            const std::string p = plan.blocks[i].path + ".";
            if (l.groups == 1) {
                PruneGroup g;
                g.block = int(i);
                g.slot = 0;
                g.producer = p + "conv1.weight";
                g.members = {{p + "conv1.weight", 0}, {p + "conv2.weight", 1}};
                addBatchNormMembers(g, p + "bn1");
                out.push_back(std::move(g));
            }
            if (l.bottleneck) {
                PruneGroup g;
                g.block = int(i);
                g.slot = 1;
                g.producer = p + "conv2.weight";
                g.members = {{p + "conv2.weight", 0}, {p + "conv3.weight", 1}};
                g.groups = l.groups;
                addBatchNormMembers(g, p + "bn2");
                out.push_back(std::move(g));
            }
        }
        return out;
    }
};

}  // namespace

const ModelFamily& resNetFamily() {
    static const ResNetFamily family;
    return family;
}

}  // namespace scalelab
