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

namespace {

// The viridis colour bar in `bar`, its ends labelled right of it as text at the painter's own
// resolution (never a scaled bitmap).
void drawColourBar(QPainter& p, const QRect& bar) {
    for (int y = 0; y < bar.height(); ++y) {
        uint8_t c[3];
        viridis(1.0 - double(y) / double(std::max(1, bar.height() - 1)), c);
        p.fillRect(bar.x(), bar.y() + y, bar.width(), 1, QColor(c[0], c[1], c[2]));
    }
    p.setPen(Qt::black);
    const QFontMetrics fm = p.fontMetrics();
    p.drawText(bar.right() + 4, bar.top() + fm.ascent(), QObject::tr("1 (map max)"));
    p.drawText(bar.right() + 4, bar.bottom(), QObject::tr("0 (min)"));
}

}  // namespace

int FeatureGrid::colourBarWidth() const {
    return 18 + 6 + fontMetrics().horizontalAdvance(tr("1 (map max)")) + 6;
}

QImage FeatureGrid::render(int minTile, bool withTitle, bool withBar) const {
    const int n = int(channels_.size());
    if (n == 0 || mapW_ <= 0) {
        return {};
    }
    const int cols = std::max(1, int(std::ceil(std::sqrt(double(n)))));
    const int rows = (n + cols - 1) / cols;
    const int scale = std::max(1, int(std::ceil(double(minTile) / double(mapH_))));
    const int tw = mapW_ * scale, th = mapH_ * scale, gap = 2;
    const int titleH = withTitle ? 22 : 0;
    const int gridW = cols * (tw + gap) + gap + (withBar ? colourBarWidth() : 0);
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
    if (withBar) {
        const int top = titleH + gap;
        drawColourBar(p, QRect(cols * (tw + gap) + gap + 6, top, 18, img.height() - top - gap));
    }
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
    // The title at the widget's own font size; the grid scaled into the rest; the colour bar
    // and its labels drawn at the widget's resolution beside it.
    const int titleH = fontMetrics().height() + 6;
    p.setPen(palette().color(QPalette::WindowText));
    p.drawText(QRect(4, 0, width() - 8, titleH), Qt::AlignVCenter | Qt::AlignLeft, title_);
    const QImage img = render(24, false, false);
    const QImage fitted =
        img.scaled(QSize(std::max(1, width() - colourBarWidth()), std::max(1, height() - titleH)),
                   Qt::KeepAspectRatio, Qt::FastTransformation);
    p.drawImage(0, titleH, fitted);
    drawColourBar(p, QRect(fitted.width() + 6, titleH + 2, 18, std::max(20, fitted.height() - 4)));
}

}  // namespace scalelab::ui
