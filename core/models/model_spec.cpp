// What every family shares: the rounding rules, scaling, name resolution and validation. The
// families' own tables live in core/models/families/.

#include "core/models/model_spec.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/error.h"
#include "core/models/family.h"

namespace scalelab {

void checkPlanOf(const ModelSpec& spec);  // plan.cpp: the stride walk

namespace {

std::string fmt(double v, int digits = 2) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.*f", digits, v);
    return buf;
}

void requirePositive(double v, const std::string& what) {
    if (!std::isfinite(v)) {
        throw SpecError(what + " is " + (std::isnan(v) ? "NaN" : "infinite") +
                        "; it must be a finite positive number");
    }
    if (v <= 0) {
        throw SpecError(what + " = " + fmt(v, 3) + " must be positive");
    }
}

const ParamValue& storedOrDefault(const ModelSpec& spec, const std::string& key) {
    auto it = spec.params.find(key);
    if (it != spec.params.end()) {
        return it->second;
    }
    const ParamDecl* decl = familyOf(spec.family).findParam(key);
    if (!decl) {
        throw SpecError("model " + spec.name + ": '" + key + "' is not a parameter of " +
                        spec.family);
    }
    return decl->def;
}

template <typename T>
const T& as(const ModelSpec& spec, const std::string& key, const char* kind) {
    const ParamValue& v = storedOrDefault(spec, key);
    if (const T* p = std::get_if<T>(&v)) {
        return *p;
    }
    throw SpecError("model " + spec.name + ": parameter '" + key + "' is not " + kind);
}

}  // namespace

double ModelSpec::number(const std::string& key) const {
    return as<double>(*this, key, "a number");
}
std::string ModelSpec::text(const std::string& key) const {
    return as<std::string>(*this, key, "a text");
}
std::vector<int> ModelSpec::list(const std::string& key) const {
    return as<std::vector<int>>(*this, key, "a list of whole numbers");
}

int makeDivisible(double v, int divisor) {
    const int minValue = divisor;
    int newV = std::max(minValue, int(v + divisor / 2.0) / divisor * divisor);
    if (newV < 0.9 * v) {
        newV += divisor;
    }
    return newV;
}

int roundFilters(int channels, double width) {
    // At w = 1 a table's own widths stay (all published tables are multiples of 8 anyway).
    return width == 1.0 ? channels : makeDivisible(channels * width, 8);
}

int roundRepeats(int repeats, double depth) {
    return int(std::ceil(repeats * depth));
}

double compoundFlopsBase(double alpha, double beta, double gamma) {
    return alpha * beta * beta * gamma * gamma;
}

namespace {
// A scaling's factor for one dimension: 1, the manual multiplier, or base^phi.
double factor(Scaling::Mode mode, double manual, double base, double phi) {
    switch (mode) {
        case Scaling::Mode::None:
            return 1.0;
        case Scaling::Mode::Manual:
            return manual;
        case Scaling::Mode::Compound:
            return std::pow(base, phi);
    }
    return 1.0;
}
}  // namespace

double Scaling::widthFactor() const {
    return factor(mode, width, beta, phi);
}
double Scaling::depthFactor() const {
    return factor(mode, depth, alpha, phi);
}
double Scaling::resolutionFactor() const {
    return factor(mode, resolution, gamma, phi);
}

ModelSpec applyScaling(ModelSpec spec, const Scaling& s) {
    switch (s.mode) {
        case Scaling::Mode::None:
            validateSpec(spec);
            return spec;
        case Scaling::Mode::Manual:
            requirePositive(s.width, "width coefficient");
            requirePositive(s.depth, "depth coefficient");
            requirePositive(s.resolution, "resolution coefficient");
            spec.name += " w=" + fmt(s.width) + " d=" + fmt(s.depth) + " r=" + fmt(s.resolution);
            break;
        case Scaling::Mode::Compound:
            if (!std::isfinite(s.phi) || s.phi < 0) {
                throw SpecError("compound coefficient phi = " + fmt(s.phi, 3) +
                                " must be a finite number >= 0");
            }
            requirePositive(s.alpha, "alpha (depth base)");
            requirePositive(s.beta, "beta (width base)");
            requirePositive(s.gamma, "gamma (resolution base)");
            spec.name += " phi=" + fmt(s.phi);
            break;
    }
    spec.width *= s.widthFactor();
    spec.depth *= s.depthFactor();
    spec.resolutionCoef *= s.resolutionFactor();
    requirePositive(spec.width, "width coefficient");
    requirePositive(spec.depth, "depth coefficient");
    requirePositive(spec.resolutionCoef, "resolution coefficient");
    if (s.resolutionMultiple < 0 || s.resolutionMultiple > 2048) {
        throw SpecError("resolution multiple = " + std::to_string(s.resolutionMultiple) +
                        " px must be 0..2048 (0 = off)");
    }
    double px = std::round(spec.baseResolution * spec.resolutionCoef);
    if (const int n = s.resolutionMultiple; n > 0) {
        px = std::max(1.0, std::round(spec.baseResolution * spec.resolutionCoef / n)) * n;
        spec.name += " res-multiple=" + std::to_string(n);
    }
    spec.resolution = px > 1e6 ? 1000000 : int(px);
    validateSpec(spec);
    return spec;
}

