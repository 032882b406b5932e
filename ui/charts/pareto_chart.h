#pragma once
// Accuracy against cost: one point per tested run (test accuracy), MACs on a log axis, and the
// Pareto frontier -- the runs no cheaper run beats. Runs without a test result (cancelled,
// interrupted, no test images) are drawn apart as hollow points of their best validation
// accuracy and never enter the frontier: the two are not the same measurement.

#include <QList>
#include <QString>
#include <QTimer>
#include <QWidget>

class QCustomPlot;
class QCPGraph;
class QCPErrorBars;

namespace scalelab::ui {

class ChartTools;
class Session;

class ParetoChart : public QWidget {
    Q_OBJECT
public:
    explicit ParetoChart(Session* session, QWidget* parent = nullptr);
    QCustomPlot* plot() const { return plot_; }
    int pointCount() const;     // tested runs plotted
    int untestedCount() const;  // runs plotted by validation accuracy (hollow)
    int frontierCount() const;
    ChartTools* tools() const { return tools_; }
    // Seed groups (ui/run_groups.h) as one point at the mean with a ± std error bar.
    void setGroupSeeds(bool grouped);
    int errorBarCount() const;  // tested points carrying an error bar (tests)
    void refreshNow();

public Q_SLOTS:
    void requestRefresh();

private:
    Session* session_;
    QCustomPlot* plot_;
    QTimer throttle_;
    ChartTools* tools_;
    QCPGraph* tested_ = nullptr;
    QCPGraph* untested_ = nullptr;
    QCPGraph* frontier_ = nullptr;
    QList<QString> testedNames_, untestedNames_;  // per point, in key order
    QList<double> testedStd_;                     // seed groups: std per tested point
    QCPErrorBars* errorBars_ = nullptr;
    bool grouped_ = false;
};

}  // namespace scalelab::ui
