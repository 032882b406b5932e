#pragma once
// The ScaleLab main window: designer, data and training settings on the left with the run
// queue; Training, Compare, Cost, Pruning and Feature-map tabs on the right.

#include <QHash>
#include <QMainWindow>
#include <QMessageBox>
#include <QTimer>

class QCustomPlot;
class QCheckBox;
class QLabel;
class QMenu;
class QProgressBar;
class QPushButton;
class QSortFilterProxyModel;
class QSplitter;
class QTabWidget;
class QTableView;

namespace scalelab::ui {

class ConfusionChart;
class CostChart;
class DatasetPanel;
class FeaturePanel;
class JobRunner;
class PruningPanel;
class ModelDesigner;
class ParetoChart;
class RunTableModel;
class ScalingChart;
class Session;
class TrainSettings;
class TrainingChart;
class TrainingController;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    // Parts, for tests and the screenshot tour.
    DatasetPanel* datasetPanel() const { return datasetPanel_; }
    ModelDesigner* designer() const { return designer_; }
    TrainSettings* trainSettings() const { return trainSettings_; }
    Session* session() const { return session_; }
    TrainingController* controller() const { return controller_; }
    TrainingChart* trainingChart() const { return trainingChart_; }
    ParetoChart* paretoChart() const { return paretoChart_; }
    ScalingChart* scalingChart() const { return scalingChart_; }
    CostChart* costChart() const { return costChart_; }
    ConfusionChart* confusionChart() const { return confusionChart_; }
    QTableView* runTable() const { return table_; }
    QTabWidget* tabs() const { return tabs_; }
    QTabWidget* leftTabs() const { return leftTabs_; }
    QTabWidget* compareTabs() const { return compareTabs_; }
    PruningPanel* pruningPanel() const { return pruningPanel_; }
    FeaturePanel* featurePanel() const { return featurePanel_; }

    // false: no dialogs (errors go to the status bar and lastError); closing stops training
    // without asking. For tests and scripted screenshots.
    void setInteractive(bool interactive) { interactive_ = interactive; }
    QString lastError() const { return lastError_; }
    // Where new run folders go (created when the first run starts).
    void setSessionFolder(const QString& folder);
    QString sessionFolder() const;

    // Actions (each returns "" on success, else the message it also reported).
    // Queues the design (as many runs as Training's "Seeds" asks, seed, seed + 1, ...); returns
    // the first run's id, 0 when the design is impossible.
    int addVariant();
    void startTraining();
    // Run > Resume: queues the given stopped runs to continue from their last finished epoch
    // (the core's resume) and starts the queue. "" or the reasons some could not be queued.
    QString resumeRuns(const QList<int>& ids);
    void stopTraining();
    QString exportChart(QCustomPlot* plot, const QString& path);
    QString exportRunsCsv(const QString& path);
    QString exportSelectedWeights(const QString& path);
    // File > Export ONNX…: the selected run as an ONNX file (core/export/onnx_api.h).
    QString exportSelectedOnnx(const QString& path);
    QString saveSession(const QString& path);
    QString openSession(const QString& path);
    // Imports the run folders at `path` (one run folder, or a folder holding many, written by
    // the GUI or the CLI) into the session; folders already in it are skipped.
    QString importRunFolders(const QString& path);
    // Imports a sweep folder's runs (DIR/runs, or DIR itself) and keeps watching it: runs that
    // start later appear, running ones fill in as their files change (every 2 s).
    QString openSweep(const QString& dir);
    // Re-reads the watched folders now (the timer does it every 2 s). Returns runs added or
    // updated.
    int refreshWatched();
    QStringList watchedFolders() const { return watched_; }
    // Seed groups: one table row, one mean curve with a ± std band and one Pareto point with
    // error bars per set of runs that differ only in the seed.
    void setGroupSeeds(bool grouped);

