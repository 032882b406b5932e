#pragma once
// ONNX export of a trained run or a saved pruned model (issue 12). The model's layer plan is
// walked into an ONNX graph with the run's weights: opset 13, input "input" float32
// [batch, C, R, R] (pixels / 255, minus mean, divided by std, per channel), output "logits"
// float32 [batch, classes], the batch dimension dynamic. The normalization, class names, model
// name, family, resolution and spec go into the model's metadata_props. Written with Debian's
// libonnx (the ONNX protobuf and onnx::checker); a build without it reports that instead.
// Torch-free: the GUI includes it.
//
// The graph avoids what OpenCV 4.6's ONNX importer mishandles (docs/BENCHMARKS.md, "ONNX
// export"): no Identity nodes, no Clip (ReLU6 is 6 - Relu(6 - Relu(x))), no broadcasting Mul
// (squeeze-excitation's gate is resized to the map first), kernel_shape on every Conv.

#include <cstdint>
#include <string>
#include <vector>

#include "core/progress.h"

namespace scalelab {

struct OnnxExportResult {
    std::string path;                   // the file written
    std::string model;                  // the model's name ("efficientnet-b0")
    std::string family;                 // its family id ("efficientnet")
    bool pruned = false;                // a structurally pruned plan (plan.json)
    int opset = 0;                      // ai.onnx opset of the graph (13)
    int64_t bytes = 0;                  // size of the file
    int64_t nodes = 0;                  // nodes in the graph
    int64_t weights = 0;                // values in the initializers (parameters + BN statistics)
    int64_t channels = 0;               // input channels
    int64_t resolution = 0;             // input side, px
    int64_t classes = 0;                // logits per image
    std::vector<float> mean;            // normalization recorded in the metadata (empty: none)
    std::vector<float> std;             // per channel
    std::vector<std::string> warnings;  // for people: what the metadata lacks, and why
};

// True when this build can write ONNX (libonnx-dev was found and SCALELAB_WITH_ONNX is on).
bool onnxExportAvailable();

// Writes the model of the run folder `runDir` (config.json, weights.pt, plan.json for a pruned
// model) to `onnxPath` as an ONNX file, checked by onnx::checker first. The file is written to a
// temporary name next to it and renamed, so a failure leaves no partial file. `progress` gets
// (layers done, layers); false cancels (Cancelled).
// Throws DataError naming the run folder or its file (not a run folder, no weights.pt, a file
// that does not fit the model), Error naming `onnxPath` when it cannot be written, and Error
// saying so when this build has no ONNX support.
OnnxExportResult exportOnnx(const std::string& runDir, const std::string& onnxPath,
                            const ProgressFn& progress = {});

}  // namespace scalelab
