#include "core/ops/conv_kernels.h"

#include "core/error.h"

namespace scalelab {

namespace F = torch::nn::functional;

torch::Tensor convIm2colGemm(const torch::Tensor& x, const torch::Tensor& weight,
                             const torch::Tensor& bias, int64_t stride, int64_t padding) {
    const int64_t n = x.size(0), h = x.size(2), w = x.size(3);
    const int64_t o = weight.size(0), k = weight.size(2);
    const int64_t ho = (h + 2 * padding - k) / stride + 1;
    const int64_t wo = (w + 2 * padding - k) / stride + 1;
    torch::Tensor cols;
    if (k == 1 && stride == 1 && padding == 0) {
        cols = x.contiguous().view({n, x.size(1), h * w});  // a 1x1 convolution is a GEMM as is
    } else {
        cols =
            F::unfold(x.contiguous(), F::UnfoldFuncOptions({k, k}).padding(padding).stride(stride));
    }
    // [O, C*k*k] x [N, C*k*k, L]: one GEMM per image, OpenBLAS underneath.
    torch::Tensor y = torch::matmul(weight.reshape({o, -1}), cols).view({n, o, ho, wo});
    if (bias.defined()) {
        y = y + bias.view({1, o, 1, 1});
    }
    return y;
}

torch::Tensor convWinograd3x3(const torch::Tensor& x, const torch::Tensor& weight,
                              const torch::Tensor& bias) {
    if (weight.size(2) != 3 || weight.size(3) != 3) {
        throw SpecError("Winograd F(2x2,3x3) needs a 3x3 kernel");
    }
    const auto opts = x.options();
    const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
    const int64_t o = weight.size(0);
    const int64_t th = (h + 1) / 2, tw = (w + 1) / 2;  // 2x2 output tiles
    // Padding 1 on the top/left, enough on the bottom/right for whole 4x4 input tiles.
    const auto xp = torch::constant_pad_nd(x, {1, 2 * tw + 1 - w, 1, 2 * th + 1 - h}, 0);
    const auto d = xp.unfold(2, 4, 2).unfold(3, 4, 2);  // [N, C, tH, tW, 4, 4]
    const auto bt =
        torch::tensor({1, 0, -1, 0, 0, 1, 1, 0, 0, -1, 1, 0, 0, 1, 0, -1}, opts).view({4, 4});
    const auto g =
        torch::tensor({1.0, 0.0, 0.0, 0.5, 0.5, 0.5, 0.5, -0.5, 0.5, 0.0, 0.0, 1.0}, opts)
            .view({4, 3});
    const auto at = torch::tensor({1, 1, 1, 0, 0, 1, -1, -1}, opts).view({2, 4});
    // Input tiles V = B^T d B and filters U = G g G^T, each as 16 matrices.
    const auto v = torch::matmul(torch::matmul(bt, d), bt.t())
                       .permute({4, 5, 1, 0, 2, 3})
                       .reshape({16, c, n * th * tw});
    const auto u =
        torch::matmul(torch::matmul(g, weight), g.t()).permute({2, 3, 0, 1}).reshape({16, o, c});
    const auto m = torch::bmm(u, v)  // the 16 GEMMs: [16, O, C] x [16, C, tiles]
                       .view({4, 4, o, n, th, tw})
                       .permute({3, 2, 4, 5, 0, 1});               // [N, O, tH, tW, 4, 4]
    torch::Tensor y = torch::matmul(torch::matmul(at, m), at.t())  // [N, O, tH, tW, 2, 2]
                          .permute({0, 1, 2, 4, 3, 5})
                          .reshape({n, o, 2 * th, 2 * tw});
    if (2 * th != h || 2 * tw != w) {
        y = y.narrow(2, 0, h).narrow(3, 0, w);
    }
    if (bias.defined()) {
        y = y + bias.view({1, o, 1, 1});
    }
    return y;
}

}  // namespace scalelab
