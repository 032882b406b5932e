#include "core/memory_arena.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

// Under AddressSanitizer (scripts/test.sh --sanitize) free blocks and the slack after each
// block's requested size are poisoned, so a use after free or an overrun inside the region is
// reported as it would be on malloc's memory.
#if defined(__SANITIZE_ADDRESS__)
#define SCALELAB_ARENA_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SCALELAB_ARENA_ASAN 1
#endif
#endif
#ifdef SCALELAB_ARENA_ASAN
#include <sanitizer/asan_interface.h>
#define ARENA_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define ARENA_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define ARENA_POISON(p, n) ((void)(p), (void)(n))
#define ARENA_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace scalelab {

MemoryArena::MemoryArena(uint64_t reserveBytes) {
    const long page = ::sysconf(_SC_PAGESIZE);
    page_ = page > 0 ? uint64_t(page) : 4096;
    capacity_ = (reserveBytes + page_ - 1) / page_ * page_;
    if (capacity_ == 0) {
        return;
    }
    // Address space only: MAP_NORESERVE commits nothing, pages become resident when written.
    void* p = ::mmap(nullptr, size_t(capacity_), PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        capacity_ = 0;
        return;
    }
    base_ = static_cast<char*>(p);
}

MemoryArena::~MemoryArena() {
    if (base_) {
        ::munmap(base_, size_t(capacity_));
    }
}

bool MemoryArena::owns(const void* p) const {
    const char* c = static_cast<const char*>(p);
    return base_ && c >= base_ && c < base_ + capacity_;
}

void MemoryArena::addFree(uint64_t offset, uint64_t size) {
    freeByOffset_.emplace(offset, size);
    freeBySize_.emplace(size, offset);
}

void MemoryArena::removeFree(std::map<uint64_t, uint64_t>::iterator it) {
    auto range = freeBySize_.equal_range(it->second);
    for (auto s = range.first; s != range.second; ++s) {
        if (s->second == it->first) {
            freeBySize_.erase(s);
            break;
        }
    }
    freeByOffset_.erase(it);
}

void* MemoryArena::allocate(size_t bytes) {
    if (!base_ || bytes == 0) {
        return nullptr;
    }
    const uint64_t size = (uint64_t(bytes) + page_ - 1) / page_ * page_;
    std::lock_guard<std::mutex> lock(mutex_);
    uint64_t offset = 0;
    auto fit = freeBySize_.lower_bound(size);
    if (fit != freeBySize_.end()) {
        // The smallest gap that holds it; the rest of the gap stays free.
        offset = fit->second;
        const uint64_t gap = fit->first;
        removeFree(freeByOffset_.find(offset));
        if (gap > size) {
            addFree(offset + size, gap - size);
        }
    } else {
        // At the top, starting in the free gap that ends there if there is one.
        uint64_t start = top_;
        if (!freeByOffset_.empty()) {
            auto last = std::prev(freeByOffset_.end());
            if (last->first + last->second == top_) {
                start = last->first;
                removeFree(last);
            }
        }
        if (start + size > capacity_) {
            if (start != top_) {
                addFree(start, top_ - start);
            }
            return nullptr;
        }
        offset = start;
        top_ = start + size;
        touched_ = std::max(touched_, top_);
    }
    blocks_.emplace(offset, size);
    live_ += size;
    peakLive_ = std::max(peakLive_, live_);
    ARENA_UNPOISON(base_ + offset, bytes);
    ARENA_POISON(base_ + offset + bytes, size - bytes);
    return base_ + offset;
}

void MemoryArena::deallocate(void* p) {
    if (!owns(p)) {
        return;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    uint64_t offset = uint64_t(static_cast<char*>(p) - base_);
    const auto b = blocks_.find(offset);
    if (b == blocks_.end()) {
        std::abort();  // not a live block: a double free or a foreign pointer
    }
    uint64_t size = b->second;
    blocks_.erase(b);
    live_ -= size;
    ARENA_POISON(base_ + offset, size);
    // Merge with the free gaps on either side.
    auto next = freeByOffset_.lower_bound(offset);
    if (next != freeByOffset_.end() && next->first == offset + size) {
        size += next->second;
        removeFree(next);
        next = freeByOffset_.lower_bound(offset);
    }
    if (next != freeByOffset_.begin()) {
        auto prev = std::prev(next);
        if (prev->first + prev->second == offset) {
            offset = prev->first;
            size += prev->second;
            removeFree(prev);
        }
    }
    if (offset + size == top_) {
        top_ = offset;  // the top comes down; its pages stay resident until release()
    } else {
        addFree(offset, size);
    }
}

uint64_t MemoryArena::release() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!base_) {
        return 0;
    }
    uint64_t bytes = 0;
    for (const auto& [offset, size] : freeByOffset_) {
        if (::madvise(base_ + offset, size_t(size), MADV_DONTNEED) == 0) {
            bytes += size;
        }
    }
    if (touched_ > top_ && ::madvise(base_ + top_, size_t(touched_ - top_), MADV_DONTNEED) == 0) {
        bytes += touched_ - top_;
        touched_ = top_;
    }
    released_ += bytes;
    return bytes;
}

MemoryArena::Stats MemoryArena::stats() const {
    std::lock_guard<std::mutex> lock(mutex_);
    Stats s;
    s.reservedBytes = capacity_;
    s.liveBytes = live_;
    s.peakLiveBytes = peakLive_;
    s.topBytes = top_;
    s.touchedBytes = touched_;
    s.freeRanges = freeByOffset_.size();
    s.blocks = blocks_.size();
    s.releasedBytes = released_;
    return s;
}

void MemoryArena::lockForFork() {
    mutex_.lock();
}

void MemoryArena::unlockAfterFork() {
    mutex_.unlock();
}

}  // namespace scalelab
