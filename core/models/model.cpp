#include "core/models/model.h"

#include <fstream>
#include <map>

#include "core/data/file_io.h"
#include "core/error.h"
#include "core/models/layers.h"
#include "core/models/train_path.h"

namespace scalelab {

ScaleModel buildModel(const ModelSpec& spec) {
    return buildModelFromPlan(planModel(spec));  // planModel throws before any tensor exists
}

ScaleModel buildModelFromPlan(const ArchPlan& plan) {
    return familyOf(plan.spec.family).build(plan);
}

ScaleModelImpl::ScaleModelImpl(ArchPlan plan) : plan_(std::move(plan)) {}

ScaleModelImpl::~ScaleModelImpl() = default;

torch::Tensor ScaleModelImpl::forward(torch::Tensor x) {
    if (is_training() && recompute_) {
        if (!trainPath_) {
            trainPath_ = std::make_shared<TrainPath>(*this);
        }
        return trainPath_->forward(x);
    }
    return forwardModules(std::move(x));
}

double ScaleModelImpl::dropPathProb(int) const {
    return 0.0;
}

std::vector<FeatureInfo> ScaleModelImpl::featureInfo() const {
    std::vector<FeatureInfo> out;
    for (const PlanStage& s : plan_.stages) {
        out.push_back({s.index, s.name, s.module, s.channels, s.reduction});
    }
    return out;
}

void ScaleModelImpl::setChannelsLast(bool enabled) {
    channelsLast_ = enabled;
    torch::NoGradGuard guard;
    const auto format =
        enabled ? torch::MemoryFormat::ChannelsLast : torch::MemoryFormat::Contiguous;
    for (auto& p : parameters()) {
        if (p.dim() == 4) {
            p.set_data(p.data().contiguous(format));
        }
    }
}

void ScaleModelImpl::setFastDepthwise(bool enabled) {
    fastDepthwise_ = enabled;
    for (const auto& m : modules(/*include_self=*/false)) {
        if (auto* dw = m->as<DepthwiseConv2d>()) {
            dw->fast = enabled;
        }
    }
}

bool ScaleModelImpl::hasDepthwise() const {
    for (const auto& m : modules(/*include_self=*/false)) {
        if (m->as<DepthwiseConv2d>() != nullptr) {
            return true;
        }
    }
    return false;
}

int64_t ScaleModelImpl::parameterCount() const {
    int64_t n = 0;
    for (const auto& p : parameters()) {
        n += p.numel();
    }
    return n;
}

std::vector<std::pair<std::string, torch::Tensor>> namedStateDict(const torch::nn::Module& model) {
    std::vector<std::pair<std::string, torch::Tensor>> out;
    for (const auto& p : model.named_parameters(/*recurse=*/true)) {
        out.emplace_back(p.key(), p.value());
    }
    for (const auto& b : model.named_buffers(/*recurse=*/true)) {
        out.emplace_back(b.key(), b.value());
    }
    return out;
}

void saveStateDictPickle(const torch::nn::Module& model, const std::string& path) {
    c10::Dict<std::string, at::Tensor> dict;
    for (const auto& [name, tensor] : namedStateDict(model)) {
        dict.insert(name, tensor.detach().to(torch::kCPU).contiguous().clone());
    }
    const std::vector<char> bytes = torch::pickle_save(c10::IValue(dict));
    writeFileAtomic(path, bytes.data(), bytes.size());
}

void loadStateDictPickle(torch::nn::Module& model, const std::string& path) {
    const std::vector<uint8_t> raw = readFileBytes(path);
    checkZipArchive(raw, path);  // LibTorch's zip reader trusts the offsets it reads
    c10::IValue value;
    try {
        value = torch::pickle_load(std::vector<char>(raw.begin(), raw.end()));
    } catch (const std::exception& e) {
        throw DataError(path + ": not a readable state dict (" + libraryMessage(e) + ")");
    }
    if (!value.isGenericDict()) {
        throw DataError(path + ": holds a " + value.tagKind() + ", expected a dict of tensors");
    }
    std::map<std::string, torch::Tensor> stored;
    for (const auto& item : value.toGenericDict()) {
        if (!item.key().isString() || !item.value().isTensor()) {
            throw DataError(path + ": an entry is not a (name, tensor) pair");
        }
        stored[item.key().toStringRef()] = item.value().toTensor();
    }
    std::vector<std::string> missing, mismatched;
    auto own = namedStateDict(model);
    for (const auto& [name, tensor] : own) {
        auto it = stored.find(name);
        if (it == stored.end()) {
            missing.push_back(name);
        } else if (it->second.sizes() != tensor.sizes()) {
            mismatched.push_back(name + " (file " + c10::str(it->second.sizes()) + ", model " +
                                 c10::str(tensor.sizes()) + ")");
        }
    }
    std::vector<std::string> unexpected;
    for (const auto& [name, tensor] : stored) {
        bool known = false;
        for (const auto& o : own) {
            known = known || o.first == name;
        }
        if (!known) {
            unexpected.push_back(name);
        }
    }
    auto list = [](const std::vector<std::string>& v) {
        std::string s;
        for (size_t i = 0; i < v.size() && i < 5; ++i) {
            s += (i ? ", " : "") + v[i];
        }
        return v.size() > 5 ? s + ", ... (" + std::to_string(v.size()) + " in all)" : s;
    };
    if (!missing.empty() || !unexpected.empty() || !mismatched.empty()) {
        std::string msg = path + ": does not fit this model:";
        if (!missing.empty())
            msg += " missing " + list(missing) + ";";
        if (!unexpected.empty())
            msg += " unexpected " + list(unexpected) + ";";
        if (!mismatched.empty())
            msg += " wrong shape " + list(mismatched) + ";";
        throw DataError(msg);
    }
    // Damaged numbers are refused before they reach the model: NaN/Inf anywhere, negative
    // BatchNorm variances.
    for (const auto& [name, tensor] : own) {
        const torch::Tensor& t = stored[name];
        if (t.is_floating_point() && !torch::isfinite(t).all().item<bool>()) {
            throw DataError(path + ": " + name + " holds NaN or infinite values (damaged weights)");
        }
        const std::string var = "running_var";
        if (name.size() > var.size() &&
            name.compare(name.size() - var.size(), var.size(), var) == 0 &&
            (t < 0).any().item<bool>()) {
            throw DataError(path + ": " + name +
                            " has negative BatchNorm variances (damaged weights)");
        }
    }
    torch::NoGradGuard guard;
    for (auto& [name, tensor] : own) {
        tensor.copy_(stored[name].to(tensor.device(), tensor.scalar_type()));
    }
}

}  // namespace scalelab
