// The measured choice of memory layout and depthwise kernel (core/train/kernel_choice.h): what
// is timed, what the cache keeps and refuses, and that a model runs what was chosen.

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

#include "core/models/arch_plan.h"
#include "core/models/inference_net.h"
#include "core/models/layers.h"
#include "core/models/model.h"
#include "core/progress.h"
#include "core/train/kernel_choice.h"
#include "tests/core/test_util.h"

using namespace scalelab;

namespace {

// EfficientNet-B0 at a quarter width and 32 px: depthwise layers, milliseconds a step.
ArchPlan tinyEfficientNet() {
    ModelSpec s = modelSpecFromName("efficientnet-b0", 1, 10, 32);
    s.width = 0.25;
    s.depth = 0.25;
    return planModel(s);
}

KernelRequest request(const ArchPlan& plan, const std::string& cache) {
    KernelRequest r;
    r.plan = plan;
    r.batchSize = 8;
    r.threads = 1;
    r.cacheFile = cache;
    r.timedSteps = 1;
    return r;
}

nlohmann::json readJson(const std::string& path) {
    std::ifstream in(path);
    return nlohmann::json::parse(in);
}

}  // namespace

TEST(KernelChoice, FixedByFlagsMeasuresNothing) {
    test::TempDir dir;
    KernelRequest r = request(tinyEfficientNet(), dir.file("kernels.json"));
    r.layout = LayoutChoice::Nchw;
    r.depthwise = DepthwiseChoice::LibTorch;
    const KernelChoice c = chooseKernels(r);
    EXPECT_EQ(c.source, "flags");
    EXPECT_FALSE(c.channelsLast);
    EXPECT_FALSE(c.fastDepthwise);
    EXPECT_TRUE(c.timings.empty());
    EXPECT_FALSE(std::filesystem::exists(dir.file("kernels.json")));
    // A model without depthwise layers has nothing to choose there: the layout alone decides.
    KernelRequest resnet = request(planModel(modelSpecFromName("resnet-cifar-8", 1, 10, 16)),
                                   dir.file("kernels.json"));
    resnet.layout = LayoutChoice::ChannelsLast;
    const KernelChoice rc = chooseKernels(resnet);
    EXPECT_EQ(rc.source, "flags");
    EXPECT_TRUE(rc.channelsLast);
}

TEST(KernelChoice, MeasuresEveryCandidateOnceThenReadsTheCache) {
    test::TempDir dir;
    const std::string cache = dir.file("sub/kernels.json");  // the folder is created
    const KernelRequest r = request(tinyEfficientNet(), cache);
    std::vector<std::pair<int64_t, int64_t>> progress;
    const KernelChoice first = chooseKernels(r, [&](int64_t done, int64_t total) {
        progress.emplace_back(done, total);
        return true;
    });
    EXPECT_EQ(first.source, "measured");
    ASSERT_EQ(first.timings.size(), 4u);  // {NCHW, channels-last} x {ours, LibTorch's}
    double best = 1e300;
    for (const KernelTiming& t : first.timings) {
        EXPECT_GT(t.msPerStep, 0);
        EXPECT_EQ(t.batch, 8);
        best = std::min(best, t.msPerStep);
    }
    // A candidate cut after its warm-up was already over 1.5 x the best.
    for (const KernelTiming& t : first.timings) {
        if (t.cut) {
            EXPECT_GT(t.msPerStep, 1.5 * best);
        }
    }
    // The choice is the fastest candidate.
    for (const KernelTiming& t : first.timings) {
        if (t.channelsLast == first.channelsLast && t.fastDepthwise == first.fastDepthwise) {
            EXPECT_EQ(t.msPerStep, best);
        }
    }
    ASSERT_FALSE(progress.empty());
    EXPECT_EQ(progress.front(), std::make_pair(int64_t(0), int64_t(4)));
    EXPECT_EQ(progress.back(), std::make_pair(int64_t(4), int64_t(4)));
    EXPECT_TRUE(first.note.empty()) << first.note;

    // The key names the machine, threads, LibTorch, mode and batch.
    EXPECT_NE(first.key.find(cpuModelName()), std::string::npos) << first.key;
    EXPECT_NE(first.key.find("1 threads"), std::string::npos) << first.key;
    EXPECT_NE(first.key.find("train"), std::string::npos) << first.key;
    EXPECT_TRUE(readJson(cache)["entries"].contains(first.key));

    const KernelChoice again = chooseKernels(r);
    EXPECT_EQ(again.source, "cache");
    EXPECT_EQ(again.channelsLast, first.channelsLast);
    EXPECT_EQ(again.fastDepthwise, first.fastDepthwise);
    ASSERT_EQ(again.timings.size(), 4u);
    EXPECT_EQ(again.timings[0].msPerStep, first.timings[0].msPerStep);

    // Another thread count, mode or batch is another machine state: measured, both kept.
    KernelRequest other = r;
    other.threads = 2;
    EXPECT_EQ(chooseKernels(other).source, "measured");
    other = r;
    other.training = false;
    EXPECT_EQ(chooseKernels(other).source, "measured");
    other = r;
    other.batchSize = 4;
    EXPECT_EQ(chooseKernels(other).source, "measured");
    EXPECT_EQ(readJson(cache)["entries"].size(), 4u);
    EXPECT_EQ(chooseKernels(r).source, "cache");
}

