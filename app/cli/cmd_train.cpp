// `train` and `eval`.

#include <nlohmann/json.hpp>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>

#include "app/cli/args.h"
#include "app/cli/commands.h"
#include "app/cli/model_args.h"
#include "app/cli/terminal_progress.h"
#include "core/data/dataset_api.h"
#include "core/train/train_api.h"

#include "core/runtime.h"

namespace scalelab::cli {

namespace {

std::string pct(double fraction) {
    if (fraction < 0) {
        return "  -   ";
    }
    char buf[16];
    std::snprintf(buf, sizeof buf, "%5.2f%%", fraction * 100);
    return buf;
}

nlohmann::ordered_json progressJson(const TrainProgress& p) {
    nlohmann::ordered_json j;
    j["event"] = p.kind == TrainProgress::Kind::Batch   ? "batch"
                 : p.kind == TrainProgress::Kind::Epoch ? "epoch"
                                                        : "finished";
    j["epoch"] = p.epoch;
    j["epochs"] = p.epochs;
    if (p.kind != TrainProgress::Kind::Finished) {
        j["batch"] = p.batch;
        j["batches_per_epoch"] = p.batchesPerEpoch;
        j["train_loss"] = p.trainLoss;
        j["train_acc"] = p.trainAccuracy;
        if (p.kind == TrainProgress::Kind::Epoch) {
            j["val_loss"] =
                p.valLoss < 0 ? nlohmann::ordered_json() : nlohmann::ordered_json(p.valLoss);
            j["val_acc"] = p.valAccuracy < 0 ? nlohmann::ordered_json()
                                             : nlohmann::ordered_json(p.valAccuracy);
        }
        j["lr"] = p.lr;
        j["images_per_s"] = p.imagesPerSec;
        j["eta_s"] = p.etaSec;
    }
    j["elapsed_s"] = p.elapsedSec;
    if (!p.status.empty()) {
        j["status"] = p.status;
    }
    return j;
}

int finish(const TrainSummary& s, bool jsonl) {
    if (!jsonl) {
        std::printf("\n%s: %s\n", s.runDir.c_str(), s.status.c_str());
        if (s.test.count) {
            std::printf("  test accuracy   %s (%lld images, loss %.4f)\n",
                        pct(s.test.accuracy).c_str(), (long long)s.test.count, s.test.loss);
        }
        if (s.bestValAccuracy >= 0) {
            std::printf("  best val acc    %s (epoch %lld)\n", pct(s.bestValAccuracy).c_str(),
                        (long long)s.bestEpoch);
        }
        std::printf("  wall time       %s, %.0f images/s\n", formatDuration(s.wallSeconds).c_str(),
                    s.imagesPerSec);
        std::printf(
            "  files           config.json metrics.csv summary.json checkpoint.pt weights.pt\n");
    }
    switch (s.state) {
        case RunState::Completed:
            return 0;
        case RunState::Diverged:
            return 3;
        case RunState::Cancelled:
            return 130;
        case RunState::Running:
        case RunState::Failed:
            return 1;
    }
    return 1;
}

TrainHooks makeHooks(bool jsonl, TerminalProgress& bar) {
    TrainHooks hooks;
    hooks.cancel = &interruptFlag();
    hooks.loading = [](int64_t, int64_t) { return !interruptFlag().load(); };
    hooks.progress = [jsonl, &bar](const TrainProgress& p) {
        if (jsonl) {
            std::cout << progressJson(p).dump() << std::endl;
            return true;
        }
        if (p.kind == TrainProgress::Kind::Batch) {
            bar.setLabel("epoch " + std::to_string(p.epoch) + "/" + std::to_string(p.epochs) +
                         "  loss " + std::to_string(p.trainLoss).substr(0, 6) + "  acc " +
                         pct(p.trainAccuracy) + "  " + std::to_string(int(p.imagesPerSec)) +
                         " img/s  run ETA " + formatDuration(p.etaSec));
            bar.callback()(p.batch, p.batchesPerEpoch);
        } else if (p.kind == TrainProgress::Kind::Epoch) {
            bar.finish();
            std::printf(
                "epoch %3lld/%lld  train loss %.4f acc %s  val loss %s acc %s  lr %.3g  "
                "%.0f img/s  ETA %s\n",
                (long long)p.epoch, (long long)p.epochs, p.trainLoss, pct(p.trainAccuracy).c_str(),
                p.valLoss < 0 ? "  -   " : std::to_string(p.valLoss).substr(0, 6).c_str(),
                pct(p.valAccuracy).c_str(), p.lr, p.imagesPerSec, formatDuration(p.etaSec).c_str());
            std::fflush(stdout);
        }
        return true;
    };
    return hooks;
}

}  // namespace

int runTrain(const std::vector<std::string>& argv) {
    std::set<std::string> opts = modelValueOptions();
    opts.insert({"dataset",     "epochs",       "batch-size",      "lr",           "optimizer",
                 "momentum",    "weight-decay", "label-smoothing", "schedule",     "warmup-epochs",
                 "step-epochs", "step-gamma",   "subset",          "val-fraction", "test-subset",
                 "seed",        "device",       "threads",         "crop-padding", "progress-every",
                 "out",         "resume",       "eval-batch-size"});
    Args args(argv, opts, {"jsonl", "no-nesterov", "hflip", "no-channels-last", "allow-memory"});
    const bool jsonl = args.flag("jsonl");
    TerminalProgress bar("training");

    if (args.has("resume")) {
        if (argv.size() > 2 + (jsonl ? 1 : 0)) {
            throw UsageError(
                "--resume DIR takes the settings from DIR/config.json; give no others");
        }
        const std::string dir = args.get("resume");
        if (!jsonl) {
            std::printf("resuming %s\n", dir.c_str());
        }
        const TrainSummary s = resumeRun(dir, makeHooks(jsonl, bar));
        bar.finish();
        return finish(s, jsonl);
    }
    if (!args.has("out")) {
        throw UsageError("train needs --out DIR (the run folder)");
    }
    TrainConfig c;
    c.dataset = args.get("dataset", "fashion-mnist");
    // The dataset decides the defaults for channels, classes and the base resolution.
    DatasetSummary ds;
    {
        TerminalProgress loading("loading " + c.dataset);
        ds = describeDataset(parseDatasetSpec(c.dataset), loading.callback());
    }
    std::vector<std::string> specArgs;
    for (const auto& key : modelValueOptions()) {
        if (args.has(key)) {
            specArgs.push_back("--" + key);
            specArgs.push_back(args.get(key));
        }
    }
    auto defaultTo = [&](const char* key, const std::string& value) {
        if (!args.has(key)) {
            specArgs.push_back(std::string("--") + key);
            specArgs.push_back(value);
        }
    };
    defaultTo("in-channels", std::to_string(ds.channels));
    defaultTo("num-classes", std::to_string(ds.classNames.size()));
    defaultTo("base-resolution", std::max(ds.height, ds.width) <= 64 ? "32" : "224");
    c.model = modelSpecFromArgs(Args(specArgs, modelValueOptions(), {}));
    c.epochs = args.getInt("epochs", 10, 1, 100000);
    c.batchSize = args.getInt("batch-size", 128, 1, 65536);
    c.lr = args.getDouble("lr", 0.1);
    const std::string optName = args.get("optimizer", "sgd");
    if (optName != "sgd" && optName != "adamw") {
        throw UsageError("--optimizer is sgd or adamw, got '" + optName + "'");
    }
    c.optimizer = optName == "sgd" ? OptimizerKind::SGD : OptimizerKind::AdamW;
    c.momentum = args.getDouble("momentum", 0.9);
    c.nesterov = !args.flag("no-nesterov");
    c.weightDecay = args.getDouble("weight-decay", c.optimizer == OptimizerKind::SGD ? 5e-4 : 0.05);
    c.labelSmoothing = args.getDouble("label-smoothing", 0.0);
    const std::string sched = args.get("schedule", "cosine");
    if (sched != "cosine" && sched != "step" && sched != "constant") {
        throw UsageError("--schedule is cosine, step or constant, got '" + sched + "'");
    }
    c.schedule = sched == "cosine" ? ScheduleKind::Cosine
                 : sched == "step" ? ScheduleKind::Step
                                   : ScheduleKind::Constant;
    c.warmupEpochs = args.getDouble("warmup-epochs", 0.0);
    c.stepEpochs = args.getInt("step-epochs", 30, 1, 100000);
    c.stepGamma = args.getDouble("step-gamma", 0.1);
    c.split.trainSubset = args.getInt("subset", 0, 0, 100000000);
    c.split.valFraction = args.getDouble("val-fraction", 0.1);
    c.split.testSubset = args.getInt("test-subset", 0, 0, 100000000);
    c.seed = uint64_t(args.getInt("seed", 42, 0, 2147483647));
    c.device = args.get("device", "auto");
    c.threads = args.getInt("threads", 0, 0, maxThreads());
    c.augment.cropPadding = args.getInt("crop-padding", 0, 0, 64);
    c.augment.horizontalFlip = args.flag("hflip");
    c.progressEveryBatches = args.getInt("progress-every", 10, 1, 1000000);
    c.channelsLast = !args.flag("no-channels-last");
    c.evalBatchSize = args.getInt("eval-batch-size", 500, 1, 65536);
    c.allowAnyMemory = args.flag("allow-memory");
    if (!jsonl) {
        std::printf("%s on %s: %lld epochs, batch %lld, %s lr %.3g (%s), out %s\n",
                    describeSpec(c.model).c_str(), ds.name.c_str(), (long long)c.epochs,
                    (long long)c.batchSize, optimizerName(c.optimizer), c.lr,
                    scheduleName(c.schedule), args.get("out").c_str());
    }
    const TrainSummary s = trainRun(c, args.get("out"), makeHooks(jsonl, bar));
    bar.finish();
    return finish(s, jsonl);
}

int runEval(const std::vector<std::string>& argv) {
    Args args(argv, {"run", "dataset"}, {"json"});
    if (!args.has("run")) {
        throw UsageError("eval needs --run DIR");
    }
    EvalResult r;
    {
        TerminalProgress loading("loading");
        r = evaluateRun(args.get("run"), args.get("dataset"), loading.callback());
    }
    if (args.flag("json")) {
        std::cout << evalResultToJson(r) << "\n";
        return 0;
    }
    std::printf("%s: test accuracy %s on %lld images, loss %.4f\n\n", args.get("run").c_str(),
                pct(r.accuracy).c_str(), (long long)r.count, r.loss);
    std::printf("%-20s %9s\n", "CLASS", "ACCURACY");
    for (size_t k = 0; k < r.perClassAccuracy.size(); ++k) {
        std::printf("%-20s %9s\n", k < r.classNames.size() ? r.classNames[k].c_str() : "?",
                    pct(r.perClassAccuracy[k]).c_str());
    }
    std::printf("\nconfusion matrix (rows: true class, columns: predicted)\n");
    for (const auto& row : r.confusion) {
        for (int64_t v : row) {
            std::printf("%6lld", (long long)v);
        }
        std::printf("\n");
    }
    return 0;
}

}  // namespace scalelab::cli
