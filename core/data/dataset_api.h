#pragma once
// Torch-free view of a dataset, for the GUI and the CLI: sizes, classes, statistics and sample
// images as plain values. Loads go through loadDatasetCached, so a later training run reuses them.

#include <cstdint>
#include <string>
#include <vector>

#include "core/data/dataset_spec.h"
#include "core/progress.h"

namespace scalelab {

struct DatasetSummary {
    std::string name;                       // display name ("Fashion-MNIST")
    std::string spec;                       // spec string that loads it
    std::string path;                       // folder it was read from
    std::string note;                       // how it was read ("" when nothing special)
    int64_t trainCount = 0;                 // images in the train files (before any split)
    int64_t testCount = 0;                  // images in the test files
    int64_t channels = 0;                   // 1 = grayscale, 3 = RGB
    int64_t height = 0;                     // px, as stored in memory
    int64_t width = 0;                      // px
    std::vector<std::string> classNames;    // index = label
    std::vector<int64_t> trainClassCounts;  // train images per class
    std::vector<double> mean;               // per channel, [0,1] scale, over all train images
    std::vector<double> std;                // per channel, [0,1] scale, over all train images
    double loadSeconds = 0;                 // wall time of the load (0 when it came from cache)
};

struct SampleImage {
    int64_t label = 0;            // class index
    int width = 0;                // px
    int height = 0;               // px
    int channels = 0;             // 1 = gray, 3 = RGB
    std::vector<uint8_t> pixels;  // row-major, channels interleaved (HWC), height*width*channels
};

struct DatasetPreview {
    DatasetSummary summary;
    std::vector<SampleImage> samples;  // the first samplesPerClass train images of each class
};

// Loads (or takes from the cache) and describes a dataset. Throws DataError / SpecError with a
// message naming the file and the problem; Cancelled when progress returns false.
DatasetSummary describeDataset(const DatasetSpec& spec, const ProgressFn& progress = {});

// describeDataset plus sample images for a picker's grid.
DatasetPreview previewDataset(const DatasetSpec& spec, int samplesPerClass,
                              const ProgressFn& progress = {});

// The summary as a JSON object (pretty-printed): keys name, spec, path, note, train, test,
// num_classes, classes, train_class_counts, channels, height, width, mean, std, stats_over,
// load_seconds.
std::string summaryToJson(const DatasetSummary& summary);

}  // namespace scalelab
