// Training runs for the GUI's worker and the CLI: the checks, the run's lifecycle (folder, lock,
// states) around the one epoch loop (epoch_loop.cpp), and loading a trained run back. The run
// folder's files are read and written in run_folder.cpp.

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/data/dataset.h"
#include "core/data/file_io.h"
#include "core/data/pipeline.h"
#include "core/error.h"
#include "core/json_enums.h"
#include "core/models/analysis.h"
#include "core/models/family.h"
#include "core/models/inference_net.h"
#include "core/models/model.h"
#include "core/models/spec_json.h"
#include "core/ops/onednn_conv.h"
#include "core/progress.h"
#include "core/runtime.h"
#include "core/train/device.h"
#include "core/train/epoch_loop.h"
#include "core/train/eta.h"
#include "core/train/records_json.h"
#include "core/train/run_folder.h"
#include "core/train/run_loader.h"
#include "core/train/train_api.h"

namespace scalelab {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

int64_t evalBatchFor(const TrainConfig& c) {
    return analyzeModel(c.model).evalBatchWithin(c.evalBatchSize, c.batchSize);
}

EvalResult evaluateModel(
    ScaleModelImpl& model, DataPipeline& data, Part part, int64_t resolution, int64_t batchSize,
    const torch::Device& device, const std::atomic<bool>* cancel,
    const std::function<void(const Batch&, const torch::Tensor& logits)>& onBatch) {
    EvalResult r;
    const int64_t k = model.spec().numClasses;
    r.classNames = data.dataset().classNames;
    r.confusion.assign(size_t(k), std::vector<int64_t>(size_t(k), 0));
    if (data.size(part) == 0) {
        return r;
    }
    model.eval();
    torch::NoGradGuard guard;
    const InferenceNet net(model);  // BatchNorm folded into the convolutions
    BatchOptions o;
    o.batchSize = batchSize;
    o.shuffle = false;
    o.device = device;
    BatchIterator it = data.batches(part, resolution, o);
    auto confusion = torch::zeros({k * k}, torch::kInt64);
    double lossSum = 0;
    Batch b;
    while (it.next(b)) {
        if (cancel && cancel->load()) {
            throw Cancelled();
        }
        const auto logits = net.forward(b.images);
        if (onBatch) {
            onBatch(b, logits);
        }
        lossSum += torch::nn::functional::cross_entropy(
                       logits, b.labels,
                       torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                       .item<double>();
        const auto pred = logits.argmax(1);
        confusion += torch::bincount((b.labels * k + pred).cpu(), {}, k * k);
    }
    r.count = data.size(part);
    r.loss = lossSum / double(r.count);
    const auto m = confusion.view({k, k});
    int64_t correct = 0;
    for (int64_t t = 0; t < k; ++t) {
        int64_t rowSum = 0;
        for (int64_t p = 0; p < k; ++p) {
            r.confusion[size_t(t)][size_t(p)] = m[t][p].item<int64_t>();
            rowSum += r.confusion[size_t(t)][size_t(p)];
        }
        correct += r.confusion[size_t(t)][size_t(t)];
        r.perClassAccuracy.push_back(
            rowSum ? double(r.confusion[size_t(t)][size_t(t)]) / double(rowSum) : -1.0);
    }
    r.accuracy = double(correct) / double(r.count);
    return r;
}

namespace {

std::string fmtG(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3g", v);
    return buf;
}

void validateConfig(const TrainConfig& c) {
    validateSpec(c.model);
    auto positive = [](double v, const char* what) {
        if (!std::isfinite(v) || v <= 0) {
            throw SpecError(std::string(what) + " = " + fmtG(v) + " must be a positive number");
        }
    };
    if (c.epochs < 1 || c.epochs > 100000) {
        throw SpecError("epochs = " + std::to_string(c.epochs) + " must be 1..100000");
    }
    if (c.batchSize < 1 || c.batchSize > 65536) {
        throw SpecError("batch size = " + std::to_string(c.batchSize) + " must be 1..65536");
    }
    positive(c.lr, "learning rate");
    if (!(c.momentum >= 0 && c.momentum < 1)) {
        throw SpecError("momentum = " + fmtG(c.momentum) + " must be in [0, 1)");
    }
    if (!(c.weightDecay >= 0 && std::isfinite(c.weightDecay))) {
        throw SpecError("weight decay = " + fmtG(c.weightDecay) + " must be >= 0");
    }
    if (!(c.labelSmoothing >= 0 && c.labelSmoothing < 1)) {
        throw SpecError("label smoothing = " + fmtG(c.labelSmoothing) + " must be in [0, 1)");
    }
    if (!(c.warmupEpochs >= 0 && c.warmupEpochs <= double(c.epochs))) {
        throw SpecError("warm-up = " + fmtG(c.warmupEpochs) + " epochs must be in [0, epochs]");
    }
    if (c.schedule == ScheduleKind::Step) {
        if (c.stepEpochs < 1) {
            throw SpecError("step schedule: every " + std::to_string(c.stepEpochs) +
                            " epochs must be >= 1");
        }
        positive(c.stepGamma, "step schedule gamma");
    }
    if (c.augment.cropPadding < 0 || c.augment.cropPadding > 64) {
        throw SpecError("crop padding = " + std::to_string(c.augment.cropPadding) +
                        " px must be 0..64");
    }
    if (c.progressEveryBatches < 1) {
        throw SpecError("progress interval must be >= 1 batch");
    }
    if (c.evalBatchSize < 1 || c.evalBatchSize > 65536) {
        throw SpecError("evaluation batch size = " + std::to_string(c.evalBatchSize) +
                        " must be 1..65536");
    }
    checkThreadCount(c.threads, "threads");
    if (!(c.split.valFraction >= 0 && c.split.valFraction < 0.9)) {
        throw SpecError("validation share = " + fmtG(c.split.valFraction) + " must be in [0, 0.9)");
    }
    if (c.split.trainSubset < 0 || c.split.testSubset < 0) {
        throw SpecError("train/test subsets must be >= 0 (0 = all)");
    }
    if (c.batchSize == 1) {
        // BatchNorm in training needs more than one value per channel.
        for (const PlanLayer& l : planModel(c.model).layers) {
            if (l.kind == LayerKind::BatchNorm && l.outSide == 1) {
                throw SpecError("batch size 1 cannot train " + c.model.name + ": BatchNorm " +
                                l.path +
                                " sees a 1x1 map, so one image gives it one value per channel "
                                "to normalize; use a batch size of 2 or more");
            }
        }
    }
}

EvalResult evaluate(ScaleModel& model, DataPipeline& data, Part part, const TrainConfig& c,
                    const torch::Device& device, const std::atomic<bool>* cancel) {
    // Evaluation's tensors differ in size from training's: each phase gets the memory back.
    releaseFreedMemory();
    struct ReleaseAfter {
        ~ReleaseAfter() { releaseFreedMemory(); }
    } releaseAfter;
    return evaluateModel(*model, data, part, c.model.resolution, evalBatchFor(c), device, cancel);
}

// Where a run's images come from: a dataset object, or the config's spec loaded (with progress).
// A progress callback for one preparing phase: forwards to hooks.loading (which may refuse),
// honours the Stop flag, and sends Preparing events (at most one per percent) to hooks.progress.
ProgressFn preparingPhase(const TrainConfig& c, const TrainHooks& hooks, const std::string& phase,
                          bool callLoading) {
    auto lastPercent = std::make_shared<int64_t>(-1);
    return [&c, &hooks, phase, callLoading, lastPercent](int64_t done, int64_t total) {
        if (callLoading && hooks.loading && !hooks.loading(done, total)) {
            return false;
        }
        if (hooks.cancel && hooks.cancel->load()) {
            return false;
        }
        const int64_t percent = total > 0 ? 100 * done / total : 0;
        if (!hooks.progress || percent == *lastPercent) {
            return true;
        }
        *lastPercent = percent;
        TrainProgress p;
        p.kind = TrainProgress::Kind::Preparing;
        p.epochs = c.epochs;
        p.phase = phase;
        p.phaseDone = done;
        p.phaseTotal = total;
        return hooks.progress(p);
    };
}

std::shared_ptr<const Dataset> obtainDataset(const TrainConfig& c,
                                             std::shared_ptr<const Dataset> given,
                                             const TrainHooks& hooks) {
    if (given) {
        return given;
    }
    return loadDatasetCached(parseDatasetSpec(c.dataset),
                             preparingPhase(c, hooks, "loading " + c.dataset, true));
}

// "3,000"
std::string withThousands(int64_t n) {
    std::string digits = std::to_string(n), out;
    for (size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) {
            out += ',';
        }
        out += digits[i];
    }
    return out;
}

TrainSummary runTrainingLocked(const TrainConfig& c, const std::string& dir,
                               const TrainHooks& hooks, bool resume,
                               std::shared_ptr<const Dataset> given);

// The run's lifecycle around the loop: checks, the folder and its lock, and a failed state
// recorded when anything goes wrong mid-run.
TrainSummary runTraining(const TrainConfig& c, const std::string& dir, const TrainHooks& hooks,
                         bool resume, std::shared_ptr<const Dataset> given) {
    validateTrainConfig(c);
    std::error_code ec;
    if (!resume) {
        requireNoRunFiles(dir, "the run folder");
    }
    fs::create_directories(dir, ec);
    if (ec) {
        throw Error(dir + ": cannot create the run folder (" + ec.message() + ")");
    }
    const RunFolderLock lock(dir);  // a second writer is refused with our PID
    removeStaleTempFiles(dir);
    if (resume) {
        const auto [state, status] = recordedRunState(dir);
        if (state == RunState::Completed) {
            throw SpecError(dir + " is a completed run (" + status +
                            "); there is nothing to resume, and it is left as it is");
        }
        verifyChecksum(dir, runfile::kCheckpoint);  // before anything is read or written
    } else {
        requireNoRunFiles(dir, "the run folder");  // again, under the lock
    }
    try {
        return runTrainingLocked(c, dir, hooks, resume, std::move(given));
    } catch (const Cancelled&) {
        throw;
    } catch (const std::exception& e) {
        // A write error (a full disk) or any other failure mid-run: say so in summary.json where
        // it can still be written, so the run never reads "running" forever.
        markRunFailed(dir, e.what());
        throw;
    }
}

std::string cancelledAt(int64_t epoch, int64_t batch) {
    return "cancelled at epoch " + std::to_string(epoch) + ", batch " + std::to_string(batch);
}

TrainSummary runTrainingLocked(const TrainConfig& c, const std::string& dir,
                               const TrainHooks& hooks, bool resume,
                               std::shared_ptr<const Dataset> given) {
    applyThreadCount(c.threads);
    const torch::Device device = resolveDevice(c.device);
    checkMemory("training " + c.model.name + " at batch " + std::to_string(c.batchSize),
                analyzeModel(c.model).trainingMemoryBytes(c.batchSize), c.allowAnyMemory,
                "--allow-memory");
    auto dataset = obtainDataset(c, std::move(given), hooks);
    if (hooks.cancel && hooks.cancel->load()) {
        throw Cancelled();
    }
    if (dataset->numClasses() < 2) {
        throw SpecError(dataset->name + " has " + std::to_string(dataset->numClasses()) +
                        " class; a classifier needs at least 2 (every prediction would be right)");
    }
    if (dataset->channels() != c.model.inChannels) {
        throw SpecError("model " + c.model.name + " takes " + std::to_string(c.model.inChannels) +
                        "-channel images but " + dataset->name + " has " +
                        std::to_string(dataset->channels()));
    }
    if (dataset->numClasses() != c.model.numClasses) {
        throw SpecError("model " + c.model.name + " has " + std::to_string(c.model.numClasses) +
                        " outputs but " + dataset->name + " has " +
                        std::to_string(dataset->numClasses()) + " classes");
    }
    SplitOptions split = c.split;
    split.seed = c.seed;
    DataPipeline data(dataset, split);
    if (data.size(Part::Train) < 2) {
        throw SpecError(dataset->name + ": the training split holds " +
                        std::to_string(data.size(Part::Train)) +
                        " image(s); training needs at least 2");
    }

    if (!resume) {
        nlohmann::ordered_json extra;
        extra["normalization"] = {{"mean", data.normalization().mean},
                                  {"std", data.normalization().std}};
        extra["class_names"] = dataset->classNames;
        extra["libtorch"] = runtimeInfo().torchVersion;
        extra["device_resolved"] = device.str();
        extra["threads_resolved"] = torch::get_num_threads();
        extra["dataset_path"] = dataset->path;
        extra["split_sizes"] = {{"train", data.size(Part::Train)},
                                {"validation", data.size(Part::Validation)},
                                {"test", data.size(Part::Test)}};
        writeRunConfig(dir, c, extra);
    }

    torch::manual_seed(c.seed);
    // The parameters and the optimizer's state live through the run: off the memory arena the
    // training steps reuse (runtime.h), as their gradients (trainEpoch).
    std::optional<ArenaBypass> paramsOffArena(std::in_place);
    ScaleModel model = buildModel(c.model);
    model->to(device);
    auto opt = makeOptimizer(c, *model);

    TrainSummary s;
    s.runDir = dir;
    s.params = model->parameterCount();
    s.macs = analyzeModel(c.model).macs;
    int64_t startEpoch = 0;
    double wallBefore = 0;
    if (resume) {
        const CheckpointState st = loadCheckpoint(dir, model, *opt, device);
        startEpoch = st.epoch;
        wallBefore = st.wall;
        s.history = st.history;
        try {
            s.warnings = readRunSummary(dir).warnings;  // raised before the interruption
        } catch (const Error&) {
        }
        // The metrics file follows the checkpoint (a kill between the two writes is repaired).
        writeRunMetrics(dir, s.history);
    }
    paramsOffArena.reset();
    for (const EpochMetrics& e : s.history) {
        if (e.valAccuracy > s.bestValAccuracy) {
            s.bestValAccuracy = e.valAccuracy;
            s.bestEpoch = e.epoch;
        }
    }
    s.epochsDone = startEpoch;

    const int64_t perEpoch = batchesPerEpoch(data.size(Part::Train), c.batchSize);
    const int64_t totalBatches = perEpoch * c.epochs;
    std::string stopStatus;
    RunState stopState = RunState::Running;

    // Prepare (resize once) every split at the model's resolution before timing anything, as
    // its own phase with progress: at 224 px this takes longer than an epoch of a small model.
    // A resize that cannot fit is refused here, before an epoch is spent.
    try {
        for (const auto& [part, what] :
             {std::pair{Part::Train, "training"}, std::pair{Part::Validation, "validation"},
              std::pair{Part::Test, "test"}}) {
            if (data.size(part) > 0) {
                const std::string phase = "resizing " + withThousands(data.size(part)) + " " +
                                          what + " images to " +
                                          std::to_string(c.model.resolution) + " px";
                // The test part waits for the final evaluation where its originals are smaller
                // than the resized copy (not held through training; checked to fit now).
                data.prepare(part, c.model.resolution, /*deferrable=*/part == Part::Test,
                             preparingPhase(c, hooks, phase, false));
            }
        }
        // The layout and depthwise kernel: a resumed run keeps what it trained with; a new one
        // measures the candidates the flags leave open (cached per machine, model and batch).
        KernelChoice kernels;
        if (!(resume && readKernelChoice(dir, kernels))) {
            KernelRequest kr;
            kr.plan = model->plan();
            kr.batchSize = c.batchSize;
            kr.training = true;
            kr.gpu = !device.is_cpu();
            kr.threads = torch::get_num_threads();
            kr.layout = c.layout;
            kr.depthwise = c.depthwise;
            const ScratchOnArena scratch;  // the candidates' models: all given back below
            kernels = chooseKernels(
                kr, preparingPhase(c, hooks, "timing memory layouts and kernels", false));
            clearOneDnnPrimitiveCache();  // the candidates' compiled convolutions
            writeKernelChoice(dir, kernels);
        }
        model->setChannelsLast(kernels.channelsLast && device.is_cpu());
        model->setFastDepthwise(kernels.fastDepthwise);
        // Every part is resized: the originals are freed unless someone else holds them.
        data.releaseSourceImages();
        dataset.reset();
    } catch (const Cancelled&) {
        stopState = RunState::Cancelled;
        stopStatus = "cancelled while preparing the data (no epoch trained in this session)";
    }
    releaseFreedMemory();  // resizing and timing kernels left blocks of other sizes behind

    const auto runStart = Clock::now();
    bool lossWarned = false;
    auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - runStart).count(); };
    auto trainBatchEquivalents = [&](Part part) {
        return (data.size(part) + c.batchSize - 1) / c.batchSize;
    };
    EtaEstimator etaModel(std::max<int64_t>(20, std::min<int64_t>(perEpoch, 200)),
                          trainBatchEquivalents(Part::Validation),
                          trainBatchEquivalents(Part::Test));
    auto eta = [&](int64_t batchesDone, int64_t epochsDone) {
        return etaModel.secondsLeft(totalBatches - batchesDone, c.epochs - epochsDone);
    };
    auto lastBatchEnd = Clock::now();

