// Pruning and feature inspection on tiny models and a tiny trained run.

#include <gtest/gtest.h>

#include <numeric>

#include "core/data/dataset_spec.h"
#include "core/data/file_io.h"
#include "core/error.h"
#include "core/inspect/features.h"
#include "core/models/analysis.h"
#include "core/models/model.h"
#include "core/models/spec_json.h"
#include "core/prune/prune_api.h"
#include "core/prune/pruning.h"
#include "core/train/run_loader.h"
#include "core/train/train_api.h"
#include "tests/core/synthetic_data.h"
#include "tests/core/test_util.h"

using namespace scalelab;

namespace {

ModelSpec b0Small() {
    return modelSpecFromName("efficientnet-b0", 1, 10, 32);
}

}  // namespace

TEST(Prune, GlobalMagnitudeZeroesHalfAndMasksHoldThroughFineTuning) {
    torch::manual_seed(0);
    ScaleModel model = buildModel(modelSpecFromName("resnet-cifar-8", 1, 10, 28));
    const PruneScope scope;
    const MaskSet masks = magnitudePrune(*model, 0.5, /*global=*/true, scope);
    const SparsityReport before = measureSparsity(*model, scope);
    EXPECT_NEAR(before.sparsity(), 0.5, 0.005);
    EXPECT_GT(before.total, 70000);
    // Layers differ under one global threshold.
    double lo = 1, hi = 0;
    for (const auto& l : before.layers) {
        const double s = double(l.zeros) / double(l.total);
        lo = std::min(lo, s);
        hi = std::max(hi, s);
    }
    EXPECT_LT(lo, hi);
    // One SGD step with momentum and weight decay, then the masks: pruned weights stay zero.
    torch::optim::SGD opt(model->parameters(),
                          torch::optim::SGDOptions(0.1).momentum(0.9).weight_decay(5e-4));
    model->train();
    auto loss = torch::nn::functional::cross_entropy(model->forward(torch::randn({8, 1, 28, 28})),
                                                     torch::randint(10, {8}, torch::kInt64));
    loss.backward();
    opt.step();
    applyMasks(*model, masks);
    const SparsityReport after = measureSparsity(*model, scope);
    EXPECT_EQ(after.zeros, before.zeros);
    // The classifier is excluded unless asked for.
    for (const auto& l : before.layers) {
        EXPECT_NE(l.name, "fc.weight");
    }
}

TEST(Prune, LayerWiseMagnitudePrunesEveryLayerEqually) {
    torch::manual_seed(1);
    ScaleModel model = buildModel(modelSpecFromName("resnet-cifar-8", 1, 10, 28));
    PruneScope scope;
    scope.includeClassifier = true;
    magnitudePrune(*model, 0.3, /*global=*/false, scope);
    for (const auto& l : measureSparsity(*model, scope).layers) {
        EXPECT_NEAR(double(l.zeros) / double(l.total), 0.3, 1.0 / double(l.total) + 1e-9) << l.name;
    }
}

TEST(Prune, StructuredHalfOfResNet20AndB0RunsCostsLessAndReloads) {
    test::TempDir dir;
    for (const ModelSpec& spec : {modelSpecFromName("resnet-cifar-20", 1, 10, 32), b0Small()}) {
        SCOPED_TRACE(spec.name);
        torch::manual_seed(2);
        ScaleModel model = buildModel(spec);
        model->eval();
        const ModelAnalysis full = analyzeModel(spec);
        // Level 0 keeps every channel: the same function.
        const auto x = torch::randn({2, 1, 32, 32});
        const StructuredPruneResult same = l1StructuredPrune(*model, 0.0, {});
        same.model->eval();
        EXPECT_TRUE(torch::allclose(same.model->forward(x), model->forward(x), 1e-5, 1e-6));

        const StructuredPruneResult half = l1StructuredPrune(*model, 0.5, {});
        half.model->eval();
        const auto y = half.model->forward(x);
        EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, 10}));
        EXPECT_FALSE(y.isnan().any().item<bool>());
        const ModelAnalysis cut = analyzePlan(half.plan);
        EXPECT_EQ(cut.params, half.model->parameterCount());
        const double saved = 1.0 - double(cut.macs) / double(full.macs);
        EXPECT_GE(saved, 0.40) << "MACs " << full.macs << " -> " << cut.macs;
        EXPECT_TRUE(planIsPruned(half.plan));
        // Saved weights + plan reload into an identical model.
        TrainConfig c;
        c.model = spec;
        const std::string out = dir.file(spec.name);
        saveModelRecord(*half.model, c, out);
        const auto planBytes = readFileBytes(out + "/plan.json");
        ScaleModel again = buildModelFromPlan(
            planFromJson(nlohmann::json::parse(std::string(planBytes.begin(), planBytes.end()))));
        loadStateDictPickle(*again, out + "/weights.pt");
        again->eval();
        EXPECT_TRUE(torch::allclose(again->forward(x), y, 1e-5, 1e-6));
    }
}

