#pragma once
// From a loaded dataset to training batches: a seeded train/validation split, normalization from
// the train split, one resize per resolution (cached), augmentation and a shuffling iterator.

#include <torch/torch.h>

#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <vector>

#include "core/data/data_options.h"
#include "core/data/dataset.h"

namespace scalelab {

enum class Part { Train, Validation, Test };
const char* partName(Part part);

// Per-channel normalization: x' = (x / 255 - mean) / std.
struct Normalization {
    std::vector<float> mean;  // per channel, [0,1] pixel scale
    std::vector<float> std;   // per channel, [0,1] pixel scale, > 0
};

struct BatchOptions {
    int64_t batchSize = 128;             // images per batch
    bool shuffle = true;                 // a new random order each epoch
    uint64_t seed = 0;                   // seed of this epoch's order and augmentation
    bool dropLast = false;               // skip a final batch smaller than batchSize
    bool dropLastSingle = false;         // skip a final batch of exactly one image
    AugmentOptions augment;              // applied to train batches only by the caller's choice
    torch::Device device = torch::kCPU;  // where batches are delivered
};

struct Batch {
    torch::Tensor images;  // float32 [N,C,R,R], normalized, on BatchOptions::device
    torch::Tensor labels;  // int64 [N], on BatchOptions::device
    int64_t index = 0;     // batch number within the epoch, from 0
};

// Walks one epoch of (uint8 images, labels) in batches. Each batch is one gather (index_select)
// of the cached tensor plus vectorized augmentation and normalization: no per-sample copies.
class BatchIterator {
public:
    BatchIterator(torch::Tensor imagesU8, torch::Tensor labels, const Normalization& norm,
                  const BatchOptions& options);
    int64_t batchCount() const;
    int64_t sampleCount() const { return images_.size(0); }
    // Fills `out` with the next batch; false at the end of the epoch.
    bool next(Batch& out);

private:
    torch::Tensor images_, labels_, order_;
    torch::Tensor scale_, shift_;  // [1,C,1,1] float: x * scale - shift normalizes
    BatchOptions options_;
    int64_t position_ = 0, batchIndex_ = 0;
    std::mt19937_64 rng_;
};

// A dataset prepared for training: the split, the normalization and the resolution cache.
class DataPipeline {
public:
    DataPipeline(std::shared_ptr<const Dataset> dataset, const SplitOptions& options);

    const Dataset& dataset() const { return *dataset_; }
    const SplitOptions& options() const { return options_; }
    const Normalization& normalization() const { return norm_; }
    // Replaces the normalization (evaluating a trained model with the one it was trained on).
    void setNormalization(const Normalization& norm);
    int64_t size(Part part) const;
    const torch::Tensor& indices(Part part) const;  // int64 indices into train or test images
    torch::Tensor labels(Part part) const;          // int64 [N]

    // The part's images at resolution x resolution px, uint8 [N,C,R,R]. Resized (bilinear,
    // antialiased when shrinking) once per part and resolution, then served from the cache.
    // `progress` (images resized, of all) is called while a resize runs; false cancels it
    // (Cancelled), leaving the cache as it was.
    torch::Tensor images(Part part, int64_t resolution, const ProgressFn& progress = {});
    // Readies `part` at `resolution` for a run. Refuses now (SpecError, as images()) when the
    // resized copy could not fit in memory. Resizes it now -- or, with `deferrable` and when the
    // part's chosen original images take less memory than their resized copy, keeps a copy of
    // just those originals and resizes on first use (images(), after releaseSourceImages() too,
    // without a second memory check). A run's test part waits so, until its final evaluation:
    // the 10,000 Fashion-MNIST test images at 64 px are 41 MB resized, 7.8 MB as they are.
    // Returns whether the part was resized now.
    bool prepare(Part part, int64_t resolution, bool deferrable, const ProgressFn& progress = {});
    // How many parts wait for their resize (prepare with `deferrable`).
    size_t deferredParts() const;
    // How many resized copies the cache holds (for tests and memory readouts).
    size_t cachedResolutions() const;

    BatchIterator batches(Part part, int64_t resolution, const BatchOptions& options);

    // Once every part a run needs is resized, lets go of the dataset's original images: the
    // pipeline keeps its resized copies, the chosen labels and the dataset's description (sizes
    // and classes; images() beyond the copies throws SpecError). The originals are freed where
    // nothing else holds the dataset (a CLI run: Fashion-MNIST's 55 MB, CIFAR-10's 184 MB); a
    // dataset the GUI shares stays as it is.
    void releaseSourceImages();
    bool sourceImagesReleased() const;

private:
    void requireMemoryForResize(Part part, int64_t resolution) const;

    std::shared_ptr<const Dataset> dataset_;
    SplitOptions options_;
    torch::Tensor trainIdx_, valIdx_, testIdx_;
    Normalization norm_;
    mutable std::mutex mutex_;
    std::map<std::pair<int, int64_t>, torch::Tensor> cache_;
    std::map<std::pair<int, int64_t>, torch::Tensor> deferred_;  // the chosen originals
    bool sourceReleased_ = false;
};

// Resizes uint8 [N,C,H,W] images to side x side (bilinear; antialiased when shrinking), rounding
// back to uint8. Processes chunks so memory stays bounded; reports (images done, all) after each.
torch::Tensor resizeImagesU8(const torch::Tensor& imagesU8, int64_t side,
                             const ProgressFn& progress = {});

// A deterministic permutation of 0..n-1 (Fisher-Yates on mt19937_64), the same on every platform.
std::vector<int64_t> seededPermutation(int64_t n, uint64_t seed);

}  // namespace scalelab
