#pragma once
// A grid of one stage's channel activations, each map normalized to [0, 1] and drawn with the
// viridis colour map (nearest-neighbour, so single cells stay visible), with a colour bar.

#include <QImage>
#include <QWidget>
#include <vector>

#include "core/inspect/features.h"

namespace scalelab::ui {

class FeatureGrid : public QWidget {
    Q_OBJECT
public:
    explicit FeatureGrid(QWidget* parent = nullptr);
    void setResult(const FeatureResult& result);
    int channelCount() const { return int(channels_.size()); }
    // The grid as an image (what Export saves): tiles of at least minTile px, the colour bar
    // when withBar, and the title above them when withTitle.
    QImage render(int minTile = 48, bool withTitle = true, bool withBar = true) const;
    // Width of the colour bar with its labels, px at this widget's font.
    int colourBarWidth() const;

protected:
    void paintEvent(QPaintEvent* event) override;

private:
    std::vector<ChannelMap> channels_;
    int mapW_ = 0, mapH_ = 0;
    QString title_;
};

// An owned RGB QImage of HWC bytes (gray or RGB), scaled up by `scale` with nearest neighbours.
QImage pixelsToImage(const std::vector<uint8_t>& pixels, int width, int height, int channels,
                     int scale);

}  // namespace scalelab::ui
