#include "core/ops/onednn_conv.h"

#include <map>
#include <mutex>
#include <optional>
#include <tuple>

#include "core/error.h"

#ifdef SCALELAB_HAS_DNNL
#include <oneapi/dnnl/dnnl.hpp>
#endif

namespace scalelab {

torch::Tensor toBlocked16(const torch::Tensor& x) {
    const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
    const int64_t cb = (c + 15) / 16;
    torch::Tensor p = x;
    if (cb * 16 != c) {
        p = torch::constant_pad_nd(x, {0, 0, 0, 0, 0, cb * 16 - c});
    }
    return p.reshape({n, cb, 16, h, w}).permute({0, 1, 3, 4, 2}).contiguous();
}

torch::Tensor fromBlocked16(const torch::Tensor& x, int64_t channels) {
    const int64_t n = x.size(0), cb = x.size(1), h = x.size(2), w = x.size(3);
    return x.permute({0, 1, 4, 2, 3})
        .reshape({n, cb * 16, h, w})
        .narrow(1, 0, channels)
        .contiguous();
}

torch::Tensor maxPoolBlocked16(const torch::Tensor& x, int64_t kernel, int64_t stride,
                               int64_t pad) {
    const int64_t n = x.size(0), cb = x.size(1), h = x.size(2), w = x.size(3);
    // [N*Cb, 16, H, W] in channels-last strides: a view, pooled without a copy.
    const torch::Tensor v = x.view({n * cb, h, w, 16}).permute({0, 3, 1, 2});
    const torch::Tensor y = torch::max_pool2d(v, {kernel, kernel}, {stride, stride}, {pad, pad});
    return y.permute({0, 2, 3, 1}).contiguous().view({n, cb, y.size(2), y.size(3), 16});
}

torch::Tensor globalPoolBlocked16(const torch::Tensor& x) {
    return x.mean({2, 3}).reshape({x.size(0), x.size(1) * 16});
}

#ifdef SCALELAB_HAS_DNNL

namespace {

dnnl::engine& cpuEngine() {
    static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
    return engine;
}

using dnnl::memory;
using Tag = memory::format_tag;
using DataType = memory::data_type;

std::optional<dnnl::convolution_forward::primitive_desc> makeConv(
    dnnl::algorithm alg, const memory::desc& src, const memory::desc& weights,
    const memory::desc& bias, const memory::desc& dst, int64_t stride, int64_t pad,
    const dnnl::primitive_attr& attr) {
    try {
        const dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_inference, alg, src,
                                                weights, bias, dst, {stride, stride}, {pad, pad},
                                                {pad, pad});
        return dnnl::convolution_forward::primitive_desc(d, attr, cpuEngine());
    } catch (const dnnl::error&) {
        return std::nullopt;  // no implementation for this shape and algorithm
    }
}

}  // namespace

bool oneDnnLinked() {
    return true;
}

bool clearOneDnnPrimitiveCache() {
    const int capacity = dnnl::get_primitive_cache_capacity();
    dnnl::set_primitive_cache_capacity(0);
    dnnl::set_primitive_cache_capacity(capacity);
    return true;
}

bool oneDnnWinogradAvailable() {
    static const bool available = [] {
        const memory::desc src({2, 64, 8, 8}, DataType::f32, Tag::nChw16c);
        const memory::desc w({64, 64, 3, 3}, DataType::f32, Tag::any);
        const memory::desc b({64}, DataType::f32, Tag::x);
        return makeConv(dnnl::algorithm::convolution_winograd, src, w, b, src, 1, 1,
                        dnnl::primitive_attr())
            .has_value();
    }();
    return available;
}

struct OneDnnConv::Impl {
    torch::Tensor weight, bias;  // [O, I, k, k] contiguous, [O]
    int64_t stride = 1, pad = 0, kernel = 1, outC = 0, inC = 0;
    bool relu = false, winograd = false;

