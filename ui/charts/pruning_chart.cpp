#include "ui/charts/pruning_chart.h"

#include <qcustomplot.h>
#include <QVBoxLayout>
#include <map>

#include "ui/charts/chart_style.h"
#include "ui/charts/chart_tools.h"

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
        ->setLabel(tr("sparsity (%)"));  // removed share of prunable weights or channels
    sparsityRect_->axis(QCPAxis::atLeft)->setLabel(tr("test accuracy (%)"));
    QCPAxis* mx = macsRect_->axis(QCPAxis::atBottom);
    useCountAxis(mx, true);
    mx->setLabel(tr("MACs (log)"));  // per image; the tooltip says so
    mx->setTickLabelRotation(30);
    macsRect_->axis(QCPAxis::atLeft)->setLabel(tr("test accuracy (%)"));
    stageRect_->axis(QCPAxis::atBottom)
        ->setLabel(tr("pruning level (%) of one stage alone — sensitivity, first method"));
    stageRect_->axis(QCPAxis::atLeft)->setLabel(tr("test accuracy (%)"));
    setPlotTitle(plot_, tr("Pruning — solid: pruned, dashed: fine-tuned"));
    plot_->legend->setVisible(true);
    // The methods' legend gets its own row under the charts, two entries a line: in a corner of
    // the sparsity chart it covered the curves whatever the corner.
    sparsityRect_->insetLayout()->take(plot_->legend);  // where QCustomPlot put it
    plot_->plotLayout()->simplify();
    plot_->plotLayout()->addElement(plot_->plotLayout()->rowCount(), 0, plot_->legend);
    plot_->legend->setFillOrder(QCPLegend::foColumnsFirst);
    plot_->legend->setWrap(2);
    plot_->plotLayout()->setRowStretchFactor(plot_->plotLayout()->rowCount() - 1, 0.001);
    // The sensitivity chart's own legend: which colour is which stage.
    stageLegend_ = new QCPLegend;
    stageRect_->insetLayout()->addElement(stageLegend_, Qt::AlignBottom | Qt::AlignLeft);
    stageLegend_->setLayer(QLatin1String("legend"));
    stageLegend_->setFont(plot_->legend->font());
    stageLegend_->setBrush(plot_->legend->brush());
    plot_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    tools_ = new ChartTools(plot_);
    tools_->setResetZoom([this] { setRows(rows_, baseline_); });
    tools_->setFormatter([this](const QCPAbstractPlottable* series, double key, double value) {
        const QString what = describe_.value(series);
        if (what.isEmpty()) {
            return QString();
        }
        QString x;
        if (series->keyAxis() == macsRect_->axis(QCPAxis::atBottom)) {
            x = tr("%1 MACs per image (%2)").arg(compactCount(key), exactCount(qint64(key)));
        } else if (series->keyAxis() == stageRect_->axis(QCPAxis::atBottom)) {
            x = tr("level %1 %").arg(key, 0, 'f', 1);
        } else {
            x = tr("sparsity %1 %").arg(key, 0, 'f', 1);
        }
        return tr("%1\n%2: test accuracy %3 %").arg(what, x).arg(value, 0, 'f', 2);
    });
    setRows({}, -1);
}

QStringList PruningChart::stageLegendNames() const {
    QStringList names;
    for (int i = 0; i < stageLegend_->itemCount(); ++i) {
        if (auto* item = qobject_cast<QCPPlottableLegendItem*>(stageLegend_->item(i))) {
            names << item->plottable()->name();
        }
    }
    return names;
}

int PruningChart::pointCount() const {
    int n = 0;
    for (int i = 0; i < plot_->graphCount(); ++i) {
        n += plot_->graph(i)->dataCount();
    }
    return n;
}

void PruningChart::setRows(const std::vector<PruneRow>& rows, double baseline) {
    rows_ = rows;
    baseline_ = baseline;
    stageLegend_->clearItems();
    plot_->clearGraphs();
    plot_->clearItems();
    describe_.clear();
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
                   const QColor& color, bool dashed, const QString& name, const QString& what) {
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
        describe_[g] = what;
        return g;
    };
    for (const auto& [method, c] : curves) {
        const QColor color = methodColor(method);
        const QString m = QString::fromStdString(method);
        add(sparsityRect_, c.sparsity, c.acc, color, false, m,
            tr("%1, right after pruning").arg(m));
        add(macsRect_, c.macs, c.acc, color, false, QString(),
            tr("%1, right after pruning").arg(m));
        if (!c.ftAcc.isEmpty()) {
            add(sparsityRect_, c.ftSparsity, c.ftAcc, color, true, m + tr(" + fine-tuning"),
                tr("%1, after fine-tuning").arg(m));
            add(macsRect_, c.ftMacs, c.ftAcc, color, true, QString(),
                tr("%1, after fine-tuning").arg(m));
        }
    }
    int k = 0;
    for (const auto& [stage, xy] : stages) {
        const QString name = QString::fromStdString(stage);
        QCPGraph* g =
            add(stageRect_, xy.first, xy.second, runColor(++k), false, QString(),
                tr("%1 pruned alone (%2)").arg(name, QString::fromStdString(firstMethod)));
        g->setName(name);
        stageLegend_->addItem(new QCPPlottableLegendItem(stageLegend_, g));
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
    stageLegend_->setVisible(!stages.empty());
    stageRect_->setVisible(!stages.empty());
    tools_->applyLogRanges();
    tools_->placeLegend();
    if (stages.empty()) {
        plot_->plotLayout()->setRowStretchFactor(2, 0.001);
    } else {
        plot_->plotLayout()->setRowStretchFactor(2, 1);
    }
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

}  // namespace scalelab::ui
