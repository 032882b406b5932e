// The training engine: one loop for the GUI's worker and the CLI.

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/data/dataset.h"
#include "core/data/file_io.h"
#include "core/data/pipeline.h"
#include "core/error.h"
#include "core/models/analysis.h"
#include "core/models/model.h"
#include "core/models/spec_json.h"
#include "core/progress.h"
#include "core/runtime.h"
#include "core/train/device.h"
#include "core/train/run_folder.h"
#include "core/train/run_loader.h"
#include "core/train/train_api.h"

namespace scalelab {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

const char* optimizerName(OptimizerKind k) {
    return k == OptimizerKind::SGD ? "sgd" : "adamw";
}
const char* scheduleName(ScheduleKind k) {
    return k == ScheduleKind::Cosine ? "cosine" : k == ScheduleKind::Step ? "step" : "constant";
}

EvalResult evaluateModel(ScaleModelImpl& model, DataPipeline& data, Part part, int64_t resolution,
                         int64_t batchSize, const torch::Device& device,
                         const std::atomic<bool>* cancel) {
    EvalResult r;
    const int64_t k = model.spec().numClasses;
    r.classNames = data.dataset().classNames;
    r.confusion.assign(size_t(k), std::vector<int64_t>(size_t(k), 0));
    if (data.size(part) == 0) {
        return r;
    }
    model.eval();
    torch::NoGradGuard guard;
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
        const auto logits = model.forward(b.images);
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

constexpr const char* kConfigFile = "config.json";
constexpr const char* kMetricsFile = "metrics.csv";
constexpr const char* kSummaryFile = "summary.json";
constexpr const char* kCheckpointFile = "checkpoint.pt";
constexpr const char* kWeightsFile = "weights.pt";

// JSON numbers for fractions that may be "not measured" (-1 -> null).
json optional(double v) {
    return v < 0 ? json(nullptr) : json(v);
}

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

// Learning rate at global step `step` (0-based).
double lrAt(const TrainConfig& c, int64_t step, int64_t stepsPerEpoch) {
    const double total = double(c.epochs * stepsPerEpoch);
    const double warm = c.warmupEpochs * double(stepsPerEpoch);
    if (double(step) < warm) {
        return c.lr * double(step + 1) / warm;
    }
    switch (c.schedule) {
        case ScheduleKind::Cosine: {
            const double span = std::max(1.0, total - warm);
            const double t = std::min(1.0, (double(step) - warm) / span);
            return c.lr * 0.5 * (1.0 + std::cos(M_PI * t));
        }
        case ScheduleKind::Step:
            return c.lr * std::pow(c.stepGamma, double((step / stepsPerEpoch) / c.stepEpochs));
        case ScheduleKind::Constant:
            return c.lr;
    }
    return c.lr;
}

std::unique_ptr<torch::optim::Optimizer> makeOptimizer(const TrainConfig& c, ScaleModel& model) {
    if (c.optimizer == OptimizerKind::SGD) {
        return std::make_unique<torch::optim::SGD>(model->parameters(),
                                                   torch::optim::SGDOptions(c.lr)
                                                       .momentum(c.momentum)
                                                       .nesterov(c.nesterov && c.momentum > 0)
                                                       .weight_decay(c.weightDecay));
    }
    return std::make_unique<torch::optim::AdamW>(model->parameters(),
                                                 torch::optim::AdamWOptions(c.lr)
                                                     .betas(std::make_tuple(c.momentum, 0.999))
                                                     .weight_decay(c.weightDecay));
}

void setLr(torch::optim::Optimizer& opt, double lr) {
    for (auto& group : opt.param_groups()) {
        group.options().set_lr(lr);
    }
}

// --- evaluation ---------------------------------------------------------------------------

EvalResult evaluate(ScaleModel& model, DataPipeline& data, Part part, const TrainConfig& c,
                    const torch::Device& device, const std::atomic<bool>* cancel) {
    return evaluateModel(*model, data, part, c.model.resolution, c.evalBatchSize, device, cancel);
}

// --- run files ------------------------------------------------------------------------------

json evalJson(const EvalResult& r) {
    json j;
    j["count"] = r.count;
    j["loss"] = r.loss;
    j["accuracy"] = r.accuracy;
    j["class_names"] = r.classNames;
    json per = json::array();
    for (double a : r.perClassAccuracy) {
        per.push_back(optional(a));
    }
    j["per_class_accuracy"] = per;
    j["confusion"] = r.confusion;
    j["confusion_note"] = "rows: true class, columns: predicted class";
    return j;
}

std::string num(const char* format, double v) {
    char buf[48];
    std::snprintf(buf, sizeof buf, format, v);
    return buf;
}

// Full precision for losses and accuracies: a resumed run is compared to an uninterrupted one.
std::string metricsCsv(const std::vector<EpochMetrics>& history) {
    std::string out = "epoch,train_loss,train_acc,val_loss,val_acc,lr,seconds,images_per_s\n";
    for (const EpochMetrics& e : history) {
        out += std::to_string(e.epoch) + "," + num("%.9g", e.trainLoss) + "," +
               num("%.9g", e.trainAccuracy) + "," +
               (e.valLoss < 0 ? std::string() : num("%.9g", e.valLoss)) + "," +
               (e.valAccuracy < 0 ? std::string() : num("%.9g", e.valAccuracy)) + "," +
               num("%.9g", e.lr) + "," + num("%.3f", e.seconds) + "," +
               num("%.1f", e.imagesPerSec) + "\n";
    }
    return out;
}

json historyJson(const std::vector<EpochMetrics>& history) {
    json a = json::array();
    for (const EpochMetrics& e : history) {
        a.push_back({{"epoch", e.epoch},
                     {"train_loss", e.trainLoss},
                     {"train_acc", e.trainAccuracy},
                     {"val_loss", optional(e.valLoss)},
                     {"val_acc", optional(e.valAccuracy)},
                     {"lr", e.lr},
                     {"seconds", e.seconds},
                     {"images_per_s", e.imagesPerSec}});
    }
    return a;
}

std::vector<EpochMetrics> historyFromJson(const nlohmann::json& a) {
    std::vector<EpochMetrics> out;
    for (const auto& j : a) {
        EpochMetrics e;
        e.epoch = jsonInteger(j.at("epoch"), "epoch", 0, 100000);
        e.trainLoss = j.at("train_loss").get<double>();
        e.trainAccuracy = j.at("train_acc").get<double>();
        e.valLoss = j.at("val_loss").is_null() ? -1 : j.at("val_loss").get<double>();
        e.valAccuracy = j.at("val_acc").is_null() ? -1 : j.at("val_acc").get<double>();
        e.lr = j.at("lr").get<double>();
        e.seconds = j.at("seconds").get<double>();
        e.imagesPerSec = j.at("images_per_s").get<double>();
        out.push_back(e);
    }
    return out;
}

void writeSummary(const std::string& dir, const TrainConfig& c, const TrainSummary& s,
                  const std::string& deviceName) {
    json j;
    j["state"] = runStateName(s.state);
    j["status"] = s.status;
    j["completed"] = s.completed;
    j["model"] = c.model.name;
    j["dataset"] = c.dataset;
    j["device"] = deviceName;
    j["epochs_done"] = s.epochsDone;
    j["epochs_planned"] = c.epochs;
    j["best_val_acc"] = optional(s.bestValAccuracy);
    j["best_epoch"] = s.bestEpoch;
    j["final_val_acc"] = optional(s.finalValAccuracy);
    j["test_acc"] = s.test.count ? json(s.test.accuracy) : json(nullptr);
    j["test_loss"] = s.test.count ? json(s.test.loss) : json(nullptr);
    j["params"] = s.params;
    j["macs"] = s.macs;
    j["flops"] = 2 * s.macs;
    j["wall_seconds"] = s.wallSeconds;
    j["images_per_s"] = s.imagesPerSec;
    j["test"] = s.test.count ? evalJson(s.test) : json(nullptr);
    j["accuracy_note"] = "accuracies are fractions in [0, 1]; MACs per image, FLOPs = 2 x MACs";
    writeFileAtomic(joinPath(dir, kSummaryFile), j.dump(2) + "\n");
}

void saveCheckpoint(const std::string& dir, ScaleModel& model, torch::optim::Optimizer& opt,
                    int64_t epoch, const std::vector<EpochMetrics>& history, double wall) {
    torch::serialize::OutputArchive archive;
    torch::serialize::OutputArchive modelArchive, optArchive;
    model->save(modelArchive);
    opt.save(optArchive);
    archive.write("model", modelArchive);
    archive.write("optimizer", optArchive);
    archive.write("epoch", torch::tensor(epoch));
    archive.write("wall_seconds", torch::tensor(wall, torch::kFloat64));
    archive.write("history", c10::IValue(historyJson(history).dump()));
    std::ostringstream bytes;
    archive.save_to(bytes);
    const std::string s = bytes.str();
    writeFileAtomic(joinPath(dir, kCheckpointFile), s.data(), s.size());
}

extern "C" void __sanitizer_set_death_callback(void (*)(void)) __attribute__((weak));

// LibTorch's archive reader compiles the TorchScript type definitions stored in the file, and
// crashes (SEGV in ScriptTypeParser, found by fuzz_checkpoint) on some damaged ones. A child
// process parses the archive first, on the CPU, so that a damaged file ends as an error here
// instead of taking the program down. Where fork fails the load goes ahead unprobed.
void probeArchiveInChild(const std::vector<uint8_t>& bytes, const std::string& path) {
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) {
        return;
    }
    if (pid == 0) {
        // The child's crash is the parent's answer, not a report of its own (sanitizers, fuzzers).
        if (&__sanitizer_set_death_callback) {
            __sanitizer_set_death_callback(nullptr);
        }
        const int devNull = ::open("/dev/null", O_WRONLY);
        if (devNull >= 0) {
            ::dup2(devNull, 1);
            ::dup2(devNull, 2);
        }
        try {
            torch::set_num_threads(1);
            std::istringstream stream(std::string(bytes.begin(), bytes.end()));
            torch::serialize::InputArchive archive;
            archive.load_from(stream, torch::kCPU);
            ::_exit(0);
        } catch (...) {
            ::_exit(3);  // an ordinary error: the real load reports it
        }
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFSIGNALED(status) ||
        (WIFEXITED(status) && WEXITSTATUS(status) != 0 && WEXITSTATUS(status) != 3)) {
        throw DataError(path +
                        ": not a readable checkpoint (LibTorch's reader fails on it: "
                        "the file is damaged); nothing was loaded or written");
    }
}

}  // namespace

