// The inference path (core/models/inference_net.h): BatchNorm folded into the convolutions and
// activations fused in place give the logits and stage outputs of the model's own eval forward,
// for every family, a pruned plan, both layouts and both depthwise kernels, and on oneDNN's blocked
// layout and its Winograd convolutions for the ResNets.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/models/arch_plan.h"
#include "core/models/inference_net.h"
#include "core/models/model.h"
#include "core/ops/onednn_conv.h"
#include "family_cases.h"

using namespace scalelab;
using namespace scalelab::test;

namespace {

// The net's logits and stage outputs against the model's own eval forward `want`: within 1e-4 of
// their scale, the same predicted classes.
void expectTheModelsOutputs(const InferenceNet& net, const torch::Tensor& x,
                            const FeatureOutputs& want) {
    const torch::Tensor logits = net.forward(x);
    ASSERT_EQ(logits.sizes(), want.logits.sizes());
    const double scale = std::max(1.0, want.logits.abs().max().item<double>());
    EXPECT_LT(maxAbsDiff(logits, want.logits), 1e-4 * scale);
    EXPECT_TRUE(torch::equal(logits.argmax(1), want.logits.argmax(1)));
    const FeatureOutputs got = net.forwardFeatures(x);
    ASSERT_EQ(got.stages.size(), want.stages.size());
    for (size_t s = 0; s < want.stages.size(); ++s) {
        ASSERT_EQ(got.stages[s].sizes(), want.stages[s].sizes()) << "stage " << s;
        const double m = std::max(1.0, want.stages[s].abs().max().item<double>());
        EXPECT_LT(maxAbsDiff(got.stages[s], want.stages[s]), 1e-4 * m) << "stage " << s;
    }
}

}  // namespace

TEST(InferencePath, LogitsAndStagesEqualTheModelForEveryFamily) {
    uint64_t seed = 1;
    for (const Case& c : everyFamily()) {
        SCOPED_TRACE(c.what);
        torch::manual_seed(int64_t(seed));
        ScaleModel model = buildModelFromPlan(c.plan);
        perturbBatchNorm(*model, seed++);
        model->eval();
        const int64_t r = c.plan.spec.resolution;
        const auto x = torch::randn({4, 1, r, r});
        int64_t norms = 0;
        for (const auto& m : model->modules(false)) {
            norms += m->as<torch::nn::BatchNorm2d>() != nullptr;
        }
        forEachKernelVariant(*model, [&] {
            torch::NoGradGuard guard;
            const FeatureOutputs want = model->forwardFeatures(x);
            const InferenceNet net(*model);
            EXPECT_EQ(net.foldedNorms(), norms);  // every BatchNorm follows a convolution
            EXPECT_GT(net.fusedActivations(), 0);
            expectTheModelsOutputs(net, x, want);
        });
    }
}

TEST(InferencePath, FoldingIsExactInDoublePrecision) {
    // In float64 the only difference left is the order of the arithmetic.
    torch::manual_seed(3);
    ScaleModel model = buildModel(scaled("efficientnet-b0", 32, 0.25, 0.5));
    perturbBatchNorm(*model, 3);
    model->to(torch::kDouble);
    model->eval();
    const auto x = torch::randn({2, 1, 32, 32}, torch::kDouble);
    torch::NoGradGuard guard;
    EXPECT_LT(maxAbsDiff(InferenceNet(*model).forward(x), model->forward(x)), 1e-10);
}

TEST(InferencePath, TheModelIsUntouchedAndLaterTrainingDoesNotReachTheNet) {
    torch::manual_seed(4);
    ScaleModel model = buildModel(modelSpecFromName("resnet-cifar-8", 1, 10, 16));
    perturbBatchNorm(*model, 4);
    model->eval();
    const auto x = torch::randn({2, 1, 16, 16});
    torch::NoGradGuard guard;
    const auto before = model->forward(x);
    const InferenceNet net(*model);
    const auto netBefore = net.forward(x);
    EXPECT_TRUE(torch::equal(model->forward(x), before));  // folding copies, never edits
    for (auto& p : model->parameters()) {
        p.add_(1.0);
    }
    EXPECT_TRUE(torch::equal(net.forward(x), netBefore));
}

