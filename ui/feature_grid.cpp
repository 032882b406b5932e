#include "ui/feature_grid.h"

#include <QPainter>
#include <cmath>

namespace scalelab::ui {

namespace {

QImage mapImage(const ChannelMap& m, int w, int h) {
    QImage img(w, h, QImage::Format_RGB888);
    for (int y = 0; y < h; ++y) {
        uchar* line = img.scanLine(y);
        for (int x = 0; x < w; ++x) {
            uint8_t c[3];
            viridis(m.values[size_t(y * w + x)], c);
            line[x * 3] = c[0];
            line[x * 3 + 1] = c[1];
            line[x * 3 + 2] = c[2];
        }
    }
    return img;
}

}  // namespace

QImage pixelsToImage(const std::vector<uint8_t>& pixels, int width, int height, int channels,
                     int scale) {
    if (width <= 0 || height <= 0 || pixels.size() != size_t(width * height * channels)) {
        return {};
    }
    const QImage view(pixels.data(), width, height, width * channels,
                      channels == 1 ? QImage::Format_Grayscale8 : QImage::Format_RGB888);
    return view.scaled(width * scale, height * scale, Qt::IgnoreAspectRatio, Qt::FastTransformation)
        .convertToFormat(QImage::Format_RGB888);  // a copy: owns its pixels
}

FeatureGrid::FeatureGrid(QWidget* parent) : QWidget(parent) {
    setMinimumSize(300, 240);
}

void FeatureGrid::setResult(const FeatureResult& r) {
    channels_ = r.channels;
    mapW_ = int(r.mapWidth);
    mapH_ = int(r.mapHeight);
    title_ = tr("%1: %2 of %3 channels, %4×%5 each (each map scaled to its own range)")
                 .arg(QString::fromStdString(r.stageName))
                 .arg(r.channels.size())
                 .arg(r.stageChannels)
                 .arg(r.mapWidth)
                 .arg(r.mapHeight);
    update();
}

QImage FeatureGrid::render(int minTile, bool withTitle) const {
    const int n = int(channels_.size());
    if (n == 0 || mapW_ <= 0) {
        return {};
    }
    const int cols = std::max(1, int(std::ceil(std::sqrt(double(n)))));
    const int rows = (n + cols - 1) / cols;
    const int scale = std::max(1, int(std::ceil(double(minTile) / double(mapH_))));
    const int tw = mapW_ * scale, th = mapH_ * scale, gap = 2, bar = 18;
    const int titleH = withTitle ? 22 : 0;
    const int gridW = cols * (tw + gap) + gap + bar + 40;
    const int titleW = withTitle ? fontMetrics().horizontalAdvance(title_) + 8 : 0;
    QImage img(std::max(gridW, titleW), rows * (th + gap) + gap + titleH, QImage::Format_RGB888);
    img.fill(Qt::white);
    QPainter p(&img);
    p.setFont(font());
    p.setRenderHint(QPainter::SmoothPixmapTransform, false);
    if (withTitle) {
        p.drawText(QRect(4, 0, img.width() - 8, titleH), Qt::AlignVCenter | Qt::AlignLeft, title_);
    }
    for (int i = 0; i < n; ++i) {
        const QRect cell(gap + (i % cols) * (tw + gap), titleH + gap + (i / cols) * (th + gap), tw,
                         th);
        p.drawImage(cell, mapImage(channels_[size_t(i)], mapW_, mapH_));
    }
    const int bx = cols * (tw + gap) + gap + 6;
    const int top = titleH + gap, height = img.height() - top - gap;
    for (int y = 0; y < height; ++y) {
        uint8_t c[3];
        viridis(1.0 - double(y) / double(std::max(1, height - 1)), c);
        p.fillRect(bx, top + y, bar, 1, QColor(c[0], c[1], c[2]));
    }
    p.setPen(Qt::black);
    p.drawText(bx + bar + 3, top + 10, "1");
    p.drawText(bx + bar + 3, top + height, "0");
    return img;
}

void FeatureGrid::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.fillRect(rect(), Qt::white);
    if (channels_.empty()) {
        p.setPen(palette().color(QPalette::PlaceholderText));
        p.drawText(rect(), Qt::AlignCenter, tr("Pick a run and an image"));
        return;
    }
    // The title at the widget's own font size; the grid scaled into the rest.
    const int titleH = fontMetrics().height() + 6;
    p.setPen(palette().color(QPalette::WindowText));
    p.drawText(QRect(4, 0, width() - 8, titleH), Qt::AlignVCenter | Qt::AlignLeft, title_);
    const QImage img = render(24, false);
    const QImage fitted =
        img.scaled(QSize(width(), height() - titleH), Qt::KeepAspectRatio, Qt::FastTransformation);
    p.drawImage(0, titleH, fitted);
}

}  // namespace scalelab::ui
