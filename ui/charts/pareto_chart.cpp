#include "ui/charts/pareto_chart.h"

#include <qcustomplot.h>
#include <QVBoxLayout>
#include <algorithm>

#include "ui/charts/chart_style.h"
#include "ui/session.h"

namespace scalelab::ui {

ParetoChart::ParetoChart(Session* session, QWidget* parent)
    : QWidget(parent), session_(session), plot_(new QCustomPlot) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(plot_);
    stylePlot(plot_);
    setPlotTitle(plot_, tr("Accuracy vs cost — Pareto frontier"));
    plot_->xAxis->setScaleType(QCPAxis::stLogarithmic);
    plot_->xAxis->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
    plot_->xAxis->setNumberFormat("eb");
    plot_->xAxis->setNumberPrecision(0);
    plot_->xAxis->setLabel(tr("MACs per image (log scale; FLOPs = 2 × MACs)"));
    plot_->yAxis->setLabel(tr("test accuracy (%)"));
    plot_->legend->setVisible(true);
    plot_->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignBottom | Qt::AlignRight);
    throttle_.setSingleShot(true);
    throttle_.setInterval(40);
    connect(&throttle_, &QTimer::timeout, this, &ParetoChart::refreshNow);
    connect(session, &Session::runChanged, this, &ParetoChart::requestRefresh);
    connect(session, &Session::runsReset, this, &ParetoChart::requestRefresh);
    refreshNow();
}

void ParetoChart::requestRefresh() {
    if (!throttle_.isActive()) {
        throttle_.start();
    }
}

int ParetoChart::pointCount() const {
    return plot_->graphCount() > 0 ? plot_->graph(0)->dataCount() : 0;
}
int ParetoChart::frontierCount() const {
    return plot_->graphCount() > 1 ? plot_->graph(1)->dataCount() : 0;
}

void ParetoChart::refreshNow() {
    throttle_.stop();
    plot_->clearGraphs();
    plot_->clearItems();
    struct P {
        double macs, acc;
        int id;
        QString name;
    };
    std::vector<P> pts;
    bool anyValOnly = false;
    for (const RunRecord& r : session_->runs()) {
        double acc = r.testAccuracy();
        if (acc < 0) {
            acc = r.bestValAccuracy();
            if (acc >= 0) {
                anyValOnly = true;
            }
        }
        if (acc < 0 || r.macs <= 0) {
            continue;
        }
        pts.push_back({double(r.macs), acc * 100, r.id, r.name});
    }
    plot_->yAxis->setLabel(anyValOnly ? tr("accuracy (%): test, or best validation if untested")
                                      : tr("test accuracy (%)"));
    QCPGraph* all = plot_->addGraph();
    all->setName(tr("runs"));
    all->setLineStyle(QCPGraph::lsNone);
    all->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, QColor(31, 119, 180), 8));
    std::sort(pts.begin(), pts.end(), [](const P& a, const P& b) { return a.macs < b.macs; });
    QVector<double> x, y, fx, fy;
    double best = -1;
    for (const P& p : pts) {
        x << p.macs;
        y << p.acc;
        if (p.acc > best) {
            best = p.acc;
            fx << p.macs;
            fy << p.acc;
        }
        auto* label = new QCPItemText(plot_);
        label->position->setCoords(p.macs, p.acc);
        label->setPositionAlignment(Qt::AlignLeft | Qt::AlignBottom);
        label->setPadding(QMargins(6, 0, 0, 2));
        label->setText(p.name);
        label->setColor(runColor(p.id));
    }
    all->setData(x, y, true);
    QCPGraph* frontier = plot_->addGraph();
    frontier->setName(tr("Pareto frontier (no cheaper run is more accurate)"));
    frontier->setPen(QPen(QColor(214, 39, 40), 1.6));
    frontier->setLineStyle(QCPGraph::lsStepLeft);
    frontier->setData(fx, fy, true);
    if (!pts.empty()) {
        plot_->xAxis->setRange(pts.front().macs / 2, pts.back().macs * 2);
        const auto [lo, hi] = std::minmax_element(y.begin(), y.end());
        plot_->yAxis->setRange(std::max(0.0, *lo - 5), std::min(100.0, *hi + 5));
    } else {
        plot_->xAxis->setRange(1e6, 1e9);
        plot_->yAxis->setRange(0, 100);
    }
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

}  // namespace scalelab::ui
