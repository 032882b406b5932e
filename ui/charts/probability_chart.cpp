#include "ui/charts/probability_chart.h"

#include <qcustomplot.h>
#include <QVBoxLayout>
#include <cmath>

#include "ui/charts/chart_style.h"
#include "ui/charts/chart_tools.h"

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
    tools_ = new ChartTools(plot_);
    tools_->setLogMenu(false);  // the left axis lists classes
    tools_->setResetZoom([this] {
        plot_->xAxis->setRange(0, 100);
        plot_->yAxis->setRange(-0.5, double(classes_.size()) - 0.5);
    });
    tools_->setFormatter([this](const QCPAbstractPlottable*, double key, double value) {
        const int i = int(std::lround(key));
        return tr("%1: %2 %")
            .arg(i >= 0 && i < classes_.size() ? classes_[i] : QString::number(i),
                 QString::number(value, 'f', 2));
    });
}

void ProbabilityChart::setProbabilities(const std::vector<double>& p, const QStringList& classes,
                                        int predicted, int trueLabel) {
    plot_->clearPlottables();
    classes_ = classes;
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
