#pragma once
// Pruning sweeps on a trained run, torch-free for the GUI and the CLI.

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace scalelab {

enum class PruneMethod { MagnitudeGlobal, MagnitudeLayer, L1Structured };
// "magnitude-global", "magnitude-layer", "l1-structured" (the table is in core/json_enums.h).
const char* pruneMethodName(PruneMethod m);
// Throws SpecError for an unknown name, listing the known ones.
PruneMethod pruneMethodFromName(const std::string& name);

struct PruneSweepOptions {
    std::string runDir;  // a trained run (weights.pt + config.json)
    std::vector<PruneMethod> methods = {PruneMethod::MagnitudeGlobal};
    std::vector<double> levels = {0, 0.25, 0.5, 0.75};  // fractions of prunable weights/channels
    int64_t finetuneEpochs = 0;      // epochs of fine-tuning after pruning (masks kept)
    double finetuneLr = 0.01;        // peak learning rate of the fine-tuning (the run's optimizer,
                                     // momentum and weight decay; cosine from this value)
    int64_t finetuneSubset = 0;      // train images for fine-tuning; 0 = the run's
    int64_t testSubset = 0;          // test images; 0 = the run's own setting
    bool includeClassifier = false;  // magnitude methods: prune the final Linear too
    bool perStage = false;           // also prune one stage at a time (sensitivity)
    std::string saveModelDir;        // save every pruned model under DIR/<method>-<level>
    int64_t speedBatch = 128;        // batch for the inference speed measurement
};

struct PruneRow {
    std::string method;         // pruneMethodName
    double level = 0;           // requested fraction
    std::string scope = "all";  // "all" or the stage pruned alone ("stage 3")
    double sparsity = 0;        // achieved: zero (or removed) prunable weights / prunable weights
    int64_t params = 0;         // parameters of the model as it runs (structured: fewer)
    int64_t nonzeroParams = 0;  // of those, not zero
    int64_t macs = 0;           // MACs per image of the model as it runs (dense kernels)
    int64_t sparseMacs = 0;     // MACs a sparse kernel would need (density-weighted)
    double accuracy = 0;        // test accuracy right after pruning (fraction)
    double loss = 0;
    double finetunedAccuracy = -1;  // after fine-tuning (-1: none)
    double finetunedLoss = -1;
    double inferImagesPerSec = 0;  // measured, eval mode, random batch
    std::string modelDir;          // where the pruned model was saved ("" if not)
};

struct PruneSweepResult {
    std::vector<PruneRow> rows;
    double baselineAccuracy = 0;      // the run as trained
    double baselineImagesPerSec = 0;  // its inference speed, same measurement
    int64_t baselineParams = 0;
    int64_t baselineMacs = 0;
    bool cancelled = false;  // the sweep stopped early (rows hold what was finished)
    std::string status;      // for people: "completed" or "cancelled after N of M"
};

struct PruneHooks {
    // (step done, steps total, current row or "" ); returning false cancels.
    std::function<bool(int64_t, int64_t, const std::string&)> progress;
    const std::atomic<bool>* cancel = nullptr;  // checked before every step and every batch
    // A finished row, as soon as it is measured (for live charts).
    std::function<void(const PruneRow&)> row;
};

// Runs the sweep. Throws DataError / SpecError for a bad run folder or options.
PruneSweepResult runPruneSweep(const PruneSweepOptions& options, const PruneHooks& hooks = {});

// The rows as CSV (header + a line per row; accuracies as fractions).
std::string pruneResultToCsv(const PruneSweepResult& result);

// A sweep as it is kept: its folder, what was asked and what was measured. The GUI writes one
// per sweep into the run folder (RUN/pruning-STAMP/: pruning.csv, pruning.json and a folder per
// pruned model), rewritten after every row; the CLI writes pruning.json next to its --out CSV.
struct PruneSweepRecord {
    std::string dir;  // the sweep's folder (pruning.csv, pruning.json, pruned models)
    PruneSweepOptions options;
    PruneSweepResult result;
    bool finished = false;  // the sweep ended (completed or cancelled); false while it runs or
                            // when the process died mid-sweep (rows hold what was measured)
};

// pruning.json's text (the one mapping: records_json.cpp).
std::string pruneSweepToJson(const PruneSweepRecord& record);
// Reads it back; DataError naming `what` and the field (accuracies in [0, 1], counts >= 0, ...).
PruneSweepRecord pruneSweepFromJson(const std::string& text, const std::string& what);

// Writes record.dir/pruning.csv and record.dir/pruning.json atomically (the folder is created).
void writePruneSweep(const PruneSweepRecord& record);
// Reads dir/pruning.json (DataError naming the file). `dir` in the result is the folder read.
PruneSweepRecord readPruneSweep(const std::string& dir);
// The folders directly below runDir holding a pruning.json, sorted by name (= by start time for
// the GUI's pruning-STAMP folders).
std::vector<std::string> findPruneSweeps(const std::string& runDir);

}  // namespace scalelab
