#include "core/models/train_path.h"

#include <array>
#include <map>
#include <string>

#include "core/error.h"
#include "core/models/arch_plan.h"
#include "core/models/layers.h"
#include "core/ops/depthwise_conv.h"

namespace scalelab {

namespace {

using torch::Tensor;
using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

// A chain: BatchNorm (batch statistics) -> activation [-> squeeze-excitation scale].
struct ChainArgs {
    torch::nn::BatchNorm2dImpl* bn = nullptr;  // its running statistics are updated
    ActKind act = ActKind::None;               // the activation after the BatchNorm
    ActKind seAct = ActKind::None;             // squeeze-excitation's inner activation
};

struct ConvArgs {
    int64_t stride = 1;
    int64_t pad = 0;
    int64_t groups = 1;
    bool oursDepthwise = false;  // core/ops/depthwise_conv's kernel (else LibTorch's conv)
};

// Function inputs must be defined tensors (LibTorch 1.13): an absent optional input (no SE, no
// bias) travels as an empty tensor and means "none".
Tensor orNone(const Tensor& t) {
    return t.defined() ? t : torch::empty({0});
}
Tensor present(const Tensor& t) {
    return t.defined() && t.numel() > 0 ? t : Tensor();
}

// BatchNorm with batch statistics, updating the running averages exactly as
// BatchNorm2d::forward does (momentum, or the cumulative average when it has none). Returns the
// output and the saved mean and 1/std the backward pass needs.
std::tuple<Tensor, Tensor, Tensor> batchNormForward(const Tensor& u, const Tensor& w,
                                                    const Tensor& b,
                                                    torch::nn::BatchNorm2dImpl& bn) {
    const auto& o = bn.options;
    Tensor mean, var;
    double factor = o.momentum() ? *o.momentum() : 0.0;
    if (o.track_running_stats()) {
        mean = bn.running_mean;
        var = bn.running_var;
        if (bn.num_batches_tracked.defined()) {
            bn.num_batches_tracked += 1;
            if (!o.momentum()) {
                factor = 1.0 / bn.num_batches_tracked.item<double>();
            }
        }
    }
    return at::native_batch_norm(u, w, b, mean, var, /*training=*/true, factor, o.eps());
}

// The BatchNorm's output again from its input and saved statistics: one pass, no reduction.
Tensor batchNormApply(const Tensor& u, const Tensor& w, const Tensor& b, const Tensor& mean,
                      const Tensor& invstd) {
    Tensor scale = w.defined() ? invstd * w : invstd;
    Tensor shift = -mean * scale;
    if (b.defined()) {
        shift = shift + b;
    }
    return torch::addcmul(shift.view({1, -1, 1, 1}), u, scale.view({1, -1, 1, 1}));
}

Tensor actForward(const Tensor& x, ActKind act, bool inPlace) {
    switch (act) {
        case ActKind::ReLU:
            return inPlace ? x.relu_() : torch::relu(x);
        case ActKind::ReLU6:
            return inPlace ? torch::hardtanh_(const_cast<Tensor&>(x), 0.0, 6.0)
                           : torch::hardtanh(x, 0.0, 6.0);  // nn::ReLU6's gradient at the bounds
        case ActKind::SiLU:
            return inPlace ? torch::silu_(const_cast<Tensor&>(x)) : torch::silu(x);
        case ActKind::None:
            return x;
    }
    return x;
}

// grad *= d(act(x))/dx, from the activation's input x (ReLU, ReLU6: or its output).
void actBackwardInPlace(Tensor& grad, const Tensor& x, ActKind act) {
    switch (act) {
        case ActKind::ReLU:
            at::threshold_backward_out(grad, grad, x, 0);
            break;
        case ActKind::ReLU6:
            at::hardtanh_backward_out(grad, grad, x, 0.0, 6.0);
            break;
        case ActKind::SiLU:
            at::silu_backward_out(grad, grad, x);
            break;
        case ActKind::None:
            break;
    }
}

// d(act(x))/dx applied to `grad`, from the activation's input x.
Tensor actBackward(const Tensor& grad, const Tensor& x, ActKind act) {
    switch (act) {
        case ActKind::ReLU:
            return at::threshold_backward(grad, x, 0);
        case ActKind::ReLU6:
            return at::hardtanh_backward(grad, x, 0.0, 6.0);
        case ActKind::SiLU:
            return at::silu_backward(grad, x);
        case ActKind::None:
            return grad;
    }
    return grad;
}

// Squeeze-excitation's scale from the pooled activations: sigmoid(fc2(act(fc1(pooled)))).
Tensor seScale(const Tensor& pooled, const Tensor& w1, const Tensor& b1, const Tensor& w2,
               const Tensor& b2, ActKind act) {
    const Tensor h = actForward(torch::conv2d(pooled, w1, b1), act, false);
    return torch::sigmoid(torch::conv2d(h, w2, b2));
}

// 1x1 convolution backward: (input, weight, bias) gradients.
std::tuple<Tensor, Tensor, Tensor> pointwiseBackward(const Tensor& dy, const Tensor& x,
                                                     const Tensor& w) {
    const std::vector<int64_t> biasSizes{w.size(0)};
    auto [dx, dw, db] =
        at::convolution_backward(dy, x, w, at::OptionalIntArrayRef(biasSizes), {1, 1}, {0, 0},
                                 {1, 1}, false, {0, 0}, 1, {true, true, true});
    return {dx, dw.contiguous(w.suggest_memory_format()), db};
}

// Squeeze-excitation's scale from the pooled activations [N, C, 1, 1], with its backward pass
// written out. Its 1x1 convolutions stay convolutions (oneDNN): as matrix products they would
// run on OpenBLAS, whose threads then spin beside LibTorch's.
struct SqueezeExcite {
    SqueezeExcite(const Tensor& pooledIn, const Tensor& w1In, const Tensor& b1In,
                  const Tensor& w2In, const Tensor& b2In, ActKind actIn)
        : act(actIn), pooled(pooledIn), w1(w1In), w2(w2In) {
        if (!pooled.defined()) {
            return;
        }
        z1 = torch::conv2d(pooled, w1, b1In);
        a1 = actForward(z1, act, false);
        g = torch::sigmoid(torch::conv2d(a1, w2, b2In));
    }