    for (int64_t epoch = startEpoch + 1; epoch <= c.epochs && stopStatus.empty(); ++epoch) {
        const auto epochStart = Clock::now();
        lastBatchEnd = epochStart;
        bool refused = false;  // the progress callback asked to stop
        std::string warning;   // raised in this batch, to go out with the next event
        EpochHooks eh;
        eh.cancel = hooks.cancel;
        eh.batchDone = [&](const EpochResult& r) {
            const auto now = Clock::now();
            etaModel.addBatch(std::chrono::duration<double>(now - lastBatchEnd).count());
            lastBatchEnd = now;
            // A first epoch whose loss climbs above twice chance (ln K) is a learning rate too
            // high for this model: say so while there is time to stop.
            const double chance = std::log(double(c.model.numClasses));
            if (epoch == 1 && !lossWarned && r.batches >= std::min<int64_t>(5, perEpoch) &&
                r.meanLoss() > 2 * chance) {
                lossWarned = true;
                warning = "training loss " + fmtG(r.meanLoss()) +
                          " in epoch 1 is above 2x chance (" + fmtG(2 * chance) + " = 2 ln " +
                          std::to_string(c.model.numClasses) + "): the learning rate " +
                          fmtG(c.lr) + " is probably too high for " + c.model.name +
                          "; try a lower one";
                s.warnings.push_back(warning);
            }
            if (!hooks.progress || (warning.empty() && r.batches % c.progressEveryBatches != 0 &&
                                    r.batches != perEpoch)) {
                return true;
            }
            TrainProgress p;
            p.kind = TrainProgress::Kind::Batch;
            p.epoch = epoch;
            p.epochs = c.epochs;
            p.batch = r.batches;
            p.batchesPerEpoch = perEpoch;
            p.trainLoss = r.meanLoss();
            p.trainAccuracy = r.accuracy();
            p.lr = r.lr;
            p.imagesPerSec = double(r.seen) / std::max(r.seconds, 1e-9);
            p.elapsedSec = elapsed();
            p.etaSec = eta((epoch - 1) * perEpoch + r.batches, epoch - 1);
            p.warning = warning;
            warning.clear();
            refused = !hooks.progress(p);
            return !refused;
        };
        const EpochResult r = trainEpoch(*model, *opt, data, c, epoch, device, eh);
        if (r.stop == EpochResult::Stop::Cancelled) {
            stopState = RunState::Cancelled;
            stopStatus = cancelledAt(epoch, refused ? r.batches : r.batches + 1);
        } else if (r.stop == EpochResult::Stop::Diverged) {
            stopState = RunState::Diverged;
            stopStatus = "diverged at epoch " + std::to_string(epoch) + ", batch " +
                         std::to_string(r.batches + 1) + " (lr " + fmtG(r.lr) + ", loss " +
                         (std::isnan(r.badLoss) ? "NaN" : "Inf") + ")";
        }
        if (!stopStatus.empty()) {
            break;  // a partial epoch is not recorded: the files keep the last finished one
        }
        if (c.preciseBn) {
            try {
                recalibrateBatchNorm(*model, data, c, epoch, device, hooks.cancel);
            } catch (const Cancelled&) {
                stopState = RunState::Cancelled;
                stopStatus =
                    "cancelled at epoch " + std::to_string(epoch) + " (BatchNorm statistics)";
                break;
            }
        }
        EpochMetrics m;
        m.epoch = epoch;
        m.trainLoss = r.meanLoss();
        m.trainAccuracy = r.accuracy();
        m.lr = r.lr;
        m.imagesPerSec = double(r.seen) / std::max(r.seconds, 1e-9);
        if (data.size(Part::Validation) > 0) {
            try {
                const EvalResult v =
                    evaluate(model, data, Part::Validation, c, device, hooks.cancel);
                m.valLoss = v.loss;
                m.valAccuracy = v.accuracy;
                if (!std::isfinite(v.loss)) {
                    stopState = RunState::Diverged;
                    stopStatus = "diverged at epoch " + std::to_string(epoch) +
                                 " (validation loss " + (std::isnan(v.loss) ? "NaN" : "Inf") +
                                 ", lr " + fmtG(r.lr) + ")";
                }
            } catch (const Cancelled&) {
                stopState = RunState::Cancelled;
                stopStatus = "cancelled at epoch " + std::to_string(epoch) + " (validation)";
                break;
            }
        }
        m.seconds = std::chrono::duration<double>(Clock::now() - epochStart).count();
        s.history.push_back(m);
        s.epochsDone = epoch;
        if (m.valAccuracy > s.bestValAccuracy) {
            s.bestValAccuracy = m.valAccuracy;
            s.bestEpoch = epoch;
        }
        s.finalValAccuracy = m.valAccuracy;
        s.wallSeconds = wallBefore + elapsed();
        double ips = 0;
        for (const auto& e : s.history) {
            ips += e.imagesPerSec;
        }
        s.imagesPerSec = ips / double(s.history.size());
        // Files, checkpoint first: the metrics and weights always describe a checkpointed epoch.
        saveCheckpoint(dir, *model, *opt, CheckpointState{epoch, s.wallSeconds, s.history});
        writeRunMetrics(dir, s.history);
        saveRunWeights(dir, *model);
        s.status = "running: epoch " + std::to_string(epoch) + " of " + std::to_string(c.epochs);
        writeRunSummary(dir, c, s, device.str());

        etaModel.addEpochEnd(std::chrono::duration<double>(Clock::now() - lastBatchEnd).count());
        TrainProgress p;
        p.kind = TrainProgress::Kind::Epoch;
        p.epoch = epoch;
        p.epochs = c.epochs;
        p.batch = r.batches;
        p.batchesPerEpoch = perEpoch;
        p.trainLoss = m.trainLoss;
        p.trainAccuracy = m.trainAccuracy;
        p.valLoss = m.valLoss;
        p.valAccuracy = m.valAccuracy;
        p.lr = m.lr;
        p.imagesPerSec = m.imagesPerSec;
        p.metrics = m;
        p.elapsedSec = elapsed();
        p.etaSec = eta(epoch * perEpoch, epoch);
        if (hooks.progress && !hooks.progress(p) && epoch < c.epochs && stopStatus.empty()) {
            stopState = RunState::Cancelled;
            stopStatus = "cancelled after epoch " + std::to_string(epoch);
        }
    }

