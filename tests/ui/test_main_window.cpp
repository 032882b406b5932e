// The first window: tabs, the dataset picker on Fashion-MNIST, and a bad folder that leaves the
// app running with the previous dataset kept. Runs offscreen.

#include <qcustomplot.h>
#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QScrollArea>
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

    // Issue 11, point 4: usable on a 1280x800 screen (no minimum width above 1200 px).
    void fitsA1280x800Screen() {
        MainWindow w;
        w.resize(1280, 760);
        w.show();
        QCoreApplication::processEvents();
        const QSize min = w.minimumSizeHint().expandedTo(w.minimumSize());
        qInfo("minimum size %dx%d", min.width(), min.height());
        // What sets the width, when it is too wide: the widest widgets, for the message.
        for (QWidget* child : w.findChildren<QWidget*>()) {
            if (child->minimumSizeHint().width() > 600) {
                qInfo(
                    "  %s (parent %s) min width %d", child->metaObject()->className(),
                    child->parentWidget() ? child->parentWidget()->metaObject()->className() : "-",
                    child->minimumSizeHint().width());
            }
        }
        QVERIFY2(min.width() <= 1200, qPrintable(QString::number(min.width())));
        QVERIFY2(min.height() <= 760, qPrintable(QString::number(min.height())));
        QVERIFY(w.width() <= 1280);
        // Every tab at this size: no chart title wider than its chart, no axis label longer than
        // its axis.
        int plots = 0;
        for (int t = 0; t < w.tabs()->count(); ++t) {
            w.tabs()->setCurrentIndex(t);
            QCoreApplication::processEvents();
            // A page that scrolls does so vertically: nothing is cut at the right edge.
            if (auto* area = qobject_cast<QScrollArea*>(w.tabs()->currentWidget())) {
                const int need = area->widget()->minimumSizeHint().width();
                for (QWidget* child : area->widget()->findChildren<QWidget*>()) {
                    if (child->isVisible() && child->minimumSizeHint().width() > 250) {
                        qInfo("  %s: %s min width %d", qPrintable(w.tabs()->tabText(t)),
                              child->metaObject()->className(), child->minimumSizeHint().width());
                    }
                }
                QVERIFY2(need <= area->viewport()->width(),
                         qPrintable(w.tabs()->tabText(t) + " needs " + QString::number(need) +
                                    " px of " + QString::number(area->viewport()->width())));
            }
            for (QCustomPlot* plot : w.tabs()->currentWidget()->findChildren<QCustomPlot*>()) {
                if (!plot->isVisible()) {
                    continue;
                }
                ++plots;
                plot->replot(QCustomPlot::rpImmediateRefresh);
                const QString where = w.tabs()->tabText(t) + ": ";
                for (QCPLayoutElement* e : plot->plotLayout()->elements(true)) {
                    if (auto* title = qobject_cast<QCPTextElement*>(e)) {
                        const int need =
                            QFontMetrics(title->font()).horizontalAdvance(title->text());
                        QVERIFY2(
                            need <= plot->width(),
                            qPrintable(where + title->text() + " needs " + QString::number(need) +
                                       " px of " + QString::number(plot->width())));
                    }
                }
                for (QCPAxisRect* rect : plot->axisRects()) {
                    if (!rect->visible()) {
                        continue;  // e.g. the sensitivity chart before a per-stage sweep
                    }
                    for (QCPAxis* axis : rect->axes()) {
                        if (!axis->visible() || axis->label().isEmpty()) {
                            continue;
                        }
                        const int need =
                            QFontMetrics(axis->labelFont()).horizontalAdvance(axis->label());
                        const int room =
                            axis->orientation() == Qt::Horizontal ? rect->width() : rect->height();
                        QVERIFY2(need <= room, qPrintable(where + axis->label() + " needs " +
                                                          QString::number(need) + " px of " +
                                                          QString::number(room)));
                    }
                }
            }
        }
        QVERIFY(plots >= 4);
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
