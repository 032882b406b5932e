// The one place where architectures are data: EfficientNet's B0 stage table and B0-B7 presets,
// ResNet's depth tables, the rounding rules, validation and planning.

#include <cmath>
#include <cstdio>
#include <sstream>

#include "core/error.h"
#include "core/models/arch_plan.h"
#include "core/models/model_spec.h"

namespace scalelab {

namespace {

// EfficientNet-B0 (Tan & Le 2019, table 1; torchvision's _efficientnet_conf).
struct MBStageRow {
    int expand, kernel, stride, channels, repeats;
};
// expand, kernel, stride, channels, repeats
const MBStageRow kB0Stages[] = {
    {1, 3, 1, 16, 1},  {6, 3, 2, 24, 2},  {6, 5, 2, 40, 2},  {6, 3, 2, 80, 3},
    {6, 5, 1, 112, 3}, {6, 5, 2, 192, 4}, {6, 3, 1, 320, 1},
};
constexpr int kB0Stem = 32;     // stem channels before width scaling
constexpr int kHeadFactor = 4;  // head conv = 4 x last stage channels (1280 for B0)

// name, width, depth, resolution, dropout
const std::vector<EfficientNetPreset> kPresets = {
    {"b0", 1.0, 1.0, 224, 0.2}, {"b1", 1.0, 1.1, 240, 0.2}, {"b2", 1.1, 1.2, 260, 0.3},
    {"b3", 1.2, 1.4, 300, 0.3}, {"b4", 1.4, 1.8, 380, 0.4}, {"b5", 1.6, 2.2, 456, 0.4},
    {"b6", 1.8, 2.6, 528, 0.5}, {"b7", 2.0, 3.1, 600, 0.5},
};

// torchvision's ResNet tables: depth -> blocks per stage, block type.
struct ResNetRow {
    int depth;
    std::vector<int> blocks;
    BlockType block;
};
const std::vector<ResNetRow> kResNets = {
    {18, {2, 2, 2, 2}, BlockType::Basic},        {34, {3, 4, 6, 3}, BlockType::Basic},
    {50, {3, 4, 6, 3}, BlockType::Bottleneck},   {101, {3, 4, 23, 3}, BlockType::Bottleneck},
    {152, {3, 8, 36, 3}, BlockType::Bottleneck},
};
constexpr int kBottleneckExpansion = 4;
constexpr int kAutoImageNetStemFrom = 128;  // px: ResNet Auto stem is ImageNet-style from here

std::string fmt(double v, int digits = 2) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.*f", digits, v);
    return buf;
}

void requirePositive(double v, const std::string& what) {
    if (!std::isfinite(v)) {
        throw SpecError(what + " is " + (std::isnan(v) ? "NaN" : "infinite") +
                        "; it must be a finite positive number");
    }
    if (v <= 0) {
        throw SpecError(what + " = " + fmt(v, 3) + " must be positive");
    }
}

std::string blocksText(const std::vector<int>& blocks) {
    std::string s;
    for (size_t i = 0; i < blocks.size(); ++i) {
        s += (i ? "," : "") + std::to_string(blocks[i]);
    }
    return s;
}

}  // namespace

const std::vector<EfficientNetPreset>& efficientNetPresets() {
    return kPresets;
}

int makeDivisible(double v, int divisor) {
    const int minValue = divisor;
    int newV = std::max(minValue, int(v + divisor / 2.0) / divisor * divisor);
    if (newV < 0.9 * v) {
        newV += divisor;
    }
    return newV;
}

int roundFilters(int channels, double width) {
    return makeDivisible(channels * width, 8);
}

int roundRepeats(int repeats, double depth) {
    return int(std::ceil(repeats * depth));
}

double compoundFlopsBase(double alpha, double beta, double gamma) {
    return alpha * beta * beta * gamma * gamma;
}

