#include "ui/charts/pareto_chart.h"

#include <qcustomplot.h>
#include <QVBoxLayout>
#include <algorithm>

#include "ui/charts/chart_style.h"
#include "ui/charts/chart_tools.h"
#include "ui/run_groups.h"
#include "ui/session.h"

namespace scalelab::ui {

ParetoChart::ParetoChart(Session* session, QWidget* parent)
    : QWidget(parent), session_(session), plot_(new QCustomPlot) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(plot_);
    stylePlot(plot_);
    setPlotTitle(plot_, tr("Accuracy vs cost — Pareto frontier"));
    useCountAxis(plot_->xAxis, true);
    plot_->xAxis->setLabel(tr("MACs per image (log scale; FLOPs = 2 × MACs)"));
    plot_->yAxis->setLabel(tr("test accuracy (%)"));
    plot_->legend->setVisible(true);
    plot_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    tools_ = new ChartTools(plot_);
    tools_->setResetZoom([this] { refreshNow(); });
    tools_->setFormatter([this](const QCPAbstractPlottable* series, double key, double value) {
        auto nameAt = [&](const QCPGraph* g, const QList<QString>& names) {
            int i = 0;
            for (auto it = g->data()->constBegin(); it != g->data()->constEnd(); ++it, ++i) {
                if (it->key == key && it->value == value && i < names.size()) {
                    return names[i];
                }
            }
            return QString();
        };
        const QString macs = tr("%1 MACs (%2)").arg(compactCount(key), exactCount(qint64(key)));
        if (series == tested_) {
            const QString name = nameAt(tested_, testedNames_);
            const int i = testedNames_.indexOf(name);
            const double sd = i >= 0 && i < testedStd_.size() ? testedStd_[i] : 0;
            // One arg() call: a run named "%2" stays as typed.
            return tr("%1\ntest accuracy %2 %%3\n%4")
                .arg(name, QString::number(value, 'f', 2),
                     sd > 0 ? tr(" ± %1 (sample std over seeds)").arg(sd, 0, 'f', 2) : QString(),
                     macs);
        }
        if (series == untested_) {
            return tr("%1\nbest validation accuracy %2 % (no test result)\n%3")
                .arg(nameAt(untested_, untestedNames_), QString::number(value, 'f', 2), macs);
        }
        if (series == frontier_) {
            return tr("Pareto frontier\n%1 % at %2").arg(value, 0, 'f', 2).arg(macs);
        }
        return QString();
    });
    throttle_.setSingleShot(true);
    throttle_.setInterval(40);
    connect(&throttle_, &QTimer::timeout, this, &ParetoChart::refreshNow);
    connect(session, &Session::runChanged, this, &ParetoChart::requestRefresh);
    connect(session, &Session::runsReset, this, &ParetoChart::requestRefresh);
    refreshNow();
}

void ParetoChart::setGroupSeeds(bool grouped) {
    grouped_ = grouped;
    refreshNow();
}

void ParetoChart::requestRefresh() {
    if (!throttle_.isActive()) {
        throttle_.start();
    }
}

int ParetoChart::pointCount() const {
    return tested_ ? tested_->dataCount() : 0;
}
int ParetoChart::untestedCount() const {
    return untested_ ? untested_->dataCount() : 0;
}
int ParetoChart::errorBarCount() const {
    return int(std::count_if(testedStd_.begin(), testedStd_.end(), [](double e) { return e > 0; }));
}
int ParetoChart::frontierCount() const {
    return frontier_ ? frontier_->dataCount() : 0;
}