ModelSpec modelSpecFromName(const std::string& name, int inChannels, int numClasses,
                            int baseResolution) {
    std::optional<ModelSpec> found;
    for (const ModelFamily* f : families()) {
        if (name == f->id) {
            found = f->presetSpec(nullptr);
        } else if (const PresetDecl* p = f->findPreset(name)) {
            found = f->presetSpec(p);
        } else if (auto parsed = f->parseName(name)) {
            found = parsed;
        }
        if (found) {
            break;
        }
    }
    if (!found) {
        std::string names;
        for (const ModelFamily* f : families()) {
            names += "\n  " + f->id + ":";
            for (const PresetDecl& p : f->presets) {
                names += " " + p.name;
            }
            if (!f->customNameHint.empty()) {
                names += " " + f->customNameHint;
            }
        }
        throw SpecError("unknown model '" + name + "'; the registered models are:" + names);
    }
    ModelSpec spec = *found;
    spec.inChannels = inChannels;
    if (numClasses > 0) {
        spec.numClasses = numClasses;
    }
    if (baseResolution > 0) {
        spec.baseResolution = baseResolution;
        spec.resolution = int(std::lround(baseResolution * spec.resolutionCoef));
    }
    validateSpec(spec);
    return spec;
}

void validateSpecFields(const ModelSpec& spec) {
    const ModelFamily& family = familyOf(spec.family);
    const std::string who = "model " + spec.name + ": ";
    if (spec.inChannels < 1 || spec.inChannels > 64) {
        throw SpecError(who + "input channels = " + std::to_string(spec.inChannels) +
                        " must be 1..64");
    }
    if (spec.numClasses < 1 || spec.numClasses > 100000) {
        throw SpecError(who + "number of classes = " + std::to_string(spec.numClasses) +
                        " must be 1..100000");
    }
    if (spec.resolution < 1 || spec.resolution > 2048) {
        throw SpecError(who + "resolution = " + std::to_string(spec.resolution) +
                        " px must be 1..2048");
    }
    if (spec.baseResolution < 1 || spec.baseResolution > 2048) {
        throw SpecError(who + "base resolution = " + std::to_string(spec.baseResolution) +
                        " px must be 1..2048");
    }
    requirePositive(spec.width, who + "width coefficient");
    requirePositive(spec.depth, who + "depth coefficient");
    requirePositive(spec.resolutionCoef, who + "resolution coefficient");
    if (spec.width > 20 || spec.depth > 20) {
        throw SpecError(who + "width " + fmt(spec.width) + " / depth " + fmt(spec.depth) +
                        " above 20 would not fit in memory (allowed: 0 < w, d <= 20)");
    }
    for (const auto& [key, value] : spec.params) {
        const ParamDecl* decl = family.findParam(key);
        if (!decl) {
            std::string known;
            for (const ParamDecl& d : family.params) {
                known += (known.empty() ? "" : ", ") + d.key;
            }
            throw SpecError(who + "'" + key + "' is not a parameter of " + family.id +
                            " (its parameters: " + known + ")");
        }
        checkParam(*decl, value, who);
    }
    family.check(spec);
}

void validateSpec(const ModelSpec& spec) {
    validateSpecFields(spec);
    checkPlanOf(spec);
}

std::string describeSpec(const ModelSpec& spec) {
    return spec.name + " (w=" + fmt(spec.width) + ", d=" + fmt(spec.depth) + ", " +
           std::to_string(spec.resolution) + " px)";
}

}  // namespace scalelab