CheckpointState loadCheckpoint(const std::string& dir, ScaleModel& model,
                               torch::optim::Optimizer& opt, const torch::Device& device) {
    const std::string path = joinPath(dir, kCheckpointFile);
    if (!fileExists(path)) {
        throw DataError(path + ": not found (the run has no finished epoch to resume from)");
    }
    CheckpointState st;
    try {
        const std::vector<uint8_t> bytes = readFileBytes(path, uint64_t(4) << 30);
        checkZipArchive(bytes, path);  // LibTorch's zip reader trusts the offsets it reads
        probeArchiveInChild(bytes, path);
        std::istringstream stream(std::string(bytes.begin(), bytes.end()));
        torch::serialize::InputArchive archive;
        archive.load_from(stream, device);
        torch::serialize::InputArchive modelArchive, optArchive;
        archive.read("model", modelArchive);
        archive.read("optimizer", optArchive);
        model->load(modelArchive);
        opt.load(optArchive);
        torch::Tensor epoch, wall;
        archive.read("epoch", epoch);
        archive.read("wall_seconds", wall);
        st.epoch = epoch.item<int64_t>();
        st.wall = wall.item<double>();
        c10::IValue history;
        archive.read("history", history);
        st.history = historyFromJson(nlohmann::json::parse(history.toStringRef()));
    } catch (const Error&) {
        throw;
    } catch (const std::exception& e) {
        throw DataError(path + ": unreadable checkpoint (" + libraryMessage(e) + ")");
    }
    return st;
}

