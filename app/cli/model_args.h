#pragma once
// The model options shared by info, train and bench: --model plus scaling options.

#include <set>
#include <string>

#include "app/cli/args.h"
#include "core/models/model_spec.h"

namespace scalelab::cli {

// Option names model commands accept (value options and flags).
const std::set<std::string>& modelValueOptions();

// Builds the spec from --model NAME and the scaling options. Throws UsageError for options that
// contradict each other, SpecError for impossible values.
ModelSpec modelSpecFromArgs(const Args& args);

// Compound-scaling details of the arguments.
struct CompoundInfo {
    bool given = false;  // --phi was given
    double phi = 0;
    double alpha = 1.2, beta = 1.1, gamma = 1.15;
};
CompoundInfo compoundFromArgs(const Args& args);

extern const char* const kModelOptionsHelp;

}  // namespace scalelab::cli
