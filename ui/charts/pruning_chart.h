#pragma once
// What pruning does: test accuracy against sparsity (left) and against MACs on a log axis
// (right), one colour per method, solid right after pruning and dashed after fine-tuning; and
// the per-stage sensitivity (accuracy when one stage alone is pruned) when it was measured, with
// its own legend of stages.

#include <QWidget>
#include <vector>

#include "core/prune/prune_api.h"

#include <QHash>
#include <QString>

class QCustomPlot;
class QCPAxisRect;
class QCPLegend;
class QCPAbstractPlottable;

namespace scalelab::ui {

class ChartTools;

class PruningChart : public QWidget {
    Q_OBJECT
public:
    explicit PruningChart(QWidget* parent = nullptr);
    QCustomPlot* plot() const { return plot_; }
    // Redraws from these rows (baseline = the unpruned model's accuracy, a reference line).
    void setRows(const std::vector<PruneRow>& rows, double baselineAccuracy);
    int pointCount() const;
    // The stages listed in the sensitivity legend, in order (tests).
    QStringList stageLegendNames() const;
    ChartTools* tools() const { return tools_; }

private:
    QCustomPlot* plot_;
    QCPAxisRect* sparsityRect_;
    QCPAxisRect* macsRect_;
    QCPAxisRect* stageRect_;
    QCPLegend* stageLegend_;
    ChartTools* tools_;
    QHash<const QCPAbstractPlottable*, QString> describe_;  // hover text's first line
    std::vector<PruneRow> rows_;                            // what is drawn (Reset zoom redraws it)
    double baseline_ = -1;
};

}  // namespace scalelab::ui
