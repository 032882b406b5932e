#pragma once
// A model family as one registered unit: its names, its parameters (the knobs a user may turn,
// with label, range, default and meaning), its presets, a planner that turns a spec into the
// generic layer plan, its LibTorch builder and its structured-pruning rules. The builder, the
// analysis, spec/plan JSON, pruning, the CLI's model options, the designer, the runs table and
// the scaling curves walk this registry and the plan; none of them names a family.
//
// Torch-free: the GUI includes it. Adding a family: docs/ARCHITECTURE.md.

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/models/model_spec.h"

namespace scalelab {

class ScaleModelImpl;  // core/models/model.h (LibTorch)
using ScaleModel = std::shared_ptr<ScaleModelImpl>;
struct ArchPlan;
class PlanBuilder;

enum class ParamKind {
    Int,     // a whole number in [min, max]
    Real,    // a finite number in [min, max]
    Choice,  // one of `choices`
    IntList  // 1..maxItems whole numbers, each in [min, max]
};

struct ParamDecl {
    std::string key;                   // JSON key; the CLI option is --key with '_' as '-'
    std::string label;                 // GUI label ("Blocks per stage")
    ParamKind kind = ParamKind::Real;  // what values it takes
    double min = 0;                    // smallest allowed value (IntList: of each element)
    double max = 0;                    // largest allowed value (IntList: of each element)
    ParamValue def = 0.0;              // default value
    std::vector<std::string> choices;  // Choice: the allowed texts
    int maxItems = 8;                  // IntList: most elements
    std::string meaning;               // one line: tooltip and --help
};

struct PresetDecl {
    std::string name;                  // "efficientnet-b3": the CLI's --model NAME
    std::vector<std::string> aliases;  // other names ("resnext50_32x4d", torchvision's)
    std::string note;                  // one line for the GUI list ("w 1.2, d 1.4, 300 px")
    ParamMap values;                   // parameters that differ from the defaults
    double width = 1.0;                // the preset's own width multiplier (B1..B7)
    double depth = 1.0;                // the preset's own depth multiplier
    double resolutionCoef = 1.0;       // native resolution / the family's base (B3: 300/224)
    int baseResolution = 0;            // px the preset is defined at; 0 = the family's default
    int numClasses = 0;                // classes its paper used when not 1000 (CIFAR: 10)
};

// Channels that structured pruning cuts together: the filters of `producer` (dim 0, ranked by
// their L1 norms) and the matching slices of every member.
struct PruneGroup {
    int block = 0;                                     // index into ArchPlan::blocks
    int slot = 0;                                      // which inner width of the block
    std::string producer;                              // weight ranked by filter L1 norm
    std::vector<std::pair<std::string, int>> members;  // (state-dict key, dim) cut together
    int groups = 1;  // the kept count is equal in each of this many channel groups
};

// Adds a BatchNorm2d's weight, bias, running_mean and running_var (dim 0) under `module`.
void addBatchNormMembers(PruneGroup& group, const std::string& module);

class ModelFamily {
public:
    virtual ~ModelFamily() = default;

    std::string id;                   // "resnet": spec.family, JSON and --model
    std::string label;                // "ResNet / ResNeXt / Wide ResNet"
    std::string summary;              // one line: what the family is
    std::vector<ParamDecl> params;    // the family's own knobs
    std::vector<PresetDecl> presets;  // named configurations; the first is the default
    int defaultBaseResolution = 224;  // px the resolution coefficient multiplies by default

    // How this family trains by default: chosen from a measured sweep (scripts/defaults_sweep.sh,
    // docs/BENCHMARKS.md), used by the GUI and the CLI wherever the user sets nothing else.
    struct TrainDefaults {
        std::string optimizer = "sgd";  // "sgd" (Nesterov momentum 0.9) or "adamw"
        double lr = 0.1;                // peak learning rate (cosine schedule)
        double weightDecay = 5e-4;      // L2 (SGD) / decoupled (AdamW)
        double warmupEpochs = 0;        // linear warm-up from 0
        std::string measured;           // one line: what the sweep measured with these
    } trainDefaults;
    std::string customNameHint;  // extra names parseName accepts, for messages

    // Rules the declared ranges cannot express (groups must divide the channels, ...); called
    // after the ranges were checked. Throws SpecError.
    virtual void check(const ModelSpec& spec) const {}
    // Emits the layer plan of a valid spec through the builder (which also applies a pruned
    // plan's inner widths).
    virtual void plan(const ModelSpec& spec, PlanBuilder& builder) const = 0;
    // The LibTorch module of a plan, with torchvision's module paths and initialisation.
    virtual ScaleModel build(const ArchPlan& plan) const = 0;
    // Channel groups structured pruning may cut (the plan's inner widths).
    virtual std::vector<PruneGroup> pruneGroups(const ArchPlan& plan) const = 0;
    // A name beyond the presets ("resnet-cifar-56"), or nullopt when it is not this family's.
    virtual std::optional<ModelSpec> parseName(const std::string& name) const { return {}; }

    const ParamDecl* findParam(const std::string& key) const;
    const PresetDecl* findPreset(const std::string& name) const;  // by name or alias
    // The spec of a preset (nullptr: the default preset).
    ModelSpec presetSpec(const PresetDecl* preset) const;
};

// Every registered family, in registration order (core/models/registry.cpp).
const std::vector<const ModelFamily*>& families();
// The family with this id or label; nullptr when none.
const ModelFamily* findFamily(const std::string& id);
// The family of a spec. Throws SpecError listing the registered families.
const ModelFamily& familyOf(const std::string& id);

// "efficientnet, resnet, mobilenet-v2".
std::string familyList();
// Text of a value for messages and the GUI ("2,2,2,2", "0.2", "bottleneck").
std::string paramText(const ParamValue& v);
// Parses a parameter from text ("3,4,6,3", "0.25", "basic") and checks kind and range. Throws
// SpecError naming the parameter and what it allows.
ParamValue parseParam(const ParamDecl& decl, const std::string& text);
// Checks one value against its declaration. Throws SpecError naming it and the allowed range.
void checkParam(const ParamDecl& decl, const ParamValue& value, const std::string& who);
// The preset's spec with some parameters set: the name says what differs from the preset
// ("resnet-18 groups=4"); the result is validated (SpecError naming the parameter).
ModelSpec customizeSpec(ModelSpec preset, const ParamMap& values);
// "1..200", "basic|bottleneck", "1..8 values of 1..200".
std::string paramRange(const ParamDecl& decl);

}  // namespace scalelab
