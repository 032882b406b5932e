#include "ui/charts/scaling_chart.h"

#include <qcustomplot.h>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>

#include "core/models/analysis.h"
#include "ui/charts/chart_style.h"
#include "ui/charts/chart_tools.h"

namespace scalelab::ui {

namespace {
constexpr double kPhiMax = 4.0;
constexpr double kPhiStep = 0.1;
}  // namespace

QString gapText(const ScalingGap& g) {
    return QObject::tr("gap ×%1 = channels ×%2 · repeats ×%3 · map size ×%4 · structure ×%5")
        .arg(g.gap(), 0, 'f', 2)
        .arg(g.channels, 0, 'f', 2)
        .arg(g.repeats, 0, 'f', 2)
        .arg(g.mapSize, 0, 'f', 2)
        .arg(g.structure, 0, 'f', 2);
}

ScalingChart::ScalingChart(QWidget* parent) : QWidget(parent), plot_(new QCustomPlot) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(plot_);
    stylePlot(plot_);
    setPlotTitle(plot_, tr("Scaling curves — MACs as each dimension grows with φ"));
    useCountAxis(plot_->yAxis, true);  // log by default; right-click switches to linear
    plot_->yAxis->setLabel(tr("MACs per image"));
    plot_->xAxis->setLabel(tr("φ"));
    plot_->legend->setVisible(true);
    plot_->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignLeft);
    plot_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    // Hover: on the exact compound curve the split of its gap at that phi; on the others their
    // exact MACs.
    tools_ = new ChartTools(plot_);
    tools_->setFormatter([this](const QCPAbstractPlottable* series, double phi, double macs) {
        if (series == compound_) {
            return tooltipText(std::clamp(phi, 0.0, kPhiMax));
        }
        return tr("%1\nφ %2: %3 MACs per image (%4)")
            .arg(series->name())
            .arg(phi, 0, 'f', 2)
            .arg(compactCount(macs), exactCount(qint64(std::llround(macs))));
    });
}

int ScalingChart::curveCount() const {
    return plot_->graphCount();
}

void ScalingChart::setBase(const ModelSpec& model, const Scaling& base, double markPhi) {
    setPlotTitle(plot_, tr("Scaling curves of %1 — MACs as each dimension grows with φ")
                            .arg(QString::fromStdString(model.name)));
    plot_->clearGraphs();
    plot_->clearItems();
    base_ = model;
    scaling_ = base;
    compound_ = nullptr;
    struct Curve {
        QString name;
        QColor color;
        int which;  // 0 width, 1 depth, 2 resolution, 3 compound
    };
    const Curve curves[] = {
        {tr("width only: w = β^φ"), QColor(31, 119, 180), 0},
        {tr("depth only: d = α^φ"), QColor(44, 160, 44), 1},
        {tr("resolution only: r = γ^φ"), QColor(255, 127, 14), 2},
        {tr("compound: all three (hover: why it differs)"), QColor(214, 39, 40), 3},
    };
    double macs0 = 0;
    double lo = 1e30, hi = 0;
    for (const Curve& c : curves) {
        QVector<double> x, y;
        for (double phi = 0; phi <= kPhiMax + 1e-9; phi += kPhiStep) {
            Scaling s;
            s.mode = Scaling::Mode::Manual;
            s.width = c.which == 0 || c.which == 3 ? std::pow(base.beta, phi) : 1.0;
            s.depth = c.which == 1 || c.which == 3 ? std::pow(base.alpha, phi) : 1.0;
            s.resolution = c.which == 2 || c.which == 3 ? std::pow(base.gamma, phi) : 1.0;
            s.resolutionMultiple = base.resolutionMultiple;
            try {
                const double m = double(analyzeModel(applyScaling(model, s)).macs);
                x << phi;
                y << m;
                lo = std::min(lo, m);
                hi = std::max(hi, m);
                if (phi == 0) {
                    macs0 = m;
                }
            } catch (const std::exception&) {
                // an impossible point (e.g. a vanishing map) is left out of the curve
            }
        }
        QCPGraph* g = plot_->addGraph();
        g->setName(c.name);
        g->setPen(QPen(c.color, 2));
        g->setData(x, y, true);
        if (c.which == 3) {
            compound_ = g;
        }
    }
    if (macs0 > 0) {
        const double k = compoundFlopsBase(base.alpha, base.beta, base.gamma);
        QVector<double> x, y;
        for (double phi = 0; phi <= kPhiMax + 1e-9; phi += kPhiStep) {
            x << phi;
            y << macs0 * std::pow(k, phi);
            hi = std::max(hi, y.back());
        }
        QCPGraph* g = plot_->addGraph();
        g->setName(tr("predicted (α·β²·γ²)^φ = %1^φ").arg(k, 0, 'f', 3));
        g->setPen(QPen(QColor(214, 39, 40), 1.5, Qt::DashLine));
        g->setData(x, y, true);
    }
    if (markPhi >= 0) {
        auto* line = new QCPItemStraightLine(plot_);
        line->point1->setCoords(markPhi, 1);
        line->point2->setCoords(markPhi, 2);
        line->setPen(QPen(QColor(120, 120, 120), 1, Qt::DotLine));
    }
    plot_->xAxis->setRange(0, kPhiMax);
    if (hi > 0) {
        plot_->yAxis->setRange(lo / 1.5, hi * 1.5);
    }
    tools_->applyLogRanges();
    tools_->placeLegend();
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

QString ScalingChart::tooltipText(double phi) const {
    Scaling s = scaling_;
    s.mode = Scaling::Mode::Compound;
    s.phi = phi;
    try {
        const ScalingGap g = scalingGap(base_, s);
        return tr("φ %1: predicted MACs ×%2, exact ×%3\n%4")
            .arg(phi, 0, 'f', 2)
            .arg(g.predicted, 0, 'f', 2)
            .arg(g.exact, 0, 'f', 2)
            .arg(gapText(g));
    } catch (const std::exception&) {
        return {};
    }
}

}  // namespace scalelab::ui
