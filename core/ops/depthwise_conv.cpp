#include "core/ops/depthwise_conv.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>

namespace scalelab {

namespace {

std::atomic<bool> gFastDepthwise{true};

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define SCALELAB_VECTOR_CLONES __attribute__((target_clones("arch=haswell", "default")))
#else
#define SCALELAB_VECTOR_CLONES
#endif

// The kernels work in channels-last layout (NHWC): the innermost loop runs over channels, which
// are contiguous, so it vectorizes for any map size -- including the 1x1 and 2x2 maps where a
// per-plane loop is all overhead. Weights are transposed to [k*k, C] for the same reason.

// One output row (n, oh): out[ow, c] = sum_ij w[ij, c] * in[oh*s-p+i, ow*s-p+j, c].
template <typename T>
SCALELAB_VECTOR_CLONES void rowForward(const T* __restrict in, const T* __restrict w,
                                       T* __restrict out, int64_t oh, int64_t H, int64_t W,
                                       int64_t OW, int64_t C, int64_t k, int64_t s, int64_t p) {
    for (int64_t ow = 0; ow < OW; ++ow) {
        T* __restrict o = out + ow * C;
        for (int64_t c = 0; c < C; ++c) {
            o[c] = T(0);
        }
        for (int64_t i = 0; i < k; ++i) {
            const int64_t ih = oh * s - p + i;
            if (ih < 0 || ih >= H) {
                continue;
            }
            for (int64_t j = 0; j < k; ++j) {
                const int64_t iw = ow * s - p + j;
                if (iw < 0 || iw >= W) {
                    continue;
                }
                const T* __restrict src = in + (ih * W + iw) * C;
                const T* __restrict wv = w + (i * k + j) * C;
                for (int64_t c = 0; c < C; ++c) {
                    o[c] += wv[c] * src[c];
                }
            }
        }
    }
}

// One input-gradient row (n, ih), gathered: gin[ih, iw, c] = sum of w[ij, c] * gout[oh, ow, c]
// over the taps that read (ih, iw). No two tasks write the same value.
template <typename T>
SCALELAB_VECTOR_CLONES void rowBackwardInput(const T* __restrict gout, const T* __restrict w,
                                             T* __restrict gin, int64_t ih, int64_t W, int64_t OH,
                                             int64_t OW, int64_t C, int64_t k, int64_t s,
                                             int64_t p) {
    for (int64_t iw = 0; iw < W; ++iw) {
        T* __restrict g = gin + iw * C;
        for (int64_t c = 0; c < C; ++c) {
            g[c] = T(0);
        }
        for (int64_t i = 0; i < k; ++i) {
            const int64_t t = ih + p - i;
            if (t < 0 || t % s != 0 || t / s >= OH) {
                continue;
            }
            const int64_t oh = t / s;
            for (int64_t j = 0; j < k; ++j) {
                const int64_t u = iw + p - j;
                if (u < 0 || u % s != 0 || u / s >= OW) {
                    continue;
                }
                const T* __restrict gv = gout + (oh * OW + u / s) * C;
                const T* __restrict wv = w + (i * k + j) * C;
                for (int64_t c = 0; c < C; ++c) {
                    g[c] += wv[c] * gv[c];
                }
            }
        }
    }
}

// One image's share of the weight gradient: acc[ij, c] = sum_{oh,ow} gout[oh,ow,c] * in[..,c].
template <typename T>
SCALELAB_VECTOR_CLONES void imageBackwardWeight(const T* __restrict gout, const T* __restrict in,
                                                T* __restrict acc, int64_t H, int64_t W, int64_t OH,
                                                int64_t OW, int64_t C, int64_t k, int64_t s,
                                                int64_t p) {
    for (int64_t e = 0; e < k * k * C; ++e) {
        acc[e] = T(0);
    }
    for (int64_t oh = 0; oh < OH; ++oh) {
        for (int64_t ow = 0; ow < OW; ++ow) {
            const T* __restrict gv = gout + (oh * OW + ow) * C;
            for (int64_t i = 0; i < k; ++i) {
                const int64_t ih = oh * s - p + i;
                if (ih < 0 || ih >= H) {
                    continue;
                }
                for (int64_t j = 0; j < k; ++j) {
                    const int64_t iw = ow * s - p + j;
                    if (iw < 0 || iw >= W) {
                        continue;
                    }
                    const T* __restrict src = in + (ih * W + iw) * C;
                    T* __restrict a = acc + (i * k + j) * C;
                    for (int64_t c = 0; c < C; ++c) {
                        a[c] += gv[c] * src[c];
                    }
                }
            }
        }
    }
}

void checkArgs(const torch::Tensor& x, const torch::Tensor& w, int64_t stride) {
    TORCH_CHECK(x.dim() == 4, "depthwiseConv2d: input must be [N,C,H,W]");
    TORCH_CHECK(w.dim() == 4 && w.size(1) == 1 && w.size(2) == w.size(3) && w.size(0) == x.size(1),
                "depthwiseConv2d: weight must be [C,1,k,k] with C = input channels");
    TORCH_CHECK(stride == 1 || stride == 2, "depthwiseConv2d: stride must be 1 or 2");
    TORCH_CHECK(x.scalar_type() == w.scalar_type(), "depthwiseConv2d: dtype mismatch");
}

int64_t outSize(int64_t in, int64_t k, int64_t s, int64_t p) {
    return (in + 2 * p - k) / s + 1;
}

}  // namespace

void setFastDepthwise(bool enabled) {
    gFastDepthwise.store(enabled);
}
bool fastDepthwiseEnabled() {
    return gFastDepthwise.load();
}

namespace {

constexpr auto kCL = torch::MemoryFormat::ChannelsLast;

// [C,1,k,k] -> [k*k, C], contiguous.
torch::Tensor weightTaps(const torch::Tensor& w) {
    return w.reshape({w.size(0), w.size(2) * w.size(3)}).t().contiguous();
}

// Rows per parallel task: enough work per task to amortize scheduling.
int64_t grainRows(int64_t work) {
    return std::max<int64_t>(1, 32768 / std::max<int64_t>(work, 1));
}

}  // namespace

torch::Tensor depthwiseForward(const torch::Tensor& xIn, const torch::Tensor& wIn, int64_t s,
                               int64_t p) {
    checkArgs(xIn, wIn, s);
    const auto x = xIn.contiguous(kCL);
    const auto w = weightTaps(wIn);
    const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3), k = wIn.size(2);
    const int64_t OH = outSize(H, k, s, p), OW = outSize(W, k, s, p);
    auto out = torch::empty({N, C, OH, OW}, x.options().memory_format(kCL));
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "depthwiseForward", [&] {
        const scalar_t* xp = x.data_ptr<scalar_t>();
        const scalar_t* wp = w.data_ptr<scalar_t>();
        scalar_t* op = out.data_ptr<scalar_t>();
        at::parallel_for(0, N * OH, grainRows(OW * C * k * k), [&](int64_t b, int64_t e) {
            for (int64_t r = b; r < e; ++r) {
                const int64_t n = r / OH, oh = r % OH;
                rowForward<scalar_t>(xp + n * H * W * C, wp, op + r * OW * C, oh, H, W, OW, C, k, s,
                                     p);
            }
        });
    });
    return out;
}

