#pragma once
// The ONNX graph of a LibTorch model, built by walking its layer plan (core/models/arch_plan.h
// says how data flows through it): onnx_graph.cpp with libonnx, else onnx_graph_stub.cpp, whose
// onnxExportAvailable() (onnx_api.h) is false. The run-folder side of the export is
// core/export/onnx_export.cpp.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/models/model.h"
#include "core/progress.h"

namespace scalelab {

constexpr int kOnnxOpset = 13;

struct OnnxGraphInfo {
    std::string bytes;    // the serialized ModelProto, checked by onnx::checker
    int64_t nodes = 0;    // nodes in the graph
    int64_t weights = 0;  // values in the initializers
};

// The model's graph with its weights (eval mode: BN running statistics, no dropout). `metadata`
// goes into metadata_props in this order. Throws Error naming the layer when a weight does not
// fit the plan, or when the checker rejects the graph (a bug: the message says which node).
OnnxGraphInfo buildOnnxGraph(const ScaleModelImpl& model,
                             const std::vector<std::pair<std::string, std::string>>& metadata,
                             const std::string& docString, const ProgressFn& progress = {});

}  // namespace scalelab
