// MNIST-style IDX datasets: good files (raw and gzipped) and every bad-input case of issue 2.

#include <gtest/gtest.h>

#include "core/data/dataset.h"
#include "core/data/file_io.h"
#include "core/data/idx.h"
#include "core/error.h"
#include "tests/core/test_util.h"

using namespace scalelab;
using scalelab::test::expectDataError;
using scalelab::test::TempDir;

TEST(Gzip, RoundTripsAndPassesRawFilesThrough) {
    TempDir dir;
    std::vector<uint8_t> raw(100000);
    for (size_t i = 0; i < raw.size(); ++i) {
        raw[i] = uint8_t(i * 31 % 251);
    }
    test::writeBytes(dir.file("a.gz"), test::gzipBytes(raw));
    test::writeBytes(dir.file("a.raw"), raw);
    EXPECT_EQ(readFileMaybeGzip(dir.file("a.gz")), raw);
    EXPECT_EQ(readFileMaybeGzip(dir.file("a.raw")), raw);
}

TEST(Gzip, TruncatedStreamIsReported) {
    TempDir dir;
    std::vector<uint8_t> raw(50000, 7);
    for (size_t i = 0; i < raw.size(); ++i)
        raw[i] = uint8_t(i * 13 % 256);
    auto gz = test::gzipBytes(raw);
    gz.resize(gz.size() / 2);
    const std::string path = dir.file("train-images-idx3-ubyte.gz");
    test::writeBytes(path, gz);
    expectDataError([&] { readFileMaybeGzip(path); }, {path, "truncated gzip"});
}

TEST(Gzip, CorruptStreamIsReported) {
    TempDir dir;
    std::vector<uint8_t> raw(50000);
    for (size_t i = 0; i < raw.size(); ++i)
        raw[i] = uint8_t(i * 13 % 256);
    auto gz = test::gzipBytes(raw);
    for (size_t i = 20; i < gz.size() - 8; i += 3) {
        gz[i] ^= 0x5A;  // scramble the deflate data; header and trailer stay intact
    }
    const std::string path = dir.file("corrupt.gz");
    test::writeBytes(path, gz);
    expectDataError([&] { readFileMaybeGzip(path); }, {path, "corrupt gzip"});
}

TEST(Gzip, BadChecksumIsReported) {
    TempDir dir;
    std::vector<uint8_t> raw(1000, 42);
    auto gz = test::gzipBytes(raw);
    gz[gz.size() - 6] ^= 0xFF;  // CRC32 in the trailer
    const std::string path = dir.file("crc.gz");
    test::writeBytes(path, gz);
    expectDataError([&] { readFileMaybeGzip(path); }, {path, "corrupt gzip"});
}

TEST(Idx, WrongMagicIsReported) {
    TempDir dir;
    auto bytes = test::idxBytes({2, 2, 2}, std::vector<uint8_t>(8, 1));
    bytes[0] = 0x1F;  // not two leading zero bytes
    bytes[1] = 0x00;
    const std::string path = dir.file("images.idx");
    test::writeBytes(path, bytes);
    expectDataError([&] { readIdxUint8(path, 3); }, {path, "wrong IDX magic", "0x00000803"});
}

TEST(Idx, WrongRankIsReported) {
    TempDir dir;
    const std::string path = dir.file("labels.idx");
    test::writeBytes(path, test::idxBytes({4}, {1, 2, 3, 4}));
    expectDataError([&] { readIdxUint8(path, 3); }, {path, "1 dimensions, expected 3"});
}

TEST(Idx, WrongElementTypeIsReported) {
    TempDir dir;
    auto bytes = test::idxBytes({1}, {0, 0, 0, 0});
    bytes[2] = 0x0D;  // float32
    const std::string path = dir.file("floats.idx");
    test::writeBytes(path, bytes);
    expectDataError([&] { readIdxUint8(path, 1); }, {path, "float32"});
}

