// `sweep run DIR --local --jobs K`: the sweep's unfinished runs as child processes of
// scalelab-cli, K at a time, their --jsonl progress read from pipes.

#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <deque>
#include <filesystem>
#include <fstream>
#include <memory>

#include "app/cli/subprocess.h"
#include "app/cli/sweep_exec.h"
#include "app/cli/terminal_progress.h"
#include "core/data/file_io.h"
#include "core/error.h"
#include "core/runtime.h"
#include "core/train/run_folder.h"

namespace scalelab::cli {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

std::string pct(double fraction) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%.1f%%", fraction * 100);
    return buf;
}

std::string localTime() {
    const std::time_t now = std::time(nullptr);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S%z", std::localtime(&now));
    return buf;
}

// The last non-empty line of a file (a failed child's message).
std::string lastLine(const std::string& path) {
    std::ifstream in(path);
    std::string line, last;
    while (std::getline(in, line)) {
        if (!line.empty()) {
            last = line;
        }
    }
    return last;
}

// One child training one run.
struct Slot {
    const SweepRun* run = nullptr;
    Child child;
    std::string pending;  // a partial line from the pipe
    std::string log;      // its stderr
    Clock::time_point started;
    // The last progress it reported.
    std::string phase;  // preparing: "loading fashion-mnist 40%"
    int64_t epoch = 0, epochs = 0, batch = 0, batches = 0;
    double loss = 0, accuracy = 0, imagesPerSec = 0, eta = -1;
    bool exited = false;
    int exitStatus = 0;  // as waitpid says

    double fraction() const {
        if (epochs <= 0 || batches <= 0) {
            return 0;
        }
        return std::min(1.0, double((epoch - 1) * batches + batch) / double(epochs * batches));
    }
};

class LocalSweep {
public:
    LocalSweep(const std::string& dir, const SweepPlan& plan, int jobs)
        : dir_(dir), plan_(plan), jobs_(jobs), tty_(isatty(STDERR_FILENO) == 1) {}

    int run();

private:
    void start(const SweepRun& run);
    void readOutput(Slot& s);
    void handleLine(Slot& s, const std::string& line);
    void finishSlot(Slot& s);
    void requestStop();
    // Lines for people: event lines on stdout; the live block (one line per run and the overall
    // bar) on stderr when it is a terminal.
    void event(const std::string& line);
    void redraw(bool force = false);
    void clearBlock();
    std::string runLabel(const SweepRun& r) const {
        return "run " + std::to_string(r.index) + " (" + r.id + ")";
    }
    std::string overallLine() const;
    double etaSeconds() const;

    std::string dir_;
    const SweepPlan& plan_;
    int jobs_;
    int threads_ = 1;
    bool tty_;
    std::string self_;
    std::deque<const SweepRun*> queue_;
    std::vector<std::unique_ptr<Slot>> running_;
    int finished_ = 0;  // finished runs (before and in this session)
    int failed_ = 0;    // failed or killed in this session
    int diverged_ = 0;
    std::vector<double> runSeconds_;  // wall time of runs that ended normally here
    bool stopping_ = false;
    Clock::time_point stopAt_;
    bool killed_ = false;  // stragglers were sent SIGKILL
    Clock::time_point start_ = Clock::now();
    Clock::time_point lastDraw_ = Clock::now() - std::chrono::seconds(1);
    int drawn_ = 0;  // lines of the live block on screen
    std::vector<std::string> failures_;
};

void LocalSweep::event(const std::string& line) {
    clearBlock();
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
    redraw(true);
}

void LocalSweep::clearBlock() {
    if (tty_ && drawn_ > 0) {
        std::fprintf(stderr, "\033[%dA\r\033[J", drawn_);
        std::fflush(stderr);
        drawn_ = 0;
    }
}

