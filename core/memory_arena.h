#pragma once
// One contiguous region of address space for large blocks (activations, gradients, batches),
// handed out best-fit with coalescing. Torch-free; core/runtime.h puts LibTorch's CPU tensors on
// it.
//
// Why: glibc's heap mixes large and small blocks, and with the process keeping freed memory (for
// speed, see keepFreedMemory) a training step's large blocks fragment it: a 256-image
// EfficientNet-B0 run held 1.0 GB for 0.42 GB of live tensors. In a region of their own, best-fit
// reuses a training step's blocks almost exactly (the steps repeat the same sizes), and `release`
// hands every free page back to the system when the work changes shape (training ->
// evaluation), so the next phase does not pile its sizes on top of the last one's holes.
//
// Pages are only resident once written (the region is reserved, not committed), and stay
// resident while free until `release`: reuse never faults pages in again.

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <unordered_map>

namespace scalelab {

class MemoryArena {
public:
    struct Stats {
        uint64_t reservedBytes = 0;  // address space of the region, bytes
        uint64_t liveBytes = 0;      // handed out and not yet freed (page-rounded), bytes
        uint64_t peakLiveBytes = 0;  // most live bytes so far, bytes
        uint64_t topBytes = 0;       // extent of the region in use: blocks lie below it, bytes
        uint64_t touchedBytes = 0;   // extent ever written since the last release, bytes
        uint64_t freeRanges = 0;     // free gaps below top, count
        uint64_t blocks = 0;         // live blocks, count
        uint64_t releasedBytes = 0;  // bytes given back to the system by release(), in all
    };

    // Reserves `reserveBytes` of address space (rounded up to whole pages). valid() is false
    // where the system refuses the reservation; allocate then always returns nullptr.
    explicit MemoryArena(uint64_t reserveBytes);
    ~MemoryArena();
    MemoryArena(const MemoryArena&) = delete;
    MemoryArena& operator=(const MemoryArena&) = delete;

    bool valid() const { return base_ != nullptr; }
    // A page-aligned block of at least `bytes` (> 0), best fit among the free gaps, else at
    // the top; nullptr when the region has no room (the caller falls back to malloc).
    void* allocate(size_t bytes);
    // True when `p` points into the region (a block from allocate).
    bool owns(const void* p) const;
    // Frees a block from allocate, merging it with free neighbours.
    void deallocate(void* p);
    // Gives the pages of every free gap (and of the region above top) back to the system; they
    // read as zero and fault in again when used. Returns the bytes released.
    uint64_t release();
    Stats stats() const;

    // Lock/unlock around fork() (pthread_atfork): a child must not inherit a held lock.
    void lockForFork();
    void unlockAfterFork();

private:
    void addFree(uint64_t offset, uint64_t size);
    void removeFree(std::map<uint64_t, uint64_t>::iterator it);

    char* base_ = nullptr;
    uint64_t capacity_ = 0;
    uint64_t page_ = 4096;
    mutable std::mutex mutex_;
    uint64_t top_ = 0;
    uint64_t touched_ = 0;
    uint64_t live_ = 0;
    uint64_t peakLive_ = 0;
    uint64_t released_ = 0;
    std::map<uint64_t, uint64_t> freeByOffset_;      // offset -> size, below top_
    std::multimap<uint64_t, uint64_t> freeBySize_;   // size -> offset, the same gaps
    std::unordered_map<uint64_t, uint64_t> blocks_;  // offset -> size of live blocks
};

}  // namespace scalelab
