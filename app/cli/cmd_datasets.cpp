// `datasets` and `dataset-info`.

#include <cstdio>
#include <iostream>

#include "app/cli/args.h"
#include "app/cli/commands.h"
#include "app/cli/terminal_progress.h"
#include "core/data/dataset_api.h"
#include "core/data/dataset_spec.h"

namespace scalelab::cli {

int runDatasets(const std::vector<std::string>& argv) {
    Args args(argv, {}, {});
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

int runDatasetInfo(const std::vector<std::string>& argv) {
    Args args(argv, {"dataset", "image-size"}, {"json"});
    DatasetSpec spec = parseDatasetSpec(args.get("dataset", "fashion-mnist"));
    spec.folderImageSize = args.getInt("image-size", 0, 0, 1024);
    DatasetSummary s;
    {
        TerminalProgress bar("loading " + toString(spec));
        s = describeDataset(spec, bar.callback());
    }
    if (args.flag("json")) {
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

}  // namespace scalelab::cli
