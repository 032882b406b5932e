#pragma once
// What model to build, as plain data, and every way to arrive at one: EfficientNet by explicit
// coefficients, by compound phi (alpha, beta, gamma) or by preset B0-B7; ResNet by preset depth,
// by the CIFAR 6n+2 rule or by a custom blocks-per-stage table. Torch-free: the GUI includes it.
//
// The tables and rounding rules live in core/models/model_spec.cpp and nowhere else.

#include <string>
#include <vector>

namespace scalelab {

enum class Family { EfficientNet, ResNet };
enum class BlockType { Basic, Bottleneck };     // ResNet residual blocks (torchvision's layout)
enum class StemType { Auto, ImageNet, Small };  // ResNet stem: Auto picks by resolution
enum class Shortcut {
    Projection,
    ZeroPad
};  // ResNet downsampling shortcut: 1x1 conv + BN
    // (option B) or parameter-free (option A)

struct ModelSpec {
    Family family = Family::EfficientNet;
    std::string name = "efficientnet-b0";  // display name ("efficientnet-b3", "resnet-cifar-20")
    int inChannels = 3;                    // image channels the stem takes (1 for Fashion-MNIST)
    int numClasses = 1000;                 // classifier outputs
    int resolution = 224;                  // input side, px (square inputs)

    // EfficientNet (used when family == EfficientNet)
    double width = 1.0;            // channel multiplier w (round_filters: divisor 8, >= 90 %)
    double depth = 1.0;            // repeats multiplier d (ceil)
    double resolutionCoef = 1.0;   // r: resolution / baseResolution (for display)
    int baseResolution = 224;      // px the resolution coefficient multiplies
    double dropout = 0.2;          // classifier dropout probability
    double stochasticDepth = 0.2;  // final block's drop probability; scaled linearly by index
    double bnEps = 1e-5;           // BatchNorm epsilon (torchvision: 1e-3 for B5-B7)
    double bnMomentum = 0.1;       // BatchNorm momentum (torchvision: 0.01 for B5-B7)

    // ResNet (used when family == ResNet)
    std::vector<int> blocks = {2, 2, 2, 2};    // residual blocks per stage
    BlockType block = BlockType::Basic;        // Basic (2 convs) or Bottleneck (1x1-3x3-1x1, x4)
    int baseWidth = 64;                        // channels of the first stage; doubles per stage
    StemType stem = StemType::Auto;            // Auto: ImageNet stem when resolution >= 128
    Shortcut shortcut = Shortcut::Projection;  // how a block that changes shape adds its input
};

// How the GUI and the CLI describe an EfficientNet; turned into a ModelSpec by efficientNetSpec.
struct EfficientNetScaling {
    enum class Mode { Manual, Compound, Preset };
    Mode mode = Mode::Preset;
    double width = 1.0;        // Manual: channel multiplier
    double depth = 1.0;        // Manual: repeats multiplier
    double resolution = 1.0;   // Manual: resolution multiplier (of baseResolution)
    double phi = 0.0;          // Compound: the compound coefficient (>= 0)
    double alpha = 1.2;        // Compound: depth base, d = alpha^phi
    double beta = 1.1;         // Compound: width base, w = beta^phi
    double gamma = 1.15;       // Compound: resolution base, r = gamma^phi
    int preset = 0;            // Preset: 0..7 for B0..B7
    int baseResolution = 224;  // px that the resolution coefficient multiplies (224 ImageNet)
};

// A published EfficientNet preset (the paper's Table / torchvision's builders).
struct EfficientNetPreset {
    const char* name;  // "b0"
    double width;      // channel multiplier
    double depth;      // repeats multiplier
    int resolution;    // native input side, px
    double dropout;    // classifier dropout
};
const std::vector<EfficientNetPreset>& efficientNetPresets();

// alpha * beta^2 * gamma^2: the MACs growth per unit of phi that compound scaling predicts.
double compoundFlopsBase(double alpha, double beta, double gamma);

// Builds the EfficientNet spec of a scaling description. Throws SpecError on a negative, zero or
// non-finite coefficient or an unknown preset.
ModelSpec efficientNetSpec(const EfficientNetScaling& scaling, int inChannels = 3,
                           int numClasses = 1000);

// ResNet presets 18/34/50/101/152 (torchvision's tables).
ModelSpec resNetPreset(int depth, int inChannels = 3, int numClasses = 1000, int resolution = 224);
// CIFAR-style ResNet with 6n+2 layers: 3 stages of n basic blocks, widths 16/32/64, 3x3 stem,
// parameter-free (option A) shortcuts as in He et al. 2016, section 4.2.
ModelSpec resNetCifar(int layers, int inChannels = 3, int numClasses = 10, int resolution = 32);
// Any ResNet: blocks per stage, block type, base width.
ModelSpec resNetCustom(const std::vector<int>& blocks, BlockType block, int baseWidth = 64,
                       int inChannels = 3, int numClasses = 1000, int resolution = 224);

// Resolves a model name as the CLI takes it: efficientnet, efficientnet-b0..b7, resnet-18..152,
// resnet-cifar-N, resnet (custom; default blocks). Throws SpecError on an unknown name.
ModelSpec modelSpecFromName(const std::string& name, int inChannels = 3, int numClasses = 1000);

// The stem a ResNet spec really gets (resolves Auto).
StemType effectiveStem(const ModelSpec& spec);

// Checks a spec before anything is allocated: coefficients positive and finite, every stage at
// least one block, a resolution large enough that no stride-2 layer sees a 1x1 map. Throws
// SpecError naming the field and the problem.
void validateSpec(const ModelSpec& spec);

// "efficientnet w=1.20 d=1.40 r=300px" / "resnet-50 (bottleneck 3,4,6,3)".
std::string describeSpec(const ModelSpec& spec);

// torchvision's _make_divisible(v, divisor, min_value=divisor): round to the nearest multiple of
// `divisor`, never below it, never more than 10 % below v.
int makeDivisible(double v, int divisor = 8);
// EfficientNet's channel and repeat rules.
int roundFilters(int channels, double width);
int roundRepeats(int repeats, double depth);

}  // namespace scalelab