// On generated data (tests/core/synthetic_data.h): no Fashion-MNIST needed, never skipped.
TEST(Prune, SweepAndFeaturesOnATrainedRun) {
    test::SyntheticOptions so;
    so.train = 1600;
    so.test = 300;
    const auto ds = test::syntheticDataset(so);
    test::TempDir dir;
    TrainConfig c;
    c.dataset = "synthetic";
    c.model = modelSpecFromName("resnet-cifar-8", 1, 10, 28);
    c.epochs = 1;
    c.batchSize = 64;
    c.lr = 0.05;
    c.split.trainSubset = 1500;
    c.split.valFraction = 0.01;
    c.split.testSubset = 300;
    c.threads = 2;
    const TrainSummary s = trainRun(c, dir.file("run"), {}, ds);
    ASSERT_TRUE(s.completed);

    PruneSweepOptions o;
    o.runDir = dir.file("run");
    o.methods = {PruneMethod::MagnitudeGlobal, PruneMethod::L1Structured};
    o.levels = {0.0, 0.5};
    o.finetuneEpochs = 1;
    o.finetuneSubset = 512;
    o.perStage = true;
    o.saveModelDir = dir.file("pruned");
    int rowsSeen = 0;
    PruneHooks hooks;
    hooks.row = [&](const PruneRow&) { ++rowsSeen; };
    const PruneSweepResult r = runPruneSweep(o, hooks, ds);
    EXPECT_EQ(r.status, "completed");
    ASSERT_EQ(r.rows.size(), 2u * 2u * 4u);  // methods x levels x (all + 3 stages)
    EXPECT_EQ(rowsSeen, 16);
    EXPECT_NEAR(r.rows[0].accuracy, r.baselineAccuracy, 1e-9);  // level 0 = the trained model
    for (const PruneRow& row : r.rows) {
        EXPECT_GE(row.finetunedAccuracy, 0.0);
        EXPECT_TRUE(fileExists(row.modelDir + "/weights.pt")) << row.modelDir;
    }
    // Fine-tuning runs the training loop with the masks as its after-step hook: the saved
    // magnitude-pruned model is still half zeros after its fine-tuning epoch.
    ASSERT_EQ(r.rows[1].method, "magnitude-global");
    LoadedRun tuned = loadRun(r.rows[1].modelDir, ds);
    EXPECT_NEAR(measureSparsity(*tuned.model, PruneScope{}).sparsity(), 0.5, 0.01);
    EXPECT_FALSE(r.cancelled);
    // The saved structured model evaluates like the sweep measured it before fine-tuning... after
    // fine-tuning its weights changed, so only check it loads and evaluates.
    LoadedRun saved = loadRun(r.rows[3].modelDir, ds);
    const EvalResult e =
        evaluateModel(*saved.model, *saved.data, Part::Test, 28, 100, saved.device);
    EXPECT_EQ(e.count, 300);
    EXPECT_NE(pruneResultToCsv(r).find("l1-structured,0.5000,\"all\""), std::string::npos);

    // Feature maps: each stage's shape is what the analysis predicts.
    const ModelAnalysis a = analyzeModel(c.model);
    for (int stage = 0; stage <= 3; ++stage) {
        FeatureRequest fr;
        fr.runDir = dir.file("run");
        fr.testIndex = 5;
        fr.stage = stage;
        const FeatureResult f = inspectFeatures(fr, ds);
        EXPECT_EQ(f.stageChannels, a.stages[size_t(stage)].outChannels);
        EXPECT_EQ(f.mapHeight, a.stages[size_t(stage)].outHeight);
        EXPECT_EQ(int64_t(f.channels.size()), f.stageChannels);
        EXPECT_EQ(f.channels[0].values.size(), size_t(f.mapHeight * f.mapWidth));
        EXPECT_GE(f.channels[0].mean, f.channels.back().mean);  // sorted by mean
        EXPECT_NEAR(std::accumulate(f.probabilities.begin(), f.probabilities.end(), 0.0), 1.0,
                    1e-5);
        EXPECT_EQ(f.cam.size(), size_t(28 * 28));
    }
    // Grad-CAM differs by class.
    FeatureRequest fr;
    fr.runDir = dir.file("run");
    fr.testIndex = 0;
    fr.stage = 2;
    fr.camClass = 0;
    const FeatureResult f0 = inspectFeatures(fr, ds);
    fr.camClass = 9;
    const FeatureResult f9 = inspectFeatures(fr, ds);
    double diff = 0;
    for (size_t i = 0; i < f0.cam.size(); ++i) {
        diff += std::abs(f0.cam[i] - f9.cam[i]);
    }
    EXPECT_GT(diff / double(f0.cam.size()), 0.01) << "Grad-CAM of class 0 and 9 should differ";
    // PNGs.
    const auto paths = writeFeaturePngs(f0, dir.file("pngs"));
    ASSERT_EQ(paths.size(), 3u);
    for (const auto& p : paths) {
        EXPECT_GT(readFileBytes(p).size(), 100u) << p;
    }
    // A bad request names the problem.
    fr.testIndex = 999999;
    EXPECT_THROW(inspectFeatures(fr, ds), SpecError);
    fr.testIndex = 0;
    fr.imagePath = dir.file("missing.png");
    EXPECT_THROW(inspectFeatures(fr, ds), DataError);
}
