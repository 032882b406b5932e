#include "core/prune/pruning.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "core/error.h"
#include "core/models/analysis.h"

namespace scalelab {

namespace {

bool isClassifier(const std::string& name) {
    return name.rfind("classifier.", 0) == 0 || name.rfind("fc.", 0) == 0;
}

// Module-path prefix of a stage ("features.3.", "layer2.") or the stem ("features.0.", "conv1").
bool inStage(const ScaleModelImpl& model, const std::string& name, int stage) {
    if (stage < 0) {
        return true;
    }
    const ArchPlan& plan = model.plan();
    if (stage == 0) {
        return plan.spec.family == Family::EfficientNet ? name.rfind("features.0.", 0) == 0
                                                        : name.rfind("conv1.", 0) == 0;
    }
    if (stage > int(plan.stages.size())) {
        return false;
    }
    return name.rfind(plan.stages[size_t(stage - 1)].key + ".", 0) == 0;
}

void checkLevel(double level) {
    if (!(level >= 0.0 && level < 1.0)) {
        throw SpecError("pruning level " + std::to_string(level) + " must be in [0, 1)");
    }
}

}  // namespace

std::vector<std::string> prunableWeights(const ScaleModelImpl& model, const PruneScope& scope) {
    std::vector<std::string> out;
    for (const auto& p : model.named_parameters()) {
        const std::string& name = p.key();
        const auto& t = p.value();
        const bool weight = name.size() >= 6 && name.compare(name.size() - 6, 6, "weight") == 0;
        if (!weight || (t.dim() != 4 && t.dim() != 2)) {
            continue;  // BatchNorm weights and biases stay
        }
        if (isClassifier(name) && !scope.includeClassifier) {
            continue;
        }
        if (!inStage(model, name, scope.stage)) {
            continue;
        }
        out.push_back(name);
    }
    return out;
}

MaskSet magnitudePrune(ScaleModelImpl& model, double level, bool global, const PruneScope& scope) {
    checkLevel(level);
    torch::NoGradGuard guard;
    const auto names = prunableWeights(model, scope);
    auto params = model.named_parameters();
    MaskSet set;
    if (names.empty()) {
        return set;
    }
    auto threshold = [](const torch::Tensor& magnitudes, double fraction) -> double {
        const int64_t n = magnitudes.numel();
        const int64_t k = int64_t(std::llround(fraction * double(n)));
        if (k <= 0) {
            return -1.0;  // keep everything
        }
        return std::get<0>(magnitudes.reshape({-1}).kthvalue(std::min(k, n))).item<double>();
    };
    double globalThreshold = -1.0;
    if (global) {
        std::vector<torch::Tensor> all;
        for (const auto& name : names) {
            all.push_back(
                params[name].detach().abs().reshape({-1}).to(torch::kCPU, torch::kFloat32));
        }
        globalThreshold = threshold(torch::cat(all), level);
    }
    for (const auto& name : names) {
        auto& w = params[name];
        const auto mag = w.detach().abs();
        const double t =
            global ? globalThreshold : threshold(mag.to(torch::kCPU, torch::kFloat32), level);
        auto mask = (mag > t).to(w.dtype());
        w.mul_(mask);
        set.masks.emplace_back(name, mask);
    }
    return set;
}

void applyMasks(ScaleModelImpl& model, const MaskSet& masks) {
    torch::NoGradGuard guard;
    auto params = model.named_parameters();
    for (const auto& [name, mask] : masks.masks) {
        params[name].mul_(mask);
    }
}

SparsityReport measureSparsity(const ScaleModelImpl& model, const PruneScope& scope) {
    SparsityReport r;
    auto params = model.named_parameters();
    for (const auto& name : prunableWeights(model, scope)) {
        const auto& w = params[name];
        LayerSparsity l;
        l.name = name;
        l.total = w.numel();
        l.zeros = (w == 0).sum().item<int64_t>();
        r.total += l.total;
        r.zeros += l.zeros;
        r.layers.push_back(l);
    }
    return r;
}

int64_t sparseMacs(const ScaleModelImpl& model, const PruneScope& scope) {
    const ModelAnalysis a = analyzePlan(model.plan());
    const SparsityReport s = measureSparsity(model, scope);
    std::map<std::string, double> density;
    for (const auto& l : s.layers) {
        density[l.name.substr(0, l.name.size() - 7)] =
            l.total ? 1.0 - double(l.zeros) / double(l.total) : 1.0;
    }
    double macs = 0;
    for (const LayerRow& row : a.layers) {
        auto it = density.find(row.name);
        macs += double(row.macs) * (it == density.end() ? 1.0 : it->second);
    }
    return int64_t(std::llround(macs));
}

// --- structured -------------------------------------------------------------------------------

namespace {

// Indices of the `keep` filters (dim 0) with the largest L1 norms, in ascending index order.
torch::Tensor topFilters(const torch::Tensor& weight, int64_t keep) {
    const auto norms = weight.detach().abs().reshape({weight.size(0), -1}).sum(1);
    const auto idx = std::get<1>(norms.topk(keep));
    return std::get<0>(idx.sort());
}

int64_t keepCount(int64_t channels, double level) {
    return std::max<int64_t>(1, int64_t(std::llround(double(channels) * (1.0 - level))));
}

struct Selection {
    int64_t dim;
    torch::Tensor index;
};

}  // namespace

StructuredPruneResult l1StructuredPrune(const ScaleModelImpl& model, double level,
                                        const PruneScope& scope) {
    checkLevel(level);
    torch::NoGradGuard guard;
    std::map<std::string, torch::Tensor> old;
    for (const auto& [name, t] : namedStateDict(model)) {
        old[name] = t.detach();
    }
    StructuredPruneResult result;
    result.plan = model.plan();
    std::map<std::string, std::vector<Selection>> rules;
    auto select = [&](const std::string& name, int64_t dim, const torch::Tensor& index) {
        rules[name].push_back({dim, index});
    };
    auto selectBn = [&](const std::string& prefix, const torch::Tensor& index) {
        for (const char* f : {"weight", "bias", "running_mean", "running_var"}) {
            select(prefix + f, 0, index);
        }
    };
    int64_t prunable = 0, removed = 0;
    // Keeps the filters of `producer` (a conv weight) with the largest L1 norms, shrinks `width`
    // accordingly and returns the kept indices.
    auto cut = [&](int& width, const std::string& producer) {
        const int64_t keep = keepCount(width, level);
        const auto idx = topFilters(old.at(producer), keep);
        prunable += width;
        removed += width - keep;
        width = int(keep);
        return idx;
    };
    for (size_t s = 0; s < result.plan.stages.size(); ++s) {
        if (scope.stage >= 0 && scope.stage != int(s + 1)) {
            continue;
        }
        StagePlan& st = result.plan.stages[s];
        for (size_t b = 0; b < st.mbconv.size(); ++b) {
            MBConvPlan& m = st.mbconv[b];
            if (!m.hasExpand) {
                continue;  // expansion ratio 1: its channels are the block input's
            }
            const std::string p = st.key + "." + std::to_string(b) + ".block.";
            const auto idx = cut(m.expanded, p + "0.0.weight");
            select(p + "0.0.weight", 0, idx);
            selectBn(p + "0.1.", idx);
            select(p + "1.0.weight", 0, idx);
            selectBn(p + "1.1.", idx);
            select(p + "2.fc1.weight", 1, idx);
            select(p + "2.fc2.weight", 0, idx);
            select(p + "2.fc2.bias", 0, idx);
            select(p + "3.0.weight", 1, idx);
        }
        for (size_t b = 0; b < st.resnet.size(); ++b) {
            ResBlockPlan& r = st.resnet[b];
            const std::string p = st.key + "." + std::to_string(b) + ".";
            const bool bottleneck = result.plan.spec.block == BlockType::Bottleneck;
            // conv1's outputs (and a Bottleneck's conv2 outputs) feed the next conv only.
            const auto idx1 = cut(r.mid, p + "conv1.weight");
            select(p + "conv1.weight", 0, idx1);
            selectBn(p + "bn1.", idx1);
            select(p + "conv2.weight", 1, idx1);
            if (bottleneck) {
                const auto idx2 = cut(r.mid2, p + "conv2.weight");
                select(p + "conv2.weight", 0, idx2);
                selectBn(p + "bn2.", idx2);
                select(p + "conv3.weight", 1, idx2);
            }
        }
    }
    result.removedChannelFraction = prunable ? double(removed) / double(prunable) : 0.0;
    result.model = buildModelFromPlan(result.plan);
    for (auto& [name, t] : namedStateDict(*result.model)) {
        torch::Tensor src = old.at(name);
        auto it = rules.find(name);
        if (it != rules.end()) {
            for (const Selection& sel : it->second) {
                src = src.index_select(sel.dim, sel.index.to(src.device()));
            }
        }
        TORCH_CHECK(src.sizes() == t.sizes(), "structured pruning: shape mismatch for ", name);
        t.copy_(src);
    }
    result.model->to(old.begin()->second.device());
    result.model->setChannelsLast(model.channelsLast());
    return result;
}

}  // namespace scalelab
