// scalelab: the desktop lab.
//
//   scalelab [--dataset SPEC] [--screenshot FILE.png]
//
// --screenshot waits until the dataset has loaded (or failed), saves the window as a PNG and
// exits: used by scripts/screenshots.sh under Xvfb.

#include <QApplication>
#include <QCommandLineParser>
#include <QTimer>
#include <cstdio>

#include "core/runtime.h"
#include "ui/dataset_panel.h"
#include "ui/main_window.h"

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    QApplication::setApplicationName("ScaleLab");
    QApplication::setOrganizationName("ScaleLab");
    QApplication::setApplicationVersion("0.1.0");

    QCommandLineParser parser;
    parser.setApplicationDescription("ScaleLab: a desktop lab for CNN scaling");
    parser.addHelpOption();
    parser.addVersionOption();
    QCommandLineOption datasetOpt("dataset",
                                  "Dataset to open (fashion-mnist, mnist:PATH, "
                                  "cifar10:PATH, folder:PATH).",
                                  "spec", "fashion-mnist");
    QCommandLineOption shotOpt("screenshot", "Save the window to FILE once loaded, then quit.",
                               "file");
    QCommandLineOption sizeOpt("size", "Window size as WxH.", "WxH");
    parser.addOptions({datasetOpt, shotOpt, sizeOpt});
    parser.process(app);

    scalelab::keepFreedMemory();
    scalelab::applyThreadCount(0);  // every core; LibTorch's OpenMP default may use fewer
    scalelab::ui::MainWindow window;
    if (parser.isSet(sizeOpt)) {
        const QStringList wh = parser.value(sizeOpt).split('x');
        if (wh.size() == 2) {
            window.resize(wh[0].toInt(), wh[1].toInt());
        }
    }
    auto* panel = window.datasetPanel();
    if (parser.isSet(shotOpt)) {
        panel->setInteractive(false);
        const QString file = parser.value(shotOpt);
        auto save = [&window, file] {
            // Let layouts settle and paint once before grabbing.
            QTimer::singleShot(300, &window, [&window, file] {
                const bool ok = window.grab().save(file);
                std::fprintf(ok ? stdout : stderr, "%s %s\n",
                             ok ? "screenshot saved to" : "error: could not write",
                             qPrintable(file));
                QApplication::exit(ok ? 0 : 1);
            });
        };
        QObject::connect(panel, &scalelab::ui::DatasetPanel::datasetLoaded, &window, save);
        QObject::connect(panel, &scalelab::ui::DatasetPanel::loadFailed, &window, save);
    }
    window.show();
    const QString spec = parser.value(datasetOpt);
    QTimer::singleShot(0, panel, [panel, spec] { panel->loadSpec(spec); });
    return app.exec();
}