    // dL/d(pooled), dL/d(fc1 weight, bias, fc2 weight, bias) from dL/dg.
    std::tuple<Tensor, Tensor, Tensor, Tensor, Tensor> backward(const Tensor& dg) const {
        return backwardFromLogit(at::sigmoid_backward(dg, g));
    }
    // The same from dL/dz2, the gradient before the sigmoid (g = sigmoid(z2)).
    std::tuple<Tensor, Tensor, Tensor, Tensor, Tensor> backwardFromLogit(const Tensor& dz2) const {
        auto [da1, dw2, db2] = pointwiseBackward(dz2, a1, w2);
        auto [dp, dw1, db1] = pointwiseBackward(actBackward(da1, z1, act), pooled, w1);
        return {dp, dw1, db1, dw2, db2};
    }

    ActKind act;
    Tensor pooled, w1, w2;  // [N, C, 1, 1]; fc1 [S, C, 1, 1], fc2 [C, S, 1, 1]
    Tensor z1, a1;          // fc1's output and its activation
    Tensor g;               // the scale [N, C, 1, 1]; undefined without SE
};

// The sum over H and W of a * b, [N, C, 1, 1], a few images at a time: no temporary of the
// tensors' full size.
Tensor sumOverMapOfProduct(const Tensor& a, const Tensor& b) {
    const int64_t n = a.size(0);
    const int64_t perImage = std::max<int64_t>(1, a.numel() / std::max<int64_t>(1, n));
    const int64_t chunk = std::max<int64_t>(1, (int64_t(1) << 20) / perImage);  // ~4 MB float
    std::vector<Tensor> parts;
    for (int64_t i = 0; i < n; i += chunk) {
        const int64_t len = std::min(chunk, n - i);
        parts.push_back((a.narrow(0, i, len) * b.narrow(0, i, len)).sum({2, 3}, true));
    }
    return parts.size() == 1 ? parts.front() : torch::cat(parts);
}

// conv(chain(u)), the chain with an optional squeeze-excitation scale. Keeps u, the parameters,
// the batch statistics and the pooled activations; the chain's output is recomputed in the
// backward pass (one multiply-add per value, no reduction).
// Inputs: 0 u, 1 bn weight, 2 bn bias, 3-6 SE fc1 weight, bias, fc2 weight, bias, 7 conv weight,
// 8 conv bias.
class ChainConvFunction : public torch::autograd::Function<ChainConvFunction> {
public:
    static Tensor forward(AutogradContext* ctx, const Tensor& u, const Tensor& bnWIn,
                          const Tensor& bnBIn, const Tensor& w1In, const Tensor& b1In,
                          const Tensor& w2In, const Tensor& b2In, const Tensor& w,
                          const Tensor& bIn, const ChainArgs& chain, const ConvArgs& conv) {
        const Tensor bnW = present(bnWIn), bnB = present(bnBIn), b = present(bIn);
        const bool se = present(w1In).defined();
        Tensor y, mean, invstd, pooled;
        {
            Tensor v;
            std::tie(v, mean, invstd) = batchNormForward(u, bnW, bnB, *chain.bn);
            actForward(v, chain.act, /*inPlace=*/true);
            if (se) {
                pooled = v.mean({2, 3}, /*keepdim=*/true);
                v.mul_(SqueezeExcite(pooled, w1In, b1In, w2In, b2In, chain.seAct).g);
            }
            if (conv.oursDepthwise) {
                y = depthwiseForward(v, w, conv.stride, conv.pad);
                if (b.defined()) {
                    y.add_(b.view({1, -1, 1, 1}));
                }
            } else {
                y = torch::conv2d(v, w, b, conv.stride, conv.pad, 1, conv.groups);
            }
        }  // the chain's output is freed here
        ctx->save_for_backward(
            {u, bnWIn, bnBIn, w1In, b1In, w2In, b2In, w, mean, invstd, orNone(pooled)});
        ctx->saved_data["eps"] = chain.bn->options.eps();
        ctx->saved_data["act"] = int64_t(chain.act);
        ctx->saved_data["se_act"] = int64_t(chain.seAct);
        ctx->saved_data["stride"] = conv.stride;
        ctx->saved_data["pad"] = conv.pad;
        ctx->saved_data["groups"] = conv.groups;
        ctx->saved_data["ours"] = conv.oursDepthwise;
        ctx->saved_data["bias"] = b.defined();
        return y;
    }