    // Nothing is lost: the session is written to autosavePath() (throttled, within ~2 s of any
    // change: a finished epoch, a pruning job, an edit) and reopened by restoreAutosave() at the
    // next launch (main.cpp calls it; tests call it explicitly).
    static QString autosavePath();
    bool restoreAutosave();
    void autosaveNow();
    // The named session file ("" while untitled), its unsaved-changes state and the recent list.
    QString sessionPath() const { return sessionPath_; }
    bool hasUnsavedChanges() const { return isWindowModified(); }
    QStringList recentSessions() const;
    // Before quitting or replacing the session: asks Save / Discard / Cancel when there are
    // unsaved changes; true means go on. Non-interactive windows answer `unsavedAnswer`.
    bool confirmUnsavedChanges();
    void setUnsavedAnswer(QMessageBox::StandardButton answer) { unsavedAnswer_ = answer; }
    // Off for the screenshot tour and one-shot screenshots: they never touch the user's session.
    void setAutosaveEnabled(bool enabled) { autosaveEnabled_ = enabled; }
    // Brings the tab holding `page` (a chart or a panel) to the front.
    void showTab(QWidget* page);
    // The chart on screen (for Export chart), or nullptr.
    QCustomPlot* currentPlot() const;
    // Selects runs in the Compare table.
    void selectRuns(const QList<int>& ids);
    QList<int> selectedRuns() const;

protected:
    void closeEvent(QCloseEvent* event) override;

private:
    void buildMenus();
    QWidget* buildLeftPanel();
    QWidget* buildRightPanel();
    void onDatasetLoaded();
    void onDesignChanged();
    void onSelectionChanged();
    void updateProgress();
    void updateButtons();
    void report(const QString& error);
    void sessionEdited();
    void setSessionPath(const QString& path, bool modified);
    void rememberRecent(const QString& path);
    void rebuildRecentMenu();

    Session* session_ = nullptr;
    TrainingController* controller_ = nullptr;
    RunTableModel* tableModel_ = nullptr;
    QSortFilterProxyModel* proxy_ = nullptr;

    QSplitter* splitter_ = nullptr;
    QSplitter* compareSplitter_ = nullptr;
    QTabWidget* leftTabs_ = nullptr;
    QTabWidget* tabs_ = nullptr;
    QTabWidget* compareTabs_ = nullptr;
    DatasetPanel* datasetPanel_ = nullptr;
    ModelDesigner* designer_ = nullptr;
    TrainSettings* trainSettings_ = nullptr;
    TrainingChart* trainingChart_ = nullptr;
    ParetoChart* paretoChart_ = nullptr;
    ScalingChart* scalingChart_ = nullptr;
    CostChart* costChart_ = nullptr;
    ConfusionChart* confusionChart_ = nullptr;
    QTableView* table_ = nullptr;
    JobRunner* jobs_ = nullptr;
    PruningPanel* pruningPanel_ = nullptr;
    FeaturePanel* featurePanel_ = nullptr;

    QPushButton* addButton_ = nullptr;
    QPushButton* trainButton_ = nullptr;
    QPushButton* stopButton_ = nullptr;
    QProgressBar* runProgress_ = nullptr;
    QProgressBar* queueProgress_ = nullptr;
    QLabel* runLabel_ = nullptr;
    QLabel* queueLabel_ = nullptr;
    QLabel* queueSummary_ = nullptr;

    QTimer designThrottle_;
    QTimer autosaveTimer_;
    int addOneVariant(uint64_t seedOffset);
    QTimer watchTimer_;                  // re-reads watched sweep / run folders
    QStringList watched_;                // folders whose runs are imported live
    QHash<QString, QString> seenStamp_;  // run folder -> its files' sizes and times when read
    QCheckBox* groupSeeds_ = nullptr;
    std::string lastFamily_;  // the designer's family when its training defaults were applied
    QString sessionPath_;
    QMenu* recentMenu_ = nullptr;
    bool restoring_ = false;
    bool autosaveEnabled_ = true;  // loading a session: its reset is no edit
    QMessageBox::StandardButton unsavedAnswer_ = QMessageBox::Discard;
    bool interactive_ = true;
    QString lastError_;
};

}  // namespace scalelab::ui
