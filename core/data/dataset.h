#pragma once
// A dataset held in memory as uint8 tensors, and the loaders for every supported format.

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "core/data/dataset_spec.h"
#include "core/progress.h"

namespace scalelab {

struct Dataset {
    std::string name;                     // display name ("Fashion-MNIST")
    std::string spec;                     // spec string that loads it again
    std::string path;                     // folder it was read from
    std::vector<std::string> classNames;  // index = label
    torch::Tensor trainImages;            // uint8 [N,C,H,W], contiguous, pixel values 0..255
    torch::Tensor trainLabels;            // int64 [N], 0..classes-1
    torch::Tensor testImages;             // uint8 [M,C,H,W]
    torch::Tensor testLabels;             // int64 [M]
    std::string note;                     // how it was read (e.g. "resized to 64x64 at load")

    int64_t numClasses() const { return static_cast<int64_t>(classNames.size()); }
    int64_t channels() const { return trainImages.size(1); }
    int64_t height() const { return trainImages.size(2); }
    int64_t width() const { return trainImages.size(3); }
};

// Per-channel mean and standard deviation of pixel values on the [0,1] scale, computed exactly
// (integer sums) over all images of a uint8 [N,C,H,W] tensor.
struct ChannelStats {
    std::vector<double> mean;  // per channel, [0,1] scale
    std::vector<double> std;   // per channel, population standard deviation, [0,1] scale
};
ChannelStats computeChannelStats(const torch::Tensor& imagesU8);

// Loads a dataset. Progress counts files (IDX, CIFAR) or images (folders). Throws DataError
// naming the file and the problem, SpecError for a bad spec, Cancelled when progress says stop.
Dataset loadDataset(const DatasetSpec& spec, const ProgressFn& progress = {});

// Loads through a process-wide cache keyed by the spec string, so the GUI's preview and a
// training run share one copy. Thread-safe.
std::shared_ptr<const Dataset> loadDatasetCached(const DatasetSpec& spec,
                                                 const ProgressFn& progress = {});
// Empties that cache; datasets still in use live on with their holders. A command that trains
// one run calls it after taking its dataset, so that what the run lets go of is freed.
void forgetCachedDatasets();

// Format loaders, for tests and for loadDataset.
Dataset loadIdxDataset(const std::string& folder, DatasetKind kind, const ProgressFn& progress);
Dataset loadCifar10(const std::string& folder, const ProgressFn& progress);
Dataset loadImageFolder(const std::string& folder, const DatasetSpec& spec,
                        const ProgressFn& progress);

// Checks labels (int64 [N]) lie in [0, numClasses); throws DataError naming `what` otherwise.
void checkLabels(const torch::Tensor& labels, int64_t numClasses, const std::string& what);

}  // namespace scalelab