TEST(InferencePath, GradCamGradientsReachTheStagesWhenTheGraphIsKept) {
    torch::manual_seed(5);
    ScaleModel model = buildModel(scaled("efficientnet-b0", 32, 0.25, 0.5));
    perturbBatchNorm(*model, 5);
    model->eval();
    const auto x = torch::randn({1, 1, 32, 32});
    const InferenceNet net(*model);
    torch::AutoGradMode grad(true);
    const FeatureOutputs f = net.forwardFeatures(x, /*keepGraph=*/true);
    const FeatureOutputs want = model->forwardFeatures(x);
    const size_t stage = f.stages.size() - 1;
    ASSERT_TRUE(f.logits.requires_grad());
    ASSERT_TRUE(f.stages[stage].requires_grad());
    ASSERT_TRUE(want.logits.requires_grad());
    const auto g = torch::autograd::grad({f.logits[0][3]}, {f.stages[stage]})[0];
    const auto gWant = torch::autograd::grad({want.logits[0][3]}, {want.stages[stage]})[0];
    EXPECT_LT(maxAbsDiff(g, gWant), 1e-5);
    EXPECT_GT(g.abs().max().item<double>(), 0);
}

TEST(InferencePath, OneDnnBlockedLayoutForResNetsEqualsTheModel) {
    uint64_t seed = 20;
    for (const Case& c : everyFamily()) {
        // ResNet, ResNeXt and wide ResNets with projection shortcuts; not the CIFAR ResNets
        // (option A), EfficientNet (SiLU, squeeze-excitation) or MobileNetV2 (ReLU6).
        const bool resnetWithProjections =
            (c.what.rfind("resnet", 0) == 0 || c.what.rfind("resnext", 0) == 0 ||
             c.what.rfind("wide_resnet", 0) == 0) &&
            c.what.rfind("resnet-cifar", 0) != 0;
        EXPECT_EQ(InferenceNet::blockedSupported(c.plan), resnetWithProjections) << c.what;
        if (!resnetWithProjections) {
            continue;
        }
        SCOPED_TRACE(c.what);
        torch::manual_seed(int64_t(seed));
        ScaleModel model = buildModelFromPlan(c.plan);
        perturbBatchNorm(*model, seed++);
        model->eval();
        model->setBlockedInference(true);
        const int64_t r = c.plan.spec.resolution;
        const auto x = torch::randn({3, 1, r, r});
        torch::NoGradGuard guard;
        const FeatureOutputs want = model->forwardFeatures(x);
        const InferenceNet net(*model);
        EXPECT_TRUE(net.blocked());
        const auto logits = net.forward(x);
        EXPECT_FALSE(logits.is_mkldnn());
        const double scale = std::max(1.0, want.logits.abs().max().item<double>());
        EXPECT_LT(maxAbsDiff(logits, want.logits), 1e-4 * scale);
        const FeatureOutputs got = net.forwardFeatures(x);
        for (size_t s = 0; s < want.stages.size(); ++s) {
            const double m = std::max(1.0, want.stages[s].abs().max().item<double>());
            EXPECT_LT(maxAbsDiff(got.stages[s], want.stages[s]), 1e-4 * m) << "stage " << s;
        }
        // A graph for Grad-CAM runs the dense weights.
        torch::AutoGradMode grad(true);
        const FeatureOutputs g = net.forwardFeatures(x, /*keepGraph=*/true);
        EXPECT_TRUE(g.logits.requires_grad());
        EXPECT_LT(maxAbsDiff(g.logits.detach(), want.logits), 1e-4 * scale);
    }
}

TEST(InferencePath, OneDnnWinogradForResNetsEqualsTheModel) {
    if (!InferenceNet::winogradSupported(everyFamily()[2].plan)) {
        GTEST_SKIP() << (oneDnnLinked() ? "oneDNN has no Winograd kernel on this processor"
                                        : "this build calls no oneDNN directly");
    }
    std::vector<Case> cases;
    for (const Case& c : everyFamily()) {
        // The blocked cases but ResNeXt (grouped 3x3 convolutions: oneDNN's direct path only).
        const bool expected =
            InferenceNet::blockedSupported(c.plan) && c.what.rfind("resnext", 0) != 0;
        EXPECT_EQ(InferenceNet::winogradSupported(c.plan), expected) << c.what;
        if (expected) {
            cases.push_back(c);
        }
    }
    // Channel counts that are no multiple of oneDNN's 16-channel blocks: a pruned ResNet-18.
    const Case r18 = everyFamily()[2];  // resnet-18, width 0.25
    InnerWidths inner;
    for (const BlockPlan& b : r18.plan.blocks) {
        std::vector<int> cut;
        for (int w : b.inner) {
            cut.push_back(std::max(1, w * 5 / 8 + 1));  // 16 -> 11, 32 -> 21, 64 -> 41, ...
        }
        inner.push_back(cut);
    }
    cases.push_back({r18.what + ", pruned to 5/8", planModel(r18.plan.spec, inner)});
    uint64_t seed = 40;
    for (const Case& c : cases) {
        SCOPED_TRACE(c.what);
        torch::manual_seed(int64_t(seed));
        ScaleModel model = buildModelFromPlan(c.plan);
        perturbBatchNorm(*model, seed++);
        model->eval();
        model->setWinogradInference(true);
        const int64_t r = c.plan.spec.resolution;
        torch::NoGradGuard guard;
        const InferenceNet net(*model);
        EXPECT_TRUE(net.winograd());
        EXPECT_FALSE(net.blocked());
        for (int64_t batch : {3, 5}) {  // a second shape compiles a second set of kernels
            const auto x = torch::randn({batch, 1, r, r});
            // Winograd F(4x4, 3x3) in float32 rounds differently from the direct sums: measured
            // up to 2.4e-6 of the logits' scale here; held to 1e-4 as every other path.
            expectTheModelsOutputs(net, x, model->forwardFeatures(x));
        }
        // A graph for Grad-CAM runs the dense weights.
        torch::AutoGradMode grad(true);
        const auto x = torch::randn({2, 1, r, r});
        const FeatureOutputs g = net.forwardFeatures(x, /*keepGraph=*/true);
        EXPECT_TRUE(g.logits.requires_grad());
    }
}

