// `sweep run DIR --slurm` (a job array written to DIR/sweep.sbatch and submitted with sbatch)
// and `sweep status DIR` (the run records, plus squeue and sacct where the sweep went to SLURM).

#include <nlohmann/json.hpp>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "app/cli/subprocess.h"
#include "app/cli/sweep_exec.h"
#include "app/cli/terminal_progress.h"
#include "core/data/file_io.h"
#include "core/error.h"
#include "core/train/run_folder.h"

namespace scalelab::cli {

namespace {

namespace fs = std::filesystem;

std::string localTime() {
    const std::time_t now = std::time(nullptr);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S%z", std::localtime(&now));
    return buf;
}

std::string trim(const std::string& s) {
    const size_t a = s.find_first_not_of(" \t\r\n");
    const size_t b = s.find_last_not_of(" \t\r\n");
    return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

std::string firstLine(const std::string& text) {
    const std::string t = trim(text);
    return t.substr(0, t.find('\n'));
}

// "0-3", "1,3,5-7": sorted indices as SLURM's --array writes them.
std::string indexRanges(const std::vector<int64_t>& indices) {
    std::string out;
    for (size_t i = 0; i < indices.size();) {
        size_t j = i;
        while (j + 1 < indices.size() && indices[j + 1] == indices[j] + 1) {
            ++j;
        }
        out += (out.empty() ? "" : ",") + std::to_string(indices[i]) +
               (j > i ? "-" + std::to_string(indices[j]) : "");
        i = j + 1;
    }
    return out;
}

// The indices an --array list names ("0-3,5", a "%K" suffix ignored).
std::set<int64_t> parseRanges(const std::string& text) {
    std::set<int64_t> out;
    const std::string list = text.substr(0, text.find('%'));
    size_t start = 0;
    while (start < list.size()) {
        size_t end = list.find(',', start);
        if (end == std::string::npos) {
            end = list.size();
        }
        const std::string part = list.substr(start, end - start);
        const size_t dash = part.find('-');
        try {
            const int64_t lo = std::stoll(part.substr(0, dash));
            const int64_t hi = dash == std::string::npos ? lo : std::stoll(part.substr(dash + 1));
            for (int64_t i = lo; i <= hi && i - lo < 1000000; ++i) {
                out.insert(i);
            }
        } catch (const std::exception&) {
        }
        start = end + 1;
    }
    return out;
}

std::string absoluteDir(const std::string& dir) {
    std::string abs = fs::absolute(dir).lexically_normal().string();
    while (abs.size() > 1 && abs.back() == '/') {
        abs.pop_back();
    }
    return abs;
}

// What squeue and sacct say about the sweep's tasks.
struct SchedulerView {
    bool squeueOk = false;
    std::string squeueNote;                                        // why it is not known
    std::map<std::pair<std::string, int64_t>, std::string> queue;  // (job, index) -> state
    bool sacctOk = false;
    std::string sacctNote;
    std::map<std::pair<std::string, int64_t>, std::string> accounting;  // (job, index) -> state
};

// "12_3" -> ("12", 3); false for anything else ("12_[2-3%2]", "12.batch").
bool parseTaskId(const std::string& text, std::string& job, int64_t& index) {
    const size_t us = text.find('_');
    if (us == std::string::npos || us == 0) {
        return false;
    }
    const std::string idx = text.substr(us + 1);
    if (idx.empty() || idx.find_first_not_of("0123456789") != std::string::npos || idx.size() > 9) {
        return false;
    }
    job = text.substr(0, us);
    index = std::stoll(idx);
    return true;
}

SchedulerView askScheduler(const std::vector<SweepSubmission>& subs) {
    SchedulerView v;
    if (subs.empty()) {
        return v;
    }
    std::set<std::string> jobs;
    std::string jobList;
    for (const SweepSubmission& s : subs) {
        if (jobs.insert(s.jobId).second) {
            jobList += (jobList.empty() ? "" : ",") + s.jobId;
        }
    }
    if (!onPath("squeue")) {
        v.squeueNote = "not on PATH";
    } else {
        // Every task of this user (a finished job id makes `squeue -j` fail), filtered here.
        const CommandResult r = runCommand({"squeue", "--me", "-h", "-r", "-o", "%F|%K|%T"}, 30);
        if (r.exitCode != 0) {
            v.squeueNote = "failed: " + firstLine(r.err.empty() ? r.out : r.err);
        } else {
            v.squeueOk = true;
            std::istringstream lines(r.out);
            std::string line;
            while (std::getline(lines, line)) {
                const size_t a = line.find('|'), b = line.rfind('|');
                if (a == std::string::npos || b == a) {
                    continue;
                }
                const std::string job = line.substr(0, a);
                const std::string idx = line.substr(a + 1, b - a - 1);
                if (!jobs.count(job) || idx.empty() ||
                    idx.find_first_not_of("0123456789") != std::string::npos) {
                    continue;
                }
                v.queue[{job, std::stoll(idx)}] = trim(line.substr(b + 1));
            }
        }
    }
    if (!onPath("sacct")) {
        v.sacctNote = "not on PATH";
    } else {
        const CommandResult r = runCommand(
            {"sacct", "-n", "-P", "-X", "-j", jobList, "-o", "JobID,State,ExitCode"}, 30);
        if (r.exitCode != 0) {
            v.sacctNote = firstLine(r.err.empty() ? r.out : r.err);
        } else {
            v.sacctOk = true;
            std::istringstream lines(r.out);
            std::string line;
            while (std::getline(lines, line)) {
                const size_t a = line.find('|');
                std::string job;
                int64_t index = 0;
                if (a != std::string::npos && parseTaskId(line.substr(0, a), job, index)) {
                    const std::string rest = line.substr(a + 1);
                    std::string state = rest.substr(0, rest.find('|'));
                    state = state.substr(0, state.find(' '));  // "CANCELLED by 0"
                    v.accounting[{job, index}] = state;
                }
            }
        }
    }
    return v;
}

bool queuedState(const std::string& s) {
    return s == "PENDING" || s == "REQUEUED" || s == "REQUEUE_HOLD" || s == "REQUEUE_FED";
}

bool failedState(const std::string& s) {
    return s == "FAILED" || s == "TIMEOUT" || s == "OUT_OF_MEMORY" || s == "NODE_FAIL" ||
           s == "BOOT_FAIL" || s == "DEADLINE" || s == "PREEMPTED";
}

struct RunView {
    const SweepRun* run = nullptr;
    SweepRunStatus record;
    SweepRunState state = SweepRunState::NotStarted;
    std::string detail;          // why, for people
    std::string log;             // the task's log, when there is one
    std::string job;             // the SLURM job that last took it
    std::string schedulerState;  // squeue's or sacct's word
};

std::vector<RunView> viewRuns(const std::string& dir, const SweepPlan& plan,
                              const std::vector<SweepSubmission>& subs, const SchedulerView& v) {
    std::vector<RunView> out;
    for (const SweepRun& r : plan.runs) {
        RunView rv;
        rv.run = &r;
        rv.record = sweepRunStatus(sweepRunDir(dir, r), r.config.epochs);
        rv.state = rv.record.state;
        rv.detail = rv.record.status;
        for (auto it = subs.rbegin(); it != subs.rend(); ++it) {
            if (parseRanges(it->indices).count(r.index)) {
                rv.job = it->jobId;
                break;
            }
        }
        const std::string localLog =
            joinPath(joinPath(dir, sweepfile::kLogs), "local-" + std::to_string(r.index) + ".log");
        if (!rv.job.empty()) {
            rv.log = joinPath(joinPath(dir, sweepfile::kLogs),
                              rv.job + "_" + std::to_string(r.index) + ".out");
        } else if (fileExists(localLog)) {
            rv.log = localLog;
        }
        if (sweepRunFinished(rv.state) || rv.job.empty()) {
            out.push_back(rv);
            continue;
        }
        const auto key = std::make_pair(rv.job, r.index);
        const auto q = v.queue.find(key);
        const auto a = v.accounting.find(key);
        if (q != v.queue.end()) {
            rv.schedulerState = q->second;
            rv.state = queuedState(q->second) ? SweepRunState::Queued : SweepRunState::Running;
            rv.detail = "slurm job " + rv.job + "_" + std::to_string(r.index) + " " + q->second +
                        (rv.record.status.empty() ? "" : "; " + rv.record.status);
        } else if (rv.record.state == SweepRunState::Running) {
            // A writer on this machine holds the folder: trust it.
        } else if (a != v.accounting.end() &&
                   (failedState(a->second) || a->second == "CANCELLED")) {
            rv.schedulerState = a->second;
            rv.state = a->second == "CANCELLED" ? SweepRunState::Cancelled : SweepRunState::Failed;
            rv.detail = "slurm: " + a->second +
                        (rv.record.status.empty() ? "" : "; record: " + rv.record.status);
        } else if (v.squeueOk && rv.record.state != SweepRunState::Cancelled) {
            // Its task is neither queued nor running, yet the run is not finished.
            rv.state = SweepRunState::Failed;
            rv.detail =
                "the task ended without finishing the run" +
                (rv.record.status.empty() ? std::string() : " (record: " + rv.record.status + ")");
        }
        out.push_back(rv);
    }
    return out;
}

std::string pct(double fraction) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%.2f%%", fraction * 100);
    return buf;
}

// The last non-empty line of a task's log that is not the script's own start/end stamp (the
// error, when the run failed); "" when unreadable.
std::string lastLine(const std::string& path) {
    std::ifstream in(path);
    std::string line, last;
    while (std::getline(in, line)) {
        if (!trim(line).empty() && line.rfind("scalelab: task ", 0) != 0) {
            last = trim(line);
        }
    }
    return last;
}

}  // namespace

int runSweepSlurm(const std::string& dirIn, const SweepPlan& plan, const SlurmOptions& o) {
    const std::string dir = absoluteDir(dirIn);
    if (dir.find_first_of(" \t\n%'\"\\$`") != std::string::npos) {
        throw Error(dir +
                    ": SLURM's #SBATCH lines cannot carry this path (it holds a space, quote, "
                    "'%' or '$'); move the sweep to a plainer path");
    }
    const std::vector<SweepSubmission> subs = readSweepSubmissions(dir);
    const SchedulerView view = askScheduler(subs);
    if (!o.dryRun) {
        if (!view.queue.empty()) {
            const auto& [task, state] = *view.queue.begin();
            throw Error("SLURM job " + task.first +
                        " of this sweep still has tasks queued or "
                        "running (task " +
                        std::to_string(task.second) + ": " + state +
                        "); wait for it (scalelab-cli sweep status " + dir + ") or scancel " +
                        task.first + " -- nothing was submitted");
        }
    }
    std::vector<int64_t> todo;
    for (const SweepRun& r : plan.runs) {
        const SweepRunStatus st = sweepRunStatus(sweepRunDir(dir, r), r.config.epochs);
        if (!sweepRunFinished(st.state) && st.lockHolder == 0) {
            todo.push_back(r.index);
        }
    }
    if (todo.empty()) {
        std::printf("every run of %s is finished or being trained here; nothing to submit\n",
                    dir.c_str());
        return 0;
    }
    const std::string array =
        indexRanges(todo) + (o.maxParallel > 0 ? "%" + std::to_string(o.maxParallel) : "");
    const std::string logs = joinPath(dir, sweepfile::kLogs);
    std::error_code ec;
    fs::create_directories(logs, ec);
    fs::create_directories(joinPath(dir, sweepfile::kRuns), ec);
    if (ec) {
        throw Error(dir + ": cannot create logs/ and runs/ (" + ec.message() + ")");
    }

    std::string s = "#!/bin/bash\n";
    s += "# Written by scalelab-cli sweep run --slurm: one array task per run of " + dir +
         "/sweep.json.\n";
    s += "# Task I trains run I into " + dir +
         "/runs/<id>/ (a finished run is left as it is, an interrupted one continues).\n";
    s += "#SBATCH --job-name=scalelab-sweep\n";
    s += "#SBATCH --array=" + array + "\n";
    s += "#SBATCH --output=" + logs + "/%A_%a.out\n";
    if (!o.partition.empty()) {
        s += "#SBATCH --partition=" + o.partition + "\n";
    }
    if (!o.account.empty()) {
        s += "#SBATCH --account=" + o.account + "\n";
    }
    if (!o.gres.empty()) {
        s += "#SBATCH --gres=" + o.gres + "\n";
    }
    if (!o.time.empty()) {
        s += "#SBATCH --time=" + o.time + "\n";
    }
    if (o.cpusPerTask > 0) {
        s += "#SBATCH --cpus-per-task=" + std::to_string(o.cpusPerTask) + "\n";
    }
    s += "\ncli=" + shellQuote(selfExecutable()) + "\nsweep=" + shellQuote(dir) + "\n";
    s += "stamp() { date +%Y-%m-%dT%H:%M:%S.%N%z; }\n";
    s += "echo \"scalelab: task $SLURM_ARRAY_TASK_ID of job $SLURM_ARRAY_JOB_ID started $(stamp) "
         "on $(hostname)\"\n";
    s += "status=0\n";
    s += "\"$cli\" train --sweep \"$sweep\" --index \"$SLURM_ARRAY_TASK_ID\" --threads "
         "\"${SLURM_CPUS_PER_TASK:-1}\" || status=$?\n";
    s += "echo \"scalelab: task $SLURM_ARRAY_TASK_ID ended $(stamp) with exit code $status\"\n";
    s += "exit $status\n";
    const std::string script = joinPath(dir, sweepfile::kSbatch);
    writeFileAtomic(script, s);
    fs::permissions(script, fs::perms::owner_exec, fs::perm_options::add, ec);

    if (o.dryRun) {
        std::printf(
            "wrote %s: %zu task(s), --array=%s (nothing submitted: --dry-run)\nsubmit: "
            "sbatch %s\n",
            script.c_str(), todo.size(), array.c_str(), script.c_str());
        return 0;
    }
    if (!onPath("sbatch")) {
        throw Error("sbatch is not on PATH (is this a SLURM login node?); " + script +
                    " is written: submit it where SLURM runs -- nothing was submitted");
    }
    const CommandResult r = runCommand({"sbatch", "--parsable", script}, 120);
    const std::string jobId = trim(r.out.substr(0, r.out.find(';')));
    if (r.exitCode != 0 || jobId.empty() ||
        jobId.find_first_not_of("0123456789") != std::string::npos) {
        throw Error("sbatch " + script + " failed" +
                    (r.exitCode == -1 ? " (no answer in 120 s)"
                                      : " (exit " + std::to_string(r.exitCode) + ")") +
                    ": " + firstLine(r.err.empty() ? r.out : r.err) + " -- nothing was submitted");
    }
    appendSweepSubmission(dir, {jobId, array, localTime(), script});
    std::printf(
        "submitted SLURM job %s: %zu task(s), --array=%s; logs %s/%s_<index>.out\n"
        "follow it: scalelab-cli sweep status %s\n",
        jobId.c_str(), todo.size(), array.c_str(), logs.c_str(), jobId.c_str(), dir.c_str());
    return 0;
}

int showSweepStatus(const std::string& dir, const SweepPlan& plan, bool json) {
    const std::vector<SweepSubmission> subs = readSweepSubmissions(dir);
    const SchedulerView view = askScheduler(subs);
    const std::vector<RunView> runs = viewRuns(dir, plan, subs, view);
    std::map<std::string, int> counts;
    for (const RunView& r : runs) {
        counts[sweepRunStateName(r.state)]++;
    }
    if (json) {
        nlohmann::ordered_json j;
        j["dir"] = dir;
        j["runs"] = nlohmann::ordered_json::array();
        for (const RunView& r : runs) {
            nlohmann::ordered_json e;
            e["index"] = r.run->index;
            e["id"] = r.run->id;
            e["state"] = sweepRunStateName(r.state);
            e["detail"] = r.detail;
            e["epochs_done"] = r.record.epochsDone;
            e["epochs"] = r.record.epochs;
            e["test_acc"] = r.record.testAccuracy >= 0
                                ? nlohmann::ordered_json(r.record.testAccuracy)
                                : nlohmann::ordered_json();
            e["run_dir"] = sweepRunDir(dir, *r.run);
            e["log"] = r.log;
            e["slurm_job"] = r.job;
            e["slurm_state"] = r.schedulerState;
            j["runs"].push_back(e);
        }
        j["counts"] = counts;
        nlohmann::ordered_json slurm;
        slurm["jobs"] = nlohmann::ordered_json::array();
        for (const SweepSubmission& s : subs) {
            slurm["jobs"].push_back(
                {{"job_id", s.jobId}, {"indices", s.indices}, {"submitted_at", s.submittedAt}});
        }
        slurm["squeue"] = subs.empty() ? "not asked" : view.squeueOk ? "ok" : view.squeueNote;
        slurm["sacct"] = subs.empty() ? "not asked" : view.sacctOk ? "ok" : view.sacctNote;
        j["slurm"] = slurm;
        std::printf("%s\n", j.dump(2).c_str());
        return 0;
    }
    std::string summary;
    for (const auto& [state, n] : counts) {
        summary += (summary.empty() ? "" : ", ") + std::to_string(n) + " " + state;
    }
    std::printf("sweep %s: %zu run%s: %s\n", dir.c_str(), runs.size(), runs.size() == 1 ? "" : "s",
                summary.c_str());
    std::printf("%5s  %-11s  %7s  %8s  %s\n", "INDEX", "STATE", "EPOCHS", "TEST ACC", "RUN");
    for (const RunView& r : runs) {
        const std::string epochs =
            std::to_string(r.record.epochsDone) + "/" + std::to_string(r.record.epochs);
        std::printf("%5lld  %-11s  %7s  %8s  %s\n", (long long)r.run->index,
                    sweepRunStateName(r.state), epochs.c_str(),
                    r.record.testAccuracy >= 0 ? pct(r.record.testAccuracy).c_str() : "-",
                    r.run->id.c_str());
        const bool showDetail = r.state != SweepRunState::Completed && !r.detail.empty();
        if (showDetail) {
            std::printf("%5s  %s\n", "", r.detail.c_str());
        }
        if (r.state == SweepRunState::Failed && !r.log.empty()) {
            const std::string last = lastLine(r.log);
            std::printf(
                "%5s  log %s%s\n", "", r.log.c_str(),
                last.empty() ? (fileExists(r.log) ? "" : " (not written)") : (": " + last).c_str());
        }
    }
    for (const SweepSubmission& s : subs) {
        std::printf("slurm job %s: tasks %s, submitted %s\n", s.jobId.c_str(), s.indices.c_str(),
                    s.submittedAt.c_str());
    }
    if (!subs.empty()) {
        std::printf("squeue: %s; sacct: %s\n", view.squeueOk ? "asked" : view.squeueNote.c_str(),
                    view.sacctOk ? "asked" : view.sacctNote.c_str());
    }
    return 0;
}

}  // namespace scalelab::cli