double LocalSweep::etaSeconds() const {
    // A run's expected length: the mean of those that ended here, else what the running ones
    // expect of themselves.
    double typical = 0;
    if (!runSeconds_.empty()) {
        for (double s : runSeconds_) {
            typical += s;
        }
        typical /= double(runSeconds_.size());
    } else {
        int n = 0;
        for (const auto& s : running_) {
            if (s->eta >= 0) {
                typical += secondsSince(s->started) + s->eta;
                ++n;
            }
        }
        if (n == 0) {
            return -1;
        }
        typical /= n;
    }
    // The queue handed to the slots as they free up.
    std::vector<double> freeAt(size_t(jobs_), 0.0);
    for (size_t i = 0; i < running_.size() && i < freeAt.size(); ++i) {
        const Slot& s = *running_[i];
        freeAt[i] = s.eta >= 0 ? s.eta : std::max(0.0, typical - secondsSince(s.started));
    }
    for (size_t q = 0; q < queue_.size(); ++q) {
        *std::min_element(freeAt.begin(), freeAt.end()) += typical;
    }
    return *std::max_element(freeAt.begin(), freeAt.end());
}

std::string LocalSweep::overallLine() const {
    const int total = int(plan_.runs.size());
    double done = finished_;
    for (const auto& s : running_) {
        done += s->fraction();
    }
    const double frac = total > 0 ? done / total : 1;
    const int width = 24;
    std::string bar(size_t(frac * width + 0.5), '#');
    bar.resize(width, '.');
    const double eta = etaSeconds();
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "sweep [%s] %3.0f%%  %d/%d finished, %zu running, %zu queued  elapsed %s  %s",
                  bar.c_str(), frac * 100, finished_, total, running_.size(), queue_.size(),
                  formatDuration(secondsSince(start_)).c_str(),
                  stopping_  ? "stopping"
                  : eta >= 0 ? ("ETA " + formatDuration(eta)).c_str()
                             : "ETA --");
    return buf;
}

void LocalSweep::redraw(bool force) {
    if (!tty_ || (!force && Clock::now() - lastDraw_ < std::chrono::milliseconds(200))) {
        return;
    }
    lastDraw_ = Clock::now();
    winsize ws{};
    const size_t cols =
        ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 10 ? size_t(ws.ws_col) - 1 : 119;
    std::vector<std::string> lines;
    for (const auto& s : running_) {
        std::string line = "  " + runLabel(*s->run) + ": ";
        if (s->epochs > 0) {
            char buf[160];
            std::snprintf(buf, sizeof buf,
                          "epoch %lld/%lld batch %lld/%lld  loss %.4f acc %s  %.0f img/s  ETA %s",
                          (long long)s->epoch, (long long)s->epochs, (long long)s->batch,
                          (long long)s->batches, s->loss, pct(s->accuracy).c_str(), s->imagesPerSec,
                          s->eta >= 0 ? formatDuration(s->eta).c_str() : "--");
            line += buf;
        } else {
            line += s->phase.empty() ? "starting" : s->phase;
        }
        lines.push_back(line);
    }
    lines.push_back(overallLine());
    clearBlock();
    for (std::string& l : lines) {
        if (l.size() > cols) {
            l.resize(cols);
        }
        std::fprintf(stderr, "%s\n", l.c_str());
    }
    std::fflush(stderr);
    drawn_ = int(lines.size());
}

void LocalSweep::start(const SweepRun& run) {
    auto slot = std::make_unique<Slot>();
    slot->run = &run;
    slot->log =
        joinPath(joinPath(dir_, sweepfile::kLogs), "local-" + std::to_string(run.index) + ".log");
    {
        std::ofstream log(slot->log, std::ios::app);
        log << "=== " << localTime() << ": scalelab-cli sweep run --local starts run " << run.index
            << " (" << run.id << "), " << threads_ << " threads\n";
    }
    slot->child = spawnChild({self_, "train", "--sweep", dir_, "--index", std::to_string(run.index),
                              "--threads", std::to_string(threads_), "--jsonl"},
                             slot->log);
    slot->started = Clock::now();
    event(runLabel(run) + ": started (pid " + std::to_string(slot->child.pid) + ")");
    running_.push_back(std::move(slot));
}

