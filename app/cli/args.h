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
    // A whole number in [min, max]: no wrap-around, no trailing garbage; the message names the
    // option and its range.
    int getInt(const std::string& name, int fallback, int min = -2147483647 - 1,
               int max = 2147483647) const;
    // A finite number in [min, max], parsed whole ("1e-3" yes, "0.1x" no).
    double getDouble(const std::string& name, double fallback, double min = -1e300,
                     double max = 1e300) const;
    bool flag(const std::string& name) const { return flags_.count(name) > 0; }

private:
    std::map<std::string, std::string> values_;
    std::set<std::string> flags_;
};

}  // namespace scalelab::cli