    if (stopStatus.empty() && data.size(Part::Test) == 0) {
        s.status = "completed (no test set: the test split is empty)";
        s.completed = true;
        s.state = RunState::Completed;
    } else if (stopStatus.empty()) {
        try {
            s.test = evaluate(model, data, Part::Test, c, device, hooks.cancel);
            s.status = "completed";
            s.completed = true;
            s.state = RunState::Completed;
        } catch (const Cancelled&) {
            s.state = RunState::Cancelled;
            s.status = "cancelled during the final test evaluation (all " +
                       std::to_string(s.epochsDone) + " epochs trained)";
        }
    } else {
        s.status = stopStatus;
        s.state = stopState;
    }
    s.wallSeconds = wallBefore + elapsed();
    if (s.epochsDone == 0) {
        // Nothing finished: still leave a readable metrics file next to the summary.
        writeRunMetrics(dir, s.history);
    }
    writeRunSummary(dir, c, s, device.str());
    TrainProgress done;
    done.kind = TrainProgress::Kind::Finished;
    done.epoch = s.epochsDone;
    done.epochs = c.epochs;
    done.elapsedSec = elapsed();
    done.status = s.status;
    if (hooks.progress) {
        hooks.progress(done);
    }
    return s;
}

}  // namespace

// --- public API -----------------------------------------------------------------------------

