#pragma once
// What the compute side of this process has: LibTorch and OpenCV versions, CUDA, threads.
// Torch-free.

#include <cstdint>
#include <string>

namespace scalelab {

struct RuntimeInfo {
    std::string torchVersion;    // LibTorch's version, e.g. "1.13.0"
    std::string opencvVersion;   // OpenCV's version, e.g. "4.6.0"; "" in a build without OpenCV
    bool cudaAvailable = false;  // LibTorch was built with CUDA and sees a GPU
    int cudaDeviceCount = 0;     // GPUs LibTorch sees
    int threads = 0;             // intra-op threads LibTorch uses now
    int cpuCores = 0;            // hardware threads of this machine
};

RuntimeInfo runtimeInfo();

// ScaleLab's own version: CMake's project version, e.g. "0.1.0" (--version, Help > About).
std::string scalelabVersion();

// The most intra-op threads a run may ask for: 4 x the machine's hardware threads.
int maxThreads();
// Checks a requested thread count (0 = every core) against 0..maxThreads(). Throws SpecError
// naming `what` ("--threads", "config.json: threads") and the allowed range.
void checkThreadCount(int requested, const std::string& what);

// Memory the system can still give this process, bytes (MemAvailable; 0 when unknown).
uint64_t availableMemoryBytes();

// The process's peak resident set so far, bytes (getrusage; 0 where unknown).
uint64_t peakResidentBytes();
// Refuses (SpecError) a plan that needs more than the memory available: `what` needs about
// `bytes`. `overrideHint` names the flag that allows it anyway ("--allow-memory"); with
// `allowed` the check only passes.
void checkMemory(const std::string& what, double bytes, bool allowed,
                 const std::string& overrideHint);

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
