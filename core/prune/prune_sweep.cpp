#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <sstream>

#include "core/data/file_io.h"
#include "core/error.h"
#include "core/json_enums.h"
#include "core/models/analysis.h"
#include "core/models/inference_net.h"
#include "core/prune/prune_api.h"
#include "core/prune/pruning.h"
#include "core/train/epoch_loop.h"
#include "core/train/run_folder.h"
#include "core/train/run_loader.h"

namespace scalelab {

const char* pruneMethodName(PruneMethod m) {
    return enumName(m);
}

PruneMethod pruneMethodFromName(const std::string& n) {
    return enumFromName<PruneMethod>(n, "pruning method");
}

namespace {

// Copies a model (same plan, same weights) so each level starts from the trained weights.
ScaleModel cloneModel(ScaleModelImpl& src, const torch::Device& device) {
    ScaleModel copy = buildModelFromPlan(src.plan());
    torch::NoGradGuard guard;
    auto from = namedStateDict(src);
    auto to = namedStateDict(*copy);
    for (size_t i = 0; i < to.size(); ++i) {
        to[i].second.copy_(from[i].second);
    }
    copy->to(device);
    copy->setChannelsLast(src.channelsLast());
    copy->setFastDepthwise(src.fastDepthwise());
    copy->eval();
    return copy;
}

double inferenceImagesPerSec(ScaleModelImpl& model, int64_t batch, const torch::Device& device) {
    torch::NoGradGuard guard;
    model.eval();
    const ModelSpec& s = model.spec();
    const auto x = torch::randn({batch, s.inChannels, s.resolution, s.resolution}).to(device);
    const InferenceNet net(model);  // the inference path evaluation runs
    net.forward(x);                 // warm-up
    std::vector<double> times;
    for (int i = 0; i < 5; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        net.forward(x);
        times.push_back(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(times.begin(), times.end());
    return double(batch) / times[times.size() / 2];
}

// Fine-tuning is training: the same epoch loop, with the run's optimizer, momentum, weight
// decay, label smoothing, augmentation and seeds, a cosine schedule from `lr` over `epochs`,
// and the masks re-applied after every step so pruned weights stay zero.
void fineTune(ScaleModelImpl& model, LoadedRun& run, const MaskSet* masks, int64_t epochs,
              double lr, const std::atomic<bool>* cancel) {
    TrainConfig c = run.config;
    c.lr = lr;
    c.epochs = epochs;
    c.schedule = ScheduleKind::Cosine;
    c.warmupEpochs = 0;
    c.model = model.spec();
    auto opt = makeOptimizer(c, model);
    EpochHooks hooks;
    hooks.cancel = cancel;
    if (masks) {
        hooks.afterStep = [masks](ScaleModelImpl& m) { applyMasks(m, *masks); };
    }
    for (int64_t e = 1; e <= epochs; ++e) {
        const EpochResult r = trainEpoch(model, *opt, *run.data, c, e, run.device, hooks);
        if (r.stop == EpochResult::Stop::Cancelled) {
            throw Cancelled();
        }
        if (r.stop == EpochResult::Stop::Diverged) {
            break;  // the weights stay those of the last finite step; the test shows the damage
        }
        if (c.preciseBn) {
            recalibrateBatchNorm(model, *run.data, c, e, run.device, cancel);
        }
    }
    model.eval();
}

std::string levelTag(double level) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%.2f", level);
    return buf;
}

}  // namespace

PruneSweepResult runPruneSweep(const PruneSweepOptions& o, const PruneHooks& hooks) {
    return runPruneSweep(o, hooks, nullptr);
}

PruneSweepResult runPruneSweep(const PruneSweepOptions& o, const PruneHooks& hooks,
                               std::shared_ptr<const Dataset> dataset) {
    if (o.levels.empty() || o.methods.empty()) {
        throw SpecError("a pruning sweep needs at least one method and one level");
    }
    for (double l : o.levels) {
        if (!(l >= 0 && l < 1)) {
            throw SpecError("pruning level " + std::to_string(l) + " must be in [0, 1)");
        }
    }
    if (o.finetuneEpochs < 0 || o.finetuneEpochs > 1000) {
        throw SpecError("fine-tuning epochs must be 0..1000");
    }
    LoadedRun run = dataset ? loadRun(o.runDir, dataset) : loadRun(o.runDir);
    SplitOptions split = run.config.split;
    split.seed = run.config.seed;
    if (o.finetuneSubset > 0) {
        split.trainSubset = o.finetuneSubset;
    }
    if (o.testSubset > 0) {
        split.testSubset = o.testSubset;
    }
    if (o.finetuneSubset > 0 || o.testSubset > 0) {
        const Normalization norm = run.data->normalization();
        run.data = std::make_shared<DataPipeline>(
            dataset ? dataset : loadDatasetCached(parseDatasetSpec(run.config.dataset)), split);
        run.data->setNormalization(norm);
    }
    const TrainConfig& c = run.config;
    const int64_t res = c.model.resolution;

    PruneSweepResult result;
    const ModelAnalysis base = analyzePlan(run.model->plan());
    result.baselineParams = base.params;
    result.baselineMacs = base.macs;
    result.baselineAccuracy = evaluateModel(*run.model, *run.data, Part::Test, res, evalBatchFor(c),
                                            run.device, hooks.cancel)
                                  .accuracy;
    result.baselineImagesPerSec = inferenceImagesPerSec(*run.model, o.speedBatch, run.device);

    // Scopes: all stages, then (sensitivity) each stage alone.
    std::vector<std::pair<std::string, int>> scopes = {{"all", -1}};
    if (o.perStage) {
        for (const PlanStage& st : run.model->plan().stages) {
            if (st.index == 0) {
                continue;  // the stem
            }
            scopes.emplace_back(st.name, st.index);
        }
    }
    const int64_t total = int64_t(o.methods.size() * o.levels.size() * scopes.size());
    int64_t done = 0;
    for (const auto& [scopeName, stage] : scopes) {
        for (PruneMethod method : o.methods) {
            for (double level : o.levels) {
                const std::string what = std::string(pruneMethodName(method)) + " " +
                                         levelTag(level) +
                                         (stage < 0 ? "" : " (" + scopeName + ")");
                if ((hooks.cancel && hooks.cancel->load()) ||
                    (hooks.progress && !hooks.progress(done, total, what))) {
                    result.cancelled = true;
                    result.status =
                        "cancelled after " + std::to_string(done) + " of " + std::to_string(total);
                    return result;
                }
                PruneScope scope;
                scope.includeClassifier = o.includeClassifier && stage < 0;
                scope.stage = stage;
                PruneRow row;
                row.method = pruneMethodName(method);
                row.level = level;
                row.scope = scopeName;
                ScaleModel model;
                MaskSet masks;
                bool structured = method == PruneMethod::L1Structured;
                if (structured) {
                    StructuredPruneResult sp = l1StructuredPrune(*run.model, level, scope);
                    model = sp.model;
                    row.sparsity = sp.removedChannelFraction;
                } else {
                    model = cloneModel(*run.model, run.device);
                    masks = magnitudePrune(*model, level, method == PruneMethod::MagnitudeGlobal,
                                           scope);
                    row.sparsity = measureSparsity(*model, scope).sparsity();
                }
                model->eval();
                const ModelAnalysis a = analyzePlan(model->plan());
                row.params = a.params;
                row.macs = a.macs;
                row.sparseMacs = structured ? a.macs : sparseMacs(*model, PruneScope{true, -1});
                int64_t zeros = 0;
                for (const auto& p : model->parameters()) {
                    zeros += (p == 0).sum().item<int64_t>();
                }
                row.nonzeroParams = a.params - zeros;
                try {
                    const EvalResult e = evaluateModel(*model, *run.data, Part::Test, res,
                                                       evalBatchFor(c), run.device, hooks.cancel);
                    row.accuracy = e.accuracy;
                    row.loss = e.loss;
                    if (o.finetuneEpochs > 0) {
                        fineTune(*model, run, structured ? nullptr : &masks, o.finetuneEpochs,
                                 o.finetuneLr, hooks.cancel);
                        const EvalResult f =
                            evaluateModel(*model, *run.data, Part::Test, res, evalBatchFor(c),
                                          run.device, hooks.cancel);
                        row.finetunedAccuracy = f.accuracy;
                        row.finetunedLoss = f.loss;
                    }
                } catch (const Cancelled&) {
                    result.cancelled = true;
                    result.status =
                        "cancelled after " + std::to_string(done) + " of " + std::to_string(total);
                    return result;
                }
                row.inferImagesPerSec = inferenceImagesPerSec(*model, o.speedBatch, run.device);
                if (!o.saveModelDir.empty()) {
                    row.modelDir = joinPath(
                        o.saveModelDir, row.method + "-" + levelTag(level) +
                                            (stage < 0 ? "" : "-stage" + std::to_string(stage)));
                    const nlohmann::json cfg = readRunConfigJson(o.runDir);
                    nlohmann::ordered_json extra;
                    if (cfg.contains("normalization")) {
                        extra["normalization"] = cfg["normalization"];
                    }
                    extra["class_names"] = run.data->dataset().classNames;
                    extra["pruned_from"] = o.runDir;
                    extra["pruning"] = {{"method", row.method},
                                        {"level", level},
                                        {"scope", scopeName},
                                        {"sparsity", row.sparsity},
                                        {"finetune_epochs", o.finetuneEpochs}};
                    saveModelRecord(*model, run.config, row.modelDir, extra);
                }
                result.rows.push_back(row);
                if (hooks.row) {
                    hooks.row(row);
                }
                ++done;
            }
        }
    }
    if (hooks.progress) {
        hooks.progress(total, total, "");
    }
    result.status = "completed";
    return result;
}

std::string pruneResultToCsv(const PruneSweepResult& r) {
    std::ostringstream out;
    out << "method,level,scope,sparsity,params,nonzero_params,macs,sparse_macs,test_acc,test_loss,"
           "finetuned_acc,finetuned_loss,infer_images_per_s,model_dir\n";
    char line[512];
    for (const PruneRow& row : r.rows) {
        std::snprintf(
            line, sizeof line,
            "%s,%.4f,\"%s\",%.6f,%lld,%lld,%lld,%lld,%.6f,%.6f,%s,%s,%.1f,\"%s\"\n",
            row.method.c_str(), row.level, row.scope.c_str(), row.sparsity, (long long)row.params,
            (long long)row.nonzeroParams, (long long)row.macs, (long long)row.sparseMacs,
            row.accuracy, row.loss,
            row.finetunedAccuracy < 0 ? "" : std::to_string(row.finetunedAccuracy).c_str(),
            row.finetunedLoss < 0 ? "" : std::to_string(row.finetunedLoss).c_str(),
            row.inferImagesPerSec, row.modelDir.c_str());
        out << line;
    }
    return out.str();
}

}  // namespace scalelab
