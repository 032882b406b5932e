// The data pipeline: split, normalization, resolution cache, augmentation and batching.

#include <gtest/gtest.h>

#include <set>

#include "core/data/dataset_api.h"
#include "core/data/pipeline.h"
#include "core/error.h"

using namespace scalelab;

namespace {

// n train / m test images of c x h x w whose pixel values identify the image: every pixel of
// image i is i % 251 (channel k adds k).
std::shared_ptr<Dataset> syntheticDataset(int64_t n, int64_t m, int64_t c, int64_t h, int64_t w) {
    auto ds = std::make_shared<Dataset>();
    ds->name = "synthetic";
    ds->classNames = {"a", "b", "c"};
    auto make = [&](int64_t count) {
        auto ids = torch::arange(count, torch::kInt64).remainder(251).view({count, 1, 1, 1});
        auto chan = torch::arange(c, torch::kInt64).view({1, c, 1, 1});
        return (ids + chan).expand({count, c, h, w}).to(torch::kUInt8).contiguous();
    };
    ds->trainImages = make(n);
    ds->trainLabels = torch::arange(n, torch::kInt64).remainder(3);
    ds->testImages = make(m);
    ds->testLabels = torch::arange(m, torch::kInt64).remainder(3);
    return ds;
}

}  // namespace

TEST(Pipeline, SplitIsSeededDisjointAndComplete) {
    auto ds = syntheticDataset(200, 20, 1, 4, 4);
    DataPipeline a(ds, {0.25, 0, 0, 7});
    DataPipeline b(ds, {0.25, 0, 0, 7});
    DataPipeline c(ds, {0.25, 0, 0, 8});
    EXPECT_EQ(a.size(Part::Train), 150);
    EXPECT_EQ(a.size(Part::Validation), 50);
    EXPECT_TRUE(torch::equal(a.indices(Part::Validation), b.indices(Part::Validation)));
    EXPECT_FALSE(torch::equal(a.indices(Part::Validation), c.indices(Part::Validation)));
    std::set<int64_t> all;
    for (Part p : {Part::Train, Part::Validation}) {
        const auto idx = a.indices(p);
        for (int64_t i = 0; i < idx.size(0); ++i) {
            EXPECT_TRUE(all.insert(idx[i].item<int64_t>()).second) << "index in two parts";
        }
    }
    EXPECT_EQ(all.size(), 200u);
}

TEST(Pipeline, SubsetsAndBadOptions) {
    auto ds = syntheticDataset(100, 30, 1, 4, 4);
    DataPipeline p(ds, {0.1, 25, 10, 1});
    EXPECT_EQ(p.size(Part::Train), 25);
    EXPECT_EQ(p.size(Part::Validation), 3);  // 10 % of the 25 chosen (issue 11), not of 100
    EXPECT_EQ(p.size(Part::Test), 10);
    EXPECT_THROW(DataPipeline(ds, {0.95, 0, 0, 1}), SpecError);
    EXPECT_THROW(DataPipeline(ds, {-0.1, 0, 0, 1}), SpecError);
    EXPECT_THROW(DataPipeline(ds, {0.1, -5, 0, 1}), SpecError);
}

TEST(Pipeline, NormalizationComesFromTheTrainSplitExactly) {
    auto ds = syntheticDataset(50, 10, 2, 3, 3);
    DataPipeline p(ds, {0.2, 0, 0, 3});
    const auto idx = p.indices(Part::Train);
    for (int64_t k = 0; k < 2; ++k) {
        double sum = 0, sq = 0;
        for (int64_t i = 0; i < idx.size(0); ++i) {
            const double v = double(idx[i].item<int64_t>() % 251 + k) / 255.0;
            sum += v;
            sq += v * v;
        }
        const double mean = sum / double(idx.size(0));
        const double std = std::sqrt(sq / double(idx.size(0)) - mean * mean);
        EXPECT_NEAR(p.normalization().mean[size_t(k)], mean, 1e-6);
        EXPECT_NEAR(p.normalization().std[size_t(k)], std, 1e-6);
    }
}