namespace {

// --- the loop -------------------------------------------------------------------------------

// A run's recorded state and sentence from summary.json (Running and "" when there is none or
// it is unreadable). ScaleLab 0.1 wrote no "state": its "completed" flag decides.
std::pair<RunState, std::string> recordedState(const std::string& dir) {
    const std::string path = joinPath(dir, kSummaryFile);
    if (!fileExists(path)) {
        return {RunState::Running, ""};
    }
    try {
        const auto bytes = readFileBytes(path, kMaxJsonBytes);
        const json j = json::parse(bytes.begin(), bytes.end());
        const std::string status = j.value("status", "");
        if (j.contains("state") && j["state"].is_string()) {
            return {runStateFromName(j["state"].get<std::string>()), status};
        }
        return {j.value("completed", false) ? RunState::Completed : RunState::Running, status};
    } catch (const std::exception&) {
        return {RunState::Running, ""};
    }
}

TrainSummary runTrainingLocked(const TrainConfig& c, const std::string& dir,
                               const TrainHooks& hooks, bool resume);

TrainSummary runTraining(const TrainConfig& c, const std::string& dir, const TrainHooks& hooks,
                         bool resume) {
    validateConfig(c);
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
        const auto [state, status] = recordedState(dir);
        if (state == RunState::Completed) {
            throw SpecError(dir + " is a completed run (" + status +
                            "); there is nothing to resume, and it is left as it is");
        }
        verifyChecksum(dir, kCheckpointFile);  // before anything is read or written
    } else {
        requireNoRunFiles(dir, "the run folder");  // again, under the lock
    }
    try {
        return runTrainingLocked(c, dir, hooks, resume);
    } catch (const Cancelled&) {
        throw;
    } catch (const std::exception& e) {
        // A write error (a full disk) or any other failure mid-run: say so in summary.json where
        // it can still be written, so the run never reads "running" forever.
        if (fileExists(joinPath(dir, kConfigFile))) {
            try {
                json j =
                    fileExists(joinPath(dir, kSummaryFile))
                        ? json::parse(readFileBytes(joinPath(dir, kSummaryFile), kMaxJsonBytes))
                        : json::object();
                j["state"] = runStateName(RunState::Failed);
                j["status"] = std::string("failed: ") + e.what();
                j["completed"] = false;
                writeFileAtomic(joinPath(dir, kSummaryFile), j.dump(2) + "\n");
            } catch (const std::exception&) {
            }
        }
        throw;
    }
}

