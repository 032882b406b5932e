#include "ui/charts/confusion_chart.h"

#include <qcustomplot.h>
#include <QVBoxLayout>

#include "ui/charts/chart_style.h"

namespace scalelab::ui {

ConfusionChart::ConfusionChart(QWidget* parent) : QWidget(parent), plot_(new QCustomPlot) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(plot_);
    stylePlot(plot_);
    plot_->plotLayout()->clear();
    auto* heatRect = heatRect_ = new QCPAxisRect(plot_);
    auto* barRect = barRect_ = new QCPAxisRect(plot_);
    plot_->plotLayout()->addElement(0, 0, heatRect);
    scale_ = new QCPColorScale(plot_);
    plot_->plotLayout()->addElement(0, 1, scale_);
    plot_->plotLayout()->addElement(0, 2, barRect);
    plot_->plotLayout()->setColumnStretchFactor(0, 3);
    plot_->plotLayout()->setColumnStretchFactor(1, 0.1);
    plot_->plotLayout()->setColumnStretchFactor(2, 2);
    scale_->setLabel(tr("% of the true class"));
    scale_->setDataRange(QCPRange(0, 100));
    map_ = new QCPColorMap(heatRect->axis(QCPAxis::atBottom), heatRect->axis(QCPAxis::atLeft));
    map_->setColorScale(scale_);
    map_->setGradient(QCPColorGradient::gpThermal);
    map_->setInterpolate(false);
    heatRect->axis(QCPAxis::atBottom)->setLabel(tr("predicted class"));
    heatRect->axis(QCPAxis::atLeft)->setLabel(tr("true class"));
    heatRect->axis(QCPAxis::atLeft)->setRangeReversed(true);
    barRect->axis(QCPAxis::atBottom)->setLabel(tr("per-class test accuracy (%)"));
    barRect->axis(QCPAxis::atLeft)->setRangeReversed(true);
    setPlotTitle(plot_, tr("Confusion matrix — select a finished run in the table"));
}

void ConfusionChart::setResult(const EvalResult& r, const QString& name) {
    QCPAxisRect* heatRect = heatRect_;
    QCPAxisRect* barRect = barRect_;
    for (int i = plot_->plottableCount() - 1; i >= 0; --i) {
        if (plot_->plottable(i) != map_) {
            plot_->removePlottable(i);
        }
    }
    plot_->clearItems();
    counts_ = 0;
    const int k = int(r.confusion.size());
    classes_ = r.count > 0 ? k : 0;
    if (r.count == 0 || k == 0) {
        map_->data()->setSize(1, 1);
        map_->data()->fill(0);
        setPlotTitle(plot_, tr("Confusion matrix — %1 has no test result yet").arg(name));
        plot_->replot(QCustomPlot::rpQueuedReplot);
        return;
    }
    map_->data()->setSize(k, k);
    map_->data()->setRange(QCPRange(0, k - 1), QCPRange(0, k - 1));
    for (int t = 0; t < k; ++t) {
        int64_t row = 0;
        for (int64_t v : r.confusion[size_t(t)]) {
            row += v;
        }
        for (int p = 0; p < k; ++p) {
            const int64_t count = r.confusion[size_t(t)][size_t(p)];
            const double share = row ? 100.0 * double(count) / double(row) : 0.0;
            map_->data()->setCell(p, t, share);
            // The count in its cell (up to 20 classes; beyond that cells are too small to read).
            if (k <= 20) {
                auto* text = new QCPItemText(plot_);
                text->setClipAxisRect(heatRect);
                text->position->setAxes(heatRect->axis(QCPAxis::atBottom),
                                        heatRect->axis(QCPAxis::atLeft));
                text->position->setCoords(p, t);
                text->setText(QString::number(count));
                QFont f = plot_->font();
                f.setPointSize(k <= 10 ? 8 : 7);
                text->setFont(f);
                // Thermal: dark below about half, light above.
                text->setColor(share < 55 ? Qt::white : Qt::black);
                ++counts_;
            }
        }
    }
    QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
    for (int i = 0; i < k; ++i) {
        ticker->addTick(i, i < int(r.classNames.size())
                               ? QString::fromStdString(r.classNames[size_t(i)])
                               : QString::number(i));
    }
    for (QCPAxis* axis : {heatRect->axis(QCPAxis::atBottom), heatRect->axis(QCPAxis::atLeft),
                          barRect->axis(QCPAxis::atLeft)}) {
        axis->setTicker(ticker);
        axis->setRange(-0.5, k - 0.5);
    }
    heatRect->axis(QCPAxis::atBottom)->setTickLabelRotation(45);
    auto* bars = new QCPBars(barRect->axis(QCPAxis::atLeft), barRect->axis(QCPAxis::atBottom));
    QVector<double> x, y;
    for (int i = 0; i < k && i < int(r.perClassAccuracy.size()); ++i) {
        x << i;
        y << std::max(0.0, r.perClassAccuracy[size_t(i)] * 100);
    }
    bars->setData(x, y, true);
    bars->setBrush(QColor(31, 119, 180));
    bars->setPen(Qt::NoPen);
    bars->setWidth(0.7);
    barRect->axis(QCPAxis::atBottom)->setRange(0, 100);
    setPlotTitle(plot_, tr("%1 — test accuracy %2 % on %3 images")
                            .arg(name)
                            .arg(r.accuracy * 100, 0, 'f', 2)
                            .arg(r.count));
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

}  // namespace scalelab::ui
