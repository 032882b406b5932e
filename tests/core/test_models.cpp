// The model zoo: exact costs, scaling rules, impossible specs, every family trains.

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>

#include "core/data/file_io.h"
#include "core/error.h"
#include "core/models/analysis.h"
#include "core/models/arch_plan.h"
#include "core/models/model.h"
#include "core/models/model_spec.h"
#include "tests/core/test_util.h"

using namespace scalelab;

namespace {

ModelSpec preset(int b, int in = 3, int classes = 1000, int base = 224) {
    return modelSpecFromName("efficientnet-b" + std::to_string(b), in, classes, base);
}
ModelSpec named(const std::string& name, int in = 3, int classes = 0, int base = 0) {
    return modelSpecFromName(name, in, classes, base);
}
ModelSpec withParams(ModelSpec s, const ParamMap& params) {
    for (const auto& [k, v] : params) {
        s.params[k] = v;
    }
    validateSpec(s);
    return s;
}
Scaling manual(double w, double d, double r) {
    Scaling s;
    s.mode = Scaling::Mode::Manual;
    s.width = w;
    s.depth = d;
    s.resolution = r;
    return s;
}
Scaling compound(double phi) {
    Scaling s;
    s.mode = Scaling::Mode::Compound;
    s.phi = phi;
    return s;
}

template <typename Fn>
void expectSpecError(Fn fn, const std::string& fragment) {
    try {
        fn();
        FAIL() << "expected a SpecError mentioning '" << fragment << "'";
    } catch (const SpecError& e) {
        EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
}

}  // namespace

TEST(Analysis, MatchesThePublishedCountsExactly) {
    // Issue 3's examples (torchvision's parameter counts, conv + linear MACs).
    const ModelAnalysis b0 = analyzeModel(preset(0));
    EXPECT_EQ(b0.params, 5288548);
    EXPECT_EQ(b0.macs, 385814752);
    EXPECT_EQ(b0.flops(), 2 * 385814752LL);
    const ModelAnalysis r18 = analyzeModel(named("resnet-18"));
    EXPECT_EQ(r18.params, 11689512);
    EXPECT_EQ(r18.macs, 1814073344);
    const ModelAnalysis r50 = analyzeModel(named("resnet-50"));
    EXPECT_EQ(r50.params, 25557032);
    EXPECT_EQ(r50.macs, 4089184256);
}

TEST(Analysis, ParamsEqualTheBuiltModule) {
    std::vector<ModelSpec> specs = {preset(0),
                                    preset(3),
                                    preset(0, 1, 10, 32),
                                    named("resnet-18"),
                                    named("resnet-50"),
                                    named("resnet-cifar-20"),
                                    named("resnet-cifar-32", 1, 10, 28)};
    specs.push_back(withParams(named("resnet", 1, 7, 40), {{"blocks", std::vector<int>{1, 2}},
                                                           {"block", std::string("bottleneck")},
                                                           {"base_width", 24.0},
                                                           {"shortcut", std::string("zero-pad")}}));
    specs.push_back(applyScaling(named("efficientnet", 1, 10, 32), manual(0.37, 0.61, 1.3)));
    for (const ModelSpec& s : specs) {
        EXPECT_EQ(analyzeModel(s).params, buildModel(s)->parameterCount()) << describeSpec(s);
    }
}

TEST(Analysis, StagesAndLayersAddUp) {
    const ModelAnalysis a = analyzeModel(preset(3));
    int64_t params = 0, macs = 0;
    for (const StageCost& s : a.stages) {
        params += s.params;
        macs += s.macs;
    }
    EXPECT_EQ(params, a.params);
    EXPECT_EQ(macs, a.macs);
    ASSERT_EQ(a.stages.size(), 10u);  // stem, 7 stages, head, classifier
    EXPECT_EQ(a.stages[0].name, "stem");
    EXPECT_EQ(a.stages.back().name, "classifier");
    EXPECT_GT(a.trainingMemoryBytes(32), a.trainingMemoryBytes(1));
}

TEST(Analysis, IsFastEnoughForASlider) {
    const ModelSpec b7 = preset(7);
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 20; ++i) {
        analyzeModel(b7);
    }
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() /
        20;
    EXPECT_LT(ms, 5.0) << "B7 analysis took " << ms << " ms";
}