TrainSummary runTrainingLocked(const TrainConfig& c, const std::string& dir,
                               const TrainHooks& hooks, bool resume) {
    applyThreadCount(c.threads);
    const torch::Device device = resolveDevice(c.device);
    checkMemory("training " + c.model.name + " at batch " + std::to_string(c.batchSize),
                analyzeModel(c.model).trainingMemoryBytes(c.batchSize), c.allowAnyMemory,
                "--allow-memory");
    const auto dataset = loadDatasetCached(parseDatasetSpec(c.dataset), hooks.loading);
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
        json cfg = json::parse(trainConfigToJson(c));
        cfg["normalization"] = {{"mean", data.normalization().mean},
                                {"std", data.normalization().std}};
        cfg["libtorch"] = runtimeInfo().torchVersion;
        cfg["device_resolved"] = device.str();
        cfg["threads_resolved"] = torch::get_num_threads();
        cfg["dataset_path"] = dataset->path;
        cfg["split_sizes"] = {{"train", data.size(Part::Train)},
                              {"validation", data.size(Part::Validation)},
                              {"test", data.size(Part::Test)}};
        writeFileAtomic(joinPath(dir, kConfigFile), cfg.dump(2) + "\n");
    }

    torch::manual_seed(c.seed);
    ScaleModel model = buildModel(c.model);
    model->to(device);
    model->setChannelsLast(c.channelsLast && device.is_cpu());
    auto opt = makeOptimizer(c, model);

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
        // The metrics file follows the checkpoint (a kill between the two writes is repaired).
        writeFileAtomic(joinPath(dir, kMetricsFile), metricsCsv(s.history));
    }
    for (const EpochMetrics& e : s.history) {
        if (e.valAccuracy > s.bestValAccuracy) {
            s.bestValAccuracy = e.valAccuracy;
            s.bestEpoch = e.epoch;
        }
    }
    s.epochsDone = startEpoch;

    // Prepare (resize once) the splits at the model's resolution before timing anything.
    data.images(Part::Train, c.model.resolution);
    const int64_t nTrain = data.size(Part::Train);
    // A final batch of one image is dropped (BatchNorm cannot normalize it).
    const int64_t batchesPerEpoch = nTrain / c.batchSize + (nTrain % c.batchSize > 1 ? 1 : 0);
    const int64_t totalBatches = batchesPerEpoch * c.epochs;
    namespace F = torch::nn::functional;
    const auto lossOptions = F::CrossEntropyFuncOptions().label_smoothing(c.labelSmoothing);

    const auto runStart = Clock::now();
    int64_t batchesThisSession = 0;
    std::string stopStatus;
    RunState stopState = RunState::Running;
    auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - runStart).count(); };
    auto emit = [&](const TrainProgress& p) {
        if (hooks.progress && !hooks.progress(p)) {
            return false;
        }
        return true;
    };

    for (int64_t epoch = startEpoch + 1; epoch <= c.epochs && stopStatus.empty(); ++epoch) {
        const auto epochStart = Clock::now();
        // Everything random in an epoch derives from (seed, epoch): a resumed run repeats it.
        torch::manual_seed(c.seed * 1000003ull + uint64_t(epoch));
        BatchOptions bo;
        bo.batchSize = c.batchSize;
        bo.shuffle = true;
        bo.seed = c.seed * 7919ull + uint64_t(epoch);
        bo.augment = c.augment;
        bo.device = device;
        bo.dropLastSingle = true;  // BatchNorm cannot train on one image
        BatchIterator it = data.batches(Part::Train, c.model.resolution, bo);
        model->train();
        double lossSum = 0;
        int64_t correct = 0, seen = 0, batch = 0;
        double lr = 0;
        Batch b;
        while (it.next(b)) {
            if (hooks.cancel && hooks.cancel->load()) {
                stopState = RunState::Cancelled;
                stopStatus = "cancelled at epoch " + std::to_string(epoch) + ", batch " +
                             std::to_string(batch + 1);
                break;
            }
            const int64_t step = (epoch - 1) * batchesPerEpoch + batch;
            lr = lrAt(c, step, batchesPerEpoch);
            setLr(*opt, lr);
            opt->zero_grad();
            const auto logits = model->forward(b.images);
            const auto loss = F::cross_entropy(logits, b.labels, lossOptions);
            const double lossValue = loss.item<double>();
            if (!std::isfinite(lossValue)) {
                stopState = RunState::Diverged;
                stopStatus = "diverged at epoch " + std::to_string(epoch) + ", batch " +
                             std::to_string(batch + 1) + " (lr " + fmtG(lr) + ", loss " +
                             (std::isnan(lossValue) ? "NaN" : "Inf") + ")";
                break;
            }
            loss.backward();
            opt->step();
            const int64_t n = b.labels.size(0);
            lossSum += lossValue * double(n);
            correct += logits.argmax(1).eq(b.labels).sum().item<int64_t>();
            seen += n;
            ++batch;
            ++batchesThisSession;
            if (batch % c.progressEveryBatches == 0 || batch == batchesPerEpoch) {
                TrainProgress p;
                p.kind = TrainProgress::Kind::Batch;
                p.epoch = epoch;
                p.epochs = c.epochs;
                p.batch = batch;
                p.batchesPerEpoch = batchesPerEpoch;
                p.trainLoss = lossSum / double(seen);
                p.trainAccuracy = double(correct) / double(seen);
                p.lr = lr;
                const double epochSec =
                    std::chrono::duration<double>(Clock::now() - epochStart).count();
                p.imagesPerSec = double(seen) / std::max(epochSec, 1e-9);
                p.elapsedSec = elapsed();
                const int64_t remaining = totalBatches - ((epoch - 1) * batchesPerEpoch + batch);
                p.etaSec = p.elapsedSec / double(batchesThisSession) * double(remaining);
                if (!emit(p)) {
                    stopState = RunState::Cancelled;
                    stopStatus = "cancelled at epoch " + std::to_string(epoch) + ", batch " +
                                 std::to_string(batch);
                    break;
                }
            }
        }
        if (!stopStatus.empty()) {
            break;  // a partial epoch is not recorded: the files keep the last finished one
        }
        const double trainSec = std::chrono::duration<double>(Clock::now() - epochStart).count();
        EpochMetrics m;
        m.epoch = epoch;
        m.trainLoss = lossSum / double(std::max<int64_t>(seen, 1));
        m.trainAccuracy = double(correct) / double(std::max<int64_t>(seen, 1));
        m.lr = lr;
        m.imagesPerSec = double(seen) / std::max(trainSec, 1e-9);
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
                                 ", lr " + fmtG(lr) + ")";
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
        saveCheckpoint(dir, model, *opt, epoch, s.history, s.wallSeconds);
        recordChecksum(dir, kCheckpointFile);
        writeFileAtomic(joinPath(dir, kMetricsFile), metricsCsv(s.history));
        saveStateDictPickle(*model, joinPath(dir, kWeightsFile));
        recordChecksum(dir, kWeightsFile);
        s.status = "running: epoch " + std::to_string(epoch) + " of " + std::to_string(c.epochs);
        writeSummary(dir, c, s, device.str());

        TrainProgress p;
        p.kind = TrainProgress::Kind::Epoch;
        p.epoch = epoch;
        p.epochs = c.epochs;
        p.batch = batch;
        p.batchesPerEpoch = batchesPerEpoch;
        p.trainLoss = m.trainLoss;
        p.trainAccuracy = m.trainAccuracy;
        p.valLoss = m.valLoss;
        p.valAccuracy = m.valAccuracy;
        p.lr = m.lr;
        p.imagesPerSec = m.imagesPerSec;
        p.metrics = m;
        p.elapsedSec = elapsed();
        const int64_t remaining = totalBatches - epoch * batchesPerEpoch;
        p.etaSec =
            batchesThisSession ? p.elapsedSec / double(batchesThisSession) * double(remaining) : 0;
        if (!emit(p) && epoch < c.epochs && stopStatus.empty()) {
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
        writeFileAtomic(joinPath(dir, kMetricsFile), metricsCsv(s.history));
    }
    writeSummary(dir, c, s, device.str());
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

const char* runStateName(RunState state) {
    switch (state) {
        case RunState::Running:
            return "running";
        case RunState::Completed:
            return "completed";
        case RunState::Cancelled:
            return "cancelled";
        case RunState::Diverged:
            return "diverged";
        case RunState::Failed:
            return "failed";
    }
    return "failed";
}

RunState runStateFromName(const std::string& name) {
    for (RunState s : {RunState::Running, RunState::Completed, RunState::Cancelled,
                       RunState::Diverged, RunState::Failed}) {
        if (name == runStateName(s)) {
            return s;
        }
    }
    return RunState::Failed;
}

std::string trainConfigToJson(const TrainConfig& c) {
    json j;
    j["model"] = specToJson(c.model);
    j["dataset"] = c.dataset;
    j["epochs"] = c.epochs;
    j["batch_size"] = c.batchSize;
    j["optimizer"] = optimizerName(c.optimizer);
    j["lr"] = c.lr;
    j["momentum"] = c.momentum;
    j["nesterov"] = c.nesterov;
    j["weight_decay"] = c.weightDecay;
    j["label_smoothing"] = c.labelSmoothing;
    j["schedule"] = scheduleName(c.schedule);
    j["warmup_epochs"] = c.warmupEpochs;
    j["step_epochs"] = c.stepEpochs;
    j["step_gamma"] = c.stepGamma;
    j["val_fraction"] = c.split.valFraction;
    j["train_subset"] = c.split.trainSubset;
    j["test_subset"] = c.split.testSubset;
    j["augment_crop_padding"] = c.augment.cropPadding;
    j["augment_hflip"] = c.augment.horizontalFlip;
    j["seed"] = c.seed;
    j["device"] = c.device;
    j["threads"] = c.threads;
    j["progress_every_batches"] = c.progressEveryBatches;
    j["channels_last"] = c.channelsLast;
    j["eval_batch_size"] = c.evalBatchSize;
    return j.dump(2);
}

TrainConfig trainConfigFromJson(const std::string& text, const std::string& what) {
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(text);
    } catch (const std::exception& e) {
        throw DataError(what + ": not valid JSON (" + libraryMessage(e) + ")");
    }
    TrainConfig c;
    // Whole numbers are checked before conversion (a float like 6e64 is no int64).
    auto intOr = [&](const char* key, int64_t fallback) {
        return j.contains(key) ? jsonInteger(j.at(key), key) : fallback;
    };
    try {
        c.model = specFromJson(j.at("model"));
        c.dataset = j.at("dataset").get<std::string>();
        c.epochs = jsonInteger(j.at("epochs"), "epochs");
        c.batchSize = jsonInteger(j.at("batch_size"), "batch_size");
        c.optimizer = j.at("optimizer").get<std::string>() == "adamw" ? OptimizerKind::AdamW
                                                                      : OptimizerKind::SGD;
        c.lr = j.at("lr").get<double>();
        c.momentum = j.value("momentum", c.momentum);
        c.nesterov = j.value("nesterov", c.nesterov);
        c.weightDecay = j.value("weight_decay", c.weightDecay);
        c.labelSmoothing = j.value("label_smoothing", c.labelSmoothing);
        const std::string sched = j.value("schedule", "cosine");
        c.schedule = sched == "step"       ? ScheduleKind::Step
                     : sched == "constant" ? ScheduleKind::Constant
                                           : ScheduleKind::Cosine;
        c.warmupEpochs = j.value("warmup_epochs", c.warmupEpochs);
        c.stepEpochs = decltype(c.stepEpochs)(intOr("step_epochs", c.stepEpochs));
        c.stepGamma = j.value("step_gamma", c.stepGamma);
        c.split.valFraction = j.value("val_fraction", c.split.valFraction);
        c.split.trainSubset =
            decltype(c.split.trainSubset)(intOr("train_subset", c.split.trainSubset));
        c.split.testSubset = decltype(c.split.testSubset)(intOr("test_subset", c.split.testSubset));
        c.augment.cropPadding = int(intOr("augment_crop_padding", 0));
        c.augment.horizontalFlip = j.value("augment_hflip", false);
        c.seed = uint64_t(intOr("seed", int64_t(c.seed)));
        c.device = j.value("device", c.device);
        c.threads = decltype(c.threads)(intOr("threads", c.threads));
        c.progressEveryBatches = decltype(c.progressEveryBatches)(
            intOr("progress_every_batches", c.progressEveryBatches));
        c.channelsLast = j.value("channels_last", c.channelsLast);
        c.evalBatchSize = decltype(c.evalBatchSize)(intOr("eval_batch_size", c.evalBatchSize));
    } catch (const SpecError& e) {
        throw DataError(what + ": " + e.what());
    } catch (const nlohmann::json::exception& e) {
        throw DataError(what + ": missing or malformed field (" + libraryMessage(e) + ")");
    }
    return c;
}

