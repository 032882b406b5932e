#include "core/ops/op_bench.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <tuple>

#include "core/ops/conv_kernels.h"
#include "core/ops/depthwise_conv.h"
#include "core/ops/onednn_conv.h"

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

double benchConvGemmGflops(int reps) {
    auto x = torch::randn({8, 1024, 32, 32});
    auto w = torch::randn({1024, 1024, 1, 1});
    torch::NoGradGuard guard;
    const double ms = medianMs(reps, [&] { torch::conv2d(x, w); });
    return 2.0 * 8 * 32 * 32 * 1024.0 * 1024.0 / (ms * 1e-3) / 1e9;
}

std::vector<LayerTiming> benchLayers(const ArchPlan& plan, int64_t batch, bool training, int reps) {
    // Distinct shapes in forward order: (type, in, out, kernel, stride, input side).
    using Key = std::tuple<std::string, int64_t, int64_t, int, int, int64_t>;
    std::map<Key, size_t> index;
    std::vector<std::pair<Key, LayerTiming>> shapes;
    for (const PlanLayer& l : plan.layers) {
        const bool dense = l.kind == LayerKind::Conv && l.groups == 1;
        if (!dense && l.kind != LayerKind::Linear) {
            continue;
        }
        const std::string type = dense
                                     ? "conv " + std::to_string(l.kernel) + "x" +
                                           std::to_string(l.kernel) + "/" + std::to_string(l.stride)
                                     : "linear";
        const Key key{type, l.in, l.out, l.kernel, l.stride, l.inSide};
        const auto it = index.find(key);
        if (it != index.end()) {
            ++shapes[it->second].second.count;
            continue;
        }
        LayerTiming t;
        t.type = type;
        t.shape = std::to_string(l.in) + "->" + std::to_string(l.out) + " ch" +
                  (dense ? ", " + std::to_string(l.inSide) + "x" + std::to_string(l.inSide) + " map"
                         : "");
        t.count = 1;
        t.macs = l.macs;
        index.emplace(key, shapes.size());
        shapes.emplace_back(key, t);
    }
    std::vector<LayerTiming> out;
    for (auto& [key, t] : shapes) {
        const auto& [type, in, outCh, k, stride, side] = key;
        const bool linear = type == "linear";
        const auto x = linear ? torch::randn({batch, in}) : torch::randn({batch, in, side, side});
        const auto w =
            linear ? torch::randn({outCh, in}) * 0.05 : torch::randn({outCh, in, k, k}) * 0.05;
        const auto b = torch::randn({outCh});
        const int64_t pad = (k - 1) / 2;
        auto time = [&](auto&& fn) {
            return medianMs(reps, [&] {
                torch::AutoGradMode grad(training);
                auto xi = training ? x.detach().requires_grad_(true) : x;
                auto wi = training ? w.detach().requires_grad_(true) : w;
                auto y = fn(xi, wi);
                if (training) {
                    y.sum().backward();
                }
            });
        };
        t.torchMs = time([&](const torch::Tensor& xi, const torch::Tensor& wi) {
            return linear ? torch::linear(xi, wi, b) : torch::conv2d(xi, wi, b, stride, pad);
        });
        if (!linear) {
            t.im2colMs = time([&](const torch::Tensor& xi, const torch::Tensor& wi) {
                return convIm2colGemm(xi, wi, b, stride, pad);
            });
            if (k == 3 && stride == 1) {
                t.winogradMs = time([&](const torch::Tensor& xi, const torch::Tensor& wi) {
                    return convWinograd3x3(xi, wi, b);
                });
                if (!training && oneDnnWinogradAvailable()) {
                    // Activations stay in oneDNN's layout from layer to layer: timed without the
                    // conversion.
                    const OneDnnConv conv(w, b, 1, 1, false, /*winograd=*/true);
                    const torch::Tensor xb = toBlocked16(x);
                    torch::NoGradGuard guard;
                    const double ms = medianMs(reps, [&] { conv.forward(xb); });
                    if (conv.implementation().find("wino") != std::string::npos) {
                        t.onednnWinogradMs = ms;
                    }
                }
            }
        }
        out.push_back(t);
    }
    return out;
}

}  // namespace scalelab
