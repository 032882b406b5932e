#pragma once
// The models the path tests (inference and training) run over: every registered family, small,
// with and without pruning, and BatchNorm statistics as training leaves them.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/models/arch_plan.h"
#include "core/models/model.h"

namespace scalelab::test {

inline ModelSpec withParams(ModelSpec s, const ParamMap& params) {
    for (const auto& [k, v] : params) {
        s.params[k] = v;
    }
    validateSpec(s);
    return s;
}

inline ModelSpec scaled(const std::string& name, int res, double width, double depth = 1.0) {
    ModelSpec s = modelSpecFromName(name, 1, 10, res);
    s.width = width;
    s.depth = depth;
    return s;
}

// Statistics and affine parameters far from BatchNorm's fresh 0/1, as training leaves them, so
// that folding them matters (a fresh BatchNorm is nearly the identity).
inline void perturbBatchNorm(ScaleModelImpl& model, uint64_t seed) {
    torch::manual_seed(int64_t(seed));
    torch::NoGradGuard guard;
    for (const auto& m : model.modules(false)) {
        if (auto* bn = m->as<torch::nn::BatchNorm2d>()) {
            bn->running_mean.copy_(torch::randn_like(bn->running_mean) * 0.2);
            bn->running_var.copy_(torch::rand_like(bn->running_var) * 1.5 + 0.25);
            bn->weight.copy_(torch::rand_like(bn->weight) + 0.5);
            bn->bias.copy_(torch::randn_like(bn->bias) * 0.2);
        }
    }
}

struct Case {
    std::string what;
    ArchPlan plan;
};

inline std::vector<Case> everyFamily() {
    std::vector<Case> cases;
    auto add = [&](const std::string& what, const ModelSpec& s) {
        cases.push_back({what, planModel(s)});
    };
    add("efficientnet-b0, width 0.25", scaled("efficientnet-b0", 32, 0.25, 0.5));
    add("mobilenet-v2, width 0.35", scaled("mobilenet-v2", 32, 0.35, 0.5));
    add("resnet-18, width 0.25, small stem", scaled("resnet-18", 32, 0.25));
    add("resnet-18, width 0.25, ImageNet stem (max-pool)",
        withParams(scaled("resnet-18", 64, 0.25), {{"stem", std::string("imagenet")}}));
    add("resnet-50, blocks 1,1,1,1, width 0.25",
        withParams(scaled("resnet-50", 32, 0.25), {{"blocks", std::vector<int>{1, 1, 1, 1}}}));
    add("resnext50_32x4d, blocks 1,1,1,1, width 0.5",
        withParams(scaled("resnext50_32x4d", 32, 0.5), {{"blocks", std::vector<int>{1, 1, 1, 1}}}));
    add("wide_resnet50_2, blocks 1,1,1,1, width 0.25",
        withParams(scaled("wide_resnet50_2", 32, 0.25),
                   {{"blocks", std::vector<int>{1, 1, 1, 1}}}));
    add("resnet-cifar-8 (option-A shortcuts)", modelSpecFromName("resnet-cifar-8", 1, 10, 28));
    // Pruned: every block's inner widths cut to about half.
    for (const Case& c : std::vector<Case>(cases)) {
        if (c.what.rfind("efficientnet", 0) == 0 || c.what.rfind("resnet-cifar", 0) == 0 ||
            c.what.rfind("mobilenet", 0) == 0) {
            InnerWidths inner;
            for (const BlockPlan& b : c.plan.blocks) {
                std::vector<int> half;
                for (int w : b.inner) {
                    half.push_back(std::max(1, (w + 1) / 2));
                }
                inner.push_back(half);
            }
            cases.push_back({c.what + ", pruned to half", planModel(c.plan.spec, inner)});
        }
    }
    return cases;
}

inline double maxAbsDiff(const torch::Tensor& a, const torch::Tensor& b) {
    return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

// Runs `f` once per kernel variant the model can run: NCHW and channels-last, each with our
// depthwise kernel and (when the model has depthwise layers) LibTorch's, the variant set on
// the model and named in a trace.
template <typename F>
void forEachKernelVariant(ScaleModelImpl& model, F f) {
    for (const bool channelsLast : {false, true}) {
        for (const bool fast : {true, false}) {
            if (!fast && !model.hasDepthwise()) {
                continue;
            }
            SCOPED_TRACE(std::string(channelsLast ? "channels-last" : "NCHW") +
                         (fast ? ", our depthwise" : ", LibTorch's depthwise"));
            model.setChannelsLast(channelsLast);
            model.setFastDepthwise(fast);
            f();
        }
    }
}

}  // namespace scalelab::test
