#pragma once
// A trained run brought back into memory: its config, model (weights.pt, and plan.json for a
// structurally pruned model) and its data with the normalization it was trained on.

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <memory>
#include <string>

#include "core/data/dataset.h"
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
// The torch side of the run folder (defined in run_folder.cpp with the rest of its I/O).
// Writes dir/checkpoint.pt (model, optimizer, epoch, wall time, history) and records its checksum.
void saveCheckpoint(const std::string& dir, ScaleModelImpl& model, torch::optim::Optimizer& opt,
                    const CheckpointState& state);
// Reads dir/checkpoint.pt into `model` and `opt`. Throws DataError naming the file when it is
// missing, unreadable or does not fit the model (never a library exception).
CheckpointState loadCheckpoint(const std::string& dir, ScaleModel& model,
                               torch::optim::Optimizer& opt, const torch::Device& device);
// Writes dir/weights.pt (torchvision's key names) and records its checksum.
void saveRunWeights(const std::string& dir, ScaleModelImpl& model);

// Throws DataError naming the file and the problem (missing weights, a wrong-shaped tensor, ...).
LoadedRun loadRun(const std::string& dir, const std::string& datasetOverride = {},
                  const std::function<bool(int64_t, int64_t)>& progress = {});
// Only the model of a run folder (config.json, plan.json for a pruned model, weights.pt): on the
// CPU, eval mode, contiguous (not channels-last), no data loaded. DataError naming the file.
struct RunModel {
    TrainConfig config;
    ScaleModel model;
};
RunModel loadRunModel(const std::string& dir);
// The same on a dataset already in memory (a generated one, in tests) instead of the run's
// dataset spec; it must have the run's channels and classes.
LoadedRun loadRun(const std::string& dir, std::shared_ptr<const Dataset> dataset);

// Training on a dataset object instead of config.dataset (which is then only recorded): core
// tests train on generated data this way. trainRun/resumeRun in train_api.h load the spec.
TrainSummary trainRun(const TrainConfig& config, const std::string& runDir, const TrainHooks& hooks,
                      std::shared_ptr<const Dataset> dataset);
TrainSummary resumeRun(const std::string& runDir, const TrainHooks& hooks,
                       std::shared_ptr<const Dataset> dataset);

// Loss, accuracy and confusion matrix of `model` on a part of `data` (eval mode, no grad).
// `onBatch` sees every batch with its logits.
EvalResult evaluateModel(
    ScaleModelImpl& model, DataPipeline& data, Part part, int64_t resolution, int64_t batchSize,
    const torch::Device& device, const std::atomic<bool>* cancel = nullptr,
    const std::function<void(const Batch&, const torch::Tensor& logits)>& onBatch = {});

// The evaluation batch a run uses: its eval batch size, or fewer images where evaluating that
// many at once would need more memory than its training step (a large model at a high
// resolution: evaluation must not be what runs out of memory after an epoch's work).
int64_t evalBatchFor(const TrainConfig& config);

// Saves a model into a folder as a run-like record: weights.pt, plan.json and config.json (the
// given config with this model's spec), so loadRun and `scalelab-cli eval` read it.
void saveModelRecord(ScaleModelImpl& model, const TrainConfig& config, const std::string& dir,
                     const nlohmann::ordered_json& extra = {});

}  // namespace scalelab
