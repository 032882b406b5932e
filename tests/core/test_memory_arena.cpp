// The large-block arena under LibTorch's CPU tensors (core/memory_arena.h, useMemoryArena).

#include <c10/core/CPUAllocator.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <torch/torch.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <map>
#include <random>
#include <thread>
#include <vector>

#include "core/memory_arena.h"
#include "core/runtime.h"

using namespace scalelab;

namespace {

constexpr uint64_t MiB = uint64_t(1) << 20;

// Resident pages of [p, p + bytes), from mincore.
uint64_t residentBytes(const void* p, uint64_t bytes) {
    const uint64_t page = uint64_t(::sysconf(_SC_PAGESIZE));
    std::vector<unsigned char> v(size_t((bytes + page - 1) / page));
    EXPECT_EQ(::mincore(const_cast<void*>(p), size_t(bytes), v.data()), 0);
    uint64_t n = 0;
    for (unsigned char c : v) {
        n += (c & 1) ? page : 0;
    }
    return n;
}

}  // namespace

TEST(MemoryArena, BestFitReusesTheSmallestGapAndMergesNeighbours) {
    MemoryArena arena(64 * MiB);
    ASSERT_TRUE(arena.valid());
    char* a = static_cast<char*>(arena.allocate(1 * MiB));
    char* b = static_cast<char*>(arena.allocate(3 * MiB));
    char* c = static_cast<char*>(arena.allocate(1 * MiB));
    char* d = static_cast<char*>(arena.allocate(2 * MiB));
    char* e = static_cast<char*>(arena.allocate(1 * MiB));
    ASSERT_TRUE(a && b && c && d && e);
    EXPECT_EQ(b, a + MiB);  // handed out in order at the top
    EXPECT_EQ(e, d + 2 * MiB);
    arena.deallocate(b);  // a 3 MiB gap
    arena.deallocate(d);  // a 2 MiB gap
    // 1.5 MiB goes to the 2 MiB gap (the smallest that holds it), not the first one.
    char* f = static_cast<char*>(arena.allocate(MiB + MiB / 2));
    EXPECT_EQ(f, d);
    // Freeing c merges it with b's gap: 3 + 1 MiB, then 4 MiB fits there without growing the top.
    arena.deallocate(c);
    const uint64_t top = arena.stats().topBytes;
    char* g = static_cast<char*>(arena.allocate(4 * MiB));
    EXPECT_EQ(g, b);
    EXPECT_EQ(arena.stats().topBytes, top);
    // Freeing the block at the top brings the top down, over the free gap below it as well.
    arena.deallocate(e);
    arena.deallocate(f);
    EXPECT_EQ(arena.stats().topBytes, uint64_t(d - a));
    EXPECT_EQ(arena.stats().blocks, 2u);
    EXPECT_EQ(arena.stats().liveBytes, 5 * MiB);
    arena.deallocate(a);
    arena.deallocate(g);
    const MemoryArena::Stats s = arena.stats();
    EXPECT_EQ(s.topBytes, 0u);
    EXPECT_EQ(s.liveBytes, 0u);
    EXPECT_EQ(s.freeRanges, 0u);
    EXPECT_EQ(s.peakLiveBytes, 8 * MiB);  // a b c d e
}

TEST(MemoryArena, BlocksNeverOverlapUnderRandomUse) {
    MemoryArena arena(512 * MiB);
    ASSERT_TRUE(arena.valid());
    std::mt19937_64 rng(13);
    std::map<char*, std::pair<size_t, unsigned char>> live;  // block -> size, fill byte
    auto check = [](char* p, size_t n, unsigned char fill) {
        for (size_t i = 0; i < n; i += 4093) {
            if (static_cast<unsigned char>(p[i]) != fill) {
                return false;
            }
        }
        return static_cast<unsigned char>(p[n - 1]) == fill;
    };
    uint64_t expectLive = 0;
    for (int step = 0; step < 3000; ++step) {
        if (live.empty() || rng() % 100 < 55) {
            const size_t n = size_t(1 + rng() % (6 * MiB));
            char* p = static_cast<char*>(arena.allocate(n));
            if (!p) {
                continue;  // the region is full for now
            }
            EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 4096, 0u);
            const unsigned char fill = static_cast<unsigned char>(rng());
            std::memset(p, fill, n);
            live.emplace(p, std::make_pair(n, fill));
            expectLive += (n + 4095) / 4096 * 4096;
        } else {
            auto it = live.begin();
            std::advance(it, long(rng() % live.size()));
            ASSERT_TRUE(check(it->first, it->second.first, it->second.second))
                << "a block was overwritten by another";
            expectLive -= (it->second.first + 4095) / 4096 * 4096;
            arena.deallocate(it->first);
            live.erase(it);
        }
        if (step % 500 == 0) {
            EXPECT_EQ(arena.stats().liveBytes, expectLive);
            EXPECT_EQ(arena.stats().blocks, live.size());
            arena.release();  // free pages go back; live ones must keep their contents
        }
    }
    for (auto& [p, v] : live) {
        ASSERT_TRUE(check(p, v.first, v.second));
        arena.deallocate(p);
    }
    EXPECT_EQ(arena.stats().liveBytes, 0u);
    EXPECT_EQ(arena.stats().topBytes, 0u);
}