TEST(KernelChoice, OneFlagLeavesTheOtherChoiceToMeasure) {
    test::TempDir dir;
    KernelRequest r = request(tinyEfficientNet(), dir.file("kernels.json"));
    r.layout = LayoutChoice::ChannelsLast;
    const KernelChoice c = chooseKernels(r);
    EXPECT_EQ(c.source, "measured");
    ASSERT_EQ(c.timings.size(), 2u);
    for (const KernelTiming& t : c.timings) {
        EXPECT_TRUE(t.channelsLast);
    }
    EXPECT_TRUE(c.channelsLast);
    // No depthwise layers: two candidates (the layouts), our kernel nominally.
    KernelRequest resnet = request(planModel(modelSpecFromName("resnet-cifar-8", 1, 10, 16)),
                                   dir.file("kernels.json"));
    const KernelChoice rc = chooseKernels(resnet);
    ASSERT_EQ(rc.timings.size(), 2u);
    EXPECT_NE(rc.timings[0].channelsLast, rc.timings[1].channelsLast);
}

TEST(KernelChoice, InferenceOfAResNetAlsoTimesOneDnnsBlockedLayoutAndWinograd) {
    test::TempDir dir;
    ModelSpec s = modelSpecFromName("resnet-18", 1, 10, 16);
    s.width = 0.25;
    const ArchPlan plan = planModel(s);
    KernelRequest r = request(plan, dir.file("kernels.json"));
    r.training = false;
    const KernelChoice c = chooseKernels(r);
    // NCHW, channels-last, blocked, and oneDNN's Winograd where this build and processor have it.
    const bool winograd = InferenceNet::winogradSupported(plan);
    ASSERT_EQ(c.timings.size(), winograd ? 4u : 3u);
    EXPECT_TRUE(c.timings[2].blocked);
    EXPECT_FALSE(c.timings[2].winograd);
    if (winograd) {
        EXPECT_TRUE(c.timings[3].winograd);
        EXPECT_FALSE(c.timings[3].blocked);
    }
    const KernelTiming* best = &c.timings[0];
    for (const KernelTiming& t : c.timings) {
        best = t.msPerStep < best->msPerStep ? &t : best;
    }
    EXPECT_EQ(c.blocked, best->blocked);
    EXPECT_EQ(c.winograd, best->winograd);
    const KernelChoice again = chooseKernels(r);
    EXPECT_EQ(again.source, "cache");
    EXPECT_EQ(again.blocked, c.blocked);
    EXPECT_EQ(again.winograd, c.winograd);
    // A run records what it chose; a resume reads it back.
    writeKernelChoice(dir.path(), c);
    KernelChoice read;
    ASSERT_TRUE(readKernelChoice(dir.path(), read));
    EXPECT_EQ(read.winograd, c.winograd);
    ASSERT_EQ(read.timings.size(), c.timings.size());
    EXPECT_EQ(read.timings.back().winograd, c.timings.back().winograd);
    // Training never runs blocked or on oneDNN directly; a fixed layout leaves both out.
    r.training = true;
    EXPECT_EQ(chooseKernels(r).timings.size(), 2u);
    r.training = false;
    r.layout = LayoutChoice::Nchw;
    EXPECT_EQ(chooseKernels(r).source, "flags");
}

TEST(KernelChoice, ADamagedCacheIsMeasuredAgainAndRewritten) {
    test::TempDir dir;
    const std::string cache = dir.file("kernels.json");
    const KernelRequest r = request(tinyEfficientNet(), cache);
    for (const std::string& damage :
         {std::string("{\"version\": 2, \"entries\": {tru"), std::string("[1, 2, 3]"),
          std::string("{\"version\": 99, \"entries\": {}}"), std::string("\x00\xff\x10", 3)}) {
        {
            std::ofstream out(cache, std::ios::binary | std::ios::trunc);
            out << damage;
        }
        const KernelChoice c = chooseKernels(r);
        EXPECT_EQ(c.source, "measured") << damage;
        EXPECT_NE(c.note.find(cache), std::string::npos) << c.note;
        EXPECT_NE(c.note.find("measured again"), std::string::npos) << c.note;
        EXPECT_TRUE(readJson(cache)["entries"].contains(c.key));  // rewritten whole
        EXPECT_EQ(chooseKernels(r).source, "cache");
    }
    // An entry with a wrong field is measured again too.
    nlohmann::json j = readJson(cache);
    const std::string key = j["entries"].begin().key();
    j["entries"][key]["channels_last"] = "yes";
    std::ofstream(cache, std::ios::trunc) << j.dump();
    const KernelChoice c = chooseKernels(r);
    EXPECT_EQ(c.source, "measured");
    EXPECT_NE(c.note.find("entry"), std::string::npos) << c.note;
}

