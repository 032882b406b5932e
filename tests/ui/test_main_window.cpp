// The first window: tabs, the dataset picker on Fashion-MNIST, and a bad folder that leaves the
// app running with the previous dataset kept. Runs offscreen.

#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QtTest>

#include "core/data/dataset_spec.h"
#include "ui/dataset_panel.h"
#include "ui/main_window.h"
#include "ui/sample_grid.h"

using scalelab::ui::DatasetPanel;
using scalelab::ui::MainWindow;

class TestMainWindow : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() {
        QCoreApplication::setOrganizationName("ScaleLabTest");
        QCoreApplication::setApplicationName("test_main_window");
    }

    void hasTheLabTabs() {
        MainWindow w;
        QStringList names;
        for (int i = 0; i < w.tabs()->count(); ++i) {
            names << w.tabs()->tabText(i);
        }
        QCOMPARE(names, QStringList({"Training", "Compare", "Cost", "Pruning", "Feature maps"}));
        QVERIFY(w.windowTitle().contains("ScaleLab"));
    }

    void showsFashionMnistClassesAndSamples() {
        if (scalelab::locateFashionMnist().empty()) {
            QSKIP("Fashion-MNIST not installed (apt install dataset-fashion-mnist)");
        }
        MainWindow w;
        w.show();
        DatasetPanel* panel = w.datasetPanel();
        panel->setInteractive(false);
        QSignalSpy loaded(panel, &DatasetPanel::datasetLoaded);
        panel->loadSpec("fashion-mnist");
        QVERIFY(loaded.wait(60000));
        QCOMPARE(panel->classNames().size(), 10);
        QCOMPARE(panel->classNames().first(), QString("T-shirt/top"));
        QCOMPARE(panel->classNames().last(), QString("Ankle boot"));
        QCOMPARE(panel->summary().trainCount, 60000);
        QCOMPARE(panel->sampleGrid()->rowCount(), 10);
        QCOMPARE(panel->sampleGrid()->sampleCount(), 80);
        // The grid paints real pixels: not a blank widget.
        const QImage shot = panel->sampleGrid()->grab().toImage();
        QSet<QRgb> colors;
        for (int y = 0; y < shot.height(); y += 3) {
            for (int x = 0; x < shot.width(); x += 3) {
                colors.insert(shot.pixel(x, y));
            }
        }
        QVERIFY2(colors.size() > 20, "the sample grid should show many gray levels");
    }

    void badFolderKeepsThePreviousDataset() {
        if (scalelab::locateFashionMnist().empty()) {
            QSKIP("Fashion-MNIST not installed");
        }
        MainWindow w;
        DatasetPanel* panel = w.datasetPanel();
        panel->setInteractive(false);
        QSignalSpy loaded(panel, &DatasetPanel::datasetLoaded);
        panel->loadSpec("fashion-mnist");
        QVERIFY(loaded.wait(60000));
        const QString before = panel->currentSpec();

        QTemporaryDir dir;
        QVERIFY(QDir(dir.path()).mkpath("boots"));
        QFile junk(dir.path() + "/boots/a.png");
        QVERIFY(junk.open(QIODevice::WriteOnly));
        junk.write("not an image");
        junk.close();
        QSignalSpy failed(panel, &DatasetPanel::loadFailed);
        panel->loadSpec("folder:" + dir.path());
        QVERIFY(failed.wait(30000));
        const QString message = failed.takeFirst().at(0).toString();
        QVERIFY2(message.contains("unreadable image") && message.contains("a.png"),
                 qPrintable(message));
        QCOMPARE(panel->currentSpec(), before);
        QCOMPARE(panel->classNames().size(), 10);
        QVERIFY(!panel->isLoading());
    }
};

QTEST_MAIN(TestMainWindow)
#include "test_main_window.moc"