std::string evalResultToJson(const EvalResult& r) {
    return evalJson(r).dump(2);
}

EvalResult evalResultFromJson(const std::string& text, const std::string& what) {
    try {
        const auto j = nlohmann::json::parse(text);
        EvalResult r;
        r.count = jsonInteger(j.at("count"), "count", 0);
        r.loss = j.at("loss").get<double>();
        r.accuracy = j.at("accuracy").get<double>();
        r.classNames = j.at("class_names").get<std::vector<std::string>>();
        for (const auto& v : j.at("per_class_accuracy")) {
            r.perClassAccuracy.push_back(v.is_null() ? -1.0 : v.get<double>());
        }
        for (const auto& row : j.at("confusion")) {
            std::vector<int64_t> counts;
            for (const auto& v : row) {
                counts.push_back(jsonInteger(v, "confusion count", 0));
            }
            r.confusion.push_back(counts);
        }
        return r;
    } catch (const SpecError& e) {
        throw DataError(what + ": malformed evaluation result (" + e.what() + ")");
    } catch (const nlohmann::json::exception& e) {
        throw DataError(what + ": malformed evaluation result (" + libraryMessage(e) + ")");
    }
}

std::string epochHistoryToJson(const std::vector<EpochMetrics>& history) {
    return historyJson(history).dump();
}

