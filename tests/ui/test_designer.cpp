// The model designer reads the family registry (issue 9): every family and preset can be
// designed and agrees with the core's analysis; the same scaling controls work for every family;
// an impossible value marks its field and disables Add variant; run folders written by ScaleLab
// 0.1 show in the runs table. Issue 11 (scaling curves you can believe): the readout and the
// scaling chart's hover text split the gap between predicted and exact growth; the resolution
// combo rounds the scaled side to a multiple of N. Runs offscreen, needs no dataset.

#include <qcustomplot.h>
#include <QComboBox>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPushButton>
#include <QSettings>
#include <QSlider>
#include <QTableView>
#include <QTemporaryDir>
#include <QToolTip>
#include <QtTest>

#include "core/models/analysis.h"
#include "core/models/family.h"
#include "core/models/scaling_gap.h"
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

    // At a 32 px base, phi 0.2 is where the exact curve jumps (issue 11): the readout and the
    // chart's hover text both carry the split, for every family.
    void readoutAndChartExplainTheGap() {
        ModelDesigner d;
        d.setDataShape(1, 10, 28);  // Fashion-MNIST's shape: a 32 px base
        ui::ScalingChart chart;
        for (const ModelFamily* f : families()) {
            d.setFamily(f->id);
            d.setScalingMode(Scaling::Mode::Compound);
            d.setPhi(0.2);
            QVERIFY2(d.isValid(), qPrintable(d.errorText()));
            const ScalingGap g = scalingGap(d.unscaledSpec(), d.scaling());
            const QString split = ui::gapText(g);
            QVERIFY2(split.contains("channels ×") && split.contains("repeats ×") &&
                         split.contains("map size ×") && split.contains("structure ×"),
                     qPrintable(split));
            QVERIFY2(d.readoutText().contains(split.toHtmlEscaped()), qPrintable(d.readoutText()));
            QVERIFY2(d.readoutText().contains(QString("exact ×%1").arg(g.exact, 0, 'f', 2)),
                     qPrintable(d.readoutText()));

            chart.setBase(d.unscaledSpec(), d.scaling(), 0.2);
            const QString tip = chart.tooltipText(0.2);
            QVERIFY2(tip.contains(split), qPrintable(tip));
            QVERIFY2(tip.contains(QString("predicted MACs ×%1").arg(g.predicted, 0, 'f', 2)),
                     qPrintable(tip));
            QVERIFY2(tip.contains(QString("exact ×%1").arg(g.exact, 0, 'f', 2)), qPrintable(tip));
        }
        d.setScalingMode(Scaling::Mode::None);  // nothing scaled: no split
        QVERIFY(!d.readoutText().contains("map size ×"));
    }

    // Hovering the exact compound curve shows the split at the nearest computed phi; moving away
    // hides it.
    void hoveringTheCompoundCurveShowsTheSplit() {
        ModelDesigner d;
        d.setDataShape(1, 10, 28);
        d.setFamily(families().front()->id);
        d.setScalingMode(Scaling::Mode::Compound);
        ui::ScalingChart chart;
        chart.resize(800, 500);
        chart.setBase(d.unscaledSpec(), d.scaling(), -1);
        chart.show();
        QVERIFY(QTest::qWaitForWindowExposed(&chart));
        QCustomPlot* plot = chart.plot();
        plot->replot();
        QCPGraph* compound = nullptr;
        for (int i = 0; i < plot->graphCount(); ++i) {
            if (plot->graph(i)->name().startsWith("compound")) {
                compound = plot->graph(i);
            }
        }
        QVERIFY(compound);
        auto point = compound->data()->findBegin(0.2 - 1e-6, false);
        QVERIFY(point != compound->data()->constEnd());
        QCOMPARE(point->key, 0.2);
        // A touch right of phi 0.2 on the curve: the tooltip snaps to 0.2.
        const QPointF at(plot->xAxis->coordToPixel(0.22),
                         plot->yAxis->coordToPixel(point->value) + 1);
        auto move = [&](const QPointF& pos) {
            // QTest::mouseMove delivers nothing offscreen; a tracked move is this event.
            QMouseEvent e(QEvent::MouseMove, pos, plot->mapToGlobal(pos), Qt::NoButton,
                          Qt::NoButton, Qt::NoModifier);
            QApplication::sendEvent(plot, &e);
        };
        move(at);
        QVERIFY(QToolTip::isVisible());
        QCOMPARE(QToolTip::text(), chart.tooltipText(0.2));
        QVERIFY(QToolTip::text().contains("map size ×"));
        move(QPointF(plot->xAxis->coordToPixel(3.0), plot->yAxis->coordToPixel(point->value)));
        QTRY_VERIFY(!QToolTip::isVisible());
    }

    void resolutionComboRoundsTheScaledSide() {
        ModelDesigner d;
        d.setDataShape(3, 1000, 224);
        d.setScalingMode(Scaling::Mode::Compound);
        d.setPhi(1.0);
        QCOMPARE(d.currentSpec().resolution, 258);  // round(224 x 1.15)
        auto* combo = d.findChild<QComboBox*>("resolutionMultiple");
        QVERIFY(combo);
        for (int n : {8, 16, 32}) {
            combo->setCurrentIndex(combo->findData(n));  // as a user picks "multiple of N px"
            QVERIFY2(d.isValid(), qPrintable(d.errorText()));
            QCOMPARE(d.scaling().resolutionMultiple, n);
            QCOMPARE(d.currentSpec().resolution % n, 0);
            QCOMPARE(d.currentSpec().resolution, 256);
        }
        d.setPhi(0.5);  // 240.2 px: 240 in multiples of 8 and 16, 256 in multiples of 32
        QCOMPARE(d.currentSpec().resolution, 256);
        // Saved with the other scaling fields.
        d.saveSettings();
        ModelDesigner restored;
        restored.restoreSettings();
        QCOMPARE(restored.scaling().resolutionMultiple, 32);
        combo->setCurrentIndex(combo->findData(0));
        QCOMPARE(d.currentSpec().resolution, 240);
        QSettings().remove("designer2");  // later tests start from the defaults
    }
};

QTEST_MAIN(TestDesigner)
#include "test_designer.moc"
