// A build without libonnx (-DSCALELAB_WITH_ONNX=OFF, or libonnx-dev missing): exportOnnx
// (onnx_export.cpp) reports that ONNX support was not built before it reads anything.

#include "core/error.h"
#include "core/export/onnx_api.h"
#include "core/export/onnx_graph.h"

namespace scalelab {

bool onnxExportAvailable() {
    return false;
}

OnnxGraphInfo buildOnnxGraph(const ScaleModelImpl& model,
                             const std::vector<std::pair<std::string, std::string>>& metadata,
                             const std::string& docString, const ProgressFn& progress) {
    throw Error("ONNX support was not built into this ScaleLab");
}

}  // namespace scalelab
