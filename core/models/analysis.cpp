#include "core/models/analysis.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "core/models/arch_plan.h"
#include "core/models/spec_json.h"

namespace scalelab {

namespace {

std::string layerType(const PlanLayer& l) {
    const std::string k = std::to_string(l.kernel) + "x" + std::to_string(l.kernel) +
                          (l.stride != 1 ? "/" + std::to_string(l.stride) : "");
    switch (l.kind) {
        case LayerKind::Conv:
            return "Conv2d " + k + (l.groups > 1 ? " groups=" + std::to_string(l.groups) : "") +
                   (l.bias ? " +bias" : "");
        case LayerKind::DepthwiseConv:
            return "Conv2d " + k + " depthwise";
        case LayerKind::BatchNorm:
            return "BatchNorm2d";
        case LayerKind::Activation:
            switch (l.act) {
                case ActKind::ReLU:
                    return "ReLU";
                case ActKind::ReLU6:
                    return "ReLU6";
                case ActKind::SiLU:
                    return "SiLU";
                case ActKind::None:
                    return "Identity";
            }
            return "Activation";
        case LayerKind::SqueezeExcite:
            return "SqueezeExcitation " + std::to_string(l.in) + "->" + std::to_string(l.squeeze) +
                   "->" + std::to_string(l.in);
        case LayerKind::MaxPool:
            return "MaxPool2d " + k;
        case LayerKind::GlobalPool:
            return "AdaptiveAvgPool2d";
        case LayerKind::Dropout:
            return "Dropout";
        case LayerKind::Linear:
            return "Linear " + std::to_string(l.in) + "->" + std::to_string(l.out);
        case LayerKind::ResidualAdd:
            return "residual add";
    }
    return "?";
}

std::string stageName(int stage, int stageCount) {
    if (stage == 0) {
        return "stem";
    }
    if (stage <= stageCount) {
        return "stage " + std::to_string(stage);
    }
    return stage == stageCount + 1 ? "head" : "classifier";
}

}  // namespace

double ModelAnalysis::trainingMemoryBytes(int64_t batchSize) const {
    return double(activationValuesPerImage) * double(batchSize) * 4.0 + 4.0 * double(params) * 4.0;
}

double ModelAnalysis::inferenceMemoryBytes(int64_t batchSize) const {
    return 3.0 * double(largestActivationValues) * double(batchSize) * 4.0 +
           2.0 * double(params) * 4.0;
}

int64_t ModelAnalysis::evalBatchWithin(int64_t requested, int64_t trainBatch) const {
    // What the training step needs (checked against the available memory): evaluation then
    // fits in the memory the step has just freed and never raises the run's peak. Never less
    // than 256 MiB: small models at small resolutions keep their evaluation batch (at 32 px,
    // batch 500 infers 1.2-1.5x faster per image than 128).
    const double budget = std::max(trainingMemoryBytes(trainBatch), double(kEvalFloorBytes)) -
                          2.0 * double(params) * 4.0;
    const double perImage = 3.0 * double(largestActivationValues) * 4.0;
    if (perImage <= 0 || requested <= 1) {
        return std::max<int64_t>(1, requested);
    }
    const double fits = std::floor(budget / perImage);
    return std::max<int64_t>(1, std::min<int64_t>(requested, int64_t(std::min(fits, 1e9))));
}

ModelAnalysis analyzeModel(const ModelSpec& spec) {
    return analyzePlan(planModel(spec));
}

ModelAnalysis analyzePlan(const ArchPlan& plan) {
    const auto t0 = std::chrono::steady_clock::now();
    ModelAnalysis a;
    a.spec = plan.spec;
    a.params = plan.params;
    a.macs = plan.macs;
    a.activationValuesPerImage = plan.activationValuesPerImage;
    a.largestActivationValues =
        int64_t(plan.spec.inChannels) * plan.spec.resolution * plan.spec.resolution;
    for (const PlanLayer& l : plan.layers) {
        a.largestActivationValues =
            std::max(a.largestActivationValues, l.out * l.outSide * l.outSide);
    }
    const int n = plan.stageCount();
    a.layers.reserve(plan.layers.size());
    a.stages.resize(size_t(n) + 3);
    for (int s = 0; s < n + 3; ++s) {
        a.stages[size_t(s)].name = stageName(s, n);
    }
    for (const PlanLayer& l : plan.layers) {
        LayerRow r;
        r.name = l.path;
        r.type = layerType(l);
        r.stage = stageName(l.stage, n);
        r.channels = l.out;
        r.height = r.width = l.outSide;
        r.params = l.params;
        r.macs = l.macs;
        StageCost& st = a.stages[size_t(std::min(l.stage, n + 2))];
        st.params += l.params;
        st.macs += l.macs;
        st.outChannels = l.out;
        st.outHeight = st.outWidth = l.outSide;
        a.layers.push_back(std::move(r));
    }
    for (const PlanStage& info : plan.stages) {
        StageCost& st = a.stages[size_t(info.index)];
        st.outChannels = info.channels;
        st.outHeight = st.outWidth = info.side;
        st.repeats = info.repeats;
        st.stride = info.stride;
    }
    // A family without a head (ResNet) has no head row.
    a.stages.erase(std::remove_if(a.stages.begin(), a.stages.end(),
                                  [](const StageCost& s) {
                                      return s.name == "head" && s.params == 0 && s.macs == 0;
                                  }),
                   a.stages.end());
    a.analysisSeconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return a;
}

std::string humanCount(double v) {
    char buf[32];
    const double a = std::abs(v);
    if (a >= 1e9) {
        std::snprintf(buf, sizeof buf, "%.2f G", v / 1e9);
    } else if (a >= 1e6) {
        std::snprintf(buf, sizeof buf, "%.2f M", v / 1e6);
    } else if (a >= 1e3) {
        std::snprintf(buf, sizeof buf, "%.1f k", v / 1e3);
    } else {
        std::snprintf(buf, sizeof buf, "%.0f", v);
    }
    return buf;
}

std::string analysisToJson(const ModelAnalysis& a, bool withLayers, int64_t batchSize) {
    const ModelSpec& s = a.spec;
    nlohmann::ordered_json j;
    j["name"] = s.name;
    j["family"] = s.family;
    j["params"] = a.params;
    j["macs"] = a.macs;
    j["flops"] = a.flops();
    j["flops_note"] = "FLOPs = 2 x MACs; MACs count conv and linear multiply-accumulates";
    j["resolution"] = s.resolution;
    j["in_channels"] = s.inChannels;
    j["num_classes"] = s.numClasses;
    j["width"] = s.width;
    j["depth"] = s.depth;
    j["resolution_coef"] = s.resolutionCoef;
    j["base_resolution"] = s.baseResolution;
    // The family's parameters, as in a run record's config.json.
    nlohmann::ordered_json fp = nlohmann::ordered_json::object();
    const nlohmann::ordered_json spec = specToJson(s);
    for (auto it = spec.begin(); it != spec.end(); ++it) {
        if (!j.contains(it.key()) && it.key() != "family" && it.key() != "name") {
            fp[it.key()] = it.value();
        }
    }
    j["family_params"] = fp;
    nlohmann::ordered_json stages = nlohmann::ordered_json::array();
    for (const StageCost& st : a.stages) {
        nlohmann::ordered_json o;
        o["name"] = st.name;
        o["out_channels"] = st.outChannels;
        o["repeats"] = st.repeats;
        o["stride"] = st.stride;
        o["out_size"] = {st.outHeight, st.outWidth};
        o["params"] = st.params;
        o["macs"] = st.macs;
        stages.push_back(o);
    }
    j["stages"] = stages;
    j["activation_values_per_image"] = a.activationValuesPerImage;
    j["training_memory_estimate_bytes"] = a.trainingMemoryBytes(batchSize);
    j["training_memory_batch_size"] = batchSize;
    j["analysis_seconds"] = a.analysisSeconds;
    if (withLayers) {
        nlohmann::ordered_json layers = nlohmann::ordered_json::array();
        for (const LayerRow& r : a.layers) {
            layers.push_back({{"name", r.name},
                              {"type", r.type},
                              {"stage", r.stage},
                              {"out_shape", {r.channels, r.height, r.width}},
                              {"params", r.params},
                              {"macs", r.macs}});
        }
        j["layers"] = layers;
    }
    return j.dump(2);
}

}  // namespace scalelab