void validateTrainConfig(const TrainConfig& c) {
    validateConfig(c);
}

TrainConfig familyTrainDefaults(const ModelSpec& spec, const OptimizerKind* optimizer) {
    const auto& d = familyOf(spec.family).trainDefaults;  // the family's measured choice
    TrainConfig c;
    c.optimizer = enumFromName<OptimizerKind>(d.optimizer, spec.family + " default optimizer");
    if (optimizer && *optimizer != c.optimizer) {
        c.optimizer = *optimizer;
        c.lr = c.optimizer == OptimizerKind::SGD ? 0.1 : 1e-3;
        c.weightDecay = c.optimizer == OptimizerKind::SGD ? 5e-4 : 0.05;
        c.warmupEpochs = 0;
        return c;
    }
    c.lr = d.lr;
    c.weightDecay = d.weightDecay;
    c.warmupEpochs = d.warmupEpochs;
    return c;
}

TrainSummary trainRun(const TrainConfig& config, const std::string& runDir,
                      const TrainHooks& hooks) {
    return runTraining(config, runDir, hooks, /*resume=*/false, nullptr);
}

TrainSummary trainRun(const TrainConfig& config, const std::string& runDir, const TrainHooks& hooks,
                      std::shared_ptr<const Dataset> dataset) {
    return runTraining(config, runDir, hooks, /*resume=*/false, std::move(dataset));
}