std::vector<EpochMetrics> epochHistoryFromJson(const std::string& text, const std::string& what) {
    try {
        return historyFromJson(nlohmann::json::parse(text));
    } catch (const SpecError& e) {
        throw DataError(what + ": malformed epoch history (" + e.what() + ")");
    } catch (const nlohmann::json::exception& e) {
        throw DataError(what + ": malformed epoch history (" + libraryMessage(e) + ")");
    }
}

TrainConfig readRunConfig(const std::string& dir) {
    const std::string path = joinPath(dir, kConfigFile);
    const auto bytes = readFileBytes(path, kMaxJsonBytes);
    TrainConfig c = trainConfigFromJson(std::string(bytes.begin(), bytes.end()), path);
    try {
        validateConfig(c);  // the same ranges as the CLI's options
    } catch (const SpecError& e) {
        throw DataError(path + ": " + e.what());
    }
    return c;
}

TrainSummary trainRun(const TrainConfig& config, const std::string& runDir,
                      const TrainHooks& hooks) {
    return runTraining(config, runDir, hooks, /*resume=*/false);
}

TrainSummary resumeRun(const std::string& runDir, const TrainHooks& hooks) {
    return runTraining(readRunConfig(runDir), runDir, hooks, /*resume=*/true);
}

LoadedRun loadRun(const std::string& dir, const std::string& datasetOverride,
                  const std::function<bool(int64_t, int64_t)>& progress) {
    LoadedRun run;
    run.dir = dir;
    run.config = readRunConfig(dir);
    const auto cfgBytes = readFileBytes(joinPath(dir, kConfigFile), kMaxJsonBytes);
    const auto cfg = nlohmann::json::parse(std::string(cfgBytes.begin(), cfgBytes.end()));
    TrainConfig& c = run.config;
    if (!datasetOverride.empty()) {
        c.dataset = datasetOverride;
    }
    applyThreadCount(c.threads);
    run.device = resolveDevice(c.device);
    const auto dataset = loadDatasetCached(parseDatasetSpec(c.dataset), progress);
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
    if (cfg.contains("normalization")) {
        const std::string where = joinPath(dir, kConfigFile) + ": normalization";
        Normalization n;
        try {
            n.mean = cfg["normalization"].at("mean").get<std::vector<float>>();
            n.std = cfg["normalization"].at("std").get<std::vector<float>>();
        } catch (const nlohmann::json::exception&) {
            throw DataError(where + " must hold 'mean' and 'std' lists of numbers");
        }
        if (int64_t(n.mean.size()) != c.model.inChannels ||
            int64_t(n.std.size()) != c.model.inChannels) {
            throw DataError(where + " has " + std::to_string(n.mean.size()) + "/" +
                            std::to_string(n.std.size()) + " values for a " +
                            std::to_string(c.model.inChannels) + "-channel model");
        }
        for (size_t i = 0; i < n.std.size(); ++i) {
            if (!std::isfinite(n.mean[i]) || !std::isfinite(n.std[i]) || !(n.std[i] > 0)) {
                throw DataError(where + ": channel " + std::to_string(i) + " has mean " +
                                fmtG(n.mean[i]) + ", std " + fmtG(n.std[i]) +
                                " (std must be a finite number > 0)");
            }
        }
        run.data->setNormalization(n);
    }
    const std::string planPath = joinPath(dir, "plan.json");
    verifyChecksum(dir, "plan.json");
    verifyChecksum(dir, kWeightsFile);
    if (fileExists(planPath)) {
        const auto bytes = readFileBytes(planPath, kMaxJsonBytes);
        try {
            run.model = buildModelFromPlan(
                planFromJson(nlohmann::json::parse(std::string(bytes.begin(), bytes.end()))));
        } catch (const nlohmann::json::exception& e) {
            throw DataError(planPath + ": not valid JSON (" + libraryMessage(e) + ")");
        } catch (const SpecError& e) {
            throw DataError(planPath + ": " + e.what());
        }
    } else {
        run.model = buildModel(c.model);
    }
    loadStateDictPickle(*run.model, joinPath(dir, kWeightsFile));
    run.model->to(run.device);
    run.model->setChannelsLast(c.channelsLast && run.device.is_cpu());
    run.model->eval();
    return run;
}

