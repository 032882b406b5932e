#include "ui/app_info.h"

#include <QApplication>
#include <QCoreApplication>
#include <QDir>
#include <QtGlobal>

// The resources of a static library are linked only when something names them: this does.
static void initScaleLabResources() {
    Q_INIT_RESOURCE(scalelab);
}

namespace scalelab::ui {

QString appId() {
    return QStringLiteral(SCALELAB_APP_ID);
}

QIcon appIcon() {
    static const bool resourcesReady = (initScaleLabResources(), true);
    Q_UNUSED(resourcesReady);
    QIcon icon;
    const QDir dir(":/icons");
    for (const QString& name : dir.entryList({"scalelab-*.png"}, QDir::Files)) {
        icon.addFile(dir.filePath(name));
    }
    return icon;
}

void applyAppIdentity() {
    QApplication::setApplicationName("ScaleLab");
    QApplication::setOrganizationName("ScaleLab");
    QApplication::setApplicationVersion(QString::fromStdString(scalelabVersion()));
    QApplication::setDesktopFileName(appId());
    QApplication::setWindowIcon(appIcon());
}

QString aboutText(const RuntimeInfo& rt) {
    const auto text = [](const char* source) {
        return QCoreApplication::translate("About", source);
    };
    const auto row = [](const QString& what, const QString& version) {
        return QString("<tr><td>%1</td><td>%2</td></tr>").arg(what, version);
    };
    const QString qt = text("%1 (built against %2)")
                           .arg(QString::fromLatin1(qVersion()), QStringLiteral(QT_VERSION_STR));
    const QString opencv = rt.opencvVersion.empty() ? text("not built with OpenCV")
                                                    : QString::fromStdString(rt.opencvVersion);
    return text(
               "<b>ScaleLab %1</b><p>A desktop lab for CNN scaling: EfficientNet's width, "
               "depth and resolution, ResNet's depth, trained on real data.</p>")
               .arg(QString::fromStdString(scalelabVersion())) +
           "<table cellpadding=\"2\">" + row("Qt", qt) +
           row("LibTorch", QString::fromStdString(rt.torchVersion)) + row("OpenCV", opencv) +
           row(text("Runs on"), QString::fromStdString(describeRuntime(rt))) + "</table>";
}

}  // namespace scalelab::ui
