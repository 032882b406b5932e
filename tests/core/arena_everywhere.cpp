// Every test of the binary this is linked into runs with LibTorch's large CPU tensors on the
// memory arena, as scalelab and scalelab-cli do (useMemoryArena at their start).

#include "core/runtime.h"

namespace {
const bool kArenaInUse = scalelab::useMemoryArena();
}  // namespace
