#include "ui/charts/probability_chart.h"

#include <qcustomplot.h>
#include <QVBoxLayout>

#include "ui/charts/chart_style.h"

namespace scalelab::ui {

ProbabilityChart::ProbabilityChart(QWidget* parent) : QWidget(parent), plot_(new QCustomPlot) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(plot_);
    stylePlot(plot_);
    plot_->xAxis->setLabel(tr("probability (%)"));
    plot_->yAxis->setRangeReversed(true);
    plot_->xAxis->setRange(0, 100);
    setPlotTitle(plot_, tr("Prediction"));
    setMinimumWidth(280);
}

void ProbabilityChart::setProbabilities(const std::vector<double>& p, const QStringList& classes,
                                        int predicted, int trueLabel) {
    plot_->clearPlottables();
    QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
    QVector<double> x, y, hx, hy;
    for (int i = 0; i < int(p.size()); ++i) {
        QString name = i < classes.size() ? classes[i] : QString::number(i);
        if (i == trueLabel) {
            name += tr(" (true)");
        }
        ticker->addTick(i, name);
        (i == predicted ? hx : x) << i;
        (i == predicted ? hy : y) << p[size_t(i)] * 100;
    }
    auto* bars = new QCPBars(plot_->yAxis, plot_->xAxis);
    bars->setData(x, y);
    bars->setBrush(QColor(150, 170, 200));
    bars->setPen(Qt::NoPen);
    auto* top = new QCPBars(plot_->yAxis, plot_->xAxis);
    top->setData(hx, hy);
    top->setBrush(QColor(31, 119, 180));
    top->setPen(Qt::NoPen);
    plot_->yAxis->setTicker(ticker);
    plot_->yAxis->setRange(-0.5, double(p.size()) - 0.5);
    setPlotTitle(
        plot_,
        predicted >= 0 && predicted < classes.size()
            ? tr("%1 %2 %").arg(classes[predicted]).arg(p[size_t(predicted)] * 100, 0, 'f', 1)
            : tr("Prediction"));
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

}  // namespace scalelab::ui
