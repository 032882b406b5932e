// CIFAR-10 binary version: each record is 1 label byte then 3072 pixel bytes (1024 red, 1024
// green, 1024 blue, row-major 32x32) -- already the [C,H,W] order a tensor wants.

#include <fstream>

#include "core/data/dataset.h"
#include "core/data/file_io.h"
#include "core/error.h"

namespace scalelab {

namespace {

constexpr int64_t kSide = 32;
constexpr int64_t kPixels = 3 * kSide * kSide;
constexpr int64_t kRecord = 1 + kPixels;

const std::vector<std::string> kCifarClasses = {"airplane", "automobile", "bird",  "cat",  "deer",
                                                "dog",      "frog",       "horse", "ship", "truck"};

// Reads batch files into images/labels tensors.
void readBatches(const std::vector<std::string>& files, torch::Tensor& images,
                 torch::Tensor& labels, int& step, int totalSteps, const ProgressFn& progress) {
    std::vector<std::vector<uint8_t>> raw;
    int64_t records = 0;
    for (const std::string& file : files) {
        reportProgress(progress, step++, totalSteps);
        // A batch holds 10,000 records; a file larger than 5 batches is refused unread.
        std::vector<uint8_t> bytes = readFileBytes(file, uint64_t(50000) * kRecord);
        if (bytes.empty() || int64_t(bytes.size()) % kRecord != 0) {
            throw DataError("CIFAR-10: " + file + ": size " + std::to_string(bytes.size()) +
                            " bytes is not a whole number of " + std::to_string(kRecord) +
                            "-byte records (truncated or not a CIFAR-10 binary batch)");
        }
        records += int64_t(bytes.size()) / kRecord;
        raw.push_back(std::move(bytes));
    }
    images = torch::empty({records, 3, kSide, kSide}, torch::kUInt8);
    labels = torch::empty({records}, torch::kInt64);
    uint8_t* img = images.data_ptr<uint8_t>();
    int64_t* lbl = labels.data_ptr<int64_t>();
    int64_t r = 0;
    for (size_t f = 0; f < raw.size(); ++f) {
        const std::vector<uint8_t>& bytes = raw[f];
        const int64_t n = int64_t(bytes.size()) / kRecord;
        for (int64_t i = 0; i < n; ++i, ++r) {
            const uint8_t* rec = bytes.data() + i * kRecord;
            if (rec[0] > 9) {
                throw DataError("CIFAR-10: " + files[f] + ": label " + std::to_string(rec[0]) +
                                " of record " + std::to_string(i) +
                                " is out of range 0..9 (corrupt file?)");
            }
            lbl[r] = rec[0];
            std::copy(rec + 1, rec + kRecord, img + r * kPixels);
        }
    }
}

}  // namespace

Dataset loadCifar10(const std::string& folderIn, const ProgressFn& progress) {
    std::string folder = folderIn;
    if (!dirExists(folder)) {
        throw DataError("CIFAR-10: folder " + folder + " not found");
    }
    if (!fileExists(joinPath(folder, "test_batch.bin")) &&
        dirExists(joinPath(folder, "cifar-10-batches-bin"))) {
        folder = joinPath(folder, "cifar-10-batches-bin");
    }
    std::vector<std::string> trainFiles;
    for (int i = 1; i <= 5; ++i) {
        trainFiles.push_back(joinPath(folder, "data_batch_" + std::to_string(i) + ".bin"));
    }
    const std::vector<std::string> testFiles = {joinPath(folder, "test_batch.bin")};
    for (const auto& list : {trainFiles, testFiles}) {
        for (const std::string& f : list) {
            if (!fileExists(f)) {
                throw DataError("CIFAR-10: " + f +
                                " not found (expected data_batch_1.bin .. "
                                "data_batch_5.bin and test_batch.bin in " +
                                folder + ")");
            }
        }
    }
    Dataset ds;
    ds.name = "CIFAR-10";
    ds.path = folder;
    ds.spec = "cifar10:" + folder;
    ds.classNames = kCifarClasses;
    int step = 0;
    const int total = int(trainFiles.size() + testFiles.size());
    readBatches(trainFiles, ds.trainImages, ds.trainLabels, step, total, progress);
    readBatches(testFiles, ds.testImages, ds.testLabels, step, total, progress);
    reportProgress(progress, total, total);
    return ds;
}

}  // namespace scalelab
