#pragma once
// Progress reporting shared by every slow core operation.

#include <cstdint>
#include <functional>

#include "core/error.h"

namespace scalelab {

// Called with (work done, total work) in the operation's own units; returning false asks the
// operation to stop, which it does by throwing Cancelled at its next check.
using ProgressFn = std::function<bool(int64_t done, int64_t total)>;

// Thrown when a ProgressFn returned false.
class Cancelled : public Error {
public:
    Cancelled() : Error("cancelled") {}
};

// Reports progress if a callback is set; throws Cancelled when it asks to stop.
inline void reportProgress(const ProgressFn& progress, int64_t done, int64_t total) {
    if (progress && !progress(done, total)) {
        throw Cancelled();
    }
}

}  // namespace scalelab