TEST(InferencePath, OneDnnConvolutionsEqualLibTorchs) {
    if (!oneDnnLinked()) {
        GTEST_SKIP() << "this build calls no oneDNN directly";
    }
    torch::NoGradGuard guard;
    torch::manual_seed(7);
    struct Shape {
        int64_t in, out, kernel, stride, size;
    };
    // Stride-1 3x3 (Winograd where the processor has it), strided, 1x1, a 7x7 stem on one plain
    // channel, and channel counts off the 16-channel blocks.
    for (const Shape s : {Shape{32, 48, 3, 1, 12}, Shape{16, 32, 3, 2, 9}, Shape{24, 40, 1, 1, 7},
                          Shape{1, 16, 7, 2, 20}, Shape{21, 13, 3, 1, 6}}) {
        SCOPED_TRACE(std::to_string(s.in) + "->" + std::to_string(s.out) + " k" +
                     std::to_string(s.kernel) + " s" + std::to_string(s.stride));
        const auto w = torch::randn({s.out, s.in, s.kernel, s.kernel}) * 0.2;
        const auto b = torch::randn({s.out});
        const int64_t pad = (s.kernel - 1) / 2;
        const auto x = torch::randn({4, s.in, s.size, s.size});
        for (bool relu : {false, true}) {
            for (bool winograd : {false, true}) {
                const OneDnnConv conv(w, b, s.stride, pad, relu, winograd);
                auto want = torch::conv2d(x, w, b, s.stride, pad);
                // The network's input arrives plain; every later layer's blocked.
                const auto fromPlain = conv.forward(x);
                const auto fromBlocked = conv.forward(toBlocked16(x));
                const auto residual = toBlocked16(torch::randn_like(want));
                const auto expectSum = fromBlocked16(residual, s.out) + want;
                const auto summed = conv.forward(toBlocked16(x), residual.clone());
                if (relu) {
                    want = want.relu();
                }
                const double scale = std::max(1.0, want.abs().max().item<double>());
                EXPECT_LT(maxAbsDiff(fromBlocked16(fromPlain, s.out), want), 1e-4 * scale);
                EXPECT_LT(maxAbsDiff(fromBlocked16(fromBlocked, s.out), want), 1e-4 * scale);
                EXPECT_LT(
                    maxAbsDiff(fromBlocked16(summed, s.out), relu ? expectSum.relu() : expectSum),
                    1e-4 * scale);
                // Channels past the real ones stay zero (the next layer reads them).
                if (s.out % 16 != 0) {
                    const auto lastBlock = fromBlocked.select(1, fromBlocked.size(1) - 1);
                    EXPECT_EQ(
                        lastBlock.narrow(3, s.out % 16, 16 - s.out % 16).abs().max().item<float>(),
                        0.f);
                }
                EXPECT_FALSE(conv.implementation().empty());
                if (winograd && s.kernel == 3 && s.stride == 1 && oneDnnWinogradAvailable()) {
                    EXPECT_NE(conv.implementation().find("wino"), std::string::npos)
                        << conv.implementation();
                }
            }
        }
    }
    // The blocked layout's own helpers.
    const auto x = torch::randn({2, 21, 6, 5});
    EXPECT_TRUE(torch::equal(fromBlocked16(toBlocked16(x), 21), x));
    EXPECT_LT(maxAbsDiff(globalPoolBlocked16(toBlocked16(x)).narrow(1, 0, 21), x.mean({2, 3})),
              1e-6);
    EXPECT_TRUE(torch::equal(fromBlocked16(maxPoolBlocked16(toBlocked16(x), 3, 2, 1), 21),
                             torch::max_pool2d(x, {3, 3}, {2, 2}, {1, 1})));
}
