// Image-folder datasets: one subfolder per class holding any images OpenCV decodes, or train/ and
// test/ folders each holding such class subfolders.

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <random>

#include "core/data/dataset.h"
#include "core/data/file_io.h"
#include "core/error.h"
#include "core/runtime.h"

#ifdef SCALELAB_CORE_HAS_OPENCV
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#endif

namespace scalelab {

namespace fs = std::filesystem;

namespace {

const char* const kImageExtensions[] = {".png",  ".jpg", ".jpeg", ".bmp", ".tif", ".tiff",
                                        ".webp", ".pgm", ".ppm",  ".pbm", ".pnm", ".jp2"};
constexpr int kAutoMaxSide = 256;    // px; larger or mixed sizes are resized (auto mode)
constexpr int kAutoResizeSide = 64;  // px; the size they are resized to
constexpr int kMaxImageSize = 1024;  // px; the largest --image-size
constexpr uint64_t kMaxImageFileBytes = uint64_t(64) << 20;  // one image file, before decoding
constexpr int64_t kMaxImagePixels = int64_t(1) << 26;        // one decoded image (8192 x 8192)
constexpr uint64_t kSplitSeed = 20190528;  // fixed: the same folder always splits the same way

bool isImageFile(const fs::path& p) {
    std::string ext = p.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    return std::find(std::begin(kImageExtensions), std::end(kImageExtensions), ext) !=
           std::end(kImageExtensions);
}

std::vector<std::string> sortedSubfolders(const std::string& folder) {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(folder, ec)) {
        if (entry.is_directory() && entry.path().filename().string()[0] != '.') {
            out.push_back(entry.path().filename().string());
        }
    }
    if (ec) {
        throw DataError("Image folder: cannot list " + folder + " (" + ec.message() + ")");
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<std::string> sortedImages(const std::string& folder) {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(folder, ec)) {
        if (entry.is_regular_file() && isImageFile(entry.path())) {
            out.push_back(entry.path().string());
        }
    }
    if (ec) {
        throw DataError("Image folder: cannot list " + folder + " (" + ec.message() + ")");
    }
    std::sort(out.begin(), out.end());
    return out;
}

struct FileItem {
    std::string path;
    int64_t label = 0;
    bool test = false;
};

}  // namespace

Dataset loadImageFolder(const std::string& folder, const DatasetSpec& spec,
                        const ProgressFn& progress) {
#ifndef SCALELAB_CORE_HAS_OPENCV
    (void)folder;
    (void)spec;
    (void)progress;
    throw DataError("Image folder " + folder +
                    ": this build has no OpenCV, so it cannot read "
                    "images (install libopencv-dev and rebuild)");
#else
    if (!dirExists(folder)) {
        throw DataError("Image folder: folder " + folder + " not found");
    }
    if (spec.folderImageSize < 0 || spec.folderImageSize > kMaxImageSize) {
        throw SpecError("Image folder: image size " + std::to_string(spec.folderImageSize) +
                        " px is out of range (0 = automatic, or 1.." +
                        std::to_string(kMaxImageSize) + ")");
    }
    if (!(spec.folderTestFraction >= 0.0 && spec.folderTestFraction < 1.0)) {
        throw SpecError("Image folder: test fraction " + std::to_string(spec.folderTestFraction) +
                        " is out of range [0, 1)");
    }
    const std::vector<std::string> top = sortedSubfolders(folder);
    const bool splitLayout = std::find(top.begin(), top.end(), "train") != top.end() &&
                             std::find(top.begin(), top.end(), "test") != top.end();
    const std::string trainRoot = splitLayout ? joinPath(folder, "train") : folder;
    const std::vector<std::string> classes = sortedSubfolders(trainRoot);
    if (classes.empty()) {
        throw DataError("Image folder: " + trainRoot +
                        " holds no class subfolders (expected one subfolder of images per "
                        "class)");
    }

    // Collect the files of every class, train and test.
    std::vector<FileItem> items;
    std::mt19937_64 rng(kSplitSeed);
    for (size_t c = 0; c < classes.size(); ++c) {
        const std::string classDir = joinPath(trainRoot, classes[c]);
        std::vector<std::string> files = sortedImages(classDir);
        if (files.empty()) {
            throw DataError("Image folder: class folder '" + classes[c] + "' (" + classDir +
                            ") holds no images (.png, .jpg, .bmp, .tif, .webp, .pgm/.ppm ...)");
        }
        if (splitLayout) {
            for (auto& f : files) {
                items.push_back({f, int64_t(c), false});
            }
        } else {
            // Stratified hold-out: a fixed-seed shuffle of each class, the first share is test.
            std::vector<size_t> order(files.size());
            for (size_t i = 0; i < order.size(); ++i) {
                order[i] = i;
            }
            for (size_t i = order.size(); i > 1; --i) {
                std::swap(order[i - 1], order[rng() % i]);
            }
            const size_t nTest = size_t(std::floor(spec.folderTestFraction * files.size() + 0.5));
            for (size_t i = 0; i < order.size(); ++i) {
                items.push_back({files[order[i]], int64_t(c), i < nTest});
            }
        }
    }
    if (splitLayout) {
        const std::string testRoot = joinPath(folder, "test");
        for (const std::string& name : sortedSubfolders(testRoot)) {
            const auto it = std::find(classes.begin(), classes.end(), name);
            if (it == classes.end()) {
                throw DataError("Image folder: test class folder '" + name + "' (" +
                                joinPath(testRoot, name) + ") has no matching folder in " +
                                trainRoot);
            }
            for (auto& f : sortedImages(joinPath(testRoot, name))) {
                items.push_back({f, int64_t(it - classes.begin()), true});
            }
        }
    }
    // Keep train items first, then test, each in a stable order.
    std::stable_sort(items.begin(), items.end(),
                     [](const FileItem& a, const FileItem& b) { return !a.test && b.test; });

    // Memory for the decoded set, before anything is decoded: at most 3 x side^2 per image at the
    // size they will be kept at (automatic mode keeps small images native, so assume 256 px).
    {
        const double side = spec.folderImageSize > 0 ? spec.folderImageSize : kAutoMaxSide;
        checkMemory("Image folder " + folder + ": " + std::to_string(items.size()) + " images at " +
                        std::to_string(int(side)) + " px",
                    double(items.size()) * side * side * 3.0 * 2.0, false, "");
    }
    // Decoders refuse images above this many pixels (OpenCV reads the variable once).
    ::setenv("OPENCV_IO_MAX_IMAGE_PIXELS", std::to_string(kMaxImagePixels).c_str(), 0);

    // Decode. In automatic mode the images keep their own size until one differs or is too big.
    int targetSide = spec.folderImageSize;  // 0 = still native
    std::vector<cv::Mat> mats;
    mats.reserve(items.size());
    bool anyColor = false;
    const int64_t total = int64_t(items.size());
    auto resized = [](const cv::Mat& m, int side) {
        cv::Mat out;
        const bool shrink = m.cols > side || m.rows > side;
        cv::resize(m, out, cv::Size(side, side), 0, 0, shrink ? cv::INTER_AREA : cv::INTER_LINEAR);
        return out;
    };
    for (int64_t i = 0; i < total; ++i) {
        if (i % 64 == 0) {
            reportProgress(progress, i, total);
        }
        const std::string& path = items[size_t(i)].path;
        std::error_code sizeEc;
        const uintmax_t fileBytes = fs::file_size(path, sizeEc);
        if (!sizeEc && fileBytes > kMaxImageFileBytes) {
            throw DataError("Image folder: " + path + " is " + std::to_string(fileBytes >> 20) +
                            " MiB; images above " + std::to_string(kMaxImageFileBytes >> 20) +
                            " MiB are refused");
        }
        cv::Mat m;
        try {
            m = cv::imread(path, cv::IMREAD_ANYCOLOR);
        } catch (const cv::Exception&) {
            throw DataError("Image folder: " + path +
                            " cannot be decoded (corrupt, or larger than " +
                            std::to_string(kMaxImagePixels >> 20) + " megapixels)");
        }
        if (m.empty()) {
            throw DataError("Image folder: unreadable image " + path +
                            " (OpenCV cannot decode it: corrupt, not an image, or larger than " +
                            std::to_string(kMaxImagePixels >> 20) + " megapixels)");
        }
        if (m.channels() == 4) {
            cv::cvtColor(m, m, cv::COLOR_BGRA2BGR);
        }
        anyColor = anyColor || m.channels() == 3;
        if (targetSide == 0 && !mats.empty() && (m.size() != mats.front().size())) {
            targetSide = kAutoResizeSide;
        }
        if (targetSide == 0 && (m.cols > kAutoMaxSide || m.rows > kAutoMaxSide)) {
            targetSide = kAutoResizeSide;
        }
        if (targetSide > 0 && !mats.empty() && mats.front().cols != targetSide) {
            for (auto& prev : mats) {
                prev = resized(prev, targetSide);
            }
        }
        if (targetSide > 0 && (m.cols != targetSide || m.rows != targetSide)) {
            m = resized(m, targetSide);
        }
        mats.push_back(m);
    }
    reportProgress(progress, total, total);

    const int64_t channels = anyColor ? 3 : 1;
    const int64_t h = mats.front().rows;
    const int64_t w = mats.front().cols;
    auto fill = [&](bool test, torch::Tensor& images, torch::Tensor& labels) {
        int64_t n = 0;
        for (const auto& it : items) {
            n += it.test == test;
        }
        images = torch::empty({n, channels, h, w}, torch::kUInt8);
        labels = torch::empty({n}, torch::kInt64);
        uint8_t* dst = images.data_ptr<uint8_t>();
        int64_t* lbl = labels.data_ptr<int64_t>();
        int64_t k = 0;
        for (size_t i = 0; i < items.size(); ++i) {
            if (items[i].test != test) {
                continue;
            }
            cv::Mat m = mats[i];
            if (channels == 3) {
                cv::cvtColor(m, m, m.channels() == 1 ? cv::COLOR_GRAY2RGB : cv::COLOR_BGR2RGB);
            }
            std::vector<cv::Mat> planes(static_cast<size_t>(channels));
            for (int64_t c = 0; c < channels; ++c) {
                planes[size_t(c)] =
                    cv::Mat(int(h), int(w), CV_8UC1, dst + (k * channels + c) * h * w);
            }
            cv::split(m, planes);  // writes straight into the tensor's [C,H,W] planes
            lbl[k] = items[i].label;
            ++k;
        }
    };
    Dataset ds;
    ds.name = "Image folder " + fs::path(folder).filename().string();
    ds.path = folder;
    ds.spec = "folder:" + folder;
    ds.classNames = classes;
    fill(false, ds.trainImages, ds.trainLabels);
    fill(true, ds.testImages, ds.testLabels);
    if (ds.trainImages.size(0) == 0) {
        throw DataError("Image folder: " + folder + " leaves no training images");
    }
    if (targetSide > 0) {
        ds.note = "images resized to " + std::to_string(targetSide) + "x" +
                  std::to_string(targetSide) + " px at load";
    }
    if (!splitLayout) {
        ds.note += std::string(ds.note.empty() ? "" : "; ") +
                   "test set: " + std::to_string(int(spec.folderTestFraction * 100 + 0.5)) +
                   " % of each class, fixed seed";
    }
    return ds;
#endif
}

}  // namespace scalelab
