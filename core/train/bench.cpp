#include "core/train/bench.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>

#include "core/models/analysis.h"
#include "core/models/inference_net.h"
#include "core/models/model.h"
#include "core/runtime.h"
#include "core/train/device.h"

namespace scalelab {

namespace {

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

void sync(const torch::Device& d) {
    if (d.is_cuda()) {
        torch::cuda::synchronize(d.index());
    }
}

}  // namespace

BenchResult benchModel(const BenchOptions& o) {
    const torch::Device device = resolveDevice(o.device);
    BenchResult r;
    r.threads = applyThreadCount(o.threads);
    r.device = device.str();
    r.macs = analyzeModel(o.spec).macs;

    torch::manual_seed(0);
    ScaleModel model = buildModel(o.spec);
    r.hasDepthwise = model->hasDepthwise();
    KernelRequest kr;
    kr.plan = model->plan();
    kr.batchSize = o.batchSize;
    kr.gpu = !device.is_cpu();
    kr.threads = r.threads;
    kr.layout = o.layout;
    kr.depthwise = o.depthwise;
    kr.cacheFile = o.kernelCache;
    kr.training = true;
    if (o.train) {
        r.trainKernels = chooseKernels(kr);
    }
    kr.training = false;
    r.inferKernels = chooseKernels(kr);
    model->to(device);
    model->setChannelsLast(r.trainKernels.channelsLast && device.is_cpu());
    model->setFastDepthwise(r.trainKernels.fastDepthwise);
    model->setRecompute(o.recompute);
    const auto x =
        torch::randn({o.batchSize, o.spec.inChannels, o.spec.resolution, o.spec.resolution})
            .to(device);
    const auto y = torch::randint(o.spec.numClasses, {o.batchSize}, torch::kInt64).to(device);
    torch::optim::SGD opt(model->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));

    model->train();
    std::vector<double> train;
    for (int s = 0; o.train && s < o.warmup + o.steps; ++s) {
        const auto t0 = std::chrono::steady_clock::now();
        opt.zero_grad();
        auto loss = torch::nn::functional::cross_entropy(model->forward(x), y);
        loss.backward();
        opt.step();
        sync(device);
        if (s >= o.warmup) {
            train.push_back(
                std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                    .count());
        }
    }
    r.trainPeakRssBytes = peakResidentBytes();
    model->eval();
    model->setChannelsLast(r.inferKernels.channelsLast && device.is_cpu());
    model->setFastDepthwise(r.inferKernels.fastDepthwise);
    model->setBlockedInference(r.inferKernels.blocked);
    model->setWinogradInference(r.inferKernels.winograd);
    std::vector<double> infer;
    {
        torch::NoGradGuard guard;
        const InferenceNet net(*model);  // the inference path evaluation runs
        for (int s = 0; s < o.warmup + o.steps; ++s) {
            const auto t0 = std::chrono::steady_clock::now();
            auto logits = net.forward(x);
            sync(device);
            if (s >= o.warmup) {
                infer.push_back(
                    std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                        .count());
            }
        }
    }
    r.trainStepMs = median(train);
    r.inferStepMs = median(infer);
    r.trainImagesPerSec = o.train ? double(o.batchSize) / (r.trainStepMs / 1e3) : 0;
    r.inferImagesPerSec = double(o.batchSize) / (r.inferStepMs / 1e3);
    r.trainGflops = 6.0 * double(r.macs) * r.trainImagesPerSec / 1e9;
    r.inferGflops = 2.0 * double(r.macs) * r.inferImagesPerSec / 1e9;
    return r;
}

}  // namespace scalelab
