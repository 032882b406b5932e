#include "ui/charts/chart_style.h"

#include <qcustomplot.h>

namespace scalelab::ui {

QColor runColor(int runId) {
    static const QColor palette[] = {
        QColor(31, 119, 180),  QColor(255, 127, 14), QColor(44, 160, 44),   QColor(214, 39, 40),
        QColor(148, 103, 189), QColor(140, 86, 75),  QColor(227, 119, 194), QColor(127, 127, 127),
        QColor(188, 189, 34),  QColor(23, 190, 207)};
    return palette[(runId > 0 ? runId - 1 : 0) % 10];
}

void setPlotTitle(QCustomPlot* plot, const QString& title) {
    QCPLayoutGrid* grid = plot->plotLayout();
    if (auto* existing = qobject_cast<QCPTextElement*>(grid->element(0, 0))) {
        existing->setText(title);
        return;
    }
    grid->insertRow(0);
    auto* t = new QCPTextElement(plot, title, QFont(plot->font().family(), 11, QFont::Bold));
    grid->addElement(0, 0, t);
}

void stylePlot(QCustomPlot* plot) {
    plot->setBackground(Qt::white);
    plot->setAntialiasedElements(QCP::aeAll);
    plot->setNotAntialiasedElements(QCP::aeAxes | QCP::aeGrid);
    QFont f = plot->font();
    f.setPointSize(9);
    plot->legend->setFont(f);
    plot->legend->setBrush(QColor(255, 255, 255, 220));
}

}  // namespace scalelab::ui