TEST(Idx, TruncatedDataIsReported) {
    TempDir dir;
    const std::string path = dir.file("short.idx");
    test::writeBytes(path, test::idxBytes({10, 4, 4}, std::vector<uint8_t>(100, 0)));
    expectDataError([&] { readIdxUint8(path, 3); }, {path, "truncated IDX data", "160", "100"});
}

TEST(Idx, BuffersHoldExactlyTheDataAndReserveOnlyWhatTheFileCanHold) {
    TempDir dir;
    // 3000 images of 28x28 (2.35 MB): read in 4 MiB slices with room reserved up front, the
    // buffer is exactly the data (growing by doubling left a 4 MiB capacity and freed copies).
    std::vector<uint8_t> pixels(size_t(3000) * 28 * 28);
    for (size_t i = 0; i < pixels.size(); ++i) {
        pixels[i] = uint8_t(i * 7 % 253);
    }
    const std::string gz = dir.file("images.gz");
    const std::string raw = dir.file("images.idx");
    test::writeBytes(gz, test::gzipBytes(test::idxBytes({3000, 28, 28}, pixels)));
    test::writeBytes(raw, test::idxBytes({3000, 28, 28}, pixels));
    for (const std::string& path : {gz, raw}) {
        const IdxArray a = readIdxUint8(path, 3);
        EXPECT_EQ(a.data, pixels) << path;
        EXPECT_EQ(a.data.capacity(), pixels.size()) << path;
    }
    // The bound comes from the size on disk: the file itself for raw data, deflate's largest
    // expansion (1032x) for gzip.
    const uint64_t gzBytes = test::gzipBytes(test::idxBytes({3000, 28, 28}, pixels)).size();
    EXPECT_EQ(MaybeGzipReader(raw).maxOutputBytes(), pixels.size() + 16);
    EXPECT_EQ(MaybeGzipReader(gz).maxOutputBytes(), gzBytes * 1032);
    // A small file declaring 0.9 GB is still reported as truncated (nothing near 0.9 GB is
    // reserved: the gzip of 100 bytes bounds it to about 30 KB).
    const std::string liar = dir.file("liar.gz");
    test::writeBytes(
        liar, test::gzipBytes(test::idxBytes({900, 1000, 1000}, std::vector<uint8_t>(100, 1))));
    EXPECT_LT(MaybeGzipReader(liar).maxOutputBytes(), uint64_t(100) << 10);
    expectDataError([&] { readIdxUint8(liar, 3); }, {liar, "truncated IDX data", "900000000"});
}

TEST(Idx, FindsRawGzAndDottedNames) {
    TempDir dir;
    test::writeBytes(dir.file("train-images.idx3-ubyte"), {0});
    test::writeBytes(dir.file("t10k-images-idx3-ubyte.gz"), {0});
    EXPECT_EQ(findIdxFile(dir.path(), "train-images-idx3-ubyte"),
              dir.file("train-images.idx3-ubyte"));
    EXPECT_EQ(findIdxFile(dir.path(), "t10k-images-idx3-ubyte"),
              dir.file("t10k-images-idx3-ubyte.gz"));
    EXPECT_EQ(findIdxFile(dir.path(), "t10k-labels-idx1-ubyte"), "");
}

TEST(IdxDataset, LoadsGzippedAndRawSets) {
    for (bool gz : {true, false}) {
        TempDir dir;
        test::writeIdxSet(dir.path(), 30, 12, 5, gz);
        const Dataset ds = loadDataset(parseDatasetSpec("mnist:" + dir.path()));
        EXPECT_EQ(ds.trainImages.sizes(), (std::vector<int64_t>{30, 1, 5, 5}));
        EXPECT_EQ(ds.testImages.sizes(), (std::vector<int64_t>{12, 1, 5, 5}));
        EXPECT_EQ(ds.trainImages.scalar_type(), torch::kUInt8);
        EXPECT_EQ(ds.trainLabels.scalar_type(), torch::kInt64);
        EXPECT_EQ(ds.numClasses(), 10);
        EXPECT_EQ(ds.trainLabels[13].item<int64_t>(), 3);
        // Pixel (i, p) = (i*7 + p) % 256: image 3, row 1, col 2 is p = 7.
        EXPECT_EQ(ds.trainImages[3][0][1][2].item<int>(), (3 * 7 + 7) % 256);
    }
}

