// `prune` and `features`.

#include <atomic>
#include <csignal>
#include <cstdio>
#include <sstream>

#include "app/cli/args.h"
#include "app/cli/commands.h"
#include "app/cli/terminal_progress.h"
#include "core/data/file_io.h"
#include "core/inspect/features.h"
#include "core/prune/prune_api.h"
#include "core/train/run_folder.h"

namespace scalelab::cli {

namespace {

std::atomic<bool> gStop{false};
extern "C" void onPruneInterrupt(int) {
    gStop.store(true);
}

std::vector<double> parseLevels(const std::string& text) {
    std::vector<double> out;
    std::stringstream ss(text);
    std::string item;
    while (std::getline(ss, item, ',')) {
        try {
            size_t used = 0;
            const double v = std::stod(item, &used);
            if (used != item.size()) {
                throw std::invalid_argument("trailing");
            }
            out.push_back(v);
        } catch (const std::exception&) {
            throw UsageError("--levels expects comma-separated fractions like 0,0.25,0.5, got '" +
                             text + "'");
        }
    }
    return out;
}

}  // namespace

int runPrune(const std::vector<std::string>& argv) {
    Args args(argv,
              {"run", "method", "levels", "finetune-epochs", "finetune-lr", "finetune-subset",
               "test-subset", "out", "save-model"},
              {"include-classifier", "per-stage"});
    if (!args.has("run") || !args.has("out")) {
        throw UsageError("prune needs --run DIR and --out FILE.csv");
    }
    requireNotRunFile(args.get("out"), "--out");
    PruneSweepOptions o;
    o.runDir = args.get("run");
    o.methods.clear();
    std::stringstream methods(args.get("method", "magnitude-global"));
    std::string m;
    while (std::getline(methods, m, ',')) {
        o.methods.push_back(pruneMethodFromName(m));
    }
    o.levels = parseLevels(args.get("levels", "0,0.25,0.5,0.75"));
    o.finetuneEpochs = args.getInt("finetune-epochs", 0, 0, 1000);
    o.finetuneLr = args.getDouble("finetune-lr", 0.01);
    o.finetuneSubset = args.getInt("finetune-subset", 0, 0, 100000000);
    o.testSubset = args.getInt("test-subset", 0, 0, 100000000);
    o.includeClassifier = args.flag("include-classifier");
    o.perStage = args.flag("per-stage");
    o.saveModelDir = args.get("save-model");
    std::signal(SIGINT, onPruneInterrupt);
    TerminalProgress bar("pruning");
    PruneHooks hooks;
    hooks.cancel = &gStop;
    hooks.progress = [&bar](int64_t done, int64_t total, const std::string& what) {
        bar.setLabel(what.empty() ? "pruning" : what);
        bar.callback()(done, total);
        return true;
    };
    // The CSV is rewritten (atomically) after every row: a kill, a full disk or Ctrl-C keeps
    // every row measured so far.
    const std::string csvPath = args.get("out");
    PruneSweepResult partial;
    hooks.row = [&bar, &partial, &csvPath](const PruneRow& r) {
        partial.rows.push_back(r);
        writeFileAtomic(csvPath, pruneResultToCsv(partial));
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
    writeFileAtomic(args.get("out"), pruneResultToCsv(res));
    std::printf("\nbaseline: acc %.2f%%, %lld MACs, %lld params, %.0f img/s inference\n",
                res.baselineAccuracy * 100, (long long)res.baselineMacs,
                (long long)res.baselineParams, res.baselineImagesPerSec);
    std::printf("%s: %zu rows written to %s\n", res.status.c_str(), res.rows.size(),
                args.get("out").c_str());
    return res.status == "completed" ? 0 : 130;
}

int runFeatures(const std::vector<std::string>& argv) {
    Args args(argv, {"run", "index", "image", "stage", "out", "class", "max-channels"},
              {"by-index"});
    if (!args.has("run") || !args.has("out")) {
        throw UsageError("features needs --run DIR, --index I or --image PATH, and --out DIR");
    }
    if (args.has("index") == args.has("image")) {
        throw UsageError("give exactly one of --index I and --image PATH");
    }
    FeatureRequest r;
    r.runDir = args.get("run");
    r.testIndex = args.getInt("index", 0, 0, 100000000);
    r.imagePath = args.get("image");
    r.stage = args.getInt("stage", 1, 0, 64);
    r.camClass = args.getInt("class", -1, -1, 100000);
    r.maxChannels = args.getInt("max-channels", 0, 0, 100000);
    r.sortByMean = !args.flag("by-index");
    const FeatureResult f = inspectFeatures(r);
    const auto paths = writeFeaturePngs(f, args.get("out"));
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

}  // namespace scalelab::cli
