// Sweeps: grid expansion, run ids, sweep.json and slurm.json, and what a run's folder says.

#include "core/train/sweep.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <set>

#include "core/data/file_io.h"
#include "core/error.h"
#include "core/train/records_json.h"
#include "core/train/run_folder.h"

namespace scalelab {

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

std::vector<SweepSettings> expandGrid(const std::vector<SweepAxis>& grid) {
    if (grid.empty()) {
        throw SpecError("the grid is empty: give at least one key with its values");
    }
    std::set<std::string> keys;
    for (const SweepAxis& a : grid) {
        if (!keys.insert(a.key).second) {
            throw SpecError("grid key '" + a.key + "' is given twice; list its values once");
        }
        if (a.values.empty()) {
            throw SpecError("grid key '" + a.key + "' has no values");
        }
        std::set<std::string> seen;
        for (const std::string& v : a.values) {
            if (v.empty()) {
                throw SpecError("grid key '" + a.key + "' has an empty value");
            }
            if (!seen.insert(v).second) {
                throw SpecError("grid key '" + a.key + "' lists '" + v +
                                "' twice (it would plan the same runs twice)");
            }
        }
    }
    std::vector<SweepSettings> out(1);
    for (const SweepAxis& a : grid) {
        std::vector<SweepSettings> next;
        next.reserve(out.size() * a.values.size());
        for (const SweepSettings& prefix : out) {
            for (const std::string& v : a.values) {
                SweepSettings s = prefix;
                s.emplace_back(a.key, v);
                next.push_back(std::move(s));
            }
        }
        out = std::move(next);
    }
    return out;
}

std::string sweepSlug(const SweepSettings& point) {
    std::string slug;
    for (const auto& [key, value] : point) {
        slug += (slug.empty() ? "" : "_") + key + "-" + value;
    }
    for (char& c : slug) {
        const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                          (c >= '0' && c <= '9') || c == '.' || c == '+' || c == '-' || c == '_';
        c = keep ? c : '-';
    }
    if (slug.size() > 60) {
        slug.resize(60);
    }
    return slug.empty() ? "run" : slug;
}

std::string sweepConfigHash(const TrainConfig& config) {
    TrainConfig c = config;
    c.threads = 0;  // the executor's choice, not the run's
    const std::string json = trainConfigToJson(c);
    return sha256Hex(json.data(), json.size()).substr(0, 8);
}

std::string sweepRunId(const SweepSettings& point, const TrainConfig& config) {
    return sweepSlug(point) + "-" + sweepConfigHash(config);
}

std::string sweepPlanToJson(const SweepPlan& plan) {
    return ojson(plan).dump(2) + "\n";
}

SweepPlan sweepPlanFromJson(const std::string& text, const std::string& what) {
    const ojson j = ojson::parse(text, nullptr, false);
    if (j.is_discarded()) {
        throw DataError(what + ": not valid JSON");
    }
    try {
        return j.get<SweepPlan>();
    } catch (const SpecError& e) {
        throw DataError(what + ": " + e.what());
    } catch (const nlohmann::json::exception&) {
        throw DataError(what + ": a field has the wrong type");
    }
}

void writeSweepPlan(const std::string& dir, const SweepPlan& plan) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) {
        throw Error(dir + ": cannot create the sweep folder (" + ec.message() + ")");
    }
    writeFileAtomic(joinPath(dir, sweepfile::kPlan), sweepPlanToJson(plan));
}

SweepPlan readSweepPlan(const std::string& dir) {
    const std::string path = joinPath(dir, sweepfile::kPlan);
    if (!fileExists(path)) {
        throw DataError(dir + " is not a sweep folder (it has no " + sweepfile::kPlan +
                        "; scalelab-cli sweep plan --out DIR writes one)");
    }
    const auto bytes = readFileBytes(path, uint64_t(256) << 20);
    return sweepPlanFromJson(std::string(bytes.begin(), bytes.end()), path);
}

