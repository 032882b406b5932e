// The model zoo: exact costs, scaling rules, impossible specs, every family trains.

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>

#include "core/error.h"
#include "core/models/analysis.h"
#include "core/models/model.h"
#include "core/models/model_spec.h"
#include "tests/core/test_util.h"

using namespace scalelab;

namespace {

ModelSpec preset(int b, int in = 3, int classes = 1000, int base = 224) {
    EfficientNetScaling s;
    s.mode = EfficientNetScaling::Mode::Preset;
    s.preset = b;
    s.baseResolution = base;
    return efficientNetSpec(s, in, classes);
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
    const ModelAnalysis r18 = analyzeModel(resNetPreset(18));
    EXPECT_EQ(r18.params, 11689512);
    EXPECT_EQ(r18.macs, 1814073344);
    const ModelAnalysis r50 = analyzeModel(resNetPreset(50));
    EXPECT_EQ(r50.params, 25557032);
    EXPECT_EQ(r50.macs, 4089184256);
}

TEST(Analysis, ParamsEqualTheBuiltModule) {
    std::vector<ModelSpec> specs = {
        preset(0),        preset(3),       preset(0, 1, 10, 32),      resNetPreset(18),
        resNetPreset(50), resNetCifar(20), resNetCifar(32, 1, 10, 28)};
    ModelSpec custom = resNetCustom({1, 2}, BlockType::Bottleneck, 24, 1, 7, 40);
    custom.shortcut = Shortcut::ZeroPad;
    specs.push_back(custom);
    EfficientNetScaling manual;
    manual.mode = EfficientNetScaling::Mode::Manual;
    manual.width = 0.37;
    manual.depth = 0.61;
    manual.resolution = 1.3;
    manual.baseResolution = 32;
    specs.push_back(efficientNetSpec(manual, 1, 10));
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
    EXPECT_EQ(b3.stemOut, 40);
    std::vector<int> channels, repeats;
    for (const auto& st : b3.stages) {
        channels.push_back(st.outChannels);
        repeats.push_back(st.repeats);
    }
    EXPECT_EQ(channels, (std::vector<int>{24, 32, 48, 96, 136, 232, 384}));
    EXPECT_EQ(repeats, (std::vector<int>{2, 3, 3, 5, 5, 6, 2}));
    EXPECT_EQ(b3.headOut, 1536);
    EXPECT_EQ(b3.spec.resolution, 300);
    // SE squeeze = max(1, block input / 4); stochastic depth grows linearly from 0.
    EXPECT_EQ(b3.stages[1].mbconv[0].squeeze, 24 / 4);
    EXPECT_DOUBLE_EQ(b3.stages[0].mbconv[0].dropProb, 0.0);
    EXPECT_GT(b3.stages[6].mbconv[1].dropProb, b3.stages[6].mbconv[0].dropProb);
    EXPECT_LT(b3.stages[6].mbconv[1].dropProb, 0.2);
}

TEST(Scaling, PresetsMatchThePaper) {
    const int res[] = {224, 240, 260, 300, 380, 456, 528, 600};
    const double dropout[] = {0.2, 0.2, 0.3, 0.3, 0.4, 0.4, 0.5, 0.5};
    for (int b = 0; b < 8; ++b) {
        const ModelSpec s = preset(b);
        EXPECT_EQ(s.resolution, res[b]);
        EXPECT_DOUBLE_EQ(s.dropout, dropout[b]);
        EXPECT_EQ(s.name, "efficientnet-b" + std::to_string(b));
    }
    EXPECT_DOUBLE_EQ(preset(7).width, 2.0);
    EXPECT_DOUBLE_EQ(preset(7).depth, 3.1);
    // A 32 px base scales the presets' resolutions proportionally.
    EXPECT_EQ(preset(0, 1, 10, 32).resolution, 32);
    EXPECT_EQ(preset(7, 1, 10, 32).resolution, 86);  // 32 * 600 / 224 = 85.7
}

TEST(Scaling, CompoundPhiGivesPowersOfAlphaBetaGamma) {
    EfficientNetScaling s;
    s.mode = EfficientNetScaling::Mode::Compound;
    s.phi = 1.0;
    const ModelSpec one = efficientNetSpec(s);
    EXPECT_DOUBLE_EQ(one.depth, 1.2);
    EXPECT_DOUBLE_EQ(one.width, 1.1);
    EXPECT_EQ(one.resolution, 258);  // 224 * 1.15 = 257.6
    EXPECT_NEAR(compoundFlopsBase(1.2, 1.1, 1.15), 1.920270, 1e-6);
    s.phi = 0;
    const ModelAnalysis base = analyzeModel(efficientNetSpec(s));
    EXPECT_EQ(base.macs, analyzeModel(preset(0)).macs);  // phi = 0 is B0
    s.phi = 2;
    const ModelAnalysis two = analyzeModel(efficientNetSpec(s));
    const double growth = double(two.macs) / double(base.macs);
    // Measured: 4.69x exact against 3.69x predicted. Ceil-rounded repeats (1.44 x 1 block = 2
    // blocks) and channel rounding make real models grow faster than (alpha*beta^2*gamma^2)^phi.
    EXPECT_GT(growth, std::pow(1.920270, 2));
    EXPECT_LT(growth, 1.4 * std::pow(1.920270, 2));
}

TEST(Specs, ImpossibleOnesAreRejectedBeforeAllocation) {
    EfficientNetScaling m;
    m.mode = EfficientNetScaling::Mode::Manual;
    m.depth = 0;
    expectSpecError([&] { efficientNetSpec(m); }, "depth coefficient = 0.000 must be positive");
    m.depth = 1;
    m.width = std::nan("");
    expectSpecError([&] { efficientNetSpec(m); }, "width coefficient is NaN");
    m.width = -1;
    expectSpecError([&] { efficientNetSpec(m); }, "must be positive");
    EfficientNetScaling c;
    c.mode = EfficientNetScaling::Mode::Compound;
    c.phi = -0.5;
    expectSpecError([&] { efficientNetSpec(c); }, "phi = -0.500 must be a finite number >= 0");
    c.phi = 1;
    c.gamma = 0;
    expectSpecError([&] { efficientNetSpec(c); }, "gamma");
    expectSpecError([&] { preset(0, 1, 10, 16); }, "too small");
    expectSpecError([&] { preset(8); }, "B8 does not exist");
    expectSpecError([&] { resNetCifar(21); }, "not 6n+2");
    expectSpecError([&] { resNetCustom({2, 0, 2}, BlockType::Basic); }, "stage 2 has 0 blocks");
    expectSpecError([&] { resNetPreset(19); }, "not a preset");
    expectSpecError([&] { resNetPreset(18, 0); }, "input channels");
    expectSpecError([&] { modelSpecFromName("vgg-16"); }, "unknown model");
    // The check runs before buildModel allocates anything.
    ModelSpec bad = preset(0);
    bad.resolution = 8;
    EXPECT_THROW(buildModel(bad), SpecError);
}

TEST(Specs, CifarResNetsHaveThePapersSize) {
    // He et al. 2016, table 6 (option A shortcuts, 10 classes): 0.27M, 0.85M, 1.7M.
    const std::pair<int, double> expected[] = {{20, 0.27e6}, {56, 0.85e6}, {110, 1.7e6}};
    for (const auto& [layers, params] : expected) {
        const ModelAnalysis a = analyzeModel(resNetCifar(layers));
        EXPECT_NEAR(double(a.params), params, 0.02 * params) << "ResNet-" << layers;
    }
}

TEST(Specs, ResNetStemFollowsResolution) {
    EXPECT_EQ(effectiveStem(resNetPreset(18, 3, 10, 224)), StemType::ImageNet);
    EXPECT_EQ(effectiveStem(resNetPreset(18, 1, 10, 32)), StemType::Small);
    ModelSpec forced = resNetPreset(18, 1, 10, 32);
    forced.stem = StemType::ImageNet;
    EXPECT_EQ(effectiveStem(forced), StemType::ImageNet);
}

// Every family: output shape, no NaN, every parameter receives a gradient.
TEST(Models, EveryFamilyTrains) {
    std::vector<ModelSpec> specs;
    specs.push_back(preset(0, 1, 10, 32));
    EfficientNetScaling m;
    m.mode = EfficientNetScaling::Mode::Manual;
    m.width = 0.25;
    m.depth = 0.25;
    m.baseResolution = 40;
    specs.push_back(efficientNetSpec(m, 3, 5));
    specs.push_back(resNetCifar(8, 1, 10, 28));
    specs.push_back(resNetCustom({1, 1}, BlockType::Basic, 8, 1, 10, 28));
    specs.push_back(resNetCustom({1, 1, 1}, BlockType::Bottleneck, 8, 3, 4, 128));  // ImageNet stem
    ModelSpec r18 = resNetPreset(18, 1, 10, 32);
    specs.push_back(r18);
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
         {preset(0, 1, 10, 64), resNetPreset(18, 3, 10, 128), resNetCifar(20, 1, 10, 28)}) {
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
    const ModelSpec spec = resNetCifar(8, 1, 10, 28);
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
    ScaleModel other = buildModel(resNetCifar(14, 1, 10, 28));
    try {
        loadStateDictPickle(*other, dir.file("w.pt"));
        FAIL() << "expected a DataError";
    } catch (const DataError& e) {
        EXPECT_NE(std::string(e.what()).find("missing layer1.1"), std::string::npos) << e.what();
    }
}
