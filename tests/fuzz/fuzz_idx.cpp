// libFuzzer target: the IDX reader with its streaming gzip (images rank 3, labels rank 1) and the
// bounded whole-file reader. Seed corpus: tests/fuzz/corpus/idx/.
#include "core/data/file_io.h"
#include "core/data/idx.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string path = fuzz::scratch() + "/input-idx3-ubyte";
    fuzz::writeFile(path, data, size);
    fuzz::expectOnlyCoreErrors([&] { scalelab::readIdxUint8(path, 3); });
    fuzz::expectOnlyCoreErrors([&] { scalelab::readIdxUint8(path, 1); });
    fuzz::expectOnlyCoreErrors([&] { scalelab::readFileMaybeGzip(path, 64 << 20); });
    return 0;
}
