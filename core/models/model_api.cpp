#include "core/models/model_api.h"

#include <filesystem>

#include "core/data/file_io.h"
#include "core/error.h"
#include "core/models/model.h"

namespace scalelab {

void writeParityCase(const ModelSpec& spec, uint64_t seed, int batch, const std::string& dir) {
    torch::manual_seed(seed);
    ScaleModel model = buildModel(spec);
    {
        torch::NoGradGuard guard;
        for (auto& m : model->modules(false)) {
            if (auto* bn = m->as<torch::nn::BatchNorm2d>()) {
                bn->running_mean.uniform_(-0.5, 0.5);
                bn->running_var.uniform_(0.5, 2.0);
                bn->weight.uniform_(0.5, 1.5);
                bn->bias.uniform_(-0.2, 0.2);
            }
        }
    }
    model->eval();
    torch::NoGradGuard guard;
    const auto input = torch::randn({batch, spec.inChannels, spec.resolution, spec.resolution});
    const auto logits = model->forward(input);
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    saveStateDictPickle(*model, joinPath(dir, "weights.pt"));
    c10::Dict<std::string, at::Tensor> io;
    io.insert("input", input.contiguous());
    io.insert("logits", logits.contiguous());
    const std::vector<char> bytes = torch::pickle_save(c10::IValue(io));
    writeFileAtomic(joinPath(dir, "io.pt"), bytes.data(), bytes.size());
}

int64_t builtParameterCount(const ModelSpec& spec) {
    return buildModel(spec)->parameterCount();
}

}  // namespace scalelab
