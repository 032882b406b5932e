#pragma once
// MACs against phi for width-only (w = beta^phi), depth-only (d = alpha^phi),
// resolution-only (r = gamma^phi) and compound scaling of the designer's unscaled model, of any
// family, computed by the analysis (no training), with the compound prediction
// (alpha beta^2 gamma^2)^phi.

#include <QWidget>

#include "core/models/model_spec.h"

class QCustomPlot;

namespace scalelab::ui {

class ScalingChart : public QWidget {
    Q_OBJECT
public:
    explicit ScalingChart(QWidget* parent = nullptr);
    QCustomPlot* plot() const { return plot_; }
    // Recomputes the curves for this unscaled model and the scaling's alpha, beta, gamma, and
    // marks phi (< 0: no mark).
    void setBase(const ModelSpec& base, const Scaling& scaling, double markPhi);
    int curveCount() const;

private:
    QCustomPlot* plot_;
};

}  // namespace scalelab::ui