TEST(Analysis, EvaluationNeverNeedsMoreMemoryThanTheTrainingStep) {
    // Issue 13: a run checked to fit at its training batch must not run out of memory when it
    // evaluates at batch 500. At 32 px nothing changes; EfficientNet-B7 at 600 px trained 4 at a
    // time evaluates in smaller batches, within the training step's memory (or 256 MiB).
    const ModelAnalysis small = analyzeModel(modelSpecFromName("efficientnet-b0", 1, 10, 32));
    EXPECT_EQ(small.evalBatchWithin(500, 128), 500);
    const ModelAnalysis big = analyzeModel(modelSpecFromName("efficientnet-b7", 3, 1000, 600));
    const int64_t batch = big.evalBatchWithin(500, 4);
    EXPECT_GE(batch, 1);
    EXPECT_LT(batch, 500);
    const double budget =
        std::max(big.trainingMemoryBytes(4), double(ModelAnalysis::kEvalFloorBytes));
    EXPECT_LE(big.inferenceMemoryBytes(batch), budget);
    EXPECT_GT(big.inferenceMemoryBytes(batch + 1), budget);
    EXPECT_LE(big.evalBatchWithin(500, 1), batch);  // a smaller training step, a smaller budget
    EXPECT_EQ(big.evalBatchWithin(1, 4), 1);
    EXPECT_EQ(small.evalBatchWithin(1, 128), 1);
    // B7's largest output: its stem, 64 channels at 300 x 300, far above the 3 x 600 x 600 input.
    EXPECT_GE(big.largestActivationValues, int64_t(64) * 300 * 300);
    // EfficientNet-B0 at 64 px trained 128 at a time: evaluating 500 at once would need more
    // than the step (and raised a 256-image run's peak RSS from 0.71 to 0.85 GB); fewer fit.
    const ModelAnalysis b0at64 = analyzeModel(modelSpecFromName("efficientnet-b0", 1, 10, 64));
    const int64_t b0Batch = b0at64.evalBatchWithin(500, 128);
    EXPECT_LT(b0Batch, 500);
    EXPECT_GE(b0Batch, 128);
    EXPECT_LE(b0at64.inferenceMemoryBytes(b0Batch), b0at64.trainingMemoryBytes(128));
}

TEST(Scaling, RoundingRulesFollowTorchvision) {
    EXPECT_EQ(makeDivisible(35.2), 32);    // 32 * 1.1: nearest multiple of 8
    EXPECT_EQ(makeDivisible(38.4), 40);    // 32 * 1.2
    EXPECT_EQ(makeDivisible(17.6), 16);    // 16 * 1.1
    EXPECT_EQ(makeDivisible(4.0), 8);      // never below the divisor
    EXPECT_EQ(makeDivisible(20.0), 24);    // int(24)//8*8 = 24
    EXPECT_EQ(makeDivisible(100.0), 104);  // 96 is within 10 % but 104 is nearer (int(104)//8)
    EXPECT_EQ(roundRepeats(3, 1.4), 5);    // ceil
    EXPECT_EQ(roundRepeats(1, 1.1), 2);
    // EfficientNet-B3 (torchvision): stem 40; stages 24 32 48 96 136 232 384; head 1536.
    const ArchPlan b3 = planModel(preset(3));
    EXPECT_EQ(b3.stages[0].channels, 40);  // the stem
    std::vector<int> channels, repeats;
    for (size_t i = 1; i < b3.stages.size(); ++i) {
        channels.push_back(int(b3.stages[i].channels));
        repeats.push_back(b3.stages[i].repeats);
    }
    EXPECT_EQ(channels, (std::vector<int>{24, 32, 48, 96, 136, 232, 384}));
    EXPECT_EQ(repeats, (std::vector<int>{2, 3, 3, 5, 5, 6, 2}));
    EXPECT_EQ(b3.featureDim, 1536);
    EXPECT_EQ(b3.spec.resolution, 300);
    // SE squeeze = max(1, block input / 4): stage 2's first block takes 24 channels.
    int checked = 0;
    for (const PlanLayer& l : b3.layers) {
        if (l.kind == LayerKind::SqueezeExcite && l.path == "features.2.0.block.2") {
            EXPECT_EQ(l.squeeze, 24 / 4);
            ++checked;
        }
    }
    EXPECT_EQ(checked, 1);
}

