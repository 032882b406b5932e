#pragma once
// One function per scalelab-cli command: it adds the command's subcommand to the app, with its
// options bound to a struct the command owns, and returns what runs the command once parsed.
// Errors are thrown (UsageError, scalelab::Error); the runner returns the process exit code.

#include <CLI/CLI.hpp>

#include <functional>
#include <stdexcept>
#include <string>

namespace scalelab::cli {

// A mistake in how the command was called that the option table cannot express (exit code 2).
class UsageError : public std::runtime_error {
public:
    explicit UsageError(const std::string& m) : std::runtime_error(m) {}
};

struct Command {
    CLI::App* sub = nullptr;  // the subcommand; sub->parsed() when it was chosen
    std::function<int()> run;
};

Command addDatasets(CLI::App& app);
Command addDatasetInfo(CLI::App& app);
Command addInfo(CLI::App& app);
Command addParityCase(CLI::App& app);
Command addTrain(CLI::App& app);
Command addEval(CLI::App& app);
Command addPrune(CLI::App& app);
Command addFeatures(CLI::App& app);
Command addBench(CLI::App& app);
Command addBenchOps(CLI::App& app);
Command addSweep(CLI::App& app);
Command addExport(CLI::App& app);

}  // namespace scalelab::cli