TEST(KernelChoice, AnUnwritableCacheIsANoteNotAFailure) {
    test::TempDir dir;
    std::ofstream(dir.file("file")) << "x";
    const KernelRequest r = request(tinyEfficientNet(), dir.file("file/kernels.json"));
    const KernelChoice c = chooseKernels(r);
    EXPECT_EQ(c.source, "measured");
    EXPECT_NE(c.note.find("not cached"), std::string::npos) << c.note;
    // "-": no cache at all, measured every time, nothing said.
    KernelRequest none = r;
    none.cacheFile = "-";
    const KernelChoice n = chooseKernels(none);
    EXPECT_EQ(n.source, "measured");
    EXPECT_TRUE(n.note.empty()) << n.note;
}

TEST(KernelChoice, CancelStopsTheTiming) {
    test::TempDir dir;
    const KernelRequest r = request(tinyEfficientNet(), dir.file("kernels.json"));
    int calls = 0;
    EXPECT_THROW(chooseKernels(r, [&](int64_t done, int64_t) { return ++calls, done < 1; }),
                 Cancelled);
    EXPECT_FALSE(std::filesystem::exists(dir.file("kernels.json")));
}

TEST(KernelChoice, TheRandomStreamIsTheSameMeasuredOrCached) {
    test::TempDir dir;
    const KernelRequest r = request(tinyEfficientNet(), dir.file("kernels.json"));
    torch::manual_seed(5);
    const auto expected = torch::rand({8});
    torch::manual_seed(5);
    ASSERT_EQ(chooseKernels(r).source, "measured");
    EXPECT_TRUE(torch::equal(torch::rand({8}), expected));
    torch::manual_seed(5);
    ASSERT_EQ(chooseKernels(r).source, "cache");
    EXPECT_TRUE(torch::equal(torch::rand({8}), expected));
}

TEST(KernelChoice, AModelRunsTheChosenKernelWithTheSameResult) {
    torch::manual_seed(1);
    ScaleModel model = buildModelFromPlan(tinyEfficientNet());
    model->eval();
    EXPECT_TRUE(model->hasDepthwise());
    EXPECT_FALSE(buildModelFromPlan(planModel(modelSpecFromName("resnet-cifar-8", 1, 10, 16)))
                     ->hasDepthwise());
    const auto x = torch::randn({3, 1, 32, 32});
    torch::NoGradGuard guard;
    const auto ours = model->forward(x);
    model->setFastDepthwise(false);
    int dwLayers = 0;
    for (const auto& m : model->modules(false)) {
        if (auto* dw = m->as<DepthwiseConv2d>()) {
            EXPECT_FALSE(dw->fast);
            ++dwLayers;
        }
    }
    EXPECT_GT(dwLayers, 0);
    const auto theirs = model->forward(x);
    model->setChannelsLast(true);
    const auto theirsNhwc = model->forward(x);
    EXPECT_LT((ours - theirs).abs().max().item<double>(), 1e-4);
    EXPECT_LT((ours - theirsNhwc).abs().max().item<double>(), 1e-4);
}

TEST(KernelChoice, RunFolderRecordKeepsTheChoice) {
    test::TempDir dir;
    KernelChoice c;
    c.channelsLast = true;
    c.fastDepthwise = false;
    c.source = "measured";
    c.key = "k";
    c.timings = {{true, false, 12.5, 64}, {false, true, 20.0, 64}};
    writeKernelChoice(dir.path(), c);
    KernelChoice back;
    ASSERT_TRUE(readKernelChoice(dir.path(), back));
    EXPECT_EQ(back.source, "recorded");
    EXPECT_TRUE(back.channelsLast);
    EXPECT_FALSE(back.fastDepthwise);
    ASSERT_EQ(back.timings.size(), 2u);
    EXPECT_EQ(back.timings[0].msPerStep, 12.5);
    test::TempDir empty;
    EXPECT_FALSE(readKernelChoice(empty.path(), back));
    std::ofstream(empty.file("kernels.json")) << "{not json";
    EXPECT_FALSE(readKernelChoice(empty.path(), back));
    EXPECT_EQ(describeKernelChoice(c, true),
              "channels-last, LibTorch's depthwise (measured: channels-last+LibTorch 12.5 ms, "
              "NCHW+ours 20.0 ms a step of 64)");
    EXPECT_EQ(parseLayoutChoice("channels-last", "--layout"), LayoutChoice::ChannelsLast);
    EXPECT_THROW(parseLayoutChoice("nhwc", "--layout"), SpecError);
    EXPECT_EQ(parseDepthwiseChoice("libtorch", "--depthwise"), DepthwiseChoice::LibTorch);
}
