#pragma once
// Training and evaluation, torch-free: the GUI's worker and the CLI both call these.
//
// A run lives in a folder: config.json (everything to repeat it), metrics.csv (a row per
// epoch), summary.json (results and status), checkpoint.pt (model + optimizer, to resume) and
// weights.pt (a state dict with torchvision's key names, for torch.load in Python). Every file
// is written atomically after each finished epoch, so a run killed at any moment leaves the last
// finished epoch's files valid. Accuracies are fractions in [0, 1] in the files.

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/data/data_options.h"
#include "core/models/model_spec.h"
#include "core/train/kernel_choice.h"

namespace scalelab {

enum class OptimizerKind { SGD, AdamW };
enum class ScheduleKind { Cosine, Step, Constant };

struct TrainConfig {
    ModelSpec model;                        // what to train (its resolution is the input size)
    std::string dataset = "fashion-mnist";  // dataset spec string
    int64_t epochs = 10;                    // passes over the training split
    int64_t batchSize = 128;                // images per step
    OptimizerKind optimizer = OptimizerKind::SGD;
    double lr = 0.1;              // peak learning rate
    double momentum = 0.9;        // SGD momentum (AdamW: beta1)
    bool nesterov = true;         // SGD: Nesterov momentum
    double weightDecay = 5e-4;    // L2 (SGD) / decoupled (AdamW) weight decay
    double labelSmoothing = 0.0;  // cross-entropy label smoothing, [0, 1)
    ScheduleKind schedule = ScheduleKind::Cosine;
    double warmupEpochs = 0.0;  // linear warm-up from 0 over this many epochs
    int64_t stepEpochs = 30;    // Step schedule: multiply lr by stepGamma every N epochs
    double stepGamma = 0.1;
    SplitOptions split;                 // validation fraction, subsets (split.seed is ignored)
    AugmentOptions augment;             // train-time augmentation
    uint64_t seed = 42;                 // one seed for split, init, data order and dropout
    std::string device = "auto";        // auto | cpu | cuda[:N]
    int threads = 0;                    // CPU threads; 0 = every core
    int64_t progressEveryBatches = 10;  // batch progress events every N batches
    LayoutChoice layout = LayoutChoice::Auto;  // NCHW / channels-last; Auto: the faster one as
                                               // measured on this machine (kernel_choice.h)
    DepthwiseChoice depthwise = DepthwiseChoice::Auto;  // our kernel / LibTorch's; Auto: measured
    bool preciseBn = true;        // after each epoch, every BatchNorm's running statistics are
                                  // recomputed exactly over up to 2048 training images (the running
                                  // averages lag far behind on short runs: MobileNetV2 at 32 px, 2
                                  // epochs, tested at 25 % instead of 75 %)
    int64_t evalBatchSize = 500;  // images per evaluation step
    bool allowAnyMemory = false;  // skip the memory check (--allow-memory; not recorded)
};

struct EpochMetrics {
    int64_t epoch = 0;
    double trainLoss = 0, trainAccuracy = 0;
    double valLoss = -1, valAccuracy = -1;  // -1: no validation split
    double lr = 0;                          // at the epoch's last step
    double seconds = 0;                     // wall time of the epoch (train + validation)
    double imagesPerSec = 0;                // training throughput
};

// One progress event. Batch events come every progressEveryBatches batches, epoch events after
// each epoch's validation, and one Finished event at the end.
struct TrainProgress {
    // Preparing: loading and resizing the data before the first batch (phase, done, total).
    enum class Kind { Preparing, Batch, Epoch, Finished };
    Kind kind = Kind::Batch;
    int64_t epoch = 0;   // 1-based epoch this event belongs to
    int64_t epochs = 0;  // planned epochs
    int64_t batch = 0;   // batches done in this epoch
    int64_t batchesPerEpoch = 0;
    double trainLoss = 0;      // mean over this epoch's batches so far
    double trainAccuracy = 0;  // fraction, this epoch so far
    double valLoss = -1;       // Epoch events: validation loss (-1: no validation split)
    double valAccuracy = -1;   // Epoch events: fraction (-1: none)
    double lr = 0;             // learning rate of the last step
    double imagesPerSec = 0;   // training throughput in this epoch
    double elapsedSec = 0;     // since the run (or resume) started
    double etaSec = 0;         // estimated time to the end of the run
    std::string status;        // Finished: the run's final status
    EpochMetrics metrics;      // Epoch events: the epoch as recorded in metrics.csv
    std::string warning;       // set on the event that raised it (e.g. a loss far above chance)
    std::string phase;         // Preparing: "loading fashion-mnist", "resizing 3,000 training
                               // images to 32 px"
    int64_t phaseDone = 0;     // Preparing: items of this phase done (files' bytes or images)
    int64_t phaseTotal = 0;    // Preparing: of this many
};

struct EvalResult {
    int64_t count = 0;                            // images evaluated
    double loss = 0;                              // mean cross-entropy (no smoothing)
    double accuracy = 0;                          // top-1, fraction
    std::vector<std::vector<int64_t>> confusion;  // [true class][predicted class] counts
    std::vector<double> perClassAccuracy;         // fraction per true class (-1: no images)
    std::vector<std::string> classNames;
};

// What became of a run: decided by this, never by searching its status sentence.
enum class RunState { Running, Completed, Cancelled, Diverged, Failed };
const char* runStateName(RunState state);  // "running", "completed", ... (summary.json "state")
RunState runStateFromName(const std::string& name);  // unknown names: Failed

struct TrainSummary {
    RunState state = RunState::Running;
    std::string status;      // the sentence for people: "completed", "cancelled at epoch E, batch
                             // B", "diverged at epoch E, batch B (lr X)", "failed: ..."
    bool completed = false;  // state == Completed
    std::string runDir;
    int64_t epochsDone = 0;       // finished epochs recorded in the files
    double bestValAccuracy = -1;  // fraction (-1: no validation)
    int64_t bestEpoch = 0;
    double finalValAccuracy = -1;
    EvalResult test;  // on the test split after the last epoch (count 0 if not run)
    std::vector<std::string> warnings;  // for people: what looked wrong (loss above 2x chance)
    int64_t params = 0;
    int64_t macs = 0;         // per image
    double wallSeconds = 0;   // training wall time, all sessions of the run together
    double imagesPerSec = 0;  // mean training throughput over the epochs
    std::vector<EpochMetrics> history;
};

struct TrainHooks {
    // Progress events; returning false cancels (honoured before the next batch).
    std::function<bool(const TrainProgress&)> progress;
    // Checked before every batch: true cancels. The GUI's Stop button sets it.
    const std::atomic<bool>* cancel = nullptr;
    // Dataset loading progress (files or images), before training starts.
    std::function<bool(int64_t, int64_t)> loading;
};

// Trains into runDir (created; it must not already hold a run). Throws SpecError / DataError for
// impossible settings before any training starts; cancellation and divergence end normally with
// the status set and the files valid.
TrainSummary trainRun(const TrainConfig& config, const std::string& runDir,
                      const TrainHooks& hooks = {});

// Continues the run in runDir from its last finished epoch (config.json + checkpoint.pt). On the
// CPU with the same thread count the result equals an uninterrupted run's.
TrainSummary resumeRun(const std::string& runDir, const TrainHooks& hooks = {});

// Reads config.json of a run folder and checks it like a new config. Throws DataError naming the
// file and the problem.
TrainConfig readRunConfig(const std::string& runDir);

// The optimizer, learning rate, weight decay and warm-up to use for `spec`'s family when the user
// sets none of them (ModelFamily::trainDefaults, measured). With `optimizer` given and not the
// family's choice: that optimizer's general defaults (SGD lr 0.1, wd 5e-4; AdamW lr 1e-3,
// wd 0.05; no warm-up). Only those four fields of the result are meant.
TrainConfig familyTrainDefaults(const ModelSpec& spec, const OptimizerKind* optimizer = nullptr);

// Checks every setting's range (the ranges the CLI's options declare); SpecError naming the
// setting and its allowed range.
void validateTrainConfig(const TrainConfig& config);

// Evaluates a run's weights.pt on the test split of its dataset or of `datasetOverride` (same
// channels and classes needed), with the run's own normalization.
EvalResult evaluateRun(const std::string& runDir, const std::string& datasetOverride = {},
                       const std::function<bool(int64_t, int64_t)>& progress = {});

// What an evaluation of a run may do besides measuring (`scalelab-cli eval`).
struct EvalRunOptions {
    std::string dataset;  // test on this dataset spec instead of the run's ("": the run's)
    int64_t limit = 0;    // only the first N images of the run's test split (0: all of it)
    std::string dumpDir;  // write inputs.npy (float32 [N,C,R,R], normalized as the model saw
                          // them), logits.npy (float32 [N,classes], as evaluated), logits_f64.npy
                          // (the same model and inputs in float64: the exact reference, without
                          // float32's rounding) and labels.npy (int64 [N]) of every evaluated
                          // image here: LibTorch's reference for an exported model
};
EvalResult evaluateRun(const std::string& runDir, const EvalRunOptions& options,
                       const std::function<bool(int64_t, int64_t)>& progress = {});

// JSON text of configs and results (the formats of config.json / summary.json).
std::string trainConfigToJson(const TrainConfig& config);
TrainConfig trainConfigFromJson(const std::string& text, const std::string& what);
std::string evalResultToJson(const EvalResult& result);
// Inverse of evalResultToJson; throws DataError naming `what` on malformed text.
EvalResult evalResultFromJson(const std::string& text, const std::string& what);
// A summary as summary.json's own part (the format of session files' summaries too).
std::string trainSummaryToJson(const TrainSummary& summary);
TrainSummary trainSummaryFromJson(const std::string& text, const std::string& what);
// Epoch histories as a JSON array (the format of the checkpoint's and session files' history).
std::string epochHistoryToJson(const std::vector<EpochMetrics>& history);
std::vector<EpochMetrics> epochHistoryFromJson(const std::string& text, const std::string& what);

// Names as the files write them (the tables are in core/json_enums.h).
const char* optimizerName(OptimizerKind kind);  // "sgd", "adamw"
const char* scheduleName(ScheduleKind kind);    // "cosine", "step", "constant"

}  // namespace scalelab
