#pragma once
// ScaleLab as a desktop application: its id, icon and the Help > About text.

#include <QIcon>
#include <QString>

#include "core/runtime.h"

namespace scalelab::ui {

// The reverse-DNS id (CMake's SCALELAB_APP_ID) that names the desktop entry, the AppStream
// metainfo and the installed icon: "io.github.scalelab.ScaleLab".
QString appId();

// The window icon at 16..256 px, from the PNGs embedded by resources/scalelab.qrc.
QIcon appIcon();

// Sets the application's name, version, desktop entry and window icon, so that a desktop shell
// matches the running window to the installed entry and its icon. main() calls it once, after
// constructing the QApplication.
void applyAppIdentity();

// Help > About as rich text: the versions of ScaleLab, Qt (built against and running), LibTorch
// and OpenCV ("not built with OpenCV" when `rt` has none) and the compute runtime.
QString aboutText(const RuntimeInfo& rt = runtimeInfo());

}  // namespace scalelab::ui
