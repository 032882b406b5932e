#include "core/runtime.h"

#include <atomic>

#include <torch/torch.h>
#include <torch/version.h>

#include <c10/core/CPUAllocator.h>

#ifdef SCALELAB_CORE_HAS_OPENCV
#include <opencv2/core/utility.hpp>
#endif

#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include <limits>
#include <thread>
#include "core/error.h"
#include "core/memory_arena.h"

namespace scalelab {

RuntimeInfo runtimeInfo() {
    RuntimeInfo r;
    r.torchVersion = TORCH_VERSION;
#ifdef SCALELAB_CORE_HAS_OPENCV
    r.opencvVersion = cv::getVersionString();
#endif
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

namespace {

constexpr size_t kArenaMinBytes = size_t(1) << 20;  // smaller tensors stay on malloc
MemoryArena* gArena = nullptr;                      // set once, never destroyed
std::atomic<int> gBypassArena{0};                   // ArenaBypass scopes open
std::atomic<int> gScratchOnArena{0};                // ScratchOnArena scopes open
constexpr size_t kScratchMinBytes = 4096;           // the arena's page: smaller ones waste more

void freeTensorBytes(void* p) {
    if (gArena && gArena->owns(p)) {
        gArena->deallocate(p);
    } else {
        std::free(p);
    }
}

// LibTorch's CPU allocator interface differs between versions: allocate() is const up to 2.2
// and not from 2.3, where copy_data() became pure virtual. Both forms are declared (no
// `override`), so one class overrides whichever the headers have.
class ArenaCpuAllocator final : public c10::Allocator {
public:
    c10::DataPtr allocate(size_t n) const { return make(n); }
    c10::DataPtr allocate(size_t n) { return make(n); }
    c10::DeleterFnPtr raw_deleter() const { return &freeTensorBytes; }
    void copy_data(void* dest, const void* src, std::size_t count) const {
        if (count > 0) {
            std::memcpy(dest, src, count);
        }
    }

private:
    static c10::DataPtr make(size_t n) {
        const c10::Device cpu(c10::DeviceType::CPU);
        if (n == 0) {
            return {nullptr, nullptr, &freeTensorBytes, cpu};
        }
        const size_t least =
            gScratchOnArena.load(std::memory_order_relaxed) > 0 ? kScratchMinBytes : kArenaMinBytes;
        void* p = n >= least && gBypassArena.load(std::memory_order_relaxed) == 0
                      ? gArena->allocate(n)
                      : nullptr;
        if (!p && ::posix_memalign(&p, 64, n) != 0) {  // 64 B: LibTorch's CPU alignment
            p = nullptr;
        }
        TORCH_CHECK(p != nullptr, "CPU allocator: not enough memory: you tried to allocate ", n,
                    " bytes (", double(n) / double(uint64_t(1) << 30), " GiB)");
        return {p, p, &freeTensorBytes, cpu};
    }
};

bool commitsEveryReservation() {
    std::ifstream f("/proc/sys/vm/overcommit_memory");
    int mode = 0;
    return (f >> mode) && mode == 2;
}

}  // namespace

ArenaBypass::ArenaBypass() {
    gBypassArena.fetch_add(1, std::memory_order_relaxed);
}

ArenaBypass::~ArenaBypass() {
    gBypassArena.fetch_sub(1, std::memory_order_relaxed);
}

ScratchOnArena::ScratchOnArena() {
    gScratchOnArena.fetch_add(1, std::memory_order_relaxed);
}

ScratchOnArena::~ScratchOnArena() {
    gScratchOnArena.fetch_sub(1, std::memory_order_relaxed);
}

uint64_t memoryArenaReserveBytes() {
    const long pages = ::sysconf(_SC_PHYS_PAGES);
    const long page = ::sysconf(_SC_PAGESIZE);
    if (pages <= 0 || page <= 0) {
        return 0;
    }
    // As much address space as the machine has memory (tensors beyond it fall back to malloc),
    // and never more than half of an address-space limit (ulimit -v, some batch systems): the
    // libraries and the heap need the rest.
    uint64_t bytes = uint64_t(pages) * uint64_t(page);
    struct rlimit limit {};
    if (::getrlimit(RLIMIT_AS, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
        bytes = std::min<uint64_t>(bytes, uint64_t(limit.rlim_cur) / 2);
    }
    return bytes;
}

bool useMemoryArena() {
    static const bool active = [] {
        const char* env = std::getenv("SCALELAB_MEMORY_ARENA");
        if ((env && std::string(env) == "0") || commitsEveryReservation()) {
            return false;  // switched off (for comparisons), or it would commit memory
        }
        const uint64_t reserve = memoryArenaReserveBytes();
        if (reserve == 0) {
            return false;
        }
        auto* arena = new MemoryArena(reserve);
        if (!arena->valid()) {
            delete arena;
            return false;
        }
        gArena = arena;
        ::pthread_atfork([] { gArena->lockForFork(); }, [] { gArena->unlockAfterFork(); },
                         [] { gArena->unlockAfterFork(); });
        static ArenaCpuAllocator allocator;
        c10::SetCPUAllocator(&allocator, /*priority=*/1);
        return true;
    }();
    return active;
}

uint64_t releaseFreedMemory() {
    const uint64_t bytes = gArena ? gArena->release() : 0;
#if defined(__GLIBC__)
    malloc_trim(0);
#endif
    return bytes;
}

MemoryArenaUse memoryArenaUse() {
    MemoryArenaUse u;
    if (gArena) {
        const MemoryArena::Stats s = gArena->stats();
        u.active = true;
        u.liveBytes = s.liveBytes;
        u.peakLiveBytes = s.peakLiveBytes;
        u.topBytes = s.topBytes;
        u.releasedBytes = s.releasedBytes;
    }
    return u;
}

std::string libraryMessage(const std::exception& e) {
    std::string m;
    if (const auto* c = dynamic_cast<const c10::Error*>(&e)) {
        m = c->msg();
    } else {
        m = e.what();
    }
    const size_t raised = m.find("Exception raised from");
    if (raised != std::string::npos) {
        m = m.substr(0, raised);
    }
    const size_t nl = m.find('\n');
    if (nl != std::string::npos) {
        m = m.substr(0, nl);
    }
    // "[json.exception.type_error.305] cannot use ..." -> "cannot use ..."
    if (m.rfind("[json.exception.", 0) == 0) {
        const size_t close = m.find("] ");
        if (close != std::string::npos) {
            m = m.substr(close + 2);
        }
    }
    while (!m.empty() && (m.back() == ' ' || m.back() == '\n')) {
        m.pop_back();
    }
    if (m.size() > 200) {
        m = m.substr(0, 200) + "...";
    }
    return m.empty() ? "an error without a message" : m;
}

int maxThreads() {
    return 4 * std::max(1, int(std::thread::hardware_concurrency()));
}

void checkThreadCount(int requested, const std::string& what) {
    if (requested < 0 || requested > maxThreads()) {
        throw SpecError(what + " = " + std::to_string(requested) + " is out of range (0 = every " +
                        "core, or 1.." + std::to_string(maxThreads()) + ": at most 4 x the " +
                        std::to_string(maxThreads() / 4) + " hardware threads)");
    }
}

uint64_t availableMemoryBytes() {
    std::ifstream in("/proc/meminfo");
    std::string key;
    uint64_t kb = 0;
    std::string unit;
    while (in >> key >> kb >> unit) {
        if (key == "MemAvailable:") {
            return kb * 1024;
        }
    }
    return 0;
}

uint64_t peakResidentBytes() {
    struct rusage u {};
    return getrusage(RUSAGE_SELF, &u) == 0 ? uint64_t(u.ru_maxrss) * 1024 : 0;  // Linux: KiB
}

void checkMemory(const std::string& what, double bytes, bool allowed,
                 const std::string& overrideHint) {
    const uint64_t avail = availableMemoryBytes();
    if (allowed || avail == 0 || bytes <= double(avail)) {
        return;
    }
    char buf[256];
    std::snprintf(buf, sizeof buf, "%s needs about %.1f GiB but only %.1f GiB are available",
                  what.c_str(), bytes / double(1 << 30), double(avail) / double(1 << 30));
    throw SpecError(std::string(buf) + "; lower the batch size or resolution" +
                    (overrideHint.empty() ? "" : ", or pass " + overrideHint + " to try anyway"));
}

int applyThreadCount(int requested) {
    checkThreadCount(requested, "threads");
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
