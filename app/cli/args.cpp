#include "app/cli/args.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace scalelab::cli {

Args::Args(const std::vector<std::string>& argv, const std::set<std::string>& valueOptions,
           const std::set<std::string>& flags) {
    for (size_t i = 0; i < argv.size(); ++i) {
        const std::string& a = argv[i];
        if (a.rfind("--", 0) != 0) {
            throw UsageError("unexpected argument '" + a + "'");
        }
        std::string name = a.substr(2);
        std::string value;
        bool inlineValue = false;
        const size_t eq = name.find('=');
        if (eq != std::string::npos) {
            value = name.substr(eq + 1);
            name = name.substr(0, eq);
            inlineValue = true;
        }
        if (flags.count(name)) {
            if (inlineValue) {
                throw UsageError("--" + name + " takes no value");
            }
            flags_.insert(name);
        } else if (valueOptions.count(name)) {
            if (!inlineValue) {
                if (i + 1 >= argv.size()) {
                    throw UsageError("--" + name + " needs a value");
                }
                value = argv[++i];
            }
            values_[name] = value;
        } else {
            throw UsageError("unknown option --" + name);
        }
    }
}

std::string Args::get(const std::string& name, const std::string& fallback) const {
    auto it = values_.find(name);
    return it == values_.end() ? fallback : it->second;
}

int Args::getInt(const std::string& name, int fallback, int min, int max) const {
    auto it = values_.find(name);
    if (it == values_.end()) {
        return fallback;
    }
    const std::string& text = it->second;
    const std::string range = std::to_string(min) + ".." + std::to_string(max);
    errno = 0;
    char* end = nullptr;
    const long long v = std::strtoll(text.c_str(), &end, 10);
    if (text.empty() || end == text.c_str() || *end != '\0') {
        throw UsageError("--" + name + " expects a whole number in " + range + ", got '" + text +
                         "'");
    }
    if (errno == ERANGE || v < min || v > max) {
        throw UsageError("--" + name + " = " + text + " is out of range (allowed: " + range + ")");
    }
    return int(v);
}

double Args::getDouble(const std::string& name, double fallback, double min, double max) const {
    auto it = values_.find(name);
    if (it == values_.end()) {
        return fallback;
    }
    const std::string& text = it->second;
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (text.empty() || end == text.c_str() || *end != '\0' || !std::isfinite(v)) {
        throw UsageError("--" + name + " expects a finite number, got '" + text + "'");
    }
    if (v < min || v > max) {
        char buf[96];
        std::snprintf(buf, sizeof buf, "%g..%g", min, max);
        throw UsageError("--" + name + " = " + text + " is out of range (allowed: " + buf + ")");
    }
    return v;
}

}  // namespace scalelab::cli