TEST(Scaling, PresetsMatchThePaper) {
    const int res[] = {224, 240, 260, 300, 380, 456, 528, 600};
    const double dropout[] = {0.2, 0.2, 0.3, 0.3, 0.4, 0.4, 0.5, 0.5};
    for (int b = 0; b < 8; ++b) {
        const ModelSpec s = preset(b);
        EXPECT_EQ(s.resolution, res[b]);
        EXPECT_DOUBLE_EQ(s.number("dropout"), dropout[b]);
        EXPECT_EQ(s.name, "efficientnet-b" + std::to_string(b));
    }
    EXPECT_DOUBLE_EQ(preset(7).width, 2.0);
    EXPECT_DOUBLE_EQ(preset(7).depth, 3.1);
    // A 32 px base scales the presets' resolutions proportionally.
    EXPECT_EQ(preset(0, 1, 10, 32).resolution, 32);
    EXPECT_EQ(preset(7, 1, 10, 32).resolution, 86);  // 32 * 600 / 224 = 85.7
}

TEST(Scaling, CompoundPhiGivesPowersOfAlphaBetaGamma) {
    const ModelSpec one = applyScaling(preset(0), compound(1.0));
    EXPECT_DOUBLE_EQ(one.depth, 1.2);
    EXPECT_DOUBLE_EQ(one.width, 1.1);
    EXPECT_EQ(one.resolution, 258);  // 224 * 1.15 = 257.6
    EXPECT_NEAR(compoundFlopsBase(1.2, 1.1, 1.15), 1.920270, 1e-6);
    const ModelAnalysis base = analyzeModel(applyScaling(preset(0), compound(0)));
    EXPECT_EQ(base.macs, analyzeModel(preset(0)).macs);  // phi = 0 is B0
    const ModelAnalysis two = analyzeModel(applyScaling(preset(0), compound(2)));
    const double growth = double(two.macs) / double(base.macs);
    // Measured: 4.69x exact against 3.69x predicted. Ceil-rounded repeats (1.44 x 1 block = 2
    // blocks) and channel rounding make real models grow faster than (alpha*beta^2*gamma^2)^phi.
    EXPECT_GT(growth, std::pow(1.920270, 2));
    EXPECT_LT(growth, 1.4 * std::pow(1.920270, 2));
}

TEST(Specs, ImpossibleOnesAreRejectedBeforeAllocation) {
    const ModelSpec b0 = preset(0);
    expectSpecError([&] { applyScaling(b0, manual(1, 0, 1)); },
                    "depth coefficient = 0.000 must be positive");
    expectSpecError([&] { applyScaling(b0, manual(std::nan(""), 1, 1)); },
                    "width coefficient is NaN");
    expectSpecError([&] { applyScaling(b0, manual(-1, 1, 1)); }, "must be positive");
    expectSpecError([&] { applyScaling(b0, manual(1, 1, INFINITY)); },
                    "resolution coefficient is infinite");
    expectSpecError([&] { applyScaling(b0, compound(-0.5)); },
                    "phi = -0.500 must be a finite number >= 0");
    Scaling c = compound(1);
    c.gamma = 0;
    expectSpecError([&] { applyScaling(b0, c); }, "gamma");
    expectSpecError([&] { preset(0, 1, 10, 16); }, "too small");
    expectSpecError([&] { preset(8); }, "unknown model 'efficientnet-b8'");
    expectSpecError([&] { named("resnet-cifar-21"); }, "not 6n+2");
    const ModelSpec r18 = named("resnet-18");
    expectSpecError(
        [&] {
            withParams(r18, {{"blocks", std::vector<int>{2, 0, 2}}});
        },
        "Blocks per stage (blocks): value 2 = 0 is out of range (allowed: 1..8");
    expectSpecError([&] { withParams(r18, {{"groups", 32.0}}); }, "need bottleneck blocks");
    expectSpecError([&] { withParams(r18, {{"groups", 0.5}}); }, "must be a whole number");
    expectSpecError(
        [&] {
            withParams(r18, {{"block", std::string("triple")}});
        },
        "'triple' is not one of basic|bottleneck");
    expectSpecError(
        [&] {
            withParams(b0, {{"dropout", std::nan("")}});
        },
        "Dropout (dropout) is NaN");
    expectSpecError(
        [&] {
            withParams(b0, {{"groups", 2.0}});
        },
        "'groups' is not a parameter of efficientnet");
    expectSpecError(
        [&] {
            withParams(named("resnext50_32x4d"), {{"width_per_group", 1.0}});
            applyScaling(withParams(named("resnext50_32x4d"), {{"width_per_group", 1.0}}),
                         manual(0.1, 1, 1));
        },
        "rounds to 0 channels");
    expectSpecError([&] { named("resnet-19"); }, "unknown model");
    expectSpecError([&] { named("resnet-18", 0); }, "input channels");
    expectSpecError([&] { modelSpecFromName("vgg-16"); }, "unknown model");
    ModelSpec unknown = b0;
    unknown.family = "vgg";
    expectSpecError([&] { validateSpec(unknown); }, "family 'vgg' is not registered");
    // The check runs before buildModel allocates anything.
    ModelSpec bad = preset(0);
    bad.resolution = 8;
    EXPECT_THROW(buildModel(bad), SpecError);
}

