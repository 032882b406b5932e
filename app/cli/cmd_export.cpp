// `export`: a trained run (or a saved pruned model) as an ONNX file.

#include <cstdio>
#include <memory>
#include <string>

#include "app/cli/commands.h"
#include "app/cli/terminal_progress.h"
#include "core/export/onnx_api.h"

namespace scalelab::cli {

namespace {

struct ExportOptions {
    std::string run;
    std::string onnx;
};

std::string floats(const std::vector<float>& v) {
    std::string s;
    for (float x : v) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%s%.4f", s.empty() ? "" : ", ", double(x));
        s += buf;
    }
    return s;
}

int runExport(const ExportOptions& o) {
    OnnxExportResult r;
    {
        TerminalProgress bar("exporting");
        r = exportOnnx(o.run, o.onnx, bar.callback());
    }
    std::printf("%s: %s%s written to %s\n", o.run.c_str(), r.model.c_str(),
                r.pruned ? " (pruned)" : "", r.path.c_str());
    std::printf("  ONNX opset %d, %lld nodes, %lld weights, %.1f MB\n", r.opset, (long long)r.nodes,
                (long long)r.weights, double(r.bytes) / 1e6);
    std::printf("  input   'input'  float32 [batch, %lld, %lld, %lld]\n", (long long)r.channels,
                (long long)r.resolution, (long long)r.resolution);
    if (!r.mean.empty()) {
        std::printf("          pixel / 255, minus mean [%s], divided by std [%s]\n",
                    floats(r.mean).c_str(), floats(r.std).c_str());
    }
    std::printf("  output  'logits' float32 [batch, %lld]\n", (long long)r.classes);
    for (const std::string& w : r.warnings) {
        std::fprintf(stderr, "warning: %s\n", w.c_str());
    }
    return 0;
}

}  // namespace

Command addExport(CLI::App& app) {
    auto o = std::make_shared<ExportOptions>();
    CLI::App* sub = app.add_subcommand(
        "export",
        "a trained run (or a saved pruned model) as an ONNX file: opset 13, input 'input' "
        "[batch, C, R, R], output 'logits', normalization and class names in its metadata");
    sub->add_option("--run", o->run, "the run folder (or a saved pruned model)")
        ->type_name("DIR")
        ->required();
    sub->add_option("--onnx", o->onnx, "the ONNX file to write (replaced atomically)")
        ->type_name("FILE.onnx")
        ->required();
    return {sub, [o] { return runExport(*o); }};
}

}  // namespace scalelab::cli
