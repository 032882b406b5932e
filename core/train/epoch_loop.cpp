#include "core/train/epoch_loop.h"

#include "core/runtime.h"

#include <chrono>
#include <cmath>

#include "core/progress.h"

namespace scalelab {

std::unique_ptr<torch::optim::Optimizer> makeOptimizer(const TrainConfig& c,
                                                       ScaleModelImpl& model) {
    if (c.optimizer == OptimizerKind::SGD) {
        return std::make_unique<torch::optim::SGD>(model.parameters(),
                                                   torch::optim::SGDOptions(c.lr)
                                                       .momentum(c.momentum)
                                                       .nesterov(c.nesterov && c.momentum > 0)
                                                       .weight_decay(c.weightDecay));
    }
    return std::make_unique<torch::optim::AdamW>(model.parameters(),
                                                 torch::optim::AdamWOptions(c.lr)
                                                     .betas(std::make_tuple(c.momentum, 0.999))
                                                     .weight_decay(c.weightDecay));
}

double learningRateAt(const TrainConfig& c, int64_t step, int64_t stepsPerEpoch) {
    const double total = double(c.epochs * stepsPerEpoch);
    const double warm = c.warmupEpochs * double(stepsPerEpoch);
    if (double(step) < warm) {
        // Linear to the peak, never past it: with a fractional number of warm-up steps (warm-up
        // 0.5 of a 1-batch epoch) (step + 1) / warm exceeds 1 on the last warm-up step.
        return c.lr * std::min(1.0, double(step + 1) / warm);
    }
    switch (c.schedule) {
        case ScheduleKind::Cosine: {
            const double span = std::max(1.0, total - warm);
            const double t = std::min(1.0, (double(step) - warm) / span);
            return c.lr * 0.5 * (1.0 + std::cos(M_PI * t));
        }
        case ScheduleKind::Step:
            return c.lr * std::pow(c.stepGamma, double((step / stepsPerEpoch) / c.stepEpochs));
        case ScheduleKind::Constant:
            return c.lr;
    }
    return c.lr;
}

int64_t batchesPerEpoch(int64_t images, int64_t batchSize) {
    return images / batchSize + (images % batchSize > 1 ? 1 : 0);
}

void makeGradients(ScaleModelImpl& model) {
    const ArenaBypass offArena;
    torch::NoGradGuard noGrad;
    for (auto& p : model.parameters()) {
        if (p.requires_grad() && !p.grad().defined()) {
            p.mutable_grad() = torch::zeros_like(p);
        }
    }
}

EpochResult trainEpoch(ScaleModelImpl& model, torch::optim::Optimizer& opt, DataPipeline& data,
                       const TrainConfig& c, int64_t epoch, const torch::Device& device,
                       const EpochHooks& hooks) {
    namespace F = torch::nn::functional;
    const auto start = std::chrono::steady_clock::now();
    const int64_t perEpoch = batchesPerEpoch(data.size(Part::Train), c.batchSize);
    const auto lossOptions = F::CrossEntropyFuncOptions().label_smoothing(c.labelSmoothing);
    // Everything random in an epoch derives from (seed, epoch): a resumed run repeats it.
    torch::manual_seed(c.seed * 1000003ull + uint64_t(epoch));
    BatchOptions bo;
    bo.batchSize = c.batchSize;
    bo.shuffle = true;
    bo.seed = c.seed * 7919ull + uint64_t(epoch);
    bo.augment = c.augment;
    bo.device = device;
    bo.dropLastSingle = true;  // BatchNorm cannot train on one image
    BatchIterator it = data.batches(Part::Train, model.spec().resolution, bo);
    model.train();
    EpochResult r;
    auto seconds = [&] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    };
    // Gradients zeroed in place each step (as Optimizer::zero_grad does in LibTorch 1.13; 2.x
    // would drop them and the backward pass would make them again, among its activations).
    makeGradients(model);
    const std::vector<torch::Tensor> params = model.parameters();
    Batch b;
    while (it.next(b)) {
        if (hooks.cancel && hooks.cancel->load()) {
            r.stop = EpochResult::Stop::Cancelled;
            break;
        }
        const int64_t step = (epoch - 1) * perEpoch + r.batches;
        r.lr = learningRateAt(c, step, perEpoch);
        for (auto& group : opt.param_groups()) {
            group.options().set_lr(r.lr);
        }
        for (const auto& p : params) {
            if (p.grad().defined()) {
                const_cast<torch::Tensor&>(p).mutable_grad().detach_().zero_();
            }
        }
        const auto logits = model.forward(b.images);
        const auto loss = F::cross_entropy(logits, b.labels, lossOptions);
        const double lossValue = loss.item<double>();
        if (!std::isfinite(lossValue)) {
            r.stop = EpochResult::Stop::Diverged;
            r.badLoss = lossValue;
            break;
        }
        loss.backward();
        if (opt.state().size() < params.size()) {
            // The optimizer makes its state at its first step: off the arena as well (not at
            // every step: its temporaries belong on the arena, gone before the next step).
            const ArenaBypass offArena;
            opt.step();
        } else {
            opt.step();
        }
        if (hooks.afterStep) {
            hooks.afterStep(model);
        }
        const int64_t n = b.labels.size(0);
        r.lossSum += lossValue * double(n);
        r.correct += logits.argmax(1).eq(b.labels).sum().item<int64_t>();
        r.seen += n;
        ++r.batches;
        r.seconds = seconds();
        if (hooks.batchDone && !hooks.batchDone(r)) {
            r.stop = EpochResult::Stop::Cancelled;
            break;
        }
    }
    r.seconds = seconds();
    return r;
}

void recalibrateBatchNorm(ScaleModelImpl& model, DataPipeline& data, const TrainConfig& c,
                          int64_t epoch, const torch::Device& device,
                          const std::atomic<bool>* cancel, int64_t maxImages) {
    std::vector<std::pair<torch::nn::BatchNorm2dImpl*, c10::optional<double>>> layers;
    for (const auto& m : model.modules(/*include_self=*/false)) {
        if (auto* bn = dynamic_cast<torch::nn::BatchNorm2dImpl*>(m.get())) {
            if (bn->options.track_running_stats()) {
                layers.emplace_back(bn, bn->options.momentum());
            }
        }
    }
    if (layers.empty() || data.size(Part::Train) < 2) {
        return;
    }
    torch::NoGradGuard noGrad;
    for (auto& [bn, momentum] : layers) {
        bn->reset_running_stats();
        bn->options.momentum(c10::nullopt);  // cumulative average over the batches below
    }
    torch::manual_seed(c.seed * 2654435761ull + uint64_t(epoch));
    BatchOptions bo;
    bo.batchSize = c.batchSize;
    bo.shuffle = true;
    bo.seed = c.seed * 104729ull + uint64_t(epoch);
    bo.device = device;
    bo.dropLastSingle = true;
    BatchIterator it = data.batches(Part::Train, model.spec().resolution, bo);
    model.train();
    Batch b;
    int64_t seen = 0;
    try {
        while (seen < maxImages && it.next(b)) {
            if (cancel && cancel->load()) {
                throw Cancelled();
            }
            model.forward(b.images);
            seen += b.images.size(0);
        }
    } catch (...) {
        for (auto& [bn, momentum] : layers) {
            bn->options.momentum(momentum);
        }
        throw;
    }
    for (auto& [bn, momentum] : layers) {
        bn->options.momentum(momentum);
    }
}

}  // namespace scalelab
