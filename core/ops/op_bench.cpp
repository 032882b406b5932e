#include "core/ops/op_bench.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>

#include "core/ops/depthwise_conv.h"

namespace scalelab {

namespace {

template <typename Fn>
double medianMs(int reps, Fn fn) {
    fn();  // warm-up
    std::vector<double> t;
    for (int r = 0; r < reps; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        fn();
        t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                        .count());
    }
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
}

}  // namespace

std::vector<OpTiming> benchDepthwise(int batch, int reps) {
    struct Shape {
        int64_t c, side, k, s;
    };
    // Shapes of EfficientNet-B0 at 32 px input (channels, input side, kernel, stride).
    const Shape shapes[] = {{32, 16, 3, 1}, {96, 16, 3, 2},  {144, 8, 3, 1}, {144, 8, 5, 2},
                            {240, 4, 5, 1}, {240, 4, 3, 2},  {480, 2, 3, 1}, {672, 2, 5, 1},
                            {672, 2, 5, 2}, {1152, 1, 5, 1}, {1152, 1, 3, 1}};
    std::vector<OpTiming> out;
    torch::NoGradGuard outer;
    for (const Shape& sh : shapes) {
        const int64_t p = (sh.k - 1) / 2;
        // LibTorch gets its usual NCHW input; ours the channels-last layout the models feed it.
        auto x = torch::randn({batch, sh.c, sh.side, sh.side});
        auto xCL = x.contiguous(torch::MemoryFormat::ChannelsLast);
        auto w = torch::randn({sh.c, 1, sh.k, sh.k});
        OpTiming t;
        t.what = "depthwise " + std::to_string(sh.k) + "x" + std::to_string(sh.k) + "/" +
                 std::to_string(sh.s) + ", " + std::to_string(sh.c) + " ch, " +
                 std::to_string(sh.side) + "x" + std::to_string(sh.side) + " map";
        auto run = [&](bool ours, bool train) {
            return medianMs(reps, [&] {
                torch::AutoGradMode grad(train);
                const auto& src = ours ? xCL : x;
                auto xi = train ? src.detach().requires_grad_(true) : src;
                auto wi = train ? w.detach().requires_grad_(true) : w;
                auto y = ours ? depthwiseConv2d(xi, wi, sh.s, p)
                              : torch::conv2d(xi, wi, {}, sh.s, p, 1, sh.c);
                if (train) {
                    y.sum().backward();
                }
            });
        };
        t.torchForwardMs = run(false, false);
        t.torchTrainMs = run(false, true);
        t.oursForwardMs = run(true, false);
        t.oursTrainMs = run(true, true);
        out.push_back(t);
    }
    return out;
}

double benchMatmulGflops(int size, int reps) {
    auto a = torch::randn({size, size});
    auto b = torch::randn({size, size});
    torch::NoGradGuard guard;
    const double ms = medianMs(reps, [&] { torch::mm(a, b); });
    return 2.0 * double(size) * size * size / (ms * 1e-3) / 1e9;
}

}  // namespace scalelab
