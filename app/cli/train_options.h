#pragma once
// The training settings as `train` takes them: one option table, shared by `train` and
// `sweep plan` (whose base settings are train options and whose grid keys are their names).

#include <CLI/CLI.hpp>

#include <string>

#include "app/cli/model_args.h"
#include "core/data/dataset_api.h"
#include "core/train/train_api.h"

namespace scalelab::cli {

struct TrainOptions {
    TrainConfig config;  // TrainConfig{}'s defaults are the options' defaults
    ModelOptions model;
    std::string out;
    std::string resume;
    std::string sweep;   // train --sweep DIR --index I
    int64_t index = -1;  // the sweep's run
    bool jsonl = false;
};

// Adds the options that describe a training -- model, data, optimizer, schedule, device,
// threads ... -- to `sub`, bound to `into` (which must outlive the parse): every option of
// `train` except --out, --resume, --sweep, --index and --jsonl.
void addTrainSettings(CLI::App& sub, TrainOptions& into);

// The dataset's shape, which decides the defaults of --in-channels, --num-classes and
// --base-resolution (with a progress bar on a terminal).
DatasetSummary describeTrainDataset(const std::string& spec);

// The config the parsed settings describe: the model spec (from the dataset's shape where the
// model options leave it open) and the family's measured optimizer, lr, weight decay and warm-up
// where the options do not set them. Throws UsageError / SpecError like `train`.
TrainConfig resolveTrainConfig(TrainOptions& options, const CLI::App& sub,
                               const DatasetSummary& dataset);

}  // namespace scalelab::cli
