#pragma once
// What model to build, as plain data: a registered family (core/models/family.h), that family's
// own parameters by key, and the three scaling multipliers every family takes (width, depth,
// resolution, or compound phi with alpha, beta, gamma). Torch-free: the GUI includes it.
//
// The rounding rules live here; each family's stage table and presets live in its own file
// under core/models/families/.

#include <map>
#include <string>
#include <variant>
#include <vector>

namespace scalelab {

// A family parameter's value: a number (Int and Real kinds), a choice's text, or a list of
// integers (blocks per stage).
using ParamValue = std::variant<double, std::string, std::vector<int>>;
using ParamMap = std::map<std::string, ParamValue>;

struct ModelSpec {
    std::string family = "efficientnet";   // registered family id (see families())
    std::string name = "efficientnet-b0";  // display name ("efficientnet-b3", "resnet-cifar-20")
    int inChannels = 3;                    // image channels the stem takes (1 for Fashion-MNIST)
    int numClasses = 1000;                 // classifier outputs
    int resolution = 224;                  // input side, px (square inputs)
    int baseResolution = 224;              // px that resolutionCoef multiplies
    double width = 1.0;                    // channel multiplier of every stage (makeDivisible 8)
    double depth = 1.0;                    // repeats multiplier of every stage (ceil)
    double resolutionCoef = 1.0;           // r = resolution / baseResolution
    ParamMap params;  // the family's own knobs by key; absent keys take the default

    // A parameter's value, or the family's declared default. Throws SpecError when the family or
    // the key is unknown or the stored value has the wrong kind.
    double number(const std::string& key) const;
    int integer(const std::string& key) const { return int(number(key)); }
    std::string text(const std::string& key) const;
    std::vector<int> list(const std::string& key) const;
};

// How a spec is scaled on top of its preset: not at all, by explicit multipliers, or by the
// compound coefficient (d = alpha^phi, w = beta^phi, r = gamma^phi). The same for every family.
struct Scaling {
    enum class Mode { None, Manual, Compound };
    Mode mode = Mode::None;
    double width = 1.0;          // Manual: channel multiplier w
    double depth = 1.0;          // Manual: repeats multiplier d
    double resolution = 1.0;     // Manual: resolution multiplier r
    double phi = 0.0;            // Compound: the compound coefficient (>= 0)
    double alpha = 1.2;          // Compound: depth base, d = alpha^phi
    double beta = 1.1;           // Compound: width base, w = beta^phi
    double gamma = 1.15;         // Compound: resolution base, r = gamma^phi
    int resolutionMultiple = 0;  // 0 = off; else the scaled side round(r·R) goes to the nearest
                                 // multiple of this many px (at least one multiple)

    double widthFactor() const;       // w this scaling applies
    double depthFactor() const;       // d
    double resolutionFactor() const;  // r
};

// alpha * beta^2 * gamma^2: the MACs growth per unit of phi that compound scaling predicts.
double compoundFlopsBase(double alpha, double beta, double gamma);

// The spec scaled: width, depth and resolutionCoef multiplied by the scaling's factors (on top
// of a preset's own, e.g. B3's), resolution = round(baseResolution * resolutionCoef) -- with a
// resolution multiple N, N * round(baseResolution * resolutionCoef / N), at least N -- the name
// extended ("resnet-50 phi=1.00", "... res-multiple=32"). Mode None returns the spec as is (no
// multiple). Throws SpecError on a negative, zero or non-finite coefficient or a resolution
// multiple outside 0..2048 (naming it) and validates the result.
ModelSpec applyScaling(ModelSpec spec, const Scaling& scaling);

// Resolves a model name as the CLI takes it: a family id ("efficientnet", "resnet",
// "mobilenet-v2": the family's default preset), any preset name or alias ("efficientnet-b3",
// "resnet-50", "resnext50_32x4d"), or a name a family parses itself ("resnet-cifar-N").
// baseResolution 0 keeps the preset's own. Throws SpecError listing what exists.
ModelSpec modelSpecFromName(const std::string& name, int inChannels = 3, int numClasses = 1000,
                            int baseResolution = 0);

// Checks a spec before anything is allocated: the family is registered, every parameter is of
// its declared kind and inside its declared range, coefficients are positive and finite, the
// family's own rules hold (groups divide the channels, ...) and no stride-2 layer sees a 1x1
// map. Throws SpecError naming the field and the problem.
void validateSpec(const ModelSpec& spec);

// "efficientnet-b3 (w=1.20, d=1.40, 300 px)".
std::string describeSpec(const ModelSpec& spec);

// torchvision's _make_divisible(v, divisor, min_value=divisor): round to the nearest multiple of
// `divisor`, never below it, never more than 10 % below v.
int makeDivisible(double v, int divisor = 8);
// The channel rule every family shares: makeDivisible(channels * width, 8).
int roundFilters(int channels, double width);
// The repeats rule every family shares: ceil(repeats * depth).
int roundRepeats(int repeats, double depth);

}  // namespace scalelab