ModelSpec efficientNetSpec(const EfficientNetScaling& s, int inChannels, int numClasses) {
    ModelSpec spec;
    spec.family = Family::EfficientNet;
    spec.inChannels = inChannels;
    spec.numClasses = numClasses;
    requirePositive(s.baseResolution, "base resolution");
    spec.baseResolution = s.baseResolution;
    double resCoef = 1.0;
    switch (s.mode) {
        case EfficientNetScaling::Mode::Preset: {
            if (s.preset < 0 || s.preset >= int(kPresets.size())) {
                throw SpecError("EfficientNet preset B" + std::to_string(s.preset) +
                                " does not exist (B0..B7)");
            }
            const EfficientNetPreset& p = kPresets[size_t(s.preset)];
            spec.name = std::string("efficientnet-") + p.name;
            spec.width = p.width;
            spec.depth = p.depth;
            spec.dropout = p.dropout;
            resCoef = p.resolution / 224.0;
            if (s.preset >= 5) {  // torchvision: BatchNorm2d(eps=1e-3, momentum=0.01) for B5-B7
                spec.bnEps = 1e-3;
                spec.bnMomentum = 0.01;
            }
            break;
        }
        case EfficientNetScaling::Mode::Compound: {
            if (!std::isfinite(s.phi) || s.phi < 0) {
                throw SpecError("compound coefficient phi = " + fmt(s.phi, 3) +
                                " must be a finite number >= 0");
            }
            requirePositive(s.alpha, "alpha (depth base)");
            requirePositive(s.beta, "beta (width base)");
            requirePositive(s.gamma, "gamma (resolution base)");
            spec.depth = std::pow(s.alpha, s.phi);
            spec.width = std::pow(s.beta, s.phi);
            resCoef = std::pow(s.gamma, s.phi);
            spec.name = "efficientnet phi=" + fmt(s.phi);
            break;
        }
        case EfficientNetScaling::Mode::Manual: {
            requirePositive(s.width, "width coefficient");
            requirePositive(s.depth, "depth coefficient");
            requirePositive(s.resolution, "resolution coefficient");
            spec.width = s.width;
            spec.depth = s.depth;
            resCoef = s.resolution;
            spec.name =
                "efficientnet w=" + fmt(s.width) + " d=" + fmt(s.depth) + " r=" + fmt(s.resolution);
            break;
        }
    }
    spec.resolutionCoef = resCoef;
    // Presets at their native base give the published sizes exactly (224 * 300/224 = 300).
    spec.resolution = int(std::lround(s.baseResolution * resCoef));
    validateSpec(spec);
    return spec;
}

ModelSpec resNetPreset(int depth, int inChannels, int numClasses, int resolution) {
    for (const ResNetRow& row : kResNets) {
        if (row.depth == depth) {
            ModelSpec spec =
                resNetCustom(row.blocks, row.block, 64, inChannels, numClasses, resolution);
            spec.name = "resnet-" + std::to_string(depth);
            return spec;
        }
    }
    throw SpecError("ResNet depth " + std::to_string(depth) +
                    " is not a preset (18, 34, 50, 101, 152); use resnet-cifar-N or custom blocks");
}

ModelSpec resNetCifar(int layers, int inChannels, int numClasses, int resolution) {
    if (layers < 8 || (layers - 2) % 6 != 0) {
        throw SpecError("CIFAR ResNet depth " + std::to_string(layers) +
                        " is not 6n+2 with n >= 1 (8, 14, 20, 32, 44, 56, 110, ...)");
    }
    const int n = (layers - 2) / 6;
    ModelSpec spec =
        resNetCustom({n, n, n}, BlockType::Basic, 16, inChannels, numClasses, resolution);
    spec.name = "resnet-cifar-" + std::to_string(layers);
    spec.stem = StemType::Small;
    spec.shortcut = Shortcut::ZeroPad;
    validateSpec(spec);
    return spec;
}

ModelSpec resNetCustom(const std::vector<int>& blocks, BlockType block, int baseWidth,
                       int inChannels, int numClasses, int resolution) {
    ModelSpec spec;
    spec.family = Family::ResNet;
    spec.blocks = blocks;
    spec.block = block;
    spec.baseWidth = baseWidth;
    spec.inChannels = inChannels;
    spec.numClasses = numClasses;
    spec.resolution = resolution;
    spec.baseResolution = resolution;
    spec.name = std::string("resnet ") + (block == BlockType::Basic ? "basic " : "bottleneck ") +
                blocksText(blocks);
    validateSpec(spec);
    return spec;
}

