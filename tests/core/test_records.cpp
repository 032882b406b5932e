// Run records through their one JSON mapping (core/train/records_json.cpp) and the enum tables
// (core/json_enums.h): names round-trip, unknown names and wrong types are refused with the
// field named, and what ScaleLab 0.1 wrote still reads. Issue 10, point 8.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/data/file_io.h"
#include "core/error.h"
#include "core/json_enums.h"
#include "core/train/records_json.h"
#include "core/train/run_folder.h"
#include "tests/core/test_util.h"

using namespace scalelab;

namespace {

template <typename E>
void expectNamesRoundTrip(const std::vector<std::string>& expected) {
    EXPECT_EQ(enumNameList<E>(), expected);
    for (const std::string& name : expected) {
        const E value = enumFromName<E>(name, "x");
        EXPECT_EQ(enumName(value), name);
        EXPECT_EQ(nlohmann::json(value), nlohmann::json(name));
        EXPECT_EQ(enumFromJson<E>(nlohmann::json(name), "x"), value);
    }
}

std::string messageOf(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

}  // namespace

TEST(Records, EveryEnumHasOneTableAndRoundTrips) {
    expectNamesRoundTrip<OptimizerKind>({"sgd", "adamw"});
    expectNamesRoundTrip<ScheduleKind>({"cosine", "step", "constant"});
    expectNamesRoundTrip<RunState>({"running", "completed", "cancelled", "diverged", "failed"});
    expectNamesRoundTrip<PruneMethod>({"magnitude-global", "magnitude-layer", "l1-structured"});
    expectNamesRoundTrip<ActKind>({"none", "relu", "relu6", "silu"});
    EXPECT_EQ(enumNameList<LayerKind>().size(), 10u);
    // The headers' name functions read the same tables.
    EXPECT_STREQ(optimizerName(OptimizerKind::AdamW), "adamw");
    EXPECT_STREQ(runStateName(RunState::Diverged), "diverged");
    EXPECT_STREQ(pruneMethodName(PruneMethod::L1Structured), "l1-structured");
    EXPECT_STREQ(layerKindName(LayerKind::DepthwiseConv), "dwconv");
    EXPECT_EQ(pruneMethodFromName("magnitude-layer"), PruneMethod::MagnitudeLayer);
}

TEST(Records, UnknownNamesAreRefusedNotMappedToTheFirstEntry) {
    // NLOHMANN_JSON_SERIALIZE_ENUM alone answers its first entry for an unknown name.
    const std::string m = messageOf([] { enumFromName<OptimizerKind>("adam", "optimizer"); });
    EXPECT_NE(m.find("optimizer 'adam' is not one of: sgd, adamw"), std::string::npos) << m;
    EXPECT_THROW(pruneMethodFromName("random"), SpecError);
    EXPECT_THROW(enumFromJson<ScheduleKind>(nlohmann::json(3), "schedule"), SpecError);
    EXPECT_EQ(runStateFromName("exploded"), RunState::Failed);
}

TEST(Records, TrainConfigRoundTripsEveryField) {
    TrainConfig c;
    c.model = modelSpecFromName("resnet-cifar-20", 1, 10, 32);
    c.dataset = "mnist:/data/mnist";
    c.epochs = 7;
    c.batchSize = 96;
    c.optimizer = OptimizerKind::AdamW;
    c.lr = 0.003;
    c.momentum = 0.85;
    c.nesterov = false;
    c.weightDecay = 0.01;
    c.labelSmoothing = 0.1;
    c.schedule = ScheduleKind::Step;
    c.warmupEpochs = 1.5;
    c.stepEpochs = 3;
    c.stepGamma = 0.5;
    c.split.valFraction = 0.2;
    c.split.trainSubset = 5000;
    c.split.testSubset = 700;
    c.augment.cropPadding = 4;
    c.augment.horizontalFlip = true;
    c.seed = 123456789012345ull;
    c.device = "cpu";
    c.threads = 1;
    c.progressEveryBatches = 3;
    c.layout = LayoutChoice::Nchw;
    c.depthwise = DepthwiseChoice::LibTorch;
    c.evalBatchSize = 250;
    const std::string text = trainConfigToJson(c);
    const TrainConfig back = trainConfigFromJson(text, "config.json");
    EXPECT_EQ(trainConfigToJson(back), text);
    const auto j = nlohmann::json::parse(text);
    EXPECT_EQ(j["optimizer"], "adamw");
    EXPECT_EQ(j["schedule"], "step");
    EXPECT_EQ(j["layout"], "nchw");
    EXPECT_EQ(j["depthwise"], "libtorch");
}

TEST(Records, ConfigFieldsAreCheckedByNameAndType) {
    TrainConfig c;
    c.model = modelSpecFromName("resnet-cifar-8", 1, 10, 28);
    auto with = [&](const char* key, const nlohmann::json& value) {
        nlohmann::json j = nlohmann::json::parse(trainConfigToJson(c));
        j[key] = value;
        return messageOf([&] { trainConfigFromJson(j.dump(), "run/config.json"); });
    };
    EXPECT_NE(with("optimizer", "adam").find("run/config.json: optimizer 'adam' is not one of"),
              std::string::npos);
    EXPECT_NE(with("lr", "fast").find("field 'lr' must be a number"), std::string::npos);
    EXPECT_NE(with("nesterov", 1).find("field 'nesterov' must be true or false"),
              std::string::npos);
    EXPECT_NE(with("epochs", 2.5).find("field 'epochs' must be a whole number"), std::string::npos);
    EXPECT_NE(with("seed", -1).find("field 'seed'"), std::string::npos);
    EXPECT_NE(with("layout", "sideways").find("layout 'sideways' is not one of: auto, nchw"),
              std::string::npos);
    EXPECT_NE(with("depthwise", 3).find("depthwise must be a name"), std::string::npos);
    // Records written before the measured choice say channels_last: true was the default then
    // (auto now), false was the user's choice (NCHW).
    for (const bool old : {true, false}) {
        nlohmann::json legacy = nlohmann::json::parse(trainConfigToJson(c));
        legacy.erase("layout");
        legacy.erase("depthwise");
        legacy["channels_last"] = old;
        const TrainConfig back = trainConfigFromJson(legacy.dump(), "config.json");
        EXPECT_EQ(back.layout, old ? LayoutChoice::Auto : LayoutChoice::Nchw);
        EXPECT_EQ(back.depthwise, DepthwiseChoice::Auto);
    }
    nlohmann::json j = nlohmann::json::parse(trainConfigToJson(c));
    j.erase("dataset");
    EXPECT_NE(messageOf([&] {
                  trainConfigFromJson(j.dump(), "c.json");
              }).find("field 'dataset' is missing"),
              std::string::npos);
}

TEST(Records, SummariesOfBothVersionsRead) {
    TrainSummary s;
    s.state = RunState::Diverged;
    s.status = "diverged at epoch 2, batch 5 (lr 10, loss NaN)";
    s.epochsDone = 1;
    s.bestValAccuracy = 0.25;
    s.bestEpoch = 1;
    s.params = 1000;
    s.macs = 5000;
    const nlohmann::ordered_json j = s;
    EXPECT_EQ(j["state"], "diverged");
    EXPECT_EQ(j["flops"], 10000);
    EXPECT_TRUE(j["test"].is_null());
    const TrainSummary back = nlohmann::json::parse(j.dump()).get<TrainSummary>();
    EXPECT_EQ(back.state, RunState::Diverged);
    EXPECT_EQ(back.status, s.status);
    EXPECT_EQ(back.bestValAccuracy, 0.25);
    EXPECT_EQ(back.finalValAccuracy, -1);
    // ScaleLab 0.1: no "state", a "completed" flag.
    const auto old = nlohmann::json::parse(R"({"status": "completed", "completed": true})");
    EXPECT_EQ(old.get<TrainSummary>().state, RunState::Completed);
}

// Regression: markRunFailed once wrote the state as the enum's integer (4), because the file
// writing it did not see the enum's table; JSON_DISABLE_ENUM_SERIALIZATION now makes that a
// compile error.
TEST(Records, AFailedRunReadsFailedAndKeepsWhatItHad) {
    test::TempDir dir;
    TrainConfig c;
    c.model = modelSpecFromName("resnet-cifar-8", 1, 10, 28);
    writeRunConfig(dir.path(), c);
    TrainSummary s;
    s.epochsDone = 2;
    s.status = "running: epoch 2 of 5";
    writeRunSummary(dir.path(), c, s, "cpu");
    markRunFailed(dir.path(), "disk full");
    const auto bytes = readFileBytes(dir.file("summary.json"));
    const auto j = nlohmann::json::parse(bytes.begin(), bytes.end());
    EXPECT_EQ(j["state"], "failed");
    EXPECT_EQ(j["status"], "failed: disk full");
    EXPECT_EQ(j["epochs_done"], 2);
    EXPECT_EQ(j["model"], "resnet-cifar-8");
    const TrainSummary back = readRunSummary(dir.path());
    EXPECT_EQ(back.state, RunState::Failed);
    EXPECT_EQ(recordedRunState(dir.path()).first, RunState::Failed);
}

namespace {

PruneSweepRecord sampleSweep(const std::string& dir) {
    PruneSweepRecord r;
    r.dir = dir;
    r.options.runDir = "/runs/run-001";
    r.options.methods = {PruneMethod::MagnitudeGlobal, PruneMethod::L1Structured};
    r.options.levels = {0, 0.5};
    r.options.finetuneEpochs = 1;
    r.options.perStage = true;
    r.result.baselineAccuracy = 0.8125;
    r.result.baselineImagesPerSec = 1234.5;
    r.result.baselineParams = 1000;
    r.result.baselineMacs = 50000;
    r.result.status = "completed";
    PruneRow row;
    row.method = "l1-structured";
    row.level = 0.5;
    row.scope = "stage 2";
    row.sparsity = 0.49;
    row.params = 600;
    row.nonzeroParams = 600;
    row.macs = 30000;
    row.sparseMacs = 30000;
    row.accuracy = 0.5;
    row.loss = 1.25;
    row.finetunedAccuracy = 0.75;
    row.finetunedLoss = 0.6;
    row.inferImagesPerSec = 2000;
    row.modelDir = dir + "/l1-structured-0.50-stage2";
    r.result.rows = {row, row};
    r.result.rows[1].finetunedAccuracy = -1;  // no fine-tuning: written as null
    r.result.rows[1].finetunedLoss = -1;
    r.finished = true;
    return r;
}

}  // namespace

// Issue 11, point 1: a pruning sweep is kept in the run folder (pruning.csv + pruning.json) and
// reads back exactly; the session keeps the same record.
TEST(Records, APruningSweepRoundTripsThroughItsFolder) {
    test::TempDir run;
    const std::string dir = run.file("pruning-20261130-120000");
    const PruneSweepRecord r = sampleSweep(dir);
    writePruneSweep(r);
    EXPECT_TRUE(fileExists(dir + "/pruning.csv"));
    EXPECT_EQ(findPruneSweeps(run.path()), std::vector<std::string>{dir});
    const PruneSweepRecord back = readPruneSweep(dir);
    EXPECT_EQ(back.dir, dir);
    EXPECT_TRUE(back.finished);
    EXPECT_EQ(back.options.methods, r.options.methods);
    EXPECT_EQ(back.options.levels, r.options.levels);
    EXPECT_EQ(back.options.finetuneEpochs, 1);
    EXPECT_TRUE(back.options.perStage);
    EXPECT_DOUBLE_EQ(back.result.baselineAccuracy, 0.8125);
    EXPECT_EQ(back.result.baselineMacs, 50000);
    ASSERT_EQ(back.result.rows.size(), 2u);
    EXPECT_EQ(back.result.rows[0].scope, "stage 2");
    EXPECT_DOUBLE_EQ(back.result.rows[0].finetunedAccuracy, 0.75);
    EXPECT_DOUBLE_EQ(back.result.rows[1].finetunedAccuracy, -1);
    EXPECT_EQ(back.result.rows[0].modelDir, r.result.rows[0].modelDir);
    // The JSON text is the same after a second trip (nothing lost or reordered).
    EXPECT_EQ(pruneSweepToJson(back).substr(0, 40), pruneSweepToJson(r).substr(0, 40));
}

TEST(Records, PruningRecordFieldsAreCheckedByName) {
    const std::string good = pruneSweepToJson(sampleSweep("/x"));
    auto damaged = [&](const std::function<void(nlohmann::json&)>& edit) {
        nlohmann::json j = nlohmann::json::parse(good);
        edit(j);
        return messageOf([&] { pruneSweepFromJson(j.dump(), "pruning.json"); });
    };
    EXPECT_NE(damaged([](auto& j) { j["result"]["rows"][0]["test_acc"] = 1.5; }).find("test_acc"),
              std::string::npos);
    EXPECT_NE(damaged([](auto& j) { j["result"]["rows"][0]["macs"] = -5; }).find("macs"),
              std::string::npos);
    EXPECT_NE(damaged([](auto& j) { j["result"]["rows"][0]["method"] = "random"; }).find("method"),
              std::string::npos);
    EXPECT_NE(damaged([](auto& j) { j["result"]["rows"][1]["level"] = 1.0; }).find("level"),
              std::string::npos);
    EXPECT_NE(damaged([](auto& j) {
                  j["result"]["rows"][0]["nonzero_params"] = 601;
              }).find("nonzero_params"),
              std::string::npos);
    EXPECT_NE(damaged([](auto& j) { j["result"]["baseline_acc"] = "high"; }).find("baseline_acc"),
              std::string::npos);
    EXPECT_NE(damaged([](auto& j) { j["format"] = "scalelab-session"; }).find("format"),
              std::string::npos);
    EXPECT_NE(messageOf([] { pruneSweepFromJson("{", "pruning.json"); }).find("not valid JSON"),
              std::string::npos);
}

TEST(Records, ARunLabelIsKeptInTheRunFolder) {
    test::TempDir run;
    EXPECT_EQ(readRunLabel(run.path()).name, "");  // no label.json: nothing given
    writeRunLabel(run.path(), {"baseline B0", "lr sweep; tag:keep"});
    const RunLabel back = readRunLabel(run.path());
    EXPECT_EQ(back.name, "baseline B0");
    EXPECT_EQ(back.notes, "lr sweep; tag:keep");
    writeFileAtomic(run.file("label.json"), std::string("{\"name\": 3}"));
    EXPECT_NE(messageOf([&] { readRunLabel(run.path()); }).find("'name'"), std::string::npos);
}
