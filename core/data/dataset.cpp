#include "core/data/dataset.h"

#include <cmath>
#include <map>
#include <mutex>

#include "core/data/file_io.h"
#include "core/data/idx.h"
#include "core/error.h"

namespace scalelab {

namespace {

const std::vector<std::string> kFashionClasses = {"T-shirt/top", "Trouser",   "Pullover", "Dress",
                                                  "Coat",        "Sandal",    "Shirt",    "Sneaker",
                                                  "Bag",         "Ankle boot"};
const std::vector<std::string> kDigitClasses = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};

// Moves IDX bytes into a tensor without another copy of the pixel data.
torch::Tensor idxToTensor(IdxArray&& idx) {
    auto holder = std::make_shared<std::vector<uint8_t>>(std::move(idx.data));
    std::vector<int64_t> sizes = idx.dims;
    uint8_t* ptr = holder->data();
    return torch::from_blob(
        ptr, sizes, [holder](void*) mutable { holder.reset(); }, torch::kUInt8);
}

}  // namespace

void checkLabels(const torch::Tensor& labels, int64_t numClasses, const std::string& what) {
    if (labels.numel() == 0) {
        return;
    }
    const auto bad = torch::logical_or(labels < 0, labels >= numClasses).nonzero();
    if (bad.size(0) > 0) {
        const int64_t at = bad[0][0].item<int64_t>();
        throw DataError(what + ": label " + std::to_string(labels[at].item<int64_t>()) +
                        " at index " + std::to_string(at) + " is out of range 0.." +
                        std::to_string(numClasses - 1) + " (" + std::to_string(bad.size(0)) +
                        " such labels)");
    }
}

ChannelStats computeChannelStats(const torch::Tensor& imagesU8) {
    TORCH_CHECK(imagesU8.dim() == 4 && imagesU8.scalar_type() == torch::kUInt8,
                "computeChannelStats needs a uint8 [N,C,H,W] tensor");
    const int64_t c = imagesU8.size(1);
    std::vector<int64_t> sum(c, 0), sumSq(c, 0);
    const int64_t chunk = 4096;
    for (int64_t start = 0; start < imagesU8.size(0); start += chunk) {
        const auto x =
            imagesU8.narrow(0, start, std::min(chunk, imagesU8.size(0) - start)).to(torch::kInt64);
        const auto s = x.sum({0, 2, 3});
        const auto s2 = (x * x).sum({0, 2, 3});
        for (int64_t k = 0; k < c; ++k) {
            sum[k] += s[k].item<int64_t>();
            sumSq[k] += s2[k].item<int64_t>();
        }
    }
    ChannelStats st;
    const double n = double(imagesU8.numel() / std::max<int64_t>(c, 1));
    for (int64_t k = 0; k < c; ++k) {
        const double mean = n > 0 ? double(sum[k]) / n : 0.0;
        const double var = n > 0 ? std::max(0.0, double(sumSq[k]) / n - mean * mean) : 0.0;
        st.mean.push_back(mean / 255.0);
        st.std.push_back(std::sqrt(var) / 255.0);
    }
    return st;
}

Dataset loadIdxDataset(const std::string& folder, DatasetKind kind, const ProgressFn& progress) {
    const std::string label = kindName(kind);
    if (!dirExists(folder)) {
        throw DataError(label + ": folder " + folder + " not found");
    }
    Dataset ds;
    ds.name = label;
    ds.path = folder;
    ds.spec = toString(DatasetSpec{kind, folder});
    ds.classNames = kind == DatasetKind::FashionMnist ? kFashionClasses : kDigitClasses;

    int step = 0;
    auto readPart = [&](const char* imagesStem, const char* labelsStem, torch::Tensor& images,
                        torch::Tensor& labels) {
        const std::string imgPath = findIdxFile(folder, imagesStem);
        if (imgPath.empty()) {
            throw DataError(label + ": " + joinPath(folder, imagesStem) + "[.gz] not found");
        }
        const std::string lblPath = findIdxFile(folder, labelsStem);
        if (lblPath.empty()) {
            throw DataError(label + ": " + joinPath(folder, labelsStem) + "[.gz] not found");
        }
        reportProgress(progress, step++, 4);
        torch::Tensor img = idxToTensor(readIdxUint8(imgPath, 3));
        reportProgress(progress, step++, 4);
        torch::Tensor lbl = idxToTensor(readIdxUint8(lblPath, 1));
        if (img.size(0) != lbl.size(0)) {
            throw DataError(label + ": images/labels count mismatch: " + imgPath + " holds " +
                            std::to_string(img.size(0)) + " images but " + lblPath + " holds " +
                            std::to_string(lbl.size(0)) + " labels");
        }
        if (img.size(0) == 0) {
            throw DataError(label + ": " + imgPath + " holds no images");
        }
        labels = lbl.to(torch::kInt64);
        checkLabels(labels, 10, lblPath);
        images = img.unsqueeze(1).contiguous();  // [N,1,H,W]
    };
    readPart("train-images-idx3-ubyte", "train-labels-idx1-ubyte", ds.trainImages, ds.trainLabels);
    readPart("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", ds.testImages, ds.testLabels);
    if (ds.trainImages.sizes().slice(1) != ds.testImages.sizes().slice(1)) {
        throw DataError(label + ": train images are " + std::to_string(ds.height()) + "x" +
                        std::to_string(ds.width()) + " but test images are " +
                        std::to_string(ds.testImages.size(2)) + "x" +
                        std::to_string(ds.testImages.size(3)));
    }
    reportProgress(progress, 4, 4);
    return ds;
}

Dataset loadDataset(const DatasetSpec& spec, const ProgressFn& progress) {
    const std::string folder = resolveDatasetPath(spec);
    switch (spec.kind) {
        case DatasetKind::FashionMnist:
        case DatasetKind::Mnist:
            return loadIdxDataset(folder, spec.kind, progress);
        case DatasetKind::Cifar10:
            return loadCifar10(folder, progress);
        case DatasetKind::ImageFolder:
            return loadImageFolder(folder, spec, progress);
    }
    throw SpecError("unknown dataset kind");
}

namespace {

struct DatasetCache {
    std::mutex mutex;
    std::map<std::string, std::shared_ptr<const Dataset>> entries;
};

DatasetCache& datasetCache() {
    static DatasetCache cache;
    return cache;
}

}  // namespace

void forgetCachedDatasets() {
    DatasetCache& c = datasetCache();
    std::lock_guard<std::mutex> lock(c.mutex);
    c.entries.clear();
}

std::shared_ptr<const Dataset> loadDatasetCached(const DatasetSpec& spec,
                                                 const ProgressFn& progress) {
    std::mutex& mutex = datasetCache().mutex;
    auto& cache = datasetCache().entries;
    std::string key = toString(spec);
    if (spec.kind == DatasetKind::ImageFolder) {
        key += "#" + std::to_string(spec.folderImageSize) + "#" +
               std::to_string(spec.folderTestFraction);
    }
    {
        std::lock_guard<std::mutex> lock(mutex);
        auto it = cache.find(key);
        if (it != cache.end()) {
            return it->second;
        }
    }
    // Loaded outside the lock: two threads asking at once both load, one copy is kept.
    auto loaded = std::make_shared<const Dataset>(loadDataset(spec, progress));
    std::lock_guard<std::mutex> lock(mutex);
    return cache.emplace(key, loaded).first->second;
}

}  // namespace scalelab
