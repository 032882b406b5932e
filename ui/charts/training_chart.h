#pragma once
// Live training curves: loss (top) and accuracy (bottom) per epoch, one colour per run, train
// solid, validation dashed with markers. A smoothing slider (exponential moving average,
// debiased as TensorBoard does) smooths the train curves, the raw curve faint behind; hover,
// log axes, zoom reset and legend placement come from ChartTools. The session never replots: it
// signals, and this chart arms one 40 ms timer, then rebuilds its curves and replots once.

#include <QColor>
#include <QHash>
#include <QList>
#include <QPair>
#include <QTimer>
#include <QVector>
#include <QWidget>

class QCustomPlot;
class QCPAxisRect;
class QCPAbstractPlottable;
class QLabel;
class QSlider;

namespace scalelab::ui {

class ChartTools;
class Session;
struct RunGroup;

// TensorBoard's smoothing: an exponential moving average with weight w, divided by 1 - w^n so
// the first points are not pulled towards 0.
QVector<double> smoothSeries(const QVector<double>& values, double weight);

class TrainingChart : public QWidget {
    Q_OBJECT
public:
    explicit TrainingChart(Session* session, QWidget* parent = nullptr);
    QCustomPlot* plot() const { return plot_; }

    // Runs to overlay; empty = every run of the session. The run that is training is drawn in
    // any case (thicker, "(training)" in the legend).
    void setVisibleRuns(const QList<int>& ids);
    // Number of data points currently plotted (tests).
    int pointCount() const;
    // Rebuilds now instead of after the throttle.
    void refreshNow();
    // Smoothing weight in [0, 0.99] (0 = raw).
    void setSmoothing(double weight);
    double smoothing() const { return smoothing_; }
    ChartTools* tools() const { return tools_; }
    // Seed groups (ui/run_groups.h) as their mean curves with a ± std band.
    void setGroupSeeds(bool grouped);
    QCPAxisRect* lossRect() const { return lossRect_; }
    QCPAxisRect* accuracyRect() const { return accRect_; }

public Q_SLOTS:
    void requestRefresh();

private:
    Session* session_;
    QCustomPlot* plot_;
    QCPAxisRect* lossRect_;
    QCPAxisRect* accRect_;
    QList<int> visible_;
    QTimer throttle_;
    ChartTools* tools_;
    QSlider* smoothSlider_;
    QLabel* smoothLabel_;
    double smoothing_ = 0.6;
    // Hover text of each series: run name and what the curve is.
    QHash<const QCPAbstractPlottable*, QPair<QString, QString>> describe_;
    QHash<const QCPAbstractPlottable*, QVector<double>> groupStd_;  // a mean curve's std per epoch
    bool grouped_ = false;
    void drawGroup(const RunGroup& g, const QString& name, const QColor& color, double& maxEpoch,
                   double& maxLoss);
};

}  // namespace scalelab::ui
