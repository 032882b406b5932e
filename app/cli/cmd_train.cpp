// `train` and `eval`.

#include <nlohmann/json.hpp>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>

#include "app/cli/commands.h"
#include "app/cli/model_args.h"
#include "app/cli/option_checks.h"
#include "app/cli/terminal_progress.h"
#include "app/cli/train_options.h"
#include "core/data/dataset.h"
#include "core/data/dataset_api.h"
#include "core/data/file_io.h"
#include "core/runtime.h"
#include "core/train/run_folder.h"
#include "core/train/run_loader.h"
#include "core/train/sweep.h"
#include "core/train/train_api.h"

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
    j["event"] = p.kind == TrainProgress::Kind::Preparing ? "preparing"
                 : p.kind == TrainProgress::Kind::Batch   ? "batch"
                 : p.kind == TrainProgress::Kind::Epoch   ? "epoch"
                                                          : "finished";
    if (p.kind == TrainProgress::Kind::Preparing) {
        j["phase"] = p.phase;
        j["done"] = p.phaseDone;
        j["total"] = p.phaseTotal;
        return j;
    }
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
    if (!p.warning.empty()) {
        j["warning"] = p.warning;
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
        for (const std::string& w : s.warnings) {
            std::printf("  warning         %s\n", w.c_str());
        }
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
        if (!p.warning.empty()) {
            bar.finish();
            std::fprintf(stderr, "warning: %s\n", p.warning.c_str());
        }
        if (p.kind == TrainProgress::Kind::Preparing) {
            bar.setLabel(p.phase);
            bar.callback()(p.phaseDone, p.phaseTotal);
            if (p.phaseDone >= p.phaseTotal) {
                bar.finish();
            }
        } else if (p.kind == TrainProgress::Kind::Batch) {
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

struct EvalOptions {
    std::string run;
    EvalRunOptions eval;  // EvalRunOptions{}'s defaults are the options' defaults
    bool json = false;
};

// train --sweep DIR --index I: run I of the plan into DIR/runs/<id>. A finished run (completed
// or diverged) is left as it is; an interrupted, cancelled or failed one continues from its
// checkpoint, or starts again when it never finished an epoch.
int trainSweepRun(const TrainOptions& o, bool threadsGiven, TerminalProgress& bar) {
    const SweepPlan plan = readSweepPlan(o.sweep);
    if (o.index < 0 || o.index >= int64_t(plan.runs.size())) {
        throw UsageError("--index " + std::to_string(o.index) +
                         " is out of range: " + joinPath(o.sweep, sweepfile::kPlan) + " plans " +
                         std::to_string(plan.runs.size()) + " runs (--index 0.." +
                         std::to_string(plan.runs.size() - 1) + ")");
    }
    const SweepRun& run = plan.runs[size_t(o.index)];
    const std::string dir = sweepRunDir(o.sweep, run);
    const std::string who = "run " + std::to_string(run.index) + " (" + run.id + ")";
    const SweepRunStatus st = sweepRunStatus(dir, run.config.epochs);
    auto say = [&](const std::string& line) {
        if (o.jsonl) {
            nlohmann::ordered_json j;
            j["event"] = "sweep";
            j["message"] = line;
            std::cout << j.dump() << std::endl;
        } else {
            std::printf("%s\n", line.c_str());
        }
    };
    if (sweepRunFinished(st.state)) {
        say(who + " is already " + sweepRunStateName(st.state) + " (" + st.status + "): " + dir +
            " is left as it is, not trained again");
        return st.state == SweepRunState::Completed ? 0 : 3;
    }
    if (st.lockHolder != 0) {
        throw Error(who + " is being trained by process " + std::to_string(st.lockHolder) +
                    " on this machine; nothing was started");
    }
    if (st.state != SweepRunState::NotStarted) {
        // The folder must hold what the plan says (its name carries the config's hash).
        TrainConfig recorded = readRunConfig(dir);
        if (sweepRunId(run.point, recorded) != run.id) {
            throw Error(dir + "/config.json is not the config " +
                        joinPath(o.sweep, sweepfile::kPlan) + " plans for " + who +
                        "; the folder is left as it is");
        }
        if (fileExists(joinPath(dir, runfile::kCheckpoint))) {
            // With the thread count it started with (config.json): on the CPU the result then
            // equals an uninterrupted run's, whatever --threads this executor passes.
            say("continuing " + who + " (" + sweepRunStateName(st.state) + ": " + st.status +
                ") in " + dir);
            const TrainSummary s = resumeRun(dir, makeHooks(o.jsonl, bar));
            bar.finish();
            return finish(s, o.jsonl);
        }
        say(who + " never finished an epoch (" + sweepRunStateName(st.state) +
            "): starting it again in " + dir);
        discardRunWithoutEpochs(dir);
    } else {
        say("training " + who + " into " + dir);
    }
    TrainConfig c = run.config;
    if (threadsGiven) {
        c.threads = o.config.threads;
    }
    const TrainSummary s = trainRun(c, dir, makeHooks(o.jsonl, bar));
    bar.finish();
    return finish(s, o.jsonl);
}

int runTrain(TrainOptions& o, const CLI::App& sub) {
    const bool jsonl = o.jsonl;
    TerminalProgress bar("training");

    if (sub.count("--index") && !sub.count("--sweep")) {
        throw UsageError("--index I needs --sweep DIR");
    }
    if (sub.count("--resume") || sub.count("--sweep")) {
        const std::string given = sub.count("--resume") ? "--resume" : "--sweep";
        for (const CLI::Option* opt : sub.get_options()) {
            const std::string name = opt->get_name();
            const bool allowed = name == given || name == "--jsonl" ||
                                 (given == "--sweep" && (name == "--index" || name == "--threads"));
            if (opt->count() && !allowed) {
                throw UsageError(given == "--resume"
                                     ? "--resume DIR takes the settings from DIR/config.json; "
                                       "give no others (got " +
                                           name + ")"
                                     : "--sweep DIR takes the settings from DIR/sweep.json; give "
                                       "only --index, --threads and --jsonl (got " +
                                           name + ")");
            }
        }
    }
    if (sub.count("--sweep")) {
        if (!sub.count("--index")) {
            throw UsageError("--sweep DIR needs --index I (the run to train)");
        }
        return trainSweepRun(o, sub.count("--threads") > 0, bar);
    }
    if (sub.count("--resume")) {
        if (!jsonl) {
            std::printf("resuming %s\n", o.resume.c_str());
        }
        const TrainSummary s = resumeRun(o.resume, makeHooks(jsonl, bar));
        bar.finish();
        return finish(s, jsonl);
    }
    if (!sub.count("--out")) {
        throw UsageError("train needs --out DIR (the run folder)");
    }
    const DatasetSummary ds = describeTrainDataset(o.config.dataset);
    const TrainConfig c = resolveTrainConfig(o, sub, ds);
    if (!jsonl) {
        std::printf("%s on %s: %lld epochs, batch %lld, %s lr %.3g (%s), out %s\n",
                    describeSpec(c.model).c_str(), ds.name.c_str(), (long long)c.epochs,
                    (long long)c.batchSize, optimizerName(c.optimizer), c.lr,
                    scheduleName(c.schedule), o.out.c_str());
        const int64_t evalBatch = evalBatchFor(c);
        if (evalBatch < c.evalBatchSize) {
            std::printf(
                "evaluating %lld images at a time, not %lld: more would need more memory "
                "than a training step\n",
                (long long)evalBatch, (long long)c.evalBatchSize);
        }
    }
    // The run takes the only reference to the dataset: once its images are resized the
    // originals are freed (a tiny run need not hold all 70,000 Fashion-MNIST images).
    std::shared_ptr<const Dataset> dataset = loadDatasetCached(parseDatasetSpec(c.dataset));
    forgetCachedDatasets();
    const TrainSummary s = trainRun(c, o.out, makeHooks(jsonl, bar), std::move(dataset));
    bar.finish();
    return finish(s, jsonl);
}

int runEval(const EvalOptions& o) {
    EvalResult r;
    {
        TerminalProgress loading("loading");
        r = evaluateRun(o.run, o.eval, loading.callback());
    }
    if (o.json) {
        std::cout << evalResultToJson(r) << "\n";
        return 0;
    }
    std::printf("%s: test accuracy %s on %lld images, loss %.4f\n\n", o.run.c_str(),
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

}  // namespace

DatasetSummary describeTrainDataset(const std::string& spec) {
    TerminalProgress loading("loading " + spec);
    return describeDataset(parseDatasetSpec(spec), loading.callback());
}

TrainConfig resolveTrainConfig(TrainOptions& o, const CLI::App& sub, const DatasetSummary& ds) {
    TrainConfig c = o.config;
    // The dataset decides the defaults for channels, classes and the base resolution.
    ModelOptions& m = o.model;
    if (!m.given("--in-channels")) {
        m.inChannels = int(ds.channels);
    }
    if (!m.given("--num-classes")) {
        m.numClasses = int(ds.classNames.size());
    }
    if (!m.given("--base-resolution")) {
        m.baseResolution = std::max(ds.height, ds.width) <= 64 ? 32 : 224;
    }
    c.model = parseModelArgs(m).spec;
    // What the user did not set comes from the family's measured defaults.
    const TrainConfig d =
        familyTrainDefaults(c.model, sub.count("--optimizer") ? &c.optimizer : nullptr);
    c.optimizer = d.optimizer;
    if (!sub.count("--lr")) {
        c.lr = d.lr;
    }
    if (!sub.count("--weight-decay")) {
        c.weightDecay = d.weightDecay;
    }
    if (!sub.count("--warmup-epochs")) {
        c.warmupEpochs = std::min(d.warmupEpochs, double(c.epochs));
    }
    return c;
}

void addTrainSettings(CLI::App& app, TrainOptions& into) {
    CLI::App* sub = &app;
    TrainOptions* o = &into;
    addModelOptions(*sub, o->model);
    TrainConfig& c = o->config;
    auto whole = [](CLI::Option* opt, int64_t lo, int64_t hi) {
        return opt->capture_default_str()->transform(Decimal)->check(CLI::Range(lo, hi));
    };
    sub->add_option("--dataset", c.dataset, "the dataset (SPEC below)")
        ->type_name("SPEC")
        ->capture_default_str();
    whole(sub->add_option("--epochs", c.epochs, "passes over the training split"), 1, 100000);
    whole(sub->add_option("--batch-size", c.batchSize, "images per step"), 1, 65536);
    addChoice(*sub, "--optimizer", c.optimizer,
              "the optimizer (default: the model family's measured choice)")
        ->default_str("family's");
    sub->add_option("--lr", c.lr, "peak learning rate (default: the family's, docs/BENCHMARKS.md)")
        ->check(above(0));
    sub->add_option("--momentum", c.momentum, "SGD momentum (AdamW: beta1)")
        ->capture_default_str()
        ->check(halfOpen(0, 1));
    sub->add_flag_callback(
        "--no-nesterov", [&c] { c.nesterov = false; }, "SGD: plain momentum, not Nesterov's");
    sub->add_option("--weight-decay", c.weightDecay,
                    "L2 (SGD) / decoupled (AdamW) weight decay (default: the family's; with "
                    "another --optimizer: SGD 5e-4, AdamW 0.05)")
        ->check(atLeast(0));
    sub->add_option("--label-smoothing", c.labelSmoothing, "cross-entropy label smoothing")
        ->capture_default_str()
        ->check(halfOpen(0, 1));
    addChoice(*sub, "--schedule", c.schedule, "learning-rate schedule");
    sub->add_option("--warmup-epochs", c.warmupEpochs,
                    "linear warm-up from 0 over this many epochs, at most --epochs (default: the "
                    "family's)")
        ->check(atLeast(0));
    whole(sub->add_option("--step-epochs", c.stepEpochs,
                          "step schedule: multiply the lr by --step-gamma every N epochs"),
          1, 100000);
    sub->add_option("--step-gamma", c.stepGamma, "step schedule: the factor")
        ->capture_default_str()
        ->check(above(0));
    whole(sub->add_option("--subset", c.split.trainSubset,
                          "keep only this many training images after the split (0: all)"),
          0, 100000000);
    sub->add_option("--val-fraction", c.split.valFraction,
                    "share of the train images held out for validation")
        ->capture_default_str()
        ->check(halfOpen(0, 0.9));
    whole(sub->add_option("--test-subset", c.split.testSubset,
                          "keep only this many test images (0: all)"),
          0, 100000000);
    whole(sub->add_option("--seed", c.seed, "one seed for split, init, data order and dropout"), 0,
          2147483647);
    sub->add_option("--device", c.device, "auto | cpu | cuda[:N]")
        ->type_name("DEVICE")
        ->capture_default_str();
    whole(sub->add_option("--threads", c.threads, "CPU threads (0: every core)"), 0, maxThreads());
    whole(sub->add_option("--crop-padding", c.augment.cropPadding,
                          "px of zero padding before a random crop back to size (0: off)"),
          0, 64);
    sub->add_flag("--hflip", c.augment.horizontalFlip, "random left-right flips");
    whole(sub->add_option("--progress-every", c.progressEveryBatches,
                          "batch progress every N batches"),
          1, 1000000);
    addChoice(*sub, "--layout", c.layout,
              "memory layout of weights and activations (auto: time both at first use on this "
              "machine, cached)");
    addChoice(*sub, "--depthwise", c.depthwise,
              "depthwise convolution kernel (auto: time ours and LibTorch's at first use, cached)");
    sub->add_flag_callback(
        "--no-channels-last", [&c] { c.layout = LayoutChoice::Nchw; }, "same as --layout nchw");
    sub->add_flag_callback(
        "--no-precise-bn", [&c] { c.preciseBn = false; },
        "keep BatchNorm's running averages instead of recomputing them exactly after each epoch");
    whole(sub->add_option("--eval-batch-size", c.evalBatchSize, "images per evaluation step"), 1,
          65536);
    sub->add_flag("--allow-memory", c.allowAnyMemory,
                  "train even when the estimate exceeds the available memory");
}

Command addTrain(CLI::App& app) {
    auto o = std::make_shared<TrainOptions>();
    CLI::App* sub = app.add_subcommand(
        "train",
        "train into a run folder (Ctrl-C stops after the current batch; exit 0 completed, 3 "
        "diverged, 130 cancelled); train --resume DIR continues a run from its last finished "
        "epoch; train --sweep DIR --index I trains (or continues) run I of a sweep");
    sub->add_option("--out", o->out, "the run folder (created; must not hold a run)")
        ->type_name("DIR");
    sub->add_option("--resume", o->resume, "continue the run in DIR (give no other options)")
        ->type_name("DIR");
    sub->add_option("--sweep", o->sweep,
                    "train run --index of the sweep in DIR (sweep plan) into DIR/runs/<id>; a "
                    "finished run is left as it is, an interrupted one continues")
        ->type_name("DIR");
    sub->add_option("--index", o->index, "the sweep's run (0-based, as sweep.json lists them)")
        ->type_name("I")
        ->transform(Decimal)
        ->check(CLI::Range(int64_t(0), int64_t(1) << 30));
    sub->add_flag("--jsonl", o->jsonl, "progress as one JSON object per line on stdout");
    addTrainSettings(*sub, *o);
    return {sub, [o, sub] { return runTrain(*o, *sub); }};
}

Command addEval(CLI::App& app) {
    auto o = std::make_shared<EvalOptions>();
    CLI::App* sub =
        app.add_subcommand("eval", "test accuracy, per-class accuracy, confusion matrix");
    sub->add_option("--run", o->run, "the run folder")->type_name("DIR")->required();
    sub->add_option("--dataset", o->eval.dataset,
                    "test on this dataset instead of the run's (same channels and classes)")
        ->type_name("SPEC");
    sub->add_option("--limit", o->eval.limit,
                    "only the first N images of the run's test split (0: all of it)")
        ->capture_default_str()
        ->transform(Decimal)
        ->check(CLI::Range(0, 100000000));
    sub->add_option("--dump-logits", o->eval.dumpDir,
                    "write the images' inputs, logits (float32 and float64) and labels as .npy")
        ->type_name("DIR");
    sub->add_flag("--json", o->json, "the result as JSON");
    return {sub, [o] { return runEval(*o); }};
}

}  // namespace scalelab::cli
