#include "ui/charts/chart_tools.h"

#include <qcustomplot.h>
#include <QLocale>
#include <QMenu>
#include <QToolTip>
#include <cmath>
#include <limits>

#include "core/models/analysis.h"

namespace scalelab::ui {

QString compactCount(double value) {
    return QString::fromStdString(humanCount(value));
}

QString exactCount(qint64 value) {
    return QLocale(QLocale::English).toString(value);
}

namespace {

// Tick labels without trailing zeros: "30 M", "2.5 M", "300 k".
QString countTickLabel(double v) {
    const double a = std::abs(v);
    const auto scaled = [&](double unit, const char* suffix) {
        return QString("%1 %2").arg(QString::number(v / unit, 'g', 3), suffix);
    };
    if (a >= 1e9) {
        return scaled(1e9, "G");
    }
    if (a >= 1e6) {
        return scaled(1e6, "M");
    }
    if (a >= 1e3) {
        return scaled(1e3, "k");
    }
    return QString::number(v, 'g', 3);
}

class CountTicker : public QCPAxisTicker {
protected:
    QString getTickLabel(double tick, const QLocale&, QChar, int) override {
        return countTickLabel(tick);
    }
};

class CountLogTicker : public QCPAxisTickerLog {
protected:
    QString getTickLabel(double tick, const QLocale&, QChar, int) override {
        return countTickLabel(tick);
    }
};

QString number(double v) {
    if (v != 0 && (std::abs(v) >= 1e5 || std::abs(v) < 1e-3)) {
        return QString::number(v, 'g', 6);
    }
    return QString::number(v, 'f', std::abs(v) >= 100 ? 1 : 4);
}

// Positive values of the series on this value axis, visible key range ignored.
bool positiveRange(QCustomPlot* plot, QCPAxis* axis, double& lo, double& hi) {
    lo = std::numeric_limits<double>::infinity();
    hi = -lo;
    for (int i = 0; i < plot->plottableCount(); ++i) {
        QCPAbstractPlottable* p = plot->plottable(i);
        if (p->valueAxis() != axis || !p->visible()) {
            continue;
        }
        if (auto* g = qobject_cast<QCPGraph*>(p)) {
            for (auto it = g->data()->constBegin(); it != g->data()->constEnd(); ++it) {
                if (it->value > 0 && std::isfinite(it->value)) {
                    lo = std::min(lo, it->value);
                    hi = std::max(hi, it->value);
                }
            }
        } else if (auto* c = qobject_cast<QCPCurve*>(p)) {
            for (auto it = c->data()->constBegin(); it != c->data()->constEnd(); ++it) {
                if (it->value > 0 && std::isfinite(it->value)) {
                    lo = std::min(lo, it->value);
                    hi = std::max(hi, it->value);
                }
            }
        }
    }
    return lo <= hi;
}

}  // namespace

void useCountAxis(QCPAxis* axis, bool logarithmic) {
    axis->setScaleType(logarithmic ? QCPAxis::stLogarithmic : QCPAxis::stLinear);
    if (logarithmic) {
        axis->setTicker(QSharedPointer<QCPAxisTicker>(new CountLogTicker));
    } else {
        axis->setTicker(QSharedPointer<QCPAxisTicker>(new CountTicker));
    }
}

ChartTools::ChartTools(QCustomPlot* plot) : QObject(plot), plot_(plot) {
    plot_->setMouseTracking(true);
    plot_->setContextMenuPolicy(Qt::CustomContextMenu);
    plot_->setToolTip(QString());
    connect(plot_, &QCustomPlot::mouseMove, this, &ChartTools::onMouseMove);
    connect(plot_, &QCustomPlot::mouseDoubleClick, this, &ChartTools::onDoubleClick);
    connect(plot_, &QWidget::customContextMenuRequested, this, &ChartTools::showMenu);
}

void ChartTools::setLogY(QCPAxisRect* rect, bool logarithmic) {
    QCPAxis* y = rect->axis(QCPAxis::atLeft);
    if (logarithmic == (y->scaleType() == QCPAxis::stLogarithmic)) {
        return;
    }
    const bool counts = !y->ticker().dynamicCast<CountTicker>().isNull() ||
                        !y->ticker().dynamicCast<CountLogTicker>().isNull();
    if (counts) {
        useCountAxis(y, logarithmic);
    } else {
        y->setScaleType(logarithmic ? QCPAxis::stLogarithmic : QCPAxis::stLinear);
        y->setTicker(logarithmic ? QSharedPointer<QCPAxisTicker>(new QCPAxisTickerLog)
                                 : QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
    }
    resetZoom();
}

bool ChartTools::isLogY(QCPAxisRect* rect) const {
    return rect->axis(QCPAxis::atLeft)->scaleType() == QCPAxis::stLogarithmic;
}

void ChartTools::applyLogRanges() {
    for (QCPAxisRect* rect : plot_->axisRects()) {
        for (QCPAxis* axis : rect->axes(QCPAxis::atLeft)) {
            if (axis->scaleType() != QCPAxis::stLogarithmic) {
                continue;
            }
            double lo = 0, hi = 0;
            if (positiveRange(plot_, axis, lo, hi)) {
                axis->setRange(lo / 1.5, hi * 1.5);
            } else {
                axis->setRange(0.1, 10);
            }
        }
    }
}

void ChartTools::resetZoom() {
    if (reset_) {
        reset_();
    } else {
        plot_->rescaleAxes(true);
    }
    applyLogRanges();
    placeLegend();
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

int ChartTools::placeLegend() {
    int stillCovered = 0;
    const int margin = 8;  // QCPLayoutInset's default margin around aligned elements
    const Qt::Alignment corners[] = {Qt::AlignTop | Qt::AlignRight, Qt::AlignTop | Qt::AlignLeft,
                                     Qt::AlignBottom | Qt::AlignRight,
                                     Qt::AlignBottom | Qt::AlignLeft};
    for (QCPAxisRect* rect : plot_->axisRects()) {
        QCPLayoutInset* inset = rect->insetLayout();
        const QRect area = rect->rect();
        if (area.isEmpty()) {
            continue;
        }
        for (int index = 0; index < inset->elementCount(); ++index) {
            auto* legend = qobject_cast<QCPLegend*>(inset->elementAt(index));
            if (!legend || !legend->visible() || legend->itemCount() == 0) {
                continue;
            }
            const QSize size = legend->minimumOuterSizeHint();
            int bestCount = std::numeric_limits<int>::max();
            Qt::Alignment best = corners[0];
            for (Qt::Alignment corner : corners) {
                const int x = corner & Qt::AlignLeft ? area.left() + margin
                                                     : area.right() - margin - size.width();
                const int y = corner & Qt::AlignTop ? area.top() + margin
                                                    : area.bottom() - margin - size.height();
                const QRect box(x, y, size.width(), size.height());
                int covered = 0;
                for (int i = 0; i < plot_->plottableCount(); ++i) {
                    auto* g = qobject_cast<QCPGraph*>(plot_->plottable(i));
                    if (!g || !g->visible() || g->keyAxis()->axisRect() != rect) {
                        continue;
                    }
                    for (auto it = g->data()->constBegin(); it != g->data()->constEnd(); ++it) {
                        covered += box.contains(g->coordsToPixels(it->key, it->value).toPoint());
                    }
                }
                if (covered < bestCount) {
                    bestCount = covered;
                    best = corner;
                }
            }
            inset->setInsetAlignment(index, best);
            stillCovered += bestCount;
        }
    }
    return stillCovered;
}

QString ChartTools::tooltipAt(const QPointF& pixel) const {
    double bestDistance = 10;  // px
    const QCPAbstractPlottable* bestSeries = nullptr;
    double bestKey = 0, bestValue = 0;
    for (int i = 0; i < plot_->plottableCount(); ++i) {
        QCPAbstractPlottable* p = plot_->plottable(i);
        // Points on the frame (a curve's last epoch at the right edge) count too.
        const QRect area = p->keyAxis()->axisRect()->rect().adjusted(-10, -10, 10, 10);
        if (!p->visible() || !area.contains(pixel.toPoint())) {
            continue;
        }
        auto consider = [&](double key, double value) {
            if (!std::isfinite(key) || !std::isfinite(value)) {
                return;
            }
            const QPointF px = p->coordsToPixels(key, value);
            const double d = std::hypot(px.x() - pixel.x(), px.y() - pixel.y());
            if (d < bestDistance) {
                bestDistance = d;
                bestSeries = p;
                bestKey = key;
                bestValue = value;
            }
        };
        if (auto* g = qobject_cast<QCPGraph*>(p)) {
            for (auto it = g->data()->constBegin(); it != g->data()->constEnd(); ++it) {
                consider(it->key, it->value);
            }
        } else if (auto* c = qobject_cast<QCPCurve*>(p)) {
            for (auto it = c->data()->constBegin(); it != c->data()->constEnd(); ++it) {
                consider(it->key, it->value);
            }
        } else if (auto* b = qobject_cast<QCPBars*>(p)) {
            // A bar is hit anywhere inside it (grouped bars sit beside their key).
            QVariant details;
            const double d = b->selectTest(pixel, false, &details);
            const QCPDataSelection hit = details.value<QCPDataSelection>();
            if (d >= 0 && d < bestDistance && !hit.isEmpty()) {
                const auto it = b->data()->at(hit.dataRange().begin());
                bestDistance = d;
                bestSeries = p;
                bestKey = it->key;
                bestValue = it->value;
            }
        }
    }
    if (!bestSeries) {
        return {};
    }
    if (formatter_) {
        return formatter_(bestSeries, bestKey, bestValue);
    }
    const QString xLabel = bestSeries->keyAxis()->label();
    const QString yLabel = bestSeries->valueAxis()->label();
    return QString("%1\n%2: %3\n%4: %5")
        .arg(bestSeries->name(), xLabel.isEmpty() ? QString("x") : xLabel, number(bestKey),
             yLabel.isEmpty() ? QString("y") : yLabel, number(bestValue));
}

void ChartTools::onMouseMove(QMouseEvent* event) {
    const QString text = tooltipAt(event->position());
    if (text.isEmpty()) {
        QToolTip::hideText();
    } else {
        QToolTip::showText(event->globalPosition().toPoint(), text, plot_);
    }
}

void ChartTools::onDoubleClick(QMouseEvent*) {
    resetZoom();
}

void ChartTools::showMenu(const QPoint& pos) {
    QMenu menu(plot_);
    const QList<QCPAxisRect*> rects = plot_->axisRects();
    for (QCPAxisRect* rect : logMenu_ ? rects : QList<QCPAxisRect*>{}) {
        QCPAxis* y = rect->axis(QCPAxis::atLeft);
        const QString what = y->label().isEmpty() ? tr("y axis") : y->label();
        QAction* a = menu.addAction(tr("Logarithmic: %1").arg(what));
        a->setCheckable(true);
        a->setChecked(isLogY(rect));
        connect(a, &QAction::toggled, this, [this, rect](bool on) { setLogY(rect, on); });
    }
    menu.addSeparator();
    menu.addAction(tr("Reset zoom (double-click)"), this, &ChartTools::resetZoom);
    menu.exec(plot_->mapToGlobal(pos));
}

}  // namespace scalelab::ui
