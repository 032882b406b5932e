#include "ui/sample_grid.h"

#include <QPainter>

#include <algorithm>

namespace scalelab::ui {

namespace {
constexpr int kCell = 36;  // px per sample image
constexpr int kGap = 3;    // px between cells
}  // namespace

SampleGrid::SampleGrid(QWidget* parent) : QWidget(parent) {
    setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Preferred);
}

void SampleGrid::setSamples(const std::vector<QImage>& images, const std::vector<int>& labels,
                            const QStringList& classNames) {
    images_ = images;
    labels_ = labels;
    classNames_ = classNames;
    updateGeometry();
    update();
}

void SampleGrid::clear() {
    images_.clear();
    labels_.clear();
    classNames_.clear();
    updateGeometry();
    update();
}

int SampleGrid::columns() const {
    std::vector<int> perClass(size_t(classNames_.size()), 0);
    int most = 0;
    for (int label : labels_) {
        if (label >= 0 && label < classNames_.size()) {
            most = std::max(most, ++perClass[size_t(label)]);
        }
    }
    return most;
}

int SampleGrid::labelWidth() const {
    int w = 0;
    for (const QString& name : classNames_) {
        w = std::max(w, fontMetrics().horizontalAdvance(name));
    }
    return w + 8;
}

QSize SampleGrid::sizeHint() const {
    return {labelWidth() + columns() * (kCell + kGap), int(classNames_.size()) * (kCell + kGap)};
}

QSize SampleGrid::minimumSizeHint() const {
    return sizeHint();
}

void SampleGrid::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.fillRect(rect(), palette().window());
    if (images_.empty()) {
        p.setPen(palette().color(QPalette::PlaceholderText));
        p.drawText(rect(), Qt::AlignCenter, tr("No samples"));
        return;
    }
    const int lw = labelWidth();
    std::vector<int> col(size_t(classNames_.size()), 0);
    p.setRenderHint(QPainter::SmoothPixmapTransform, false);
    for (int row = 0; row < classNames_.size(); ++row) {
        const QRect labelRect(0, row * (kCell + kGap), lw - 6, kCell);
        p.setPen(palette().color(QPalette::WindowText));
        p.drawText(labelRect, Qt::AlignRight | Qt::AlignVCenter, classNames_[row]);
    }
    for (size_t i = 0; i < images_.size(); ++i) {
        const int label = labels_[i];
        if (label < 0 || label >= classNames_.size()) {
            continue;
        }
        const int c = col[size_t(label)]++;
        const QRect cell(lw + c * (kCell + kGap), label * (kCell + kGap), kCell, kCell);
        p.drawImage(cell, images_[i]);
    }
}

}  // namespace scalelab::ui