    static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
        const tensor_list saved = ctx->get_saved_variables();
        const Tensor &u = saved[0], &w = saved[7], &mean = saved[8], &invstd = saved[9];
        const Tensor bnW = present(saved[1]), bnB = present(saved[2]);
        const Tensor pooled = present(saved[10]);
        const ActKind act = ActKind(ctx->saved_data["act"].toInt());
        const Tensor dy = grads[0];
        const int64_t s = ctx->saved_data["stride"].toInt();
        const int64_t p = ctx->saved_data["pad"].toInt();
        const bool hasBias = ctx->saved_data["bias"].toBool();
        const bool needW = ctx->needs_input_grad(7);
        const bool needB = hasBias && ctx->needs_input_grad(8);

        // The chain again: BatchNorm's output, the activation's, the scaled input of the conv,
        // all in one buffer for SiLU. ReLU and ReLU6 run in place as well (their gradient reads
        // the same from the output as from the input). SiLU's gradient needs its input, the
        // BatchNorm's output: it is made again after the convolution's backward (one more pass),
        // so that only three tensors of the chain's size are live while that runs -- u, the
        // conv's input and its gradient -- instead of four (five with squeeze-excitation). The
        // largest chain of a run sets its peak memory (EfficientNet-B0 at 64 px: 50 MB each).
        const bool silu = act == ActKind::SiLU;
        Tensor vbn = batchNormApply(u, bnW, bnB, mean, invstd);
        Tensor vact = actForward(vbn, act, /*inPlace=*/true);
        if (silu) {
            vbn = Tensor();  // its buffer holds the activation's output now
        }
        const SqueezeExcite se(pooled, saved[3], saved[4], saved[5], saved[6],
                               ActKind(ctx->saved_data["se_act"].toInt()));
        const Tensor& g = se.g;
        Tensor h = g.defined() ? (silu ? vact.mul_(g) : vact * g) : vact;
        const double mapSize = double(h.size(2) * h.size(3));

