#pragma once
// What the compute side of this process has: LibTorch version, CUDA, threads. Torch-free.

#include <string>

namespace scalelab {

struct RuntimeInfo {
    std::string torchVersion;    // LibTorch's version, e.g. "1.13.0"
    bool cudaAvailable = false;  // LibTorch was built with CUDA and sees a GPU
    int cudaDeviceCount = 0;     // GPUs LibTorch sees
    int threads = 0;             // intra-op threads LibTorch uses now
    int cpuCores = 0;            // hardware threads of this machine
};

RuntimeInfo runtimeInfo();

// Sets LibTorch's intra-op thread count: `requested` > 0 as given, 0 = every hardware thread of
// the machine (LibTorch's OpenMP default can be lower). Returns the count now in use.
int applyThreadCount(int requested = 0);

// "CPU, 2 threads" or "CUDA (1 GPU), 16 CPU threads", for status bars and logs.
std::string describeRuntime(const RuntimeInfo& info);

}  // namespace scalelab
