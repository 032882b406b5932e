#include "app/cli/terminal_progress.h"

#include <csignal>

#include <unistd.h>

#include <cstdio>

namespace scalelab::cli {

std::string formatDuration(double seconds) {
    char buf[64];
    if (seconds < 10) {
        std::snprintf(buf, sizeof buf, "%.1f s", seconds);
    } else if (seconds < 60) {
        std::snprintf(buf, sizeof buf, "%.0f s", seconds);
    } else if (seconds < 3600) {
        const int s = int(seconds + 0.5);
        std::snprintf(buf, sizeof buf, "%d min %02d s", s / 60, s % 60);
    } else {
        const int m = int(seconds / 60 + 0.5);
        std::snprintf(buf, sizeof buf, "%d h %02d min", m / 60, m % 60);
    }
    return buf;
}

TerminalProgress::TerminalProgress(std::string label)
    : label_(std::move(label)), enabled_(isatty(STDERR_FILENO) == 1) {
    start_ = std::chrono::steady_clock::now();
    lastDraw_ = start_ - std::chrono::seconds(1);
}

TerminalProgress::~TerminalProgress() {
    finish();
}

std::atomic<bool>& interruptFlag() {
    static std::atomic<bool> flag{false};
    return flag;
}

namespace {
extern "C" void onInterruptSignal(int) {
    interruptFlag().store(true);
}
}  // namespace

void installInterruptHandlers() {
    std::signal(SIGINT, onInterruptSignal);
    std::signal(SIGTERM, onInterruptSignal);
}

ProgressFn TerminalProgress::callback() {
    return [this](int64_t done, int64_t total) {
        draw(done, total);
        return !interruptFlag().load();
    };
}

void TerminalProgress::draw(int64_t done, int64_t total) {
    if (!enabled_ || total <= 0) {
        return;
    }
    const auto now = std::chrono::steady_clock::now();
    if (done < total && now - lastDraw_ < std::chrono::milliseconds(100)) {
        return;
    }
    lastDraw_ = now;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double frac = double(done) / double(total);
    const int width = 30;
    const int filled = int(frac * width + 0.5);
    std::string bar(size_t(filled), '#');
    bar.resize(width, '.');
    std::string eta = "ETA --";
    if (done > 0 && done < total) {
        eta = "ETA " + formatDuration(elapsed * double(total - done) / double(done));
    } else if (done >= total) {
        eta = "done in " + formatDuration(elapsed);
    }
    std::fprintf(stderr, "\r%s [%s] %3.0f%% (%lld/%lld) %s   ", label_.c_str(), bar.c_str(),
                 frac * 100, (long long)done, (long long)total, eta.c_str());
    std::fflush(stderr);
    drawn_ = true;
}

void TerminalProgress::finish() {
    if (drawn_) {
        std::fprintf(stderr, "\r\033[K");
        std::fflush(stderr);
        drawn_ = false;
    }
}

}  // namespace scalelab::cli
