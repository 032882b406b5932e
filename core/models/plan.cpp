// The generic layer plan: PlanBuilder (the one stride walk), planModel and what reads a plan.

#include <algorithm>

#include "core/error.h"
#include "core/json_enums.h"
#include "core/models/arch_plan.h"
#include "core/models/family.h"

namespace scalelab {

const char* layerKindName(LayerKind kind) {
    return enumName(kind);
}

const char* actKindName(ActKind kind) {
    return enumName(kind);
}

const PlanLayer* ArchPlan::layerOfParam(const std::string& name) const {
    const PlanLayer* best = nullptr;
    for (const PlanLayer& l : layers) {
        if (l.params > 0 && name.size() > l.path.size() &&
            name.compare(0, l.path.size(), l.path) == 0 && name[l.path.size()] == '.' &&
            (!best || l.path.size() > best->path.size())) {
            best = &l;
        }
    }
    return best;
}

PlanBuilder::PlanBuilder(ArchPlan& plan, const InnerWidths& inner)
    : plan_(plan), innerOverride_(inner), side_(plan.spec.resolution) {}

PlanLayer& PlanBuilder::push(LayerKind kind, const std::string& path, int64_t in, int64_t out) {
    PlanLayer l;
    l.kind = kind;
    l.path = path;
    l.stage = stage_;
    l.in = in;
    l.out = out;
    l.inSide = side_;
    l.outSide = side_;
    l.block = inBlock_ ? int(plan_.blocks.size()) - 1 : -1;
    l.shortcut = inBranch_;
    plan_.layers.push_back(std::move(l));
    return plan_.layers.back();
}

void PlanBuilder::shrink(int kernel, int stride, const std::string& where) {
    if (stride > 1 && side_ < 2 && tooSmallAt_.empty()) {
        tooSmallAt_ = where;
    }
    const int pad = (kernel - 1) / 2;
    side_ = std::max<int64_t>(1, (side_ + 2 * pad - kernel) / stride + 1);
    reduction_ *= stride;
}

namespace {
std::string where(int stage, const std::string& path) {
    return stage == 0 ? "the stem (" + path + ")"
                      : "stage " + std::to_string(stage) + " (" + path + ")";
}
}  // namespace

void PlanBuilder::conv(const std::string& path, int64_t in, int64_t out, int kernel, int stride,
                       int groups, bool bias) {
    const int64_t inSide = side_;
    shrink(kernel, stride, where(stage_, path));
    const bool depthwise = groups > 1 && groups == in && in == out;
    PlanLayer& l = push(depthwise ? LayerKind::DepthwiseConv : LayerKind::Conv, path, in, out);
    l.inSide = inSide;
    l.kernel = kernel;
    l.stride = stride;
    l.groups = groups;
    l.bias = bias;
    l.params = out * (in / groups) * kernel * kernel + (bias ? out : 0);
    l.macs = out * (in / groups) * kernel * kernel * side_ * side_;
    plan_.activationValuesPerImage += out * side_ * side_;
}

void PlanBuilder::bn(const std::string& path, int64_t c) {
    push(LayerKind::BatchNorm, path, c, c).params = 2 * c;
    plan_.activationValuesPerImage += c * side_ * side_;
}

void PlanBuilder::convNormAct(const std::string& path, int64_t in, int64_t out, int kernel,
                              int stride, int groups, ActKind a) {
    conv(path + ".0", in, out, kernel, stride, groups);
    bn(path + ".1", out);
    if (a != ActKind::None) {
        act(path + ".2", a, out);
    }
}

void PlanBuilder::dropoutClassifier(int64_t features, int64_t classes) {
    globalPool("avgpool", features);
    dropout("classifier.0", features);
    linear("classifier.1", features, classes);
    setFeatureDim(features);
}

void PlanBuilder::act(const std::string& path, ActKind kind, int64_t c) {
    push(LayerKind::Activation, path, c, c).act = kind;
    plan_.activationValuesPerImage += c * side_ * side_;
}

void PlanBuilder::squeezeExcite(const std::string& path, int64_t c, int64_t sq, ActKind inner) {
    PlanLayer& l = push(LayerKind::SqueezeExcite, path, c, c);
    l.squeeze = sq;
    l.act = inner;
    l.kernel = 1;
    l.params = (c * sq + sq) + (sq * c + c);
    l.macs = 2 * c * sq;
    plan_.activationValuesPerImage += c * side_ * side_ + 2 * sq + 2 * c;
}

void PlanBuilder::maxPool(const std::string& path, int64_t c, int kernel, int stride) {
    const int64_t inSide = side_;
    shrink(kernel, stride, where(stage_, path));
    PlanLayer& l = push(LayerKind::MaxPool, path, c, c);
    l.inSide = inSide;
    l.kernel = kernel;
    l.stride = stride;
    plan_.activationValuesPerImage += c * side_ * side_;
}

void PlanBuilder::globalPool(const std::string& path, int64_t c) {
    const int64_t inSide = side_;
    side_ = 1;
    push(LayerKind::GlobalPool, path, c, c).inSide = inSide;
    plan_.activationValuesPerImage += c;
}

void PlanBuilder::dropout(const std::string& path, int64_t c) {
    push(LayerKind::Dropout, path, c, c);
}

void PlanBuilder::linear(const std::string& path, int64_t in, int64_t out) {
    side_ = 1;
    PlanLayer& l = push(LayerKind::Linear, path, in, out);
    l.params = in * out + out;
    l.macs = in * out;
    plan_.activationValuesPerImage += out;
}

void PlanBuilder::add(const std::string& path, int64_t c) {
    push(LayerKind::ResidualAdd, path, c, c);
    plan_.activationValuesPerImage += c * side_ * side_;
}

void PlanBuilder::beginBlock(const std::string& path, int in, int out, int stride, int kernel) {
    BlockPlan b;
    b.stage = stage_;
    b.indexInStage = 0;
    for (auto it = plan_.blocks.rbegin(); it != plan_.blocks.rend() && it->stage == stage_; ++it) {
        ++b.indexInStage;
    }
    b.path = path;
    b.in = in;
    b.out = out;
    b.stride = stride;
    b.kernel = kernel;
    plan_.blocks.push_back(std::move(b));
    inBlock_ = true;
    slot_ = 0;
}

int PlanBuilder::inner(int planned) {
    BlockPlan& b = plan_.blocks.back();
    const size_t block = plan_.blocks.size() - 1;
    int width = planned;
    if (block < innerOverride_.size() && slot_ < innerOverride_[block].size()) {
        width = innerOverride_[block][slot_];
        if (width < 1 || width > planned) {
            throw SpecError("model plan: block " + b.path + " inner width " +
                            std::to_string(slot_ + 1) + " = " + std::to_string(width) +
                            " outside 1.." + std::to_string(planned));
        }
    }
    b.plannedInner.push_back(planned);
    b.inner.push_back(width);
    ++slot_;
    return width;
}

void PlanBuilder::endBlock() {
    inBlock_ = false;
}

void PlanBuilder::markStage(int index, const std::string& name, const std::string& module,
                            int64_t channels, int repeats, int stride) {
    PlanStage s;
    s.index = index;
    s.name = name;
    s.module = module;
    s.channels = channels;
    s.side = side_;
    s.reduction = reduction_;
    s.repeats = repeats;
    s.stride = stride;
    plan_.stages.push_back(std::move(s));
}

void PlanBuilder::finish() {
    for (const PlanLayer& l : plan_.layers) {
        plan_.params += l.params;
        plan_.macs += l.macs;
    }
    const std::vector<bool> recomputed = recomputedLayers(plan_);
    for (size_t i = 0; i < plan_.layers.size(); ++i) {
        if (recomputed[i]) {
            const PlanLayer& l = plan_.layers[i];
            plan_.activationValuesPerImage -= l.out * l.outSide * l.outSide;
        }
    }
    if (!tooSmallAt_.empty()) {
        const ModelSpec& s = plan_.spec;
        throw SpecError("model " + s.name + ": resolution " + std::to_string(s.resolution) +
                        " px is too small: the feature map is already 1x1 before " + tooSmallAt_ +
                        " (this model's total stride is " + std::to_string(reduction_) +
                        ", so it needs at least " + std::to_string(reduction_) + " px)");
    }
}

namespace {

ArchPlan planChecked(const ModelSpec& spec, const InnerWidths& inner) {
    const ModelFamily& family = familyOf(spec.family);
    ArchPlan plan;
    plan.spec = spec;
    plan.layers.reserve(256);
    PlanBuilder builder(plan, inner);
    family.plan(spec, builder);
    builder.finish();
    if (!inner.empty() && inner.size() != plan.blocks.size()) {
        throw SpecError("model plan: " + std::to_string(inner.size()) +
                        " blocks of inner widths for a model of " +
                        std::to_string(plan.blocks.size()) + " blocks");
    }
    for (size_t b = 0; b < inner.size(); ++b) {
        if (inner[b].size() != plan.blocks[b].inner.size()) {
            throw SpecError("model plan: block " + plan.blocks[b].path + " has " +
                            std::to_string(plan.blocks[b].inner.size()) + " inner widths, not " +
                            std::to_string(inner[b].size()));
        }
    }
    return plan;
}

}  // namespace

void validateSpecFields(const ModelSpec& spec);  // model_spec.cpp

ArchPlan planModel(const ModelSpec& spec, const InnerWidths& inner) {
    validateSpecFields(spec);
    return planChecked(spec, inner);
}

// validateSpec's last step: the stride walk of the family's own plan.
void checkPlanOf(const ModelSpec& spec) {
    planChecked(spec, {});
}

std::vector<bool> recomputedLayers(const ArchPlan& plan) {
    const size_t n = plan.layers.size();
    std::vector<bool> inputReadAgain(plan.blocks.size(), false);
    for (const PlanLayer& l : plan.layers) {
        if (l.block >= 0 && size_t(l.block) < plan.blocks.size() &&
            (l.shortcut || l.kind == LayerKind::ResidualAdd)) {
            inputReadAgain[size_t(l.block)] = true;
        }
    }
    std::vector<bool> out(n, false);
    for (size_t i = 0; i < n; ++i) {
        const PlanLayer& bn = plan.layers[i];
        if (bn.kind != LayerKind::BatchNorm) {
            continue;
        }
        // At most one activation, then at most one squeeze-excitation, on the same branch.
        size_t j = i + 1;
        if (j < n && plan.layers[j].kind == LayerKind::Activation) {
            ++j;
        }
        if (j < n && plan.layers[j].kind == LayerKind::SqueezeExcite) {
            ++j;
        }
        if (j >= n) {
            continue;
        }
        const PlanLayer& consumer = plan.layers[j];
        const bool withSe = plan.layers[j - 1].kind == LayerKind::SqueezeExcite;
        bool sameBranch = true;
        for (size_t k = i + 1; k <= j; ++k) {
            sameBranch = sameBranch && plan.layers[k].shortcut == bn.shortcut;
        }
        const bool feeds = consumer.kind == LayerKind::Conv ||
                           consumer.kind == LayerKind::DepthwiseConv ||
                           (consumer.kind == LayerKind::GlobalPool && !withSe);
        // A block's first layer whose input the block reads again gets a tensor.
        const bool startsBlock = consumer.block != bn.block && consumer.block >= 0 &&
                                 size_t(consumer.block) < inputReadAgain.size() &&
                                 inputReadAgain[size_t(consumer.block)];
        if (sameBranch && feeds && !startsBlock) {
            for (size_t k = i; k < j; ++k) {
                out[k] = true;
            }
        }
    }
    return out;
}

bool planIsPruned(const ArchPlan& plan) {
    for (const BlockPlan& b : plan.blocks) {
        if (b.inner != b.plannedInner) {
            return true;
        }
    }
    return false;
}

}  // namespace scalelab