TEST(Pipeline, ResizesOncePerResolution) {
    auto ds = syntheticDataset(40, 8, 1, 28, 28);
    DataPipeline p(ds, {0.0, 0, 0, 1});
    const auto a = p.images(Part::Train, 32);
    const auto b = p.images(Part::Train, 32);
    EXPECT_EQ(a.sizes(), (std::vector<int64_t>{40, 1, 32, 32}));
    EXPECT_EQ(a.data_ptr(), b.data_ptr()) << "second request must come from the cache";
    EXPECT_EQ(p.cachedResolutions(), 1u);
    p.images(Part::Train, 16);
    EXPECT_EQ(p.cachedResolutions(), 2u);
    // Constant images stay constant through bilinear resizing (up and down).
    EXPECT_EQ(a[5].max().item<int>(), 5);
    EXPECT_EQ(a[5].min().item<int>(), 5);
    EXPECT_EQ(p.images(Part::Train, 16)[7].min().item<int>(), 7);
    EXPECT_THROW(p.images(Part::Train, 0), SpecError);
}

TEST(Pipeline, ReleasingTheSourceImagesKeepsWhatWasPrepared) {
    std::weak_ptr<const Dataset> original;
    DataPipeline p = [&] {
        auto ds = syntheticDataset(40, 8, 2, 28, 28);
        original = ds;
        return DataPipeline(ds, {0.25, 0, 0, 1});  // the pipeline holds the only reference
    }();
    const auto train = p.images(Part::Train, 32);
    const auto val = p.images(Part::Validation, 32);
    const auto test = p.images(Part::Test, 32);
    const auto trainLabels = p.labels(Part::Train);
    ASSERT_FALSE(original.expired());
    p.releaseSourceImages();
    EXPECT_TRUE(p.sourceImagesReleased());
    EXPECT_TRUE(original.expired()) << "the original images are still held";
    // The prepared images, the labels and the description are all still there.
    EXPECT_EQ(p.images(Part::Train, 32).data_ptr(), train.data_ptr());
    EXPECT_EQ(p.images(Part::Validation, 32).data_ptr(), val.data_ptr());
    EXPECT_EQ(p.images(Part::Test, 32).data_ptr(), test.data_ptr());
    EXPECT_TRUE(torch::equal(p.labels(Part::Train), trainLabels));
    EXPECT_EQ(p.size(Part::Test), 8);
    EXPECT_EQ(p.dataset().channels(), 2);
    EXPECT_EQ(p.dataset().height(), 28);
    EXPECT_EQ(p.dataset().trainImages.size(0), 40);
    EXPECT_EQ(p.dataset().classNames, (std::vector<std::string>{"a", "b", "c"}));
    Batch b;
    BatchOptions o;
    o.batchSize = 8;
    auto it = p.batches(Part::Test, 32, o);
    ASSERT_TRUE(it.next(b));
    EXPECT_EQ(b.images.sizes(), (std::vector<int64_t>{8, 2, 32, 32}));
    // Another resolution would need the originals: refused with a reason, not a crash.
    try {
        p.images(Part::Train, 16);
        FAIL() << "expected a SpecError";
    } catch (const SpecError& e) {
        const std::string msg = e.what();
        for (const char* f : {"synthetic", "train images", "16 px", "released"}) {
            EXPECT_NE(msg.find(f), std::string::npos) << msg;
        }
    }
    p.releaseSourceImages();  // twice is harmless
}

