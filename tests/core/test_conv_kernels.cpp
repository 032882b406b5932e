// The alternative dense convolution kernels of `bench --layers` (core/ops/conv_kernels.h) equal
// LibTorch's conv2d, forward and gradients, at odd and even sizes, strides and kernels.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/error.h"
#include "core/models/arch_plan.h"
#include "core/ops/conv_kernels.h"
#include "core/ops/op_bench.h"

using namespace scalelab;

namespace {

struct Shape {
    int64_t n, c, h, w, o, k, stride, pad;
};

double maxDiff(const torch::Tensor& a, const torch::Tensor& b) {
    return (a - b).abs().max().item<double>();
}

// Forward and both gradients of `fn` against torch::conv2d, in float64 (to `tol`).
template <typename Fn>
void expectSameAsConv2d(const Shape& s, bool withBias, Fn fn, double tol) {
    torch::manual_seed(7);
    const auto opts = torch::TensorOptions().dtype(torch::kDouble);
    auto x = torch::randn({s.n, s.c, s.h, s.w}, opts).requires_grad_(true);
    auto w = torch::randn({s.o, s.c, s.k, s.k}, opts).requires_grad_(true);
    auto b = withBias ? torch::randn({s.o}, opts) : torch::Tensor();
    const auto want = torch::conv2d(x, w, b, s.stride, s.pad);
    const auto got = fn(x, w, b);
    ASSERT_EQ(got.sizes(), want.sizes());
    EXPECT_LT(maxDiff(got, want), tol);
    const auto gy = torch::randn_like(want);
    const auto wantGrads = torch::autograd::grad({want}, {x, w}, {gy});
    const auto gotGrads = torch::autograd::grad({got}, {x, w}, {gy});
    EXPECT_LT(maxDiff(gotGrads[0], wantGrads[0]), tol) << "input gradient";
    EXPECT_LT(maxDiff(gotGrads[1], wantGrads[1]), tol) << "weight gradient";
}

}  // namespace

TEST(ConvKernels, Im2colGemmEqualsConv2d) {
    const Shape shapes[] = {{3, 5, 9, 7, 6, 3, 1, 1},   {3, 5, 9, 7, 6, 3, 2, 1},
                            {2, 4, 8, 8, 8, 1, 1, 0},   {2, 4, 9, 9, 8, 1, 2, 0},
                            {2, 1, 15, 15, 4, 7, 2, 3}, {1, 3, 1, 1, 2, 3, 1, 1}};
    for (const Shape& s : shapes) {
        for (const bool bias : {false, true}) {
            SCOPED_TRACE(std::to_string(s.k) + "x" + std::to_string(s.k) + "/" +
                         std::to_string(s.stride) + ", " + std::to_string(s.h) + "x" +
                         std::to_string(s.w) + (bias ? ", bias" : ""));
            expectSameAsConv2d(
                s, bias,
                [&](auto& x, auto& w, auto& b) { return convIm2colGemm(x, w, b, s.stride, s.pad); },
                1e-10);
        }
    }
}

TEST(ConvKernels, WinogradEqualsConv2dAtOddAndEvenSizes) {
    const Shape shapes[] = {{3, 5, 9, 7, 6, 3, 1, 1},
                            {2, 4, 8, 8, 8, 3, 1, 1},
                            {2, 3, 1, 1, 4, 3, 1, 1},
                            {1, 16, 2, 3, 16, 3, 1, 1}};
    for (const Shape& s : shapes) {
        for (const bool bias : {false, true}) {
            SCOPED_TRACE(std::to_string(s.h) + "x" + std::to_string(s.w) + (bias ? ", bias" : ""));
            expectSameAsConv2d(
                s, bias, [&](auto& x, auto& w, auto& b) { return convWinograd3x3(x, w, b); },
                1e-10);
        }
    }
    // float32: Winograd's transforms add rounding, still far inside 1e-4 of the output's scale.
    torch::manual_seed(8);
    const auto x = torch::randn({4, 64, 16, 16});
    const auto w = torch::randn({64, 64, 3, 3}) * 0.05;
    const auto want = torch::conv2d(x, w, {}, 1, 1);
    EXPECT_LT(maxDiff(convWinograd3x3(x, w, {}), want), 1e-4 * want.abs().max().item<double>());
    EXPECT_THROW(convWinograd3x3(x, torch::randn({64, 64, 5, 5}), {}), SpecError);
}

TEST(ConvKernels, LayerBenchCoversEveryDenseLayerShape) {
    const ArchPlan plan = planModel(modelSpecFromName("resnet-cifar-8", 1, 10, 16));
    const auto t = benchLayers(plan, 2, /*training=*/true, 1);
    int layers = 0;
    for (const PlanLayer& l : plan.layers) {
        layers += (l.kind == LayerKind::Conv && l.groups == 1) || l.kind == LayerKind::Linear;
    }
    int counted = 0;
    for (const LayerTiming& l : t) {
        counted += l.count;
        EXPECT_GT(l.torchMs, 0) << l.type << " " << l.shape;
        EXPECT_GT(l.macs, 0);
        EXPECT_EQ(l.winogradMs > 0, l.type == "conv 3x3/1") << l.shape;
        EXPECT_EQ(l.im2colMs > 0, l.type != "linear") << l.shape;
    }
    EXPECT_EQ(counted, layers);
}
