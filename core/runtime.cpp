#include "core/runtime.h"

#include <torch/torch.h>
#include <torch/version.h>

#include <algorithm>
#include <thread>

namespace scalelab {

RuntimeInfo runtimeInfo() {
    RuntimeInfo r;
    r.torchVersion = TORCH_VERSION;
    r.cudaAvailable = torch::cuda::is_available();
    r.cudaDeviceCount = r.cudaAvailable ? int(torch::cuda::device_count()) : 0;
    r.threads = torch::get_num_threads();
    r.cpuCores = int(std::thread::hardware_concurrency());
    return r;
}

int applyThreadCount(int requested) {
    const int cores = std::max(1, int(std::thread::hardware_concurrency()));
    torch::set_num_threads(requested > 0 ? requested : cores);
    return torch::get_num_threads();
}

std::string describeRuntime(const RuntimeInfo& r) {
    std::string s = r.cudaAvailable ? "CUDA (" + std::to_string(r.cudaDeviceCount) + " GPU" +
                                          (r.cudaDeviceCount == 1 ? "" : "s") + ")"
                                    : "CPU (no CUDA)";
    s += ", " + std::to_string(r.threads) + " CPU thread" + (r.threads == 1 ? "" : "s");
    s += ", LibTorch " + r.torchVersion;
    return s;
}

}  // namespace scalelab
