#pragma once
// Every enum <-> name mapping that ScaleLab writes into its files (run records, plans, pruning
// results), in one place: nlohmann's to_json/from_json through NLOHMANN_JSON_SERIALIZE_ENUM.
// The name functions of the enums' own headers (optimizerName, runStateName, layerKindName, ...)
// and every reader go through these tables, so a name is spelled exactly once.

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/models/arch_plan.h"
#include "core/prune/prune_api.h"
#include "core/train/train_api.h"

namespace scalelab {

NLOHMANN_JSON_SERIALIZE_ENUM(OptimizerKind, {
                                                {OptimizerKind::SGD, "sgd"},
                                                {OptimizerKind::AdamW, "adamw"},
                                            })

NLOHMANN_JSON_SERIALIZE_ENUM(LayoutChoice, {
                                               {LayoutChoice::Auto, "auto"},
                                               {LayoutChoice::Nchw, "nchw"},
                                               {LayoutChoice::ChannelsLast, "channels-last"},
                                           })

NLOHMANN_JSON_SERIALIZE_ENUM(DepthwiseChoice, {
                                                  {DepthwiseChoice::Auto, "auto"},
                                                  {DepthwiseChoice::Ours, "ours"},
                                                  {DepthwiseChoice::LibTorch, "libtorch"},
                                              })

NLOHMANN_JSON_SERIALIZE_ENUM(ScheduleKind, {
                                               {ScheduleKind::Cosine, "cosine"},
                                               {ScheduleKind::Step, "step"},
                                               {ScheduleKind::Constant, "constant"},
                                           })

// Failed first: the macro maps an unknown name to the first entry, and a state nobody knows is
// no success.
NLOHMANN_JSON_SERIALIZE_ENUM(RunState, {
                                           {RunState::Failed, "failed"},
                                           {RunState::Running, "running"},
                                           {RunState::Completed, "completed"},
                                           {RunState::Cancelled, "cancelled"},
                                           {RunState::Diverged, "diverged"},
                                       })

NLOHMANN_JSON_SERIALIZE_ENUM(PruneMethod, {
                                              {PruneMethod::MagnitudeGlobal, "magnitude-global"},
                                              {PruneMethod::MagnitudeLayer, "magnitude-layer"},
                                              {PruneMethod::L1Structured, "l1-structured"},
                                          })

NLOHMANN_JSON_SERIALIZE_ENUM(LayerKind, {
                                            {LayerKind::Conv, "conv"},
                                            {LayerKind::DepthwiseConv, "dwconv"},
                                            {LayerKind::BatchNorm, "bn"},
                                            {LayerKind::Activation, "act"},
                                            {LayerKind::SqueezeExcite, "se"},
                                            {LayerKind::MaxPool, "maxpool"},
                                            {LayerKind::GlobalPool, "globalpool"},
                                            {LayerKind::Dropout, "dropout"},
                                            {LayerKind::Linear, "linear"},
                                            {LayerKind::ResidualAdd, "add"},
                                        })

NLOHMANN_JSON_SERIALIZE_ENUM(ActKind, {
                                          {ActKind::None, "none"},
                                          {ActKind::ReLU, "relu"},
                                          {ActKind::ReLU6, "relu6"},
                                          {ActKind::SiLU, "silu"},
                                      })

namespace detail {

// The names of an enum's table in declaration order of its values (values 0, 1, 2, ... until
// the table has no entry: then the macro answers the first entry's name again).
template <typename E>
const std::map<E, std::string>& enumNames() {
    static const std::map<E, std::string> names = [] {
        std::map<E, std::string> m;
        std::vector<std::string> seen;
        for (int i = 0; i < 64; ++i) {
            const std::string n = nlohmann::json(static_cast<E>(i)).template get<std::string>();
            bool repeated = false;
            for (const std::string& s : seen) {
                repeated = repeated || s == n;
            }
            if (repeated) {
                break;
            }
            seen.push_back(n);
            m.emplace(static_cast<E>(i), n);
        }
        return m;
    }();
    return names;
}

}  // namespace detail

// The name an enum value is written as ("sgd", "completed", "l1-structured").
template <typename E>
const char* enumName(E value) {
    const auto& names = detail::enumNames<E>();
    const auto it = names.find(value);
    return it == names.end() ? "?" : it->second.c_str();
}

// Every name of an enum, in value order ("sgd, adamw"), for messages and help texts.
template <typename E>
std::vector<std::string> enumNameList() {
    std::vector<std::string> out;
    for (const auto& [value, name] : detail::enumNames<E>()) {
        out.push_back(name);
    }
    return out;
}

// The value of a name; an unknown name throws SpecError naming `what` and the allowed names
// (the macro alone would silently answer its first entry).
template <typename E>
E enumFromName(const std::string& name, const std::string& what) {
    for (const auto& [value, n] : detail::enumNames<E>()) {
        if (n == name) {
            return value;
        }
    }
    std::string allowed;
    for (const std::string& n : enumNameList<E>()) {
        allowed += (allowed.empty() ? "" : ", ") + n;
    }
    throw SpecError(what + " '" + name + "' is not one of: " + allowed);
}

// A JSON string holding an enum's name (SpecError naming `what` when it is not a string or not
// a known name).
template <typename E>
E enumFromJson(const nlohmann::json& j, const std::string& what) {
    if (!j.is_string()) {
        throw SpecError(what + " must be a name (a string)");
    }
    return enumFromName<E>(j.get<std::string>(), what);
}

}  // namespace scalelab
