#pragma once
// The run folder as a whole: which files belong to a run, their SHA-256 checksums (recorded in
// checksums.json at write time and verified at every read), the lock that keeps two writers
// apart, and the clean-up of temporary files a killed process left. Torch-free.

#include <string>
#include <vector>

namespace scalelab {

// The files a run folder holds (config.json, summary.json, metrics.csv, checkpoint.pt,
// weights.pt, plan.json, checksums.json).
const std::vector<std::string>& runFileNames();
// True when `name` (a file name without folder) is one of them.
bool isRunFileName(const std::string& name);
// The run files present in `dir` (names only).
std::vector<std::string> runFilesIn(const std::string& dir);

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

// Removes NAME.tmp-PID files in `dir` whose process no longer runs (a kill mid-write).
// Returns how many were removed.
int removeStaleTempFiles(const std::string& dir);

}  // namespace scalelab
