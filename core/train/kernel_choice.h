#pragma once
// Which memory layout (NCHW or channels-last) and which depthwise kernel (ours or LibTorch's) a
// model runs fastest with on this machine, chosen by timing a few steps of each candidate the
// first time a model, batch and thread count are seen, and cached in the user's cache folder
// (keyed by CPU model, thread count and LibTorch version). Measured, not assumed: on a 2-core
// AVX2 EPYC channels-last makes EfficientNet-B0 faster and ResNet-18 slower (docs/BENCHMARKS.md).
// Torch-free interface.

#include <cstdint>
#include <string>
#include <vector>

#include "core/models/arch_plan.h"
#include "core/progress.h"

namespace scalelab {

enum class LayoutChoice { Auto, Nchw, ChannelsLast };
enum class DepthwiseChoice { Auto, Ours, LibTorch };

// "auto", "nchw", "channels-last" / "auto", "ours", "libtorch" (json_enums.h spells them).
std::string layoutChoiceName(LayoutChoice choice);
std::string depthwiseChoiceName(DepthwiseChoice choice);
// Parses the names above; SpecError naming `what` and the allowed names otherwise.
LayoutChoice parseLayoutChoice(const std::string& name, const std::string& what);
DepthwiseChoice parseDepthwiseChoice(const std::string& name, const std::string& what);

// One timed candidate.
struct KernelTiming {
    bool channelsLast = false;  // NHWC weights and activations
    bool fastDepthwise = true;  // our depthwise kernel (false: LibTorch's grouped conv2d)
    double msPerStep = 0;       // the fastest of the timed steps, milliseconds
    int64_t batch = 0;          // images per timed step
    bool blocked = false;       // inference in oneDNN's blocked layout (channelsLast false)
    bool winograd = false;      // inference on oneDNN directly, Winograd for 3x3/1 convolutions
    bool cut = false;           // stopped after its warm-up step, already over 1.5 x the best
                                // candidate's time (msPerStep is that warm-up step)
};

struct KernelChoice {
    bool channelsLast = false;          // NHWC weights and activations
    bool fastDepthwise = true;          // our depthwise kernel (matters only with depthwise layers)
    bool blocked = false;               // inference in oneDNN's blocked layout (a candidate for
                                        // ResNets with projection shortcuts; never for training)
    bool winograd = false;              // inference with every convolution on oneDNN directly,
                                        // stride-1 3x3 ones Winograd (AVX-512; never training)
    std::string source;                 // "measured" (now), "cache", "flags", "gpu" (no choice:
                                        // NCHW and LibTorch's kernels), "recorded" (a resumed
                                        // run keeps its choice)
    std::vector<KernelTiming> timings;  // what was measured (now or when cached); empty otherwise
    std::string key;                    // the cache key (machine, threads, LibTorch, model, batch)
    std::string note;                   // a problem with the cache ("" when none); never fatal
};

struct KernelRequest {
    ArchPlan plan;                             // the model (pruned plans too)
    int64_t batchSize = 128;                   // the run's images per step
    bool training = true;                      // time training steps, or eval forwards
    bool gpu = false;                          // a CUDA device: nothing to choose
    int threads = 1;                           // intra-op threads in use (part of the key)
    LayoutChoice layout = LayoutChoice::Auto;  // a flag fixes it, Auto measures
    DepthwiseChoice depthwise = DepthwiseChoice::Auto;
    std::string cacheFile;  // "" = kernelCacheFile(); "-" = no cache (always measure)
    int timedSteps = 2;     // per candidate, after one warm-up step (inference: the BatchNorm-
                            // folded inference path evaluation runs)
    int64_t maxBatch = 32;  // the timing batch is min(batchSize, maxBatch): ratios, not totals
};

// Chooses (measuring the free choices unless cached). `progress` counts candidates timed; false
// cancels (Cancelled). Throws SpecError for an impossible plan; a cache that cannot be read or
// written is reported in `note`, never thrown.
KernelChoice chooseKernels(const KernelRequest& request, const ProgressFn& progress = {});

// $SCALELAB_CACHE_DIR/kernels.json, else $XDG_CACHE_HOME/scalelab/kernels.json, else
// ~/.cache/scalelab/kernels.json.
std::string kernelCacheFile();
// This machine's CPU model ("AMD EPYC 7B13"), from /proc/cpuinfo; "unknown CPU" elsewhere.
std::string cpuModelName();

// "channels-last, our depthwise (measured: 181 vs 240 ms a step)" for logs and bench output.
std::string describeKernelChoice(const KernelChoice& choice, bool hasDepthwise);

// kernels.json in a run folder: the choice the run trained with (resumes keep it).
void writeKernelChoice(const std::string& runDir, const KernelChoice& choice);
// False when the folder has none (runs of earlier versions) or it is unreadable.
bool readKernelChoice(const std::string& runDir, KernelChoice& choice);

}  // namespace scalelab
