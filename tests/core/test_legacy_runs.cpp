// Run folders written by ScaleLab 0.1 (before families were registered units, issue 9) still
// load, evaluate to the accuracy they recorded, train on with resume and prune. The folders in
// tests/data/legacy-runs/ were written by that release's scalelab-cli:
//   resnet-basic            resnet --blocks 1,1 --base-width 8, cancelled after epoch 1 of 3
//   efficientnet-tiny       efficientnet --width 0.1 --depth 0.1, completed (1 epoch)
//   *-pruned                `prune --method l1-structured --levels 0.5 --save-model`

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/data/file_io.h"
#include "core/models/analysis.h"
#include "core/models/arch_plan.h"
#include "core/models/model.h"
#include "core/models/spec_json.h"
#include "core/prune/pruning.h"
#include "core/train/run_loader.h"
#include "core/train/train_api.h"
#include "tests/core/test_util.h"

using namespace scalelab;
namespace fs = std::filesystem;

namespace {

const std::string kLegacy = SCALELAB_SOURCE_DIR "/tests/data/legacy-runs/";

nlohmann::json readJson(const std::string& path) {
    std::ifstream in(path);
    return nlohmann::json::parse(in);
}

bool haveFashion() {
    return fs::exists("/usr/share/datasets/fashion-mnist") || std::getenv("SCALELAB_DATA");
}

}  // namespace

TEST(LegacyRuns, ConfigsAndPlansOfTheLastReleaseBuildTheirWeights) {
    for (const char* run : {"resnet-basic", "efficientnet-tiny"}) {
        SCOPED_TRACE(run);
        const std::string dir = kLegacy + run;
        const ModelSpec spec = specFromJson(readJson(dir + "/config.json").at("model"));
        const nlohmann::json summary = readJson(dir + "/summary.json");
        EXPECT_EQ(analyzeModel(spec).params, summary.at("params").get<int64_t>());
        EXPECT_EQ(analyzeModel(spec).macs, summary.at("macs").get<int64_t>());
        ScaleModel model = buildModel(spec);
        EXPECT_NO_THROW(loadStateDictPickle(*model, dir + "/weights.pt"));
    }
    for (const char* run : {"resnet-basic-pruned", "efficientnet-tiny-pruned"}) {
        SCOPED_TRACE(run);
        const std::string dir = kLegacy + run;
        const ArchPlan plan = planFromJson(readJson(dir + "/plan.json"));
        EXPECT_TRUE(planIsPruned(plan));
        ScaleModel model = buildModelFromPlan(plan);
        EXPECT_NO_THROW(loadStateDictPickle(*model, dir + "/weights.pt"));
    }
}

TEST(LegacyRuns, EvaluateResumeAndPrune) {
    if (!haveFashion()) {
        GTEST_SKIP() << "Fashion-MNIST not installed";
    }
    // The completed run evaluates to exactly the accuracy it recorded.
    const nlohmann::json summary = readJson(kLegacy + "efficientnet-tiny/summary.json");
    const EvalResult eval = evaluateRun(kLegacy + "efficientnet-tiny");
    EXPECT_EQ(eval.count, summary.at("test").at("count").get<int64_t>());
    EXPECT_DOUBLE_EQ(eval.accuracy, summary.at("test_acc").get<double>());

    // The cancelled run trains on from epoch 1 to its planned 3.
    test::TempDir tmp;
    const std::string copy = tmp.file("resnet-basic");
    fs::copy(kLegacy + "resnet-basic", copy, fs::copy_options::recursive);
    const TrainSummary resumed = resumeRun(copy);
    EXPECT_TRUE(resumed.completed) << resumed.status;
    EXPECT_EQ(resumed.epochsDone, 3);
    EXPECT_EQ(resumed.history.size(), 3u);
    EXPECT_GT(resumed.test.count, 0);

    // And prunes.
    LoadedRun run = loadRun(kLegacy + "efficientnet-tiny");
    const StructuredPruneResult pruned = l1StructuredPrune(*run.model, 0.5, {});
    EXPECT_LT(pruned.plan.macs, run.model->plan().macs);
    const EvalResult after = evaluateModel(*pruned.model, *run.data, Part::Test,
                                           run.config.model.resolution, 128, run.device);
    EXPECT_EQ(after.count, eval.count);
}

// Issue 10, found by fuzz_checkpoint: a damaged checkpoint.pt whose TorchScript type section made
// LibTorch's parser crash (SEGV). The load is probed in a child process and refused cleanly.
TEST(LegacyRuns, ACheckpointThatCrashesLibTorchIsRefused) {
    test::TempDir dir;
    fs::copy_file(SCALELAB_SOURCE_DIR
                  "/tests/fuzz/regressions/checkpoint-torchscript-type-parser-segv.pt",
                  dir.file("checkpoint.pt"));
    ScaleModel model = buildModel(modelSpecFromName("resnet-cifar-8", 1, 10, 16));
    torch::optim::SGD opt(model->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
    try {
        loadCheckpoint(dir.path(), model, opt, torch::kCPU);
        FAIL() << "expected a DataError";
    } catch (const DataError& e) {
        EXPECT_NE(std::string(e.what()).find("checkpoint.pt: not a readable checkpoint"),
                  std::string::npos)
            << e.what();
    }
}

// Issue 10, found by fuzz_records (UBSan): "epochs": 6e64 was converted to int64 (undefined
// behaviour). Whole-number fields are now range-checked before any conversion.
TEST(LegacyRuns, HugeFloatsInRunRecordsAreRefusedNotConverted) {
    std::ifstream in(SCALELAB_SOURCE_DIR "/tests/fuzz/regressions/config-epochs-float-6e64.json");
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_THROW(trainConfigFromJson(text, "config.json"), DataError);
    EXPECT_THROW(evalResultFromJson(R"({"count": 1e300, "loss": 0, "accuracy": 0,
        "class_names": [], "per_class_accuracy": [], "confusion": []})",
                                    "summary.json"),
                 DataError);
    EXPECT_THROW(epochHistoryFromJson(R"([{"epoch": -1e999}])", "session.json"), DataError);
}
