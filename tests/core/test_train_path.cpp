// The training path (core/models/train_path.h): recomputing BatchNorm + activation in the
// backward pass gives the modules' own logits, gradients and running statistics, with the same
// random draws, for every family, a pruned plan, both layouts and both depthwise kernels -- and
// keeps far fewer bytes alive between the forward and the backward pass (issue 13).

#include <gtest/gtest.h>
#include <torch/torch.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <map>

#include "core/models/model.h"
#include "core/models/train_path.h"
#include "family_cases.h"

using namespace scalelab;
using namespace scalelab::test;

namespace {

struct StepResult {
    torch::Tensor logits;
    std::map<std::string, torch::Tensor> grads;    // by parameter name
    std::map<std::string, torch::Tensor> buffers;  // after the step (running statistics)
};

// One training forward + backward from `state`, with the RNG seeded the same each time.
StepResult trainStep(ScaleModelImpl& model, const std::map<std::string, torch::Tensor>& state,
                     const torch::Tensor& x, const torch::Tensor& weights, bool recompute) {
    {
        torch::NoGradGuard guard;
        for (auto& [name, t] : namedStateDict(model)) {
            t.copy_(state.at(name));
        }
    }
    model.zero_grad();
    model.train();
    model.setRecompute(recompute);
    torch::manual_seed(99);  // dropout and stochastic depth draw from here
    StepResult r;
    r.logits = model.forward(x);
    (r.logits * weights).sum().backward();  // every logit gets its own gradient
    for (const auto& p : model.named_parameters()) {
        r.grads[p.key()] = p.value().grad().defined() ? p.value().grad().clone() : torch::Tensor();
    }
    for (const auto& b : model.named_buffers()) {
        r.buffers[b.key()] = b.value().clone();
    }
    return r;
}

double relDiff(const torch::Tensor& a, const torch::Tensor& b) {
    const double scale = std::max(1e-3, b.abs().max().item<double>());
    return maxAbsDiff(a, b) / scale;
}

}  // namespace

TEST(TrainPath, LogitsGradientsAndStatisticsEqualTheModulesForEveryFamily) {
    uint64_t seed = 1;
    for (const Case& c : everyFamily()) {
        SCOPED_TRACE(c.what);
        torch::manual_seed(int64_t(seed));
        ScaleModel model = buildModelFromPlan(c.plan);
        perturbBatchNorm(*model, seed++);
        model->to(torch::kDouble);  // float64: only the order of the arithmetic differs
        std::map<std::string, torch::Tensor> state;
        for (const auto& [name, t] : namedStateDict(*model)) {
            state[name] = t.detach().clone();
        }
        const int64_t r = c.plan.spec.resolution;
        const auto x = torch::randn({4, 1, r, r}, torch::kDouble);
        const auto weights = torch::randn({4, c.plan.spec.numClasses}, torch::kDouble);
        {
            TrainPath path(*model);
            EXPECT_GT(path.recomputedChains(), 0);
            torch::NoGradGuard guard;
            (void)path.forward(x);
            EXPECT_EQ(path.chainsLastForward(), path.recomputedChains());  // the plan's marks
        }
        forEachKernelVariant(*model, [&] {
            const StepResult want = trainStep(*model, state, x, weights, false);
            const StepResult got = trainStep(*model, state, x, weights, true);
            ASSERT_EQ(got.logits.sizes(), want.logits.sizes());
            EXPECT_LT(relDiff(got.logits, want.logits), 1e-10);
            for (const auto& [name, g] : want.grads) {
                ASSERT_TRUE(g.defined()) << name;  // every parameter gets a gradient
                ASSERT_TRUE(got.grads.at(name).defined()) << name;
                EXPECT_LT(relDiff(got.grads.at(name), g), 1e-8) << name;
            }
            for (const auto& [name, b] : want.buffers) {
                EXPECT_LT(relDiff(got.buffers.at(name), b), 1e-10) << name;
            }
        });
    }
}

TEST(TrainPath, DropoutAndStochasticDepthDrawTheModulesRandomNumbers) {
    // B0's defaults drop 20 % of the classifier's inputs and up to 20 % of the residual branches;
    // two seeds give different logits, one seed the same logits on both paths.
    torch::manual_seed(7);
    ScaleModel model = buildModel(scaled("efficientnet-b0", 32, 0.25, 0.5));
    model->to(torch::kDouble);
    ASSERT_GT(model->dropPathProb(int(model->plan().blocks.size()) - 1), 0.0);
    std::map<std::string, torch::Tensor> state;
    for (const auto& [name, t] : namedStateDict(*model)) {
        state[name] = t.detach().clone();
    }
    const auto x = torch::randn({8, 1, 32, 32}, torch::kDouble);
    const auto w = torch::ones({8, 10}, torch::kDouble);
    const auto a = trainStep(*model, state, x, w, true).logits;
    const auto b = trainStep(*model, state, x, w, false).logits;
    EXPECT_LT(relDiff(a, b), 1e-10);
    torch::manual_seed(100);
    model->setRecompute(true);
    const auto other = model->forward(x);
    EXPECT_GT(relDiff(other, a), 1e-3);  // the draws matter, so the equality above means
}  // the same draws

#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
namespace {
// Bytes malloc holds for the program now (heap in use + mmapped chunks).
int64_t bytesInUse() {
    const struct mallinfo2 m = mallinfo2();
    return int64_t(m.uordblks + m.hblkhd);
}

// Bytes a training forward leaves alive for the backward pass.
int64_t keptForBackward(ScaleModelImpl& model, const torch::Tensor& x, bool recompute) {
    model.train();
    model.setRecompute(recompute);
    const int64_t before = bytesInUse();
    const torch::Tensor logits = model.forward(x);
    const int64_t kept = bytesInUse() - before;
    logits.sum().backward();  // the graph is complete: the backward pass runs
    model.zero_grad();
    return kept;
}
}  // namespace

TEST(TrainPath, KeepsFarFewerBytesForTheBackwardPass) {
    struct Expect {
        const char* name;
        int res;
        double width;
        double atMost;  // kept bytes with recompute / without
    };
    // MBConv: 2 of 8 expanded tensors; MobileNetV2: 3 of 5; ResNet basic block: 3 of 4.
    for (const Expect& e :
         {Expect{"efficientnet-b0", 64, 0.5, 0.45}, Expect{"mobilenet-v2", 64, 0.5, 0.75},
          Expect{"resnet-18", 32, 0.5, 0.9}}) {
        SCOPED_TRACE(e.name);
        torch::manual_seed(11);
        ScaleModel model = buildModel(scaled(e.name, e.res, e.width));
        const auto x = torch::randn({16, 1, e.res, e.res});
        keptForBackward(*model, x, true);  // first use: the path is compiled
        const int64_t plain = keptForBackward(*model, x, false);
        const int64_t recomputed = keptForBackward(*model, x, true);
        RecordProperty(std::string(e.name) + "_kept_plain", std::to_string(plain));
        RecordProperty(std::string(e.name) + "_kept_recomputed", std::to_string(recomputed));
        EXPECT_GT(plain, 0);
        EXPECT_LT(double(recomputed), e.atMost * double(plain))
            << recomputed << " bytes kept with recompute, " << plain << " without";
    }
}
#endif
