#pragma once
// What every chart offers the same way: hover tooltips with the exact values and the series'
// name; a right-click menu with a log/linear switch for each y axis, Reset zoom and the legend's
// corner; double-click resets the zoom; the legend is placed in the corner of its axis rect
// where it hides the fewest data points. One instance per QCustomPlot, owned by it.
//
// Numbers: counts (params, MACs) as k/M/G everywhere (compactCount), exact in tooltips
// (exactCount); count axes get a ticker that writes them the same way.

#include <QObject>
#include <QPointF>
#include <QString>
#include <functional>

class QCustomPlot;
class QCPAxis;
class QCPAxisRect;
class QCPAbstractPlottable;
class QMouseEvent;

namespace scalelab::ui {

// "5.29 M", "385.8 M", "1.81 G", "950" (the core's humanCount).
QString compactCount(double value);
// "5,288,548" (the locale's grouping).
QString exactCount(qint64 value);
// Ticks written as compactCount ("30 M" rather than 3·10⁷); log or linear.
void useCountAxis(QCPAxis* axis, bool logarithmic);

class ChartTools : public QObject {
    Q_OBJECT
public:
    // The tooltip of a point: series (its name), key and value. Return "" for none.
    using Formatter =
        std::function<QString(const QCPAbstractPlottable* series, double key, double value)>;

    explicit ChartTools(QCustomPlot* plot);

    // What double-click and Reset zoom do (the chart's own full view); default: fit every
    // visible series.
    void setResetZoom(std::function<void()> reset) { reset_ = std::move(reset); }
    // How a hovered point is described; default "name\nx: key\ny: value" with the axis labels.
    void setFormatter(Formatter f) { formatter_ = std::move(f); }

    // Whether the right-click menu offers log/linear (off for a chart whose left axis lists
    // categories).
    void setLogMenu(bool offered) { logMenu_ = offered; }

    // Log or linear left axis of `rect`. Log keeps only positive values in view.
    void setLogY(QCPAxisRect* rect, bool logarithmic);
    bool isLogY(QCPAxisRect* rect) const;
    // Call after the chart set its ranges: fits log y axes to their positive data (x axes are
    // the chart's own).
    void applyLogRanges();

    // Moves each legend to the corner of its axis rect that covers the fewest points (call
    // after the data changed; the chart replots). Returns how many points they still cover.
    int placeLegend();

    // The tooltip for a pixel position ("" when no point is within 10 px): tests and hover.
    QString tooltipAt(const QPointF& pixel) const;
    void resetZoom();

private:
    void onMouseMove(QMouseEvent* event);
    void onDoubleClick(QMouseEvent* event);
    void showMenu(const QPoint& pos);

    QCustomPlot* plot_;
    Formatter formatter_;
    std::function<void()> reset_;
    bool logMenu_ = true;
};

}  // namespace scalelab::ui
