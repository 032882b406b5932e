// CIFAR-10 binary batches and image folders: good data and each bad-input case.

#include <gtest/gtest.h>

#include <filesystem>

#include "core/data/dataset.h"
#include "core/error.h"
#include "tests/core/test_util.h"

#ifdef SCALELAB_CORE_HAS_OPENCV
#include <opencv2/imgcodecs.hpp>
#endif

using namespace scalelab;
using scalelab::test::expectDataError;
using scalelab::test::TempDir;

namespace {

// `records` CIFAR records; record r has label r % 10 and every red pixel = r, green = 100, blue
// 200.
std::vector<uint8_t> cifarBatch(int records) {
    std::vector<uint8_t> v;
    for (int r = 0; r < records; ++r) {
        v.push_back(uint8_t(r % 10));
        v.insert(v.end(), 1024, uint8_t(r));
        v.insert(v.end(), 1024, 100);
        v.insert(v.end(), 1024, 200);
    }
    return v;
}

void writeCifar(const std::string& folder, int perBatch) {
    for (int i = 1; i <= 5; ++i) {
        test::writeBytes(folder + "/data_batch_" + std::to_string(i) + ".bin",
                         cifarBatch(perBatch));
    }
    test::writeBytes(folder + "/test_batch.bin", cifarBatch(perBatch));
}

}  // namespace

TEST(Cifar10, LoadsBatchesInChwOrder) {
    TempDir dir;
    writeCifar(dir.file("cifar-10-batches-bin"), 4);
    const Dataset ds = loadDataset(parseDatasetSpec("cifar10:" + dir.path()));  // finds subfolder
    EXPECT_EQ(ds.trainImages.sizes(), (std::vector<int64_t>{20, 3, 32, 32}));
    EXPECT_EQ(ds.testImages.size(0), 4);
    EXPECT_EQ(ds.classNames[3], "cat");
    EXPECT_EQ(ds.trainLabels[6].item<int64_t>(), 2);  // second batch, record 2
    EXPECT_EQ(ds.trainImages[6][0][5][5].item<int>(), 2);
    EXPECT_EQ(ds.trainImages[6][1][5][5].item<int>(), 100);
    EXPECT_EQ(ds.trainImages[6][2][31][31].item<int>(), 200);
}

TEST(Cifar10, TruncatedBatchIsReported) {
    TempDir dir;
    writeCifar(dir.path(), 3);
    auto bytes = cifarBatch(3);
    bytes.resize(bytes.size() - 100);
    test::writeBytes(dir.file("data_batch_3.bin"), bytes);
    expectDataError([&] { loadDataset(parseDatasetSpec("cifar10:" + dir.path())); },
                    {"data_batch_3.bin", "not a whole number of 3073-byte records"});
}

TEST(Cifar10, LabelOutOfRangeIsReported) {
    TempDir dir;
    writeCifar(dir.path(), 3);
    auto bytes = cifarBatch(3);
    bytes[3073] = 17;  // label of record 1
    test::writeBytes(dir.file("test_batch.bin"), bytes);
    expectDataError([&] { loadDataset(parseDatasetSpec("cifar10:" + dir.path())); },
                    {"test_batch.bin", "label 17", "record 1", "out of range 0..9"});
}

TEST(Cifar10, MissingBatchIsReported) {
    TempDir dir;
    writeCifar(dir.path(), 2);
    std::filesystem::remove(dir.file("data_batch_4.bin"));
    expectDataError([&] { loadDataset(parseDatasetSpec("cifar10:" + dir.path())); },
                    {"data_batch_4.bin", "not found"});
}

#ifdef SCALELAB_CORE_HAS_OPENCV

namespace {

void writeImage(const std::string& path, int w, int h, int channels, int value) {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    cv::Mat m(h, w, channels == 3 ? CV_8UC3 : CV_8UC1, cv::Scalar(value, value / 2, 255 - value));
    ASSERT_TRUE(cv::imwrite(path, m));
}

}  // namespace

