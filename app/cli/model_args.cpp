#include "app/cli/model_args.h"

#include <cmath>
#include <cstdlib>

#include "core/error.h"
#include "core/models/family.h"

namespace scalelab::cli {

namespace {

const char* const kScalingOptions[] = {"width", "depth", "resolution", "phi",
                                       "alpha", "beta",  "gamma"};

std::string optionOf(const std::string& key) {
    std::string o = key;
    for (char& c : o) {
        c = c == '_' ? '-' : c;
    }
    return o;
}

// A number as given (NaN and infinity pass, so the spec check names the coefficient).
double number(const Args& args, const std::string& name, double fallback) {
    if (!args.has(name)) {
        return fallback;
    }
    const std::string text = args.get(name);
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (text.empty() || *end != '\0') {
        throw UsageError("--" + name + " expects a number, got '" + text + "'");
    }
    return v;
}

std::string wrap(const std::string& text, size_t indent, size_t width = 96) {
    std::string out, line;
    size_t start = 0;
    while (start <= text.size()) {
        size_t end = text.find(' ', start);
        if (end == std::string::npos) {
            end = text.size();
        }
        const std::string word = text.substr(start, end - start);
        if (!line.empty() && indent + line.size() + 1 + word.size() > width) {
            out += std::string(indent, ' ') + line + "\n";
            line.clear();
        }
        line += (line.empty() ? "" : " ") + word;
        start = end + 1;
    }
    if (!line.empty()) {
        out += std::string(indent, ' ') + line + "\n";
    }
    return out;
}

}  // namespace

const std::set<std::string>& modelValueOptions() {
    static const std::set<std::string> opts = [] {
        std::set<std::string> o = {"model", "base-resolution", "in-channels", "num-classes"};
        for (const char* s : kScalingOptions) {
            o.insert(s);
        }
        for (const ModelFamily* f : families()) {
            for (const ParamDecl& d : f->params) {
                o.insert(optionOf(d.key));
            }
        }
        return o;
    }();
    return opts;
}

ModelArgs parseModelArgs(const Args& args) {
    const std::string name = args.get("model", "efficientnet-b0");
    const int inChannels = args.getInt("in-channels", 3, 1, 64);
    const int numClasses = args.has("num-classes") ? args.getInt("num-classes", 0, 1, 100000) : 0;
    if (args.has("num-classes") && numClasses < 1) {
        throw SpecError("--num-classes = " + args.get("num-classes") + " must be 1..100000");
    }
    int baseResolution = 0;
    if (args.has("base-resolution")) {
        baseResolution = args.getInt("base-resolution", 0, 1, 2048);
        if (baseResolution < 1 || baseResolution > 2048) {
            throw SpecError("--base-resolution = " + args.get("base-resolution") +
                            " px must be 1..2048");
        }
    }
    ModelArgs m;
    m.base = modelSpecFromName(name, inChannels, numClasses, baseResolution);
    const ModelFamily& family = familyOf(m.base.family);

    // The family's own parameters; another family's are a usage mistake.
    for (const ModelFamily* f : families()) {
        for (const ParamDecl& d : f->params) {
            const std::string opt = optionOf(d.key);
            if (!args.has(opt) || family.findParam(d.key)) {
                continue;
            }
            std::string own;
            for (const ParamDecl& p : family.params) {
                own += (own.empty() ? "" : ", ") + ("--" + optionOf(p.key));
            }
            throw UsageError("--" + opt + " is not a parameter of " + family.id + " (" + name +
                             "); its parameters: " + (own.empty() ? "none" : own));
        }
    }
    ParamMap given;
    for (const ParamDecl& d : family.params) {
        const std::string opt = optionOf(d.key);
        if (args.has(opt)) {
            given[d.key] = parseParam(d, args.get(opt));
        }
    }
    m.base = customizeSpec(m.base, given);

    const bool manual = args.has("width") || args.has("depth") || args.has("resolution");
    const bool compound = args.has("phi");
    if (manual && compound) {
        throw UsageError("give either --width/--depth/--resolution or --phi, not both");
    }
    if (!compound && (args.has("alpha") || args.has("beta") || args.has("gamma"))) {
        throw UsageError("--alpha/--beta/--gamma need --phi");
    }
    Scaling& s = m.scaling;
    s.mode = manual     ? Scaling::Mode::Manual
             : compound ? Scaling::Mode::Compound
                        : Scaling::Mode::None;
    s.width = number(args, "width", 1.0);
    s.depth = number(args, "depth", 1.0);
    s.resolution = number(args, "resolution", 1.0);
    s.phi = number(args, "phi", 0.0);
    s.alpha = number(args, "alpha", 1.2);
    s.beta = number(args, "beta", 1.1);
    s.gamma = number(args, "gamma", 1.15);
    m.spec = applyScaling(m.base, s);
    return m;
}

std::string modelOptionsHelp() {
    std::string h = "model options:\n";
    h += "  --model NAME          a family (its default preset) or a preset:\n";
    for (const ModelFamily* f : families()) {
        std::string names = f->id + ":";
        for (const PresetDecl& p : f->presets) {
            names += " " + p.name;
        }
        if (!f->customNameHint.empty()) {
            names += " " + f->customNameHint;
        }
        h += wrap(names, 24);
    }
    h += R"(  --width W --depth D --resolution R
                        scale any family: channels x W (rounded to multiples of 8), repeats
                        x D (rounded up), input side x R
  --phi P [--alpha A --beta B --gamma G]
                        compound scaling of any family: d = A^P, w = B^P, r = G^P
                        (defaults 1.2, 1.1, 1.15); MACs grow about (A*B^2*G^2)^P
  --base-resolution PX  input side at r = 1 (default 224; 32 for resnet-cifar-N)
  --in-channels C       image channels (default 3)
  --num-classes K       classifier outputs (default 1000; 10 for resnet-cifar-N)
)";
    for (const ModelFamily* f : families()) {
        if (f->params.empty()) {
            continue;
        }
        h += "  " + f->id + " parameters:\n";
        for (const ParamDecl& d : f->params) {
            std::string opt = "    --" + optionOf(d.key) + " " + paramRange(d);
            h += opt + "\n" + wrap(d.meaning + " (default " + paramText(d.def) + ")", 24);
        }
    }
    return h;
}

}  // namespace scalelab::cli