EvalResult evaluateRun(const std::string& dir, const std::string& datasetOverride,
                       const std::function<bool(int64_t, int64_t)>& progress) {
    LoadedRun run = loadRun(dir, datasetOverride, progress);
    if (run.data->size(Part::Test) == 0) {
        throw DataError(dir + ": the run's test split is empty (" + run.config.dataset +
                        " with test subset " + std::to_string(run.config.split.testSubset) +
                        "); there is nothing to evaluate");
    }
    return evaluateModel(*run.model, *run.data, Part::Test, run.config.model.resolution,
                         run.config.evalBatchSize, run.device);
}

void saveModelRecord(ScaleModelImpl& model, const TrainConfig& config, const std::string& dir,
                     const nlohmann::json& extra) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) {
        throw Error(dir + ": cannot create the folder (" + ec.message() + ")");
    }
    TrainConfig c = config;
    c.model = model.spec();
    json cfg = json::parse(trainConfigToJson(c));
    for (auto it = extra.begin(); it != extra.end(); ++it) {
        cfg[it.key()] = it.value();
    }
    writeFileAtomic(joinPath(dir, kConfigFile), cfg.dump(2) + "\n");
    writeFileAtomic(joinPath(dir, "plan.json"), planToJson(model.plan()).dump(2) + "\n");
    recordChecksum(dir, "plan.json");
    saveStateDictPickle(model, joinPath(dir, kWeightsFile));
    recordChecksum(dir, kWeightsFile);
}

}  // namespace scalelab
