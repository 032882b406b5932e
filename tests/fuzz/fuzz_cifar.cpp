// libFuzzer target: the CIFAR-10 binary reader (the input is every batch file of a folder).
// Seed corpus: tests/fuzz/corpus/cifar/.
#include "core/data/dataset.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string dir = fuzz::scratch() + "/cifar";
    static const bool made = std::system(("mkdir -p '" + dir + "'").c_str()) == 0;
    (void)made;
    for (const char* name : {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                             "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"}) {
        fuzz::writeFile(dir + "/" + name, data, size);
    }
    fuzz::expectOnlyCoreErrors([&] { scalelab::loadCifar10(dir, {}); });
    return 0;
}