ModelSpec modelSpecFromName(const std::string& name, int inChannels, int numClasses) {
    auto startsWith = [&](const char* p) { return name.rfind(p, 0) == 0; };
    auto number = [&](size_t from) -> int {
        const std::string digits = name.substr(from);
        if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) {
            throw SpecError("model '" + name + "': expected a number after '" +
                            name.substr(0, from) + "'");
        }
        return std::stoi(digits);
    };
    if (name == "efficientnet") {
        return efficientNetSpec({}, inChannels, numClasses);
    }
    if (startsWith("efficientnet-b")) {
        EfficientNetScaling s;
        s.mode = EfficientNetScaling::Mode::Preset;
        s.preset = number(14);
        return efficientNetSpec(s, inChannels, numClasses);
    }
    if (startsWith("resnet-cifar-")) {
        return resNetCifar(number(13), inChannels, numClasses);
    }
    if (name == "resnet") {
        return resNetCustom({2, 2, 2, 2}, BlockType::Basic, 64, inChannels, numClasses);
    }
    if (startsWith("resnet-")) {
        return resNetPreset(number(7), inChannels, numClasses);
    }
    throw SpecError("unknown model '" + name +
                    "' (efficientnet, efficientnet-b0..b7, resnet-18/34/50/101/152, "
                    "resnet-cifar-N, resnet)");
}

StemType effectiveStem(const ModelSpec& spec) {
    if (spec.stem != StemType::Auto) {
        return spec.stem;
    }
    return spec.resolution >= kAutoImageNetStemFrom ? StemType::ImageNet : StemType::Small;
}

std::string describeSpec(const ModelSpec& spec) {
    if (spec.family == Family::EfficientNet) {
        return spec.name + " (w=" + fmt(spec.width) + ", d=" + fmt(spec.depth) + ", " +
               std::to_string(spec.resolution) + " px)";
    }
    return spec.name + " (" + (spec.block == BlockType::Basic ? "basic" : "bottleneck") + " " +
           blocksText(spec.blocks) + ", " + std::to_string(spec.resolution) + " px)";
}

// ---------------------------------------------------------------------------------------------

namespace {

// Plans the layers without validating the resolution (validateSpec uses it to find strides).
ArchPlan planUnchecked(const ModelSpec& spec) {
    ArchPlan plan;
    plan.spec = spec;
    if (spec.family == Family::EfficientNet) {
        plan.stemOut = roundFilters(kB0Stem, spec.width);
        plan.stemKernel = 3;
        plan.stemStride = 2;
        int total = 0;
        for (const MBStageRow& row : kB0Stages) {
            total += roundRepeats(row.repeats, spec.depth);
        }
        int in = plan.stemOut;
        int blockId = 0;
        int index = 1;
        for (const MBStageRow& row : kB0Stages) {
            StagePlan st;
            st.name = "stage " + std::to_string(index);
            st.key = "features." + std::to_string(index);
            ++index;
            st.outChannels = roundFilters(row.channels, spec.width);
            st.repeats = roundRepeats(row.repeats, spec.depth);
            st.stride = row.stride;
            st.kernel = row.kernel;
            st.expandRatio = row.expand;
            for (int r = 0; r < st.repeats; ++r) {
                MBConvPlan b;
                b.in = r == 0 ? in : st.outChannels;
                b.out = st.outChannels;
                b.expanded = makeDivisible(double(b.in) * row.expand, 8);
                b.hasExpand = b.expanded != b.in;
                b.kernel = row.kernel;
                b.stride = r == 0 ? row.stride : 1;
                b.squeeze = std::max(1, b.in / 4);
                b.residual = b.stride == 1 && b.in == b.out;
                b.dropProb = spec.stochasticDepth * double(blockId) / double(total);
                ++blockId;
                st.mbconv.push_back(b);
            }
            in = st.outChannels;
            plan.stages.push_back(st);
        }
        plan.headOut = kHeadFactor * in;
        plan.featureDim = plan.headOut;
        return plan;
    }
    // ResNet
    const StemType stem = effectiveStem(spec);
    plan.stemOut = spec.baseWidth;
    plan.stemKernel = stem == StemType::ImageNet ? 7 : 3;
    plan.stemStride = stem == StemType::ImageNet ? 2 : 1;
    plan.stemPool = stem == StemType::ImageNet;
    const int expansion = spec.block == BlockType::Bottleneck ? kBottleneckExpansion : 1;
    int in = plan.stemOut;
    for (size_t s = 0; s < spec.blocks.size(); ++s) {
        StagePlan st;
        st.name = "stage " + std::to_string(s + 1);
        st.key = "layer" + std::to_string(s + 1);
        const int width = spec.baseWidth << s;
        st.outChannels = width * expansion;
        st.repeats = spec.blocks[s];
        st.stride = s == 0 ? 1 : 2;
        st.kernel = 3;
        for (int r = 0; r < st.repeats; ++r) {
            ResBlockPlan b;
            b.in = r == 0 ? in : st.outChannels;
            b.mid = width;
            b.mid2 = width;
            b.out = st.outChannels;
            b.stride = r == 0 ? st.stride : 1;
            b.downsample = b.stride != 1 || b.in != b.out;
            st.resnet.push_back(b);
        }
        in = st.outChannels;
        plan.stages.push_back(st);
    }
    plan.featureDim = in;
    return plan;
}

}  // namespace