TrainSummary resumeRun(const std::string& runDir, const TrainHooks& hooks) {
    return runTraining(readRunConfig(runDir), runDir, hooks, /*resume=*/true, nullptr);
}

TrainSummary resumeRun(const std::string& runDir, const TrainHooks& hooks,
                       std::shared_ptr<const Dataset> dataset) {
    return runTraining(readRunConfig(runDir), runDir, hooks, /*resume=*/true, std::move(dataset));
}

namespace {

// The run's model (plan.json for a pruned one, else its config's spec) with weights.pt, on the
// CPU. DataError naming the file.
ScaleModel loadRunWeights(const std::string& dir, const TrainConfig& c) {
    const std::string planPath = joinPath(dir, runfile::kPlan);
    verifyChecksum(dir, runfile::kPlan);
    verifyChecksum(dir, runfile::kWeights);
    ScaleModel model;
    if (fileExists(planPath)) {
        const auto bytes = readFileBytes(planPath, kMaxJsonBytes);
        try {
            model = buildModelFromPlan(
                planFromJson(parseJsonText(std::string(bytes.begin(), bytes.end()), planPath)));
        } catch (const SpecError& e) {
            throw DataError(planPath + ": " + e.what());
        }
    } else {
        model = buildModel(c.model);
    }
    loadStateDictPickle(*model, joinPath(dir, runfile::kWeights));
    return model;
}

LoadedRun loadRunFrom(const std::string& dir, TrainConfig c, std::shared_ptr<const Dataset> dataset,
                      const torch::Device& device) {
    LoadedRun run;
    run.dir = dir;
    run.device = device;
    if (dataset->channels() != c.model.inChannels || dataset->numClasses() != c.model.numClasses) {
        throw SpecError(dataset->name + " has " + std::to_string(dataset->channels()) +
                        " channels and " + std::to_string(dataset->numClasses()) +
                        " classes; the run's model expects " + std::to_string(c.model.inChannels) +
                        " and " + std::to_string(c.model.numClasses));
    }
    SplitOptions split = c.split;
    split.seed = c.seed;
    run.data = std::make_shared<DataPipeline>(dataset, split);
    // The model was trained on the run's own normalization: use it, not this dataset's.
    Normalization n;
    if (readRunNormalization(dir, c.model.inChannels, n.mean, n.std)) {
        run.data->setNormalization(n);
    }
    run.model = loadRunWeights(dir, c);
    run.model->to(run.device);
    // Evaluation, features and pruning run forwards: the choice measured for those.
    KernelRequest kr;
    kr.plan = run.model->plan();
    kr.batchSize = evalBatchFor(c);
    kr.training = false;
    kr.gpu = !run.device.is_cpu();
    kr.threads = torch::get_num_threads();
    kr.layout = c.layout;
    kr.depthwise = c.depthwise;
    const KernelChoice kernels = chooseKernels(kr);
    run.model->setChannelsLast(kernels.channelsLast && run.device.is_cpu());
    run.model->setFastDepthwise(kernels.fastDepthwise);
    run.model->setBlockedInference(kernels.blocked);
    run.model->setWinogradInference(kernels.winograd);
    run.model->eval();
    run.config = std::move(c);
    return run;
}

}  // namespace

