// The JSON mapping of the training records, one function pair per type.

#include "core/train/records_json.h"

#include <cmath>

#include "core/json_enums.h"
#include "core/models/spec_json.h"
#include "core/train/sweep.h"

namespace scalelab {

using ojson = nlohmann::ordered_json;

namespace {

// Fractions that may be "not measured" (-1) are written as null.
ojson optional(double v) {
    return v < 0 ? ojson(nullptr) : ojson(v);
}

const nlohmann::json& at(const nlohmann::json& j, const char* key) {
    if (!j.is_object()) {
        throw SpecError("expected an object holding '" + std::string(key) + "'");
    }
    const auto it = j.find(key);
    if (it == j.end()) {
        throw SpecError("field '" + std::string(key) + "' is missing");
    }
    return *it;
}

double number(const nlohmann::json& v, const char* key) {
    if (!v.is_number()) {
        throw SpecError("field '" + std::string(key) + "' must be a number");
    }
    return v.get<double>();
}
double number(const nlohmann::json& j, const char* key, double fallback) {
    return j.contains(key) ? number(j.at(key), key) : fallback;
}
// null (not measured) reads as -1.
double optionalNumber(const nlohmann::json& j, const char* key) {
    const nlohmann::json& v = at(j, key);
    return v.is_null() ? -1.0 : number(v, key);
}
// A fraction in [0, 1], or -1 / null for "not measured".
double fraction(double v, const char* key) {
    if (v != -1.0 && !(v >= 0 && v <= 1)) {
        throw SpecError("field '" + std::string(key) + "' = " + std::to_string(v) +
                        " must be a fraction in [0, 1] (or null: not measured)");
    }
    return v;
}
// A finite number >= 0 (losses, seconds, rates); -1 passes where "not measured" is allowed.
double nonNegative(double v, const char* key, bool allowUnset = false) {
    if (!(std::isfinite(v) && (v >= 0 || (allowUnset && v == -1.0)))) {
        throw SpecError("field '" + std::string(key) + "' = " + std::to_string(v) +
                        " must be a finite number >= 0");
    }
    return v;
}
int64_t integer(const nlohmann::json& j, const char* key, int64_t min = -(int64_t(1) << 53),
                int64_t max = int64_t(1) << 53) {
    return jsonInteger(at(j, key), "field '" + std::string(key) + "'", min, max);
}
int64_t integer(const nlohmann::json& j, const char* key, int64_t fallback, int64_t min,
                int64_t max) {
    return j.contains(key) ? integer(j, key, min, max) : fallback;
}
bool boolean(const nlohmann::json& j, const char* key, bool fallback) {
    if (!j.contains(key)) {
        return fallback;
    }
    if (!j.at(key).is_boolean()) {
        throw SpecError("field '" + std::string(key) + "' must be true or false");
    }
    return j.at(key).get<bool>();
}
const nlohmann::json& array(const nlohmann::json& j, const char* key) {
    const nlohmann::json& v = at(j, key);
    if (!v.is_array()) {
        throw SpecError("field '" + std::string(key) + "' must be a list");
    }
    return v;
}
std::string text(const nlohmann::json& v, const char* key) {
    if (!v.is_string()) {
        throw SpecError("field '" + std::string(key) + "' must be a string");
    }
    return v.get<std::string>();
}
std::string text(const nlohmann::json& j, const char* key, const std::string& fallback) {
    return j.contains(key) ? text(j.at(key), key) : fallback;
}

}  // namespace

// --- TrainConfig (config.json) --------------------------------------------------------------

void to_json(ojson& j, const TrainConfig& c) {
    j = ojson::object();
    j["model"] = specToJson(c.model);
    j["dataset"] = c.dataset;
    j["epochs"] = c.epochs;
    j["batch_size"] = c.batchSize;
    j["optimizer"] = c.optimizer;
    j["lr"] = c.lr;
    j["momentum"] = c.momentum;
    j["nesterov"] = c.nesterov;
    j["weight_decay"] = c.weightDecay;
    j["label_smoothing"] = c.labelSmoothing;
    j["schedule"] = c.schedule;
    j["warmup_epochs"] = c.warmupEpochs;
    j["step_epochs"] = c.stepEpochs;
    j["step_gamma"] = c.stepGamma;
    j["val_fraction"] = c.split.valFraction;
    j["train_subset"] = c.split.trainSubset;
    j["test_subset"] = c.split.testSubset;
    j["val_from_subset"] = c.split.valFromSubset;
    j["augment_crop_padding"] = c.augment.cropPadding;
    j["augment_hflip"] = c.augment.horizontalFlip;
    j["seed"] = c.seed;
    j["device"] = c.device;
    j["threads"] = c.threads;
    j["progress_every_batches"] = c.progressEveryBatches;
    j["layout"] = c.layout;
    j["depthwise"] = c.depthwise;
    j["precise_bn"] = c.preciseBn;
    j["eval_batch_size"] = c.evalBatchSize;
}

// Required: model, dataset, epochs, batch_size, optimizer, lr; the rest falls back to
// TrainConfig{}'s defaults (records of older versions lack some). Whole numbers are checked
// before conversion (a float like 6e64 is no int64); ranges are checked by validateConfig.
void from_json(const nlohmann::json& j, TrainConfig& c) {
    const TrainConfig d;
    constexpr int64_t kInt = 2147483647;  // fields stored in an int
    c.model = specFromJson(at(j, "model"));
    c.dataset = text(at(j, "dataset"), "dataset");
    c.epochs = integer(j, "epochs");
    c.batchSize = integer(j, "batch_size");
    c.optimizer = enumFromJson<OptimizerKind>(at(j, "optimizer"), "optimizer");
    c.lr = number(at(j, "lr"), "lr");
    c.momentum = number(j, "momentum", d.momentum);
    c.nesterov = boolean(j, "nesterov", d.nesterov);
    c.weightDecay = number(j, "weight_decay", d.weightDecay);
    c.labelSmoothing = number(j, "label_smoothing", d.labelSmoothing);
    c.schedule = j.contains("schedule") ? enumFromJson<ScheduleKind>(j.at("schedule"), "schedule")
                                        : d.schedule;
    c.warmupEpochs = number(j, "warmup_epochs", d.warmupEpochs);
    c.stepEpochs = integer(j, "step_epochs", d.stepEpochs, -kInt, kInt);
    c.stepGamma = number(j, "step_gamma", d.stepGamma);
    c.split.valFraction = number(j, "val_fraction", d.split.valFraction);
    c.split.trainSubset = integer(j, "train_subset", d.split.trainSubset, -kInt, kInt);
    c.split.testSubset = integer(j, "test_subset", d.split.testSubset, -kInt, kInt);
    // Absent in records written before it existed: those were split the old way.
    c.split.valFromSubset = boolean(j, "val_from_subset", false);
    c.augment.cropPadding = int(integer(j, "augment_crop_padding", 0, -kInt, kInt));
    c.augment.horizontalFlip = boolean(j, "augment_hflip", false);
    c.seed = uint64_t(integer(j, "seed", int64_t(d.seed), 0, int64_t(1) << 53));
    c.device = text(j, "device", d.device);
    c.threads = int(integer(j, "threads", d.threads, -kInt, kInt));
    c.progressEveryBatches =
        integer(j, "progress_every_batches", d.progressEveryBatches, -kInt, kInt);
    if (j.contains("layout")) {
        c.layout = enumFromJson<LayoutChoice>(j.at("layout"), "layout");
    } else {
        // Records before the measured choice: channels-last was the default, false a choice.
        c.layout = boolean(j, "channels_last", true) ? d.layout : LayoutChoice::Nchw;
    }
    c.depthwise = j.contains("depthwise")
                      ? enumFromJson<DepthwiseChoice>(j.at("depthwise"), "depthwise")
                      : d.depthwise;
    // Absent in records written before it existed: those ran without it.
    c.preciseBn = boolean(j, "precise_bn", false);
    c.evalBatchSize = integer(j, "eval_batch_size", d.evalBatchSize, -kInt, kInt);
}

// --- EpochMetrics ---------------------------------------------------------------------------

void to_json(ojson& j, const EpochMetrics& e) {
    j = ojson{{"epoch", e.epoch},
              {"train_loss", e.trainLoss},
              {"train_acc", e.trainAccuracy},
              {"val_loss", optional(e.valLoss)},
              {"val_acc", optional(e.valAccuracy)},
              {"lr", e.lr},
              {"seconds", e.seconds},
              {"images_per_s", e.imagesPerSec}};
}

void from_json(const nlohmann::json& j, EpochMetrics& e) {
    e.epoch = integer(j, "epoch", 0, 100000);
    e.trainLoss = nonNegative(number(at(j, "train_loss"), "train_loss"), "train_loss");
    e.trainAccuracy = fraction(number(at(j, "train_acc"), "train_acc"), "train_acc");
    e.valLoss = nonNegative(optionalNumber(j, "val_loss"), "val_loss", true);
    e.valAccuracy = fraction(optionalNumber(j, "val_acc"), "val_acc");
    e.lr = nonNegative(number(at(j, "lr"), "lr"), "lr");
    e.seconds = nonNegative(number(at(j, "seconds"), "seconds"), "seconds");
    e.imagesPerSec = nonNegative(number(at(j, "images_per_s"), "images_per_s"), "images_per_s");
}

// --- EvalResult -----------------------------------------------------------------------------

void to_json(ojson& j, const EvalResult& r) {
    j = ojson::object();
    j["count"] = r.count;
    j["loss"] = r.loss;
    j["accuracy"] = r.accuracy;
    j["class_names"] = r.classNames;
    ojson per = ojson::array();
    for (double a : r.perClassAccuracy) {
        per.push_back(optional(a));
    }
    j["per_class_accuracy"] = per;
    j["confusion"] = r.confusion;
    j["confusion_note"] = "rows: true class, columns: predicted class";
}

void from_json(const nlohmann::json& j, EvalResult& r) {
    r = EvalResult{};
    r.count = integer(j, "count", 0);
    r.loss = nonNegative(number(at(j, "loss"), "loss"), "loss");
    r.accuracy = fraction(number(at(j, "accuracy"), "accuracy"), "accuracy");
    for (const auto& name : array(j, "class_names")) {
        r.classNames.push_back(text(name, "class_names"));
    }
    for (const auto& v : array(j, "per_class_accuracy")) {
        r.perClassAccuracy.push_back(
            v.is_null() ? -1.0 : fraction(number(v, "per_class_accuracy"), "per_class_accuracy"));
    }
    for (const auto& row : array(j, "confusion")) {
        if (!row.is_array()) {
            throw SpecError("field 'confusion' must be a list of rows");
        }
        std::vector<int64_t> counts;
        for (const auto& v : row) {
            counts.push_back(jsonInteger(v, "a confusion count", 0));
        }
        r.confusion.push_back(counts);
    }
}

// --- TrainSummary ---------------------------------------------------------------------------

void to_json(ojson& j, const TrainSummary& s) {
    j = ojson::object();
    j["state"] = s.state;
    j["status"] = s.status;
    j["completed"] = s.completed;
    j["epochs_done"] = s.epochsDone;
    j["best_val_acc"] = optional(s.bestValAccuracy);
    j["best_epoch"] = s.bestEpoch;
    j["final_val_acc"] = optional(s.finalValAccuracy);
    j["test_acc"] = s.test.count ? ojson(s.test.accuracy) : ojson(nullptr);
    j["test_loss"] = s.test.count ? ojson(s.test.loss) : ojson(nullptr);
    j["params"] = s.params;
    j["macs"] = s.macs;
    j["flops"] = 2 * s.macs;
    j["wall_seconds"] = s.wallSeconds;
    j["images_per_s"] = s.imagesPerSec;
    j["test"] = s.test.count ? ojson(s.test) : ojson(nullptr);
    j["warnings"] = s.warnings;
    j["accuracy_note"] = "accuracies are fractions in [0, 1]; MACs per image, FLOPs = 2 x MACs";
}

void from_json(const nlohmann::json& j, TrainSummary& s) {
    s = TrainSummary{};
    s.status = text(j, "status", "");
    s.completed = boolean(j, "completed", false);
    s.state = j.contains("state") ? enumFromJson<RunState>(j.at("state"), "state")
              : s.completed       ? RunState::Completed
                                  : RunState::Running;
    s.completed = s.state == RunState::Completed;
    s.epochsDone = integer(j, "epochs_done", 0, 0, 100000);
    s.bestValAccuracy = fraction(
        j.contains("best_val_acc") ? optionalNumber(j, "best_val_acc") : -1, "best_val_acc");
    s.bestEpoch = integer(j, "best_epoch", 0, 0, 100000);
    s.finalValAccuracy = fraction(
        j.contains("final_val_acc") ? optionalNumber(j, "final_val_acc") : -1, "final_val_acc");
    s.params = integer(j, "params", 0, 0, int64_t(1) << 53);
    s.macs = integer(j, "macs", 0, 0, int64_t(1) << 53);
    s.wallSeconds = nonNegative(number(j, "wall_seconds", 0), "wall_seconds");
    s.imagesPerSec = nonNegative(number(j, "images_per_s", 0), "images_per_s");
    if (j.contains("test") && !j.at("test").is_null()) {
        s.test = j.at("test").get<EvalResult>();
    }
    if (j.contains("warnings")) {
        for (const auto& w : array(j, "warnings")) {
            s.warnings.push_back(text(w, "warnings"));
        }
    }
}

// --- Pruning sweeps ------------------------------------------------------------------------

void to_json(ojson& j, const PruneRow& r) {
    j = ojson::object();
    j["method"] = r.method;
    j["level"] = r.level;
    j["scope"] = r.scope;
    j["sparsity"] = r.sparsity;
    j["params"] = r.params;
    j["nonzero_params"] = r.nonzeroParams;
    j["macs"] = r.macs;
    j["sparse_macs"] = r.sparseMacs;
    j["test_acc"] = r.accuracy;
    j["test_loss"] = r.loss;
    j["finetuned_acc"] = optional(r.finetunedAccuracy);
    j["finetuned_loss"] = optional(r.finetunedLoss);
    j["infer_images_per_s"] = r.inferImagesPerSec;
    j["model_dir"] = r.modelDir;
}

void from_json(const nlohmann::json& j, PruneRow& r) {
    constexpr int64_t kMax = int64_t(1) << 53;
    r.method = enumName(enumFromJson<PruneMethod>(at(j, "method"), "field 'method'"));
    r.level = number(at(j, "level"), "level");
    if (!(r.level >= 0 && r.level < 1)) {
        throw SpecError("field 'level' = " + std::to_string(r.level) +
                        " must be a fraction in [0, 1)");
    }
    r.scope = text(at(j, "scope"), "scope");
    r.sparsity = fraction(number(at(j, "sparsity"), "sparsity"), "sparsity");
    r.params = integer(j, "params", 0, kMax);
    r.nonzeroParams = integer(j, "nonzero_params", 0, kMax);
    r.macs = integer(j, "macs", 0, kMax);
    r.sparseMacs = integer(j, "sparse_macs", 0, kMax);
    if (r.nonzeroParams > r.params) {
        throw SpecError("field 'nonzero_params' = " + std::to_string(r.nonzeroParams) +
                        " is more than 'params' = " + std::to_string(r.params));
    }
    r.accuracy = fraction(number(at(j, "test_acc"), "test_acc"), "test_acc");
    r.loss = nonNegative(number(at(j, "test_loss"), "test_loss"), "test_loss");
    r.finetunedAccuracy = fraction(optionalNumber(j, "finetuned_acc"), "finetuned_acc");
    r.finetunedLoss = nonNegative(optionalNumber(j, "finetuned_loss"), "finetuned_loss", true);
    r.inferImagesPerSec = nonNegative(number(at(j, "infer_images_per_s"), "infer_images_per_s"),
                                      "infer_images_per_s");
    r.modelDir = text(j, "model_dir", "");
}

void to_json(ojson& j, const PruneSweepOptions& o) {
    j = ojson::object();
    j["run_dir"] = o.runDir;
    ojson methods = ojson::array();
    for (PruneMethod m : o.methods) {
        methods.push_back(enumName(m));
    }
    j["methods"] = methods;
    j["levels"] = o.levels;
    j["finetune_epochs"] = o.finetuneEpochs;
    j["finetune_lr"] = o.finetuneLr;
    j["finetune_subset"] = o.finetuneSubset;
    j["test_subset"] = o.testSubset;
    j["include_classifier"] = o.includeClassifier;
    j["per_stage"] = o.perStage;
    j["save_model_dir"] = o.saveModelDir;
    j["speed_batch"] = o.speedBatch;
}

void from_json(const nlohmann::json& j, PruneSweepOptions& o) {
    const PruneSweepOptions d;
    constexpr int64_t kMax = int64_t(1) << 53;
    o.runDir = text(at(j, "run_dir"), "run_dir");
    o.methods.clear();
    for (const auto& m : array(j, "methods")) {
        o.methods.push_back(enumFromJson<PruneMethod>(m, "field 'methods'"));
    }
    o.levels.clear();
    for (const auto& l : array(j, "levels")) {
        const double v = number(l, "levels");
        if (!(v >= 0 && v < 1)) {
            throw SpecError("field 'levels' holds " + std::to_string(v) +
                            "; levels are fractions in [0, 1)");
        }
        o.levels.push_back(v);
    }
    o.finetuneEpochs = integer(j, "finetune_epochs", d.finetuneEpochs, 0, kMax);
    o.finetuneLr = nonNegative(number(j, "finetune_lr", d.finetuneLr), "finetune_lr");
    o.finetuneSubset = integer(j, "finetune_subset", d.finetuneSubset, 0, kMax);
    o.testSubset = integer(j, "test_subset", d.testSubset, 0, kMax);
    o.includeClassifier = boolean(j, "include_classifier", d.includeClassifier);
    o.perStage = boolean(j, "per_stage", d.perStage);
    o.saveModelDir = text(j, "save_model_dir", "");
    o.speedBatch = integer(j, "speed_batch", d.speedBatch, 1, kMax);
}

void to_json(ojson& j, const PruneSweepResult& r) {
    j = ojson::object();
    j["baseline_acc"] = r.baselineAccuracy;
    j["baseline_infer_images_per_s"] = r.baselineImagesPerSec;
    j["baseline_params"] = r.baselineParams;
    j["baseline_macs"] = r.baselineMacs;
    j["cancelled"] = r.cancelled;
    j["status"] = r.status;
    j["rows"] = r.rows;
}

void from_json(const nlohmann::json& j, PruneSweepResult& r) {
    constexpr int64_t kMax = int64_t(1) << 53;
    r.baselineAccuracy = fraction(number(at(j, "baseline_acc"), "baseline_acc"), "baseline_acc");
    r.baselineImagesPerSec =
        nonNegative(number(at(j, "baseline_infer_images_per_s"), "baseline_infer_images_per_s"),
                    "baseline_infer_images_per_s");
    r.baselineParams = integer(j, "baseline_params", 0, kMax);
    r.baselineMacs = integer(j, "baseline_macs", 0, kMax);
    r.cancelled = boolean(j, "cancelled", false);
    r.status = text(j, "status", "");
    r.rows.clear();
    for (const auto& row : array(j, "rows")) {
        r.rows.push_back(row.get<PruneRow>());
    }
}

void to_json(ojson& j, const PruneSweepRecord& r) {
    j = ojson::object();
    j["format"] = "scalelab-pruning";
    j["version"] = 1;
    j["finished"] = r.finished;
    j["options"] = r.options;
    j["result"] = r.result;
}

void from_json(const nlohmann::json& j, PruneSweepRecord& r) {
    if (text(at(j, "format"), "format") != "scalelab-pruning") {
        throw SpecError("field 'format' is not \"scalelab-pruning\"");
    }
    integer(j, "version", 1, 1);
    r.finished = boolean(j, "finished", false);
    r.options = at(j, "options").get<PruneSweepOptions>();
    r.result = at(j, "result").get<PruneSweepResult>();
}

// --- Sweeps (sweep.json, slurm.json) ----------------------------------------------------------

namespace {

constexpr const char* kSweepFormat = "scalelab-sweep/1";

const ojson& atOrdered(const ojson& j, const char* key, const char* kind) {
    if (!j.is_object() || !j.contains(key)) {
        throw SpecError("field '" + std::string(key) + "' is missing");
    }
    const ojson& v = j.at(key);
    const bool ok = std::string(kind) == "object"   ? v.is_object()
                    : std::string(kind) == "list"   ? v.is_array()
                    : std::string(kind) == "string" ? v.is_string()
                                                    : v.is_number_integer();
    if (!ok) {
        throw SpecError("field '" + std::string(key) + "' must be a " + kind);
    }
    return v;
}

// An object of option name -> text, in its order.
SweepSettings settingsFromJson(const ojson& j, const char* key) {
    SweepSettings out;
    for (const auto& [name, value] : atOrdered(j, key, "object").items()) {
        if (!value.is_string()) {
            throw SpecError("field '" + std::string(key) + "." + name + "' must be a string");
        }
        out.emplace_back(name, value.get<std::string>());
    }
    return out;
}

ojson settingsToJson(const SweepSettings& settings) {
    ojson j = ojson::object();
    for (const auto& [name, value] : settings) {
        j[name] = value;
    }
    return j;
}

}  // namespace

void to_json(ojson& j, const SweepPlan& p) {
    j = ojson::object();
    j["format"] = kSweepFormat;
    j["base"] = settingsToJson(p.base);
    ojson grid = ojson::object();
    for (const SweepAxis& a : p.grid) {
        grid[a.key] = a.values;
    }
    j["grid"] = grid;
    j["runs"] = ojson::array();
    for (const SweepRun& r : p.runs) {
        ojson run;
        run["index"] = r.index;
        run["id"] = r.id;
        run["point"] = settingsToJson(r.point);
        run["config"] = r.config;
        j["runs"].push_back(run);
    }
}

void from_json(const ojson& j, SweepPlan& p) {
    p = SweepPlan{};
    if (!j.is_object() || j.value("format", std::string()) != kSweepFormat) {
        throw SpecError(std::string("not a sweep plan (expected \"format\": \"") + kSweepFormat +
                        "\")");
    }
    p.base = settingsFromJson(j, "base");
    for (const auto& [key, values] : atOrdered(j, "grid", "object").items()) {
        SweepAxis a;
        a.key = key;
        if (!values.is_array()) {
            throw SpecError("field 'grid." + key + "' must be a list of strings");
        }
        for (const ojson& v : values) {
            if (!v.is_string()) {
                throw SpecError("field 'grid." + key + "' must be a list of strings");
            }
            a.values.push_back(v.get<std::string>());
        }
        p.grid.push_back(a);
    }
    for (const ojson& run : atOrdered(j, "runs", "list")) {
        SweepRun r;
        r.index = jsonInteger(nlohmann::json(atOrdered(run, "index", "integer")), "field 'index'",
                              0, 1 << 30);
        if (r.index != int64_t(p.runs.size())) {
            throw SpecError("run " + std::to_string(p.runs.size()) + " has index " +
                            std::to_string(r.index) + " (runs must be listed in index order)");
        }
        r.id = atOrdered(run, "id", "string").get<std::string>();
        if (r.id.empty() || r.id.find_first_of("/\\") != std::string::npos || r.id[0] == '.') {
            throw SpecError("run " + std::to_string(r.index) + ": id '" + r.id +
                            "' is not a folder name");
        }
        r.point = settingsFromJson(run, "point");
        try {
            r.config = nlohmann::json(atOrdered(run, "config", "object")).get<TrainConfig>();
        } catch (const SpecError& e) {
            throw SpecError("run " + std::to_string(r.index) + ": config: " + e.what());
        }
        p.runs.push_back(std::move(r));
    }
}

void to_json(ojson& j, const SweepSubmission& s) {
    j = ojson{{"job_id", s.jobId},
              {"indices", s.indices},
              {"submitted_at", s.submittedAt},
              {"script", s.script}};
}

void from_json(const ojson& j, SweepSubmission& s) {
    s.jobId = atOrdered(j, "job_id", "string").get<std::string>();
    s.indices = atOrdered(j, "indices", "string").get<std::string>();
    s.submittedAt = atOrdered(j, "submitted_at", "string").get<std::string>();
    s.script = atOrdered(j, "script", "string").get<std::string>();
}

// --- text -----------------------------------------------------------------------------------

nlohmann::json parseJsonText(const std::string& text, const std::string& what) {
    try {
        return nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
        throw DataError(what + ": not valid JSON (" + libraryMessage(e) + ")");
    }
}

const char* optimizerName(OptimizerKind kind) {
    return enumName(kind);
}
const char* scheduleName(ScheduleKind kind) {
    return enumName(kind);
}
const char* runStateName(RunState state) {
    return enumName(state);
}
RunState runStateFromName(const std::string& name) {
    try {
        return enumFromName<RunState>(name, "state");
    } catch (const SpecError&) {
        return RunState::Failed;
    }
}

std::string trainConfigToJson(const TrainConfig& config) {
    return ojson(config).dump(2);
}
TrainConfig trainConfigFromJson(const std::string& text, const std::string& what) {
    return recordFromJsonText<TrainConfig>(text, what);
}
std::string evalResultToJson(const EvalResult& result) {
    return ojson(result).dump(2);
}
EvalResult evalResultFromJson(const std::string& text, const std::string& what) {
    return recordFromJsonText<EvalResult>(text, what + ": evaluation result");
}
std::string trainSummaryToJson(const TrainSummary& summary) {
    return ojson(summary).dump(2);
}
TrainSummary trainSummaryFromJson(const std::string& text, const std::string& what) {
    return recordFromJsonText<TrainSummary>(text, what + ": summary");
}
std::string pruneSweepToJson(const PruneSweepRecord& record) {
    return ojson(record).dump(2);
}
PruneSweepRecord pruneSweepFromJson(const std::string& text, const std::string& what) {
    PruneSweepRecord r = recordFromJsonText<PruneSweepRecord>(text, what);
    return r;
}
std::string epochHistoryToJson(const std::vector<EpochMetrics>& history) {
    return ojson(history).dump();
}
std::vector<EpochMetrics> epochHistoryFromJson(const std::string& text, const std::string& what) {
    return recordFromJsonText<std::vector<EpochMetrics>>(text, what + ": epoch history");
}

}  // namespace scalelab
