#pragma once
// Shared by the libFuzzer targets: the input as a file (the readers under test take paths), and
// the rule that only the core's own errors may leave a reader -- anything else (a library
// exception, a crash, a sanitizer report) is a finding.

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/error.h"

namespace fuzz {

// A per-process scratch folder under $TMPDIR.
inline const std::string& scratch() {
    static const std::string dir = [] {
        const char* base = std::getenv("TMPDIR");
        std::string d =
            std::string(base ? base : "/tmp") + "/scalelab-fuzz-" + std::to_string(::getpid());
        std::system(("mkdir -p '" + d + "'").c_str());
        return d;
    }();
    return dir;
}

inline void writeFile(const std::string& path, const uint8_t* data, size_t size) {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) {
        std::abort();
    }
    std::fwrite(data, 1, size, f);
    std::fclose(f);
}

// Runs `f`; the core's Error types are the expected outcome of bad input.
template <typename F>
void expectOnlyCoreErrors(F f) {
    try {
        f();
    } catch (const scalelab::Error&) {
    }
}

}  // namespace fuzz
