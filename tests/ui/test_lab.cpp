// The desktop lab, offscreen: the designer's readout agrees with the CLI, a queued run fills the
// chart and the table, Stop ends a run within a batch with valid files, every export writes a
// file, a saved session reopens, and the event loop keeps ticking while training runs.

#include <qcustomplot.h>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSignalSpy>
#include <QSlider>
#include <QTableView>
#include <QTemporaryDir>
#include <QtTest>

#include "core/data/dataset_spec.h"
#include "core/export/onnx_api.h"
#include "core/models/analysis.h"
#include "ui/charts/chart_tools.h"
#include "ui/charts/confusion_chart.h"
#include "ui/charts/cost_chart.h"
#include "ui/charts/pareto_chart.h"
#include "ui/charts/pruning_chart.h"
#include "ui/charts/scaling_chart.h"
#include "ui/charts/training_chart.h"
#include "ui/dataset_panel.h"
#include "ui/feature_grid.h"
#include "ui/feature_panel.h"
#include "ui/main_window.h"
#include "ui/model_designer.h"
#include "ui/pruning_panel.h"
#include "ui/session.h"
#include "ui/train_settings.h"
#include "ui/training_worker.h"

using namespace scalelab;
using namespace scalelab::ui;

class TestLab : public QObject {
    Q_OBJECT
private:
    QTemporaryDir tmp_;
    std::unique_ptr<MainWindow> w_;
    int firstRun_ = 0;

    // Queues the current design and trains it; returns the run id once the queue is done.
    int trainOne(int timeoutMs = 180000) {
        const int id = w_->addVariant();
        if (id == 0) {
            return 0;
        }
        QSignalSpy done(w_->controller(), &TrainingController::queueFinished);
        w_->startTraining();
        if (!done.wait(timeoutMs)) {
            return 0;
        }
        return id;
    }

