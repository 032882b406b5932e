#include "ui/charts/pruning_chart.h"

#include <qcustomplot.h>
#include <QVBoxLayout>
#include <map>

#include "ui/charts/chart_style.h"

namespace scalelab::ui {

namespace {

QColor methodColor(const std::string& m) {
    if (m == "magnitude-global")
        return QColor(31, 119, 180);
    if (m == "magnitude-layer")
        return QColor(44, 160, 44);
    return QColor(214, 39, 40);
}

}  // namespace

PruningChart::PruningChart(QWidget* parent) : QWidget(parent), plot_(new QCustomPlot) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(plot_);
    stylePlot(plot_);
    // One column: [title], a row of two charts, the sensitivity chart; so the title spans all.
    sparsityRect_ = plot_->axisRect();
    macsRect_ = new QCPAxisRect(plot_);
    stageRect_ = new QCPAxisRect(plot_);
    plot_->plotLayout()->take(sparsityRect_);
    plot_->plotLayout()->simplify();
    auto* top = new QCPLayoutGrid;
    plot_->plotLayout()->addElement(0, 0, top);
    top->addElement(0, 0, sparsityRect_);
    top->addElement(0, 1, macsRect_);
    plot_->plotLayout()->addElement(1, 0, stageRect_);
    sparsityRect_->axis(QCPAxis::atBottom)
        ->setLabel(tr("sparsity (% removed)"));  // of prunable weights or channels
    sparsityRect_->axis(QCPAxis::atLeft)->setLabel(tr("test accuracy (%)"));
    QCPAxis* mx = macsRect_->axis(QCPAxis::atBottom);
    mx->setScaleType(QCPAxis::stLogarithmic);
    mx->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
    mx->setNumberFormat("eb");
    mx->setNumberPrecision(0);
    mx->setLabel(tr("MACs per image (log)"));
    mx->setTickLabelRotation(30);
    macsRect_->axis(QCPAxis::atLeft)->setLabel(tr("test accuracy (%)"));
    stageRect_->axis(QCPAxis::atBottom)
        ->setLabel(tr("pruning level (%) of one stage alone — sensitivity, first method"));
    stageRect_->axis(QCPAxis::atLeft)->setLabel(tr("test accuracy (%)"));
    setPlotTitle(plot_, tr("Pruning — solid: right after pruning, dashed: after fine-tuning"));
    plot_->legend->setVisible(true);
    stageRect_->insetLayout()->addElement(plot_->legend, Qt::AlignTop | Qt::AlignRight);
    setRows({}, -1);
}

int PruningChart::pointCount() const {
    int n = 0;
    for (int i = 0; i < plot_->graphCount(); ++i) {
        n += plot_->graph(i)->dataCount();
    }
    return n;
}

void PruningChart::setRows(const std::vector<PruneRow>& rows, double baseline) {
    plot_->clearGraphs();
    plot_->clearItems();
    struct Curve {
        QVector<double> sparsity, macs, acc, ftSparsity, ftMacs, ftAcc;
    };
    std::map<std::string, Curve> curves;
    std::map<std::string, std::pair<QVector<double>, QVector<double>>> stages;
    std::string firstMethod;
    double minMacs = 1e30, maxMacs = 1;
    for (const PruneRow& r : rows) {
        if (firstMethod.empty()) {
            firstMethod = r.method;
        }
        if (r.scope != "all") {
            if (r.method == firstMethod) {
                stages[r.scope].first << r.level * 100;
                stages[r.scope].second << r.accuracy * 100;
            }
            continue;
        }
        Curve& c = curves[r.method];
        c.sparsity << r.sparsity * 100;
        c.macs << double(r.macs);
        c.acc << r.accuracy * 100;
        minMacs = std::min(minMacs, double(r.macs));
        maxMacs = std::max(maxMacs, double(r.macs));
        if (r.finetunedAccuracy >= 0) {
            c.ftSparsity << r.sparsity * 100;
            c.ftMacs << double(r.macs);
            c.ftAcc << r.finetunedAccuracy * 100;
        }
    }
    auto add = [&](QCPAxisRect* rect, const QVector<double>& x, const QVector<double>& y,
                   const QColor& color, bool dashed, const QString& name) {
        QCPGraph* g = plot_->addGraph(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
        QPen pen(color, 2);
        if (dashed) {
            pen.setStyle(Qt::DashLine);
        }
        g->setPen(pen);
        g->setScatterStyle(QCPScatterStyle(
            dashed ? QCPScatterStyle::ssTriangle : QCPScatterStyle::ssDisc, color, 6));
        g->setData(x, y, false);
        if (name.isEmpty()) {
            g->removeFromLegend();
        } else {
            g->setName(name);
        }
    };
    for (const auto& [method, c] : curves) {
        const QColor color = methodColor(method);
        add(sparsityRect_, c.sparsity, c.acc, color, false, QString::fromStdString(method));
        add(macsRect_, c.macs, c.acc, color, false, QString());
        if (!c.ftAcc.isEmpty()) {
            add(sparsityRect_, c.ftSparsity, c.ftAcc, color, true,
                QString::fromStdString(method) + tr(" + fine-tuning"));
            add(macsRect_, c.ftMacs, c.ftAcc, color, true, QString());
        }
    }
    int k = 0;
    for (const auto& [stage, xy] : stages) {
        add(stageRect_, xy.first, xy.second, runColor(++k), false, QString());
        auto* label = new QCPItemText(plot_);
        label->setClipAxisRect(stageRect_);
        label->position->setAxes(stageRect_->axis(QCPAxis::atBottom),
                                 stageRect_->axis(QCPAxis::atLeft));
        label->position->setCoords(xy.first.last(), xy.second.last());
        label->setPositionAlignment(Qt::AlignRight | Qt::AlignBottom);
        label->setText(QString::fromStdString(stage));
        label->setColor(runColor(k));
    }
    if (baseline >= 0) {
        for (QCPAxisRect* rect : {sparsityRect_, macsRect_, stageRect_}) {
            auto* line = new QCPItemStraightLine(plot_);
            line->setClipAxisRect(rect);
            line->point1->setAxes(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
            line->point2->setAxes(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
            line->point1->setCoords(rect == macsRect_ ? 1.0 : 0.0, baseline * 100);
            line->point2->setCoords(rect == macsRect_ ? 10.0 : 1.0, baseline * 100);
            line->setPen(QPen(QColor(120, 120, 120), 1, Qt::DotLine));
        }
    }
    sparsityRect_->axis(QCPAxis::atBottom)->setRange(-2, 100);
    stageRect_->axis(QCPAxis::atBottom)->setRange(-2, 100);
    for (QCPAxisRect* rect : {sparsityRect_, macsRect_, stageRect_}) {
        rect->axis(QCPAxis::atLeft)->setRange(0, 100);
    }
    macsRect_->axis(QCPAxis::atBottom)->setRange(minMacs < 1e30 ? minMacs / 2 : 1e5, maxMacs * 2);
    plot_->legend->setVisible(!curves.empty());
    stageRect_->setVisible(!stages.empty());
    if (stages.empty()) {
        plot_->plotLayout()->setRowStretchFactor(2, 0.001);
    } else {
        plot_->plotLayout()->setRowStretchFactor(2, 1);
    }
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

}  // namespace scalelab::ui