void LocalSweep::handleLine(Slot& s, const std::string& line) {
    const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("event")) {
        event(runLabel(*s.run) + ": " + line);
        return;
    }
    const std::string kind = j.value("event", "");
    if (kind == "preparing") {
        const int64_t done = j.value("done", int64_t(0)), total = j.value("total", int64_t(0));
        s.phase = j.value("phase", std::string()) +
                  (total > 0 ? " " + std::to_string(100 * done / total) + "%" : "");
    } else if (kind == "batch" || kind == "epoch") {
        s.epoch = j.value("epoch", int64_t(0));
        s.epochs = j.value("epochs", int64_t(0));
        s.batch = j.value("batch", int64_t(0));
        s.batches = j.value("batches_per_epoch", int64_t(0));
        s.loss = j.value("train_loss", 0.0);
        s.accuracy = j.value("train_acc", 0.0);
        s.imagesPerSec = j.value("images_per_s", 0.0);
        s.eta = j.value("eta_s", -1.0);
        if (kind == "epoch") {
            const auto& v = j["val_acc"];
            char buf[200];
            std::snprintf(buf, sizeof buf, "epoch %lld/%lld  train loss %.4f acc %s  val acc %s",
                          (long long)s.epoch, (long long)s.epochs, s.loss, pct(s.accuracy).c_str(),
                          v.is_number() ? pct(v.get<double>()).c_str() : "-");
            event(runLabel(*s.run) + ": " + buf);
        }
    } else if (kind == "sweep") {
        event(runLabel(*s.run) + ": " + j.value("message", std::string()));
    }
    if (j.contains("warning") && j["warning"].is_string()) {
        event(runLabel(*s.run) + ": warning: " + j["warning"].get<std::string>());
    }
}

void LocalSweep::readOutput(Slot& s) {
    if (s.child.stdoutFd < 0) {
        return;
    }
    char buf[8192];
    while (true) {
        const ssize_t n = ::read(s.child.stdoutFd, buf, sizeof buf);
        if (n > 0) {
            s.pending.append(buf, size_t(n));
            size_t nl;
            while ((nl = s.pending.find('\n')) != std::string::npos) {
                const std::string line = s.pending.substr(0, nl);
                s.pending.erase(0, nl + 1);
                if (!line.empty()) {
                    handleLine(s, line);
                }
            }
            continue;
        }
        if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
            ::close(s.child.stdoutFd);  // the child closed it: it is ending
            s.child.stdoutFd = -1;
        }
        return;
    }
}

void LocalSweep::finishSlot(Slot& s) {
    const SweepRun& run = *s.run;
    const std::string who = runLabel(run);
    const double seconds = secondsSince(s.started);
    const SweepRunStatus st = sweepRunStatus(sweepRunDir(dir_, run), run.config.epochs);
    if (WIFSIGNALED(s.exitStatus)) {
        const int sig = WTERMSIG(s.exitStatus);
        ++failed_;
        failures_.push_back(who + ": killed by signal " + std::to_string(sig) + " (" +
                            strsignal(sig) + ")");
        event(who + ": killed by signal " + std::to_string(sig) + " after " +
              formatDuration(seconds) + "; its record keeps " + std::to_string(st.epochsDone) +
              " finished epoch(s): sweep run again continues it");
        return;
    }
    const int code = WEXITSTATUS(s.exitStatus);
    if (code == 0 || code == 3) {
        ++finished_;
        runSeconds_.push_back(seconds);
        diverged_ += code == 3;
        event(who + ": " + (st.status.empty() ? sweepRunStateName(st.state) : st.status) +
              (st.testAccuracy >= 0 ? ", test acc " + pct(st.testAccuracy) : "") + " (" +
              formatDuration(seconds) + ")");
    } else if (code == 130) {
        event(who + ": " + (st.status.empty() ? "cancelled" : st.status) +
              "; sweep run again continues it");
    } else {
        ++failed_;
        const std::string why = lastLine(s.log);
        failures_.push_back(who + ": exit " + std::to_string(code) + " (" + why + "), log " +
                            s.log);
        event(who + ": failed with exit " + std::to_string(code) + ": " + why + " (log " + s.log +
              ")");
    }
}

void LocalSweep::requestStop() {
    stopping_ = true;
    stopAt_ = Clock::now();
    queue_.clear();
    for (const auto& s : running_) {
        ::kill(s->child.pid, SIGINT);
    }
    event("stopping: the " + std::to_string(running_.size()) +
          " running run(s) record their state and end (sweep run again continues)");
}

