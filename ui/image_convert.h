#pragma once
// The one place where pixels cross from core value types into Qt images. Every QImage returned
// owns its pixels (built over the core's buffer, then copied), so it may cross threads.

#include <QImage>

#include "core/data/dataset_api.h"

namespace scalelab::ui {

// A grayscale or RGB sample as an owned QImage (Format_Grayscale8 or Format_RGB888).
QImage toQImage(const SampleImage& sample);

}  // namespace scalelab::ui
