// The family registry: one registration line per family, and what every family shares
// (parameter parsing and checking, preset lookup).

#include <cmath>
#include <cstdio>
#include <sstream>

#include "core/error.h"
#include "core/models/family.h"

namespace scalelab {

// Each family's file defines its accessor.
const ModelFamily& efficientNetFamily();  // families/efficientnet.cpp
const ModelFamily& resNetFamily();        // families/resnet.cpp
const ModelFamily& mobileNetV2Family();   // families/mobilenet_v2.cpp

const std::vector<const ModelFamily*>& families() {
    static const std::vector<const ModelFamily*> all = {
        &efficientNetFamily(),
        &resNetFamily(),
        &mobileNetV2Family(),
    };
    return all;
}

const ModelFamily* findFamily(const std::string& id) {
    for (const ModelFamily* f : families()) {
        if (f->id == id || f->label == id) {
            return f;
        }
    }
    return nullptr;
}

std::string familyList() {
    std::string s;
    for (const ModelFamily* f : families()) {
        s += (s.empty() ? "" : ", ") + f->id;
    }
    return s;
}

const ModelFamily& familyOf(const std::string& id) {
    if (const ModelFamily* f = findFamily(id)) {
        return *f;
    }
    throw SpecError("model family '" + id + "' is not registered (registered: " + familyList() +
                    ")");
}

const ParamDecl* ModelFamily::findParam(const std::string& key) const {
    for (const ParamDecl& p : params) {
        if (p.key == key) {
            return &p;
        }
    }
    return nullptr;
}

const PresetDecl* ModelFamily::findPreset(const std::string& name) const {
    for (const PresetDecl& p : presets) {
        if (p.name == name) {
            return &p;
        }
        for (const std::string& a : p.aliases) {
            if (a == name) {
                return &p;
            }
        }
    }
    return nullptr;
}

ModelSpec ModelFamily::presetSpec(const PresetDecl* preset) const {
    if (!preset) {
        preset = &presets.front();
    }
    ModelSpec spec;
    spec.family = id;
    spec.name = preset->name;
    spec.params = preset->values;
    spec.width = preset->width;
    spec.depth = preset->depth;
    spec.resolutionCoef = preset->resolutionCoef;
    spec.baseResolution =
        preset->baseResolution > 0 ? preset->baseResolution : defaultBaseResolution;
    spec.resolution = int(std::lround(spec.baseResolution * spec.resolutionCoef));
    spec.numClasses = preset->numClasses > 0 ? preset->numClasses : 1000;
    return spec;
}

ModelSpec customizeSpec(ModelSpec spec, const ParamMap& values) {
    const ModelFamily& family = familyOf(spec.family);
    std::string changes;
    for (const auto& [key, value] : values) {
        const ParamDecl* d = family.findParam(key);
        if (!d) {
            throw SpecError("'" + key + "' is not a parameter of " + family.id);
        }
        checkParam(*d, value, "");
        auto it = spec.params.find(key);
        const ParamValue& before = it != spec.params.end() ? it->second : d->def;
        if (value != before) {
            changes += " " + key + "=" + paramText(value);
        }
        spec.params[key] = value;
    }
    spec.name += changes;
    validateSpec(spec);
    return spec;
}

void addBatchNormMembers(PruneGroup& g, const std::string& module) {
    for (const char* f : {".weight", ".bias", ".running_mean", ".running_var"}) {
        g.members.emplace_back(module + f, 0);
    }
}

namespace {

std::string num(double v) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.10g", v);
    return buf;
}

}  // namespace

std::string paramText(const ParamValue& v) {
    if (const double* d = std::get_if<double>(&v)) {
        return num(*d);
    }
    if (const std::string* s = std::get_if<std::string>(&v)) {
        return *s;
    }
    std::string out;
    for (int n : std::get<std::vector<int>>(v)) {
        out += (out.empty() ? "" : ",") + std::to_string(n);
    }
    return out;
}

