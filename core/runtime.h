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

// Puts LibTorch's CPU tensors of 1 MiB and more (activations, gradients, batches) on a
// MemoryArena of their own (core/memory_arena.h) instead of glibc's heap; smaller ones keep
// malloc. A 256-image EfficientNet-B0 run at 64 px peaked at 1.0 GB with them on the heap (0.42
// GB of live tensors). Call once at startup, before large tensors exist. Returns false, and
// changes nothing, where the address space cannot be reserved or the system commits every
// reservation (vm.overcommit_memory = 2), or where SCALELAB_MEMORY_ARENA=0 switches it off.
bool useMemoryArena();
// The address space the arena reserves: the machine's memory, at most half of the process's
// address-space limit (RLIMIT_AS) where one is set.
uint64_t memoryArenaReserveBytes();
// Between phases of work whose tensors differ in size (before and after an evaluation), gives
// the arena's free pages and glibc's free heap back to the system, so that the next phase does
// not keep the last one's memory on top of its own. Costs the next phase one page fault per page
// it touches again (about 0.2-0.45 s per GB here). Returns the bytes of arena gaps given back.
uint64_t releaseFreedMemory();
// While one is alive (in any thread), large CPU tensors are allocated outside the memory arena,
// on glibc's heap. For what lives through all of a run's steps -- the parameters, their
// gradients and the optimizer's state: a block of theirs made in the middle of a step's memory
// stays there, and the next step's activations have to go around it (EfficientNet-B0 at 64 px:
// 23 MB more). Nests.
class ArenaBypass {
public:
    ArenaBypass();
    ~ArenaBypass();
    ArenaBypass(const ArenaBypass&) = delete;
    ArenaBypass& operator=(const ArenaBypass&) = delete;
};
// While one is alive (in any thread), CPU tensors from 4 KiB up go to the memory arena, not only
// large ones: for throw-away work (timing kernel candidates on models of their own) whose many
// small tensors would otherwise be scattered through glibc's heap under the run that follows;
// releaseFreedMemory gives all of it back. Nests.
class ScratchOnArena {
public:
    ScratchOnArena();
    ~ScratchOnArena();
    ScratchOnArena(const ScratchOnArena&) = delete;
    ScratchOnArena& operator=(const ScratchOnArena&) = delete;
};
struct MemoryArenaUse {
    bool active = false;         // useMemoryArena succeeded
    uint64_t liveBytes = 0;      // arena blocks in use, bytes
    uint64_t peakLiveBytes = 0;  // most arena bytes in use at once, bytes
    uint64_t topBytes = 0;       // extent of the arena in use, bytes
    uint64_t releasedBytes = 0;  // free arena gaps given back so far, bytes
};
MemoryArenaUse memoryArenaUse();

// "CPU, 2 threads" or "CUDA (1 GPU), 16 CPU threads", for status bars and logs.
std::string describeRuntime(const RuntimeInfo& info);

}  // namespace scalelab
