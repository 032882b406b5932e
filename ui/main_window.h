#pragma once
// The ScaleLab main window: designer, data and training settings on the left with the run
// queue; Training, Compare, Cost, Pruning and Feature-map tabs on the right.

#include <QMainWindow>
#include <QTimer>

class QCustomPlot;
class QLabel;
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
    int addVariant();  // returns the run id, 0 when the design is impossible
    void startTraining();
    void stopTraining();
    QString exportChart(QCustomPlot* plot, const QString& path);
    QString exportRunsCsv(const QString& path);
    QString exportSelectedWeights(const QString& path);
    QString saveSession(const QString& path);
    QString openSession(const QString& path);
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
    bool interactive_ = true;
    QString lastError_;
};

}  // namespace scalelab::ui
