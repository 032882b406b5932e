#pragma once
// A sweep: a grid of training settings expanded into runs, recorded in DIR/sweep.json, each run
// trained into DIR/runs/<id>/ (an ordinary run folder). Torch-free: the CLI plans, trains and
// reports sweeps with it, and the GUI can read one.
//
// Settings are `scalelab-cli train` options as text ("lr" -> "0.05", "model" ->
// "resnet-cifar-8"): the option table that checks `train`'s options is the one that reads a
// sweep's settings (app/cli/cmd_sweep.cpp). The plan also records each run's resolved
// TrainConfig, so a run trains exactly what was planned and checked.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/train/train_api.h"

namespace scalelab {

// Option name (no leading "--", '-' between words: "batch-size") -> its text ("true" for a flag).
using SweepSettings = std::vector<std::pair<std::string, std::string>>;

// One grid key and the values it takes, in the order given.
struct SweepAxis {
    std::string key;
    std::vector<std::string> values;
};

struct SweepRun {
    int64_t index = 0;    // position in the grid's product: stable for the same grid
    std::string id;       // "<slug>-<hash>": the run folder's name under DIR/runs
    SweepSettings point;  // this run's grid values, one per axis
    TrainConfig config;   // base + point, resolved (family defaults, dataset shape) and checked
};

struct SweepPlan {
    SweepSettings base;           // the settings every run shares (the plan's train options)
    std::vector<SweepAxis> grid;  // the axes, the first varying slowest
    std::vector<SweepRun> runs;   // the product, in index order
};

// File and folder names inside a sweep folder.
namespace sweepfile {
inline constexpr const char* kPlan = "sweep.json";
inline constexpr const char* kRuns = "runs";         // one run folder per run: runs/<id>
inline constexpr const char* kLogs = "logs";         // executors' logs (SLURM: %A_%a.out)
inline constexpr const char* kSlurm = "slurm.json";  // the SLURM submissions
inline constexpr const char* kSbatch = "sweep.sbatch";
}  // namespace sweepfile

// Every combination of the axes' values, the last axis varying fastest (like a nested loop in
// the given order). Throws SpecError for an empty grid, an axis without values, a key given
// twice or a value repeated within an axis (each would plan the same run twice).
std::vector<SweepSettings> expandGrid(const std::vector<SweepAxis>& grid);

// A readable folder-name part from a run's grid values ("lr-0.05_seed-2"): characters outside
// [A-Za-z0-9.+-] become '-', at most 60 characters.
std::string sweepSlug(const SweepSettings& point);
// The first 8 hex digits of the SHA-256 of the config's JSON, threads left out (that is the
// executor's choice): equal for equal configs, however their settings were spelled.
std::string sweepConfigHash(const TrainConfig& config);
// "<slug>-<sweepConfigHash>": the same settings always get the same id.
std::string sweepRunId(const SweepSettings& point, const TrainConfig& config);

// sweep.json as text, and back (DataError naming `what` and the field).
std::string sweepPlanToJson(const SweepPlan& plan);
SweepPlan sweepPlanFromJson(const std::string& text, const std::string& what);

// Writes DIR/sweep.json atomically (DIR is created).
void writeSweepPlan(const std::string& dir, const SweepPlan& plan);
// Reads DIR/sweep.json; DataError naming the file when it is missing or malformed (a folder that
// is not a sweep says so).
SweepPlan readSweepPlan(const std::string& dir);
// DIR/runs/<id>.
std::string sweepRunDir(const std::string& dir, const SweepRun& run);

// What a run's folder says about it.
enum class SweepRunState {
    NotStarted,   // no config.json yet
    Queued,       // a scheduler holds a task for it (never read from the folder alone)
    Running,      // a process on this machine holds the folder's lock
    Interrupted,  // the record says running but nobody here holds the lock (killed, or running
                  // on another machine: a scheduler knows which)
    Completed,
    Diverged,
    Cancelled,
    Failed
};
const char* sweepRunStateName(SweepRunState state);  // "not started", "running", ...
// Completed and diverged runs are finished: executors never start them again.
bool sweepRunFinished(SweepRunState state);

struct SweepRunStatus {
    SweepRunState state = SweepRunState::NotStarted;
    std::string status;        // the record's sentence ("running: epoch 1 of 2", "completed")
    int64_t epochsDone = 0;    // finished epochs in the record
    int64_t epochs = 0;        // planned
    double testAccuracy = -1;  // fraction; -1 when not measured
    double wallSeconds = 0;
    int lockHolder = 0;  // PID holding the run folder's lock on this machine; 0 when none
};
// Reads a run folder's record (never writes). An unreadable summary reads as Failed with the
// reason.
SweepRunStatus sweepRunStatus(const std::string& runDir, int64_t plannedEpochs);

// One `sbatch` submission of a sweep (DIR/slurm.json keeps them all, oldest first).
struct SweepSubmission {
    std::string jobId;        // the array job id sbatch printed
    std::string indices;      // the array's task list ("0-3", "1,3")
    std::string submittedAt;  // local time, ISO 8601
    std::string script;       // the script submitted (DIR/sweep.sbatch)
};
void appendSweepSubmission(const std::string& dir, const SweepSubmission& submission);
// The submissions recorded in DIR/slurm.json (none when the file is absent).
std::vector<SweepSubmission> readSweepSubmissions(const std::string& dir);

}  // namespace scalelab
