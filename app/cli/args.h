#pragma once
// A small command-line parser for scalelab-cli: `COMMAND [--key value | --flag]...`.

#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace scalelab::cli {

// A mistake in how the command was called (exit code 2, with usage).
class UsageError : public std::runtime_error {
public:
    explicit UsageError(const std::string& m) : std::runtime_error(m) {}
};

class Args {
public:
    // `valueOptions` take a value (--dataset X), `flags` take none (--json).
    Args(const std::vector<std::string>& argv, const std::set<std::string>& valueOptions,
         const std::set<std::string>& flags);

    bool has(const std::string& name) const { return values_.count(name) || flags_.count(name); }
    std::string get(const std::string& name, const std::string& fallback = {}) const;
    int getInt(const std::string& name, int fallback) const;
    double getDouble(const std::string& name, double fallback) const;
    bool flag(const std::string& name) const { return flags_.count(name) > 0; }

private:
    std::map<std::string, std::string> values_;
    std::set<std::string> flags_;
};

}  // namespace scalelab::cli