TEST(MemoryArena, ReleaseGivesFreePagesBackAndKeepsLiveOnes) {
    MemoryArena arena(64 * MiB);
    ASSERT_TRUE(arena.valid());
    char* a = static_cast<char*>(arena.allocate(8 * MiB));
    char* b = static_cast<char*>(arena.allocate(8 * MiB));
    char* c = static_cast<char*>(arena.allocate(8 * MiB));
    std::memset(a, 1, 8 * MiB);
    std::memset(b, 2, 8 * MiB);
    std::memset(c, 3, 8 * MiB);
    EXPECT_EQ(residentBytes(a, 24 * MiB), 24 * MiB);
    arena.deallocate(b);  // a gap
    arena.deallocate(c);  // the top comes down to b
    // Freed pages stay resident (reuse faults nothing in) until release.
    EXPECT_EQ(residentBytes(a, 24 * MiB), 24 * MiB);
    EXPECT_EQ(arena.release(), 16 * MiB);
    EXPECT_EQ(residentBytes(a, 8 * MiB), 8 * MiB);
    EXPECT_EQ(residentBytes(b, 16 * MiB), 0u);
    EXPECT_EQ(static_cast<unsigned char>(a[8 * MiB - 1]), 1);
    EXPECT_EQ(arena.stats().releasedBytes, 16 * MiB);
    // A block from released pages reads as zero and works as before.
    char* d = static_cast<char*>(arena.allocate(16 * MiB));
    EXPECT_EQ(d, b);
    EXPECT_EQ(d[5 * MiB], 0);
    d[5 * MiB] = 7;
    EXPECT_EQ(d[5 * MiB], 7);
}

TEST(MemoryArena, AFullRegionSaysSoAndRecovers) {
    MemoryArena arena(8 * MiB);
    ASSERT_TRUE(arena.valid());
    void* a = arena.allocate(6 * MiB);
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(arena.allocate(4 * MiB), nullptr);  // the caller falls back to malloc
    EXPECT_NE(arena.allocate(2 * MiB), nullptr);  // what still fits is served
    EXPECT_EQ(arena.allocate(0), nullptr);
    EXPECT_FALSE(arena.owns(&arena));
    EXPECT_TRUE(arena.owns(a));
    arena.deallocate(a);
    EXPECT_NE(arena.allocate(5 * MiB), nullptr);
}

TEST(MemoryArena, LibTorchTensorsOfAMebibyteAndMoreLiveThere) {
    ASSERT_TRUE(useMemoryArena());
    const MemoryArenaUse before = memoryArenaUse();
    ASSERT_TRUE(before.active);
    {
        auto big = torch::ones({4, 1 << 18});  // 4 MiB of float
        auto small = torch::ones({1000});      // 4 KB: malloc's
        EXPECT_EQ(memoryArenaUse().liveBytes, before.liveBytes + 4 * MiB);
        auto sum = big.sum() + small.sum();
        EXPECT_EQ(sum.item<double>(), 4.0 * (1 << 18) + 1000.0);
        // Allocations round-trip through the raw interface too (used by some LibTorch kernels).
        c10::Allocator* a = c10::GetCPUAllocator();
        void* raw = a->raw_allocate(2 * MiB);
        ASSERT_NE(raw, nullptr);
        std::memset(raw, 1, 2 * MiB);
        a->raw_deallocate(raw);
        void* rawSmall = a->raw_allocate(100);
        a->raw_deallocate(rawSmall);
        // An empty tensor and a view need nothing of their own.
        auto empty = torch::empty({0});
        EXPECT_EQ(empty.numel(), 0);
    }
    EXPECT_EQ(memoryArenaUse().liveBytes, before.liveBytes);
    // A training-sized workload gives its pages back between phases.
    {
        auto x = torch::randn({64, 32, 32, 32}, torch::requires_grad());
        auto w = torch::randn({32, 32, 3, 3}, torch::requires_grad());
        auto y = torch::conv2d(x, w, {}, 1, 1).relu().sum();
        y.backward();
        EXPECT_TRUE(x.grad().defined());
    }
    EXPECT_GT(memoryArenaUse().peakLiveBytes, 8 * MiB);
    const uint64_t releasedBefore = memoryArenaUse().releasedBytes;
    releaseFreedMemory();
    EXPECT_GT(memoryArenaUse().releasedBytes, releasedBefore);
}