int LocalSweep::run() {
    self_ = selfExecutable();
    // One `sweep run --local` per sweep folder at a time.
    std::unique_ptr<RunFolderLock> lock;
    try {
        lock = std::make_unique<RunFolderLock>(dir_);
    } catch (const SpecError&) {
        throw Error(dir_ + ": another sweep run works on this sweep (process " +
                    std::to_string(runFolderLockHolder(dir_)) + "); nothing was started");
    }
    std::error_code ec;
    fs::create_directories(joinPath(dir_, sweepfile::kLogs), ec);
    fs::create_directories(joinPath(dir_, sweepfile::kRuns), ec);
    if (ec) {
        throw Error(dir_ + ": cannot create runs/ and logs/ (" + ec.message() + ")");
    }
    int continued = 0, busy = 0;
    for (const SweepRun& r : plan_.runs) {
        const SweepRunStatus st = sweepRunStatus(sweepRunDir(dir_, r), r.config.epochs);
        if (sweepRunFinished(st.state)) {
            ++finished_;
        } else if (st.lockHolder != 0) {
            ++busy;
            ++failed_;
            failures_.push_back(runLabel(r) + ": being trained by process " +
                                std::to_string(st.lockHolder) + ", not started here");
        } else {
            continued += st.state != SweepRunState::NotStarted;
            queue_.push_back(&r);
        }
    }
    const int cores = std::max(1, runtimeInfo().cpuCores);
    threads_ = std::max(1, cores / jobs_);
    std::printf(
        "sweep %s: %zu runs, %d finished, %zu to run (%d to continue)%s; %d at a time, "
        "%d thread(s) each (%d cores)\n",
        dir_.c_str(), plan_.runs.size(), finished_, queue_.size(), continued,
        busy ? (", " + std::to_string(busy) + " busy elsewhere").c_str() : "", jobs_, threads_,
        cores);
    std::fflush(stdout);

    while (!queue_.empty() || !running_.empty()) {
        if (interruptFlag().load() && !stopping_) {
            requestStop();
        }
        if (stopping_ && !killed_ && secondsSince(stopAt_) > 60) {
            killed_ = true;
            for (const auto& s : running_) {
                ::kill(s->child.pid, SIGKILL);
            }
            event(
                "stopping: runs still going after 60 s were killed (their records keep the "
                "last finished epoch)");
        }
        while (!stopping_ && !queue_.empty() && int(running_.size()) < jobs_) {
            const SweepRun* r = queue_.front();
            queue_.pop_front();
            start(*r);
        }
        std::vector<pollfd> fds;
        for (const auto& s : running_) {
            if (s->child.stdoutFd >= 0) {
                fds.push_back({s->child.stdoutFd, POLLIN, 0});
            }
        }
        if (::poll(fds.data(), fds.size(), 200) < 0 && errno != EINTR) {
            throw Error(std::string("poll: ") + std::strerror(errno));
        }
        for (auto& s : running_) {
            readOutput(*s);
            int status = 0;
            if (::waitpid(s->child.pid, &status, WNOHANG) == s->child.pid) {
                s->exited = true;
                s->exitStatus = status;
                while (s->child.stdoutFd >= 0) {
                    readOutput(*s);  // what it wrote before it ended
                    if (s->child.stdoutFd >= 0) {
                        ::close(s->child.stdoutFd);
                        s->child.stdoutFd = -1;
                    }
                }
            }
        }
        for (auto it = running_.begin(); it != running_.end();) {
            if ((*it)->exited) {
                std::unique_ptr<Slot> done = std::move(*it);
                it = running_.erase(it);
                finishSlot(*done);
                if (!tty_) {
                    event(overallLine());
                }
            } else {
                ++it;
            }
        }
        redraw();
    }
    clearBlock();

    const int total = int(plan_.runs.size());
    std::printf("sweep %s: %d/%d runs finished%s in %s\n", dir_.c_str(), finished_, total,
                diverged_ ? (" (" + std::to_string(diverged_) + " diverged)").c_str() : "",
                formatDuration(secondsSince(start_)).c_str());
    for (const std::string& f : failures_) {
        std::printf("  not finished: %s\n", f.c_str());
    }
    if (stopping_) {
        std::printf("stopped; `scalelab-cli sweep run %s --local` continues\n", dir_.c_str());
        return 130;
    }
    return failed_ > 0 ? 1 : 0;
}

}  // namespace

int runSweepLocal(const std::string& dir, const SweepPlan& plan, int jobs) {
    return LocalSweep(dir, plan, jobs).run();
}

}  // namespace scalelab::cli
