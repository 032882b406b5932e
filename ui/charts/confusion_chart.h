#pragma once
// A run's test confusion matrix as a heat map (rows: true class, coloured by % of the class,
// each cell showing its image count) and its per-class accuracy as bars.

#include <QWidget>

#include "core/train/train_api.h"

class QCustomPlot;
class QCPColorMap;
class QCPColorScale;
class QCPAxisRect;

namespace scalelab::ui {

class ConfusionChart : public QWidget {
    Q_OBJECT
public:
    explicit ConfusionChart(QWidget* parent = nullptr);
    QCustomPlot* plot() const { return plot_; }
    // Shows `result` of the run `name`; an empty result (count 0) shows a hint instead.
    void setResult(const EvalResult& result, const QString& name);
    int classCount() const { return classes_; }
    int countLabels() const { return counts_; }  // cells showing their count (tests)

private:
    QCustomPlot* plot_;
    QCPColorMap* map_ = nullptr;
    QCPColorScale* scale_ = nullptr;
    QCPAxisRect* heatRect_ = nullptr;
    QCPAxisRect* barRect_ = nullptr;
    int classes_ = 0;
    int counts_ = 0;
};

}  // namespace scalelab::ui
