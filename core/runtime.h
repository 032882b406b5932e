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

// Keeps freed memory in the process for reuse: no mmap for large blocks, no trimming. LibTorch's
// CPU allocator has no cache, so without this every large activation is a fresh mmap whose pages
// fault in again on each step (measured: ResNet-18 training 69 -> 101 images/s). Call once at
// startup, before large allocations; the process then keeps its peak memory. Returns false
// where the C library offers no such control.
bool keepFreedMemory();

// "CPU, 2 threads" or "CUDA (1 GPU), 16 CPU threads", for status bars and logs.
std::string describeRuntime(const RuntimeInfo& info);

}  // namespace scalelab