    struct Compiled {
        dnnl::convolution_forward prim;
        memory weights;  // reordered into the layout the primitive wants
        memory::desc src, dst;
        std::string impl;
    };
    // By (N, H, W, plain input, residual added).
    using Key = std::tuple<int64_t, int64_t, int64_t, bool, bool>;
    mutable std::mutex mutex;
    mutable std::map<Key, std::shared_ptr<Compiled>> compiled;
    mutable std::string lastImpl;

    // nullptr when oneDNN has no implementation with a plain input (the caller blocks it first).
    std::shared_ptr<Compiled> compile(const Key& key) const {
        std::lock_guard<std::mutex> lock(mutex);
        if (auto it = compiled.find(key); it != compiled.end()) {
            return it->second;
        }
        const auto [n, h, w, plain, withSum] = key;
        const int64_t ho = (h + 2 * pad - kernel) / stride + 1;
        const int64_t wo = (w + 2 * pad - kernel) / stride + 1;
        // A plain input is read channels-last: oneDNN 2.6 runs a 1-channel 3x3 stem 7x faster
        // from NHWC than from NCHW (the same bytes when there is one channel).
        const memory::desc src({n, inC, h, w}, DataType::f32, plain ? Tag::nchw : Tag::nChw16c);
        const memory::desc wAny({outC, inC, kernel, kernel}, DataType::f32, Tag::any);
        const memory::desc b({outC}, DataType::f32, Tag::x);
        const memory::desc dst({n, outC, ho, wo}, DataType::f32, Tag::nChw16c);
        dnnl::post_ops ops;
        if (withSum) {
            ops.append_sum(1.f);
        }
        if (relu) {
            ops.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
        }
        dnnl::primitive_attr attr;
        attr.set_post_ops(ops);
        std::optional<dnnl::convolution_forward::primitive_desc> pd;
        if (winograd && kernel == 3 && stride == 1) {
            pd = makeConv(dnnl::algorithm::convolution_winograd, src, wAny, b, dst, stride, pad,
                          attr);
        }
        if (!pd) {
            pd =
                makeConv(dnnl::algorithm::convolution_direct, src, wAny, b, dst, stride, pad, attr);
        }
        if (!pd) {
            if (plain) {
                return nullptr;
            }
            throw Error("oneDNN has no convolution for " + std::to_string(inC) + " -> " +
                        std::to_string(outC) + " channels, " + std::to_string(kernel) + "x" +
                        std::to_string(kernel) + " stride " + std::to_string(stride) + " on " +
                        std::to_string(h) + "x" + std::to_string(w));
        }
        auto c = std::make_shared<Compiled>();
        c->prim = dnnl::convolution_forward(*pd);
        c->src = pd->src_desc();
        c->dst = pd->dst_desc();
        c->impl = pd->impl_info_str();
        const memory::desc userW({outC, inC, kernel, kernel}, DataType::f32, Tag::oihw);
        memory user(userW, cpuEngine(), weight.data_ptr());
        c->weights = memory(pd->weights_desc(), cpuEngine());
        dnnl::stream s(cpuEngine());
        dnnl::reorder(user, c->weights).execute(s, user, c->weights);
        s.wait();
        compiled.emplace(key, c);
        return c;
    }
};

OneDnnConv::OneDnnConv(const torch::Tensor& weight, const torch::Tensor& bias, int64_t stride,
                       int64_t pad, bool relu, bool winograd)
    : impl_(std::make_unique<Impl>()) {
    if (weight.dim() != 4 || weight.size(2) != weight.size(3) ||
        weight.scalar_type() != torch::kFloat || !weight.is_cpu()) {
        throw Error("oneDNN convolution: the weight must be a float32 CPU tensor [O, I, k, k]");
    }
    impl_->weight = weight.detach().contiguous().clone();
    impl_->outC = weight.size(0);
    impl_->inC = weight.size(1);
    impl_->kernel = weight.size(2);
    impl_->bias = bias.defined() ? bias.detach().contiguous().clone().to(torch::kFloat)
                                 : torch::zeros({impl_->outC});
    impl_->stride = stride;
    impl_->pad = pad;
    impl_->relu = relu;
    impl_->winograd = winograd;
}

