#include "core/runtime.h"

#include <torch/torch.h>
#include <torch/version.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <algorithm>
#include <limits>
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

bool keepFreedMemory() {
#if defined(__GLIBC__)
    const bool a = mallopt(M_MMAP_MAX, 0) == 1;
    const bool b = mallopt(M_TRIM_THRESHOLD, std::numeric_limits<int>::max()) == 1;
    return a && b;
#else
    return false;
#endif
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
