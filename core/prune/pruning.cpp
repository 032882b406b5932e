#include "core/prune/pruning.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "core/error.h"
#include "core/models/analysis.h"
#include "core/models/family.h"

namespace scalelab {

namespace {

bool isClassifier(const ScaleModelImpl& model, const std::string& name) {
    const PlanLayer* l = model.plan().layerOfParam(name);
    return l && l->kind == LayerKind::Linear;
}

// A weight belongs to the stage of the plan layer that holds it (0 stem, 1..N stages).
bool inStage(const ScaleModelImpl& model, const std::string& name, int stage) {
    if (stage < 0) {
        return true;
    }
    const PlanLayer* l = model.plan().layerOfParam(name);
    return l && l->stage == stage;
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
        if (isClassifier(model, name) && !scope.includeClassifier) {
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
    const ArchPlan& plan = model.plan();
    const SparsityReport s = measureSparsity(model, scope);
    std::map<const PlanLayer*, std::pair<int64_t, int64_t>> counts;  // layer -> (zeros, total)
    for (const auto& l : s.layers) {
        if (const PlanLayer* layer = plan.layerOfParam(l.name)) {
            counts[layer].first += l.zeros;
            counts[layer].second += l.total;
        }
    }
    double macs = 0;
    for (const PlanLayer& layer : plan.layers) {
        auto it = counts.find(&layer);
        const double density = it == counts.end() || it->second.second == 0
                                   ? 1.0
                                   : 1.0 - double(it->second.first) / double(it->second.second);
        macs += double(layer.macs) * density;
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
    const ArchPlan& plan = model.plan();
    InnerWidths inner;
    for (const BlockPlan& b : plan.blocks) {
        inner.push_back(b.inner);
    }
    std::map<std::string, std::vector<Selection>> rules;
    int64_t prunable = 0, removed = 0;
    for (const PruneGroup& g : familyOf(plan.spec.family).pruneGroups(plan)) {
        const BlockPlan& block = plan.blocks.at(size_t(g.block));
        if (scope.stage >= 0 && scope.stage != block.stage) {
            continue;
        }
        int& width = inner.at(size_t(g.block)).at(size_t(g.slot));
        const torch::Tensor& producer = old.at(g.producer);
        TORCH_CHECK(producer.size(0) == width && width % g.groups == 0,
                    "structured pruning: ", g.producer, " does not match the plan");
        // Keep the filters with the largest L1 norms, the same count in every channel group.
        const int64_t per = width / g.groups;
        const int64_t keep = keepCount(per, level);
        std::vector<torch::Tensor> kept;
        for (int64_t grp = 0; grp < g.groups; ++grp) {
            kept.push_back(topFilters(producer.narrow(0, grp * per, per), keep) + grp * per);
        }
        const torch::Tensor idx = torch::cat(kept);
        prunable += width;
        removed += width - keep * g.groups;
        width = int(keep * g.groups);
        for (const auto& [name, dim] : g.members) {
            rules[name].push_back({dim, idx});
        }
    }
    StructuredPruneResult result;
    result.removedChannelFraction = prunable ? double(removed) / double(prunable) : 0.0;
    result.plan = planModel(plan.spec, inner);
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
    result.model->setFastDepthwise(model.fastDepthwise());
    return result;
}

}  // namespace scalelab