TEST(ImageFolder, LoadsClassesSplitsAndKeepsNativeSize) {
    TempDir dir;
    for (int i = 0; i < 10; ++i) {
        writeImage(dir.file("cats/c" + std::to_string(i) + ".png"), 12, 10, 1, 10 + i);
        writeImage(dir.file("dogs/d" + std::to_string(i) + ".bmp"), 12, 10, 1, 100 + i);
    }
    test::writeBytes(dir.file("dogs/readme.txt"), {'h', 'i'});  // not an image: ignored
    const Dataset ds = loadDataset(parseDatasetSpec("folder:" + dir.path()));
    EXPECT_EQ(ds.classNames, (std::vector<std::string>{"cats", "dogs"}));
    EXPECT_EQ(ds.trainImages.sizes(), (std::vector<int64_t>{16, 1, 10, 12}));  // 20 % held out
    EXPECT_EQ(ds.testImages.size(0), 4);
    EXPECT_EQ(ds.testLabels.eq(0).sum().item<int64_t>(), 2);
    EXPECT_EQ(ds.testLabels.eq(1).sum().item<int64_t>(), 2);
    // A second load splits the same way.
    const Dataset again = loadDataset(parseDatasetSpec("folder:" + dir.path()));
    EXPECT_TRUE(torch::equal(ds.testImages, again.testImages));
}

TEST(ImageFolder, MixedSizesAndColorAreUnified) {
    TempDir dir;
    writeImage(dir.file("train/a/1.png"), 40, 30, 3, 50);
    writeImage(dir.file("train/a/2.png"), 20, 20, 1, 60);
    writeImage(dir.file("train/b/1.jpg"), 300, 300, 3, 70);
    writeImage(dir.file("test/b/1.png"), 10, 10, 1, 80);
    const Dataset ds = loadDataset(parseDatasetSpec("folder:" + dir.path()));
    EXPECT_EQ(ds.trainImages.sizes(), (std::vector<int64_t>{3, 3, 64, 64}));
    EXPECT_EQ(ds.testImages.sizes(), (std::vector<int64_t>{1, 3, 64, 64}));
    EXPECT_EQ(ds.testLabels[0].item<int64_t>(), 1);
    EXPECT_NE(ds.note.find("resized to 64x64"), std::string::npos);
    // BGR on disk (50, 25, 205) arrives as RGB planes.
    EXPECT_EQ(ds.trainImages[0][0][5][5].item<int>(), 205);
    EXPECT_EQ(ds.trainImages[0][2][5][5].item<int>(), 50);
}

TEST(ImageFolder, MissingFolderIsReported) {
    expectDataError([] { loadDataset(parseDatasetSpec("folder:/no/such/images")); },
                    {"/no/such/images", "not found"});
}

TEST(ImageFolder, EmptyFolderIsReported) {
    TempDir dir;
    expectDataError([&] { loadDataset(parseDatasetSpec("folder:" + dir.path())); },
                    {dir.path(), "no class subfolders"});
}

TEST(ImageFolder, ClassWithoutImagesIsReported) {
    TempDir dir;
    writeImage(dir.file("shoes/1.png"), 8, 8, 1, 5);
    std::filesystem::create_directories(dir.file("bags"));
    test::writeBytes(dir.file("bags/notes.txt"), {'x'});
    expectDataError([&] { loadDataset(parseDatasetSpec("folder:" + dir.path())); },
                    {"class folder 'bags'", "holds no images"});
}

TEST(ImageFolder, UnreadableImageIsReported) {
    TempDir dir;
    writeImage(dir.file("shoes/1.png"), 8, 8, 1, 5);
    test::writeBytes(dir.file("shoes/2.png"), {1, 2, 3, 4, 5, 6, 7, 8});
    expectDataError([&] { loadDataset(parseDatasetSpec("folder:" + dir.path())); },
                    {dir.file("shoes/2.png"), "unreadable image"});
}

#endif  // SCALELAB_CORE_HAS_OPENCV