TEST(IdxDataset, CountMismatchIsReported) {
    TempDir dir;
    test::writeIdxSet(dir.path(), 20, 10, 4, true);
    std::vector<uint8_t> labels(19, 1);
    test::writeBytes(dir.file("train-labels-idx1-ubyte.gz"),
                     test::gzipBytes(test::idxBytes({19}, labels)));
    expectDataError([&] { loadDataset(parseDatasetSpec("mnist:" + dir.path())); },
                    {"count mismatch", "train-images-idx3-ubyte.gz", "20 images", "19 labels"});
}

TEST(IdxDataset, LabelOutOfRangeIsReported) {
    TempDir dir;
    test::writeIdxSet(dir.path(), 20, 10, 4, false);
    std::vector<uint8_t> labels(10, 1);
    labels[7] = 12;
    test::writeBytes(dir.file("t10k-labels-idx1-ubyte"), test::idxBytes({10}, labels));
    expectDataError([&] { loadDataset(parseDatasetSpec("mnist:" + dir.path())); },
                    {"t10k-labels-idx1-ubyte", "label 12 at index 7", "out of range 0..9"});
}

TEST(IdxDataset, MissingFolderAndMissingFileAreReported) {
    expectDataError([] { loadDataset(parseDatasetSpec("mnist:/no/such/folder")); },
                    {"/no/such/folder", "not found"});
    TempDir dir;
    test::writeIdxSet(dir.path(), 20, 10, 4, false);
    std::filesystem::remove(dir.file("t10k-images-idx3-ubyte"));
    expectDataError([&] { loadDataset(parseDatasetSpec("mnist:" + dir.path())); },
                    {"t10k-images-idx3-ubyte", "not found"});
}

TEST(IdxDataset, EmptyFolderIsReported) {
    TempDir dir;
    expectDataError([&] { loadDataset(parseDatasetSpec("fashion-mnist:" + dir.path())); },
                    {dir.path(), "train-images-idx3-ubyte", "not found"});
}

TEST(IdxDataset, CancelStopsTheLoad) {
    TempDir dir;
    test::writeIdxSet(dir.path(), 20, 10, 4, false);
    EXPECT_THROW(loadDataset(parseDatasetSpec("mnist:" + dir.path()),
                             [](int64_t done, int64_t) { return done < 1; }),
                 Cancelled);
}

TEST(DatasetSpecs, ParseAndPrint) {
    EXPECT_EQ(parseDatasetSpec("fashion-mnist").kind, DatasetKind::FashionMnist);
    EXPECT_EQ(parseDatasetSpec("cifar10:/x").path, "/x");
    EXPECT_EQ(toString(parseDatasetSpec("folder:/a/b")), "folder:/a/b");
    EXPECT_THROW(parseDatasetSpec("imagenet:/x"), SpecError);
    EXPECT_THROW(parseDatasetSpec("mnist"), SpecError);
}

TEST(DatasetSpecs, ScalelabDataOverridesTheSystemFolder) {
    TempDir dir;
    test::writeIdxSet(dir.file("fashion-mnist"), 20, 10, 4, true);
    setenv("SCALELAB_DATA", dir.path().c_str(), 1);
    EXPECT_EQ(locateFashionMnist(), dir.file("fashion-mnist"));
    const Dataset ds = loadDataset(parseDatasetSpec("fashion-mnist"));
    EXPECT_EQ(ds.trainImages.size(0), 20);
    unsetenv("SCALELAB_DATA");
}