        Tensor dh, dw, db;
        if (ctx->saved_data["ours"].toBool()) {
            dh = depthwiseBackwardInput(dy, w, s, p, h.size(2), h.size(3));
            if (needW) {
                dw = depthwiseBackwardWeight(dy, h, w.size(2), s, p);
            }
            if (needB) {
                db = dy.sum({0, 2, 3});
            }
        } else {
            const std::vector<int64_t> biasSizes{w.size(0)};
            std::tie(dh, dw, db) = at::convolution_backward(
                dy, h, w, hasBias ? at::OptionalIntArrayRef(biasSizes) : c10::nullopt, {s, s},
                {p, p}, {1, 1}, false, {0, 0}, ctx->saved_data["groups"].toInt(),
                {true, needW, needB});
        }
        if (dw.defined()) {
            dw = dw.contiguous(w.suggest_memory_format());  // the parameter's layout
        }

        tensor_list out(11);
        // dh becomes the gradient of the activation's output, then of its input, in place.
        if (g.defined()) {
            // h = vact * g: dL/dg = sum over the map of dh * vact, then back through SE to the
            // pooled activations, whose mean spreads evenly over the map. With SiLU only h is
            // left: sum(dh * vact) = sum(dh * h) / g, so the gradient before SE's sigmoid,
            // dL/dg * g (1 - g), is sum(dh * h) * (1 - g) -- no division by g.
            Tensor dpooled;
            if (silu) {
                std::tie(dpooled, out[3], out[4], out[5], out[6]) =
                    se.backwardFromLogit(sumOverMapOfProduct(dh, h).mul_(1.0 - g));
            } else {
                std::tie(dpooled, out[3], out[4], out[5], out[6]) =
                    se.backward(sumOverMapOfProduct(dh, vact));
            }
            dh.mul_(g);
            dh.add_(dpooled.div_(mapSize));
        }
        h = Tensor();
        if (silu) {
            vact = Tensor();
            vbn = batchNormApply(u, bnW, bnB, mean, invstd);  // in the buffer just freed
        }
        actBackwardInPlace(dh, silu ? vbn : vact, act);
        vact = Tensor();
        vbn = Tensor();
        std::tie(out[0], out[1], out[2]) = at::native_batch_norm_backward(
            dh, u, bnW, {}, {}, mean, invstd, /*train=*/true, ctx->saved_data["eps"].toDouble(),
            {ctx->needs_input_grad(0), bnW.defined() && ctx->needs_input_grad(1),
             bnB.defined() && ctx->needs_input_grad(2)});
        out[7] = dw;
        out[8] = db;
        return out;
    }
};

// The mean over H, W of chain(u) (no SE) -> [N, C, 1, 1]: keeps u and the batch statistics.
class ChainPoolFunction : public torch::autograd::Function<ChainPoolFunction> {
public:
    static Tensor forward(AutogradContext* ctx, const Tensor& u, const Tensor& bnWIn,
                          const Tensor& bnBIn, const ChainArgs& chain) {
        auto [v, mean, invstd] = batchNormForward(u, present(bnWIn), present(bnBIn), *chain.bn);
        const Tensor pooled = actForward(v, chain.act, /*inPlace=*/true).mean({2, 3}, true);
        ctx->save_for_backward({u, bnWIn, bnBIn, mean, invstd});
        ctx->saved_data["eps"] = chain.bn->options.eps();
        ctx->saved_data["act"] = int64_t(chain.act);
        return pooled;
    }

    static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
        const tensor_list saved = ctx->get_saved_variables();
        const Tensor &u = saved[0], &mean = saved[3], &invstd = saved[4];
        const Tensor bnW = present(saved[1]), bnB = present(saved[2]);
        const Tensor vbn = batchNormApply(u, bnW, bnB, mean, invstd);
        const Tensor dvact = (grads[0] / double(u.size(2) * u.size(3))).expand(u.sizes());
        const Tensor dvbn = actBackward(dvact, vbn, ActKind(ctx->saved_data["act"].toInt()));
        tensor_list out(4);
        std::tie(out[0], out[1], out[2]) = at::native_batch_norm_backward(
            dvbn, u, bnW, {}, {}, mean, invstd, /*train=*/true, ctx->saved_data["eps"].toDouble(),
            {ctx->needs_input_grad(0), bnW.defined() && ctx->needs_input_grad(1),
             bnB.defined() && ctx->needs_input_grad(2)});
        return out;
    }
};

