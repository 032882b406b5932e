// `datasets` and `dataset-info`.

#include <cstdio>
#include <iostream>
#include <memory>

#include "app/cli/commands.h"
#include "app/cli/option_checks.h"
#include "app/cli/terminal_progress.h"
#include "core/data/dataset_api.h"
#include "core/data/dataset_spec.h"

namespace scalelab::cli {

namespace {

struct DatasetInfoOptions {
    std::string dataset = "fashion-mnist";
    int imageSize = 0;
    bool json = false;
};

int runDatasets() {
    std::printf("%-14s %-10s %s\n", "DATASET", "STATUS", "SPEC / PATH");
    for (const DatasetEntry& e : discoverDatasets()) {
        std::printf("%-14s %-10s %s%s%s\n", e.name.c_str(), e.available ? "found" : "missing",
                    e.spec.c_str(), e.path.empty() ? "" : "  ", e.path.c_str());
        if (!e.note.empty()) {
            std::printf("%-14s %-10s (%s)\n", "", "", e.note.c_str());
        }
    }
    std::printf("\nAlso readable from a folder you name: mnist:PATH, cifar10:PATH, folder:PATH\n");
    return 0;
}

int runDatasetInfo(const DatasetInfoOptions& o) {
    DatasetSpec spec = parseDatasetSpec(o.dataset);
    spec.folderImageSize = o.imageSize;
    DatasetSummary s;
    {
        TerminalProgress bar("loading " + toString(spec));
        s = describeDataset(spec, bar.callback());
    }
    if (o.json) {
        std::cout << summaryToJson(s) << "\n";
        return 0;
    }
    std::printf("%s  (%s)\n", s.name.c_str(), s.path.c_str());
    std::printf("  spec          %s\n", s.spec.c_str());
    std::printf("  train         %lld images\n", (long long)s.trainCount);
    std::printf("  test          %lld images\n", (long long)s.testCount);
    std::printf("  image         %lld channel%s x %lld x %lld px\n", (long long)s.channels,
                s.channels == 1 ? "" : "s", (long long)s.height, (long long)s.width);
    std::printf("  classes       %zu\n", s.classNames.size());
    for (size_t k = 0; k < s.classNames.size(); ++k) {
        std::printf("    %2zu  %-20s %lld train images\n", k, s.classNames[k].c_str(),
                    (long long)s.trainClassCounts[k]);
    }
    std::printf("  mean / std    per channel, pixels scaled to [0,1], over all train images\n");
    for (size_t c = 0; c < s.mean.size(); ++c) {
        std::printf("    channel %zu   mean %.4f   std %.4f\n", c, s.mean[c], s.std[c]);
    }
    if (!s.note.empty()) {
        std::printf("  note          %s\n", s.note.c_str());
    }
    std::printf("  loaded in     %.2f s\n", s.loadSeconds);
    return 0;
}

}  // namespace

Command addDatasets(CLI::App& app) {
    CLI::App* sub = app.add_subcommand("datasets", "list the datasets found on this machine");
    return {sub, [] { return runDatasets(); }};
}

Command addDatasetInfo(CLI::App& app) {
    auto o = std::make_shared<DatasetInfoOptions>();
    CLI::App* sub = app.add_subcommand(
        "dataset-info", "sizes, classes, channels, image size, per-channel mean/std");
    sub->add_option("--dataset", o->dataset, "the dataset (SPEC below)")
        ->type_name("SPEC")
        ->capture_default_str();
    sub->add_option(
           "--image-size", o->imageSize,
           "folder:PATH: resize every image to this square side in px (0: their own size when "
           "all share one up to 256 px, else 64)")
        ->capture_default_str()
        ->transform(Decimal)
        ->check(CLI::Range(0, 1024));
    sub->add_flag("--json", o->json, "the summary as JSON");
    return {sub, [o] { return runDatasetInfo(*o); }};
}

}  // namespace scalelab::cli
