#include "ui/charts/scaling_chart.h"

#include <qcustomplot.h>
#include <QToolTip>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>

#include "core/models/analysis.h"
#include "ui/charts/chart_style.h"

namespace scalelab::ui {

namespace {
constexpr double kPhiMax = 4.0;
constexpr double kPhiStep = 0.1;
constexpr double kHoverPx = 8;  // how near the compound curve the mouse must be
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
    plot_->yAxis->setScaleType(QCPAxis::stLogarithmic);
    plot_->yAxis->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
    plot_->yAxis->setNumberFormat("eb");
    plot_->yAxis->setNumberPrecision(0);
    plot_->yAxis->setLabel(tr("MACs per image (log scale)"));
    plot_->xAxis->setLabel(tr("φ"));
    plot_->legend->setVisible(true);
    plot_->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignLeft);
    plot_->setMouseTracking(true);
    connect(plot_, &QCustomPlot::mouseMove, this, &ScalingChart::onMouseMove);
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

// Near the compound curve: the split at its nearest computed point.
void ScalingChart::onMouseMove(QMouseEvent* event) {
    const QPointF pos = event->position();
    const double distance = compound_ ? compound_->selectTest(pos, false) : -1;
    if (distance < 0 || distance > kHoverPx) {
        QToolTip::hideText();
        return;
    }
    const double phi = std::round(plot_->xAxis->pixelToCoord(pos.x()) / kPhiStep) * kPhiStep;
    const QString text = tooltipText(std::clamp(phi, 0.0, kPhiMax));
    if (text.isEmpty()) {
        QToolTip::hideText();
        return;
    }
    QToolTip::showText(event->globalPosition().toPoint(), text, plot_);
}

}  // namespace scalelab::ui
