#pragma once
// The core's exception types. Every message names the thing (a file, a field, a coefficient) and
// the problem, so the CLI and the GUI can show `what()` as is.

#include <stdexcept>
#include <string>

namespace scalelab {

// Base of every error the core throws on purpose.
class Error : public std::runtime_error {
public:
    explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// A dataset file or folder is missing, unreadable, corrupt or inconsistent.
class DataError : public Error {
public:
    explicit DataError(const std::string& message) : Error(message) {}
};

// A model, scaling or training specification is impossible or malformed.
class SpecError : public Error {
public:
    explicit SpecError(const std::string& message) : Error(message) {}
};

}  // namespace scalelab
