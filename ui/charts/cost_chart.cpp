#include "ui/charts/cost_chart.h"

#include <qcustomplot.h>
#include <QVBoxLayout>

#include "ui/charts/chart_style.h"
#include "ui/charts/chart_tools.h"

namespace scalelab::ui {

CostChart::CostChart(QWidget* parent) : QWidget(parent), plot_(new QCustomPlot) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(plot_);
    stylePlot(plot_);
    macsRect_ = plot_->axisRect();
    paramsRect_ = new QCPAxisRect(plot_);
    plot_->plotLayout()->addElement(1, 0, paramsRect_);
    setPlotTitle(plot_, tr("Cost per stage"));
    plot_->legend->setVisible(true);
    for (QCPAxisRect* r : {macsRect_, paramsRect_}) {
        useCountAxis(r->axis(QCPAxis::atLeft), false);
    }
    tools_ = new ChartTools(plot_);
    tools_->setResetZoom([this] { rebuild(); });
    tools_->setFormatter([this](const QCPAbstractPlottable* series, double key, double value) {
        const ModelAnalysis* a = series->name().startsWith(tr("selected run")) && selected_
                                     ? &*selected_
                                 : current_ ? &*current_
                                            : nullptr;
        const size_t i = size_t(std::lround(key)) - 1;
        const QString stage = a && i < a->stages.size() ? QString::fromStdString(a->stages[i].name)
                                                        : QString::number(key);
        const bool macs = series->valueAxis() == macsRect_->axis(QCPAxis::atLeft);
        return tr("%1 — %2\n%3: %4 (%5)")
            .arg(series->name(), stage, macs ? tr("MACs per image") : tr("parameters"),
                 compactCount(value), exactCount(qint64(value)));
    });
    rebuild();
}

void CostChart::setCurrent(const std::optional<ModelAnalysis>& current) {
    current_ = current;
    rebuild();
}

void CostChart::setSelected(const std::optional<ModelAnalysis>& selected, const QString& name) {
    selected_ = selected;
    selectedName_ = name;
    rebuild();
}

int CostChart::barCount() const {
    int n = 0;
    for (int i = 0; i < plot_->plottableCount(); ++i) {
        if (auto* b = qobject_cast<QCPBars*>(plot_->plottable(i))) {
            n += b->dataCount();
        }
    }
    return n;
}

void CostChart::rebuild() {
    plot_->clearPlottables();
    QCPAxisRect* macsRect = macsRect_;
    QCPAxisRect* paramsRect = paramsRect_;
    macsRect->axis(QCPAxis::atLeft)->setLabel(tr("MACs per image"));
    paramsRect->axis(QCPAxis::atLeft)->setLabel(tr("parameters"));
    struct Series {
        const ModelAnalysis* a;
        QString name;
        QColor color;
    };
    std::vector<Series> series;
    if (current_) {
        series.push_back({&*current_,
                          tr("current design: %1").arg(QString::fromStdString(current_->spec.name)),
                          QColor(31, 119, 180)});
    }
    if (selected_) {
        series.push_back(
            {&*selected_, tr("selected run: %1").arg(selectedName_), QColor(255, 127, 14)});
    }
    size_t stages = 0;
    const ModelAnalysis* labels = nullptr;
    for (const Series& s : series) {
        if (s.a->stages.size() > stages) {
            stages = s.a->stages.size();
            labels = s.a;
        }
    }
    QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
    for (size_t i = 0; i < stages; ++i) {
        ticker->addTick(double(i + 1), QString::fromStdString(labels->stages[i].name));
    }
    double maxMacs = 1, maxParams = 1;
    auto* groupM = new QCPBarsGroup(plot_);
    auto* groupP = new QCPBarsGroup(plot_);
    for (const Series& s : series) {
        QVector<double> x, m, p;
        for (size_t i = 0; i < s.a->stages.size(); ++i) {
            x << double(i + 1);
            m << double(s.a->stages[i].macs);
            p << double(s.a->stages[i].params);
            maxMacs = std::max(maxMacs, m.back());
            maxParams = std::max(maxParams, p.back());
        }
        auto* bm = new QCPBars(macsRect->axis(QCPAxis::atBottom), macsRect->axis(QCPAxis::atLeft));
        bm->setData(x, m, true);
        bm->setName(s.name);
        bm->setPen(Qt::NoPen);
        bm->setBrush(s.color);
        bm->setWidth(0.8 / double(series.size()));
        bm->setBarsGroup(groupM);
        auto* bp =
            new QCPBars(paramsRect->axis(QCPAxis::atBottom), paramsRect->axis(QCPAxis::atLeft));
        bp->setData(x, p, true);
        bp->setName(s.name);
        bp->setPen(Qt::NoPen);
        bp->setBrush(s.color);
        bp->setWidth(0.8 / double(series.size()));
        bp->setBarsGroup(groupP);
        bp->removeFromLegend();
    }
    for (QCPAxisRect* r : {macsRect, paramsRect}) {
        r->axis(QCPAxis::atBottom)->setTicker(ticker);
        r->axis(QCPAxis::atBottom)->setTickLabelRotation(30);
        r->axis(QCPAxis::atBottom)->setRange(0.3, double(stages) + 0.7);
    }
    macsRect->axis(QCPAxis::atLeft)->setRange(0, maxMacs * 1.1);
    paramsRect->axis(QCPAxis::atLeft)->setRange(0, maxParams * 1.1);
    tools_->applyLogRanges();
    tools_->placeLegend();
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

}  // namespace scalelab::ui
