#pragma once
// MACs against phi for width-only (w = beta^phi), depth-only (d = alpha^phi),
// resolution-only (r = gamma^phi) and compound scaling of the designer's unscaled model, of any
// family, computed by the analysis (no training), with the compound prediction
// (alpha beta^2 gamma^2)^phi. Every curve takes the scaling's resolution multiple. Hovering over
// the exact compound curve shows, at that phi, the predicted and exact growth and why they
// differ (core/models/scaling_gap.h).

#include <QWidget>

#include "core/models/model_spec.h"
#include "core/models/scaling_gap.h"

class QCPGraph;
class QCustomPlot;

namespace scalelab::ui {

class ChartTools;

// "gap ×2.08 = channels ×0.97 · repeats ×1.18 · map size ×1.91 · structure ×0.95": the split of
// exact / predicted, for the designer's readout and the chart's tooltip.
QString gapText(const ScalingGap& gap);

class ScalingChart : public QWidget {
    Q_OBJECT
public:
    explicit ScalingChart(QWidget* parent = nullptr);
    QCustomPlot* plot() const { return plot_; }
    // Recomputes the curves for this unscaled model and the scaling's alpha, beta, gamma, and
    // marks phi (< 0: no mark).
    void setBase(const ModelSpec& base, const Scaling& scaling, double markPhi);
    int curveCount() const;
    // The hover text of the exact compound curve at phi: predicted and exact growth and the
    // gap's split; empty when that point is impossible.
    QString tooltipText(double phi) const;

    ChartTools* tools() const { return tools_; }

private:
    QCustomPlot* plot_;
    ChartTools* tools_ = nullptr;
    QCPGraph* compound_ = nullptr;  // the exact compound curve (hover target)
    ModelSpec base_;
    Scaling scaling_;
};

}  // namespace scalelab::ui