std::string paramRange(const ParamDecl& d) {
    switch (d.kind) {
        case ParamKind::Int:
        case ParamKind::Real:
            return num(d.min) + ".." + num(d.max);
        case ParamKind::Choice: {
            std::string s;
            for (const std::string& c : d.choices) {
                s += (s.empty() ? "" : "|") + c;
            }
            return s;
        }
        case ParamKind::IntList:
            return "1.." + std::to_string(d.maxItems) + " comma-separated values of " + num(d.min) +
                   ".." + num(d.max);
    }
    return {};
}

void checkParam(const ParamDecl& d, const ParamValue& v, const std::string& who) {
    const std::string name = who + d.label + " (" + d.key + ")";
    const std::string allowed = " (allowed: " + paramRange(d) + ")";
    switch (d.kind) {
        case ParamKind::Int:
        case ParamKind::Real: {
            const double* x = std::get_if<double>(&v);
            if (!x) {
                throw SpecError(name + " must be a number" + allowed);
            }
            if (!std::isfinite(*x)) {
                throw SpecError(name + " is " + (std::isnan(*x) ? "NaN" : "infinite") + allowed);
            }
            if (d.kind == ParamKind::Int && *x != std::floor(*x)) {
                throw SpecError(name + " = " + num(*x) + " must be a whole number" + allowed);
            }
            if (*x < d.min || *x > d.max) {
                throw SpecError(name + " = " + num(*x) + " is out of range" + allowed);
            }
            return;
        }
        case ParamKind::Choice: {
            const std::string* s = std::get_if<std::string>(&v);
            if (!s) {
                throw SpecError(name + " must be one of " + paramRange(d));
            }
            for (const std::string& c : d.choices) {
                if (c == *s) {
                    return;
                }
            }
            throw SpecError(name + " = '" + *s + "' is not one of " + paramRange(d));
        }
        case ParamKind::IntList: {
            const auto* l = std::get_if<std::vector<int>>(&v);
            if (!l) {
                throw SpecError(name + " must be a list of whole numbers" + allowed);
            }
            if (l->empty() || int(l->size()) > d.maxItems) {
                throw SpecError(name + " has " + std::to_string(l->size()) + " values" + allowed);
            }
            for (size_t i = 0; i < l->size(); ++i) {
                if ((*l)[i] < d.min || (*l)[i] > d.max) {
                    throw SpecError(name + ": value " + std::to_string(i + 1) + " = " +
                                    std::to_string((*l)[i]) + " is out of range" + allowed);
                }
            }
            return;
        }
    }
}

ParamValue parseParam(const ParamDecl& d, const std::string& text) {
    const std::string name = d.label + " (" + d.key + ")";
    auto number = [&](const std::string& t) -> double {
        const char* begin = t.c_str();
        char* end = nullptr;
        const double v = std::strtod(begin, &end);
        if (t.empty() || end == begin || *end != '\0') {
            throw SpecError(name + ": '" + t + "'" + (t == text ? "" : " in '" + text + "'") +
                            " is not a number (allowed: " + paramRange(d) + ")");
        }
        return v;
    };
    ParamValue v;
    switch (d.kind) {
        case ParamKind::Int:
        case ParamKind::Real:
            v = number(text);
            break;
        case ParamKind::Choice:
            v = text;
            break;
        case ParamKind::IntList: {
            std::vector<int> list;
            std::stringstream ss(text);
            std::string item;
            while (std::getline(ss, item, ',')) {
                const double x = number(item);
                if (x != std::floor(x) || x < -1e9 || x > 1e9) {
                    throw SpecError(name + ": '" + item +
                                    "' is not a whole number (allowed: " + paramRange(d) + ")");
                }
                list.push_back(int(x));
            }
            v = list;
            break;
        }
    }
    checkParam(d, v, "");
    return v;
}

}  // namespace scalelab
