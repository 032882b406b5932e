#pragma once
// Where the cost sits: per-stage MACs (top) and parameters (bottom) of the designer's current
// model, next to those of a selected run.

#include <QString>
#include <QWidget>
#include <optional>

#include "core/models/analysis.h"

class QCustomPlot;
class QCPAxisRect;

namespace scalelab::ui {

class ChartTools;

class CostChart : public QWidget {
    Q_OBJECT
public:
    explicit CostChart(QWidget* parent = nullptr);
    QCustomPlot* plot() const { return plot_; }
    void setCurrent(const std::optional<ModelAnalysis>& current);
    void setSelected(const std::optional<ModelAnalysis>& selected, const QString& name);
    int barCount() const;
    ChartTools* tools() const { return tools_; }

private:
    void rebuild();
    QCustomPlot* plot_;
    ChartTools* tools_ = nullptr;
    QCPAxisRect* macsRect_ = nullptr;
    QCPAxisRect* paramsRect_ = nullptr;
    std::optional<ModelAnalysis> current_, selected_;
    QString selectedName_;
};

}  // namespace scalelab::ui