torch::Tensor depthwiseBackwardInput(const torch::Tensor& gIn, const torch::Tensor& wIn, int64_t s,
                                     int64_t p, int64_t H, int64_t W) {
    const auto g = gIn.contiguous(kCL);
    const auto w = weightTaps(wIn);
    const int64_t N = g.size(0), C = g.size(1), OH = g.size(2), OW = g.size(3), k = wIn.size(2);
    auto gin = torch::empty({N, C, H, W}, g.options().memory_format(kCL));
    AT_DISPATCH_FLOATING_TYPES(g.scalar_type(), "depthwiseBackwardInput", [&] {
        const scalar_t* gp = g.data_ptr<scalar_t>();
        const scalar_t* wp = w.data_ptr<scalar_t>();
        scalar_t* ip = gin.data_ptr<scalar_t>();
        at::parallel_for(0, N * H, grainRows(W * C * k * k / (s * s)), [&](int64_t b, int64_t e) {
            for (int64_t r = b; r < e; ++r) {
                const int64_t n = r / H, ih = r % H;
                rowBackwardInput<scalar_t>(gp + n * OH * OW * C, wp, ip + r * W * C, ih, W, OH, OW,
                                           C, k, s, p);
            }
        });
    });
    return gin;
}

torch::Tensor depthwiseBackwardWeight(const torch::Tensor& gIn, const torch::Tensor& xIn, int64_t k,
                                      int64_t s, int64_t p) {
    const auto g = gIn.contiguous(kCL);
    const auto x = xIn.contiguous(kCL);
    const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
    const int64_t OH = g.size(2), OW = g.size(3);
    // Per-image partial sums, reduced over the batch afterwards: no two tasks write one value.
    auto partial =
        torch::empty({N, k * k, C}, x.options().memory_format(torch::MemoryFormat::Contiguous));
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "depthwiseBackwardWeight", [&] {
        const scalar_t* gp = g.data_ptr<scalar_t>();
        const scalar_t* xp = x.data_ptr<scalar_t>();
        scalar_t* pp = partial.data_ptr<scalar_t>();
        at::parallel_for(0, N, 1, [&](int64_t b, int64_t e) {
            for (int64_t n = b; n < e; ++n) {
                imageBackwardWeight<scalar_t>(gp + n * OH * OW * C, xp + n * H * W * C,
                                              pp + n * k * k * C, H, W, OH, OW, C, k, s, p);
            }
        });
    });
    // [k*k, C] -> [C, 1, k, k]
    return partial.sum(0).t().reshape({C, 1, k, k}).contiguous();
}

namespace {

class DepthwiseConvFunction : public torch::autograd::Function<DepthwiseConvFunction> {
public:
    static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                                 const torch::Tensor& w, int64_t stride, int64_t padding) {
        ctx->save_for_backward({x, w});
        ctx->saved_data["stride"] = stride;
        ctx->saved_data["padding"] = padding;
        return depthwiseForward(x, w, stride, padding);
    }

    static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::tensor_list grads) {
        const auto saved = ctx->get_saved_variables();
        const auto& x = saved[0];
        const auto& w = saved[1];
        const int64_t s = ctx->saved_data["stride"].toInt();
        const int64_t p = ctx->saved_data["padding"].toInt();
        const auto& g = grads[0];
        torch::Tensor gx, gw;
        if (ctx->needs_input_grad(0)) {
            gx = depthwiseBackwardInput(g, w, s, p, x.size(2), x.size(3));
        }
        if (ctx->needs_input_grad(1)) {
            gw = depthwiseBackwardWeight(g, x, w.size(2), s, p);
        }
        return {gx, gw, torch::Tensor(), torch::Tensor()};
    }
};

}  // namespace

torch::Tensor depthwiseConv2d(const torch::Tensor& x, const torch::Tensor& weight, int64_t stride,
                              int64_t padding) {
    if (!x.is_cpu() || !fastDepthwiseEnabled() || (stride != 1 && stride != 2)) {
        return torch::conv2d(x, weight, {}, stride, padding, 1, x.size(1));
    }
    return DepthwiseConvFunction::apply(x, weight, stride, padding);
}

}  // namespace scalelab