// The activation with autograd: in place on a tensor nothing else holds (`fresh`), except SiLU,
// whose backward needs its input.
Tensor applyAct(const Tensor& x, ActKind act, bool fresh) {
    return actForward(x, act, fresh && act != ActKind::SiLU);
}

}  // namespace

struct TrainPath::Step {
    enum class Kind { Conv, Norm, Act, SqueezeExcite, MaxPool, GlobalPool, Dropout, Linear, Add };
    Kind kind = Kind::Conv;
    std::string path;          // the plan layer's module path (messages)
    bool shortcut = false;     // reads and writes the shortcut branch
    bool startsBlock = false;  // the first step of a block whose input the add or the shortcut
                               // reads: it is materialized and remembered
    Tensor w, b, w2, b2;       // the module's parameters (shared, not copies)
    torch::nn::BatchNorm2dImpl* bn = nullptr;  // Norm
    DepthwiseConv2dImpl* dw = nullptr;         // Conv on a depthwise module (its kernel choice)
    int64_t stride = 1, pad = 0, groups = 1, kernel = 1;
    ActKind act = ActKind::None;   // Act; SqueezeExcite: its inner activation
    double p = 0.0;                // Dropout: probability; Add: stochastic depth of the branch
    bool addFromShortcut = false;  // Add: the shortcut branch (else the block's input)
    int64_t addStride = 1;         // Add: subsample the block input by this
    int64_t addPadChannels = 0;    // Add: zero channels appended to it
};

namespace {

// What a branch holds between steps: a tensor, or a chain not yet applied to one.
struct Value {
    Tensor t;              // the tensor; while `pending`, the BatchNorm's input
    bool pending = false;  // BatchNorm (+ act, + SE) still to apply to t
    torch::nn::BatchNorm2dImpl* bn = nullptr;
    Tensor bnW, bnB;                // its affine parameters (undefined without)
    ActKind act = ActKind::None;    // pending activation
    bool se = false;                // a squeeze-excitation scale is pending, with these:
    Tensor seW1, seB1, seW2, seB2;  // fc1 and fc2 weight and bias
    ActKind seAct = ActKind::None;  // its inner activation
    bool fresh = false;             // t was just made and nothing else holds it
};

// A freshly made tensor, nothing pending.
Value made(Tensor t) {
    Value v;
    v.t = std::move(t);
    v.fresh = true;
    return v;
}

// Applies a pending chain with plain autograd (what the modules do).
void materialize(Value& v) {
    if (!v.pending) {
        return;
    }
    Tensor y = applyAct(v.bn->forward(v.t), v.act, /*fresh=*/true);  // BatchNorm's backward
    if (v.se) {                                                      // needs its input only
        y = y * seScale(y.mean({2, 3}, true), v.seW1, v.seB1, v.seW2, v.seB2, v.seAct);
    }
    v = made(y);
}

ChainArgs chainArgs(const Value& v) {
    ChainArgs a;
    a.bn = v.bn;
    a.act = v.act;
    a.seAct = v.seAct;
    return a;
}

template <typename M>
M* moduleAt(const std::map<std::string, std::shared_ptr<torch::nn::Module>>& modules,
            const std::string& path, const char* what) {
    const auto it = modules.find(path);
    M* m = it == modules.end() ? nullptr : it->second->as<M>();
    if (m == nullptr) {
        throw Error(std::string("training path: layer ") + path + ": the model has no " + what +
                    " there");
    }
    return m;
}

}  // namespace

