#include "app/cli/model_args.h"

#include <sstream>

namespace scalelab::cli {

const char* const kModelOptionsHelp =
    R"(model options:
  --model NAME          efficientnet, efficientnet-b0..b7, resnet-18/34/50/101/152,
                        resnet-cifar-N (N = 6n+2), resnet (custom, with --blocks)
  --width W --depth D --resolution R
                        EfficientNet multipliers (manual scaling)
  --phi P [--alpha A --beta B --gamma G]
                        EfficientNet compound scaling: d = A^P, w = B^P, r = G^P
                        (defaults 1.2, 1.1, 1.15)
  --base-resolution PX  what the resolution coefficient multiplies (default 224; 32 for
                        resnet-cifar-N); for ResNet it is the input size
  --in-channels C       image channels (default 3)
  --num-classes K       classifier outputs (default 1000; 10 for resnet-cifar-N)
  --blocks 2,2,2,2      ResNet blocks per stage        --block basic|bottleneck
  --base-width W        ResNet first-stage width (64)  --stem auto|imagenet|small
  --shortcut projection|zero-pad                       ResNet downsampling shortcut
)";

const std::set<std::string>& modelValueOptions() {
    static const std::set<std::string> opts = {
        "model", "width",           "depth",       "resolution",  "phi",    "alpha", "beta",
        "gamma", "base-resolution", "in-channels", "num-classes", "blocks", "block", "base-width",
        "stem",  "shortcut"};
    return opts;
}

namespace {

std::vector<int> parseBlocks(const std::string& text) {
    std::vector<int> out;
    std::stringstream ss(text);
    std::string item;
    while (std::getline(ss, item, ',')) {
        try {
            size_t used = 0;
            out.push_back(std::stoi(item, &used));
            if (used != item.size()) {
                throw std::invalid_argument("trailing");
            }
        } catch (const std::exception&) {
            throw UsageError("--blocks expects comma-separated integers like 2,2,2,2, got '" +
                             text + "'");
        }
    }
    return out;
}

}  // namespace

CompoundInfo compoundFromArgs(const Args& args) {
    CompoundInfo c;
    if (args.has("phi")) {
        c.given = true;
        c.phi = args.getDouble("phi", 0);
        c.alpha = args.getDouble("alpha", 1.2);
        c.beta = args.getDouble("beta", 1.1);
        c.gamma = args.getDouble("gamma", 1.15);
    }
    return c;
}

ModelSpec modelSpecFromArgs(const Args& args) {
    const std::string name = args.get("model", "efficientnet-b0");
    const bool cifar = name.rfind("resnet-cifar-", 0) == 0;
    const int inChannels = args.getInt("in-channels", 3);
    const int numClasses = args.getInt("num-classes", cifar ? 10 : 1000);
    const bool manual = args.has("width") || args.has("depth") || args.has("resolution");
    const bool compound = args.has("phi");
    const bool effnet = name.rfind("efficientnet", 0) == 0;
    if (!effnet && (manual || compound)) {
        throw UsageError("--width/--depth/--resolution/--phi scale EfficientNet, not " + name);
    }
    if (manual && compound) {
        throw UsageError("give either --width/--depth/--resolution or --phi, not both");
    }
    if (!compound && (args.has("alpha") || args.has("beta") || args.has("gamma"))) {
        throw UsageError("--alpha/--beta/--gamma need --phi");
    }
    const bool resnetOptions = args.has("blocks") || args.has("block") || args.has("base-width") ||
                               args.has("stem") || args.has("shortcut");
    if (effnet && resnetOptions) {
        throw UsageError("--blocks/--block/--base-width/--stem/--shortcut apply to ResNet only");
    }

    if (effnet) {
        EfficientNetScaling s;
        s.baseResolution = args.getInt("base-resolution", 224);
        if (manual || compound) {
            if (name != "efficientnet") {
                throw UsageError(name + " is a preset; scale plain 'efficientnet' instead");
            }
            s.mode =
                manual ? EfficientNetScaling::Mode::Manual : EfficientNetScaling::Mode::Compound;
            s.width = args.getDouble("width", 1.0);
            s.depth = args.getDouble("depth", 1.0);
            s.resolution = args.getDouble("resolution", 1.0);
            const CompoundInfo c = compoundFromArgs(args);
            s.phi = c.phi;
            s.alpha = c.alpha;
            s.beta = c.beta;
            s.gamma = c.gamma;
        } else {
            s.mode = EfficientNetScaling::Mode::Preset;
            modelSpecFromName(name);  // rejects an unknown preset with a clear message
            s.preset = name == "efficientnet" ? 0 : std::stoi(name.substr(14));
        }
        return efficientNetSpec(s, inChannels, numClasses);
    }

    ModelSpec spec = modelSpecFromName(name, inChannels, numClasses);
    spec.resolution = args.getInt("base-resolution", cifar ? 32 : 224);
    spec.baseResolution = spec.resolution;
    if (args.has("blocks")) {
        if (name != "resnet") {
            throw UsageError("--blocks customizes plain 'resnet', not the preset " + name);
        }
        spec.blocks = parseBlocks(args.get("blocks"));
    }
    if (args.has("block")) {
        const std::string b = args.get("block");
        if (b != "basic" && b != "bottleneck") {
            throw UsageError("--block is basic or bottleneck, got '" + b + "'");
        }
        spec.block = b == "basic" ? BlockType::Basic : BlockType::Bottleneck;
    }
    spec.baseWidth = args.getInt("base-width", spec.baseWidth);
    if (args.has("stem")) {
        const std::string s = args.get("stem");
        if (s == "auto")
            spec.stem = StemType::Auto;
        else if (s == "imagenet")
            spec.stem = StemType::ImageNet;
        else if (s == "small")
            spec.stem = StemType::Small;
        else
            throw UsageError("--stem is auto, imagenet or small, got '" + s + "'");
    }
    if (args.has("shortcut")) {
        const std::string s = args.get("shortcut");
        if (s == "projection")
            spec.shortcut = Shortcut::Projection;
        else if (s == "zero-pad")
            spec.shortcut = Shortcut::ZeroPad;
        else
            throw UsageError("--shortcut is projection or zero-pad, got '" + s + "'");
    }
    if (name == "resnet") {
        spec.name = resNetCustom(spec.blocks, spec.block, spec.baseWidth, inChannels, numClasses,
                                 spec.resolution)
                        .name;
    }
    validateSpec(spec);
    return spec;
}

}  // namespace scalelab::cli
