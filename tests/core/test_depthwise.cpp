// The custom depthwise convolution against LibTorch's grouped conv2d, in double precision, for
// every kernel/stride/padding EfficientNet B0-B7 use and for degenerate map sizes.

#include <gtest/gtest.h>

#include "core/ops/depthwise_conv.h"

using namespace scalelab;

namespace {

struct Case {
    int64_t n, c, h, w, k, s;
};

}  // namespace

TEST(Depthwise, ForwardAndGradientsMatchLibTorch) {
    const Case cases[] = {
        {2, 3, 8, 8, 3, 1}, {2, 5, 9, 7, 3, 2},  {3, 4, 16, 16, 5, 1}, {2, 6, 15, 15, 5, 2},
        {2, 7, 1, 1, 3, 1}, {2, 7, 1, 1, 5, 2},  {4, 3, 2, 2, 3, 2},   {1, 2, 2, 3, 5, 1},
        {2, 8, 3, 3, 5, 2}, {2, 16, 4, 4, 3, 1}, {1, 1, 28, 28, 3, 2}, {2, 3, 10, 10, 5, 1},
    };
    for (const Case& t : cases) {
        SCOPED_TRACE("N" + std::to_string(t.n) + " C" + std::to_string(t.c) + " " +
                     std::to_string(t.h) + "x" + std::to_string(t.w) + " k" + std::to_string(t.k) +
                     " s" + std::to_string(t.s));
        const int64_t p = (t.k - 1) / 2;
        torch::manual_seed(t.c * 100 + t.k);
        auto opts = torch::TensorOptions().dtype(torch::kFloat64);
        auto x1 = torch::randn({t.n, t.c, t.h, t.w}, opts).requires_grad_(true);
        auto w1 = torch::randn({t.c, 1, t.k, t.k}, opts).requires_grad_(true);
        auto x2 = x1.detach().clone().requires_grad_(true);
        auto w2 = w1.detach().clone().requires_grad_(true);
        auto ours = depthwiseConv2d(x1, w1, t.s, p);
        auto ref = torch::conv2d(x2, w2, {}, t.s, p, 1, t.c);
        ASSERT_EQ(ours.sizes(), ref.sizes());
        EXPECT_LT((ours - ref).abs().max().item<double>(), 1e-12);
        auto g = torch::randn_like(ref);
        ours.backward(g);
        ref.backward(g);
        EXPECT_LT((x1.grad() - x2.grad()).abs().max().item<double>(), 1e-12);
        EXPECT_LT((w1.grad() - w2.grad()).abs().max().item<double>(), 1e-11);
    }
}

TEST(Depthwise, FloatAgreesAndFallsBackWhenDisabled) {
    torch::manual_seed(0);
    auto x = torch::randn({4, 32, 16, 16});
    auto w = torch::randn({32, 1, 5, 5});
    auto ref = torch::conv2d(x, w, {}, 2, 2, 1, 32);
    EXPECT_TRUE(torch::allclose(depthwiseConv2d(x, w, 2, 2), ref, 1e-4, 1e-5));
    setFastDepthwise(false);
    EXPECT_TRUE(torch::allclose(depthwiseConv2d(x, w, 2, 2), ref, 1e-5, 1e-6));
    setFastDepthwise(true);
}