TrainPath::TrainPath(ScaleModelImpl& model) : model_(model) {
    const ArchPlan& plan = model.plan();
    std::map<std::string, std::shared_ptr<torch::nn::Module>> modules;
    for (const auto& item : model.named_modules()) {
        modules[item.key()] = item.value();
    }
    std::map<std::string, Tensor> params;
    for (const auto& item : model.named_parameters()) {
        params[item.key()] = item.value();
    }
    auto param = [&](const std::string& key, const std::string& layer) {
        const auto it = params.find(key);
        if (it == params.end()) {
            throw Error("training path: layer " + layer + ": the model has no parameter '" + key +
                        "'");
        }
        return it->second;
    };
    auto optionalParam = [&](const std::string& key) {
        const auto it = params.find(key);
        return it == params.end() ? Tensor() : it->second;
    };
    // Blocks whose input is read again (a residual add, a shortcut branch); any other block's
    // first convolution may take a pending chain.
    std::vector<bool> inputReadAgain(plan.blocks.size(), false);
    for (const PlanLayer& l : plan.layers) {
        if (l.block >= 0 && size_t(l.block) < plan.blocks.size() &&
            (l.shortcut || l.kind == LayerKind::ResidualAdd)) {
            inputReadAgain[size_t(l.block)] = true;
        }
    }
    int block = -2;
    bool blockHasShortcutLayers = false;
    bool pendingBlockStart = false;
    for (const PlanLayer& l : plan.layers) {
        if (l.block != block) {
            block = l.block;
            blockHasShortcutLayers = false;
            pendingBlockStart = true;
        }
        Step s;
        s.path = l.path;
        s.shortcut = l.shortcut;
        switch (l.kind) {
            case LayerKind::Conv:
            case LayerKind::DepthwiseConv:
                s.kind = Step::Kind::Conv;
                s.w = param(l.path + ".weight", l.path);
                s.b = optionalParam(l.path + ".bias");
                s.stride = l.stride;
                s.pad = (l.kernel - 1) / 2;
                s.groups = l.groups;
                s.kernel = l.kernel;
                if (l.kind == LayerKind::DepthwiseConv) {
                    const auto it = modules.find(l.path);
                    s.dw = it == modules.end() ? nullptr : it->second->as<DepthwiseConv2d>();
                }
                break;
            case LayerKind::BatchNorm:
                s.kind = Step::Kind::Norm;
                s.bn = moduleAt<torch::nn::BatchNorm2dImpl>(modules, l.path, "BatchNorm2d");
                s.w = s.bn->weight;
                s.b = s.bn->bias;
                break;
            case LayerKind::Activation:
                s.kind = Step::Kind::Act;
                s.act = l.act;
                break;
            case LayerKind::SqueezeExcite:
                s.kind = Step::Kind::SqueezeExcite;
                s.w = param(l.path + ".fc1.weight", l.path);
                s.b = param(l.path + ".fc1.bias", l.path);
                s.w2 = param(l.path + ".fc2.weight", l.path);
                s.b2 = param(l.path + ".fc2.bias", l.path);
                s.act = l.act;
                break;
            case LayerKind::MaxPool:
                s.kind = Step::Kind::MaxPool;
                s.kernel = l.kernel;
                s.stride = l.stride;
                s.pad = (l.kernel - 1) / 2;
                break;
            case LayerKind::GlobalPool:
                s.kind = Step::Kind::GlobalPool;
                break;
            case LayerKind::Dropout:
                s.kind = Step::Kind::Dropout;
                s.p = moduleAt<torch::nn::DropoutImpl>(modules, l.path, "Dropout")->options.p();
                break;
            case LayerKind::Linear:
                s.kind = Step::Kind::Linear;
                s.w = param(l.path + ".weight", l.path);
                s.b = optionalParam(l.path + ".bias");
                break;
            case LayerKind::ResidualAdd: {
                if (l.block < 0 || size_t(l.block) >= plan.blocks.size()) {
                    throw Error("training path: residual add " + l.path + " sits in no block");
                }
                const BlockPlan& bp = plan.blocks[size_t(l.block)];
                s.kind = Step::Kind::Add;
                s.addFromShortcut = blockHasShortcutLayers;
                if (!blockHasShortcutLayers && (bp.in != l.out || bp.stride > 1)) {
                    s.addStride = bp.stride;  // ResNet's option A (see arch_plan.h)
                    s.addPadChannels = l.out - bp.in;
                }
                s.p = model.dropPathProb(l.block);
                break;
            }
        }
        if (l.shortcut) {
            blockHasShortcutLayers = true;
        }
        s.startsBlock = pendingBlockStart && l.block >= 0 &&
                        size_t(l.block) < inputReadAgain.size() && inputReadAgain[size_t(l.block)];
        pendingBlockStart = false;
        steps_.push_back(std::move(s));
    }
    const std::vector<bool> recomputed = recomputedLayers(plan);
    for (size_t i = 0; i < plan.layers.size(); ++i) {
        chains_ += recomputed[i] && plan.layers[i].kind == LayerKind::BatchNorm;
    }
}