void ParetoChart::refreshNow() {
    throttle_.stop();
    plot_->clearPlottables();  // graphs and the error bars
    plot_->clearItems();
    struct P {
        double macs, acc;
        int id;
        QString name;
        double std = 0;  // seed group: sample std of the test accuracy, % points
    };
    std::vector<P> tested, untested;
    // Seed groups: one point at the mean test accuracy with a ± std error bar.
    QList<int> inGroup;
    if (grouped_) {
        for (const RunGroup& g : groupRuns(session_->runs())) {
            const RunRecord* first = session_->find(g.ids.first());
            if (g.ids.size() < 2 || g.testAccuracy.count < 2 || !first || first->macs <= 0) {
                continue;
            }
            inGroup << g.ids;
            tested.push_back({double(first->macs), g.testAccuracy.mean * 100, first->id,
                              tr("%1 · %n seeds", nullptr, g.testAccuracy.count).arg(first->name),
                              g.testAccuracy.std * 100});
        }
    }
    for (const RunRecord& r : session_->runs()) {
        if (r.macs <= 0 || inGroup.contains(r.id)) {
            continue;
        }
        if (r.testAccuracy() >= 0) {
            tested.push_back({double(r.macs), r.testAccuracy() * 100, r.id, r.name});
        } else if (r.bestValAccuracy() >= 0) {
            untested.push_back({double(r.macs), r.bestValAccuracy() * 100, r.id, r.name});
        }
    }
    auto byMacs = [](const P& a, const P& b) {
        return a.macs < b.macs || (a.macs == b.macs && a.acc < b.acc);
    };
    std::sort(tested.begin(), tested.end(), byMacs);
    std::sort(untested.begin(), untested.end(), byMacs);
    tested_ = plot_->addGraph();
    tested_->setName(tr("tested runs (test accuracy)"));
    tested_->setLineStyle(QCPGraph::lsNone);
    tested_->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, QColor(31, 119, 180), 8));
    untested_ = plot_->addGraph();
    untested_->setName(tr("untested runs (best validation accuracy)"));
    untested_->setLineStyle(QCPGraph::lsNone);
    untested_->setScatterStyle(
        QCPScatterStyle(QCPScatterStyle::ssCircle, QPen(QColor(120, 120, 120), 1.5), Qt::white, 8));
    QVector<double> x, y, ux, uy, fx, fy, errors;
    testedStd_.clear();
    testedNames_.clear();
    untestedNames_.clear();
    double best = -1;
    auto label = [&](const P& p, bool isTested) {
        auto* text = new QCPItemText(plot_);
        text->position->setCoords(p.macs, p.acc);
        text->setPositionAlignment(Qt::AlignLeft | Qt::AlignBottom);
        text->setPadding(QMargins(6, 0, 0, 2));
        text->setText(isTested ? p.name : tr("%1 (val)").arg(p.name));
        text->setColor(isTested ? runColor(p.id) : QColor(120, 120, 120));
    };
    for (const P& p : tested) {
        x << p.macs;
        y << p.acc;
        errors << p.std;
        testedStd_ << p.std;
        testedNames_ << p.name;
        if (p.acc > best) {
            best = p.acc;
            fx << p.macs;
            fy << p.acc;
        }
        label(p, true);
    }
    for (const P& p : untested) {
        ux << p.macs;
        uy << p.acc;
        untestedNames_ << p.name;
        label(p, false);
    }
    tested_->setData(x, y, true);
    errorBars_ = nullptr;
    if (grouped_ && std::any_of(errors.begin(), errors.end(), [](double e) { return e > 0; })) {
        errorBars_ = new QCPErrorBars(plot_->xAxis, plot_->yAxis);
        errorBars_->setDataPlottable(tested_);
        errorBars_->setData(errors);
        errorBars_->setPen(QPen(QColor(31, 119, 180), 1.2));
        errorBars_->setName(tr("± std over seeds"));
        errorBars_->removeFromLegend();
    }
    untested_->setData(ux, uy, true);
    if (untested.empty()) {
        untested_->removeFromLegend();
    }
    frontier_ = plot_->addGraph();
    frontier_->setName(tr("Pareto frontier (no cheaper run is more accurate)"));
    frontier_->setPen(QPen(QColor(214, 39, 40), 1.6));
    frontier_->setLineStyle(QCPGraph::lsStepLeft);
    frontier_->setData(fx, fy, true);
    QVector<double> allX = x + ux, allY = y + uy;
    if (!allX.isEmpty()) {
        const auto [xlo, xhi] = std::minmax_element(allX.begin(), allX.end());
        plot_->xAxis->setRange(*xlo / 2, *xhi * 2);
        const auto [lo, hi] = std::minmax_element(allY.begin(), allY.end());
        plot_->yAxis->setRange(std::max(0.0, *lo - 5), std::min(100.0, *hi + 5));
    } else {
        plot_->xAxis->setRange(1e6, 1e9);
        plot_->yAxis->setRange(0, 100);
    }
    tools_->applyLogRanges();
    tools_->placeLegend();
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

}  // namespace scalelab::ui
