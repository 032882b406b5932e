// The inference path (core/models/inference_net.h): BatchNorm folded into the convolutions and
// activations fused in place give the logits and stage outputs of the model's own eval forward,
// for every family, a pruned plan, both layouts and both depthwise kernels.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/models/arch_plan.h"
#include "core/models/inference_net.h"
#include "core/models/model.h"
#include "family_cases.h"

using namespace scalelab;
using namespace scalelab::test;

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
