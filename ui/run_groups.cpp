#include "ui/run_groups.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <cmath>

namespace scalelab::ui {

QString experimentKey(const RunRecord& run) {
    QJsonObject o =
        QJsonDocument::fromJson(QByteArray::fromStdString(trainConfigToJson(run.config))).object();
    // How a run executes, not what it learns: seeds of one experiment may run on other devices,
    // thread counts or kernels (the layout and depthwise choices change only rounding).
    for (const char* executionOnly : {"seed", "device", "threads", "progress_every_batches",
                                      "eval_batch_size", "layout", "depthwise"}) {
        o.remove(executionOnly);
    }
    return QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact));
}

MeanStd meanStd(const std::vector<double>& values) {
    MeanStd m;
    double sum = 0;
    for (double v : values) {
        if (v >= 0 && std::isfinite(v)) {
            sum += v;
            ++m.count;
        }
    }
    if (m.count == 0) {
        return m;
    }
    m.mean = sum / m.count;
    if (m.count > 1) {
        double squares = 0;
        for (double v : values) {
            if (v >= 0 && std::isfinite(v)) {
                squares += (v - m.mean) * (v - m.mean);
            }
        }
        m.std = std::sqrt(squares / (m.count - 1));
    }
    return m;
}

namespace {

void fillStatistics(RunGroup& g, const QList<RunRecord>& runs) {
    std::vector<const RunRecord*> members;
    for (const RunRecord& r : runs) {
        if (g.ids.contains(r.id) && r.status != "queued") {
            members.push_back(&r);
        }
    }
    std::vector<double> test, best, seconds, ips;
    size_t epochs = 0;
    for (const RunRecord* r : members) {
        test.push_back(r->testAccuracy());
        best.push_back(r->bestValAccuracy());
        seconds.push_back(r->hasSummary || !r->history.empty() ? r->wallSeconds() : -1.0);
        ips.push_back(r->imagesPerSec > 0 ? r->imagesPerSec : -1);
        epochs = std::max(epochs, r->history.size());
    }
    g.testAccuracy = meanStd(test);
    g.bestValAccuracy = meanStd(best);
    g.seconds = meanStd(seconds);
    g.imagesPerSec = meanStd(ips);
    for (size_t e = 0; e < epochs; ++e) {
        std::vector<double> tl, vl, ta, va;
        for (const RunRecord* r : members) {
            if (e < r->history.size()) {
                const EpochMetrics& m = r->history[e];
                tl.push_back(m.trainLoss);
                vl.push_back(m.valLoss);
                ta.push_back(m.trainAccuracy);
                va.push_back(m.valAccuracy);
            }
        }
        g.trainLoss.push_back(meanStd(tl));
        g.valLoss.push_back(meanStd(vl));
        g.trainAccuracy.push_back(meanStd(ta));
        g.valAccuracy.push_back(meanStd(va));
    }
}

}  // namespace

std::vector<RunGroup> groupRuns(const QList<RunRecord>& runs) {
    std::vector<RunGroup> groups;
    for (const RunRecord& r : runs) {
        const QString key = experimentKey(r);
        auto it = std::find_if(groups.begin(), groups.end(),
                               [&](const RunGroup& g) { return g.key == key; });
        if (it == groups.end()) {
            groups.push_back(RunGroup{key, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}});
            it = groups.end() - 1;
        }
        it->ids << r.id;
        it->seeds << r.config.seed;
    }
    for (RunGroup& g : groups) {
        fillStatistics(g, runs);
    }
    return groups;
}

QString meanStdPercent(const MeanStd& m, int decimals) {
    if (m.count == 0) {
        return QStringLiteral("-");
    }
    if (m.count == 1) {
        return QString("%1 %").arg(m.mean * 100, 0, 'f', decimals);
    }
    return QString("%1 ± %2 %")
        .arg(m.mean * 100, 0, 'f', decimals)
        .arg(m.std * 100, 0, 'f', decimals);
}

}  // namespace scalelab::ui
