#pragma once
// The Pruning tab: pick a trained run, methods, levels and fine-tuning epochs; the sweep runs in
// the background with progress and Stop; the chart fills as rows arrive; the rows, the chart and
// each pruned model's weights can be exported.

#include <QWidget>
#include <vector>

#include "core/prune/prune_api.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTableWidget;

namespace scalelab::ui {

class JobRunner;
class PruningChart;
class Session;

class PruningPanel : public QWidget {
    Q_OBJECT
public:
    PruningPanel(Session* session, JobRunner* jobs, QWidget* parent = nullptr);

    PruningChart* chart() const { return chart_; }
    const PruneSweepResult& result() const { return result_; }
    bool isRunning() const { return running_; }

    // Programmatic control (tests, the screenshot tour).
    void selectRun(int runId);
    void setMethods(const std::vector<PruneMethod>& methods);
    void setLevels(const QString& levels);
    void setFinetuneEpochs(int epochs);
    void setPerStage(bool enabled);

    // Returns "" on success, else the message (also shown to the user).
    QString startSweep();
    void stop();
    QString exportCsv(const QString& path);
    QString exportPrunedWeights(int row, const QString& path);

Q_SIGNALS:
    void sweepFinished(const QString& status);
    void errorOccurred(const QString& message);

private:
    void refreshRuns();
    void addRow(const PruneRow& row);
    void appendTableRow(const PruneRow& row);
    // Shows the latest recorded sweep of the selected run (after a reopen, an import, or when
    // another run is picked); nothing changes while a sweep runs.
    void showStoredSweep();
    // Writes the sweep so far into its folder and the session ("" or the problem).
    QString keepRecord();
    QString fail(const QString& message);

    Session* session_;
    JobRunner* jobs_;
    QComboBox* run_ = nullptr;
    QCheckBox* global_ = nullptr;
    QCheckBox* layer_ = nullptr;
    QCheckBox* structured_ = nullptr;
    QLineEdit* levels_ = nullptr;
    QSpinBox* finetune_ = nullptr;
    QSpinBox* finetuneSubset_ = nullptr;
    QCheckBox* perStage_ = nullptr;
    QPushButton* start_ = nullptr;
    QPushButton* stop_ = nullptr;
    QProgressBar* progress_ = nullptr;
    QLabel* status_ = nullptr;
    QTableWidget* table_ = nullptr;
    PruningChart* chart_ = nullptr;
    PruneSweepResult result_;
    PruneSweepRecord record_;  // the sweep running or last run, as written to its folder
    int recordRunId_ = 0;      // the session run it belongs to
    QString shownDir_;         // folder of the sweep the table and chart show ("" none)
    QString outputDir_;
    bool running_ = false;
};

}  // namespace scalelab::ui
