#include "core/data/dataset_api.h"

#include <nlohmann/json.hpp>

#include <chrono>

#include "core/data/dataset.h"

namespace scalelab {

namespace {

DatasetSummary summarize(const Dataset& ds) {
    DatasetSummary s;
    s.name = ds.name;
    s.spec = ds.spec;
    s.path = ds.path;
    s.note = ds.note;
    s.trainCount = ds.trainImages.size(0);
    s.testCount = ds.testImages.size(0);
    s.channels = ds.channels();
    s.height = ds.height();
    s.width = ds.width();
    s.classNames = ds.classNames;
    const auto counts = torch::bincount(ds.trainLabels, {}, ds.numClasses());
    for (int64_t k = 0; k < ds.numClasses(); ++k) {
        s.trainClassCounts.push_back(counts[k].item<int64_t>());
    }
    const ChannelStats st = computeChannelStats(ds.trainImages);
    s.mean = st.mean;
    s.std = st.std;
    return s;
}

}  // namespace

DatasetSummary describeDataset(const DatasetSpec& spec, const ProgressFn& progress) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto ds = loadDatasetCached(spec, progress);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    DatasetSummary s = summarize(*ds);
    s.loadSeconds = seconds;
    return s;
}

DatasetPreview previewDataset(const DatasetSpec& spec, int samplesPerClass,
                              const ProgressFn& progress) {
    DatasetPreview p;
    p.summary = describeDataset(spec, progress);
    const auto ds = loadDatasetCached(spec);
    const int64_t n = ds->trainImages.size(0);
    const int64_t c = ds->channels(), h = ds->height(), w = ds->width();
    const int64_t* labels = ds->trainLabels.data_ptr<int64_t>();
    std::vector<int> taken(size_t(ds->numClasses()), 0);
    for (int64_t i = 0; i < n; ++i) {
        const int64_t label = labels[i];
        if (taken[size_t(label)] >= samplesPerClass) {
            continue;
        }
        ++taken[size_t(label)];
        SampleImage img;
        img.label = label;
        img.width = int(w);
        img.height = int(h);
        img.channels = int(c);
        const auto hwc = ds->trainImages[i].permute({1, 2, 0}).contiguous();
        img.pixels.assign(hwc.data_ptr<uint8_t>(), hwc.data_ptr<uint8_t>() + hwc.numel());
        p.samples.push_back(std::move(img));
    }
    // Grouped by class, in dataset order within a class.
    std::stable_sort(p.samples.begin(), p.samples.end(),
                     [](const SampleImage& a, const SampleImage& b) { return a.label < b.label; });
    return p;
}

std::string summaryToJson(const DatasetSummary& s) {
    nlohmann::ordered_json j;
    j["name"] = s.name;
    j["spec"] = s.spec;
    j["path"] = s.path;
    j["note"] = s.note;
    j["train"] = s.trainCount;
    j["test"] = s.testCount;
    j["num_classes"] = s.classNames.size();
    j["classes"] = s.classNames;
    j["train_class_counts"] = s.trainClassCounts;
    j["channels"] = s.channels;
    j["height"] = s.height;
    j["width"] = s.width;
    j["mean"] = s.mean;
    j["std"] = s.std;
    j["stats_over"] =
        "all " + std::to_string(s.trainCount) + " train images, pixels scaled to [0,1]";
    j["load_seconds"] = s.loadSeconds;
    return j.dump(2);
}

}  // namespace scalelab