LoadedRun loadRun(const std::string& dir, const std::string& datasetOverride,
                  const std::function<bool(int64_t, int64_t)>& progress) {
    TrainConfig c = readRunConfig(dir);
    if (!datasetOverride.empty()) {
        c.dataset = datasetOverride;
    }
    applyThreadCount(c.threads);
    const torch::Device device = resolveDevice(c.device);
    auto dataset = loadDatasetCached(parseDatasetSpec(c.dataset), progress);
    return loadRunFrom(dir, std::move(c), std::move(dataset), device);
}

RunModel loadRunModel(const std::string& dir) {
    RunModel run;
    run.config = readRunConfig(dir);
    run.model = loadRunWeights(dir, run.config);
    run.model->eval();
    return run;
}

LoadedRun loadRun(const std::string& dir, std::shared_ptr<const Dataset> dataset) {
    TrainConfig c = readRunConfig(dir);
    applyThreadCount(c.threads);
    const torch::Device device = resolveDevice(c.device);
    return loadRunFrom(dir, std::move(c), std::move(dataset), device);
}

EvalResult evaluateRun(const std::string& dir, const std::string& datasetOverride,
                       const std::function<bool(int64_t, int64_t)>& progress) {
    EvalRunOptions o;
    o.dataset = datasetOverride;
    return evaluateRun(dir, o, progress);
}

