// scalelab: the desktop lab.
//
//   scalelab [--dataset SPEC] [--screenshot FILE.png] [--tour DIR] [--size WxH]
//
// --screenshot waits until the dataset has loaded (or failed), saves the window as a PNG and
// exits. --tour queues three small variants, trains them, prunes and inspects the last one, and
// saves the README's screenshots into DIR. Both are used by scripts/screenshots.sh.

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTimer>
#include <cstdio>
#include <functional>

#include "core/prune/prune_api.h"
#include "core/runtime.h"
#include "ui/app_info.h"
#include "ui/dataset_panel.h"
#include "ui/feature_panel.h"
#include "ui/main_window.h"
#include "ui/model_designer.h"
#include "ui/pruning_panel.h"
#include "ui/session.h"
#include "ui/train_settings.h"
#include "ui/training_worker.h"

namespace {

using scalelab::ui::MainWindow;

bool saveShot(MainWindow& window, const QString& path) {
    QApplication::processEvents();
    const bool ok = window.grab().save(path);
    std::fprintf(ok ? stdout : stderr, "%s %s\n",
                 ok ? "screenshot saved to" : "error: could not write", qPrintable(path));
    return ok;
}

// The tour's last part: a pruning sweep and the feature maps of the deepest run.
void pruneAndInspect(MainWindow& window, const QString& dir) {
    using namespace scalelab;
    using namespace scalelab::ui;
    PruningPanel* p = window.pruningPanel();
    window.showTab(p);
    p->selectRun(3);
    p->setMethods({PruneMethod::MagnitudeGlobal, PruneMethod::L1Structured});
    p->setLevels("0, 0.25, 0.5, 0.75, 0.9");
    p->setFinetuneEpochs(1);
    p->setPerStage(true);
    QObject::connect(p, &PruningPanel::sweepFinished, &window, [&window, dir](const QString&) {
        QTimer::singleShot(500, &window, [&window, dir] {
            saveShot(window, dir + "/pruning.png");
            FeaturePanel* f = window.featurePanel();
            window.showTab(f);
            QObject::connect(f, &FeaturePanel::updated, &window, [&window, dir, f] {
                if (f->result().stageName == "stage 2" && f->result().testIndex == 12) {
                    QTimer::singleShot(500, &window, [&window, dir] {
                        saveShot(window, dir + "/features.png");
                        QApplication::exit(0);
                    });
                }
            });
            f->selectRun(3);
            f->setStage(2);
            f->setTestIndex(12);
            f->refresh();
        });
    });
    p->startSweep();
}

// The scripted tour behind the README's screenshots.
void runTour(MainWindow& window, const QString& dir, const QString& sessionDir) {
    using namespace scalelab;
    using namespace scalelab::ui;
    QDir().mkpath(dir);
    window.setInteractive(false);
    window.setSessionFolder(sessionDir);
    TrainSettings* t = window.trainSettings();
    t->setEpochs(4);
    t->setSubset(3000);
    t->setBatchSize(64);
    t->setValFraction(0.05);
    t->setTestSubset(2000);

    ModelDesigner* d = window.designer();
    d->setFamily("mobilenet-v2");
    d->setPreset("mobilenet-v2");
    d->setScalingMode(Scaling::Mode::Compound);
    d->setPhi(1.0);
    window.leftTabs()->setCurrentIndex(0);
    window.tabs()->setCurrentIndex(1);
    window.compareTabs()->setCurrentIndex(1);  // scaling curves next to the designer
    QTimer::singleShot(400, &window, [&window, dir, d] {
        saveShot(window, dir + "/designer.png");
        // Depth scaling of a CIFAR-style ResNet: 8, 14 and 20 layers.
        d->setFamily("resnet");
        d->setScalingMode(Scaling::Mode::None);
        for (const char* preset : {"resnet-cifar-8", "resnet-cifar-14", "resnet-cifar-20"}) {
            d->setPreset(preset);
            window.addVariant();
        }
        window.leftTabs()->setCurrentIndex(2);
        auto* shotTaken = new bool(false);
        QObject::connect(
            window.session(), &Session::runChanged, &window, [&window, dir, shotTaken](int id) {
                const RunRecord* r = window.session()->find(id);
                if (!*shotTaken && r && id == 3 && r->progress > 0.6) {
                    *shotTaken = true;
                    window.tabs()->setCurrentIndex(0);
                    QTimer::singleShot(100, &window,
                                       [&window, dir] { saveShot(window, dir + "/training.png"); });
                }
            });
        QObject::connect(window.controller(), &TrainingController::queueFinished, &window,
                         [&window, dir] {
                             window.selectRuns({1, 2, 3});
                             window.tabs()->setCurrentIndex(1);
                             window.compareTabs()->setCurrentIndex(0);
                             QTimer::singleShot(500, &window, [&window, dir] {
                                 saveShot(window, dir + "/compare.png");
                                 window.selectRuns({3});
                                 window.compareTabs()->setCurrentIndex(2);
                                 QTimer::singleShot(500, &window, [&window, dir] {
                                     saveShot(window, dir + "/confusion.png");
                                     window.tabs()->setCurrentIndex(2);
                                     QTimer::singleShot(500, &window, [&window, dir] {
                                         saveShot(window, dir + "/cost.png");
                                         pruneAndInspect(window, dir);
                                     });
                                 });
                             });
                         });
        window.startTraining();
    });
}

}  // namespace

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    scalelab::ui::applyAppIdentity();

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
    QCommandLineOption tourOpt("tour", "Train three small variants and save screenshots to DIR.",
                               "dir");
    QCommandLineOption sizeOpt("size", "Window size as WxH.", "WxH");
    parser.addOptions({datasetOpt, shotOpt, tourOpt, sizeOpt});
    parser.process(app);

    scalelab::useMemoryArena();  // large tensors in a region of their own (core/memory_arena.h)
    scalelab::keepFreedMemory();
    scalelab::applyThreadCount(0);  // every core; LibTorch's OpenMP default may use fewer
    MainWindow window;
    if (parser.isSet(sizeOpt)) {
        const QStringList wh = parser.value(sizeOpt).split('x');
        if (wh.size() == 2) {
            window.resize(wh[0].toInt(), wh[1].toInt());
        }
    }
    auto* panel = window.datasetPanel();
    QTemporaryDir tourSession;
    if (parser.isSet(shotOpt) || parser.isSet(tourOpt)) {
        panel->setInteractive(false);
        window.setInteractive(false);
        window.setAutosaveEnabled(false);
    } else {
        window.restoreAutosave();  // the session as the last launch left it: nothing is lost
    }
    if (parser.isSet(shotOpt)) {
        const QString file = parser.value(shotOpt);
        auto save = [&window, file] {
            // Let layouts settle and paint once before grabbing.
            QTimer::singleShot(300, &window, [&window, file] {
                QApplication::exit(saveShot(window, file) ? 0 : 1);
            });
        };
        QObject::connect(panel, &scalelab::ui::DatasetPanel::datasetLoaded, &window, save);
        QObject::connect(panel, &scalelab::ui::DatasetPanel::loadFailed, &window, save);
    } else if (parser.isSet(tourOpt)) {
        const QString dir = parser.value(tourOpt);
        const QString sessionDir = tourSession.path();
        QObject::connect(panel, &scalelab::ui::DatasetPanel::datasetLoaded, &window,
                         [&window, dir, sessionDir] { runTour(window, dir, sessionDir); });
    }
    window.show();
    const QString spec = parser.value(datasetOpt);
    QTimer::singleShot(0, panel, [panel, spec] { panel->loadSpec(spec); });
    return app.exec();
}
