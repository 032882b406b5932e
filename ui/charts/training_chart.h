#pragma once
// Live training curves: loss (top) and accuracy (bottom) per epoch, one colour per run, train
// solid, validation dashed with markers. The session never replots: it signals, and this chart
// arms one 40 ms timer, then rebuilds its curves and replots once.

#include <QList>
#include <QTimer>
#include <QWidget>

class QCustomPlot;
class QCPAxisRect;

namespace scalelab::ui {

class Session;

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

public Q_SLOTS:
    void requestRefresh();

private:
    Session* session_;
    QCustomPlot* plot_;
    QCPAxisRect* lossRect_;
    QCPAxisRect* accRect_;
    QList<int> visible_;
    QTimer throttle_;
};

}  // namespace scalelab::ui
