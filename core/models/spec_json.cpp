#include "core/models/spec_json.h"

#include <cmath>
#include <type_traits>

#include "core/error.h"
#include "core/models/arch_plan.h"
#include "core/models/family.h"

namespace scalelab {

int64_t jsonInteger(const nlohmann::json& v, const std::string& what, int64_t min, int64_t max) {
    const std::string range =
        " (allowed: " + std::to_string(min) + ".." + std::to_string(max) + ")";
    if (v.is_number_integer()) {
        const bool negative =
            v.is_number_integer() && !v.is_number_unsigned() && v.get<int64_t>() < 0;
        if (!negative && v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(max)) {
            throw SpecError(what + " is out of range" + range);
        }
        const int64_t x = v.get<int64_t>();
        if (x < min || x > max) {
            throw SpecError(what + " = " + std::to_string(x) + " is out of range" + range);
        }
        return x;
    }
    if (v.is_number_float()) {
        const double d = v.get<double>();
        if (!(d >= double(min) && d <= double(max)) || d != std::floor(d)) {
            throw SpecError(what + " must be a whole number" + range);
        }
        return int64_t(d);
    }
    throw SpecError(what + " must be a whole number" + range);
}

namespace {

// Keys every spec has; everything else is a family parameter.
const char* const kCommonKeys[] = {"family",         "name",  "in_channels", "num_classes",
                                   "resolution",     "width", "depth",       "resolution_coef",
                                   "base_resolution"};

template <typename T>
T field(const nlohmann::json& j, const char* key) {
    if (!j.contains(key)) {
        throw SpecError(std::string("model spec: field '") + key + "' is missing");
    }
    if constexpr (std::is_integral_v<T>) {
        return T(jsonInteger(j.at(key), std::string("model spec: field '") + key + "'", -1000000000,
                             1000000000));
    }
    try {
        return j.at(key).get<T>();
    } catch (const nlohmann::json::exception&) {
        throw SpecError(std::string("model spec: field '") + key + "' has the wrong type");
    }
}

template <typename T>
T optionalField(const nlohmann::json& j, const char* key, T fallback) {
    return j.contains(key) ? field<T>(j, key) : fallback;
}

nlohmann::ordered_json valueToJson(const ParamDecl& d, const ParamValue& v) {
    if (const double* x = std::get_if<double>(&v)) {
        if (d.kind == ParamKind::Int) {
            return int64_t(*x);
        }
        return *x;
    }
    if (const std::string* s = std::get_if<std::string>(&v)) {
        return *s;
    }
    return std::get<std::vector<int>>(v);
}

ParamValue valueFromJson(const ParamDecl& d, const nlohmann::json& j) {
    const std::string wrong = "model spec: field '" + d.key + "' has the wrong type (expected ";
    switch (d.kind) {
        case ParamKind::Int:
        case ParamKind::Real:
            if (!j.is_number()) {
                throw SpecError(wrong + "a number in " + paramRange(d) + ")");
            }
            return j.get<double>();
        case ParamKind::Choice:
            if (!j.is_string()) {
                throw SpecError(wrong + "one of " + paramRange(d) + ")");
            }
            return j.get<std::string>();
        case ParamKind::IntList: {
            std::vector<int> out;
            if (!j.is_array()) {
                throw SpecError(wrong + "a list of whole numbers)");
            }
            for (const auto& e : j) {
                if (!e.is_number_integer()) {
                    throw SpecError(wrong + "a list of whole numbers)");
                }
                const int64_t v = e.get<int64_t>();
                out.push_back(v < -1000000 ? -1000000 : v > 1000000 ? 1000000 : int(v));
            }
            return out;
        }
    }
    return 0.0;
}

}  // namespace

nlohmann::ordered_json specToJson(const ModelSpec& s) {
    nlohmann::ordered_json j;
    j["family"] = s.family;
    j["name"] = s.name;
    j["in_channels"] = s.inChannels;
    j["num_classes"] = s.numClasses;
    j["resolution"] = s.resolution;
    j["base_resolution"] = s.baseResolution;
    j["width"] = s.width;
    j["depth"] = s.depth;
    j["resolution_coef"] = s.resolutionCoef;
    // Every parameter, defaults too: a run record says exactly what was built.
    if (const ModelFamily* f = findFamily(s.family)) {
        for (const ParamDecl& d : f->params) {
            auto it = s.params.find(d.key);
            j[d.key] = valueToJson(d, it != s.params.end() ? it->second : d.def);
        }
    }
    return j;
}

ModelSpec specFromJson(const nlohmann::json& j) {
    if (!j.is_object()) {
        throw SpecError("model spec: not a JSON object");
    }
    ModelSpec s;
    s.family = field<std::string>(j, "family");
    const ModelFamily& family = familyOf(s.family);
    s.name = field<std::string>(j, "name");
    s.inChannels = field<int>(j, "in_channels");
    s.numClasses = field<int>(j, "num_classes");
    s.resolution = field<int>(j, "resolution");
    s.baseResolution = optionalField<int>(j, "base_resolution", s.resolution);
    // Run records of ScaleLab 0.1 wrote no width/depth for ResNets: they were 1.
    s.width = optionalField<double>(j, "width", 1.0);
    s.depth = optionalField<double>(j, "depth", 1.0);
    s.resolutionCoef = optionalField<double>(j, "resolution_coef", 1.0);
    for (auto it = j.begin(); it != j.end(); ++it) {
        bool common = false;
        for (const char* k : kCommonKeys) {
            common = common || it.key() == k;
        }
        if (common) {
            continue;
        }
        const ParamDecl* d = family.findParam(it.key());
        if (!d) {
            throw SpecError("model spec: field '" + it.key() + "' is not a parameter of " +
                            family.id);
        }
        s.params[d->key] = valueFromJson(*d, it.value());
    }
    validateSpec(s);
    return s;
}

nlohmann::ordered_json planToJson(const ArchPlan& plan) {
    nlohmann::ordered_json j;
    j["spec"] = specToJson(plan.spec);
    nlohmann::ordered_json inner = nlohmann::ordered_json::array();
    for (const BlockPlan& b : plan.blocks) {
        inner.push_back(b.inner);
    }
    j["inner_widths"] = inner;
    j["params"] = plan.params;
    j["macs"] = plan.macs;
    nlohmann::ordered_json stages = nlohmann::ordered_json::array();
    for (const PlanStage& s : plan.stages) {
        stages.push_back({{"index", s.index},
                          {"name", s.name},
                          {"module", s.module},
                          {"channels", s.channels},
                          {"side", s.side},
                          {"reduction", s.reduction},
                          {"repeats", s.repeats}});
    }
    j["stages"] = stages;
    nlohmann::ordered_json layers = nlohmann::ordered_json::array();
    for (const PlanLayer& l : plan.layers) {
        nlohmann::ordered_json o;
        o["path"] = l.path;
        o["kind"] = layerKindName(l.kind);
        o["stage"] = l.stage;
        o["in"] = l.in;
        o["out"] = l.out;
        if (l.kind == LayerKind::Conv || l.kind == LayerKind::DepthwiseConv ||
            l.kind == LayerKind::MaxPool) {
            o["kernel"] = l.kernel;
            o["stride"] = l.stride;
        }
        if (l.groups != 1) {
            o["groups"] = l.groups;
        }
        if (l.kind == LayerKind::SqueezeExcite) {
            o["squeeze"] = l.squeeze;
        }
        if (l.act != ActKind::None) {
            o["act"] = actKindName(l.act);
        }
        o["in_side"] = l.inSide;
        o["out_side"] = l.outSide;
        o["params"] = l.params;
        o["macs"] = l.macs;
        layers.push_back(o);
    }
    j["layers"] = layers;
    return j;
}

ArchPlan planFromJson(const nlohmann::json& j) {
    if (!j.is_object() || !j.contains("spec")) {
        throw SpecError("model plan: 'spec' is missing");
    }
    const ModelSpec spec = specFromJson(j.at("spec"));
    const ArchPlan planned = planModel(spec);
    InnerWidths inner;
    if (j.contains("inner_widths")) {
        try {
            inner = j.at("inner_widths").get<InnerWidths>();
        } catch (const nlohmann::json::exception&) {
            throw SpecError("model plan: 'inner_widths' is not a list of lists of whole numbers");
        }
    } else if (j.contains("block_widths")) {
        // ScaleLab 0.1: per stage, per block {"expanded"} or {"mid", "mid2"}; the block's inner
        // slots take its values in that order.
        const auto& stages = j.at("block_widths");
        if (!stages.is_array()) {
            throw SpecError("model plan: 'block_widths' is not a list");
        }
        size_t b = 0;
        for (const auto& blocks : stages) {
            if (!blocks.is_array()) {
                throw SpecError("model plan: 'block_widths' has a stage that is not a list");
            }
            for (const auto& o : blocks) {
                if (b >= planned.blocks.size()) {
                    throw SpecError(
                        "model plan: block_widths lists more blocks than the model has");
                }
                std::vector<int> values;
                for (const char* key : {"expanded", "mid", "mid2"}) {
                    if (o.is_object() && o.contains(key) && o.at(key).is_number_integer()) {
                        values.push_back(o.at(key).get<int>());
                    }
                }
                const size_t slots = planned.blocks[b].inner.size();
                if (values.size() < slots) {
                    throw SpecError("model plan: block " + planned.blocks[b].path +
                                    " lacks its inner widths");
                }
                values.resize(slots);
                inner.push_back(values);
                ++b;
            }
        }
    } else {
        throw SpecError("model plan: 'inner_widths' is missing");
    }
    return planModel(spec, inner);
}

}  // namespace scalelab
