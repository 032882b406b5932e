#pragma once
// Accuracy against cost: one point per finished run (test accuracy, or best validation accuracy
// when a run has no test result), MACs on a log axis, and the Pareto frontier -- the runs no
// cheaper run beats.

#include <QTimer>
#include <QWidget>

class QCustomPlot;

namespace scalelab::ui {

class Session;

class ParetoChart : public QWidget {
    Q_OBJECT
public:
    explicit ParetoChart(Session* session, QWidget* parent = nullptr);
    QCustomPlot* plot() const { return plot_; }
    int pointCount() const;
    int frontierCount() const;
    void refreshNow();

public Q_SLOTS:
    void requestRefresh();

private:
    Session* session_;
    QCustomPlot* plot_;
    QTimer throttle_;
};

}  // namespace scalelab::ui
