#pragma once
// Seed groups: runs whose configs differ only in the seed (and in how they were executed:
// device, threads, progress rate, evaluation batch) are repeats of one experiment. The Compare
// table, the Training chart and the Pareto chart can show a group as mean ± standard deviation
// (the sample standard deviation, n - 1 in the denominator) over its runs. Value code, no widgets.

#include <QList>
#include <QString>
#include <vector>

#include "ui/session.h"

namespace scalelab::ui {

// The experiment a run repeats: its config as JSON without seed, device, threads,
// progress_every_batches, eval_batch_size, layout and depthwise.
QString experimentKey(const RunRecord& run);

struct MeanStd {
    double mean = -1;  // -1: no run of the group has the value
    double std = 0;    // sample standard deviation (0 for a single value)
    int count = 0;     // runs that have the value
};
// Mean and sample standard deviation of the values >= 0 (negative = not measured, skipped).
MeanStd meanStd(const std::vector<double>& values);

struct RunGroup {
    QString key;     // experimentKey of its runs
    QList<int> ids;  // run ids, in session order
    QList<uint64_t> seeds;
    MeanStd testAccuracy;  // fraction
    MeanStd bestValAccuracy;
    MeanStd seconds;  // training wall time
    MeanStd imagesPerSec;
    // Per-epoch curves over the runs that reached each epoch (epoch e at index e - 1).
    std::vector<MeanStd> trainLoss, valLoss, trainAccuracy, valAccuracy;
};

// The session's runs grouped by experiment, in the order of each group's first run; a run
// without a repeat is a group of one. Only finished runs (and the running one) count in the
// statistics; queued ones are members without values.
std::vector<RunGroup> groupRuns(const QList<RunRecord>& runs);

// "84.12 ± 0.35 %" (fractions shown in %), "84.12 %" for a single value, "-" for none.
QString meanStdPercent(const MeanStd& m, int decimals = 2);

}  // namespace scalelab::ui
