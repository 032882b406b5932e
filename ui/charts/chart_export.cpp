#include "ui/charts/chart_export.h"

#include <qcustomplot.h>
#include <QFileInfo>
#include <QSvgGenerator>

#include <algorithm>

namespace scalelab::ui {

QString plotExportFilter() {
    return QObject::tr("PNG image (*.png);;SVG drawing (*.svg);;PDF document (*.pdf)");
}

QString exportPlot(QCustomPlot* plot, const QString& path) {
    if (!plot) {
        return QObject::tr("No chart to export");
    }
    const int w = std::max(plot->width(), 800);
    const int h = std::max(plot->height(), 500);
    const QString suffix = QFileInfo(path).suffix().toLower();
    bool ok = false;
    if (suffix == "png") {
        ok = plot->savePng(path, w, h, 2.0);
    } else if (suffix == "pdf") {
        ok = plot->savePdf(path, w, h);
    } else if (suffix == "svg") {
        QSvgGenerator svg;
        svg.setFileName(path);
        svg.setSize(QSize(w, h));
        svg.setViewBox(QRect(0, 0, w, h));
        svg.setTitle(QFileInfo(path).completeBaseName());
        QCPPainter painter;
        if (painter.begin(&svg)) {
            plot->toPainter(&painter, w, h);
            ok = painter.end();
        }
    } else {
        return QObject::tr("%1: unknown format '%2' (use .png, .svg or .pdf)").arg(path, suffix);
    }
    if (!ok || QFileInfo(path).size() == 0) {
        return QObject::tr("%1: could not be written (check the folder exists and is writable)")
            .arg(path);
    }
    return {};
}

}  // namespace scalelab::ui
