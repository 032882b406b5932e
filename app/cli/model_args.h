#pragma once
// The model options shared by info, train, bench and parity-case: --model plus the scaling
// options every family takes, plus each registered family's own parameters as --key options
// (read from the registry, so a new family's knobs appear here without touching this file).

#include <set>
#include <string>

#include "app/cli/args.h"
#include "core/models/model_spec.h"

namespace scalelab::cli {

// Option names model commands accept (value options).
const std::set<std::string>& modelValueOptions();

struct ModelArgs {
    ModelSpec base;   // the preset with the given parameters, before scaling (phi = 0)
    Scaling scaling;  // --width/--depth/--resolution or --phi/--alpha/--beta/--gamma
    ModelSpec spec;   // base scaled: what is built
};

// Builds the spec from --model NAME, the family's parameters and the scaling options. Throws
// UsageError for options that contradict each other or do not belong to the family, SpecError
// (naming the parameter and its allowed range) for impossible values.
ModelArgs parseModelArgs(const Args& args);
inline ModelSpec modelSpecFromArgs(const Args& args) {
    return parseModelArgs(args).spec;
}

// The "model options:" section of the usage text, with every family's parameters.
std::string modelOptionsHelp();

}  // namespace scalelab::cli
