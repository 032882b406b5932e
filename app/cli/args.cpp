#include "app/cli/args.h"

#include <cmath>

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

int Args::getInt(const std::string& name, int fallback) const {
    auto it = values_.find(name);
    if (it == values_.end()) {
        return fallback;
    }
    try {
        size_t used = 0;
        const long v = std::stol(it->second, &used);
        if (used != it->second.size()) {
            throw std::invalid_argument("trailing");
        }
        return int(v);
    } catch (const std::exception&) {
        throw UsageError("--" + name + " expects an integer, got '" + it->second + "'");
    }
}

double Args::getDouble(const std::string& name, double fallback) const {
    auto it = values_.find(name);
    if (it == values_.end()) {
        return fallback;
    }
    try {
        size_t used = 0;
        const double v = std::stod(it->second, &used);
        if (used != it->second.size() || !std::isfinite(v)) {
            throw std::invalid_argument("bad");
        }
        return v;
    } catch (const std::exception&) {
        throw UsageError("--" + name + " expects a finite number, got '" + it->second + "'");
    }
}

}  // namespace scalelab::cli