    void useSmallResNet() {
        w_->designer()->setFamily("resnet");
        w_->designer()->setPreset("resnet-cifar-20");
        w_->designer()->setScalingMode(Scaling::Mode::None);
    }

private Q_SLOTS:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);  // settings of the test, not the user's
        if (locateFashionMnist().empty()) {
            QSKIP("Fashion-MNIST not installed (apt install dataset-fashion-mnist)");
        }
        QVERIFY(tmp_.isValid());
        w_ = std::make_unique<MainWindow>();
        w_->setInteractive(false);
        w_->setSessionFolder(tmp_.filePath("session"));
        w_->resize(1300, 800);
        w_->show();
        QSignalSpy loaded(w_->datasetPanel(), &DatasetPanel::datasetLoaded);
        w_->datasetPanel()->setInteractive(false);
        w_->datasetPanel()->loadSpec("fashion-mnist");
        QVERIFY(loaded.wait(60000));
        TrainSettings* t = w_->trainSettings();
        t->setEpochs(1);
        t->setSubset(256);
        t->setBatchSize(32);
        t->setValFraction(0.002);  // 120 validation images
        t->setTestSubset(500);
    }

    void phiReadoutMatchesTheCli() {
        ModelDesigner* d = w_->designer();
        d->setFamily("efficientnet");
        d->setPreset("efficientnet-b0");
        d->setScalingMode(Scaling::Mode::Compound);
        d->setPhi(0.0);
        QVERIFY(d->isValid());
        const int64_t macs0 = d->currentAnalysis().macs;
        d->phiSlider()->setValue(100);  // as a user drags phi from 0 to 1
        QVERIFY(d->isValid());
        const int64_t macs1 = d->currentAnalysis().macs;
        QVERIFY(macs1 > macs0);

        QProcess cli;
        cli.start(SCALELAB_CLI_PATH,
                  {"info", "--model", "efficientnet", "--phi", "1", "--base-resolution", "32",
                   "--in-channels", "1", "--num-classes", "10", "--json"});
        QVERIFY(cli.waitForFinished(60000));
        QCOMPARE(cli.exitCode(), 0);
        const QJsonObject info = QJsonDocument::fromJson(cli.readAllStandardOutput()).object();
        QCOMPARE(qint64(macs1), info["macs"].toInteger());
        QCOMPARE(qint64(d->currentAnalysis().params), info["params"].toInteger());
        QVERIFY2(d->readoutText().contains(QLocale().toString(qlonglong(macs1))),
                 qPrintable(d->readoutText()));
    }

    void queuedRunFillsTheChartAndTheTable() {
        useSmallResNet();
        QElapsedTimer timer;
        timer.start();
        firstRun_ = trainOne();
        QVERIFY(firstRun_ != 0);
        const RunRecord* r = w_->session()->find(firstRun_);
        QVERIFY(r);
        QCOMPARE(r->status, QString("completed"));
        QVERIFY(r->hasSummary);
        QVERIFY(r->summary.test.count > 0);
        QCOMPARE(w_->runTable()->model()->rowCount(), 1);
        w_->trainingChart()->refreshNow();
        QVERIFY(w_->trainingChart()->pointCount() > 0);
        QVERIFY(QFileInfo::exists(QDir(r->runDir).filePath("weights.pt")));
        qInfo("1-epoch run on 256 images took %lld ms", timer.elapsed());
    }

    void everyExportWritesAFile() {
        QVERIFY(firstRun_ != 0);
        w_->selectRuns({firstRun_});
        QCOMPARE(w_->selectedRuns(), QList<int>({firstRun_}));
        w_->paretoChart()->refreshNow();
        QCOMPARE(w_->paretoChart()->pointCount(), 1);
        QVERIFY(w_->confusionChart()->classCount() == 10);
        QVERIFY(w_->costChart()->barCount() > 0);
        const QList<QPair<QString, QCustomPlot*>> plots = {
            {"training", w_->trainingChart()->plot()},
            {"pareto", w_->paretoChart()->plot()},
            {"scaling", w_->scalingChart()->plot()},
            {"confusion", w_->confusionChart()->plot()},
            {"cost", w_->costChart()->plot()}};
        for (const auto& [name, plot] : plots) {
            for (const char* suffix : {"png", "svg", "pdf"}) {
                const QString path = tmp_.filePath(name + "." + suffix);
                QCOMPARE(w_->exportChart(plot, path), QString());
                QVERIFY2(QFileInfo(path).size() > 1000, qPrintable(path));
            }
        }
        QVERIFY(QFile(tmp_.filePath("training.svg")).open(QIODevice::ReadOnly));
        const QString csv = tmp_.filePath("runs.csv");
        QCOMPARE(w_->exportRunsCsv(csv), QString());
        QFile f(csv);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QStringList lines = QString(f.readAll()).split('\n', Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), 2);
        QVERIFY(lines[1].contains("resnet-cifar-20") && lines[1].contains("completed"));
        const QString weights = tmp_.filePath("exported.pt");
        QCOMPARE(w_->exportSelectedWeights(weights), QString());
        QVERIFY(QFileInfo(weights).size() > 10000);
        QVERIFY(QFileInfo(tmp_.filePath("exported-checkpoint.pt")).size() > 10000);
        // File > Export ONNX… (issue 12): the same run through the torch-free export API; without
        // libonnx the message says ONNX support was not built.
        const QString onnxPath = tmp_.filePath("exported.onnx");
        if (onnxExportAvailable()) {
            QCOMPARE(w_->exportSelectedOnnx(onnxPath), QString());
            QVERIFY(QFileInfo(onnxPath).size() > 10000);
            QVERIFY(w_->exportSelectedOnnx("/nonexistent/folder/x.onnx").contains("/nonexistent"));
        } else {
            QVERIFY(w_->exportSelectedOnnx(onnxPath).contains("not built"));
            QVERIFY(!QFileInfo::exists(onnxPath));
        }
        // A failed write is reported, not swallowed.
        QVERIFY(!w_->exportChart(w_->paretoChart()->plot(), "/nonexistent/folder/x.png").isEmpty());
        QVERIFY(!w_->exportRunsCsv("/nonexistent/folder/runs.csv").isEmpty());
        QVERIFY(w_->lastError().contains("/nonexistent/folder"));
    }

    void pruningSweepFillsTheChart() {
        QVERIFY(firstRun_ != 0);
        PruningPanel* p = w_->pruningPanel();
        p->selectRun(firstRun_);
        p->setMethods({PruneMethod::MagnitudeGlobal, PruneMethod::L1Structured});
        p->setLevels("0, 0.5");
        p->setFinetuneEpochs(0);
        QSignalSpy finished(p, &PruningPanel::sweepFinished);
        QCOMPARE(p->startSweep(), QString());
        QVERIFY(finished.wait(180000));
        QCOMPARE(finished.takeFirst().at(0).toString(), QString("completed"));
        QCOMPARE(int(p->result().rows.size()), 4);
        QVERIFY(p->chart()->pointCount() >= 4);
        const PruneRow& structured = p->result().rows[3];
        QCOMPARE(QString::fromStdString(structured.method), QString("l1-structured"));
        QVERIFY(structured.macs < p->result().baselineMacs * 0.6);
        for (const char* suffix : {"png", "svg", "pdf"}) {
            const QString path = tmp_.filePath(QString("pruning.") + suffix);
            QCOMPARE(w_->exportChart(p->chart()->plot(), path), QString());
            QVERIFY(QFileInfo(path).size() > 1000);
        }
        QCOMPARE(p->exportCsv(tmp_.filePath("pruning.csv")), QString());
        QVERIFY(QFileInfo(tmp_.filePath("pruning.csv")).size() > 100);
        QCOMPARE(p->exportPrunedWeights(3, tmp_.filePath("pruned.pt")), QString());
        QVERIFY(QFileInfo(tmp_.filePath("pruned.pt")).size() > 1000);
        QVERIFY(QFileInfo(tmp_.filePath("pruned-plan.json")).size() > 100);
        // The sweep is in the run folder (pruning.csv + pruning.json next to the pruned models)
        // and in the session, as the CLI would have left it (issue 11, point 1).
        const RunRecord* r = w_->session()->find(firstRun_);
        QCOMPARE(int(r->pruning.size()), 1);
        const QString sweepDir = QString::fromStdString(r->pruning[0].dir);
        QVERIFY2(sweepDir.startsWith(r->runDir + "/pruning-"), qPrintable(sweepDir));
        QVERIFY(QFileInfo(sweepDir + "/pruning.csv").size() > 100);
        QVERIFY(QFileInfo(sweepDir + "/pruning.json").size() > 100);
        QVERIFY(r->pruning[0].finished);
        QCOMPARE(int(r->pruning[0].result.rows.size()), 4);
    }

    // Hover tooltips name the run and give the exact values; every y axis switches to log and
    // back; the confusion matrix shows counts (issue 11, point 7).
    void chartsExplainThemselves() {
        QVERIFY(firstRun_ != 0);
        w_->showTab(w_->paretoChart());
        ParetoChart* pareto = w_->paretoChart();
        pareto->refreshNow();
        pareto->plot()->replot(QCustomPlot::rpImmediateRefresh);
        const RunRecord* r = w_->session()->find(firstRun_);
        QCPGraph* tested = pareto->plot()->graph(0);
        QCOMPARE(tested->dataCount(), 1);
        const QPointF at = tested->coordsToPixels(double(r->macs), r->testAccuracy() * 100);
        const QString tip = pareto->tools()->tooltipAt(at + QPointF(2, -1));
        QVERIFY2(tip.contains(r->name), qPrintable(tip));
        QVERIFY2(tip.contains(QString::number(r->testAccuracy() * 100, 'f', 2)), qPrintable(tip));
        QVERIFY2(tip.contains(exactCount(r->macs)), qPrintable(tip));
        QCOMPARE(pareto->tools()->tooltipAt(at + QPointF(60, 60)), QString());  // nothing there

        w_->showTab(w_->trainingChart());
        TrainingChart* training = w_->trainingChart();
        training->refreshNow();
        training->plot()->replot(QCustomPlot::rpImmediateRefresh);
        // The train loss curve (solid, opaque; the faint one behind is the raw copy).
        QCPGraph* loss = nullptr;
        for (int i = 0; i < training->plot()->graphCount(); ++i) {
            QCPGraph* g = training->plot()->graph(i);
            if (g->valueAxis() == training->lossRect()->axis(QCPAxis::atLeft) &&
                g->pen().style() == Qt::SolidLine && g->pen().color().alpha() == 255 &&
                g->dataCount() > 0) {
                loss = g;
            }
        }
        QVERIFY(loss);
        const auto point = loss->data()->constEnd() - 1;
        const QString lossTip =
            training->tools()->tooltipAt(loss->coordsToPixels(point->key, point->value));
        QVERIFY2(lossTip.contains(r->name) && lossTip.contains("train loss") &&
                     lossTip.contains(QString::number(point->value, 'f', 4)),
                 qPrintable(lossTip));
        // Log and back, on both of its y axes; the data stays in view.
        for (QCPAxisRect* rect : {training->lossRect(), training->accuracyRect()}) {
            training->tools()->setLogY(rect, true);
            QVERIFY(training->tools()->isLogY(rect));
            QCOMPARE(rect->axis(QCPAxis::atLeft)->scaleType(), QCPAxis::stLogarithmic);
            QVERIFY(rect->axis(QCPAxis::atLeft)->range().lower > 0);
            training->refreshNow();  // a refresh keeps the choice
            QVERIFY(training->tools()->isLogY(rect));
            training->tools()->setLogY(rect, false);
            QCOMPARE(rect->axis(QCPAxis::atLeft)->scaleType(), QCPAxis::stLinear);
        }
        pareto->tools()->setLogY(pareto->plot()->axisRect(), true);
        QVERIFY(pareto->plot()->yAxis->range().contains(r->testAccuracy() * 100));
        pareto->tools()->setLogY(pareto->plot()->axisRect(), false);
        // Smoothing: the raw curve stays behind the smoothed one.
        training->setSmoothing(0.9);
        training->refreshNow();
        const int withRaw = training->plot()->graphCount();
        training->setSmoothing(0);
        training->refreshNow();
        // No faint raw copies of the train loss and accuracy without smoothing (a single live
        // point has none either way).
        QCOMPARE(training->plot()->graphCount(), withRaw - (r->liveLoss.size() > 1 ? 2 : 0));
        training->setSmoothing(0.6);
        // TensorBoard's debiased average: 1, (0.5 + 2) / 1.5 ... computed by hand.
        const QVector<double> smooth = smoothSeries({1, 2, 3}, 0.5);
        QCOMPARE(smooth.size(), 3);
        QVERIFY(qAbs(smooth[0] - 1.0) < 1e-12);
        QVERIFY(qAbs(smooth[1] - 1.25 / 0.75) < 1e-12);
        QVERIFY(qAbs(smooth[2] - 2.125 / 0.875) < 1e-12);
        // The sensitivity chart's legend lists the stages, not the methods.
        {
            PruningChart chart;
            chart.resize(900, 700);
            std::vector<PruneRow> rows;
            for (const char* scope : {"all", "stage 1", "stage 2", "stage 3"}) {
                for (double level : {0.0, 0.5}) {
                    PruneRow row;
                    row.method = "l1-structured";
                    row.scope = scope;
                    row.level = level;
                    row.sparsity = level;
                    row.macs = 1000000;
                    row.accuracy = 0.8 - level * 0.2;
                    rows.push_back(row);
                }
            }
            chart.setRows(rows, 0.8);
            QCOMPARE(chart.stageLegendNames(), QStringList({"stage 1", "stage 2", "stage 3"}));
        }
        // Counts in the confusion matrix: one per cell of the 10 classes.
        w_->selectRuns({firstRun_});
        QCOMPARE(w_->confusionChart()->countLabels(), 100);
    }

    void featureGridShowsTheStageChannels() {
        QVERIFY(firstRun_ != 0);
        FeaturePanel* f = w_->featurePanel();
        QSignalSpy updated(f, &FeaturePanel::updated);
        f->selectRun(firstRun_);
        f->setStage(2);
        f->setTestIndex(3);
        f->refresh();
        for (int i = 0; i < 5 && !(f->hasResult() && f->result().stageName == "stage 2" &&
                                   f->result().testIndex == 3);
             ++i) {
            QVERIFY(updated.wait(60000));
        }
        QCOMPARE(QString::fromStdString(f->result().stageName), QString("stage 2"));
        const ModelAnalysis a = analyzeModel(w_->session()->find(firstRun_)->config.model);
        QCOMPARE(f->grid()->channelCount(), int(a.stages[2].outChannels));
        QCOMPARE(f->result().mapHeight, a.stages[2].outHeight);
        QCOMPARE(f->exportGrid(tmp_.filePath("grid.png")), QString());
        QCOMPARE(f->exportOverlay(tmp_.filePath("overlay.png")), QString());
        QVERIFY(QFileInfo(tmp_.filePath("grid.png")).size() > 1000);
        QVERIFY(QFileInfo(tmp_.filePath("overlay.png")).size() > 500);
        QVERIFY(!f->exportGrid("/nonexistent/folder/grid.png").isEmpty());
    }

    void savedSessionReopensWithTheSameRuns() {
        QVERIFY(firstRun_ != 0);
        const QString path = tmp_.filePath("session.json");
        QCOMPARE(w_->saveSession(path), QString());
        MainWindow other;
        other.setInteractive(false);
        QCOMPARE(other.openSession(path), QString());
        const auto& a = w_->session()->runs();
        const auto& b = other.session()->runs();
        QCOMPARE(b.size(), a.size());
        for (int i = 0; i < a.size(); ++i) {
            QCOMPARE(b[i].name, a[i].name);
            QCOMPARE(b[i].status, a[i].status);
            QCOMPARE(b[i].macs, a[i].macs);
            QCOMPARE(b[i].history.size(), a[i].history.size());
            QCOMPARE(b[i].testAccuracy(), a[i].testAccuracy());
            QCOMPARE(b[i].summary.test.confusion, a[i].summary.test.confusion);
            QCOMPARE(QString::fromStdString(b[i].config.model.name),
                     QString::fromStdString(a[i].config.model.name));
        }
        QCOMPARE(other.runTable()->model()->rowCount(), a.size());
        // A broken session file is refused and leaves the session as it was.
        QFile broken(tmp_.filePath("broken.json"));
        QVERIFY(broken.open(QIODevice::WriteOnly));
        broken.write("{\"format\": \"scalelab-session\", \"runs\": [ {");
        broken.close();
        QVERIFY(!other.openSession(broken.fileName()).isEmpty());
        QCOMPARE(other.session()->runs().size(), a.size());
    }

    void stopEndsTheRunWithinABatch() {
        useSmallResNet();
        w_->trainSettings()->setEpochs(3);
        w_->trainSettings()->setSubset(6000);
        const int id = w_->addVariant();
        QVERIFY(id != 0);
        QSignalSpy done(w_->controller(), &TrainingController::queueFinished);
        QElapsedTimer sinceStop;
        connect(w_->session(), &Session::runChanged, this, [&](int changed) {
            const RunRecord* r = w_->session()->find(changed);
            if (changed == id && r && !r->liveLoss.empty() && !sinceStop.isValid()) {
                sinceStop.start();
                w_->stopTraining();
            }
        });
        w_->startTraining();
        QVERIFY(done.wait(120000));
        disconnect(w_->session(), &Session::runChanged, this, nullptr);
        QVERIFY(sinceStop.isValid());
        // One batch of 32 images of ResNet-20 takes ~50 ms here; allow scheduling slack.
        QVERIFY2(sinceStop.elapsed() < 3000, qPrintable(QString::number(sinceStop.elapsed())));
        const RunRecord* r = w_->session()->find(id);
        QVERIFY2(r->status.startsWith("cancelled at epoch 1, batch"), qPrintable(r->status));
        QFile summary(QDir(r->runDir).filePath("summary.json"));
        QVERIFY(summary.open(QIODevice::ReadOnly));
        const QJsonObject s = QJsonDocument::fromJson(summary.readAll()).object();
        QCOMPARE(s["status"].toString(), r->status);
        QCOMPARE(s["epochs_done"].toInt(), 0);
        QVERIFY(QFileInfo::exists(QDir(r->runDir).filePath("metrics.csv")));
        w_->trainSettings()->setEpochs(1);
        w_->trainSettings()->setSubset(256);
    }

    void eventLoopKeepsTickingDuringTraining() {
        useSmallResNet();
        w_->trainSettings()->setSubset(3000);
        const int id = w_->addVariant();
        QVERIFY(id != 0);
        QSignalSpy done(w_->controller(), &TrainingController::queueFinished);
        QElapsedTimer clock;
        qint64 last = -1, worst = 0;
        int ticks = 0;
        QTimer tick;
        tick.setInterval(10);
        connect(&tick, &QTimer::timeout, this, [&] {
            const qint64 now = clock.elapsed();
            if (last >= 0) {
                worst = std::max(worst, now - last);
            }
            last = now;
            ++ticks;
        });
        clock.start();
        tick.start();
        w_->startTraining();
        QVERIFY(done.wait(180000));
        tick.stop();
        const RunRecord* r = w_->session()->find(id);
        QCOMPARE(r->status, QString("completed"));
        qInfo("training took %lld ms; %d timer ticks, longest gap %lld ms", clock.elapsed(), ticks,
              worst);
        QVERIFY2(clock.elapsed() > 1000, "the run should last long enough to measure");
        QVERIFY2(worst < 100, qPrintable(QString("event loop stalled for %1 ms").arg(worst)));
    }

    // Issue 11, point 8: Run > Resume continues a stopped run with the core's resume, and the
    // result equals an uninterrupted run of the same design and settings.
    void resumeFromTheGuiEqualsAnUninterruptedRun() {
        useSmallResNet();
        w_->trainSettings()->setEpochs(2);
        const int whole = trainOne();
        QVERIFY(whole != 0);
        QCOMPARE(w_->session()->find(whole)->status, QString("completed"));

        const int id = w_->addVariant();
        QVERIFY(id != 0);
        QSignalSpy done(w_->controller(), &TrainingController::queueFinished);
        // An older run is selected in Compare: the run that trains is drawn anyway.
        w_->selectRuns({whole});
        bool drawnWhileTraining = false;
        connect(w_->session(), &Session::runChanged, this, [&](int changed) {
            const RunRecord* r = w_->session()->find(changed);
            if (changed == id && r && !r->liveLoss.empty() && !drawnWhileTraining) {
                w_->trainingChart()->refreshNow();
                QCustomPlot* p = w_->trainingChart()->plot();
                for (int i = 0; i < p->graphCount(); ++i) {
                    drawnWhileTraining =
                        drawnWhileTraining || p->graph(i)->name() == r->name + " (training)";
                }
            }
            if (changed == id && r && r->history.size() == 1 && r->status == "running") {
                w_->stopTraining();  // right after epoch 1 was recorded
            }
        });
        w_->startTraining();
        QVERIFY(done.wait(120000));
        disconnect(w_->session(), &Session::runChanged, this, nullptr);
        QVERIFY(drawnWhileTraining);
        const RunRecord* r = w_->session()->find(id);
        QVERIFY2(r->status.startsWith("cancelled at epoch 2"), qPrintable(r->status));
        QCOMPARE(int(r->history.size()), 1);

        QVERIFY(!w_->resumeRuns({whole}).isEmpty());  // a completed run is not resumed
        QSignalSpy resumed(w_->controller(), &TrainingController::queueFinished);
        QCOMPARE(w_->resumeRuns({id}), QString());
        QVERIFY(resumed.wait(120000));
        r = w_->session()->find(id);
        const RunRecord* ref = w_->session()->find(whole);
        QCOMPARE(r->status, QString("completed"));
        QCOMPARE(r->history.size(), ref->history.size());
        for (size_t e = 0; e < ref->history.size(); ++e) {
            QCOMPARE(r->history[e].trainLoss, ref->history[e].trainLoss);
            QCOMPARE(r->history[e].valAccuracy, ref->history[e].valAccuracy);
        }
        QCOMPARE(r->summary.test.accuracy, ref->summary.test.accuracy);
        QCOMPARE(r->summary.test.loss, ref->summary.test.loss);
        w_->trainSettings()->setEpochs(1);
    }

    void cleanupTestCase() { w_.reset(); }
};

QTEST_MAIN(TestLab)
#include "test_lab.moc"
