// ONNX export, the run-folder side: which run, its model and weights, what the metadata says,
// where the file goes (atomically). The graph itself: core/export/onnx_graph.cpp with libonnx,
// else onnx_graph_stub.cpp (onnxExportAvailable() false).

#include <nlohmann/json.hpp>

#include <filesystem>

#include "core/data/file_io.h"
#include "core/error.h"
#include "core/export/onnx_api.h"
#include "core/export/onnx_graph.h"
#include "core/models/arch_plan.h"
#include "core/models/model.h"
#include "core/models/spec_json.h"
#include "core/runtime.h"
#include "core/train/run_folder.h"
#include "core/train/run_loader.h"

namespace scalelab {

namespace fs = std::filesystem;

namespace {

// The run's class names: config.json "class_names" (recorded since issue 12), else the test
// result in summary.json; empty when neither has one name per class.
std::vector<std::string> runClassNames(const std::string& dir, int64_t classes) {
    std::vector<std::string> names;
    try {
        const nlohmann::json cfg = readRunConfigJson(dir);
        if (cfg.contains("class_names") && cfg["class_names"].is_array()) {
            for (const auto& n : cfg["class_names"]) {
                if (n.is_string()) {
                    names.push_back(n.get<std::string>());
                }
            }
        }
        if (int64_t(names.size()) != classes && fileExists(joinPath(dir, runfile::kSummary))) {
            names = readRunSummary(dir).test.classNames;
        }
    } catch (const Error&) {
        names.clear();  // an unreadable summary only costs the names
    }
    if (int64_t(names.size()) != classes) {
        names.clear();
    }
    return names;
}

// Refuses what is no run (before anything is loaded) with a message naming what is missing.
void requireRunWithWeights(const std::string& dir) {
    if (dir.empty()) {
        throw DataError("no run folder given");
    }
    if (!dirExists(dir)) {
        throw DataError(dir + ": no such folder");
    }
    if (!fileExists(joinPath(dir, runfile::kConfig))) {
        throw DataError(dir + " is not a run folder (it has no " + runfile::kConfig + ")");
    }
    if (!fileExists(joinPath(dir, runfile::kWeights))) {
        throw DataError(dir + " has no " + runfile::kWeights +
                        ": the run has not finished an epoch, so there is no model to export");
    }
}

void requireWritableTarget(const std::string& path) {
    if (path.empty()) {
        throw Error("no ONNX file name given");
    }
    if (dirExists(path)) {
        throw Error(path + " is a folder; give the ONNX file's name (model.onnx)");
    }
    requireNotRunFile(path, "the ONNX file");  // never over a run's own weights.pt or config
    const fs::path parent = fs::path(path).parent_path();
    if (!parent.empty() && !dirExists(parent.string())) {
        throw Error(path + ": cannot write (the folder " + parent.string() + " does not exist)");
    }
}

}  // namespace

OnnxExportResult exportOnnx(const std::string& runDir, const std::string& onnxPath,
                            const ProgressFn& progress) {
    if (!onnxExportAvailable()) {
        throw Error(
            "ONNX support was not built into this ScaleLab (install libonnx-dev and configure "
            "with -DSCALELAB_WITH_ONNX=ON)");
    }
    requireRunWithWeights(runDir);
    requireWritableTarget(onnxPath);
    const RunModel run = loadRunModel(runDir);
    const ArchPlan& plan = run.model->plan();
    const ModelSpec& spec = plan.spec;

    OnnxExportResult r;
    r.path = onnxPath;
    r.model = spec.name;
    r.family = spec.family;
    r.pruned = planIsPruned(plan);
    r.opset = kOnnxOpset;
    r.channels = spec.inChannels;
    r.resolution = spec.resolution;
    r.classes = spec.numClasses;

    std::vector<std::pair<std::string, std::string>> meta = {
        {"model", spec.name},
        {"family", spec.family},
        {"in_channels", std::to_string(spec.inChannels)},
        {"resolution", std::to_string(spec.resolution)},
        {"num_classes", std::to_string(spec.numClasses)},
    };
    std::string input = "float32 [batch, " + std::to_string(spec.inChannels) + ", " +
                        std::to_string(spec.resolution) + ", " + std::to_string(spec.resolution) +
                        "]";
    if (readRunNormalization(runDir, spec.inChannels, r.mean, r.std)) {
        meta.emplace_back("normalization",
                          nlohmann::ordered_json{{"mean", r.mean}, {"std", r.std}}.dump());
        input +=
            ": pixel / 255, minus normalization.mean, divided by normalization.std, per "
            "channel";
    } else {
        input += ": pixels normalized as in training (the run records no normalization)";
        r.warnings.push_back(runDir +
                             " records no normalization (written by ScaleLab 0.1): the ONNX "
                             "metadata cannot say how inputs were scaled");
    }
    meta.emplace_back("input", input);
    const std::vector<std::string> classes = runClassNames(runDir, spec.numClasses);
    if (!classes.empty()) {
        meta.emplace_back("class_names", nlohmann::json(classes).dump());
    } else {
        r.warnings.push_back(runDir + " records no class names: the metadata lists none");
    }
    meta.emplace_back("pruned", r.pruned ? "true" : "false");
    if (r.pruned) {
        nlohmann::json inner = nlohmann::json::array();
        for (const BlockPlan& b : plan.blocks) {
            inner.push_back(b.inner);
        }
        meta.emplace_back("inner_widths", inner.dump());
    }
    meta.emplace_back("spec", specToJson(spec).dump());
    meta.emplace_back("producer", "ScaleLab 0.1.0, LibTorch " + runtimeInfo().torchVersion);

    const std::string doc = "ScaleLab " + spec.family + " model " + spec.name +
                            (r.pruned ? " (structurally pruned)" : "") + ". input: " + input +
                            ". output: logits float32 [batch, " + std::to_string(spec.numClasses) +
                            "].";
    const OnnxGraphInfo g = buildOnnxGraph(*run.model, meta, doc, progress);
    writeFileAtomic(onnxPath, g.bytes.data(), g.bytes.size());  // temp file + rename
    r.bytes = int64_t(g.bytes.size());
    r.nodes = g.nodes;
    r.weights = g.weights;
    return r;
}

}  // namespace scalelab
