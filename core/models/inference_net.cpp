#include "core/models/inference_net.h"

#include <algorithm>
#include <optional>

#include "core/error.h"
#include "core/models/arch_plan.h"
#include "core/models/layers.h"
#include "core/ops/depthwise_conv.h"
#include "core/ops/onednn_conv.h"

namespace scalelab {

namespace {

std::map<std::string, double> batchNormEps(const ScaleModelImpl& model) {
    std::map<std::string, double> eps;
    for (const auto& item : model.named_modules()) {
        if (const auto* bn = item.value()->as<torch::nn::BatchNorm2d>()) {
            eps[item.key()] = bn->options.eps();
        }
    }
    return eps;
}

const torch::Tensor& tensorAt(const std::map<std::string, torch::Tensor>& tensors,
                              const std::string& key, const std::string& layer) {
    const auto it = tensors.find(key);
    if (it == tensors.end()) {
        throw Error("inference path: layer " + layer + ": the model has no tensor '" + key + "'");
    }
    return it->second;
}

// Which layers feed which: for each layer, the index of the previous layer on the same branch
// of the same block (-1 when it is the first there).
std::vector<int> previousOnBranch(const ArchPlan& plan) {
    std::vector<int> prev(plan.layers.size(), -1);
    int lastMain = -1, lastShortcut = -1, block = -2;
    for (size_t i = 0; i < plan.layers.size(); ++i) {
        const PlanLayer& l = plan.layers[i];
        if (l.block != block) {
            block = l.block;
            lastShortcut = -1;
        }
        if (l.shortcut) {
            prev[i] = lastShortcut;
            lastShortcut = int(i);
        } else {
            prev[i] = lastMain;
            lastMain = int(i);
        }
    }
    return prev;
}

bool isConv(const PlanLayer& l) {
    return l.kind == LayerKind::Conv || l.kind == LayerKind::DepthwiseConv;
}

// `inPlace` only on a tensor the step itself just made (nothing else holds it).
torch::Tensor applyAct(torch::Tensor x, ActKind act, bool inPlace) {
    switch (act) {
        case ActKind::ReLU:
            return inPlace ? x.relu_() : x.relu();
        case ActKind::ReLU6:
            return inPlace ? x.clamp_(0, 6) : x.clamp(0, 6);
        case ActKind::SiLU:
            return inPlace ? torch::silu_(x) : torch::silu(x);
        case ActKind::None:
            return x;
    }
    return x;
}

}  // namespace

FoldedWeights foldBatchNorm(const ScaleModelImpl& model) {
    FoldedWeights f;
    for (auto& [name, t] : namedStateDict(model)) {
        f.tensors.emplace(name, t.detach().clone());  // a copy: training the model later
    }                                                 // does not reach it
    const ArchPlan& plan = model.plan();
    const auto eps = batchNormEps(model);
    const std::vector<int> prev = previousOnBranch(plan);
    torch::NoGradGuard guard;
    for (size_t i = 0; i < plan.layers.size(); ++i) {
        const PlanLayer& bn = plan.layers[i];
        if (bn.kind != LayerKind::BatchNorm || prev[i] < 0) {
            continue;
        }
        const PlanLayer& conv = plan.layers[size_t(prev[i])];
        if (!isConv(conv) || conv.out != bn.out) {
            continue;
        }
        const auto epsIt = eps.find(bn.path);
        if (epsIt == eps.end()) {
            throw Error("inference path: layer " + bn.path +
                        ": the model has no BatchNorm2d there");
        }
        const torch::Tensor& w = tensorAt(f.tensors, conv.path + ".weight", conv.path);
        const auto dtype = w.scalar_type();
        auto d = [&](const std::string& key) {
            return tensorAt(f.tensors, bn.path + "." + key, bn.path).to(torch::kDouble);
        };
        const auto scale = d("weight") / (d("running_var") + epsIt->second).sqrt();
        auto bias = f.tensors.count(conv.path + ".bias")
                        ? f.tensors.at(conv.path + ".bias").to(torch::kDouble)
                        : torch::zeros({conv.out}, w.options().dtype(torch::kDouble));
        const auto newW = (w.to(torch::kDouble) * scale.view({-1, 1, 1, 1})).to(dtype);
        const auto newB = ((bias - d("running_mean")) * scale + d("bias")).to(dtype);
        f.tensors[conv.path + ".weight"] = newW.contiguous();
        f.tensors[conv.path + ".bias"] = newB.contiguous();
        f.foldedNorms.insert(bn.path);
    }
    return f;
}

struct InferenceNet::Step {
    enum class Kind { Conv, Scale, Act, SqueezeExcite, MaxPool, GlobalPool, Linear, Add };
    Kind kind = Kind::Conv;
    bool shortcut = false;             // reads and writes the shortcut branch
    bool startsBlock = false;          // the first layer of a block: its input is remembered
    torch::Tensor w, b;                // conv / linear weight and bias; Scale: scale and shift
    torch::Tensor w2, b2;              // squeeze-excitation's fc2
    torch::Tensor wBlocked, bBlocked;  // Conv in the blocked layout: reordered weight, bias
    int64_t stride = 1, pad = 0, groups = 1, kernel = 1;
    bool depthwise = false;        // Conv: run on the depthwise kernel choice
    bool fastDepthwise = true;     // the model's choice
    ActKind act = ActKind::None;   // fused (in place) after the op; SE: its inner activation
    bool addFromShortcut = false;  // Add: the shortcut branch (else the block's input)
    int64_t addStride = 1;         // Add: subsample the block input by this
    int64_t addPadChannels = 0;    // Add: zero channels appended to it
    int stageEnds = -1;            // >= 0: after this step the main branch is that stage's output
    int64_t channels = 0;          // channels of the tensor the step makes (the plan's)
    std::shared_ptr<OneDnnConv> onednn;  // Conv on oneDNN directly (the Winograd candidate)
    bool addsResidual = false;           // Conv: adds the next (Add) step's residual itself
    bool doneByConv = false;             // Add: done by the convolution before it
};

bool InferenceNet::blockedSupported(const ArchPlan& plan) {
    const std::vector<int> prev = previousOnBranch(plan);
    int block = -2;
    bool blockHasShortcutLayers = false;
    for (size_t i = 0; i < plan.layers.size(); ++i) {
        const PlanLayer& l = plan.layers[i];
        if (l.block != block) {
            block = l.block;
            blockHasShortcutLayers = false;
        }
        switch (l.kind) {
            case LayerKind::Conv:
            case LayerKind::MaxPool:
            case LayerKind::GlobalPool:
            case LayerKind::Dropout:
            case LayerKind::Linear:
                break;
            case LayerKind::BatchNorm:
                // Only where it folds into the convolution before it.
                if (prev[i] < 0 || plan.layers[size_t(prev[i])].kind != LayerKind::Conv) {
                    return false;
                }
                break;
            case LayerKind::Activation:
                if (l.act != ActKind::ReLU) {
                    return false;
                }
                break;
            case LayerKind::ResidualAdd: {
                if (l.block < 0 || size_t(l.block) >= plan.blocks.size()) {
                    return false;
                }
                const BlockPlan& bp = plan.blocks[size_t(l.block)];
                if (!blockHasShortcutLayers && (bp.in != l.out || bp.stride > 1)) {
                    return false;  // option A: strided slice and zero channels
                }
                break;
            }
            case LayerKind::DepthwiseConv:
            case LayerKind::SqueezeExcite:
                return false;
        }
        if (l.shortcut) {
            blockHasShortcutLayers = true;
        }
    }
    return true;
}

bool InferenceNet::winogradSupported(const ArchPlan& plan) {
    if (!oneDnnWinogradAvailable() || !blockedSupported(plan)) {
        return false;
    }
    for (const PlanLayer& l : plan.layers) {
        if (l.kind == LayerKind::Conv && l.groups != 1) {
            return false;
        }
    }
    return true;
}

InferenceNet::InferenceNet(const ScaleModelImpl& model) {
    const ArchPlan& plan = model.plan();
    const FoldedWeights f = foldBatchNorm(model);
    const auto eps = batchNormEps(model);
    const std::vector<int> prev = previousOnBranch(plan);
    channelsLast_ = model.channelsLast();
    blocked_ = model.blockedInference() && blockedSupported(plan);
    winograd_ = model.winogradInference() && winogradSupported(plan);
    for (const auto& p : model.parameters()) {
        const bool cpuFloat = p.is_cpu() && p.scalar_type() == torch::kFloat;
        blocked_ = blocked_ && cpuFloat;
        winograd_ = winograd_ && cpuFloat;
    }
    blocked_ = blocked_ && !winograd_;
    const auto layout =
        channelsLast_ ? torch::MemoryFormat::ChannelsLast : torch::MemoryFormat::Contiguous;
    auto weight4d = [&](const std::string& key, const std::string& layer) {
        return tensorAt(f.tensors, key, layer).contiguous(layout);
    };
    auto plain = [&](const std::string& key, const std::string& layer) {
        return tensorAt(f.tensors, key, layer).contiguous();
    };
    stageCount_ = int(plan.stages.size());
    // The last main-branch layer of each stage (0 stem, 1..N): where forwardFeatures reads it.
    std::vector<int> stageEnd(plan.stages.size(), -1);
    for (size_t i = 0; i < plan.layers.size(); ++i) {
        const PlanLayer& l = plan.layers[i];
        if (!l.shortcut && l.stage >= 0 && size_t(l.stage) < stageEnd.size()) {
            stageEnd[size_t(l.stage)] = int(i);
        }
    }
    int block = -2;
    bool blockHasShortcutLayers = false;
    bool pendingBlockStart = false;
    std::vector<int> stepOfLayer(plan.layers.size(), -1);
    for (size_t i = 0; i < plan.layers.size(); ++i) {
        const PlanLayer& l = plan.layers[i];
        if (l.block != block) {
            block = l.block;
            blockHasShortcutLayers = false;
            pendingBlockStart = true;
        }
        Step s;
        s.shortcut = l.shortcut;
        s.channels = l.out;
        bool emitted = true;
        switch (l.kind) {
            case LayerKind::Conv:
            case LayerKind::DepthwiseConv:
                s.kind = Step::Kind::Conv;
                s.w = weight4d(l.path + ".weight", l.path);
                if (f.tensors.count(l.path + ".bias")) {
                    s.b = plain(l.path + ".bias", l.path);
                }
                s.stride = l.stride;
                s.pad = (l.kernel - 1) / 2;
                s.groups = l.groups;
                s.depthwise = l.kind == LayerKind::DepthwiseConv;
                s.fastDepthwise = model.fastDepthwise();
                break;
            case LayerKind::BatchNorm: {
                if (f.foldedNorms.count(l.path)) {
                    emitted = false;  // in the convolution before it
                    // The conv step now ends where this layer ended.
                    stepOfLayer[i] = stepOfLayer[size_t(prev[i])];
                    break;
                }
                const auto e = eps.find(l.path);
                if (e == eps.end()) {
                    throw Error("inference path: layer " + l.path +
                                ": the model has no BatchNorm2d there");
                }
                torch::NoGradGuard guard;
                auto d = [&](const std::string& key) {
                    return tensorAt(f.tensors, l.path + "." + key, l.path).to(torch::kDouble);
                };
                const auto scale = d("weight") / (d("running_var") + e->second).sqrt();
                const auto dtype = f.tensors.at(l.path + ".weight").scalar_type();
                s.kind = Step::Kind::Scale;
                s.w = scale.to(dtype).view({1, -1, 1, 1});
                s.b = (d("bias") - d("running_mean") * scale).to(dtype).view({1, -1, 1, 1});
                break;
            }
            case LayerKind::Activation: {
                // In place on the output of the step before it on this branch when that step
                // made a fresh tensor (every kind but a pass-through).
                const int p = prev[i] >= 0 ? stepOfLayer[size_t(prev[i])] : -1;
                if (p >= 0 && p == int(steps_.size()) - 1 &&
                    steps_[size_t(p)].act == ActKind::None &&
                    steps_[size_t(p)].kind != Step::Kind::Act &&
                    steps_[size_t(p)].kind != Step::Kind::SqueezeExcite &&
                    steps_[size_t(p)].shortcut == l.shortcut) {
                    steps_[size_t(p)].act = l.act;
                    ++fused_;
                    emitted = false;
                    stepOfLayer[i] = p;
                    break;
                }
                s.kind = Step::Kind::Act;
                s.act = l.act;
                break;
            }
            case LayerKind::SqueezeExcite:
                s.kind = Step::Kind::SqueezeExcite;
                s.w = weight4d(l.path + ".fc1.weight", l.path);
                s.b = plain(l.path + ".fc1.bias", l.path);
                s.w2 = weight4d(l.path + ".fc2.weight", l.path);
                s.b2 = plain(l.path + ".fc2.bias", l.path);
                s.act = l.act;
                break;
            case LayerKind::MaxPool:
                s.kind = Step::Kind::MaxPool;
                s.kernel = l.kernel;
                s.stride = l.stride;
                s.pad = (l.kernel - 1) / 2;
                break;
            case LayerKind::GlobalPool:
                s.kind = Step::Kind::GlobalPool;
                break;
            case LayerKind::Dropout:
                emitted = false;  // the identity outside training
                stepOfLayer[i] = prev[i] >= 0 ? stepOfLayer[size_t(prev[i])] : -1;
                break;
            case LayerKind::Linear:
                s.kind = Step::Kind::Linear;
                s.w = plain(l.path + ".weight", l.path);
                s.b = plain(l.path + ".bias", l.path);
                break;
            case LayerKind::ResidualAdd: {
                if (l.block < 0 || size_t(l.block) >= plan.blocks.size()) {
                    throw Error("inference path: residual add " + l.path + " sits in no block");
                }
                const BlockPlan& bp = plan.blocks[size_t(l.block)];
                s.kind = Step::Kind::Add;
                s.addFromShortcut = blockHasShortcutLayers;
                if (!blockHasShortcutLayers && bp.in != l.out) {
                    // ResNet's parameter-free option-A shortcut (see arch_plan.h).
                    s.addStride = bp.stride;
                    s.addPadChannels = l.out - bp.in;
                } else if (!blockHasShortcutLayers && bp.stride > 1) {
                    s.addStride = bp.stride;
                }
                break;
            }
        }
        if (l.shortcut) {
            blockHasShortcutLayers = true;
        }
        if (emitted) {
            // The block's input is what the main branch holds when its first step starts.
            s.startsBlock = pendingBlockStart;
            pendingBlockStart = false;
            steps_.push_back(std::move(s));
            stepOfLayer[i] = int(steps_.size()) - 1;
        }
    }
    // forwardFeatures reads a stage's output after the step that produced its last layer's.
    for (size_t stage = 0; stage < stageEnd.size(); ++stage) {
        const int layer = stageEnd[stage];
        const int step = layer >= 0 ? stepOfLayer[size_t(layer)] : -1;
        if (step < 0) {
            throw Error("inference path: stage " + std::to_string(stage) + " of " + plan.spec.name +
                        " has no layer that produces its output");
        }
        steps_[size_t(step)].stageEnds = int(stage);
    }
    if (winograd_) {
        // A convolution followed directly by its block's residual add (and the ReLU after it)
        // does the add itself: oneDNN's sum post-op writes into the residual's tensor.
        for (size_t i = 0; i < steps_.size(); ++i) {
            Step& s = steps_[i];
            if (s.kind != Step::Kind::Conv) {
                continue;
            }
            ActKind act = s.act;
            if (i + 1 < steps_.size() && steps_[i + 1].kind == Step::Kind::Add && !s.shortcut &&
                !steps_[i + 1].shortcut && s.act == ActKind::None && steps_[i + 1].addStride == 1 &&
                steps_[i + 1].addPadChannels == 0 && !steps_[i + 1].startsBlock) {
                s.addsResidual = true;
                s.addFromShortcut = steps_[i + 1].addFromShortcut;
                steps_[i + 1].doneByConv = true;
                act = steps_[i + 1].act;
            }
            s.onednn = std::make_shared<OneDnnConv>(s.w, s.b, s.stride, s.pad, act == ActKind::ReLU,
                                                    /*winograd=*/true);
        }
    }
    if (blocked_) {
        torch::NoGradGuard guard;
        for (Step& s : steps_) {
            if (s.kind == Step::Kind::Conv) {
                s.wBlocked = torch::mkldnn_reorder_conv2d_weight(
                    s.w.contiguous().to_mkldnn(), {s.pad, s.pad}, {s.stride, s.stride}, {1, 1},
                    s.groups);
                if (s.b.defined()) {
                    s.bBlocked = s.b.to_mkldnn();
                }
            }
        }
    }
    folded_ = int64_t(f.foldedNorms.size());
}

// The Winograd candidate's forward: activations in nChw16c (core/ops/onednn_conv.h) from the
// first convolution (which reads the plain input) to the global pooling; the head runs dense.
torch::Tensor InferenceNet::runOneDnn(const torch::Tensor& input,
                                      std::vector<torch::Tensor>* stages) const {
    torch::NoGradGuard guard;
    torch::Tensor cur = input.contiguous();
    if (steps_.empty() || steps_.front().kind != Step::Kind::Conv) {
        cur = toBlocked16(cur);
    }
    torch::Tensor blockIn, shortcut;
    for (size_t i = 0; i < steps_.size(); ++i) {
        const Step& s = steps_[i];
        if (s.startsBlock) {
            blockIn = cur;
            shortcut = cur;
        }
        torch::Tensor& x = s.shortcut ? shortcut : cur;
        switch (s.kind) {
            case Step::Kind::Conv: {
                torch::Tensor r;
                if (s.addsResidual) {
                    r = s.addFromShortcut ? shortcut : blockIn;
                    // Written in place: the block's input is not read after its add.
                    if (r.dim() != 5 || r.data_ptr() == x.data_ptr()) {
                        r = r.dim() == 5 ? r.clone() : toBlocked16(r);
                    }
                }
                x = s.onednn->forward(x, r);
                break;
            }
            case Step::Kind::Add: {
                if (s.doneByConv) {
                    break;
                }
                const torch::Tensor& r = s.addFromShortcut ? shortcut : blockIn;
                x = applyAct(x + r, s.act, true);
                break;
            }
            case Step::Kind::Act:
                x = applyAct(x, s.act, false);
                break;
            case Step::Kind::MaxPool:
                x = maxPoolBlocked16(x, s.kernel, s.stride, s.pad);
                break;
            case Step::Kind::GlobalPool:
                x = globalPoolBlocked16(x)
                        .narrow(1, 0, s.channels)
                        .reshape({x.size(0), s.channels, 1, 1});
                break;
            case Step::Kind::Linear:
                x = applyAct(torch::linear(x.flatten(1), s.w, s.b), s.act, true);
                break;
            case Step::Kind::Scale:
            case Step::Kind::SqueezeExcite:
                throw Error(
                    "inference path: a step oneDNN's path does not run (a bug: "
                    "winogradSupported accepted the plan)");
        }
        if (stages && s.stageEnds >= 0) {
            (*stages)[size_t(s.stageEnds)] =
                cur.dim() == 5 ? fromBlocked16(cur, s.channels) : cur.clone();
        }
    }
    return cur.dim() == 5 ? fromBlocked16(cur, steps_.back().channels) : cur;
}

InferenceNet::~InferenceNet() = default;
InferenceNet::InferenceNet(InferenceNet&&) noexcept = default;
InferenceNet& InferenceNet::operator=(InferenceNet&&) noexcept = default;

int64_t InferenceNet::foldedNorms() const {
    return folded_;
}

int64_t InferenceNet::fusedActivations() const {
    return fused_;
}

int64_t InferenceNet::steps() const {
    return int64_t(steps_.size());
}

torch::Tensor InferenceNet::run(const torch::Tensor& input, std::vector<torch::Tensor>* stages,
                                bool keepGraph) const {
    std::optional<torch::NoGradGuard> guard;
    if (!keepGraph) {
        guard.emplace();
    }
    const bool inPlace = !keepGraph;
    const bool blocked = blocked_ && !keepGraph && input.scalar_type() == torch::kFloat;
    if (winograd_ && !keepGraph && input.scalar_type() == torch::kFloat && input.is_cpu()) {
        return runOneDnn(input, stages);
    }
    torch::Tensor cur = channelsLast_ ? input.contiguous(torch::MemoryFormat::ChannelsLast) : input;
    if (blocked) {
        cur = input.contiguous().to_mkldnn();
    }
    if (keepGraph && !cur.requires_grad()) {
        // The net's weights are constants: the graph starts at the input.
        cur = cur.detach().requires_grad_(true);
    }
    torch::Tensor blockIn, shortcut;
    for (const Step& s : steps_) {
        if (s.startsBlock) {
            blockIn = cur;
            shortcut = cur;
        }
        torch::Tensor& x = s.shortcut ? shortcut : cur;
        switch (s.kind) {
            case Step::Kind::Conv: {
                if (blocked) {
                    x = applyAct(
                        torch::mkldnn_convolution(x, s.wBlocked, s.bBlocked, {s.pad, s.pad},
                                                  {s.stride, s.stride}, {1, 1}, s.groups),
                        s.act, true);
                } else if (s.depthwise && s.fastDepthwise && x.is_cpu()) {
                    // Our kernel has no bias: added in place (one pass over the output).
                    torch::Tensor y = depthwiseConv2d(x, s.w, s.stride, s.pad);
                    if (s.b.defined()) {
                        y = inPlace ? y.add_(s.b.view({1, -1, 1, 1})) : y + s.b.view({1, -1, 1, 1});
                    }
                    x = applyAct(y, s.act, inPlace);
                } else {
                    torch::Tensor y = torch::conv2d(x, s.w, s.b, s.stride, s.pad, 1, s.groups);
                    x = applyAct(y, s.act, inPlace);
                }
                break;
            }
            case Step::Kind::Scale:
                x = applyAct(x * s.w + s.b, s.act, inPlace);
                break;
            case Step::Kind::Act:
                x = applyAct(x, s.act, false);
                break;
            case Step::Kind::SqueezeExcite: {
                torch::Tensor g = x.mean({2, 3}, /*keepdim=*/true);
                g = applyAct(torch::conv2d(g, s.w, s.b), s.act, inPlace);
                g = torch::conv2d(g, s.w2, s.b2).sigmoid();
                x = x * g;
                break;
            }
            case Step::Kind::MaxPool:
                x = torch::max_pool2d(x, {s.kernel, s.kernel}, {s.stride, s.stride},
                                      {s.pad, s.pad});
                break;
            case Step::Kind::GlobalPool:
                // Back to a dense tensor here: the head (flatten, linear) runs dense.
                x = x.is_mkldnn() ? torch::adaptive_avg_pool2d(x, {1, 1}).to_dense()
                                  : x.mean({2, 3}, /*keepdim=*/true);
                break;
            case Step::Kind::Linear:
                if (x.is_mkldnn()) {
                    x = x.to_dense();
                }
                x = applyAct(torch::linear(x.flatten(1), s.w, s.b), s.act, inPlace);
                break;
            case Step::Kind::Add: {
                torch::Tensor r = s.addFromShortcut ? shortcut : blockIn;
                r = optionAShortcut(r, r.size(2) != x.size(2) ? s.addStride : 1, s.addPadChannels);
                x = applyAct(x + r, s.act, inPlace);
                break;
            }
        }
        if (stages && s.stageEnds >= 0) {
            (*stages)[size_t(s.stageEnds)] = cur.is_mkldnn() ? cur.to_dense() : cur;
        }
    }
    return cur.is_mkldnn() ? cur.to_dense() : cur;
}

torch::Tensor InferenceNet::forward(const torch::Tensor& x) const {
    return run(x, nullptr, false);
}

FeatureOutputs InferenceNet::forwardFeatures(const torch::Tensor& x, bool keepGraph) const {
    FeatureOutputs out;
    out.stages.resize(size_t(stageCount_));
    out.logits = run(x, &out.stages, keepGraph);
    return out;
}

}  // namespace scalelab
