// `prune` and `features`.

#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "app/cli/commands.h"
#include "app/cli/option_checks.h"
#include "app/cli/terminal_progress.h"
#include "core/data/file_io.h"
#include "core/inspect/features.h"
#include "core/json_enums.h"
#include "core/prune/prune_api.h"
#include "core/train/run_folder.h"

namespace scalelab::cli {

namespace {

std::atomic<bool> gStop{false};
extern "C" void onPruneInterrupt(int) {
    gStop.store(true);
}

struct PruneOptions {
    PruneSweepOptions sweep;  // PruneSweepOptions{}'s defaults are the options' defaults
    std::vector<std::string> methods;
    std::string out;
};

struct FeatureOptions {
    FeatureRequest request;  // FeatureRequest{}'s defaults are the options' defaults
    std::string out;
};

int runPrune(PruneOptions& options) {
    requireNotRunFile(options.out, "--out");
    PruneSweepOptions& o = options.sweep;
    o.methods.clear();
    for (const std::string& m : options.methods) {
        o.methods.push_back(pruneMethodFromName(m));
    }
    std::signal(SIGINT, onPruneInterrupt);
    TerminalProgress bar("pruning");
    PruneHooks hooks;
    hooks.cancel = &gStop;
    hooks.progress = [&bar](int64_t done, int64_t total, const std::string& what) {
        bar.setLabel(what.empty() ? "pruning" : what);
        bar.callback()(done, total);
        return true;
    };
    // The CSV and its record (pruning.json next to it, which the lab imports with the run) are
    // rewritten (atomically) after every row: a kill, a full disk or Ctrl-C keeps every row
    // measured so far.
    const std::string csvPath = options.out;
    const std::string jsonPath = std::filesystem::path(csvPath).replace_extension(".json").string();
    if (jsonPath == csvPath) {
        throw UsageError("--out " + csvPath +
                         ": give the CSV a name not ending in .json (pruning.json is written "
                         "next to it)");
    }
    PruneSweepRecord record;
    record.dir = std::filesystem::path(csvPath).parent_path().string();
    if (!record.dir.empty()) {
        std::error_code ec;
        std::filesystem::create_directories(record.dir, ec);  // --out RUN/pruning-1/pruning.csv
        if (ec) {
            throw UsageError("--out " + csvPath + ": cannot create its folder (" + ec.message() +
                             ")");
        }
    }
    record.options = o;
    hooks.row = [&bar, &record, &csvPath, &jsonPath](const PruneRow& r) {
        record.result.rows.push_back(r);
        writeFileAtomic(csvPath, pruneResultToCsv(record.result));
        writeFileAtomic(jsonPath, pruneSweepToJson(record));
        bar.finish();
        std::printf(
            "%-17s %5.2f %-9s sparsity %5.1f%%  MACs %11lld  acc %6.2f%%%s  %7.0f img/s\n",
            r.method.c_str(), r.level, r.scope.c_str(), r.sparsity * 100, (long long)r.macs,
            r.accuracy * 100,
            r.finetunedAccuracy < 0
                ? ""
                : ("  fine-tuned " + std::to_string(r.finetunedAccuracy * 100).substr(0, 5) + "%")
                      .c_str(),
            r.inferImagesPerSec);
        std::fflush(stdout);
    };
    const PruneSweepResult res = runPruneSweep(o, hooks);
    bar.finish();
    record.result = res;
    record.finished = true;
    writeFileAtomic(csvPath, pruneResultToCsv(res));
    writeFileAtomic(jsonPath, pruneSweepToJson(record));
    std::printf("\nbaseline: acc %.2f%%, %lld MACs, %lld params, %.0f img/s inference\n",
                res.baselineAccuracy * 100, (long long)res.baselineMacs,
                (long long)res.baselineParams, res.baselineImagesPerSec);
    std::printf("%s: %zu rows written to %s (and %s)\n", res.status.c_str(), res.rows.size(),
                csvPath.c_str(), jsonPath.c_str());
    return res.cancelled ? 130 : 0;
}

int runFeatures(const FeatureOptions& o, const CLI::App& sub) {
    if (!sub.count("--index") && !sub.count("--image")) {
        throw UsageError("give exactly one of --index I and --image PATH");
    }
    const FeatureRequest& r = o.request;
    const FeatureResult f = inspectFeatures(r);
    const auto paths = writeFeaturePngs(f, o.out);
    std::printf(
        "%s: predicted %s (%.1f%%)%s\n",
        r.imagePath.empty() ? ("test image " + std::to_string(r.testIndex)).c_str()
                            : r.imagePath.c_str(),
        f.classNames[size_t(f.predicted)].c_str(), f.probabilities[size_t(f.predicted)] * 100,
        f.trueLabel >= 0 ? (", true class " + f.classNames[size_t(f.trueLabel)]).c_str() : "");
    std::printf("%s: %lld channels of %lldx%lld; Grad-CAM for class %s\n", f.stageName.c_str(),
                (long long)f.stageChannels, (long long)f.mapHeight, (long long)f.mapWidth,
                f.classNames[size_t(f.camClass)].c_str());
    for (const auto& p : paths) {
        std::printf("  wrote %s\n", p.c_str());
    }
    return 0;
}

std::string joined(const std::vector<std::string>& items) {
    std::string s;
    for (const std::string& i : items) {
        s += (s.empty() ? "" : ",") + i;
    }
    return s;
}

}  // namespace

Command addPrune(CLI::App& app) {
    auto o = std::make_shared<PruneOptions>();
    CLI::App* sub = app.add_subcommand(
        "prune", "prune a trained run at each level, test, fine-tune, test again");
    PruneSweepOptions& p = o->sweep;
    const std::vector<std::string> names = enumNameList<PruneMethod>();
    for (PruneMethod m : p.methods) {
        o->methods.push_back(pruneMethodName(m));
    }
    std::vector<std::string> levels;
    for (double l : p.levels) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%g", l);
        levels.push_back(buf);
    }
    sub->add_option("--run", p.runDir, "the trained run")->type_name("DIR")->required();
    sub->add_option("--out", o->out, "the CSV, rewritten after every row")
        ->type_name("FILE.csv")
        ->required();
    sub->add_option("--method", o->methods, "pruning methods, comma-separated")
        ->delimiter(',')
        ->check(CLI::IsMember(names))
        ->default_str(joined(o->methods));
    sub->add_option("--levels", p.levels, "fractions of the prunable weights, comma-separated")
        ->delimiter(',')
        ->check(halfOpen(0, 1))
        ->default_str(joined(levels));
    sub->add_option("--finetune-epochs", p.finetuneEpochs,
                    "epochs of fine-tuning after pruning (masks kept)")
        ->capture_default_str()
        ->transform(Decimal)
        ->check(CLI::Range(0, 1000));
    sub->add_option("--finetune-lr", p.finetuneLr, "SGD learning rate of the fine-tuning")
        ->capture_default_str()
        ->check(above(0));
    sub->add_option("--finetune-subset", p.finetuneSubset,
                    "train images for fine-tuning (0: the run's)")
        ->capture_default_str()
        ->transform(Decimal)
        ->check(CLI::Range(0, 100000000));
    sub->add_option("--test-subset", p.testSubset, "test images (0: the run's own setting)")
        ->capture_default_str()
        ->transform(Decimal)
        ->check(CLI::Range(0, 100000000));
    sub->add_flag("--include-classifier", p.includeClassifier,
                  "magnitude methods: prune the final Linear too");
    sub->add_flag("--per-stage", p.perStage, "also prune one stage at a time (sensitivity)");
    sub->add_option("--save-model", p.saveModelDir,
                    "save every pruned model under DIR/<method>-<level>")
        ->type_name("DIR");
    return {sub, [o] { return runPrune(*o); }};
}