TrainPath::~TrainPath() = default;

Tensor TrainPath::forward(const Tensor& input) const {
    const bool channelsLast = model_.channelsLast();
    applied_ = 0;
    Value main;
    main.t = channelsLast ? input.contiguous(torch::MemoryFormat::ChannelsLast) : input;
    Value blockIn, shortcut;
    for (const Step& s : steps_) {
        if (s.startsBlock) {
            materialize(main);
            main.fresh = false;  // the block's input is held by the add as well
            blockIn = main;
            shortcut = main;
        }
        Value& x = s.shortcut ? shortcut : main;
        switch (s.kind) {
            case Step::Kind::Conv: {
                if (x.pending) {
                    ConvArgs c;
                    c.stride = s.stride;
                    c.pad = s.pad;
                    c.groups = s.groups;
                    c.oursDepthwise = s.dw != nullptr && s.dw->fast && x.t.is_cpu() &&
                                      (s.stride == 1 || s.stride == 2);
                    const Tensor none = orNone({});
                    ++applied_;
                    x = made(ChainConvFunction::apply(x.t, orNone(x.bnW), orNone(x.bnB),
                                                      x.se ? x.seW1 : none, x.se ? x.seB1 : none,
                                                      x.se ? x.seW2 : none, x.se ? x.seB2 : none,
                                                      s.w, orNone(s.b), chainArgs(x), c));
                } else if (s.dw != nullptr) {
                    x.t = s.dw->forward(x.t);
                } else {
                    x.t = torch::conv2d(x.t, s.w, s.b, s.stride, s.pad, 1, s.groups);
                }
                x.fresh = true;
                break;
            }
            case Step::Kind::Norm:
                materialize(x);
                x.pending = true;
                x.bn = s.bn;
                x.bnW = s.w;
                x.bnB = s.b;
                break;
            case Step::Kind::Act:
                if (x.pending && x.act == ActKind::None && !x.se) {
                    x.act = s.act;
                } else {
                    materialize(x);
                    x.t = applyAct(x.t, s.act, x.fresh);
                    x.fresh = true;
                }
                break;
            case Step::Kind::SqueezeExcite:
                if (x.pending && !x.se) {
                    x.se = true;
                    x.seW1 = s.w;
                    x.seB1 = s.b;
                    x.seW2 = s.w2;
                    x.seB2 = s.b2;
                    x.seAct = s.act;
                } else {
                    materialize(x);
                    x.t = x.t * seScale(x.t.mean({2, 3}, true), s.w, s.b, s.w2, s.b2, s.act);
                    x.fresh = true;
                }
                break;
            case Step::Kind::MaxPool:
                materialize(x);
                x.t = torch::max_pool2d(x.t, {s.kernel, s.kernel}, {s.stride, s.stride},
                                        {s.pad, s.pad});
                x.fresh = true;
                break;
            case Step::Kind::GlobalPool:
                if (x.pending && !x.se) {
                    ++applied_;
                    x = made(
                        ChainPoolFunction::apply(x.t, orNone(x.bnW), orNone(x.bnB), chainArgs(x))
                            .flatten(1));
                } else {
                    materialize(x);
                    x.t = x.t.mean({2, 3});
                }
                x.fresh = true;
                break;
            case Step::Kind::Dropout:
                materialize(x);
                x.t = torch::dropout(x.t, s.p, /*train=*/true);
                x.fresh = true;
                break;
            case Step::Kind::Linear:
                materialize(x);
                x.t = torch::linear(x.t.flatten(1), s.w, s.b);
                x.fresh = true;
                break;
            case Step::Kind::Add: {
                materialize(x);
                Tensor r;
                if (s.addFromShortcut) {
                    materialize(shortcut);
                    r = shortcut.t;
                } else {
                    r = blockIn.t;
                }
                r = optionAShortcut(r, r.size(2) != x.t.size(2) ? s.addStride : 1,
                                    s.addPadChannels);
                x.t = stochasticDepth(x.t, s.p, /*training=*/true) + r;
                x.fresh = true;
                break;
            }
        }
    }
    materialize(main);
    return main.t;
}

}  // namespace scalelab
