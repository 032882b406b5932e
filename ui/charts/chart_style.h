#pragma once
// Shared look of ScaleLab's charts: run colours, titles, fonts.

#include <QColor>
#include <QString>

class QCustomPlot;
class QCPAxisRect;

namespace scalelab::ui {

// A distinct, stable colour per run id.
QColor runColor(int runId);
// Adds (or replaces) a title row above the plot's axis rects.
void setPlotTitle(QCustomPlot* plot, const QString& title);
// Base style: white background, antialiasing, legend font.
void stylePlot(QCustomPlot* plot);

}  // namespace scalelab::ui
