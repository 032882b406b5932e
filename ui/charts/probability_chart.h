#pragma once
// Class probabilities of one prediction as horizontal bars, the predicted class highlighted.

#include <QStringList>
#include <QWidget>
#include <vector>

class QCustomPlot;

namespace scalelab::ui {

class ProbabilityChart : public QWidget {
    Q_OBJECT
public:
    explicit ProbabilityChart(QWidget* parent = nullptr);
    QCustomPlot* plot() const { return plot_; }
    void setProbabilities(const std::vector<double>& probabilities, const QStringList& classes,
                          int predicted, int trueLabel);

private:
    QCustomPlot* plot_;
};

}  // namespace scalelab::ui
