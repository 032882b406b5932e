// `bench-ops`: kernel micro-benchmarks (depthwise convolution, matmul and convolution peaks).

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>

#include "app/cli/commands.h"
#include "app/cli/model_args.h"
#include "app/cli/option_checks.h"
#include "core/models/analysis.h"
#include "core/models/arch_plan.h"
#include "core/ops/op_bench.h"
#include "core/runtime.h"
#include "core/train/bench.h"
#include "core/train/kernel_choice_json.h"

namespace scalelab::cli {

namespace {

struct BenchOpsOptions {
    int batchSize = 128;
    int reps = 5;
};

struct BenchCliOptions {
    BenchOptions bench;  // BenchOptions{}'s defaults are the options' defaults
    ModelOptions model;
    int resolution = 0;  // --resolution PX: the input side (0: the model's own)
    bool json = false;
    bool allowMemory = false;
    bool layers = false;  // --layers: per-layer-type GFLOP/s and the alternative kernels
};

// `bench --layers`: every dense-conv and linear shape of the model timed with LibTorch's path,
// im2col + GEMM and (stride-1 3x3) Winograd -- ours F(2x2, 3x3) and, for inference, oneDNN's
// F(4x4, 3x3) -- in inference and training, against the peak
// measured in the same run.
int runBenchLayers(const BenchCliOptions& options) {
    const BenchOptions& o = options.bench;
    applyThreadCount(o.threads);
    const ArchPlan plan = planModel(o.spec);
    const int reps = std::clamp(o.steps, 1, 10);
    const double matmul = benchMatmulGflops(2048, 5);
    const double convGemm = benchConvGemmGflops(5);
    const double peak = std::max(matmul, convGemm);
    nlohmann::ordered_json j;
    j["model"] = o.spec.name;
    j["resolution"] = o.spec.resolution;
    j["batch_size"] = o.batchSize;
    j["threads"] = runtimeInfo().threads;
    j["matmul_gflops"] = matmul;
    j["conv_gemm_gflops"] = convGemm;
    j["peak_gflops"] = peak;
    if (!options.json) {
        std::printf(
            "%s at %d px, batch %lld, %d threads, NCHW float32\n"
            "peak: %.1f GFLOP/s, the higher of a 2048x2048 matmul (OpenBLAS) %.1f and "
            "a GEMM-shaped 1x1 convolution (LibTorch's path) %.1f\n"
            "(the Winograd columns are effective rates, the direct convolution's MACs over the "
            "time: they multiply less, so they can pass the peak)\n",
            o.spec.name.c_str(), o.spec.resolution, (long long)o.batchSize, runtimeInfo().threads,
            peak, matmul, convGemm);
    }
    for (const bool training : {false, true}) {
        if (training && !o.train) {
            continue;
        }
        const std::vector<LayerTiming> t = benchLayers(plan, o.batchSize, training, reps);
        const double flopsPerMac = training ? 6.0 : 2.0;  // backward ~ 2 x forward
        auto gflops = [&](const LayerTiming& l, double ms) {
            return ms > 0 ? flopsPerMac * double(l.macs) * double(o.batchSize) / (ms * 1e6) : 0.0;
        };
        // Per type: every layer of it, timed with each kernel and with the best per shape.
        struct Sum {
            int64_t macs = 0;
            double torchMs = 0, bestMs = 0, im2colMs = 0, winogradMs = 0, onednnMs = 0;
            bool im2col = true, winograd = true, onednn = true;
        };
        std::map<std::string, Sum> sums;
        std::vector<std::string> order;
        nlohmann::ordered_json rows = nlohmann::ordered_json::array();
        if (!options.json) {
            std::printf("\n%s (%s):\n%-11s %-28s %6s %11s %11s %11s %11s %9s\n",
                        training ? "training" : "inference",
                        training ? "forward + backward, GFLOP/s = 3 x 2 x MACs / time"
                                 : "forward, GFLOP/s = 2 x MACs / time",
                        "type", "shape", "layers", "LibTorch", "im2col+GEMM", "Winograd",
                        "oneDNN-wino", "fastest");
        }
        for (const LayerTiming& l : t) {
            double best = l.torchMs;
            std::string winner = "LibTorch";
            if (l.im2colMs > 0 && l.im2colMs < best) {
                best = l.im2colMs;
                winner = "im2col";
            }
            if (l.winogradMs > 0 && l.winogradMs < best) {
                best = l.winogradMs;
                winner = "Winograd";
            }
            if (l.onednnWinogradMs > 0 && l.onednnWinogradMs < best) {
                best = l.onednnWinogradMs;
                winner = "oneDNN-wino";
            }
            if (!sums.count(l.type)) {
                order.push_back(l.type);
            }
            Sum& s = sums[l.type];
            s.macs += l.macs * l.count;
            s.torchMs += l.torchMs * l.count;
            s.bestMs += best * l.count;
            s.im2colMs += l.im2colMs * l.count;
            s.winogradMs += l.winogradMs * l.count;
            s.im2col = s.im2col && l.im2colMs > 0;
            s.winograd = s.winograd && l.winogradMs > 0;
            s.onednnMs += l.onednnWinogradMs * l.count;
            s.onednn = s.onednn && l.onednnWinogradMs > 0;
            auto cell = [&](double ms) {
                char buf[32];
                if (ms <= 0) {
                    return std::string("-");
                }
                std::snprintf(buf, sizeof buf, "%.1f", gflops(l, ms));
                return std::string(buf);
            };
            if (!options.json) {
                std::printf("%-11s %-28s %6d %11s %11s %11s %11s %9s\n", l.type.c_str(),
                            l.shape.c_str(), l.count, cell(l.torchMs).c_str(),
                            cell(l.im2colMs).c_str(), cell(l.winogradMs).c_str(),
                            cell(l.onednnWinogradMs).c_str(), winner.c_str());
            }
            rows.push_back({{"type", l.type},
                            {"shape", l.shape},
                            {"layers", l.count},
                            {"macs_per_image", l.macs},
                            {"libtorch_ms", l.torchMs},
                            {"im2col_ms", l.im2colMs > 0 ? nlohmann::ordered_json(l.im2colMs)
                                                         : nlohmann::ordered_json(nullptr)},
                            {"winograd_ms", l.winogradMs > 0 ? nlohmann::ordered_json(l.winogradMs)
                                                             : nlohmann::ordered_json(nullptr)},
                            {"onednn_winograd_ms", l.onednnWinogradMs > 0
                                                       ? nlohmann::ordered_json(l.onednnWinogradMs)
                                                       : nlohmann::ordered_json(nullptr)},
                            {"fastest", winner}});
        }
        int64_t allMacs = 0;
        for (const auto& [type, s] : sums) {
            allMacs += s.macs;
        }
        nlohmann::ordered_json types = nlohmann::ordered_json::array();
        if (!options.json) {
            std::printf(
                "\nper type (all its layers): share of the MACs, GFLOP/s and %% of the "
                "peak\n%-11s %6s %17s %17s %17s %17s %17s\n",
                "type", "MACs", "LibTorch", "im2col+GEMM", "Winograd", "oneDNN-wino",
                "fastest/shape");
        }
        for (const std::string& type : order) {
            const Sum& s = sums[type];
            auto rate = [&](double ms) {
                return ms > 0 ? flopsPerMac * double(s.macs) * double(o.batchSize) / (ms * 1e6)
                              : 0.0;
            };
            auto cell = [&](double ms, bool ok) {
                char buf[48];
                if (!ok) {
                    return std::string("-");
                }
                std::snprintf(buf, sizeof buf, "%.1f (%.0f %%)", rate(ms), 100 * rate(ms) / peak);
                return std::string(buf);
            };
            if (!options.json) {
                std::printf("%-11s %5.1f%% %17s %17s %17s %17s %17s\n", type.c_str(),
                            100.0 * double(s.macs) / double(std::max<int64_t>(allMacs, 1)),
                            cell(s.torchMs, true).c_str(), cell(s.im2colMs, s.im2col).c_str(),
                            cell(s.winogradMs, s.winograd).c_str(),
                            cell(s.onednnMs, s.onednn).c_str(), cell(s.bestMs, true).c_str());
            }
            types.push_back(
                {{"type", type},
                 {"macs_share", double(s.macs) / double(std::max<int64_t>(allMacs, 1))},
                 {"libtorch_gflops", rate(s.torchMs)},
                 {"im2col_gflops", s.im2col ? nlohmann::ordered_json(rate(s.im2colMs))
                                            : nlohmann::ordered_json(nullptr)},
                 {"winograd_gflops", s.winograd ? nlohmann::ordered_json(rate(s.winogradMs))
                                                : nlohmann::ordered_json(nullptr)},
                 {"onednn_winograd_gflops", s.onednn ? nlohmann::ordered_json(rate(s.onednnMs))
                                                     : nlohmann::ordered_json(nullptr)},
                 {"fastest_per_shape_gflops", rate(s.bestMs)}});
        }
        j[training ? "training" : "inference"] = {{"shapes", rows}, {"types", types}};
    }
    if (options.json) {
        std::cout << j.dump(2) << "\n";
    } else {
        std::printf("\n(depthwise convolutions: scalelab-cli bench-ops)\n");
    }
    return 0;
}

int runBenchOps(const BenchOpsOptions& o) {
    const int batch = o.batchSize;
    const int reps = o.reps;
    std::printf("matmul 2048x2048 float32: %.1f GFLOP/s\n", benchMatmulGflops(2048, reps));
    std::printf(
        "1x1 convolution 1024->1024 ch, 8 x 32x32 (a GEMM through LibTorch's conv path): "
        "%.1f GFLOP/s\n\n",
        benchConvGemmGflops(reps));
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

int runBench(BenchCliOptions& options) {
    // --resolution PX is the input side; the spec is built at that base resolution.
    if (options.resolution > 0) {
        options.model.baseResolution = options.resolution;
    }
    BenchOptions& o = options.bench;
    o.spec = parseModelArgs(options.model).spec;
    // Before anything is allocated: a batch that cannot fit is refused, not OOM-killed (the
    // whole model's training estimate also bounds --layers, which holds one layer at a time).
    checkMemory("bench of " + o.spec.name + " at batch " + std::to_string(o.batchSize),
                analyzeModel(o.spec).trainingMemoryBytes(o.batchSize), options.allowMemory,
                "--allow-memory");
    if (options.layers) {
        return runBenchLayers(options);
    }
    const BenchResult r = benchModel(o);
    if (options.json) {
        nlohmann::ordered_json j;
        j["model"] = o.spec.name;
        j["resolution"] = o.spec.resolution;
        j["in_channels"] = o.spec.inChannels;
        j["num_classes"] = o.spec.numClasses;
        j["batch_size"] = o.batchSize;
        j["steps"] = o.steps;
        j["device"] = r.device;
        j["threads"] = r.threads;
        auto kernels = [&](const KernelChoice& k) {
            nlohmann::ordered_json out = kernelChoiceToJson(k);
            if (!r.hasDepthwise) {
                out["fast_depthwise"] = nullptr;  // nothing to choose
            }
            return out;
        };
        j["train_kernels"] = o.train ? kernels(r.trainKernels) : nlohmann::ordered_json(nullptr);
        j["infer_kernels"] = kernels(r.inferKernels);
        const auto orNull = [&](double v) {
            return o.train ? nlohmann::ordered_json(v) : nlohmann::ordered_json(nullptr);
        };
        j["train_step_ms"] = orNull(r.trainStepMs);
        j["infer_step_ms"] = r.inferStepMs;
        j["train_images_per_s"] = orNull(r.trainImagesPerSec);
        j["infer_images_per_s"] = r.inferImagesPerSec;
        j["macs_per_image"] = r.macs;
        j["train_gflops"] = orNull(r.trainGflops);
        j["recompute"] = o.recompute;
        j["train_peak_rss_bytes"] =
            o.train ? nlohmann::ordered_json(r.trainPeakRssBytes) : nlohmann::ordered_json(nullptr);
        j["infer_gflops"] = r.inferGflops;
        std::cout << j.dump(2) << "\n";
        return 0;
    }
    std::printf("%s, %d x %d x %d px, batch %lld, %s, %d thread%s\n", o.spec.name.c_str(),
                o.spec.inChannels, o.spec.resolution, o.spec.resolution, (long long)o.batchSize,
                r.device.c_str(), r.threads, r.threads == 1 ? "" : "s");
    if (o.train) {
        std::printf("  kernels, training:  %s\n",
                    describeKernelChoice(r.trainKernels, r.hasDepthwise).c_str());
    }
    std::printf("  kernels, inference: %s\n",
                describeKernelChoice(r.inferKernels, r.hasDepthwise).c_str());
    for (const KernelChoice* k : {&r.trainKernels, &r.inferKernels}) {
        if (!k->note.empty()) {
            std::printf("  note: %s\n", k->note.c_str());
        }
    }
    if (o.train) {
        std::printf(
            "  train      %8.1f images/s  (median step %.1f ms over %d steps, %d warm-up)  "
            "~%.1f GFLOP/s\n",
            r.trainImagesPerSec, r.trainStepMs, o.steps, o.warmup, r.trainGflops);
        std::printf("  train memory  %.0f MB peak resident (the whole process, getrusage)%s\n",
                    double(r.trainPeakRssBytes) / 1e6,
                    o.recompute ? "" : ", BatchNorm + activation kept (--no-recompute)");
    }
    std::printf("  inference  %8.1f images/s  (median step %.1f ms)  ~%.1f GFLOP/s\n",
                r.inferImagesPerSec, r.inferStepMs, r.inferGflops);
    std::printf("  (GFLOP/s: 2 x %lld MACs per image forward; training counts 3x forward)\n",
                (long long)r.macs);
    return 0;
}

}  // namespace

Command addBenchOps(CLI::App& app) {
    auto o = std::make_shared<BenchOpsOptions>();
    CLI::App* sub = app.add_subcommand(
        "bench-ops",
        "kernel timings: depthwise conv (LibTorch vs ours), matmul and 1x1-convolution GEMM peaks");
    sub->add_option("--batch-size", o->batchSize, "images per depthwise convolution")
        ->capture_default_str()
        ->transform(Decimal)
        ->check(CLI::Range(1, 65536));
    sub->add_option("--reps", o->reps, "repetitions of each timing")
        ->capture_default_str()
        ->transform(Decimal)
        ->check(CLI::Range(1, 10000));
    return {sub, [o] { return runBenchOps(*o); }};
}

Command addBench(CLI::App& app) {
    auto o = std::make_shared<BenchCliOptions>();
    CLI::App* sub = app.add_subcommand(
        "bench",
        "training and inference images/s on random data (warm-up excluded), with the layout and "
        "depthwise kernel measured fastest for each (cached; --layout, --depthwise fix them); "
        "--allow-memory runs a batch above the available memory");
    addModelOptions(*sub, o->model, false);
    BenchOptions& b = o->bench;
    sub->add_option("--resolution", o->resolution,
                    "input side in px (default: the model's own, --base-resolution)")
        ->transform(Decimal)
        ->check(CLI::Range(1, 2048));
    sub->add_option("--batch-size", b.batchSize, "images per step")
        ->capture_default_str()
        ->transform(Decimal)
        ->check(CLI::Range(1, 65536));
    sub->add_option("--steps", b.steps, "timed steps (after the warm-up)")
        ->capture_default_str()
        ->transform(Decimal)
        ->check(CLI::Range(1, 100000));
    sub->add_option("--warmup", b.warmup, "untimed steps first")
        ->capture_default_str()
        ->transform(Decimal)
        ->check(CLI::Range(0, 100000));
    sub->add_option("--device", b.device, "auto | cpu | cuda[:N]")
        ->type_name("DEVICE")
        ->capture_default_str();
    sub->add_option("--threads", b.threads, "CPU threads (0: every core)")
        ->capture_default_str()
        ->transform(Decimal)
        ->check(CLI::Range(0, maxThreads()));
    addChoice(*sub, "--layout", b.layout,
              "memory layout (auto: the faster as timed at first use on this machine, cached)");
    addChoice(*sub, "--depthwise", b.depthwise,
              "depthwise convolution kernel (auto: the faster as timed at first use, cached)");
    sub->add_flag_callback(
        "--no-channels-last", [&b] { b.layout = LayoutChoice::Nchw; }, "same as --layout nchw");
    sub->add_flag_callback(
        "--torch-depthwise", [&b] { b.depthwise = DepthwiseChoice::LibTorch; },
        "same as --depthwise libtorch");
    sub->add_option("--kernel-cache", b.kernelCache,
                    "the kernel-choice cache file (default: ~/.cache/scalelab/kernels.json; "
                    "- measures without a cache)");
    sub->add_flag_callback(
        "--no-train", [&b] { b.train = false; }, "inference only (large models, native sizes)");
    sub->add_flag_callback(
        "--no-recompute", [&b] { b.recompute = false; },
        "train with the modules' own forward, keeping every BatchNorm and activation output for "
        "the backward pass (default: recompute them there, about a third of the memory)");
    sub->add_flag("--layers", o->layers,
                  "per-layer-type GFLOP/s against the measured peak (matmul or a GEMM-shaped "
                  "convolution): every dense conv and linear "
                  "shape timed with LibTorch's path, im2col + GEMM and Winograd F(2x2,3x3)");
    sub->add_flag("--json", o->json, "the result as JSON");
    sub->add_flag("--allow-memory", o->allowMemory,
                  "run even when the estimate exceeds the available memory");
    return {sub, [o] { return runBench(*o); }};
}

}  // namespace scalelab::cli
