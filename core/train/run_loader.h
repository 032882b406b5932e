#pragma once
// A trained run brought back into memory: its config, model (weights.pt, and plan.json for a
// structurally pruned model) and its data with the normalization it was trained on.

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <memory>
#include <string>

#include "core/data/pipeline.h"
#include "core/models/model.h"
#include "core/train/train_api.h"

namespace scalelab {

struct LoadedRun {
    std::string dir;
    TrainConfig config;
    ScaleModel model;                    // eval mode, on `device`
    std::shared_ptr<DataPipeline> data;  // the run's split, with its normalization
    torch::Device device = torch::kCPU;
};

// What checkpoint.pt holds besides the model and optimizer state.
struct CheckpointState {
    int64_t epoch = 0;                  // finished epochs
    double wall = 0;                    // training seconds so far
    std::vector<EpochMetrics> history;  // one entry per finished epoch
};
// Reads dir/checkpoint.pt into `model` and `opt`. Throws DataError naming the file when it is
// missing, unreadable or does not fit the model (never a library exception).
CheckpointState loadCheckpoint(const std::string& dir, ScaleModel& model,
                               torch::optim::Optimizer& opt, const torch::Device& device);

// Throws DataError naming the file and the problem (missing weights, a wrong-shaped tensor, ...).
LoadedRun loadRun(const std::string& dir, const std::string& datasetOverride = {},
                  const std::function<bool(int64_t, int64_t)>& progress = {});

// Loss, accuracy and confusion matrix of `model` on a part of `data` (eval mode, no grad).
EvalResult evaluateModel(ScaleModelImpl& model, DataPipeline& data, Part part, int64_t resolution,
                         int64_t batchSize, const torch::Device& device,
                         const std::atomic<bool>* cancel = nullptr);

// Saves a model into a folder as a run-like record: weights.pt, plan.json and config.json (the
// given config with this model's spec), so loadRun and `scalelab-cli eval` read it.
void saveModelRecord(ScaleModelImpl& model, const TrainConfig& config, const std::string& dir,
                     const nlohmann::json& extra = {});

}  // namespace scalelab
