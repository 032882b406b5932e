// Nothing is lost (issue 11, point 1): the session autosaves and comes back at the next launch,
// unsaved changes are asked about on quit and on open, run folders written by the CLI are
// imported, and a session file is checked field by field.

#include <qcustomplot.h>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include "core/data/dataset_spec.h"
#include "ui/charts/pareto_chart.h"
#include "ui/charts/pruning_chart.h"
#include "ui/charts/training_chart.h"
#include "ui/main_window.h"
#include "ui/model_designer.h"
#include "ui/pruning_panel.h"
#include "ui/run_groups.h"
#include "ui/run_table_model.h"
#include "ui/session.h"
#include "ui/train_settings.h"

using namespace scalelab;
using namespace scalelab::ui;

class TestSessionStore : public QObject {
    Q_OBJECT
private:
    QTemporaryDir tmp_;
    QString runsDir_;  // two run folders written by scalelab-cli

    std::unique_ptr<MainWindow> window() {
        auto w = std::make_unique<MainWindow>();
        w->setInteractive(false);
        w->setSessionFolder(tmp_.filePath("session"));
        return w;
    }

    static QJsonObject readJson(const QString& path) {
        QFile f(path);
        f.open(QIODevice::ReadOnly);
        return QJsonDocument::fromJson(f.readAll()).object();
    }
    static void writeJson(const QString& path, const QJsonObject& o) {
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
        f.write(QJsonDocument(o).toJson());
    }

private Q_SLOTS:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);  // settings and autosave of the test only
        if (locateFashionMnist().empty()) {
            QSKIP("Fashion-MNIST not installed (apt install dataset-fashion-mnist)");
        }
        QVERIFY(tmp_.isValid());
        runsDir_ = tmp_.filePath("cli-runs");
        for (const char* name : {"a", "b"}) {
            QProcess cli;
            cli.start(SCALELAB_CLI_PATH,
                      {"train", "--model", "resnet-cifar-8", "--epochs", "1", "--subset", "256",
                       "--batch-size", "64", "--lr", "0.05", "--test-subset", "200", "--threads",
                       "2", "--out", runsDir_ + "/" + name});
            QVERIFY(cli.waitForFinished(120000));
            QCOMPARE(cli.exitCode(), 0);
        }
        QFile::remove(MainWindow::autosavePath());
    }

    void importsRunFoldersWrittenByTheCli() {
        auto w = window();
        QCOMPARE(w->importRunFolders(runsDir_), QString());  // a folder holding many runs
        QCOMPARE(w->session()->runs().size(), 2);
        const RunRecord& r = w->session()->runs()[0];
        QCOMPARE(r.status, QString("completed"));
        QVERIFY(r.hasSummary);
        QCOMPARE(r.summary.test.count, int64_t(200));
        // The accuracy the CLI recorded, exactly.
        QCOMPARE(r.testAccuracy(), readJson(runsDir_ + "/a/summary.json")["test_acc"].toDouble());
        QCOMPARE(int(r.history.size()), 1);
        QVERIFY(r.params > 0 && r.macs > 0);
        QCOMPARE(r.runDir, runsDir_ + "/a");
        // Again: nothing twice. One run folder alone works too.
        QCOMPARE(w->importRunFolders(runsDir_ + "/a"), QString());
        QCOMPARE(w->session()->runs().size(), 2);
        // A folder without runs, and a damaged run, are reported by name.
        QVERIFY(w->importRunFolders(tmp_.filePath("nothing-here")).contains("holds no run folder"));
        QDir().mkpath(tmp_.filePath("damaged/run"));
        QFile bad(tmp_.filePath("damaged/run/config.json"));
        QVERIFY(bad.open(QIODevice::WriteOnly));
        bad.write("{\"model\": 3}");
        bad.close();
        const QString error = w->importRunFolders(tmp_.filePath("damaged"));
        QVERIFY2(error.contains("damaged/run/config.json"), qPrintable(error));
        QVERIFY2(!error.contains("json.exception"), qPrintable(error));
        QCOMPARE(w->session()->runs().size(), 2);
    }

    void autosaveComesBackAtTheNextLaunch() {
        QFile::remove(MainWindow::autosavePath());
        double accuracy = 0;
        {
            auto w = window();
            QVERIFY(!w->hasUnsavedChanges());
            QVERIFY(w->windowTitle().contains("Untitled session"));
            QCOMPARE(w->importRunFolders(runsDir_), QString());
            accuracy = w->session()->runs()[0].testAccuracy();
            QVERIFY(w->hasUnsavedChanges());
            // Written within ~2 s of the edit, without any save by the user.
            QTRY_VERIFY_WITH_TIMEOUT(QFileInfo::exists(MainWindow::autosavePath()), 5000);
            // The window is destroyed without closing: as a crash or a kill would leave it.
        }
        auto again = window();
        QVERIFY(again->restoreAutosave());
        QCOMPARE(again->session()->runs().size(), 2);
        QCOMPARE(again->session()->runs()[0].testAccuracy(), accuracy);
        QCOMPARE(again->session()->runs()[1].status, QString("completed"));
        QVERIFY(again->hasUnsavedChanges());  // still not in a session file of the user's
    }

    // Pruning sweeps, names and notes live in the run folder and in the session: an import brings
    // them in, an autosave and relaunch brings them back (issue 11, points 1 and 7).
    void pruningNamesAndNotesComeBackAfterImportAndRelaunch() {
        QProcess cli;
        cli.start(SCALELAB_CLI_PATH, {"prune", "--run", runsDir_ + "/a", "--method",
                                      "l1-structured", "--levels", "0,0.5", "--test-subset", "100",
                                      "--out", runsDir_ + "/a/pruning-cli/pruning.csv"});
        QVERIFY(cli.waitForFinished(120000));
        QCOMPARE(cli.exitCode(), 0);
        QVERIFY(QFileInfo::exists(runsDir_ + "/a/pruning-cli/pruning.json"));
        QFile::remove(MainWindow::autosavePath());
        {
            auto w = window();
            QCOMPARE(w->importRunFolders(runsDir_ + "/a"), QString());
            const RunRecord& r = w->session()->runs()[0];
            QCOMPARE(int(r.pruning.size()), 1);
            QCOMPARE(int(r.pruning[0].result.rows.size()), 2);
            QVERIFY(r.pruning[0].finished);
            w->pruningPanel()->selectRun(r.id);
            QCOMPARE(int(w->pruningPanel()->result().rows.size()), 2);
            QVERIFY(w->pruningPanel()->chart()->pointCount() >= 2);
            // Rename and annotate in the Compare table: kept in the session and the folder.
            RunTableModel* model = w->findChild<RunTableModel*>();
            QVERIFY(model);
            QVERIFY(
                model->setData(model->index(0, RunTableModel::Name), "baseline R8", Qt::EditRole));
            QVERIFY(model->setData(model->index(0, RunTableModel::Notes), "keep; lr 0.05",
                                   Qt::EditRole));
            QVERIFY(!model->setData(model->index(0, RunTableModel::Name), "  ", Qt::EditRole));
            QCOMPARE(w->session()->runs()[0].name, QString("baseline R8"));
            QCOMPARE(readJson(runsDir_ + "/a/label.json")["notes"].toString(),
                     QString("keep; lr 0.05"));
            // Within-epoch points and throughput are part of the record too.
            TrainProgress p;
            p.kind = TrainProgress::Kind::Batch;
            p.epoch = 1;
            p.epochs = 1;
            p.batch = 2;
            p.batchesPerEpoch = 4;
            p.trainLoss = 1.25;
            p.trainAccuracy = 0.5;
            p.imagesPerSec = 321;
            w->session()->applyProgress(r.id, p);
            QTRY_VERIFY_WITH_TIMEOUT(QFileInfo::exists(MainWindow::autosavePath()), 5000);
            w->autosaveNow();
        }
        auto again = window();
        QVERIFY(again->restoreAutosave());
        const RunRecord& back = again->session()->runs()[0];
        QCOMPARE(back.name, QString("baseline R8"));
        QCOMPARE(back.notes, QString("keep; lr 0.05"));
        QCOMPARE(int(back.pruning.size()), 1);
        QCOMPARE(back.pruning[0].result.rows[1].level, 0.5);
        QCOMPARE(int(back.liveLoss.size()), 1);
        QCOMPARE(back.liveLoss[0], QPointF(0.5, 1.25));
        QCOMPARE(back.imagesPerSec, 321.0);
        again->pruningPanel()->selectRun(back.id);
        QCOMPARE(int(again->pruningPanel()->result().rows.size()), 2);
        // A fresh import of the folder reads the label the table wrote.
        auto third = window();
        QCOMPARE(third->importRunFolders(runsDir_ + "/a"), QString());
        QCOMPARE(third->session()->runs()[0].name, QString("baseline R8"));
        // The runs CSV carries every hyperparameter and the notes.
        const QString csv = tmp_.filePath("runs.csv");
        QCOMPARE(third->exportRunsCsv(csv), QString());
        QFile f(csv);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QString header = QString::fromUtf8(f.readLine());
        for (const char* column :
             {"notes", "\"config.lr\"", "\"config.weight_decay\"", "\"config.optimizer\"",
              "\"config.warmup_epochs\"", "\"config.seed\"", "\"config.model.width\"",
              "\"config.train_subset\"", "\"config.precise_bn\""}) {
            QVERIFY2(header.contains(column), qPrintable(column + (" not in " + header)));
        }
    }

    // Issue 12, point 3: runs that differ only in the seed are one experiment; the table, the
    // training chart and the Pareto chart show mean ± sample std over them.
    void seedGroupsShowMeanAndStd() {
        auto w = window();
        TrainConfig base;
        base.model = modelSpecFromName("resnet-cifar-8", 1, 10, 28);
        base.dataset = "fashion-mnist";
        base.epochs = 2;
        const double accuracies[] = {0.80, 0.82, 0.87};
        for (int k = 0; k < 3; ++k) {
            RunRecord r;
            r.config = base;
            r.config.seed = uint64_t(42 + k);
            r.config.threads = k;  // how it ran is no part of the experiment
            r.status = "completed";
            r.macs = 1000000;
            r.params = 1000;
            r.hasSummary = true;
            r.summary.state = RunState::Completed;
            r.summary.completed = true;
            r.summary.test.count = 100;
            r.summary.test.accuracy = accuracies[k];
            for (int e = 1; e <= 2; ++e) {
                EpochMetrics m;
                m.epoch = e;
                m.trainLoss = 1.0 / e + 0.1 * k;
                m.valLoss = 1.2 / e + 0.1 * k;
                m.trainAccuracy = 0.5 + 0.1 * e;
                m.valAccuracy = 0.4 + 0.1 * e + 0.01 * k;
                r.history.push_back(m);
            }
            r.summary.history = r.history;
            w->session()->importRun(r);
        }
        RunRecord other;  // another experiment: a different learning rate
        other.config = base;
        other.config.lr = 0.5;
        other.status = "completed";
        other.macs = 2000000;
        other.hasSummary = true;
        other.summary.test.count = 100;
        other.summary.test.accuracy = 0.7;
        w->session()->importRun(other);

        const std::vector<RunGroup> groups = groupRuns(w->session()->runs());
        QCOMPARE(int(groups.size()), 2);
        QCOMPARE(groups[0].ids, QList<int>({1, 2, 3}));
        // By hand: mean 0.83; deviations -0.03, -0.01, 0.04; sum of squares 0.0026; / (3 - 1).
        QVERIFY(qAbs(groups[0].testAccuracy.mean - 0.83) < 1e-12);
        QVERIFY(qAbs(groups[0].testAccuracy.std - std::sqrt(0.0026 / 2)) < 1e-12);
        QCOMPARE(groups[0].testAccuracy.count, 3);
        QCOMPARE(int(groups[0].valLoss.size()), 2);
        QVERIFY(qAbs(groups[0].valLoss[1].mean - (0.6 + 0.1)) < 1e-12);  // 0.6 + mean(0, .1, .2)
        QCOMPARE(groups[1].ids, QList<int>({4}));

        w->setGroupSeeds(true);
        RunTableModel* model = w->findChild<RunTableModel*>();
        QCOMPARE(model->rowCount(), 2);
        QCOMPARE(model->runIdsAt(0), QList<int>({1, 2, 3}));
        const QString test =
            model->data(model->index(0, RunTableModel::Test), Qt::DisplayRole).toString();
        QCOMPARE(test, QString("83.00 ± 3.61 %"));
        QVERIFY(model->data(model->index(0, RunTableModel::Name), Qt::DisplayRole)
                    .toString()
                    .contains("3 seeds"));
        w->paretoChart()->refreshNow();
        QCOMPARE(w->paretoChart()->pointCount(), 2);  // the group's mean and the other run
        QCOMPARE(w->paretoChart()->errorBarCount(), 1);
        w->trainingChart()->refreshNow();
        int bands = 0;
        for (int i = 0; i < w->trainingChart()->plot()->graphCount(); ++i) {
            bands += w->trainingChart()->plot()->graph(i)->channelFillGraph() != nullptr;
        }
        QCOMPARE(bands, 4);  // train and validation, loss and accuracy
        w->setGroupSeeds(false);
        QCOMPARE(model->rowCount(), 4);
        w->paretoChart()->refreshNow();
        QCOMPARE(w->paretoChart()->errorBarCount(), 0);
    }

    // Issue 12, point 3: a sweep (or run) folder is watched: runs appear and fill in as another
    // process writes them.
    void watchedFoldersFillInLive() {
        auto w = window();
        const QString sweep = tmp_.filePath("live-sweep");
        QVERIFY(QDir().mkpath(sweep + "/runs"));
        QCOMPARE(w->openSweep(sweep), QString());  // nothing there yet: watched, not refused
        QCOMPARE(w->watchedFolders(), QStringList({QDir::cleanPath(sweep + "/runs")}));
        QCOMPARE(w->session()->runs().size(), 0);
        // A run "starts": its folder appears with config and metrics, no summary yet.
        const QString run = sweep + "/runs/r1";
        QVERIFY(QDir().mkpath(run));
        for (const char* name : {"config.json", "metrics.csv", "checksums.json"}) {
            QVERIFY(QFile::copy(runsDir_ + "/a/" + name, run + "/" + name));
        }
        QCOMPARE(w->refreshWatched(), 1);
        QCOMPARE(w->session()->runs().size(), 1);
        QVERIFY2(!w->session()->runs()[0].hasSummary, qPrintable(w->session()->runs()[0].status));
        QCOMPARE(w->refreshWatched(), 0);  // nothing changed: nothing re-read
        // It finishes: the summary arrives and the record fills in.
        QVERIFY(QFile::copy(runsDir_ + "/a/summary.json", run + "/summary.json"));
        QCOMPARE(w->refreshWatched(), 1);
        QCOMPARE(w->session()->runs().size(), 1);
        QCOMPARE(w->session()->runs()[0].status, QString("completed"));
        QCOMPARE(w->session()->runs()[0].testAccuracy(),
                 readJson(runsDir_ + "/a/summary.json")["test_acc"].toDouble());
    }

    void unsavedChangesAreAskedAboutOnQuitAndOpen() {
        auto w = window();
        w->show();
        QCOMPARE(w->importRunFolders(runsDir_ + "/a"), QString());
        QVERIFY(w->hasUnsavedChanges());
        const QString other = tmp_.filePath("other.json");
        {
            Session s;
            QCOMPARE(s.save(other), QString());  // an empty session
        }
        // Cancel: nothing replaced, nothing closed.
        w->setUnsavedAnswer(QMessageBox::Cancel);
        QVERIFY(w->openSession(other).contains("unsaved changes"));
        QCOMPARE(w->session()->runs().size(), 1);
        QVERIFY(!w->close());
        QVERIFY(w->isVisible());
        // Save: written to the session's file, then opened; the title names the file.
        const QString mine = tmp_.filePath("mine.json");
        QCOMPARE(w->saveSession(mine), QString());
        QVERIFY(!w->hasUnsavedChanges());
        QVERIFY(w->windowTitle().startsWith("mine.json"));
        QVERIFY(w->recentSessions().contains(QFileInfo(mine).absoluteFilePath()));
        QCOMPARE(w->importRunFolders(runsDir_ + "/b"), QString());
        QVERIFY(w->hasUnsavedChanges());
        w->setUnsavedAnswer(QMessageBox::Save);
        QCOMPARE(w->openSession(other), QString());
        QCOMPARE(w->session()->runs().size(), 0);
        Session saved;
        QCOMPARE(saved.load(mine), QString());
        QCOMPARE(saved.runs().size(), 2);  // the second import was saved before leaving
        // Discard on quit: closes, and the next launch reopens the session as last saved.
        QCOMPARE(w->openSession(mine), QString());
        QCOMPARE(w->importRunFolders(tmp_.filePath("cli-runs")), QString());  // both known
        w->session()->removeQueued();
        w->session()->clear();
        QVERIFY(w->hasUnsavedChanges());
        w->setUnsavedAnswer(QMessageBox::Discard);
        QVERIFY(w->close());
        auto next = window();
        QVERIFY(next->restoreAutosave());
        QCOMPARE(next->session()->runs().size(), 2);
        QCOMPARE(next->sessionPath(), mine);
        QVERIFY(!next->hasUnsavedChanges());
    }

    // Issue 11, point 2: each family trains with its own measured defaults.
    void eachFamilyBringsItsMeasuredTrainingDefaults() {
        auto w = window();
        // The restored settings stand until the family changes: start from each other family.
        const char* order[] = {"resnet", "efficientnet", "mobilenet-v2", "resnet", "efficientnet"};
        for (int i = 0; i < 5; ++i) {
            const char* id = order[i];
            w->designer()->setFamily(id);
            if (i == 0) {
                continue;  // maybe the restored family: no change, no defaults applied
            }
            QCoreApplication::processEvents();
            ModelSpec spec = w->designer()->unscaledSpec();
            QCOMPARE(QString::fromStdString(spec.family), QString(id));
            const TrainConfig want = familyTrainDefaults(spec);
            const TrainConfig have = w->trainSettings()->config();
            QCOMPARE(have.optimizer, want.optimizer);
            QCOMPARE(have.lr, want.lr);
            QCOMPARE(have.warmupEpochs, std::min(want.warmupEpochs, double(have.epochs)));
        }
        QCOMPARE(familyTrainDefaults(modelSpecFromName("resnet-18")).optimizer,
                 OptimizerKind::AdamW);
        QCOMPARE(familyTrainDefaults(modelSpecFromName("mobilenet-v2")).lr, 0.05);
    }

    void sessionFilesAreCheckedFieldByField() {
        const QString good = tmp_.filePath("good.json");
        {
            auto w = window();
            QCOMPARE(w->importRunFolders(runsDir_ + "/a"), QString());
            QCOMPARE(w->saveSession(good), QString());
        }
        const QJsonObject root = readJson(good);
        auto withRun = [&](const std::function<void(QJsonObject&)>& edit) {
            QJsonObject copy = root;
            QJsonArray runs = copy["runs"].toArray();
            QJsonObject run = runs[0].toObject();
            edit(run);
            runs[0] = run;
            copy["runs"] = runs;
            const QString path = tmp_.filePath("edited.json");
            writeJson(path, copy);
            Session s;
            return s.load(path);
        };
        QString e = withRun([](QJsonObject& r) { r["macs"] = -5; });
        QVERIFY2(e.contains("'macs'") && e.contains("-5"), qPrintable(e));
        e = withRun([](QJsonObject& r) {
            QJsonArray h = r["history"].toArray();
            QJsonObject first = h[0].toObject();
            first["train_acc"] = 1.5;
            h[0] = first;
            r["history"] = h;
        });
        QVERIFY2(e.contains("train_acc") && e.contains("[0, 1]"), qPrintable(e));
        e = withRun([](QJsonObject& r) {
            QJsonObject s = r["summary"].toObject();
            QJsonObject t = s["test"].toObject();
            t["count"] = -3;
            s["test"] = t;
            r["summary"] = s;
        });
        QVERIFY2(e.contains("count"), qPrintable(e));
        e = withRun([](QJsonObject& r) { r["id"] = 0; });
        QVERIFY2(e.contains("id"), qPrintable(e));
        // A session with a bad run replaces nothing.
        auto w = window();
        QCOMPARE(w->importRunFolders(runsDir_ + "/b"), QString());
        QVERIFY(!w->openSession(tmp_.filePath("edited.json")).isEmpty());
        QCOMPARE(w->session()->runs().size(), 1);
    }
};

QTEST_MAIN(TestSessionStore)
#include "test_session_store.moc"