torch::Tensor OneDnnConv::forward(const torch::Tensor& input, const torch::Tensor& residual) const {
    const Impl& m = *impl_;
    torch::Tensor x = input.dim() == 5 ? input.contiguous() : input.to(torch::kFloat).contiguous();
    bool plain = x.dim() == 4;
    if (plain && x.size(1) != m.inC) {
        throw Error("oneDNN convolution: expected " + std::to_string(m.inC) +
                    " input channels, got " + std::to_string(x.size(1)));
    }
    if (!plain && x.size(1) * 16 < m.inC) {
        throw Error("oneDNN convolution: the blocked input has too few channels");
    }
    const int64_t n = x.size(0), h = x.size(2), w = x.size(3);
    const bool withSum = residual.defined();
    std::shared_ptr<Impl::Compiled> c = m.compile({n, h, w, plain, withSum});
    if (!c) {
        x = toBlocked16(x);
        plain = false;
        c = m.compile({n, h, w, false, withSum});
    }
    const int64_t ho = (h + 2 * m.pad - m.kernel) / m.stride + 1;
    const int64_t wo = (w + 2 * m.pad - m.kernel) / m.stride + 1;
    const std::vector<int64_t> outShape{n, (m.outC + 15) / 16, ho, wo, 16};
    torch::Tensor out;
    if (withSum) {
        if (residual.sizes() != torch::IntArrayRef(outShape) || !residual.is_contiguous()) {
            throw Error("oneDNN convolution: the residual does not match the output's shape");
        }
        out = residual;
    } else {
        out = torch::empty(outShape, x.options());
    }
    if (c->dst.get_size() != size_t(out.numel()) * sizeof(float) ||
        c->src.get_size() != size_t(x.numel()) * sizeof(float)) {
        throw Error("oneDNN convolution: oneDNN's layout is not nChw16c as expected");
    }
    const memory::desc bd({m.outC}, DataType::f32, Tag::x);
    memory src(c->src, cpuEngine(), x.data_ptr());
    memory dst(c->dst, cpuEngine(), out.data_ptr());
    memory bias(bd, cpuEngine(), m.bias.data_ptr());
    dnnl::stream s(cpuEngine());
    c->prim.execute(s, {{DNNL_ARG_SRC, src},
                        {DNNL_ARG_WEIGHTS, c->weights},
                        {DNNL_ARG_BIAS, bias},
                        {DNNL_ARG_DST, dst}});
    s.wait();
    {
        std::lock_guard<std::mutex> lock(m.mutex);
        m.lastImpl = c->impl;
    }
    return out;
}

std::string OneDnnConv::implementation() const {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    return impl_->lastImpl;
}

#else  // no oneDNN linked

struct OneDnnConv::Impl {
    int64_t outC = 0;
};

bool oneDnnLinked() {
    return false;
}

bool oneDnnWinogradAvailable() {
    return false;
}

bool clearOneDnnPrimitiveCache() {
    return false;
}

OneDnnConv::OneDnnConv(const torch::Tensor&, const torch::Tensor&, int64_t, int64_t, bool, bool) {
    throw Error("this build of ScaleLab calls no oneDNN directly (see CMakeLists.txt)");
}

torch::Tensor OneDnnConv::forward(const torch::Tensor&, const torch::Tensor&) const {
    throw Error("this build of ScaleLab calls no oneDNN directly");
}

std::string OneDnnConv::implementation() const {
    return "";
}

#endif

OneDnnConv::~OneDnnConv() = default;

int64_t OneDnnConv::outChannels() const {
    return impl_ ? impl_->outC : 0;
}

}  // namespace scalelab
