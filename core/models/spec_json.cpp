#include "core/models/spec_json.h"

#include "core/error.h"

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

}  // namespace scalelab
