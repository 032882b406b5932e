#pragma once
// The Feature-maps tab: pick a trained run and an image (a test image by index or class, or a
// file), see it as the model does, the class probabilities, one stage's channel activations and
// a Grad-CAM overlay for a chosen class; export the grid and the overlay as PNG.

#include <QImage>
#include <QWidget>

#include "core/inspect/features.h"

class QComboBox;
class QLabel;
class QPushButton;
class QSpinBox;

namespace scalelab::ui {

class FeatureGrid;
class JobRunner;
class ProbabilityChart;
class Session;

class FeaturePanel : public QWidget {
    Q_OBJECT
public:
    FeaturePanel(Session* session, JobRunner* jobs, QWidget* parent = nullptr);

    FeatureGrid* grid() const { return grid_; }
    ProbabilityChart* probabilities() const { return probs_; }
    const FeatureResult& result() const { return result_; }
    bool hasResult() const { return has_; }

    // Programmatic control (tests, the screenshot tour).
    void selectRun(int runId);
    void setTestIndex(int index);
    void setStage(int stage);
    void setImageFile(const QString& path);
    // Inspects with the current choices (asynchronously; `updated` or `errorOccurred` follows).
    void refresh();

    QString exportGrid(const QString& path);
    QString exportOverlay(const QString& path);

Q_SIGNALS:
    void updated();
    void errorOccurred(const QString& message);

private:
    void refreshRuns();
    void show(const FeatureResult& r);
    QString fail(const QString& message);

    Session* session_;
    JobRunner* jobs_;
    QComboBox* run_ = nullptr;
    QComboBox* source_ = nullptr;
    QSpinBox* index_ = nullptr;
    QComboBox* testClass_ = nullptr;
    QPushButton* openFile_ = nullptr;
    QComboBox* stage_ = nullptr;
    QComboBox* camClass_ = nullptr;
    QComboBox* sort_ = nullptr;
    QSpinBox* maxChannels_ = nullptr;
    QLabel* input_ = nullptr;
    QLabel* overlay_ = nullptr;
    QLabel* status_ = nullptr;
    FeatureGrid* grid_ = nullptr;
    ProbabilityChart* probs_ = nullptr;
    QString imagePath_;
    FeatureResult result_;
    bool has_ = false;
    bool pending_ = false;
    QString lastRunDir_;
};

}  // namespace scalelab::ui