TEST(Specs, CifarResNetsHaveThePapersSize) {
    // He et al. 2016, table 6 (option A shortcuts, 10 classes): 0.27M, 0.85M, 1.7M.
    const std::pair<int, double> expected[] = {{20, 0.27e6}, {56, 0.85e6}, {110, 1.7e6}};
    for (const auto& [layers, params] : expected) {
        const ModelAnalysis a = analyzeModel(named("resnet-cifar-" + std::to_string(layers)));
        EXPECT_NEAR(double(a.params), params, 0.02 * params) << "ResNet-" << layers;
    }
}

TEST(Specs, ResNetStemFollowsResolution) {
    // The stem's kernel tells: 7x7/2 + max-pool (ImageNet) or 3x3/1 (small inputs).
    auto stemKernel = [](const ModelSpec& s) { return planModel(s).layers.front().kernel; };
    EXPECT_EQ(stemKernel(named("resnet-18", 3, 10, 224)), 7);
    EXPECT_EQ(stemKernel(named("resnet-18", 1, 10, 32)), 3);
    EXPECT_EQ(
        stemKernel(withParams(named("resnet-18", 1, 10, 32), {{"stem", std::string("imagenet")}})),
        7);
}

// Every family: output shape, no NaN, every parameter receives a gradient.
TEST(Models, EveryFamilyTrains) {
    std::vector<ModelSpec> specs;
    specs.push_back(preset(0, 1, 10, 32));
    specs.push_back(applyScaling(named("efficientnet", 3, 5, 40), manual(0.25, 0.25, 1)));
    specs.push_back(named("resnet-cifar-8", 1, 10, 28));
    specs.push_back(withParams(named("resnet", 1, 10, 28),
                               {{"blocks", std::vector<int>{1, 1}}, {"base_width", 8.0}}));
    specs.push_back(withParams(named("resnet", 3, 4, 128),  // ImageNet stem
                               {{"blocks", std::vector<int>{1, 1, 1}},
                                {"block", std::string("bottleneck")},
                                {"base_width", 8.0}}));
    specs.push_back(named("resnet-18", 1, 10, 32));
    for (const ModelSpec& spec : specs) {
        SCOPED_TRACE(describeSpec(spec));
        torch::manual_seed(3);
        ScaleModel model = buildModel(spec);
        model->train();
        const auto x = torch::randn({4, spec.inChannels, spec.resolution, spec.resolution});
        const auto logits = model->forward(x);
        ASSERT_EQ(logits.sizes(), (std::vector<int64_t>{4, spec.numClasses}));
        ASSERT_FALSE(logits.isnan().any().item<bool>());
        const auto loss = torch::nn::functional::cross_entropy(
            logits, torch::tensor({0, 1, 2, 3}) % spec.numClasses);
        loss.backward();
        for (const auto& p : model->named_parameters()) {
            ASSERT_TRUE(p.value().grad().defined()) << p.key() << " has no gradient";
            EXPECT_FALSE(p.value().grad().isnan().any().item<bool>()) << p.key();
            EXPECT_GT(p.value().grad().abs().sum().item<double>(), 0.0)
                << p.key() << " gradient is zero";
        }
    }
}

