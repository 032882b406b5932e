// The training engine on a generated dataset (tests/core/synthetic_data.h): it learns, stops when
// told, records a divergence, and a resumed run equals an uninterrupted one. Training takes the
// dataset as an object, so none of these needs Fashion-MNIST or skips without it.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/data/dataset_spec.h"
#include "core/data/file_io.h"
#include "core/error.h"
#include "core/progress.h"
#include "core/runtime.h"
#include "core/train/epoch_loop.h"
#include "core/train/run_folder.h"
#include "core/train/run_loader.h"
#include "core/train/train_api.h"
#include "tests/core/synthetic_data.h"
#include "tests/core/test_util.h"

using namespace scalelab;

namespace {

// 2000 train and 1000 test images, 10 classes, 1 channel, 28 px: one copy for every test.
std::shared_ptr<const Dataset> data() {
    static const auto ds = [] {
        test::SyntheticOptions o;
        o.train = 2000;
        o.test = 1000;
        return test::syntheticDataset(o);
    }();
    return ds;
}

// A small, fast config: ResNet-8 (CIFAR-style) at 28 px on a subset of the generated data.
TrainConfig smallConfig(int64_t subset, int64_t epochs) {
    TrainConfig c;
    c.model = modelSpecFromName("resnet-cifar-8", 1, 10, 28);
    c.dataset = "synthetic";
    c.epochs = epochs;
    c.batchSize = 64;
    c.lr = 0.05;
    c.split.trainSubset = subset;
    c.split.valFraction = 0.05;  // 100 validation images
    c.split.testSubset = 1000;
    c.threads = 2;
    c.seed = 11;
    return c;
}

std::string readText(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// metrics.csv without the timing columns (seconds, images/s), which differ run to run.
std::string metricsWithoutTimes(const std::string& dir) {
    std::stringstream in(readText(dir + "/metrics.csv"));
    std::string line, out;
    while (std::getline(in, line)) {
        size_t cut = line.size();
        for (int commas = 0; commas < 2; ++commas) {
            cut = line.rfind(',', cut - 1);
        }
        out += line.substr(0, cut) + "\n";
    }
    return out;
}

}  // namespace

TEST(Trainer, OneEpochOn1900ImagesLearns) {
    test::TempDir dir;
    const TrainSummary s = trainRun(smallConfig(0, 1), dir.file("run"), {}, data());
    EXPECT_TRUE(s.completed) << s.status;
    EXPECT_EQ(s.status, "completed");
    EXPECT_EQ(s.test.count, 1000);
    EXPECT_GT(s.test.accuracy, 0.5) << "chance is 0.1";
    EXPECT_EQ(s.history.size(), 1u);
    for (const char* f :
         {"config.json", "metrics.csv", "summary.json", "checkpoint.pt", "weights.pt"}) {
        EXPECT_TRUE(fileExists(dir.file(std::string("run/") + f))) << f;
    }
    const auto summary = nlohmann::json::parse(readText(dir.file("run/summary.json")));
    EXPECT_EQ(summary["status"], "completed");
    EXPECT_NEAR(summary["test_acc"].get<double>(), s.test.accuracy, 1e-12);
    EXPECT_EQ(summary["test"]["confusion"].size(), 10u);
    const auto config = nlohmann::json::parse(readText(dir.file("run/config.json")));
    EXPECT_EQ(config["model"]["name"], "resnet-cifar-8");
    EXPECT_EQ(config["normalization"]["mean"].size(), 1u);
    EXPECT_EQ(config["split_sizes"]["train"], 1900);
    // The recorded weights evaluate to the same accuracy.
    LoadedRun run = loadRun(dir.file("run"), data());
    const EvalResult again = evaluateModel(*run.model, *run.data, Part::Test, 28, 500, run.device);
    EXPECT_NEAR(again.accuracy, s.test.accuracy, 1e-9);
}

TEST(Trainer, ARunLetsGoOfTheOriginalImagesOnceTheyAreResized) {
    // Issue 13, point 4: a run given the only reference to its dataset (as `scalelab-cli train`
    // does) frees the originals before its first batch; its results are those of a run whose
    // dataset stays shared.
    test::TempDir dir;
    TrainConfig c = smallConfig(256, 1);
    c.split.testSubset = 200;
    c.layout = LayoutChoice::Nchw;  // the same kernels for both runs: equal results
    test::SyntheticOptions o;
    o.train = 2000;
    o.test = 1000;
    std::shared_ptr<const Dataset> own = test::syntheticDataset(o);
    std::weak_ptr<const Dataset> original = own;
    c.progressEveryBatches = 1;
    int batchEvents = 0;
    bool heldAtFirstBatch = true;
    TrainHooks hooks;
    hooks.progress = [&](const TrainProgress& p) {
        if (p.kind == TrainProgress::Kind::Batch && batchEvents++ == 0) {
            heldAtFirstBatch = !original.expired();
        }
        return true;
    };
    const TrainSummary alone = trainRun(c, dir.file("alone"), hooks, std::move(own));
    ASSERT_TRUE(alone.completed) << alone.status;
    ASSERT_GT(batchEvents, 0);
    EXPECT_FALSE(heldAtFirstBatch) << "the original images were still held while training";
    const TrainSummary shared = trainRun(c, dir.file("shared"), {}, data());
    ASSERT_TRUE(shared.completed) << shared.status;
    EXPECT_EQ(data()->trainImages.size(0), 2000);  // a shared dataset keeps its images
    EXPECT_EQ(metricsWithoutTimes(dir.file("alone")), metricsWithoutTimes(dir.file("shared")));
    EXPECT_EQ(alone.test.accuracy, shared.test.accuracy);
}

TEST(Trainer, GradientsAndOptimizerStateLiveOffTheMemoryArena) {
    // Made among a step's activations they would stay in the holes those leave (runtime.h).
    ASSERT_TRUE(useMemoryArena());
    TrainConfig c = smallConfig(200, 1);
    c.model = modelSpecFromName("resnet-18", 1, 10, 16);  // layer 4's 3x3 weights: 9 MB each
    c.batchSize = 32;
    torch::manual_seed(0);
    ScaleModel model;
    std::unique_ptr<torch::optim::Optimizer> opt;
    {
        const ArenaBypass off;  // as the trainer makes them
        model = buildModel(c.model);
        opt = makeOptimizer(c, *model);
    }
    DataPipeline pipeline(data(), c.split);
    pipeline.images(Part::Train, 16);
    const uint64_t live = memoryArenaUse().liveBytes;
    makeGradients(*model);
    for (const auto& p : model->parameters()) {
        ASSERT_TRUE(p.grad().defined());
        EXPECT_EQ(p.grad().abs().sum().item<double>(), 0.0);
    }
    EXPECT_EQ(memoryArenaUse().liveBytes, live);
    const EpochResult r = trainEpoch(*model, *opt, pipeline, c, 1, torch::kCPU);
    EXPECT_GT(r.batches, 2);
    EXPECT_EQ(opt->state().size(), model->parameters().size());  // AdamW's moments exist
    EXPECT_GT(memoryArenaUse().peakLiveBytes, live);             // the steps ran on the arena
    EXPECT_EQ(memoryArenaUse().liveBytes, live)
        << "a gradient or the optimizer's state was made on the arena";
    double gradSum = 0;
    for (const auto& p : model->parameters()) {
        gradSum += p.grad().abs().sum().item<double>();
    }
    EXPECT_GT(gradSum, 0.0);  // the steps accumulated into the gradients made up front
}

TEST(Trainer, CancelStopsWithinOneBatch) {
    test::TempDir dir;
    TrainConfig c = smallConfig(2000, 2);
    c.progressEveryBatches = 1;
    std::atomic<bool> stop{false};
    int batchesSeen = 0;
    TrainHooks hooks;
    hooks.cancel = &stop;
    hooks.progress = [&](const TrainProgress& p) {
        if (p.kind == TrainProgress::Kind::Batch) {
            ++batchesSeen;
            if (p.batch == 3) {
                stop.store(true);  // as the GUI's Stop button does
            }
        }
        return true;
    };
    const TrainSummary s = trainRun(c, dir.file("run"), hooks, data());
    EXPECT_EQ(batchesSeen, 3) << "no batch may run after Stop";
    EXPECT_EQ(s.status, "cancelled at epoch 1, batch 4");
    EXPECT_FALSE(s.completed);
    const auto summary = nlohmann::json::parse(readText(dir.file("run/summary.json")));
    EXPECT_EQ(summary["status"], s.status);
    EXPECT_EQ(summary["epochs_done"], 0);
    EXPECT_EQ(readText(dir.file("run/metrics.csv")),
              "epoch,train_loss,train_acc,val_loss,val_acc,lr,seconds,images_per_s\n");
}

TEST(Trainer, DivergenceIsRecordedWithValidFiles) {
    test::TempDir dir;
    TrainConfig c = smallConfig(1000, 3);
    c.lr = 1e8;
    c.schedule = ScheduleKind::Constant;
    const TrainSummary s = trainRun(c, dir.file("run"), {}, data());
    EXPECT_FALSE(s.completed);
    EXPECT_EQ(s.status.rfind("diverged at epoch ", 0), 0u) << s.status;
    EXPECT_NE(s.status.find("lr 1e+08"), std::string::npos) << s.status;
    const auto summary = nlohmann::json::parse(readText(dir.file("run/summary.json")));
    EXPECT_EQ(summary["status"], s.status);
    EXPECT_EQ(summary["epochs_done"].get<int64_t>(), s.epochsDone);
    // metrics.csv has exactly the recorded epochs.
    std::stringstream rows(readText(dir.file("run/metrics.csv")));
    std::string line;
    int lines = 0;
    while (std::getline(rows, line))
        ++lines;
    EXPECT_EQ(lines, 1 + s.epochsDone);
}

TEST(Trainer, ResumeEqualsAnUninterruptedRun) {
    test::TempDir dir;
    TrainConfig c = smallConfig(640, 3);
    Scaling small;
    small.mode = Scaling::Mode::Manual;
    small.width = 0.25;
    small.depth = 0.25;
    // dropout, stochastic depth and the custom depthwise kernel all take part
    c.model = applyScaling(modelSpecFromName("efficientnet", 1, 10, 32), small);
    c.augment.cropPadding = 2;
    c.augment.horizontalFlip = true;
    c.warmupEpochs = 0.5;
    const TrainSummary whole = trainRun(c, dir.file("whole"), {}, data());
    ASSERT_TRUE(whole.completed);

    TrainHooks stopAfterFirst;
    stopAfterFirst.progress = [](const TrainProgress& p) {
        return !(p.kind == TrainProgress::Kind::Epoch && p.epoch == 1);
    };
    const TrainSummary first = trainRun(c, dir.file("split"), stopAfterFirst, data());
    EXPECT_EQ(first.status, "cancelled after epoch 1");
    EXPECT_EQ(first.epochsDone, 1);
    const TrainSummary rest = resumeRun(dir.file("split"), {}, data());
    ASSERT_TRUE(rest.completed) << rest.status;
    EXPECT_EQ(metricsWithoutTimes(dir.file("split")), metricsWithoutTimes(dir.file("whole")));
    EXPECT_EQ(rest.test.accuracy, whole.test.accuracy);
    EXPECT_EQ(rest.test.loss, whole.test.loss);
}

TEST(Trainer, TheKernelChoiceIsRecordedAndAResumeKeepsIt) {
    test::TempDir dir;
    // A cache of its own, empty: the first run measures.
    const char* before = std::getenv("SCALELAB_CACHE_DIR");
    const std::string saved = before ? before : "";
    setenv("SCALELAB_CACHE_DIR", dir.file("cache").c_str(), 1);
    TrainConfig c = smallConfig(256, 2);
    Scaling small;
    small.mode = Scaling::Mode::Manual;
    small.width = 0.25;
    small.depth = 0.25;
    c.model = applyScaling(modelSpecFromName("efficientnet", 1, 10, 32), small);
    std::vector<std::string> phases;
    TrainHooks stopAfterFirst;
    stopAfterFirst.progress = [&](const TrainProgress& p) {
        if (p.kind == TrainProgress::Kind::Preparing &&
            (phases.empty() || phases.back() != p.phase)) {
            phases.push_back(p.phase);
        }
        return !(p.kind == TrainProgress::Kind::Epoch && p.epoch == 1);
    };
    const TrainSummary first = trainRun(c, dir.file("run"), stopAfterFirst, data());
    ASSERT_EQ(first.epochsDone, 1);
    EXPECT_NE(std::find(phases.begin(), phases.end(), "timing memory layouts and kernels"),
              phases.end());
    auto recorded = nlohmann::json::parse(readText(dir.file("run/kernels.json")));
    EXPECT_EQ(recorded["source"], "measured") << recorded;
    EXPECT_EQ(recorded["timings"].size(), 4u) << recorded;  // 2 layouts x 2 depthwise kernels

    // A resumed run keeps what it trained with (edited here so a re-measure would show).
    recorded["channels_last"] = !recorded["channels_last"].get<bool>();
    recorded["key"] = "edited by the test";
    std::ofstream(dir.file("run/kernels.json"), std::ios::trunc) << recorded.dump();
    const TrainSummary rest = resumeRun(dir.file("run"), {}, data());
    ASSERT_TRUE(rest.completed) << rest.status;
    EXPECT_EQ(nlohmann::json::parse(readText(dir.file("run/kernels.json")))["key"],
              "edited by the test");

    // Flags fix both: nothing measured, recorded as such.
    c.epochs = 1;
    c.layout = LayoutChoice::Nchw;
    c.depthwise = DepthwiseChoice::Ours;
    ASSERT_TRUE(trainRun(c, dir.file("fixed"), {}, data()).completed);
    const auto fixed = nlohmann::json::parse(readText(dir.file("fixed/kernels.json")));
    EXPECT_EQ(fixed["source"], "flags");
    EXPECT_EQ(fixed["channels_last"], false);
    EXPECT_EQ(fixed["fast_depthwise"], true);
    EXPECT_TRUE(fixed["timings"].empty());
    if (before) {
        setenv("SCALELAB_CACHE_DIR", saved.c_str(), 1);
    } else {
        unsetenv("SCALELAB_CACHE_DIR");
    }
}

TEST(Trainer, BadSettingsAreRefusedBeforeTraining) {
    test::TempDir dir;
    TrainConfig c = smallConfig(100, 1);
    c.lr = -1;
    EXPECT_THROW(trainRun(c, dir.file("a")), SpecError);
    c = smallConfig(100, 1);
    c.device = "cuda:7";
    EXPECT_THROW(trainRun(c, dir.file("b")), SpecError);
    c = smallConfig(100, 1);
    c.model = modelSpecFromName("resnet-cifar-8", 3, 10, 28);  // the data has 1 channel
    try {
        trainRun(c, dir.file("c"), {}, data());
        FAIL() << "expected a SpecError";
    } catch (const SpecError& e) {
        EXPECT_NE(std::string(e.what()).find("3-channel images but Synthetic has 1"),
                  std::string::npos)
            << e.what();
    }
    EXPECT_THROW(resumeRun(dir.file("nothing-here")), DataError);
}

// Issue 10: a dataset without test images ends with a visible "no test set" status, never
// "completed" with an accuracy of 0 on 0 images.
TEST(Trainer, AnEmptyTestSplitSaysSo) {
    test::TempDir dir;
    test::SyntheticOptions o;
    o.train = 300;
    o.test = 0;
    TrainConfig c = smallConfig(0, 1);
    c.split.testSubset = 0;
    const TrainSummary s = trainRun(c, dir.file("run"), {}, test::syntheticDataset(o));
    EXPECT_EQ(s.state, RunState::Completed);
    EXPECT_EQ(s.status, "completed (no test set: the test split is empty)");
    EXPECT_EQ(s.test.count, 0);
    const auto summary = nlohmann::json::parse(readText(dir.file("run/summary.json")));
    EXPECT_TRUE(summary["test_acc"].is_null());
    EXPECT_EQ(summary["status"], s.status);
}

// Issue 10: cancelling while the dataset loads (Ctrl-C in the CLI, Stop in the GUI) ends the run
// before anything is written.
TEST(Trainer, CancelWhileLoadingWritesNothing) {
    test::TempDir dir;
    test::writeIdxSet(dir.file("idx"), 200, 50, 28, true);
    TrainConfig c = smallConfig(0, 1);
    c.dataset = "mnist:" + dir.file("idx");
    TrainHooks hooks;
    int calls = 0;
    hooks.loading = [&](int64_t, int64_t) { return ++calls < 2; };  // stop at the second file
    EXPECT_THROW(trainRun(c, dir.file("run"), hooks), Cancelled);
    EXPECT_GE(calls, 2);
    EXPECT_FALSE(fileExists(dir.file("run/config.json")));
    EXPECT_FALSE(fileExists(dir.file("run/summary.json")));
    // The flag alone (the GUI's Stop before loading finished) is honoured too.
    std::atomic<bool> stop{true};
    TrainHooks flagOnly;
    flagOnly.cancel = &stop;
    EXPECT_THROW(trainRun(c, dir.file("run2"), flagOnly), Cancelled);
    EXPECT_FALSE(fileExists(dir.file("run2/config.json")));
}

// Issue 11: validation is a fraction of the chosen train subset, not of the whole training set
// (a 3000-image subset of Fashion-MNIST got 6000 validation images before).
TEST(Trainer, ValidationIsAFractionOfTheSubset) {
    SplitOptions o;
    o.valFraction = 0.1;
    o.trainSubset = 300;
    const DataPipeline p(data(), o);
    EXPECT_EQ(p.size(Part::Train), 300);
    EXPECT_EQ(p.size(Part::Validation), 30);
    o.valFromSubset = false;  // runs recorded before: 10 % of all 2000
    const DataPipeline old(data(), o);
    EXPECT_EQ(old.size(Part::Train), 300);
    EXPECT_EQ(old.size(Part::Validation), 200);
    o.trainSubset = 0;  // no subset: 10 % of everything, as before
    o.valFromSubset = true;
    EXPECT_EQ(DataPipeline(data(), o).size(Part::Validation), 200);
}

// Issue 11: a first epoch whose training loss climbs above twice chance warns (progress event,
// summary.json), suggesting a lower learning rate.
TEST(Trainer, ALossAboveTwiceChanceWarns) {
    test::TempDir dir;
    TrainConfig c = smallConfig(640, 1);
    c.lr = 2.0;
    c.schedule = ScheduleKind::Constant;
    std::string seen;
    TrainHooks hooks;
    hooks.progress = [&](const TrainProgress& p) {
        if (!p.warning.empty()) {
            seen = p.warning;
        }
        return true;
    };
    const TrainSummary s = trainRun(c, dir.file("run"), hooks, data());
    ASSERT_EQ(s.warnings.size(), 1u) << s.status;
    EXPECT_EQ(seen, s.warnings[0]);
    EXPECT_NE(seen.find("above 2x chance"), std::string::npos) << seen;
    EXPECT_NE(seen.find("learning rate 2"), std::string::npos) << seen;
    const auto summary = nlohmann::json::parse(readText(dir.file("run/summary.json")));
    EXPECT_EQ(summary["warnings"][0], seen);
    // A sane learning rate raises none.
    const TrainSummary fine = trainRun(smallConfig(640, 1), dir.file("fine"), {}, data());
    EXPECT_TRUE(fine.warnings.empty()) << fine.warnings[0];
}

// Issue 11, point 6: data preparation is its own phase with progress, before any batch, and
// Stop during it ends the run as cancelled with readable files.
TEST(Trainer, PreparingTheDataIsAPhaseWithProgress) {
    test::TempDir dir;
    TrainConfig c = smallConfig(300, 1);
    c.split.testSubset = 200;
    c.model = modelSpecFromName("resnet-cifar-8", 1, 10, 32);  // 28 -> 32 px: a real resize
    std::vector<TrainProgress> events;
    TrainHooks hooks;
    hooks.progress = [&](const TrainProgress& p) {
        events.push_back(p);
        return true;
    };
    const TrainSummary s = trainRun(c, dir.file("run"), hooks, data());
    ASSERT_TRUE(s.completed) << s.status;
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.front().kind, TrainProgress::Kind::Preparing);
    bool sawTrainDone = false, batchSeen = false;
    for (const TrainProgress& p : events) {
        if (p.kind == TrainProgress::Kind::Preparing) {
            EXPECT_FALSE(batchSeen) << "preparing after training started: " << p.phase;
            EXPECT_LE(p.phaseDone, p.phaseTotal);
            if (p.phase.rfind("resizing ", 0) == 0 &&
                p.phase.find(" training images to 32 px") != std::string::npos &&
                p.phaseTotal > 0 && p.phaseDone == p.phaseTotal) {
                sawTrainDone = true;
            }
        } else {
            batchSeen = true;
        }
    }
    EXPECT_TRUE(sawTrainDone) << "no finished 'resizing N training images to 32 px' phase";
    // Every batch event after the first has an ETA (the moving average knows a batch).
    for (const TrainProgress& p : events) {
        if (p.kind == TrainProgress::Kind::Batch && p.batch > 1) {
            EXPECT_GT(p.etaSec, 0) << "batch " << p.batch;
        }
    }
}

TEST(Trainer, StopWhilePreparingEndsCancelled) {
    test::TempDir dir;
    TrainConfig c = smallConfig(1000, 1);
    c.model = modelSpecFromName("resnet-cifar-8", 1, 10, 32);
    TrainHooks hooks;
    int batches = 0;
    hooks.progress = [&](const TrainProgress& p) {
        batches += p.kind == TrainProgress::Kind::Batch;
        return p.kind != TrainProgress::Kind::Preparing;  // refuse at the first preparing event
    };
    const TrainSummary s = trainRun(c, dir.file("run"), hooks, data());
    EXPECT_EQ(s.state, RunState::Cancelled);
    EXPECT_EQ(s.status.rfind("cancelled while preparing the data", 0), 0u) << s.status;
    EXPECT_EQ(batches, 0);
    EXPECT_EQ(recordedRunState(dir.file("run")).first, RunState::Cancelled);
}
