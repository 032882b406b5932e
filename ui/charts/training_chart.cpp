#include "ui/charts/training_chart.h"

#include <qcustomplot.h>
#include <QHBoxLayout>
#include <QLabel>
#include <QSlider>
#include <QVBoxLayout>
#include <cmath>

#include "ui/charts/chart_style.h"
#include "ui/charts/chart_tools.h"
#include "ui/run_groups.h"
#include "ui/session.h"

namespace scalelab::ui {

QVector<double> smoothSeries(const QVector<double>& values, double weight) {
    QVector<double> out;
    out.reserve(values.size());
    double last = 0;
    int n = 0;
    for (double v : values) {
        if (!std::isfinite(v)) {
            out << v;  // a diverged point stays visible as it is
            continue;
        }
        last = last * weight + (1 - weight) * v;
        ++n;
        out << last / (1 - std::pow(weight, n));
    }
    return out;
}

TrainingChart::TrainingChart(Session* session, QWidget* parent)
    : QWidget(parent), session_(session), plot_(new QCustomPlot) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    auto* controls = new QHBoxLayout;
    controls->setContentsMargins(6, 2, 6, 0);
    auto* smoothTitle = new QLabel(tr("Smoothing"));
    smoothSlider_ = new QSlider(Qt::Horizontal);
    smoothSlider_->setRange(0, 99);
    smoothSlider_->setValue(int(std::lround(smoothing_ * 100)));
    smoothSlider_->setMaximumWidth(220);
    smoothSlider_->setToolTip(
        tr("Exponential moving average of the train curves (TensorBoard's, debiased); the raw "
           "curve stays faint behind. Validation points are never smoothed."));
    smoothLabel_ = new QLabel;
    smoothLabel_->setMinimumWidth(32);
    auto* hint =
        new QLabel(tr("Hover: exact values · right-click: log axes · double-click: "
                      "reset zoom"));
    hint->setStyleSheet("color: #666");
    controls->addWidget(smoothTitle);
    controls->addWidget(smoothSlider_);
    controls->addWidget(smoothLabel_);
    controls->addStretch(1);
    controls->addWidget(hint);
    layout->addLayout(controls);
    layout->addWidget(plot_, 1);
    connect(smoothSlider_, &QSlider::valueChanged, this,
            [this](int v) { setSmoothing(v / 100.0); });
    smoothLabel_->setText(QString::number(smoothing_, 'f', 2));
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
    tools_ = new ChartTools(plot_);
    tools_->setResetZoom([this] { refreshNow(); });
    tools_->setFormatter([this](const QCPAbstractPlottable* series, double key, double value) {
        const auto it = describe_.find(series);
        if (it == describe_.end()) {
            return QString();
        }
        QString text = tr("%1\n%2 at epoch %3: %4")
                           .arg(it->first, it->second, QString::number(key, 'f', 2),
                                QString::number(value, 'f', 4));
        const auto sd = groupStd_.find(series);
        if (sd != groupStd_.end()) {
            const int i = int(std::lround(key)) - 1;
            if (i >= 0 && i < sd->size()) {
                text += tr(" ± %1 (sample std)").arg((*sd)[i], 0, 'f', 4);
            }
        }
        return text;
    });

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

void TrainingChart::setSmoothing(double weight) {
    smoothing_ = std::clamp(weight, 0.0, 0.99);
    smoothLabel_->setText(QString::number(smoothing_, 'f', 2));
    if (smoothSlider_->value() != int(std::lround(smoothing_ * 100))) {
        smoothSlider_->setValue(int(std::lround(smoothing_ * 100)));
    }
    requestRefresh();
}

void TrainingChart::setGroupSeeds(bool grouped) {
    grouped_ = grouped;
    requestRefresh();
}

void TrainingChart::drawGroup(const RunGroup& g, const QString& name, const QColor& color,
                              double& maxEpoch, double& maxLoss) {
    auto curve = [&](QCPAxisRect* rect, const std::vector<MeanStd>& values, double scale,
                     bool validation, const QString& what) -> QCPGraph* {
        QVector<double> x, mean, lo, hi, sd;
        for (size_t e = 0; e < values.size(); ++e) {
            if (values[e].count == 0) {
                continue;
            }
            x << double(e + 1);
            mean << values[e].mean * scale;
            sd << values[e].std * scale;
            lo << (values[e].mean - values[e].std) * scale;
            hi << (values[e].mean + values[e].std) * scale;
            maxEpoch = std::max(maxEpoch, double(e + 1));
        }
        if (x.isEmpty()) {
            return nullptr;
        }
        QCPAxis* keyAxis = rect->axis(QCPAxis::atBottom);
        QCPAxis* valueAxis = rect->axis(QCPAxis::atLeft);
        QColor band = color;
        band.setAlpha(validation ? 40 : 28);
        QCPGraph* upper = plot_->addGraph(keyAxis, valueAxis);
        upper->setPen(Qt::NoPen);
        upper->setData(x, hi, true);
        upper->removeFromLegend();
        QCPGraph* lower = plot_->addGraph(keyAxis, valueAxis);
        lower->setPen(Qt::NoPen);
        lower->setData(x, lo, true);
        lower->setBrush(band);
        lower->setChannelFillGraph(upper);
        lower->removeFromLegend();
        QCPGraph* m = plot_->addGraph(keyAxis, valueAxis);
        QPen pen(color, validation ? 2.2 : 1.8);
        if (validation) {
            pen.setStyle(Qt::DashLine);
            m->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, color, Qt::white, 6));
        }
        m->setPen(pen);
        m->setData(x, mean, true);
        m->removeFromLegend();
        describe_[m] = {name, tr("%1, mean over seeds").arg(what)};
        groupStd_[m] = sd;
        return m;
    };
    for (const MeanStd& v : g.trainLoss) {
        if (v.count > 0 && std::isfinite(v.mean)) {
            maxLoss = std::max(maxLoss, std::min(v.mean + v.std, 10.0));
        }
    }
    QCPGraph* tl = curve(lossRect_, g.trainLoss, 1, false, tr("train loss"));
    curve(accRect_, g.trainAccuracy, 100, false, tr("train accuracy %"));
    QCPGraph* vl = curve(lossRect_, g.valLoss, 1, true, tr("validation loss"));
    curve(accRect_, g.valAccuracy, 100, true, tr("validation accuracy %"));
    QCPGraph* named = vl ? vl : tl;
    if (named) {
        named->setName(tr("%1 (mean ± std)").arg(name));
        named->addToLegend();
    }
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
    describe_.clear();
    groupStd_.clear();
    double maxEpoch = 1;
    double maxLoss = 0.1;
    // Seed groups: their mean curves with a ± std band replace their runs' own curves.
    QList<int> drawnAsGroup;
    if (grouped_) {
        for (const RunGroup& g : groupRuns(session_->runs())) {
            bool visible = visible_.isEmpty();
            for (int id : g.ids) {
                visible = visible || visible_.contains(id);
            }
            if (g.ids.size() < 2 || !visible || g.trainLoss.empty()) {
                continue;
            }
            drawnAsGroup << g.ids;
            const RunRecord* first = session_->find(g.ids.first());
            const QString name = tr("%1 · %n seeds", nullptr, int(g.ids.size())).arg(first->name);
            drawGroup(g, name, runColor(g.ids.first()), maxEpoch, maxLoss);
        }
    }
    for (const RunRecord& r : session_->runs()) {
        // The run that is training is always drawn, whatever the Compare selection.
        const bool training = r.status == "running";
        if (!visible_.isEmpty() && !visible_.contains(r.id) && !training) {
            continue;
        }
        if (drawnAsGroup.contains(r.id) && !training) {
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
        QVector<double> x, l, a;
        if (!r.liveLoss.empty()) {
            for (size_t i = 0; i < r.liveLoss.size(); ++i) {
                x << r.liveLoss[i].x();
                l << r.liveLoss[i].y();
                a << r.liveAccuracy[i].y() * 100;
                maxEpoch = std::max(maxEpoch, r.liveLoss[i].x());
                if (std::isfinite(r.liveLoss[i].y())) {
                    maxLoss = std::max(maxLoss, std::min(r.liveLoss[i].y(), 10.0));
                }
            }
        } else {
            x = ex;
            l = trainLoss;
            a = trainAcc;
        }
        if (smoothing_ > 0 && x.size() > 1) {
            // The raw train curves, faint, behind the smoothed ones.
            for (auto [rect, values, what] :
                 {std::tuple{lossRect_, &l, tr("train loss, raw")},
                  std::tuple{accRect_, &a, tr("train accuracy %, raw")}}) {
                QCPGraph* raw =
                    plot_->addGraph(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
                QColor faint = color;
                faint.setAlpha(60);
                raw->setPen(QPen(faint, 1.0));
                raw->removeFromLegend();
                raw->setData(x, *values, true);
                describe_[raw] = {r.name, what};
            }
        }
        QCPGraph* tl = addGraph(lossRect_, false);
        QCPGraph* ta = addGraph(accRect_, false);
        const bool smoothed = smoothing_ > 0 && x.size() > 1;
        tl->setData(x, smoothed ? smoothSeries(l, smoothing_) : l, true);
        ta->setData(x, smoothed ? smoothSeries(a, smoothing_) : a, true);
        describe_[tl] = {r.name, smoothed ? tr("train loss, smoothed %1").arg(smoothing_, 0, 'f', 2)
                                          : tr("train loss")};
        describe_[ta] = {r.name,
                         smoothed ? tr("train accuracy %, smoothed %1").arg(smoothing_, 0, 'f', 2)
                                  : tr("train accuracy %")};
        if (!r.history.empty() && r.history.front().valLoss >= 0) {
            QCPGraph* vl = addGraph(lossRect_, true);
            vl->setData(ex, valLoss, true);
            QCPGraph* va = addGraph(accRect_, true);
            va->setData(ex, valAcc, true);
            describe_[vl] = {r.name, tr("validation loss")};
            describe_[va] = {r.name, tr("validation accuracy %")};
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
    tools_->applyLogRanges();
    plot_->legend->setVisible(plot_->legend->itemCount() > 0);
    tools_->placeLegend();
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
