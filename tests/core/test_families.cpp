// Every registered family and every preset, through the registry only (issue 9): plan totals
// equal the built module, every parameter sits in a plan layer, forward and one training step
// at the smallest accepted resolution, JSON round-trips, 50 % structured pruning builds, runs
// and reloads, and the biggest preset's analysis takes < 5 ms. A new family is covered by
// registering it: nothing here names one.

#include <gtest/gtest.h>

#include <chrono>
#include <map>

#include "core/error.h"
#include "core/models/analysis.h"
#include "core/models/arch_plan.h"
#include "core/models/family.h"
#include "core/models/model.h"
#include "core/models/spec_json.h"
#include "core/prune/pruning.h"
#include "tests/core/test_util.h"

using namespace scalelab;

namespace {

// The family's default preset made small: w 0.25, d 0.25, 1 channel, 10 classes, at the
// smallest input side the family accepts.
ModelSpec smallest(const ModelFamily& f) {
    Scaling s;
    s.mode = Scaling::Mode::Manual;
    s.width = 0.25;
    s.depth = 0.25;
    for (int side = 1; side <= 256; ++side) {
        try {
            return applyScaling(modelSpecFromName(f.id, 1, 10, side), s);
        } catch (const SpecError&) {
        }
    }
    ADD_FAILURE() << f.id << " accepts no resolution up to 256 px";
    return {};
}

}  // namespace

TEST(Families, RegistryIsConsistent) {
    ASSERT_GE(families().size(), 3u);
    for (const ModelFamily* f : families()) {
        SCOPED_TRACE(f->id);
        EXPECT_EQ(findFamily(f->id), f);
        EXPECT_FALSE(f->label.empty());
        EXPECT_FALSE(f->presets.empty());
        for (const ParamDecl& d : f->params) {
            EXPECT_NO_THROW(checkParam(d, d.def, f->id + ": ")) << d.key << " default";
            EXPECT_FALSE(d.meaning.empty()) << d.key;
        }
        EXPECT_EQ(modelSpecFromName(f->id).family, f->id);
    }
}

TEST(Families, EveryPresetPlansExactlyWhatIsBuilt) {
    for (const ModelFamily* f : families()) {
        for (const PresetDecl& p : f->presets) {
            SCOPED_TRACE(p.name);
            const ModelSpec spec = modelSpecFromName(p.name, 3, 10);
            const ArchPlan plan = planModel(spec);
            ScaleModel model = buildModelFromPlan(plan);
            EXPECT_EQ(plan.params, model->parameterCount());
            // Every parameter lives in a plan layer of that path, with its count.
            std::map<const PlanLayer*, int64_t> counted;
            for (const auto& param : model->named_parameters()) {
                const PlanLayer* l = plan.layerOfParam(param.key());
                ASSERT_NE(l, nullptr) << param.key() << " is in no plan layer";
                counted[l] += param.value().numel();
            }
            for (const auto& [layer, n] : counted) {
                EXPECT_EQ(layer->params, n) << layer->path;
            }
            // Stage outputs recorded once: channels and side as the module computes them.
            EXPECT_EQ(plan.stages.front().index, 0);
            EXPECT_EQ(plan.stages.back().channels,
                      plan.blocks.back().out);  // the last stage ends with the last block
        }
    }
}

TEST(Families, ForwardAndOneTrainingStepAtTheSmallestResolution) {
    for (const ModelFamily* f : families()) {
        const ModelSpec spec = smallest(*f);
        SCOPED_TRACE(describeSpec(spec));
        // One pixel less is refused before any tensor exists.
        ModelSpec tooSmall = spec;
        tooSmall.resolution -= 1;
        if (tooSmall.resolution >= 1) {
            EXPECT_THROW(validateSpec(tooSmall), SpecError);
        }
        torch::manual_seed(5);
        ScaleModel model = buildModel(spec);
        model->train();
        torch::optim::SGD opt(model->parameters(), torch::optim::SGDOptions(0.01));
        const auto x = torch::randn({2, 1, spec.resolution, spec.resolution});
        const auto logits = model->forward(x);
        ASSERT_EQ(logits.sizes(), (std::vector<int64_t>{2, 10}));
        const auto loss = torch::nn::functional::cross_entropy(logits, torch::tensor({1, 7}));
        loss.backward();
        for (const auto& p : model->named_parameters()) {
            ASSERT_TRUE(p.value().grad().defined()) << p.key();
            EXPECT_TRUE(torch::isfinite(p.value().grad()).all().item<bool>()) << p.key();
        }
        opt.step();
        // Stage outputs match the plan's record.
        model->eval();
        torch::NoGradGuard guard;
        const FeatureOutputs fo = model->forwardFeatures(x);
        ASSERT_EQ(fo.stages.size(), model->plan().stages.size());
        for (size_t i = 0; i < fo.stages.size(); ++i) {
            EXPECT_EQ(fo.stages[i].size(1), model->plan().stages[i].channels) << i;
            EXPECT_EQ(fo.stages[i].size(2), model->plan().stages[i].side) << i;
        }
    }
}