EvalResult evaluateRun(const std::string& dir, const EvalRunOptions& o,
                       const std::function<bool(int64_t, int64_t)>& progress) {
    TrainConfig c = readRunConfig(dir);
    if (!o.dataset.empty()) {
        c.dataset = o.dataset;
    }
    if (o.limit > 0 && (c.split.testSubset == 0 || o.limit < c.split.testSubset)) {
        c.split.testSubset = o.limit;
    }
    applyThreadCount(c.threads);
    const torch::Device device = resolveDevice(c.device);
    auto dataset = loadDatasetCached(parseDatasetSpec(c.dataset), progress);
    LoadedRun run = loadRunFrom(dir, std::move(c), std::move(dataset), device);
    if (run.data->size(Part::Test) == 0) {
        throw DataError(dir + ": the run's test split is empty (" + run.config.dataset +
                        " with test subset " + std::to_string(run.config.split.testSubset) +
                        "); there is nothing to evaluate");
    }
    std::vector<torch::Tensor> inputs, logits, logits64, labels;
    std::function<void(const Batch&, const torch::Tensor&)> keep;
    if (!o.dumpDir.empty()) {
        keep = [&](const Batch& b, const torch::Tensor& l) {
            inputs.push_back(b.images.to(torch::kCPU, torch::kFloat).contiguous());
            logits.push_back(l.to(torch::kCPU, torch::kFloat).contiguous());
            labels.push_back(b.labels.to(torch::kCPU, torch::kLong).contiguous());
        };
    }
    EvalResult r = evaluateModel(*run.model, *run.data, Part::Test, run.config.model.resolution,
                                 evalBatchFor(run.config), run.device, nullptr, keep);
    if (!o.dumpDir.empty()) {
        std::error_code ec;
        fs::create_directories(o.dumpDir, ec);
        if (ec) {
            throw Error(o.dumpDir + ": cannot create the folder (" + ec.message() + ")");
        }
        // The same model in float64 on the CPU: float32's rounding alone moves a deep model's
        // logits by ~1e-4 (docs/BENCHMARKS.md, "ONNX export"), in LibTorch as in any runtime.
        {
            torch::NoGradGuard guard;
            run.model->setChannelsLast(false);
            run.model->to(torch::kCPU, torch::kDouble);
            std::vector<torch::Tensor> exact;
            for (const torch::Tensor& x : inputs) {
                exact.push_back(run.model->forward(x.to(torch::kDouble)).contiguous());
            }
            logits64 = std::move(exact);
        }
        for (const auto& [name, parts] : {std::pair{"inputs.npy", &inputs},
                                          {"logits.npy", &logits},
                                          {"logits_f64.npy", &logits64},
                                          {"labels.npy", &labels}}) {
            const torch::Tensor t = torch::cat(*parts).contiguous();
            const char* dtype = t.scalar_type() == torch::kLong     ? "<i8"
                                : t.scalar_type() == torch::kDouble ? "<f8"
                                                                    : "<f4";
            writeNpy(joinPath(o.dumpDir, name), dtype, t.sizes().vec(), t.data_ptr(),
                     size_t(t.nbytes()));
        }
    }
    return r;
}

}  // namespace scalelab
