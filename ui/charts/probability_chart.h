#pragma once
// Class probabilities of one prediction as horizontal bars, the predicted class highlighted.

#include <QStringList>
#include <QWidget>
#include <vector>

class QCustomPlot;

namespace scalelab::ui {

class ChartTools;

class ProbabilityChart : public QWidget {
    Q_OBJECT
public:
    explicit ProbabilityChart(QWidget* parent = nullptr);
    QCustomPlot* plot() const { return plot_; }
    void setProbabilities(const std::vector<double>& probabilities, const QStringList& classes,
                          int predicted, int trueLabel);

private:
    QCustomPlot* plot_;
    ChartTools* tools_ = nullptr;
    QStringList classes_;  // the bars' class names (hover text)
};

}  // namespace scalelab::ui