TEST(MemoryArena, ScopesKeepLongLivedTensorsOffItAndPutScratchOnIt) {
    ASSERT_TRUE(useMemoryArena());
    const uint64_t live = memoryArenaUse().liveBytes;
    torch::Tensor kept, scratchSmall, tiny;
    {
        const ArenaBypass off;
        kept = torch::ones({1 << 20});  // 4 MiB, on glibc's heap
        { const ArenaBypass nested; }
        EXPECT_EQ(memoryArenaUse().liveBytes, live) << "a nested scope ended the outer one";
    }
    EXPECT_EQ(memoryArenaUse().liveBytes, live);
    {
        const ScratchOnArena scratch;
        scratchSmall = torch::ones({2048});  // 8 KB: on the arena within the scope
        tiny = torch::ones({16});            // under a page: still malloc's
        EXPECT_EQ(memoryArenaUse().liveBytes, live + 8192);
        {
            const ArenaBypass off;  // bypass wins where both are open
            const auto t = torch::ones({4096});
            EXPECT_EQ(memoryArenaUse().liveBytes, live + 8192);
        }
    }
    const auto after = torch::ones({2048});  // small again once the scope ends
    EXPECT_EQ(memoryArenaUse().liveBytes, live + 8192);
    EXPECT_EQ(kept.sum().item<double>(), double(1 << 20));
    scratchSmall = torch::Tensor();
    EXPECT_EQ(memoryArenaUse().liveBytes, live);
}

TEST(MemoryArena, AForkedChildAllocatesWhileAnotherThreadWorks) {
    // The run loader probes damaged checkpoints in a forked child; the arena's lock must not be
    // inherited held from a thread that was allocating at the moment of the fork.
    ASSERT_TRUE(useMemoryArena());
    std::atomic<bool> stop{false};
    std::thread worker([&] {
        while (!stop.load()) {
            auto t = torch::empty({1 << 19});  // 2 MiB, through the arena's lock
            t.fill_(1);
        }
    });
    for (int i = 0; i < 20; ++i) {
        const pid_t pid = ::fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            torch::set_num_threads(1);  // OpenMP's pool does not survive fork
            auto t = torch::empty({1 << 20});
            float* p = t.data_ptr<float>();
            p[0] = 1.0f;
            p[(1 << 20) - 1] = 2.0f;
            ::_exit(memoryArenaUse().liveBytes >= 4 * MiB && p[0] + p[(1 << 20) - 1] == 3.0f ? 0
                                                                                             : 1);
        }
        int status = 0;
        ASSERT_EQ(::waitpid(pid, &status, 0), pid);
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    stop = true;
    worker.join();
}

TEST(MemoryArena, ReservesAtMostHalfOfAnAddressSpaceLimit) {
    const uint64_t unlimited = memoryArenaReserveBytes();
    EXPECT_GT(unlimited, 64 * MiB);  // the machine's memory
    // In a child (the limit stays there): with ulimit -v 8 GiB, at most 4 GiB is reserved.
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        struct rlimit limit {};
        limit.rlim_cur = limit.rlim_max = rlim_t(8192) * MiB;
        if (::setrlimit(RLIMIT_AS, &limit) != 0) {
            ::_exit(2);
        }
        const uint64_t bytes = memoryArenaReserveBytes();
        ::_exit(bytes <= 4096 * MiB && bytes == std::min<uint64_t>(unlimited, 4096 * MiB) ? 0 : 1);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
}
