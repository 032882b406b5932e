// The model designer reads the family registry (issue 9): every family and preset can be
// designed and agrees with the core's analysis; the same scaling controls work for every family;
// an impossible value marks its field and disables Add variant; run folders written by ScaleLab
// 0.1 show in the runs table. Runs offscreen, needs no dataset.

#include <QComboBox>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPushButton>
#include <QSlider>
#include <QTableView>
#include <QTemporaryDir>
#include <QtTest>

#include "core/models/analysis.h"
#include "core/models/family.h"
#include "core/train/train_api.h"
#include "ui/charts/scaling_chart.h"
#include "ui/main_window.h"
#include "ui/model_designer.h"
#include "ui/run_table_model.h"
#include "ui/session.h"

using namespace scalelab;
using scalelab::ui::MainWindow;
using scalelab::ui::ModelDesigner;

class TestDesigner : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        QCoreApplication::setOrganizationName("ScaleLabTest");
        QCoreApplication::setApplicationName("test_designer");
    }

    void everyFamilyAndPresetAgreesWithTheAnalysis() {
        ModelDesigner d;
        d.setDataShape(3, 1000, 224);
        d.setScalingMode(Scaling::Mode::None);
        for (const ModelFamily* f : families()) {
            d.setFamily(f->id);
            for (const PresetDecl& p : f->presets) {
                d.setPreset(p.name);
                QVERIFY2(d.isValid(), qPrintable(d.errorText()));
                const ModelAnalysis a = analyzeModel(modelSpecFromName(p.name, 3, 1000, 224));
                QCOMPARE(d.currentSpec().family, f->id);
                QCOMPARE(d.currentAnalysis().macs, a.macs);
                QCOMPARE(d.currentAnalysis().params, a.params);
            }
        }
    }

    void compoundScalingAndCurvesForEveryFamily() {
        ModelDesigner d;
        d.setDataShape(3, 1000, 224);
        ui::ScalingChart chart;
        for (const ModelFamily* f : families()) {
            d.setFamily(f->id);
            d.setScalingMode(Scaling::Mode::Compound);
            d.setPhi(0.0);
            QVERIFY(d.isValid());
            const int64_t macs0 = d.currentAnalysis().macs;
            d.phiSlider()->setValue(100);  // as a user drags phi from 0 to 1
            QVERIFY2(d.isValid(), qPrintable(d.errorText()));
            QCOMPARE(d.currentSpec().resolution, 258);
            QVERIFY(d.currentAnalysis().macs > macs0);
            QVERIFY2(d.readoutText().contains("(α·β²·γ²)^φ"), qPrintable(d.readoutText()));
            chart.setBase(d.unscaledSpec(), d.scaling(), 1.0);
            QCOMPARE(chart.curveCount(), 5);  // width, depth, resolution, compound, predicted
        }
    }

    void impossibleValuesMarkTheirFieldAndDisableAdd() {
        MainWindow w;
        w.setInteractive(false);  // errors go to the status bar, not a dialog
        ModelDesigner* d = w.designer();
        d->setFamily("resnet");
        d->setPreset("resnext50_32x4d");
        d->setScalingMode(Scaling::Mode::None);
        QVERIFY(d->isValid());

        d->setParam("blocks", "3,0,6");
        QVERIFY(!d->isValid());
        QVERIFY(d->errorText().contains("Blocks per stage (blocks)"));
        QVERIFY(d->errorText().contains("allowed: 1..8"));
        QVERIFY(d->problemField());
        QVERIFY(d->problemField()->styleSheet().contains("b00020"));
        QVERIFY(d->problemField()->toolTip().contains("out of range"));
        QVERIFY(!w.findChild<QPushButton*>("addVariantButton")->isEnabled());
        QCOMPARE(w.addVariant(), 0);  // refused with the reason, nothing queued
        QCOMPARE(w.session()->runs().size(), 0);

        d->setParam("blocks", "3,4,6,3");
        QVERIFY(d->isValid());
        QVERIFY(d->problemField() == nullptr);

        d->setParam("block", "basic");  // groups 32 need bottleneck blocks
        QVERIFY(!d->isValid());
        QVERIFY(d->errorText().contains("need bottleneck blocks"));
        QVERIFY(d->problemField());
        d->setParam("block", "bottleneck");
        QVERIFY(d->isValid());

        d->setFamily("efficientnet");
        d->setBaseResolution(16);  // B0's stride-2 stage 6 would see a 1x1 map
        QVERIFY(!d->isValid());
        QVERIFY(d->errorText().contains("too small"));
        QVERIFY(d->problemField());
    }

    void runFoldersOfTheLastReleaseShowInTheRunsTable() {
        QTemporaryDir tmp;
        ui::Session session;
        for (const char* name : {"resnet-basic", "efficientnet-tiny"}) {
            const QString dir = QString(SCALELAB_SOURCE_DIR "/tests/data/legacy-runs/") + name;
            ui::RunRecord r;
            r.config = readRunConfig(dir.toStdString());
            r.runDir = dir;
            QFile f(dir + "/summary.json");
            QVERIFY(f.open(QIODevice::ReadOnly));
            const QJsonObject s = QJsonDocument::fromJson(f.readAll()).object();
            r.status = s["status"].toString();
            const ModelAnalysis a = analyzeModel(r.config.model);
            r.params = a.params;
            r.macs = a.macs;
            QCOMPARE(qint64(r.params), s["params"].toInteger());
            QCOMPARE(qint64(r.macs), s["macs"].toInteger());
            session.addRun(r);
        }
        // Through a session file and back, as a user reopening the lab would.
        const QString path = tmp.filePath("session.json");
        QCOMPARE(session.save(path), QString());
        ui::Session reopened;
        QCOMPARE(reopened.load(path), QString());
        ui::RunTableModel table(&reopened);
        QCOMPARE(table.rowCount(), 2);
        auto cell = [&](int row, int col) {
            return table.data(table.index(row, col), Qt::DisplayRole).toString();
        };
        QVERIFY2(cell(0, ui::RunTableModel::Name).contains("resnet basic 1,1"),
                 qPrintable(cell(0, ui::RunTableModel::Name)));
        QCOMPARE(cell(0, ui::RunTableModel::Depth), QString("1,1"));
        QCOMPARE(cell(1, ui::RunTableModel::Depth), QString("1,1,1,1,1,1,1 (d 0.10)"));
        QCOMPARE(table.data(table.index(0, ui::RunTableModel::Params), Qt::UserRole).toLongLong(),
                 5122LL);
    }
};

QTEST_MAIN(TestDesigner)
#include "test_designer.moc"
