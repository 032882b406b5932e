#pragma once
// What pruning does: test accuracy against sparsity (left) and against MACs on a log axis
// (right), one colour per method, solid right after pruning and dashed after fine-tuning; and
// the per-stage sensitivity (accuracy when one stage alone is pruned) when it was measured.

#include <QWidget>
#include <vector>

#include "core/prune/prune_api.h"

class QCustomPlot;
class QCPAxisRect;

namespace scalelab::ui {

class PruningChart : public QWidget {
    Q_OBJECT
public:
    explicit PruningChart(QWidget* parent = nullptr);
    QCustomPlot* plot() const { return plot_; }
    // Redraws from these rows (baseline = the unpruned model's accuracy, a reference line).
    void setRows(const std::vector<PruneRow>& rows, double baselineAccuracy);
    int pointCount() const;

private:
    QCustomPlot* plot_;
    QCPAxisRect* sparsityRect_;
    QCPAxisRect* macsRect_;
    QCPAxisRect* stageRect_;
};

}  // namespace scalelab::ui
