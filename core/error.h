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

// A library's exception (LibTorch's c10::Error, nlohmann::json, OpenCV, std::filesystem) as one
// line for people: no backtrace, no "Exception raised from ...", no "[json.exception...]" tag,
// at most ~200 characters. (core/runtime.cpp)
std::string libraryMessage(const std::exception& e);

}  // namespace scalelab