TEST(Families, SpecAndPlanJsonRoundTrip) {
    for (const ModelFamily* f : families()) {
        for (const PresetDecl& p : f->presets) {
            SCOPED_TRACE(p.name);
            const ModelSpec spec = applyScaling(modelSpecFromName(p.name, 1, 10, 64), [] {
                Scaling s;
                s.mode = Scaling::Mode::Compound;
                s.phi = 0.5;
                return s;
            }());
            const auto j = specToJson(spec);
            const ModelSpec back = specFromJson(nlohmann::json::parse(j.dump()));
            EXPECT_EQ(specToJson(back).dump(), j.dump());
            EXPECT_EQ(analyzeModel(back).macs, analyzeModel(spec).macs);
        }
    }
}

TEST(Families, StructuredPruningHalvesBuildsRunsAndReloads) {
    test::TempDir dir;
    for (const ModelFamily* f : families()) {
        const ModelSpec spec = smallest(*f);
        SCOPED_TRACE(describeSpec(spec));
        torch::manual_seed(2);
        ScaleModel model = buildModel(spec);
        model->eval();
        const StructuredPruneResult r = l1StructuredPrune(*model, 0.5, {});
        EXPECT_GT(r.removedChannelFraction, 0.3);
        EXPECT_TRUE(planIsPruned(r.plan));
        EXPECT_LT(r.plan.macs, model->plan().macs);
        EXPECT_EQ(r.plan.params, r.model->parameterCount());
        r.model->eval();
        torch::NoGradGuard guard;
        const auto x = torch::randn({2, 1, spec.resolution, spec.resolution});
        const auto y = r.model->forward(x);
        EXPECT_TRUE(torch::isfinite(y).all().item<bool>());
        // Reload from plan JSON + state dict: the same outputs.
        const std::string w = dir.file(f->id + ".pt");
        saveStateDictPickle(*r.model, w);
        const ArchPlan again = planFromJson(nlohmann::json::parse(planToJson(r.plan).dump()));
        ScaleModel reloaded = buildModelFromPlan(again);
        loadStateDictPickle(*reloaded, w);
        reloaded->eval();
        EXPECT_TRUE(torch::allclose(reloaded->forward(x), y));
    }
}

TEST(Families, BiggestPresetAnalysesInUnder5ms) {
    for (const ModelFamily* f : families()) {
        ModelSpec biggest;
        int64_t macs = -1;
        for (const PresetDecl& p : f->presets) {
            const ModelSpec s = modelSpecFromName(p.name);
            const int64_t m = analyzeModel(s).macs;
            if (m > macs) {
                macs = m;
                biggest = s;
            }
        }
        const auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < 20; ++i) {
            analyzeModel(biggest);
        }
        const double ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count() /
            20;
        EXPECT_LT(ms, 5.0) << biggest.name << " took " << ms << " ms";
        std::printf("[ analysis ] %-18s %-20s %.3f ms\n", f->id.c_str(), biggest.name.c_str(), ms);
    }
}

TEST(Families, CompoundScalingWorksForEveryFamily) {
    for (const ModelFamily* f : families()) {
        SCOPED_TRACE(f->id);
        const ModelSpec base = modelSpecFromName(f->id);
        Scaling s;
        s.mode = Scaling::Mode::Compound;
        s.phi = 1;
        const ModelSpec one = applyScaling(base, s);
        EXPECT_DOUBLE_EQ(one.width, base.width * 1.1);
        EXPECT_DOUBLE_EQ(one.depth, base.depth * 1.2);
        EXPECT_EQ(one.resolution, 258);  // 224 * 1.15
        const double growth = double(analyzeModel(one).macs) / double(analyzeModel(base).macs);
        // Rounding (channels to multiples of 8, repeats up) keeps it near the prediction 1.92.
        EXPECT_GT(growth, 1.5);
        EXPECT_LT(growth, 3.0);
        // Width only grows every stage's channels by the family's rounding rule.
        Scaling w;
        w.mode = Scaling::Mode::Manual;
        w.width = 2.0;
        const ArchPlan wide = planModel(applyScaling(base, w));
        const ArchPlan narrow = planModel(base);
        for (size_t i = 1; i < narrow.stages.size(); ++i) {
            EXPECT_EQ(wide.stages[i].channels, 2 * narrow.stages[i].channels) << i;
            EXPECT_EQ(wide.stages[i].repeats, narrow.stages[i].repeats) << i;
        }
    }
}
