#pragma once
// The run folder as a whole, and every read and write of its files: config.json, metrics.csv,
// summary.json (here), checkpoint.pt and weights.pt (the torch side, declared in run_loader.h,
// defined in run_folder.cpp too), their SHA-256 checksums (recorded in checksums.json at write
// time and verified at every read), the lock that keeps two writers apart, and the clean-up of
// temporary files a killed process left. Every write is atomic (a temporary file renamed).

#include <nlohmann/json.hpp>

#include <string>
#include <utility>
#include <vector>

#include "core/train/train_api.h"

namespace scalelab {

// File names of a run folder.
namespace runfile {
inline constexpr const char* kConfig = "config.json";
inline constexpr const char* kMetrics = "metrics.csv";
inline constexpr const char* kSummary = "summary.json";
inline constexpr const char* kCheckpoint = "checkpoint.pt";
inline constexpr const char* kWeights = "weights.pt";
inline constexpr const char* kPlan = "plan.json";
inline constexpr const char* kChecksums = "checksums.json";
inline constexpr const char* kPruningCsv = "pruning.csv";    // a pruning sweep's rows
inline constexpr const char* kPruningJson = "pruning.json";  // the sweep as a record
inline constexpr const char* kLabel = "label.json";          // the name and notes people gave it
}  // namespace runfile

// config.json: the config (records_json's mapping) plus `extra` fields (normalization, resolved
// device and threads, split sizes, pruning provenance ...).
void writeRunConfig(const std::string& dir, const TrainConfig& config,
                    const nlohmann::ordered_json& extra = {});
// config.json as JSON, extra fields included (DataError naming the file when unreadable).
nlohmann::json readRunConfigJson(const std::string& dir);
// The per-channel normalization a run was trained with (config.json "normalization"), checked:
// `channels` values each, finite, std > 0. False when the record has none (ScaleLab 0.1).
bool readRunNormalization(const std::string& dir, int64_t channels, std::vector<float>& mean,
                          std::vector<float>& std);

// metrics.csv, a row per finished epoch (full precision, so runs can be compared exactly).
void writeRunMetrics(const std::string& dir, const std::vector<EpochMetrics>& history);

// metrics.csv read back (DataError naming the file and the line when malformed).
std::vector<EpochMetrics> readRunMetrics(const std::string& dir);

// summary.json: the summary plus what the run was (model, dataset, device, planned epochs).
void writeRunSummary(const std::string& dir, const TrainConfig& config, const TrainSummary& summary,
                     const std::string& deviceName);
// summary.json read back (DataError naming the file when missing or malformed).
TrainSummary readRunSummary(const std::string& dir);
// The recorded state and sentence; Running and "" when there is no readable summary.json.
std::pair<RunState, std::string> recordedRunState(const std::string& dir);
// A run folder as a record to show: the checked config, the finished epochs (metrics.csv; none
// when the run finished none) and the summary when there is one (its params and MACs filled in
// from the config's model when the run never got to write them). DataError naming the file.
struct RunFolderRecord {
    std::string dir;
    TrainConfig config;
    std::vector<EpochMetrics> history;  // one entry per finished epoch
    bool hasSummary = false;            // summary.json was there
    TrainSummary summary;               // state, status, results
};
RunFolderRecord readRunFolder(const std::string& dir);
// The run folders at `dir`: `dir` itself when it holds config.json, else every folder below it
// (up to `depth` levels) that does, sorted by path. Pruned-model records (plan.json next to a
// config with "pruned_from") are included: they evaluate like runs.
std::vector<std::string> findRunFolders(const std::string& dir, int depth = 3);

// label.json: the name and notes/tags a person gave the run in the lab (the session keeps them
// too, so they survive a re-import). Absent file: both empty. DataError naming the file when
// malformed.
struct RunLabel {
    std::string name;   // "" = the lab's own "#N model" name
    std::string notes;  // free text: notes and tags
};
void writeRunLabel(const std::string& dir, const RunLabel& label);
RunLabel readRunLabel(const std::string& dir);

// Marks summary.json failed with the reason, keeping what it holds, where it can still be
// written (a full disk may refuse that too: then nothing happens). Needs config.json.
void markRunFailed(const std::string& dir, const std::string& reason);

// The files a run folder holds (config.json, summary.json, metrics.csv, checkpoint.pt,
// weights.pt, plan.json, checksums.json).
const std::vector<std::string>& runFileNames();
// True when `name` (a file name without folder) is one of them.
bool isRunFileName(const std::string& name);
// The run files present in `dir` (names only).
std::vector<std::string> runFilesIn(const std::string& dir);

// Removes the run files of a run that never finished an epoch (no checkpoint.pt: killed or
// cancelled while preparing or inside epoch 1), under the folder's lock, so the run can start
// again from nothing. Refuses (SpecError) a folder that holds a checkpoint or a completed run,
// or that another process is writing; nothing is removed then.
void discardRunWithoutEpochs(const std::string& dir);

// Refuses (SpecError) to start a new run in `dir` when it already holds run files, naming them.
void requireNoRunFiles(const std::string& dir, const std::string& what);
// Refuses (SpecError) an output path that is a run folder's own file ("--out RUN/config.json").
void requireNotRunFile(const std::string& path, const std::string& what);

// Hex SHA-256 of a file's bytes (DataError when unreadable).
std::string sha256File(const std::string& path);
std::string sha256Hex(const void* data, size_t size);

// Records the checksum of `dir/name` (as it is now) in dir/checksums.json.
void recordChecksum(const std::string& dir, const std::string& name);
// Verifies `dir/name` against dir/checksums.json. A folder without checksums.json (written by
// ScaleLab 0.1) or without an entry for the file passes; a mismatch throws DataError naming the
// file. Nothing is written.
void verifyChecksum(const std::string& dir, const std::string& name);

// An exclusive lock on a run folder (flock on dir/.lock, holding the PID) for as long as the
// object lives. A second writer is refused with the holder's PID.
class RunFolderLock {
public:
    explicit RunFolderLock(const std::string& dir);
    ~RunFolderLock();
    RunFolderLock(const RunFolderLock&) = delete;
    RunFolderLock& operator=(const RunFolderLock&) = delete;

private:
    int fd_ = -1;
};

// The PID of the process on this machine holding `dir`'s lock (read from /proc/locks, so
// asking takes no lock and can never refuse a writer); 0 when nobody here holds it. A writer on
// another machine of a shared filesystem is not seen.
int runFolderLockHolder(const std::string& dir);
// Who writes `dir`: the local lock holder when there is one (`aliveHere` true), else the PID a
// writer left in dir/.lock (a clean exit empties it: a writer on another node, or one killed —
// the two cannot be told apart from here; `aliveHere` false), else "".
std::string runFolderWriter(const std::string& dir, bool* aliveHere = nullptr);

// Removes NAME.tmp-PID files in `dir` whose process no longer runs (a kill mid-write).
// Returns how many were removed.
int removeStaleTempFiles(const std::string& dir);

}  // namespace scalelab
