// Issue 11, point 9: ScaleLab as a desktop application. Help > About names the versions it runs
// with (ScaleLab, Qt built against and running, LibTorch, OpenCV), read from where they come from
// rather than written here; the window has the embedded icon at every size. Runs offscreen.

#include <QApplication>
#include <QtTest>
#include <algorithm>

#include "core/runtime.h"
#include "ui/app_info.h"
#include "ui/main_window.h"

using namespace scalelab;
using namespace scalelab::ui;

class TestAppInfo : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() {
        QCoreApplication::setOrganizationName("ScaleLabTest");
        QCoreApplication::setApplicationName("test_app_info");
    }

    void aboutNamesEveryVersion() {
        const RuntimeInfo rt = runtimeInfo();
        const QString text = aboutText(rt);
        qInfo("%s", qPrintable(text));
        const QString scalelab = QString::fromStdString(scalelabVersion());
        QVERIFY(!scalelab.isEmpty());
        QVERIFY2(text.contains("ScaleLab " + scalelab), qPrintable(text));
        QVERIFY2(text.contains(QString::fromLatin1(qVersion())), qPrintable(text));
        QVERIFY2(text.contains(QStringLiteral(QT_VERSION_STR)), qPrintable(text));
        QVERIFY(!rt.torchVersion.empty());
        QVERIFY2(text.contains(QString::fromStdString(rt.torchVersion)), qPrintable(text));
#ifdef SCALELAB_CORE_HAS_OPENCV
        QVERIFY(!rt.opencvVersion.empty());
        QVERIFY2(text.contains("OpenCV</td><td>" + QString::fromStdString(rt.opencvVersion)),
                 qPrintable(text));
#else
        QVERIFY(rt.opencvVersion.empty());
        QVERIFY2(text.contains("not built with OpenCV"), qPrintable(text));
#endif
    }

    // A core built without OpenCV reports none; About says so instead of an empty version.
    void aboutWithoutOpenCv() {
        RuntimeInfo rt = runtimeInfo();
        rt.opencvVersion.clear();
        const QString text = aboutText(rt);
        QVERIFY2(text.contains("OpenCV</td><td>not built with OpenCV"), qPrintable(text));
        QVERIFY(text.contains(QString::fromStdString(rt.torchVersion)));
    }

    void windowHasTheIconAtEverySize() {
        const QIcon icon = appIcon();
        QVERIFY(!icon.isNull());
        QList<QSize> sizes = icon.availableSizes();
        std::sort(sizes.begin(), sizes.end(),
                  [](const QSize& a, const QSize& b) { return a.width() < b.width(); });
        QCOMPARE(sizes,
                 QList<QSize>({{16, 16}, {32, 32}, {48, 48}, {64, 64}, {128, 128}, {256, 256}}));
        QVERIFY(!icon.pixmap(16, 16).isNull());

        MainWindow w;
        QVERIFY(!w.windowIcon().isNull());
        QCOMPARE(w.windowIcon().availableSizes().size(), sizes.size());
    }

    void identityNamesTheDesktopEntry() {
        applyAppIdentity();
        QVERIFY2(appId().count('.') >= 2, qPrintable(appId()));  // reverse DNS, from CMake
        QCOMPARE(QGuiApplication::desktopFileName(), appId());
        QCOMPARE(QCoreApplication::applicationVersion(), QString::fromStdString(scalelabVersion()));
        QVERIFY(!QApplication::windowIcon().isNull());
        // Restore the test's own names for the settings other tests in this process may read.
        initTestCase();
    }
};

QTEST_MAIN(TestAppInfo)
#include "test_app_info.moc"
