#include "core/train/device.h"

#include "core/error.h"

namespace scalelab {

torch::Device resolveDevice(const std::string& name) {
    if (name == "auto" || name.empty()) {
        return torch::cuda::is_available() ? torch::Device(torch::kCUDA, 0)
                                           : torch::Device(torch::kCPU);
    }
    if (name == "cpu") {
        return torch::kCPU;
    }
    if (name == "cuda" || name.rfind("cuda:", 0) == 0) {
        int index = 0;
        if (name.size() > 5) {
            const std::string digits = name.substr(5);
            if (digits.empty() || digits.size() > 3 ||
                digits.find_first_not_of("0123456789") != std::string::npos) {
                throw SpecError("device '" + name + "': expected cuda or cuda:N (N = 0..999)");
            }
            index = std::stoi(digits);
        }
        if (!torch::cuda::is_available()) {
            throw SpecError("device '" + name +
                            "': this LibTorch has no CUDA support or sees no GPU; use cpu or auto");
        }
        if (index >= int(torch::cuda::device_count())) {
            throw SpecError("device '" + name + "': only " +
                            std::to_string(torch::cuda::device_count()) + " GPU(s) here");
        }
        return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
    }
    throw SpecError("device '" + name + "' is not auto, cpu, cuda or cuda:N");
}

}  // namespace scalelab
