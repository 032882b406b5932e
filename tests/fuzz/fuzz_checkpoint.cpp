// libFuzzer target: the checkpoint loader (checkpoint.pt: model + optimizer + epoch + history)
// and the state-dict loader (weights.pt), for a small fixed model. Seed corpus:
// tests/fuzz/corpus/checkpoint/ (real files written by training).
#include <torch/torch.h>

#include "core/models/model.h"
#include "core/train/run_loader.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace scalelab;
    static ScaleModel model = [] {
        torch::set_num_threads(1);
        ModelSpec spec = modelSpecFromName("resnet-cifar-8", 1, 10, 16);
        return buildModel(spec);
    }();
    static torch::optim::SGD opt(model->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
    const std::string dir = fuzz::scratch();
    fuzz::writeFile(dir + "/checkpoint.pt", data, size);
    fuzz::writeFile(dir + "/weights.pt", data, size);
    fuzz::expectOnlyCoreErrors([&] { loadCheckpoint(dir, model, opt, torch::kCPU); });
    fuzz::expectOnlyCoreErrors([&] { loadStateDictPickle(*model, dir + "/weights.pt"); });
    return 0;
}
