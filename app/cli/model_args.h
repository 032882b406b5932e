#pragma once
// The model options shared by info, train, bench and parity-case: --model plus the scaling
// options every family takes, plus each registered family's own parameters as --key options
// (read from the registry, so a new family's knobs appear here without touching this file).

#include <CLI/CLI.hpp>

#include <map>
#include <string>

#include "core/models/model_spec.h"

namespace scalelab::cli {

// The model options as parsed (addModelOptions binds them).
struct ModelOptions {
    std::string model = "efficientnet-b0";
    int inChannels = 3;
    int numClasses = 0;      // 0: the preset's
    int baseResolution = 0;  // 0: the preset's
    Scaling scaling;         // the numbers as given; the mode follows from which were given
    std::map<std::string, std::string> params;  // family parameter key -> text as given

    // Whether the model option `name` ("--width") was given.
    bool given(const std::string& name) const;
    std::map<std::string, const CLI::Option*> options;  // the ones addModelOptions added
};

// Adds the model options to `sub`, bound to `into` (which must outlive the parse). bench passes
// scalingResolution = false: there --resolution is its own option, the input side in px.
void addModelOptions(CLI::App& sub, ModelOptions& into, bool scalingResolution = true);

struct ModelArgs {
    ModelSpec base;   // the preset with the given parameters, before scaling (phi = 0)
    Scaling scaling;  // --width/--depth/--resolution or --phi/--alpha/--beta/--gamma
    ModelSpec spec;   // base scaled: what is built
};

// Builds the spec from --model NAME, the family's parameters and the scaling options. Throws
// UsageError for options that contradict each other or do not belong to the family, SpecError
// (naming the parameter and its allowed range) for impossible values.
ModelArgs parseModelArgs(const ModelOptions& options);

// "model names:" and every family's presets, for the help's footer.
std::string modelNamesHelp();

}  // namespace scalelab::cli