TEST(Models, FeatureMapsHaveThePredictedShapes) {
    for (const ModelSpec& spec :
         {preset(0, 1, 10, 64), named("resnet-18", 3, 10, 128), named("resnet-cifar-20", 1, 10, 28),
          named("mobilenet-v2", 1, 10, 64)}) {
        SCOPED_TRACE(spec.name);
        ScaleModel model = buildModel(spec);
        model->eval();
        torch::NoGradGuard guard;
        const auto x = torch::randn({2, spec.inChannels, spec.resolution, spec.resolution});
        const FeatureOutputs f = model->forwardFeatures(x);
        const auto info = model->featureInfo();
        const ModelAnalysis a = analyzeModel(spec);
        ASSERT_EQ(f.stages.size(), info.size());
        for (size_t i = 0; i < info.size(); ++i) {
            EXPECT_EQ(f.stages[i].size(1), info[i].channels);
            const int64_t side = (spec.resolution + info[i].reduction - 1) / info[i].reduction;
            EXPECT_EQ(f.stages[i].size(2), side) << info[i].name;
            // The analysis' stage row predicts the same output.
            EXPECT_EQ(a.stages[i].outChannels, info[i].channels);
            EXPECT_EQ(a.stages[i].outHeight, f.stages[i].size(2));
        }
        EXPECT_EQ(f.logits.sizes(), (std::vector<int64_t>{2, 10}));
        EXPECT_TRUE(torch::allclose(f.logits, model->forward(x)));
    }
}

TEST(Models, StateDictRoundTripsThroughAPickle) {
    test::TempDir dir;
    const ModelSpec spec = named("resnet-cifar-8", 1, 10, 28);
    torch::manual_seed(1);
    ScaleModel a = buildModel(spec);
    torch::manual_seed(2);
    ScaleModel b = buildModel(spec);
    saveStateDictPickle(*a, dir.file("w.pt"));
    loadStateDictPickle(*b, dir.file("w.pt"));
    a->eval();
    b->eval();
    const auto x = torch::randn({2, 1, 28, 28});
    EXPECT_TRUE(torch::equal(a->forward(x), b->forward(x)));
    // A file for another model is refused with the keys named.
    ScaleModel other = buildModel(named("resnet-cifar-14", 1, 10, 28));
    try {
        loadStateDictPickle(*other, dir.file("w.pt"));
        FAIL() << "expected a DataError";
    } catch (const DataError& e) {
        EXPECT_NE(std::string(e.what()).find("missing layer1.1"), std::string::npos) << e.what();
    }
}

// Issue 10, found by fuzz_checkpoint: a weights file whose ZIP offsets point past its end made
// LibTorch's zip reader read out of bounds (heap-buffer-overflow under ASan). Now refused first.
TEST(Models, DamagedZipStructureIsRefusedBeforeLibTorchReadsIt) {
    ScaleModel model = buildModel(named("resnet-cifar-8", 1, 10, 16));
    const std::string found =
        SCALELAB_SOURCE_DIR "/tests/fuzz/regressions/weights-zip-offsets-past-end.pt";
    try {
        loadStateDictPickle(*model, found);
        FAIL() << "expected a DataError";
    } catch (const DataError& e) {
        EXPECT_NE(std::string(e.what()).find("not a readable PyTorch file"), std::string::npos)
            << e.what();
    }
    // Every truncation of a real file is refused the same way, never read past its end.
    test::TempDir dir;
    saveStateDictPickle(*model, dir.file("w.pt"));
    const std::vector<uint8_t> bytes = readFileBytes(dir.file("w.pt"));
    for (size_t keep : {size_t(0), size_t(21), bytes.size() / 2, bytes.size() - 1}) {
        test::writeBytes(dir.file("cut.pt"),
                         std::vector<uint8_t>(bytes.begin(), bytes.begin() + long(keep)));
        EXPECT_THROW(loadStateDictPickle(*model, dir.file("cut.pt")), DataError) << keep;
    }
}
