#pragma once
// Training and inference throughput of a model on random data. Torch-free interface.

#include <cstdint>
#include <string>

#include "core/models/model_spec.h"
#include "core/train/kernel_choice.h"

namespace scalelab {

struct BenchOptions {
    ModelSpec spec;                            // the model, at spec.resolution px
    int64_t batchSize = 128;                   // images per step
    int steps = 10;                            // timed steps (after the warm-up)
    int warmup = 2;                            // untimed steps first
    bool train = true;                         // time training steps too (false: inference only)
    std::string device = "auto";               // auto | cpu | cuda[:N]
    int threads = 0;                           // CPU threads; 0 = every core
    LayoutChoice layout = LayoutChoice::Auto;  // Auto: measured (and cached) like a run
    DepthwiseChoice depthwise = DepthwiseChoice::Auto;  // Auto: measured (and cached) like a run
    std::string kernelCache;                            // "" the user's cache, "-" none
    bool recompute = true;  // training recomputes BatchNorm + activation in the backward pass
                            // (core/models/train_path.h); false: the modules' own forward
};

struct BenchResult {
    std::string device;            // what ran ("cpu", "cuda:0")
    int threads = 0;               // CPU threads used
    double trainStepMs = 0;        // median training step (forward, backward, SGD update); 0
                                   // when not timed
    double inferStepMs = 0;        // median forward of the inference path (InferenceNet)
    double trainImagesPerSec = 0;  // batch / median train step
    double inferImagesPerSec = 0;
    int64_t macs = 0;           // per image, forward
    double trainGflops = 0;     // achieved: 3 x 2 x MACs x train images/s (backward ~ 2 x forward)
    double inferGflops = 0;     // achieved: 2 x MACs x inference images/s
    bool hasDepthwise = false;  // the model has depthwise convolutions
    KernelChoice trainKernels;  // the layout/kernels the training steps ran with, and why
    KernelChoice inferKernels;  // the same for inference
    uint64_t trainPeakRssBytes = 0;  // the process's peak resident set after the training
                                     // steps (getrusage: whole process, before inference)
};

// Runs the benchmark; throws SpecError for a bad spec or device.
BenchResult benchModel(const BenchOptions& options);

}  // namespace scalelab