std::string sweepRunDir(const std::string& dir, const SweepRun& run) {
    return joinPath(joinPath(dir, sweepfile::kRuns), run.id);
}

const char* sweepRunStateName(SweepRunState state) {
    switch (state) {
        case SweepRunState::NotStarted:
            return "not started";
        case SweepRunState::Queued:
            return "queued";
        case SweepRunState::Running:
            return "running";
        case SweepRunState::Interrupted:
            return "interrupted";
        case SweepRunState::Completed:
            return "done";
        case SweepRunState::Diverged:
            return "diverged";
        case SweepRunState::Cancelled:
            return "cancelled";
        case SweepRunState::Failed:
            return "failed";
    }
    return "failed";
}

bool sweepRunFinished(SweepRunState state) {
    return state == SweepRunState::Completed || state == SweepRunState::Diverged;
}

SweepRunStatus sweepRunStatus(const std::string& runDir, int64_t plannedEpochs) {
    SweepRunStatus s;
    s.epochs = plannedEpochs;
    s.lockHolder = runFolderLockHolder(runDir);
    if (!fileExists(joinPath(runDir, runfile::kConfig))) {
        s.state = s.lockHolder ? SweepRunState::Running : SweepRunState::NotStarted;
        s.status = s.lockHolder ? "preparing" : "";
        return s;
    }
    if (!fileExists(joinPath(runDir, runfile::kSummary))) {
        s.state = s.lockHolder ? SweepRunState::Running : SweepRunState::Interrupted;
        s.status = "no epoch finished yet";
        return s;
    }
    TrainSummary summary;
    try {
        summary = readRunSummary(runDir);
    } catch (const Error& e) {
        s.state = s.lockHolder ? SweepRunState::Running : SweepRunState::Failed;
        s.status = e.what();
        return s;
    }
    s.status = summary.status;
    s.epochsDone = summary.epochsDone;
    s.testAccuracy = summary.test.count > 0 ? summary.test.accuracy : -1;
    s.wallSeconds = summary.wallSeconds;
    switch (summary.state) {
        case RunState::Running:
            s.state = s.lockHolder ? SweepRunState::Running : SweepRunState::Interrupted;
            break;
        case RunState::Completed:
            s.state = SweepRunState::Completed;
            break;
        case RunState::Diverged:
            s.state = SweepRunState::Diverged;
            break;
        case RunState::Cancelled:
            s.state = s.lockHolder ? SweepRunState::Running : SweepRunState::Cancelled;
            break;
        case RunState::Failed:
            s.state = s.lockHolder ? SweepRunState::Running : SweepRunState::Failed;
            break;
    }
    return s;
}

void appendSweepSubmission(const std::string& dir, const SweepSubmission& submission) {
    std::vector<SweepSubmission> all = readSweepSubmissions(dir);
    all.push_back(submission);
    ojson j = ojson::object();
    j["submissions"] = all;
    writeFileAtomic(joinPath(dir, sweepfile::kSlurm), j.dump(2) + "\n");
}

std::vector<SweepSubmission> readSweepSubmissions(const std::string& dir) {
    const std::string path = joinPath(dir, sweepfile::kSlurm);
    if (!fileExists(path)) {
        return {};
    }
    const auto bytes = readFileBytes(path, kMaxJsonBytes);
    const ojson j = ojson::parse(bytes.begin(), bytes.end(), nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("submissions") ||
        !j["submissions"].is_array()) {
        throw DataError(path + ": expected an object with a 'submissions' list");
    }
    std::vector<SweepSubmission> out;
    try {
        for (const ojson& s : j["submissions"]) {
            out.push_back(s.get<SweepSubmission>());
        }
    } catch (const SpecError& e) {
        throw DataError(path + ": " + e.what());
    } catch (const nlohmann::json::exception&) {
        throw DataError(path + ": a field has the wrong type");
    }
    return out;
}

}  // namespace scalelab
