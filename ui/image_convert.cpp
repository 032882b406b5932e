#include "ui/image_convert.h"

namespace scalelab::ui {

QImage toQImage(const SampleImage& s) {
    if (s.width <= 0 || s.height <= 0 ||
        s.pixels.size() != size_t(s.width) * size_t(s.height) * size_t(s.channels)) {
        return {};
    }
    const QImage::Format format =
        s.channels == 1 ? QImage::Format_Grayscale8 : QImage::Format_RGB888;
    if (s.channels != 1 && s.channels != 3) {
        return {};
    }
    // A view over the sample's bytes (bytesPerLine given: rows are not 4-byte aligned), then
    // copied.
    const QImage view(s.pixels.data(), s.width, s.height, s.width * s.channels, format);
    return view.copy();
}

}  // namespace scalelab::ui
