#pragma once
// Starting other programs: a scheduler's commands (sbatch, squeue, sacct) with their output
// captured, and scalelab-cli itself as a child whose stdout the parent reads line by line.

#include <sys/types.h>

#include <string>
#include <vector>

namespace scalelab::cli {

struct CommandResult {
    bool started = false;  // false: the program was not found or could not be started
    int exitCode = -1;     // the exit status; 128 + N when killed by signal N; -1 timed out
    std::string out, err;  // what it wrote
};

// Runs argv[0] (searched on PATH) with stdin from /dev/null, waiting at most `timeoutSeconds`
// (then it is killed and exitCode is -1).
CommandResult runCommand(const std::vector<std::string>& argv, double timeoutSeconds = 60);

// True when `program` is found on PATH (or is a path to an executable file).
bool onPath(const std::string& program);

// The running program's own path (/proc/self/exe), to start children of the same build.
std::string selfExecutable();

// A child whose stdout is a pipe the parent reads (non-blocking) and whose stderr goes to the
// file `stderrPath` (appended). stdin is /dev/null. Throws Error when it cannot be started.
struct Child {
    pid_t pid = -1;
    int stdoutFd = -1;  // read end; -1 once closed
};
Child spawnChild(const std::vector<std::string>& argv, const std::string& stderrPath);

// "a b 'c d'": argv as a shell would need it, for messages and scripts.
std::string shellQuote(const std::string& word);

}  // namespace scalelab::cli
