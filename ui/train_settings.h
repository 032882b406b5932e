#pragma once
// Hyper-parameters of the next variants: epochs, batch size, learning rate, optimizer, subset,
// validation share, augmentation and device. Produces the TrainConfig fields other than the
// model and the dataset.

#include <QWidget>

#include "core/train/train_api.h"

class QCheckBox;
class QLabel;
class QComboBox;
class QDoubleSpinBox;
class QSpinBox;

namespace scalelab::ui {

class TrainSettings : public QWidget {
    Q_OBJECT
public:
    explicit TrainSettings(QWidget* parent = nullptr);

    // A config with these settings (model and dataset left at their defaults).
    TrainConfig config() const;
    int batchSize() const;

    // Programmatic control (tests).
    void setEpochs(int epochs);
    void setSubset(int images);
    // Runs Add variant queues per design (seeds seed, seed + 1, ...).
    int repeats() const;
    void setRepeats(int runs);
    void setBatchSize(int batch);
    void setValFraction(double fraction);
    void setTestSubset(int images);
    // The optimizer, learning rate and warm-up measured for the spec's family
    // (ModelFamily::trainDefaults); called when the designer's family changes and on first use.
    void applyFamilyDefaults(const ModelSpec& spec);
    // Whether the user's own settings were restored (a first launch has none).
    bool hasSavedSettings() const;

    void saveSettings() const;
    void restoreSettings();

Q_SIGNALS:
    void changed();

private:
    QSpinBox* epochs_ = nullptr;
    QSpinBox* batch_ = nullptr;
    QDoubleSpinBox* lr_ = nullptr;
    QComboBox* optimizer_ = nullptr;
    QComboBox* schedule_ = nullptr;
    QDoubleSpinBox* warmup_ = nullptr;
    QSpinBox* subset_ = nullptr;
    QSpinBox* testSubset_ = nullptr;
    QDoubleSpinBox* valFraction_ = nullptr;
    QSpinBox* cropPadding_ = nullptr;
    QCheckBox* flip_ = nullptr;
    QComboBox* device_ = nullptr;
    QSpinBox* seed_ = nullptr;
    QSpinBox* repeats_ = nullptr;
    QLabel* defaultsNote_ = nullptr;
};

}  // namespace scalelab::ui
