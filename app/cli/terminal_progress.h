#pragma once
// A one-line progress bar with ETA on stderr, drawn only when stderr is a terminal.

#include <atomic>
#include <chrono>
#include <string>

#include "core/progress.h"

namespace scalelab::cli {

class TerminalProgress {
public:
    explicit TerminalProgress(std::string label);
    ~TerminalProgress();
    // A ProgressFn that redraws the bar (at most every 100 ms) and cancels once SIGINT or
    // SIGTERM arrived (interruptFlag()).
    ProgressFn callback();
    // Clears the line.
    void finish();
    // Changes the text in front of the bar.
    void setLabel(std::string label) { label_ = std::move(label); }

private:
    void draw(int64_t done, int64_t total);
    std::string label_;
    bool enabled_;
    bool drawn_ = false;
    std::chrono::steady_clock::time_point start_, lastDraw_;
};

// Set by SIGINT/SIGTERM (installInterruptHandlers); every slow step of every command checks it.
std::atomic<bool>& interruptFlag();
void installInterruptHandlers();

// "1 min 05 s", "12 s", "0.4 s".
std::string formatDuration(double seconds);

}  // namespace scalelab::cli
