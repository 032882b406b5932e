#pragma once
// The two executors of a planned sweep (one format: DIR/sweep.json and DIR/runs/<id>/) and the
// sweep's status.

#include <string>

#include "core/train/sweep.h"

namespace scalelab::cli {

// Runs the unfinished runs of the sweep in `dir` on this machine, `jobs` children of
// scalelab-cli at a time (`train --sweep DIR --index I --threads T --jsonl`, T = max(1, cores /
// jobs)). One line per running run and an overall bar with ETA on a terminal, event lines on
// stdout. SIGINT/SIGTERM stop it cleanly: the children get SIGINT and record "cancelled"; running
// it again continues. Returns 0 when every run is finished, 1 when one failed or was killed, 130
// when interrupted.
int runSweepLocal(const std::string& dir, const SweepPlan& plan, int jobs);

struct SlurmOptions {
    std::string partition;  // --partition (empty: the cluster's default)
    std::string gres;       // --gres, e.g. gpu:1
    std::string time;       // --time, e.g. 02:00:00
    std::string account;    // --account
    int maxParallel = 0;    // the array's %K (0: no limit)
    int cpusPerTask = 0;    // --cpus-per-task (0: the cluster's default); also each run's threads
    bool dryRun = false;    // write DIR/sweep.sbatch only
};

// Writes DIR/sweep.sbatch -- a job array with one task per unfinished run, each calling
// `scalelab-cli train --sweep DIR --index $SLURM_ARRAY_TASK_ID`, logs in DIR/logs/%A_%a.out --
// and submits it with sbatch, recording the job in DIR/slurm.json. Returns the exit code.
int runSweepSlurm(const std::string& dir, const SweepPlan& plan, const SlurmOptions& options);

// Prints each run's state from its record and, where the sweep was submitted to SLURM and the
// commands answer, from squeue and sacct: queued, running, done, failed (with the failing task's
// log), ... As a table, or as JSON.
int showSweepStatus(const std::string& dir, const SweepPlan& plan, bool json);

}  // namespace scalelab::cli
