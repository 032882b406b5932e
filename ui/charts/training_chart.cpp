#include "ui/charts/training_chart.h"

#include <qcustomplot.h>
#include <QVBoxLayout>

#include "ui/charts/chart_style.h"
#include "ui/session.h"

namespace scalelab::ui {

TrainingChart::TrainingChart(Session* session, QWidget* parent)
    : QWidget(parent), session_(session), plot_(new QCustomPlot) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(plot_);
    stylePlot(plot_);
    lossRect_ = plot_->axisRect();
    accRect_ = new QCPAxisRect(plot_);
    plot_->plotLayout()->addElement(1, 0, accRect_);
    lossRect_->axis(QCPAxis::atLeft)->setLabel(tr("loss (cross-entropy)"));
    lossRect_->axis(QCPAxis::atBottom)->setLabel(tr("epoch"));
    accRect_->axis(QCPAxis::atLeft)->setLabel(tr("accuracy (%)"));
    accRect_->axis(QCPAxis::atBottom)->setLabel(tr("epoch"));
    for (QCPAxisRect* r : {lossRect_, accRect_}) {
        r->setRangeDrag(Qt::Horizontal | Qt::Vertical);
        r->setRangeZoom(Qt::Horizontal | Qt::Vertical);
    }
    setPlotTitle(plot_, tr("Training curves — solid: train, dashed ○: validation"));
    plot_->legend->setVisible(true);
    lossRect_->insetLayout()->addElement(plot_->legend, Qt::AlignTop | Qt::AlignRight);
    plot_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);

    throttle_.setSingleShot(true);
    throttle_.setInterval(40);
    connect(&throttle_, &QTimer::timeout, this, &TrainingChart::refreshNow);
    connect(session, &Session::runChanged, this, &TrainingChart::requestRefresh);
    connect(session, &Session::runsReset, this, &TrainingChart::requestRefresh);
    connect(session, &Session::runAdded, this, &TrainingChart::requestRefresh);
    refreshNow();
}

void TrainingChart::setVisibleRuns(const QList<int>& ids) {
    visible_ = ids;
    requestRefresh();
}

void TrainingChart::requestRefresh() {
    if (!throttle_.isActive()) {
        throttle_.start();
    }
}

int TrainingChart::pointCount() const {
    int n = 0;
    for (int i = 0; i < plot_->graphCount(); ++i) {
        n += plot_->graph(i)->dataCount();
    }
    return n;
}

void TrainingChart::refreshNow() {
    throttle_.stop();
    plot_->clearGraphs();
    double maxEpoch = 1;
    double maxLoss = 0.1;
    for (const RunRecord& r : session_->runs()) {
        // The run that is training is always drawn, whatever the Compare selection.
        const bool training = r.status == "running";
        if (!visible_.isEmpty() && !visible_.contains(r.id) && !training) {
            continue;
        }
        if (r.history.empty() && r.liveLoss.empty()) {
            continue;
        }
        const QColor color = runColor(r.id);
        auto addGraph = [&](QCPAxisRect* rect, bool validation) {
            QCPGraph* g =
                plot_->addGraph(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
            QPen pen(color, (validation ? 1.8 : 1.4) + (training ? 1.2 : 0.0));
            if (validation) {
                pen.setStyle(Qt::DashLine);
                g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, color, Qt::white, 6));
            }
            g->setPen(pen);
            g->removeFromLegend();
            return g;
        };
        QVector<double> ex, trainLoss, trainAcc, valLoss, valAcc;
        for (const EpochMetrics& e : r.history) {
            ex << double(e.epoch);
            trainLoss << e.trainLoss;
            trainAcc << e.trainAccuracy * 100;
            valLoss << e.valLoss;
            valAcc << e.valAccuracy * 100;
            maxEpoch = std::max(maxEpoch, double(e.epoch));
            maxLoss = std::max(maxLoss, std::isfinite(e.trainLoss) ? e.trainLoss : 0.0);
        }
        QCPGraph* tl = addGraph(lossRect_, false);
        QCPGraph* ta = addGraph(accRect_, false);
        if (!r.liveLoss.empty()) {
            QVector<double> x, l, a;
            for (size_t i = 0; i < r.liveLoss.size(); ++i) {
                x << r.liveLoss[i].x();
                l << r.liveLoss[i].y();
                a << r.liveAccuracy[i].y() * 100;
                maxEpoch = std::max(maxEpoch, r.liveLoss[i].x());
                if (std::isfinite(r.liveLoss[i].y())) {
                    maxLoss = std::max(maxLoss, std::min(r.liveLoss[i].y(), 10.0));
                }
            }
            tl->setData(x, l, true);
            ta->setData(x, a, true);
        } else {
            tl->setData(ex, trainLoss, true);
            ta->setData(ex, trainAcc, true);
        }
        if (!r.history.empty() && r.history.front().valLoss >= 0) {
            QCPGraph* vl = addGraph(lossRect_, true);
            vl->setData(ex, valLoss, true);
            QCPGraph* va = addGraph(accRect_, true);
            va->setData(ex, valAcc, true);
            vl->setName(training ? tr("%1 (training)").arg(r.name) : r.name);
            vl->addToLegend();
        } else {
            tl->setName(training ? tr("%1 (training)").arg(r.name) : r.name);
            tl->addToLegend();
        }
    }
    for (QCPAxisRect* rect : {lossRect_, accRect_}) {
        rect->axis(QCPAxis::atBottom)->setRange(0, std::ceil(maxEpoch));
    }
    lossRect_->axis(QCPAxis::atLeft)->setRange(0, maxLoss * 1.1);
    accRect_->axis(QCPAxis::atLeft)->setRange(0, 100);
    plot_->legend->setVisible(plot_->legend->itemCount() > 0);
    plot_->clearItems();
    if (plot_->graphCount() == 0) {
        auto* hint = new QCPItemText(plot_);
        hint->setClipToAxisRect(false);
        hint->position->setType(QCPItemPosition::ptAxisRectRatio);
        hint->position->setAxisRect(lossRect_);
        hint->position->setCoords(0.5, 0.5);
        hint->setText(tr("No curves yet: design a model, press Add variant, then Train"));
        hint->setColor(QColor(120, 120, 120));
    }
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

}  // namespace scalelab::ui