TEST(Pipeline, APartWhoseOriginalsAreSmallerWaitsForItsFirstUse) {
    std::weak_ptr<const Dataset> original;
    DataPipeline p = [&] {
        auto ds = syntheticDataset(40, 8, 2, 28, 28);
        original = ds;
        return DataPipeline(ds, {0.25, 0, 0, 1});
    }();
    DataPipeline reference(syntheticDataset(40, 8, 2, 28, 28), {0.25, 0, 0, 1});
    int calls = 0;
    const ProgressFn count = [&](int64_t, int64_t) { return ++calls > 0; };
    // Upscaled: 28x28 originals are smaller than 32x32 copies, so the test part waits.
    EXPECT_TRUE(p.prepare(Part::Train, 32, /*deferrable=*/false, count));
    EXPECT_FALSE(p.prepare(Part::Test, 32, /*deferrable=*/true, count));
    EXPECT_EQ(p.deferredParts(), 1u);
    EXPECT_EQ(p.cachedResolutions(), 1u);
    const int callsAfterTrain = calls;
    EXPECT_GT(callsAfterTrain, 0);
    p.releaseSourceImages();
    EXPECT_TRUE(original.expired()) << "the deferred part holds only its own images";
    // Resized on first use, after the release, exactly as an up-front resize would have been.
    EXPECT_TRUE(torch::equal(p.images(Part::Test, 32), reference.images(Part::Test, 32)));
    EXPECT_EQ(p.deferredParts(), 0u);
    EXPECT_EQ(calls, callsAfterTrain) << "prepare reported progress for a resize it did not run";
    // Downscaled: the resized copy is the smaller one, so it is made now.
    DataPipeline q(syntheticDataset(40, 8, 2, 28, 28), {0.25, 0, 0, 1});
    EXPECT_TRUE(q.prepare(Part::Test, 16, /*deferrable=*/true));
    EXPECT_EQ(q.deferredParts(), 0u);
    EXPECT_FALSE(q.prepare(Part::Test, 16, /*deferrable=*/true));  // already there
    // A resize that could never fit is refused when prepared, deferrable or not.
    for (bool deferrable : {false, true}) {
        try {
            q.prepare(Part::Test, 4'000'000, deferrable);
            FAIL() << "expected a SpecError";
        } catch (const SpecError& e) {
            EXPECT_NE(std::string(e.what()).find("needs about"), std::string::npos) << e.what();
        }
    }
    EXPECT_EQ(q.deferredParts(), 0u);
}

TEST(Pipeline, ASharedDatasetKeepsItsImagesWhenAPipelineReleasesThem) {
    auto ds = syntheticDataset(20, 4, 1, 8, 8);
    DataPipeline p(ds, {0.0, 0, 0, 1});
    p.images(Part::Train, 8);
    p.releaseSourceImages();
    EXPECT_EQ(ds->trainImages.numel(), 20 * 64);
    EXPECT_EQ(ds->trainImages[3].max().item<int>(), 3);  // the GUI's copy is untouched
}

TEST(Pipeline, BatchesCoverTheEpochOnceNormalizedAndShaped) {
    auto ds = syntheticDataset(103, 8, 1, 6, 6);
    DataPipeline p(ds, {0.0, 0, 0, 1});
    BatchOptions o;
    o.batchSize = 16;
    o.seed = 5;
    BatchIterator it = p.batches(Part::Train, 6, o);
    EXPECT_EQ(it.batchCount(), 7);
    Batch b;
    std::multiset<int64_t> seen;
    double sum = 0;
    int64_t count = 0;
    int batches = 0;
    const float mean = p.normalization().mean[0], std = p.normalization().std[0];
    while (it.next(b)) {
        ++batches;
        EXPECT_EQ(b.images.dim(), 4);
        EXPECT_EQ(b.images.size(1), 1);
        EXPECT_EQ(b.images.scalar_type(), torch::kFloat32);
        EXPECT_EQ(b.labels.size(0), b.images.size(0));
        for (int64_t i = 0; i < b.images.size(0); ++i) {
            // Undo the normalization to recover the image id.
            const float v = b.images[i][0][0][0].item<float>();
            const int64_t id = std::lround((v * std + mean) * 255.0f);
            seen.insert(id);
            EXPECT_EQ(b.labels[i].item<int64_t>(), id % 3);
        }
        sum += b.images.sum().item<double>();
        count += b.images.numel();
    }
    EXPECT_EQ(batches, 7);
    EXPECT_EQ(seen.size(), 103u);
    EXPECT_EQ(std::set<int64_t>(seen.begin(), seen.end()).size(), 103u) << "each image once";
    EXPECT_NEAR(sum / double(count), 0.0, 1e-4) << "normalized data has zero mean";
}