void validateSpec(const ModelSpec& spec) {
    const std::string who = "model " + spec.name + ": ";
    if (spec.inChannels < 1 || spec.inChannels > 64) {
        throw SpecError(who + "input channels = " + std::to_string(spec.inChannels) +
                        " must be 1..64");
    }
    if (spec.numClasses < 1 || spec.numClasses > 100000) {
        throw SpecError(who + "number of classes = " + std::to_string(spec.numClasses) +
                        " must be 1..100000");
    }
    if (spec.resolution < 1 || spec.resolution > 2048) {
        throw SpecError(who + "resolution = " + std::to_string(spec.resolution) +
                        " px must be 1..2048");
    }
    if (spec.family == Family::EfficientNet) {
        requirePositive(spec.width, who + "width coefficient");
        requirePositive(spec.depth, who + "depth coefficient");
        if (spec.width > 20 || spec.depth > 20) {
            throw SpecError(who + "width " + fmt(spec.width) + " / depth " + fmt(spec.depth) +
                            " above 20 would not fit in memory");
        }
        if (!(spec.dropout >= 0 && spec.dropout < 1)) {
            throw SpecError(who + "dropout = " + fmt(spec.dropout) + " must be in [0, 1)");
        }
        if (!(spec.stochasticDepth >= 0 && spec.stochasticDepth < 1)) {
            throw SpecError(who + "stochastic depth = " + fmt(spec.stochasticDepth) +
                            " must be in [0, 1)");
        }
    } else {
        if (spec.blocks.empty() || spec.blocks.size() > 8) {
            throw SpecError(who + "needs 1..8 stages, got " + std::to_string(spec.blocks.size()));
        }
        for (size_t s = 0; s < spec.blocks.size(); ++s) {
            if (spec.blocks[s] < 1 || spec.blocks[s] > 200) {
                throw SpecError(who + "stage " + std::to_string(s + 1) + " has " +
                                std::to_string(spec.blocks[s]) +
                                " blocks; every stage needs 1..200");
            }
        }
        if (spec.baseWidth < 1 || (int64_t(spec.baseWidth) << (spec.blocks.size() - 1)) > 8192) {
            throw SpecError(who + "base width " + std::to_string(spec.baseWidth) +
                            " must be >= 1 and keep the last stage <= 8192 channels");
        }
    }
    // Walk the strides: every stride-2 layer must see a map larger than 1x1, or the extra depth
    // only computes on padding.
    const ArchPlan plan = planUnchecked(spec);
    int side = spec.resolution;
    auto step = [&](int stride, const std::string& where) {
        if (stride > 1 && side < 2) {
            int need = 1;
            need *= plan.stemStride * (plan.stemPool ? 2 : 1);
            for (const StagePlan& st : plan.stages) {
                need *= st.stride;
            }
            throw SpecError(who + "resolution " + std::to_string(spec.resolution) +
                            " px is too small: the feature map is already 1x1 before " + where +
                            " (this model's total stride is " + std::to_string(need) +
                            ", so it needs at least " + std::to_string(need) + " px)");
        }
        side = (side - 1) / stride + 1;  // "same" padding: ceil(side / stride)
    };
    step(plan.stemStride, "the stem");
    if (plan.stemPool) {
        step(2, "the stem's max-pool");
    }
    for (const StagePlan& st : plan.stages) {
        step(st.stride, st.name);
    }
}

ArchPlan planModel(const ModelSpec& spec) {
    validateSpec(spec);
    return planUnchecked(spec);
}

bool planIsPruned(const ArchPlan& plan) {
    const ArchPlan original = planUnchecked(plan.spec);
    for (size_t s = 0; s < plan.stages.size() && s < original.stages.size(); ++s) {
        const StagePlan& a = plan.stages[s];
        const StagePlan& b = original.stages[s];
        for (size_t i = 0; i < a.mbconv.size() && i < b.mbconv.size(); ++i) {
            if (a.mbconv[i].expanded != b.mbconv[i].expanded) {
                return true;
            }
        }
        for (size_t i = 0; i < a.resnet.size() && i < b.resnet.size(); ++i) {
            if (a.resnet[i].mid != b.resnet[i].mid || a.resnet[i].mid2 != b.resnet[i].mid2) {
                return true;
            }
        }
    }
    return false;
}

}  // namespace scalelab
