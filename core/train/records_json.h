#pragma once
// The one JSON mapping of each training record type (nlohmann's to_json / from_json, found by
// ADL): TrainConfig (config.json), EpochMetrics (checkpoint and session histories), EvalResult
// and TrainSummary (summary.json). Files are written with ordered_json (keys in a stable, readable
// order) and read with json. from_json throws SpecError naming the field and the problem; the
// readers in run_folder.cpp add the file's name. Torch-free.

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/prune/prune_api.h"
#include "core/train/train_api.h"

namespace scalelab {

struct SweepPlan;        // core/train/sweep.h
struct SweepSubmission;  // core/train/sweep.h

void to_json(nlohmann::ordered_json& j, const TrainConfig& c);
void from_json(const nlohmann::json& j, TrainConfig& c);

void to_json(nlohmann::ordered_json& j, const EpochMetrics& e);
void from_json(const nlohmann::json& j, EpochMetrics& e);

void to_json(nlohmann::ordered_json& j, const EvalResult& r);
void from_json(const nlohmann::json& j, EvalResult& r);

// The summary's own fields (state, status, epochs, accuracies, costs, test result). summary.json
// adds what the run was (model, dataset, device, planned epochs): see writeRunSummary.
void to_json(nlohmann::ordered_json& j, const TrainSummary& s);
// Reads what to_json wrote; ScaleLab 0.1's summaries without "state" read their "completed" flag.
void from_json(const nlohmann::json& j, TrainSummary& s);

// Pruning sweeps (pruning.json, the session's copy): rows, options, result, record.
void to_json(nlohmann::ordered_json& j, const PruneRow& r);
void from_json(const nlohmann::json& j, PruneRow& r);
void to_json(nlohmann::ordered_json& j, const PruneSweepOptions& o);
void from_json(const nlohmann::json& j, PruneSweepOptions& o);
void to_json(nlohmann::ordered_json& j, const PruneSweepResult& r);
void from_json(const nlohmann::json& j, PruneSweepResult& r);
void to_json(nlohmann::ordered_json& j, const PruneSweepRecord& r);
void from_json(const nlohmann::json& j, PruneSweepRecord& r);

// Sweeps (sweep.json, slurm.json). Read with ordered_json: the grid's order is the runs' order.
void to_json(nlohmann::ordered_json& j, const SweepPlan& p);
void from_json(const nlohmann::ordered_json& j, SweepPlan& p);
void to_json(nlohmann::ordered_json& j, const SweepSubmission& s);
void from_json(const nlohmann::ordered_json& j, SweepSubmission& s);

// Parses JSON text, turning a syntax error into DataError naming `what`.
nlohmann::json parseJsonText(const std::string& text, const std::string& what);

// `T` from JSON text: DataError naming `what` and the field on any problem.
template <typename T>
T recordFromJsonText(const std::string& text, const std::string& what) {
    const nlohmann::json j = parseJsonText(text, what);
    try {
        return j.get<T>();
    } catch (const SpecError& e) {
        throw DataError(what + ": " + e.what());
    } catch (const nlohmann::json::exception&) {
        throw DataError(what + ": a field has the wrong type");
    }
}

}  // namespace scalelab
