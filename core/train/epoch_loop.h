#pragma once
// The one training loop: an epoch over the train split with the config's optimizer and
// learning-rate schedule. Training runs (trainer.cpp) and pruning's fine-tune (prune_sweep.cpp)
// both call it; what differs comes in as hooks (progress and cancel, masks after each step).

#include <torch/torch.h>

#include <atomic>
#include <functional>
#include <memory>

#include "core/data/pipeline.h"
#include "core/models/model.h"
#include "core/train/train_api.h"

namespace scalelab {

// The optimizer the config asks for: SGD (momentum, Nesterov) or AdamW (beta1 = momentum), with
// its weight decay, at its peak learning rate.
std::unique_ptr<torch::optim::Optimizer> makeOptimizer(const TrainConfig& config,
                                                       ScaleModelImpl& model);
// Learning rate at global step `step` (0-based): linear warm-up, then the config's schedule.
double learningRateAt(const TrainConfig& config, int64_t step, int64_t stepsPerEpoch);
// Batches in an epoch of `images` training images (a final batch of one image is dropped:
// BatchNorm cannot normalize it).
int64_t batchesPerEpoch(int64_t images, int64_t batchSize);

// Every parameter's gradient (zeros, where it has none), made now and off the memory arena
// (runtime.h). Made by the first backward pass, the large ones would stay among the holes that
// step's activations left, and the next steps would need more memory around them (EfficientNet-B0
// at 64 px, batch 128: 23 MB). trainEpoch calls it and zeroes them in place at every step, as
// Optimizer::zero_grad does in LibTorch 1.13 (2.x would drop them).
void makeGradients(ScaleModelImpl& model);

// An epoch in progress or finished.
struct EpochResult {
    enum class Stop { None, Cancelled, Diverged };
    Stop stop = Stop::None;  // why the epoch ended early (None: it ran through)
    int64_t batches = 0;     // batches trained (the stopping batch not included)
    int64_t seen = 0;        // images trained
    int64_t correct = 0;     // of those, predicted right (top-1)
    double lossSum = 0;      // summed per-image training loss
    double lr = 0;           // learning rate of the last step
    double badLoss = 0;      // Diverged: the non-finite loss (NaN or Inf)
    double seconds = 0;      // wall time of the epoch so far
    double meanLoss() const { return seen ? lossSum / double(seen) : 0.0; }
    double accuracy() const { return seen ? double(correct) / double(seen) : 0.0; }
};

struct EpochHooks {
    // After every optimizer step (pruning's fine-tune re-applies its masks here).
    std::function<void(ScaleModelImpl&)> afterStep;
    // After every batch with the totals so far; returning false cancels before the next batch.
    std::function<bool(const EpochResult&)> batchDone;
    // Checked before every batch: true cancels.
    const std::atomic<bool>* cancel = nullptr;
};

// Trains epoch `epoch` (1-based) of `config` on the train part of `data` at the model's spec
// resolution. Everything random derives from (config.seed, epoch), so a resumed run repeats an
// epoch exactly. A non-finite loss stops before its step (Diverged): the weights stay finite.
EpochResult trainEpoch(ScaleModelImpl& model, torch::optim::Optimizer& opt, DataPipeline& data,
                       const TrainConfig& config, int64_t epoch, const torch::Device& device,
                       const EpochHooks& hooks = {});

// Precise BatchNorm: recomputes every BatchNorm's running mean and variance as the exact average
// over up to `maxImages` training images (train-mode forward without gradients, no augmentation,
// order from (config.seed, epoch)), then restores each layer's momentum. The running averages
// of a short run lag behind its weights and can ruin evaluation; batch statistics do not change
// training itself, so this alters only evaluation and the saved weights' statistics.
void recalibrateBatchNorm(ScaleModelImpl& model, DataPipeline& data, const TrainConfig& config,
                          int64_t epoch, const torch::Device& device,
                          const std::atomic<bool>* cancel = nullptr, int64_t maxImages = 2048);

}  // namespace scalelab
