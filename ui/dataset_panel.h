#pragma once
// The dataset picker: choose Fashion-MNIST (preselected), MNIST, CIFAR-10 or an image folder;
// shows sizes, statistics, class names and a grid of samples. Loads run off the GUI thread.

#include <QFutureWatcher>
#include <QString>
#include <QStringList>
#include <QWidget>
#include <atomic>
#include <memory>

#include "core/data/dataset_api.h"

class QComboBox;
class QLabel;
class QListWidget;
class QProgressBar;
class QPushButton;

namespace scalelab::ui {

class SampleGrid;

// What a background load hands back to the GUI thread.
struct PreviewResult {
    bool ok = false;
    DatasetPreview preview;
    QString error;  // the core's message when !ok
};

class DatasetPanel : public QWidget {
    Q_OBJECT
public:
    explicit DatasetPanel(QWidget* parent = nullptr);
    ~DatasetPanel() override;

    // false: errors are reported through loadFailed and the panel's text only, no dialog
    // (for tests and scripted screenshots).
    void setInteractive(bool interactive) { interactive_ = interactive; }
    QString currentSpec() const { return currentSpec_; }
    QString lastError() const { return lastError_; }
    QStringList classNames() const;
    const DatasetSummary& summary() const { return summary_; }
    SampleGrid* sampleGrid() const { return grid_; }
    bool isLoading() const { return watcher_.isRunning(); }

public Q_SLOTS:
    // Loads a dataset given as a spec string ("fashion-mnist", "mnist:/path", ...).
    void loadSpec(const QString& spec);
    // Asks for a folder, then loads it as the given kind.
    void openFolder(scalelab::DatasetKind kind);

Q_SIGNALS:
    void datasetLoaded(const QString& spec);
    void loadFailed(const QString& message);
    void statusMessage(const QString& text);

private:
    void onComboActivated(int index);
    void onLoadFinished();
    void showSummary();
    void setBusy(bool busy);
    int comboIndexOf(const QString& spec) const;

    QComboBox* combo_ = nullptr;
    QPushButton* openButton_ = nullptr;
    QProgressBar* progress_ = nullptr;
    QLabel* summaryLabel_ = nullptr;
    QListWidget* classList_ = nullptr;
    SampleGrid* grid_ = nullptr;

    QFutureWatcher<PreviewResult> watcher_;
    std::shared_ptr<std::atomic<bool>> cancel_;
    QString loadingSpec_;
    QString currentSpec_;
    QString lastError_;
    DatasetSummary summary_;
    bool interactive_ = true;
};

}  // namespace scalelab::ui
