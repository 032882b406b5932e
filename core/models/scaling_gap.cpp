// The split of a scaled model's MACs growth into rounding and structure (scaling_gap.h has the
// definitions this file implements).

#include "core/models/scaling_gap.h"

#include <algorithm>
#include <array>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/error.h"
#include "core/models/arch_plan.h"

namespace scalelab {

namespace {

bool hasMacs(const PlanLayer& l) {
    switch (l.kind) {
        case LayerKind::Conv:
        case LayerKind::DepthwiseConv:
        case LayerKind::SqueezeExcite:
        case LayerKind::Linear:
            return true;
        default:
            return false;
    }
}

bool isConv(const PlanLayer& l) {
    return l.kind == LayerKind::Conv || l.kind == LayerKind::DepthwiseConv;
}

// The two channel counts whose product (times kernel area and map area) gives a layer's MACs.
std::array<int64_t, 2> channelCounts(const PlanLayer& l) {
    switch (l.kind) {
        case LayerKind::SqueezeExcite:
            return {l.in, l.squeeze};
        case LayerKind::Linear:
            return {l.out, l.in};
        default:
            return {l.out, l.in / std::max(1, l.groups)};
    }
}

using LayerIndex = std::unordered_map<std::string, const PlanLayer*>;

LayerIndex macLayersByPath(const ArchPlan& plan) {
    LayerIndex index;
    for (const PlanLayer& l : plan.layers) {
        if (hasMacs(l)) {
            index.emplace(l.path, &l);
        }
    }
    return index;
}

ModelSpec withWidth(ModelSpec spec, double width) {
    spec.width = width;
    return spec;
}

// X planned at 2x (or 0.5x) B's width, the other way round when that one is impossible; nullopt
// when neither can be planned (then every count is taken to follow the width).
std::optional<ArchPlan> probePlan(const ModelSpec& scaled, double baseWidth, bool narrower) {
    for (double k : narrower ? std::array<double, 2>{0.5, 2.0} : std::array<double, 2>{2.0, 0.5}) {
        try {
            return planModel(withWidth(scaled, baseWidth * k));
        } catch (const SpecError&) {
        }
    }
    return std::nullopt;
}

// Per-stage blocks (index 1..N; index 0, the stem, has none).
std::vector<int> stageRepeats(const ArchPlan& plan) {
    std::vector<int> repeats(plan.stages.size(), 0);
    for (const PlanStage& s : plan.stages) {
        if (s.index >= 0 && size_t(s.index) < repeats.size()) {
            repeats[size_t(s.index)] = s.repeats;
        }
    }
    return repeats;
}

// Map side in X -> the side the same stride walk gives from B's input side.
std::map<int64_t, int64_t> baseSides(const ArchPlan& scaled, int64_t baseResolution) {
    std::map<int64_t, int64_t> sides{{scaled.spec.resolution, baseResolution}};
    for (const PlanLayer& l : scaled.layers) {
        if (!isConv(l) && l.kind != LayerKind::MaxPool) {
            continue;
        }
        auto in = sides.find(l.inSide);
        if (in == sides.end()) {
            continue;
        }
        const int64_t pad = (l.kernel - 1) / 2;
        const int64_t out = std::max<int64_t>(1, (in->second + 2 * pad - l.kernel) / l.stride + 1);
        sides.emplace(l.outSide, out);
    }
    return sides;
}

}  // namespace

ScalingGap scalingGap(const ModelSpec& base, const Scaling& scaling) {
    const ModelSpec scaled = applyScaling(base, scaling);
    const double w = scaled.width / base.width;
    const double d = scaled.depth / base.depth;
    const double r = scaled.resolutionCoef / base.resolutionCoef;

    const ArchPlan planB = planModel(base);
    const ArchPlan planX = planModel(scaled);
    const ArchPlan twin = w == 1.0 ? planX : planModel(withWidth(scaled, base.width));
    const std::optional<ArchPlan> probe =
        w == 1.0 ? std::nullopt : probePlan(scaled, base.width, w < 1.0);
    const LayerIndex twinLayers = macLayersByPath(twin);
    const LayerIndex probeLayers = probe ? macLayersByPath(*probe) : LayerIndex{};
    const std::vector<int> repeatsB = stageRepeats(planB), repeatsX = stageRepeats(planX);
    const std::map<int64_t, int64_t> sides = baseSides(planX, base.resolution);
    const int stageCount = planX.stageCount();

    double idealSum = 0, channelsRounded = 0, repeatsRounded = 0, exactSum = 0;
    for (const PlanLayer& l : planX.layers) {
        if (!hasMacs(l)) {
            continue;
        }
        const double m = double(l.macs);
        double c = 1;
        auto t = twinLayers.find(l.path);
        if (t != twinLayers.end()) {
            auto p = probeLayers.find(l.path);
            const std::array<int64_t, 2> built = channelCounts(l);
            const std::array<int64_t, 2> atBase = channelCounts(*t->second);
            for (size_t i = 0; i < 2; ++i) {
                const bool fixed =
                    p != probeLayers.end() && channelCounts(*p->second)[i] == atBase[i];
                const double ideal = fixed ? double(built[i]) : double(atBase[i]) * w;
                c *= ideal / double(built[i]);
            }
        }
        double rep = 1;
        if (l.stage >= 1 && l.stage <= stageCount && size_t(l.stage) < repeatsB.size() &&
            size_t(l.stage) < repeatsX.size() && repeatsX[size_t(l.stage)] > 0) {
            rep = repeatsB[size_t(l.stage)] * d / repeatsX[size_t(l.stage)];
        }
        double s = 1;
        if (isConv(l)) {
            auto b = sides.find(l.outSide);
            if (b != sides.end()) {
                const double side = double(b->second) * r / double(l.outSide);
                s = side * side;
            }
        }
        idealSum += m * c * rep * s;
        channelsRounded += m * rep * s;
        repeatsRounded += m * s;
        exactSum += m;
    }

    ScalingGap g;
    g.baseMacs = planB.macs;
    g.scaledMacs = planX.macs;
    g.idealMacs = idealSum;
    g.predicted = d * w * w * r * r;
    g.exact = double(planX.macs) / double(planB.macs);
    g.channels = channelsRounded / idealSum;
    g.repeats = repeatsRounded / channelsRounded;
    g.mapSize = exactSum / repeatsRounded;
    g.structure = idealSum / (double(planB.macs) * g.predicted);
    return g;
}

}  // namespace scalelab