TEST(Pipeline, ShuffleIsSeededAndDropLastWorks) {
    auto ds = syntheticDataset(50, 8, 1, 4, 4);
    DataPipeline p(ds, {0.0, 0, 0, 1});
    auto firstIds = [&](uint64_t seed) {
        BatchOptions o;
        o.batchSize = 8;
        o.seed = seed;
        o.dropLast = true;
        auto it = p.batches(Part::Train, 4, o);
        Batch b;
        int n = 0;
        torch::Tensor first;
        while (it.next(b)) {
            if (n++ == 0)
                first = b.labels.clone();
            EXPECT_EQ(b.images.size(0), 8);
        }
        EXPECT_EQ(n, 6);
        return first;
    };
    EXPECT_TRUE(torch::equal(firstIds(3), firstIds(3)));
}

TEST(Pipeline, FlipAndCropKeepShapeAndContent) {
    // Image with a left-right gradient: flipping mirrors columns, cropping shifts content.
    auto ds = std::make_shared<Dataset>();
    ds->classNames = {"x"};
    ds->trainImages = torch::arange(8, torch::kInt64)
                          .mul(10)
                          .view({1, 1, 1, 8})
                          .expand({64, 1, 8, 8})
                          .to(torch::kUInt8)
                          .contiguous();
    ds->trainLabels = torch::zeros({64}, torch::kInt64);
    ds->testImages = ds->trainImages.narrow(0, 0, 2).clone();
    ds->testLabels = torch::zeros({2}, torch::kInt64);
    DataPipeline p(ds, {0.0, 0, 0, 1});
    BatchOptions o;
    o.batchSize = 64;
    o.augment.horizontalFlip = true;
    auto it = p.batches(Part::Train, 8, o);
    Batch b;
    ASSERT_TRUE(it.next(b));
    const auto firstCol = b.images.select(3, 0).select(2, 0).squeeze(1);  // [N]
    const auto lastCol = b.images.select(3, 7).select(2, 0).squeeze(1);
    const int64_t flipped = (firstCol > lastCol).sum().item<int64_t>();
    EXPECT_GT(flipped, 10);
    EXPECT_LT(flipped, 54);

    BatchOptions c;
    c.batchSize = 64;
    c.augment.cropPadding = 2;
    auto it2 = p.batches(Part::Train, 8, c);
    ASSERT_TRUE(it2.next(b));
    EXPECT_EQ(b.images.sizes(), (std::vector<int64_t>{64, 1, 8, 8}));
    // Some crops shifted the gradient (column 3 no longer holds value 30).
    const float norm30 = (30.0f / 255.0f - p.normalization().mean[0]) / p.normalization().std[0];
    const auto col3 = b.images.select(3, 3).select(2, 4).squeeze(1);
    EXPECT_GT((col3 - norm30).abs().gt(1e-3).sum().item<int64_t>(), 0);
}

TEST(RealFashionMnist, HasTheKnownShapeAndStatistics) {
    if (locateFashionMnist().empty()) {
        GTEST_SKIP() << "Fashion-MNIST not installed (apt install dataset-fashion-mnist)";
    }
    const DatasetSummary s = describeDataset(parseDatasetSpec("fashion-mnist"));
    EXPECT_EQ(s.trainCount, 60000);
    EXPECT_EQ(s.testCount, 10000);
    EXPECT_EQ(s.channels, 1);
    EXPECT_EQ(s.height, 28);
    EXPECT_EQ(s.width, 28);
    EXPECT_EQ(s.classNames.size(), 10u);
    EXPECT_EQ(s.classNames[9], "Ankle boot");
    // Published Fashion-MNIST train statistics: mean 0.2860, std 0.3530.
    EXPECT_NEAR(s.mean[0], 0.2860, 1e-4);
    EXPECT_NEAR(s.std[0], 0.3530, 1e-4);
    const DatasetPreview pv = previewDataset(parseDatasetSpec("fashion-mnist"), 2);
    EXPECT_EQ(pv.samples.size(), 20u);
    EXPECT_EQ(pv.samples[19].label, 9);
    EXPECT_EQ(pv.samples[0].pixels.size(), 28u * 28u);
}
