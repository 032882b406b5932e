// `bench-ops`: kernel micro-benchmarks (depthwise convolution, matmul peak).

#include <cstdio>

#include "app/cli/args.h"
#include "app/cli/commands.h"
#include "app/cli/model_args.h"
#include "core/ops/op_bench.h"
#include "core/train/bench.h"

#include <iostream>
#include <nlohmann/json.hpp>

#include "core/models/analysis.h"
#include "core/runtime.h"

namespace scalelab::cli {

int runBenchOps(const std::vector<std::string>& argv) {
    Args args(argv, {"batch-size", "reps"}, {});
    const int batch = args.getInt("batch-size", 128, 1, 65536);
    const int reps = args.getInt("reps", 5, 1, 10000);
    std::printf("matmul 2048x2048 float32: %.1f GFLOP/s\n\n", benchMatmulGflops(2048, reps));
    std::printf("%-42s %12s %12s %12s %12s %8s\n",
                "depthwise conv, batch " + std::to_string(batch) == ""
                    ? ""
                    : ("depthwise conv (batch " + std::to_string(batch) + ")").c_str(),
                "torch fwd", "torch f+b", "ours fwd", "ours f+b", "f+b x");
    for (const OpTiming& t : benchDepthwise(batch, reps)) {
        std::printf("%-42s %9.2f ms %9.2f ms %9.2f ms %9.2f ms %7.1fx\n", t.what.c_str(),
                    t.torchForwardMs, t.torchTrainMs, t.oursForwardMs, t.oursTrainMs,
                    t.torchTrainMs / t.oursTrainMs);
    }
    return 0;
}

int runBench(const std::vector<std::string>& argv) {
    std::set<std::string> opts = modelValueOptions();
    opts.erase("resolution");  // here --resolution is the input size in px
    opts.insert({"resolution", "batch-size", "steps", "warmup", "device", "threads"});
    Args args(argv, opts, {"json", "no-channels-last", "torch-depthwise", "allow-memory"});
    // --resolution PX is the input side; the spec is built at that base resolution.
    std::vector<std::string> specArgs;
    for (const auto& key : modelValueOptions()) {
        if (key != "resolution" && args.has(key)) {
            specArgs.push_back("--" + key);
            specArgs.push_back(args.get(key));
        }
    }
    if (args.has("resolution")) {
        specArgs.push_back("--base-resolution");
        specArgs.push_back(args.get("resolution"));
    }
    BenchOptions o;
    o.spec = modelSpecFromArgs(Args(specArgs, modelValueOptions(), {}));
    o.batchSize = args.getInt("batch-size", 128, 1, 65536);
    o.steps = args.getInt("steps", 10, 1, 100000);
    o.warmup = args.getInt("warmup", 2, 0, 100000);
    o.device = args.get("device", "auto");
    o.threads = args.getInt("threads", 0, 0, maxThreads());
    o.channelsLast = !args.flag("no-channels-last");
    o.fastDepthwise = !args.flag("torch-depthwise");
    if (o.batchSize < 1 || o.steps < 1 || o.warmup < 0) {
        throw UsageError("--batch-size and --steps must be >= 1, --warmup >= 0");
    }
    // Before anything is allocated: a batch that cannot fit is refused, not OOM-killed.
    checkMemory("bench of " + o.spec.name + " at batch " + std::to_string(o.batchSize),
                analyzeModel(o.spec).trainingMemoryBytes(o.batchSize), args.flag("allow-memory"),
                "--allow-memory");
    const BenchResult r = benchModel(o);
    if (args.flag("json")) {
        nlohmann::ordered_json j;
        j["model"] = o.spec.name;
        j["resolution"] = o.spec.resolution;
        j["in_channels"] = o.spec.inChannels;
        j["num_classes"] = o.spec.numClasses;
        j["batch_size"] = o.batchSize;
        j["steps"] = o.steps;
        j["device"] = r.device;
        j["threads"] = r.threads;
        j["channels_last"] = o.channelsLast;
        j["fast_depthwise"] = o.fastDepthwise;
        j["train_step_ms"] = r.trainStepMs;
        j["infer_step_ms"] = r.inferStepMs;
        j["train_images_per_s"] = r.trainImagesPerSec;
        j["infer_images_per_s"] = r.inferImagesPerSec;
        j["macs_per_image"] = r.macs;
        j["train_gflops"] = r.trainGflops;
        j["infer_gflops"] = r.inferGflops;
        std::cout << j.dump(2) << "\n";
        return 0;
    }
    std::printf("%s, %d x %d x %d px, batch %lld, %s, %d thread%s%s%s\n", o.spec.name.c_str(),
                o.spec.inChannels, o.spec.resolution, o.spec.resolution, (long long)o.batchSize,
                r.device.c_str(), r.threads, r.threads == 1 ? "" : "s",
                o.channelsLast ? ", channels-last" : "",
                o.fastDepthwise ? "" : ", LibTorch depthwise");
    std::printf(
        "  train      %8.1f images/s  (median step %.1f ms over %d steps, %d warm-up)  "
        "~%.1f GFLOP/s\n",
        r.trainImagesPerSec, r.trainStepMs, o.steps, o.warmup, r.trainGflops);
    std::printf("  inference  %8.1f images/s  (median step %.1f ms)  ~%.1f GFLOP/s\n",
                r.inferImagesPerSec, r.inferStepMs, r.inferGflops);
    std::printf("  (GFLOP/s: 2 x %lld MACs per image forward; training counts 3x forward)\n",
                (long long)r.macs);
    return 0;
}

}  // namespace scalelab::cli
