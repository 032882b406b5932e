#include "core/models/spec_json.h"

#include "core/error.h"
#include "core/models/arch_plan.h"

namespace scalelab {

namespace {

template <typename T>
T field(const nlohmann::json& j, const char* key) {
    if (!j.contains(key)) {
        throw SpecError(std::string("model spec: field '") + key + "' is missing");
    }
    try {
        return j.at(key).get<T>();
    } catch (const nlohmann::json::exception&) {
        throw SpecError(std::string("model spec: field '") + key + "' has the wrong type");
    }
}

const char* stemName(StemType s) {
    return s == StemType::Auto ? "auto" : s == StemType::ImageNet ? "imagenet" : "small";
}

}  // namespace

nlohmann::ordered_json specToJson(const ModelSpec& s) {
    nlohmann::ordered_json j;
    j["family"] = s.family == Family::EfficientNet ? "efficientnet" : "resnet";
    j["name"] = s.name;
    j["in_channels"] = s.inChannels;
    j["num_classes"] = s.numClasses;
    j["resolution"] = s.resolution;
    j["base_resolution"] = s.baseResolution;
    if (s.family == Family::EfficientNet) {
        j["width"] = s.width;
        j["depth"] = s.depth;
        j["resolution_coef"] = s.resolutionCoef;
        j["dropout"] = s.dropout;
        j["stochastic_depth"] = s.stochasticDepth;
        j["bn_eps"] = s.bnEps;
        j["bn_momentum"] = s.bnMomentum;
    } else {
        j["blocks"] = s.blocks;
        j["block"] = s.block == BlockType::Basic ? "basic" : "bottleneck";
        j["base_width"] = s.baseWidth;
        j["stem"] = stemName(s.stem);
        j["shortcut"] = s.shortcut == Shortcut::Projection ? "projection" : "zero-pad";
    }
    return j;
}

ModelSpec specFromJson(const nlohmann::json& j) {
    ModelSpec s;
    const std::string family = field<std::string>(j, "family");
    if (family != "efficientnet" && family != "resnet") {
        throw SpecError("model spec: unknown family '" + family + "'");
    }
    s.family = family == "efficientnet" ? Family::EfficientNet : Family::ResNet;
    s.name = field<std::string>(j, "name");
    s.inChannels = field<int>(j, "in_channels");
    s.numClasses = field<int>(j, "num_classes");
    s.resolution = field<int>(j, "resolution");
    s.baseResolution = j.value("base_resolution", s.resolution);
    if (s.family == Family::EfficientNet) {
        s.width = field<double>(j, "width");
        s.depth = field<double>(j, "depth");
        s.resolutionCoef = j.value("resolution_coef", 1.0);
        s.dropout = field<double>(j, "dropout");
        s.stochasticDepth = j.value("stochastic_depth", 0.2);
        s.bnEps = j.value("bn_eps", 1e-5);
        s.bnMomentum = j.value("bn_momentum", 0.1);
    } else {
        s.blocks = field<std::vector<int>>(j, "blocks");
        s.block = field<std::string>(j, "block") == "bottleneck" ? BlockType::Bottleneck
                                                                 : BlockType::Basic;
        s.baseWidth = field<int>(j, "base_width");
        const std::string stem = j.value("stem", "auto");
        s.stem = stem == "imagenet" ? StemType::ImageNet
                 : stem == "small"  ? StemType::Small
                                    : StemType::Auto;
        s.shortcut = j.value("shortcut", "projection") == "zero-pad" ? Shortcut::ZeroPad
                                                                     : Shortcut::Projection;
    }
    validateSpec(s);
    return s;
}

nlohmann::ordered_json planToJson(const ArchPlan& plan) {
    nlohmann::ordered_json j;
    j["spec"] = specToJson(plan.spec);
    nlohmann::ordered_json stages = nlohmann::ordered_json::array();
    for (const StagePlan& st : plan.stages) {
        nlohmann::ordered_json blocks = nlohmann::ordered_json::array();
        for (const MBConvPlan& b : st.mbconv) {
            blocks.push_back({{"expanded", b.expanded}});
        }
        for (const ResBlockPlan& b : st.resnet) {
            blocks.push_back({{"mid", b.mid}, {"mid2", b.mid2}});
        }
        stages.push_back(blocks);
    }
    j["block_widths"] = stages;
    return j;
}

ArchPlan planFromJson(const nlohmann::json& j) {
    if (!j.contains("spec") || !j.contains("block_widths")) {
        throw SpecError("model plan: 'spec' or 'block_widths' is missing");
    }
    ArchPlan plan = planModel(specFromJson(j.at("spec")));
    const auto& stages = j.at("block_widths");
    if (!stages.is_array() || stages.size() != plan.stages.size()) {
        throw SpecError("model plan: block_widths has the wrong number of stages");
    }
    auto width = [](const nlohmann::json& o, const char* key, int original) {
        const int w = o.value(key, original);
        if (w < 1 || w > original) {
            throw SpecError(std::string("model plan: width ") + key + " = " + std::to_string(w) +
                            " outside 1.." + std::to_string(original));
        }
        return w;
    };
    for (size_t s = 0; s < plan.stages.size(); ++s) {
        StagePlan& st = plan.stages[s];
        const auto& blocks = stages[s];
        if (blocks.size() != st.mbconv.size() + st.resnet.size()) {
            throw SpecError("model plan: stage " + std::to_string(s + 1) +
                            " has the wrong number of blocks");
        }
        for (size_t i = 0; i < st.mbconv.size(); ++i) {
            st.mbconv[i].expanded = width(blocks[i], "expanded", st.mbconv[i].expanded);
        }
        for (size_t i = 0; i < st.resnet.size(); ++i) {
            st.resnet[i].mid = width(blocks[i], "mid", st.resnet[i].mid);
            st.resnet[i].mid2 = width(blocks[i], "mid2", st.resnet[i].mid2);
        }
    }
    return plan;
}

}  // namespace scalelab
