#pragma once
// One function per scalelab-cli command; each takes the arguments after the command name and
// returns the process exit code. Errors are thrown (UsageError, scalelab::Error).

#include <string>
#include <vector>

namespace scalelab::cli {

int runDatasets(const std::vector<std::string>& args);
int runDatasetInfo(const std::vector<std::string>& args);
int runInfo(const std::vector<std::string>& args);
int runParityCase(const std::vector<std::string>& args);
int runBenchOps(const std::vector<std::string>& args);
int runBench(const std::vector<std::string>& args);
int runTrain(const std::vector<std::string>& args);
int runEval(const std::vector<std::string>& args);
int runPrune(const std::vector<std::string>& args);
int runFeatures(const std::vector<std::string>& args);

}  // namespace scalelab::cli