Command addFeatures(CLI::App& app) {
    auto o = std::make_shared<FeatureOptions>();
    CLI::App* sub = app.add_subcommand(
        "features", "stage activations grid, Grad-CAM overlay and input as PNGs");
    FeatureRequest& r = o->request;
    sub->add_option("--run", r.runDir, "a trained run (or a saved pruned model)")
        ->type_name("DIR")
        ->required();
    sub->add_option("--out", o->out, "folder for the PNGs")->type_name("DIR")->required();
    CLI::Option* index = sub->add_option("--index", r.testIndex, "the test image to show")
                             ->transform(Decimal)
                             ->check(CLI::Range(0, 100000000));
    CLI::Option* image =
        sub->add_option("--image", r.imagePath, "an image file instead of a test image")
            ->type_name("PATH");
    index->excludes(image);
    sub->add_option("--stage", r.stage, "0 = stem, 1.. = stages (as info numbers them)")
        ->capture_default_str()
        ->transform(Decimal)
        ->check(CLI::Range(0, 64));
    sub->add_option("--class", r.camClass, "Grad-CAM target class (-1: the predicted one)")
        ->capture_default_str()
        ->transform(Decimal)
        ->check(CLI::Range(-1, 100000));
    sub->add_option("--max-channels", r.maxChannels, "keep only this many channels (0: all)")
        ->capture_default_str()
        ->transform(Decimal)
        ->check(CLI::Range(0, 100000));
    sub->add_flag_callback(
        "--by-index", [&r] { r.sortByMean = false; }, "channels by index, not by mean activation");
    return {sub, [o, sub] { return runFeatures(*o, *sub); }};
}

}  // namespace scalelab::cli
