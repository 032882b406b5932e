#include "core/data/pipeline.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/error.h"
#include "core/runtime.h"

namespace scalelab {

namespace F = torch::nn::functional;

const char* partName(Part part) {
    switch (part) {
        case Part::Train:
            return "train";
        case Part::Validation:
            return "validation";
        case Part::Test:
            return "test";
    }
    return "?";
}

std::vector<int64_t> seededPermutation(int64_t n, uint64_t seed) {
    std::vector<int64_t> order(size_t(std::max<int64_t>(n, 0)));
    for (int64_t i = 0; i < n; ++i) {
        order[size_t(i)] = i;
    }
    std::mt19937_64 rng(seed);
    for (int64_t i = n; i > 1; --i) {
        // Modulo bias is below 2^-40 for any realistic n; simplicity wins.
        std::swap(order[size_t(i - 1)], order[size_t(rng() % uint64_t(i))]);
    }
    return order;
}

namespace {

torch::Tensor toIndexTensor(std::vector<int64_t> v) {
    std::sort(v.begin(), v.end());
    return torch::tensor(v, torch::kInt64);
}

}  // namespace

torch::Tensor resizeImagesU8(const torch::Tensor& imagesU8, int64_t side,
                             const ProgressFn& progress) {
    TORCH_CHECK(imagesU8.dim() == 4 && imagesU8.scalar_type() == torch::kUInt8,
                "resizeImagesU8 needs a uint8 [N,C,H,W] tensor");
    if (side < 1) {
        throw SpecError("resolution " + std::to_string(side) + " px must be at least 1");
    }
    const int64_t n = imagesU8.size(0);
    const int64_t c = imagesU8.size(1);
    if (imagesU8.size(2) == side && imagesU8.size(3) == side) {
        return imagesU8;
    }
    const bool shrinking = imagesU8.size(2) > side || imagesU8.size(3) > side;
    torch::Tensor out = torch::empty({n, c, side, side}, torch::kUInt8);
    // ~64 MB of float work per chunk, whatever the resolution.
    const int64_t perImage = c * std::max(imagesU8.size(2) * imagesU8.size(3), side * side) * 4;
    // At most 1024 images, so progress moves at least every few hundred ms.
    const int64_t chunk =
        std::clamp<int64_t>((int64_t(64) << 20) / std::max<int64_t>(perImage, 1), 1, 1024);
    for (int64_t start = 0; start < n; start += chunk) {
        const int64_t len = std::min(chunk, n - start);
        auto x = imagesU8.narrow(0, start, len).to(torch::kFloat32);
        auto y = F::interpolate(x, F::InterpolateFuncOptions()
                                       .size(std::vector<int64_t>{side, side})
                                       .mode(torch::kBilinear)
                                       .align_corners(false)
                                       .antialias(shrinking));
        out.narrow(0, start, len).copy_(y.round_().clamp_(0, 255));
        reportProgress(progress, start + len, n);
    }
    return out;
}

// ---------------------------------------------------------------------------------------------

BatchIterator::BatchIterator(torch::Tensor imagesU8, torch::Tensor labels,
                             const Normalization& norm, const BatchOptions& options)
    : images_(std::move(imagesU8)),
      labels_(std::move(labels)),
      options_(options),
      rng_(options.seed * 0x9E3779B97F4A7C15ull + 1) {
    if (options_.batchSize < 1) {
        throw SpecError("batch size " + std::to_string(options_.batchSize) + " must be at least 1");
    }
    TORCH_CHECK(images_.dim() == 4 && images_.scalar_type() == torch::kUInt8,
                "BatchIterator needs uint8 [N,C,H,W] images");
    TORCH_CHECK(labels_.size(0) == images_.size(0), "BatchIterator: images/labels differ in N");
    const int64_t c = images_.size(1);
    TORCH_CHECK(int64_t(norm.mean.size()) == c && int64_t(norm.std.size()) == c,
                "BatchIterator: normalization has the wrong channel count");
    std::vector<float> scale(static_cast<size_t>(c)), shift(static_cast<size_t>(c));
    for (int64_t k = 0; k < c; ++k) {
        scale[size_t(k)] = 1.0f / (255.0f * norm.std[size_t(k)]);
        shift[size_t(k)] = norm.mean[size_t(k)] / norm.std[size_t(k)];
    }
    scale_ = torch::tensor(scale).view({1, c, 1, 1}).to(options_.device);
    shift_ = torch::tensor(shift).view({1, c, 1, 1}).to(options_.device);
    const int64_t n = images_.size(0);
    order_ = options_.shuffle ? torch::tensor(seededPermutation(n, options_.seed), torch::kInt64)
                              : torch::arange(n, torch::kInt64);
}

int64_t BatchIterator::batchCount() const {
    const int64_t n = images_.size(0);
    const int64_t b = options_.batchSize;
    return options_.dropLast ? n / b : (n + b - 1) / b;
}

bool BatchIterator::next(Batch& out) {
    const int64_t n = images_.size(0);
    const int64_t b = std::min(options_.batchSize, n - position_);
    if (b <= 0 || (options_.dropLast && b < options_.batchSize) ||
        (options_.dropLastSingle && b == 1 && options_.batchSize > 1)) {
        return false;
    }
    const auto idx = order_.narrow(0, position_, b);
    position_ += b;
    torch::Tensor x = images_.index_select(0, idx);  // one gather for the whole batch
    torch::Tensor y = labels_.index_select(0, idx);

    const AugmentOptions& aug = options_.augment;
    if (aug.horizontalFlip) {
        std::vector<uint8_t> flip(size_t(b), 0);
        for (auto& f : flip) {
            f = uint8_t(rng_() & 1u);
        }
        const auto mask = torch::tensor(flip, torch::kUInt8).to(torch::kBool).view({b, 1, 1, 1});
        x = torch::where(mask, x.flip({3}), x);
    }
    if (aug.cropPadding > 0) {
        const int64_t p = aug.cropPadding;
        const int64_t c = x.size(1), h = x.size(2), w = x.size(3);
        const auto padded = torch::constant_pad_nd(x, {p, p, p, p}, 0);
        std::vector<int64_t> oy(static_cast<size_t>(b)), ox(static_cast<size_t>(b));
        for (int64_t i = 0; i < b; ++i) {
            oy[size_t(i)] = int64_t(rng_() % uint64_t(2 * p + 1));
            ox[size_t(i)] = int64_t(rng_() % uint64_t(2 * p + 1));
        }
        const auto rows = torch::tensor(oy).view({b, 1}) + torch::arange(h).view({1, h});
        const auto cols = torch::tensor(ox).view({b, 1}) + torch::arange(w).view({1, w});
        x = padded.gather(2, rows.view({b, 1, h, 1}).expand({b, c, h, w + 2 * p}))
                .gather(3, cols.view({b, 1, 1, w}).expand({b, c, h, w}));
    }
    x = x.to(options_.device, /*non_blocking=*/true);
    out.images = x.to(torch::kFloat32).mul_(scale_).sub_(shift_);
    out.labels = y.to(options_.device, /*non_blocking=*/true);
    out.index = batchIndex_++;
    return true;
}

// ---------------------------------------------------------------------------------------------

DataPipeline::DataPipeline(std::shared_ptr<const Dataset> dataset, const SplitOptions& options)
    : dataset_(std::move(dataset)), options_(options) {
    if (!dataset_) {
        throw SpecError("DataPipeline: no dataset");
    }
    if (!(options_.valFraction >= 0.0 && options_.valFraction <= 0.9)) {
        throw SpecError("validation fraction " + std::to_string(options_.valFraction) +
                        " is out of range [0, 0.9]");
    }
    if (options_.trainSubset < 0 || options_.testSubset < 0) {
        throw SpecError("subset sizes must be 0 (all) or positive");
    }
    const int64_t n = dataset_->trainImages.size(0);
    std::vector<int64_t> order = seededPermutation(n, options_.seed);
    const int64_t nVal = int64_t(std::llround(options_.valFraction * double(n)));
    std::vector<int64_t> val(order.begin(), order.begin() + nVal);
    std::vector<int64_t> train(order.begin() + nVal, order.end());
    if (options_.trainSubset > 0 && options_.trainSubset < int64_t(train.size())) {
        train.resize(size_t(options_.trainSubset));
        if (options_.valFromSubset) {
            // A fraction of what the user chose: 3000 training images get 300 for validation,
            // not 10 % of all 60,000 (the same first images of the held-out part either way).
            const int64_t want =
                int64_t(std::llround(options_.valFraction * double(options_.trainSubset)));
            val.resize(size_t(std::min<int64_t>(want, int64_t(val.size()))));
        }
    }
    if (train.empty()) {
        throw SpecError(dataset_->name + ": the split leaves no training images (" +
                        std::to_string(n) + " images, validation fraction " +
                        std::to_string(options_.valFraction) + ")");
    }
    trainIdx_ = toIndexTensor(std::move(train));
    valIdx_ = toIndexTensor(std::move(val));
    const int64_t nTest = dataset_->testImages.size(0);
    testIdx_ = torch::arange(options_.testSubset > 0 ? std::min(options_.testSubset, nTest) : nTest,
                             torch::kInt64);

    const ChannelStats st = computeChannelStats(dataset_->trainImages.index_select(0, trainIdx_));
    for (size_t k = 0; k < st.mean.size(); ++k) {
        norm_.mean.push_back(float(st.mean[k]));
        // A constant channel has std 0; dividing by 1 then keeps it finite.
        norm_.std.push_back(st.std[k] > 1e-6 ? float(st.std[k]) : 1.0f);
    }
}

const torch::Tensor& DataPipeline::indices(Part part) const {
    switch (part) {
        case Part::Train:
            return trainIdx_;
        case Part::Validation:
            return valIdx_;
        case Part::Test:
            return testIdx_;
    }
    return trainIdx_;
}

void DataPipeline::setNormalization(const Normalization& norm) {
    if (norm.mean.size() != norm_.mean.size() || norm.std.size() != norm_.std.size()) {
        throw SpecError("normalization has " + std::to_string(norm.mean.size()) +
                        " channels, the dataset " + std::to_string(norm_.mean.size()));
    }
    for (float v : norm.std) {
        if (!(v > 0)) {
            throw SpecError("normalization std must be positive");
        }
    }
    norm_ = norm;
}

int64_t DataPipeline::size(Part part) const {
    return indices(part).size(0);
}

torch::Tensor DataPipeline::labels(Part part) const {
    const auto& src = part == Part::Test ? dataset_->testLabels : dataset_->trainLabels;
    return src.index_select(0, indices(part));
}

torch::Tensor DataPipeline::images(Part part, int64_t resolution, const ProgressFn& progress) {
    if (resolution < 1) {
        throw SpecError("resolution " + std::to_string(resolution) + " px must be at least 1");
    }
    const auto key = std::make_pair(int(part), resolution);
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = cache_.find(key);
    if (it != cache_.end()) {
        return it->second;
    }
    if (auto d = deferred_.find(key); d != deferred_.end()) {
        // Checked when it was prepared; the run's own memory is free again by now.
        torch::Tensor out = resizeImagesU8(d->second, resolution, progress);
        cache_.emplace(key, out);
        deferred_.erase(d);
        return out;
    }
    if (sourceReleased_) {
        throw SpecError(dataset_->name + ": the " + partName(part) + " images at " +
                        std::to_string(resolution) +
                        " px were not prepared, and the original images have been released");
    }
    requireMemoryForResize(part, resolution);
    const auto& src = part == Part::Test ? dataset_->testImages : dataset_->trainImages;
    torch::Tensor out = resizeImagesU8(src.index_select(0, indices(part)), resolution, progress);
    cache_.emplace(key, out);
    return out;
}

// Refused before allocating: 10,000 test images at a huge resolution are tens of GB.
void DataPipeline::requireMemoryForResize(Part part, int64_t resolution) const {
    const auto& src = part == Part::Test ? dataset_->testImages : dataset_->trainImages;
    const int64_t n = indices(part).numel();
    const double bytes = double(n) * double(src.size(1)) * double(resolution) * double(resolution);
    const uint64_t available = availableMemoryBytes();
    if (available > 0 && bytes > double(available)) {
        char buf[320];
        std::snprintf(buf, sizeof buf,
                      "%s: resizing the %lld %s images to %lld px needs about %.1f GiB but only "
                      "%.1f GiB are available; use fewer images (--subset, --test-subset) or a "
                      "lower resolution",
                      dataset_->name.c_str(), (long long)n, partName(part), (long long)resolution,
                      bytes / double(1 << 30), double(available) / double(1 << 30));
        throw SpecError(buf);
    }
}

bool DataPipeline::prepare(Part part, int64_t resolution, bool deferrable,
                           const ProgressFn& progress) {
    if (resolution < 1) {
        throw SpecError("resolution " + std::to_string(resolution) + " px must be at least 1");
    }
    {
        std::lock_guard<std::mutex> lock(mutex_);
        const auto key = std::make_pair(int(part), resolution);
        if (cache_.count(key) || deferred_.count(key)) {
            return false;
        }
        if (deferrable && !sourceReleased_) {
            const auto& src = part == Part::Test ? dataset_->testImages : dataset_->trainImages;
            const int64_t originalPixels = src.size(2) * src.size(3);
            if (originalPixels < resolution * resolution) {
                requireMemoryForResize(part, resolution);
                deferred_.emplace(key, src.index_select(0, indices(part)));
                return false;
            }
        }
    }
    images(part, resolution, progress);
    return true;
}

size_t DataPipeline::deferredParts() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return deferred_.size();
}

void DataPipeline::releaseSourceImages() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (sourceReleased_) {
        return;
    }
    // A copy without pixels: meta tensors keep the sizes (channels(), height() ...) and refuse
    // any read of their data.
    auto light = std::make_shared<Dataset>(*dataset_);
    const auto meta = torch::TensorOptions().dtype(torch::kUInt8).device(torch::kMeta);
    light->trainImages = torch::empty(dataset_->trainImages.sizes(), meta);
    light->testImages = torch::empty(dataset_->testImages.sizes(), meta);
    dataset_ = std::move(light);
    sourceReleased_ = true;
}

bool DataPipeline::sourceImagesReleased() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return sourceReleased_;
}

size_t DataPipeline::cachedResolutions() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return cache_.size();
}

BatchIterator DataPipeline::batches(Part part, int64_t resolution, const BatchOptions& options) {
    return BatchIterator(images(part, resolution), labels(part), norm_, options);
}

}  // namespace scalelab
