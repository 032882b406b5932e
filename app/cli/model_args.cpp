#include "app/cli/model_args.h"

#include "app/cli/commands.h"
#include "app/cli/option_checks.h"
#include "core/error.h"
#include "core/models/family.h"

namespace scalelab::cli {

namespace {

const char* const kModelGroup = "model options";
const char* const kFamilyGroup = "family parameters (those of --model's family apply)";

std::string optionOf(const std::string& key) {
    std::string o = "--" + key;
    for (char& c : o) {
        c = c == '_' ? '-' : c;
    }
    return o;
}

const char* typeOf(ParamKind kind) {
    switch (kind) {
        case ParamKind::Int:
            return "INT";
        case ParamKind::Real:
            return "FLOAT";
        case ParamKind::Choice:
            return "TEXT";
        case ParamKind::IntList:
            return "INT,...";
    }
    return "TEXT";
}

}  // namespace

bool ModelOptions::given(const std::string& name) const {
    auto it = options.find(name);
    return it != options.end() && it->second->count() > 0;
}

void addModelOptions(CLI::App& sub, ModelOptions& m, bool scalingResolution) {
    auto add = [&](const std::string& name, auto& value, const std::string& description) {
        CLI::Option* o = sub.add_option(name, value, wrapText(description))->group(kModelGroup);
        m.options[name] = o;
        return o;
    };
    add("--model", m.model, "a family (its default preset) or a preset (model names below)")
        ->type_name("NAME")
        ->capture_default_str();
    Scaling& s = m.scaling;
    add("--width", s.width, "scale any family: channels x W (rounded to multiples of 8)")
        ->capture_default_str();
    add("--depth", s.depth, "scale any family: block repeats x D (rounded up)")
        ->capture_default_str();
    if (scalingResolution) {
        add("--resolution", s.resolution, "scale any family: input side x R")
            ->capture_default_str();
    }
    add("--phi", s.phi,
        std::string("compound scaling of any family: d = A^P, w = B^P, r = G^P; MACs grow "
                    "about (A*B^2*G^2)^P; not with --width/--depth") +
            (scalingResolution ? "/--resolution" : ""))
        ->capture_default_str();
    add("--alpha", s.alpha, "compound depth base A (with --phi)")->capture_default_str();
    add("--beta", s.beta, "compound width base B (with --phi)")->capture_default_str();
    add("--gamma", s.gamma, "compound resolution base G (with --phi)")->capture_default_str();
    add("--resolution-multiple", s.resolutionMultiple,
        "round the scaled input side to the nearest multiple of N px (at least N; 0 = off, "
        "e.g. 8, 16 or 32); with --phi or --width/--depth/--resolution")
        ->transform(Decimal)
        ->check(CLI::Range(0, 2048))
        ->capture_default_str();
    add("--base-resolution", m.baseResolution,
        "input side in px at r = 1 (default 224; 32 for resnet-cifar-N; train: 32 for images "
        "up to 64 px)")
        ->transform(Decimal)
        ->check(CLI::Range(1, 2048));
    add("--in-channels", m.inChannels, "image channels (default 3; train: the dataset's)")
        ->transform(Decimal)
        ->check(CLI::Range(1, 64));
    add("--num-classes", m.numClasses,
        "classifier outputs (default 1000; 10 for resnet-cifar-N; train: the dataset's)")
        ->transform(Decimal)
        ->check(CLI::Range(1, 100000));

    // Every family's parameters, one option per key: a key several families declare is one
    // option whose help names each. The family's own check reads the text (parseParam).
    std::map<std::string, std::string> help;
    std::vector<std::string> order;
    std::map<std::string, int> declaredBy;
    for (const ModelFamily* f : families()) {
        for (const ParamDecl& d : f->params) {
            declaredBy[d.key]++;
        }
    }
    for (const ModelFamily* f : families()) {
        for (const ParamDecl& d : f->params) {
            std::string line =
                d.meaning + ", " + paramRange(d) + " (default " + paramText(d.def) + ")";
            if (declaredBy[d.key] > 1) {
                line = f->id + ": " + line;
            }
            if (!help.count(d.key)) {
                order.push_back(d.key);
                CLI::Option* o = sub.add_option(optionOf(d.key), m.params[d.key]);
                o->type_name(typeOf(d.kind))->group(kFamilyGroup);
                m.options[optionOf(d.key)] = o;
            }
            help[d.key] += (help[d.key].empty() ? "" : "\n") + wrapText(line);
        }
    }
    for (const std::string& key : order) {
        sub.get_option(optionOf(key))->description(help[key]);
    }
}

ModelArgs parseModelArgs(const ModelOptions& o) {
    const std::string& name = o.model;
    ModelArgs m;
    m.base = modelSpecFromName(name, o.inChannels, o.numClasses, o.baseResolution);
    const ModelFamily& family = familyOf(m.base.family);

    // The family's own parameters; another family's are a usage mistake.
    for (const ModelFamily* f : families()) {
        for (const ParamDecl& d : f->params) {
            const std::string opt = optionOf(d.key);
            if (!o.given(opt) || family.findParam(d.key)) {
                continue;
            }
            std::string own;
            for (const ParamDecl& p : family.params) {
                own += (own.empty() ? "" : ", ") + optionOf(p.key);
            }
            throw UsageError(opt + " is not a parameter of " + family.id + " (" + name +
                             "); its parameters: " + (own.empty() ? "none" : own));
        }
    }
    ParamMap given;
    for (const ParamDecl& d : family.params) {
        if (o.given(optionOf(d.key))) {
            given[d.key] = parseParam(d, o.params.at(d.key));
        }
    }
    m.base = customizeSpec(m.base, given);

    const bool manual = o.given("--width") || o.given("--depth") || o.given("--resolution");
    const bool compound = o.given("--phi");
    if (manual && compound) {
        throw UsageError("give either --width/--depth/--resolution or --phi, not both");
    }
    if (!compound && (o.given("--alpha") || o.given("--beta") || o.given("--gamma"))) {
        throw UsageError("--alpha/--beta/--gamma need --phi");
    }
    if (!manual && !compound && o.given("--resolution-multiple")) {
        throw UsageError(
            "--resolution-multiple rounds a scaled side: it needs --phi or "
            "--width/--depth/--resolution");
    }
    // The numbers as given (NaN and infinity pass, so the spec check names the coefficient).
    m.scaling = o.scaling;
    m.scaling.mode = manual     ? Scaling::Mode::Manual
                     : compound ? Scaling::Mode::Compound
                                : Scaling::Mode::None;
    m.spec = applyScaling(m.base, m.scaling);
    return m;
}

std::string modelNamesHelp() {
    std::string h = "model names (--model): a family (its default preset) or a preset\n";
    for (const ModelFamily* f : families()) {
        std::string names = f->id + ":";
        for (const PresetDecl& p : f->presets) {
            names += " " + p.name;
        }
        if (!f->customNameHint.empty()) {
            names += " " + f->customNameHint;
        }
        std::string wrapped = wrapText(names, 92);
        for (size_t i = 0; (i = wrapped.find('\n', i)) != std::string::npos; i += 5) {
            wrapped.replace(i, 1, "\n    ");
        }
        h += "  " + wrapped + "\n";
    }
    return h;
}

}  // namespace scalelab::cli
