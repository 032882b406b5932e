#pragma once
// Saving a chart as PNG, SVG or PDF, chosen by the file's suffix. Failures come back as text for
// the caller to show -- never silently dropped.

#include <QString>

class QCustomPlot;

namespace scalelab::ui {

// Writes `plot` to `path` (.png, .svg or .pdf) at its current size (at least 800 x 500 px).
// Returns "" on success, else a message naming the file and the problem.
QString exportPlot(QCustomPlot* plot, const QString& path);

// The file-dialog filter for exportPlot.
QString plotExportFilter();

}  // namespace scalelab::ui
