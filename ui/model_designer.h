#pragma once
// The model designer: EfficientNet by compound phi (alpha, beta, gamma), by explicit width,
// depth and resolution, or by preset B0-B7; ResNet by preset depth, CIFAR-style 6n+2 or custom
// blocks. A live readout (params, MACs, FLOPs, resolution, stages, memory) follows every change;
// the analysis is torch-free and takes well under a millisecond, so it runs on each slider move.

#include <QWidget>

#include "core/models/analysis.h"
#include "core/models/model_spec.h"

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QSlider;
class QSpinBox;
class QStackedWidget;

namespace scalelab::ui {

class ModelDesigner : public QWidget {
    Q_OBJECT
public:
    enum class EffMode { Compound = 0, Manual = 1, Preset = 2 };
    enum class ResMode { Preset = 0, Cifar = 1, Custom = 2 };

    explicit ModelDesigner(QWidget* parent = nullptr);

    // The dataset decides channels and classes; small images (<= 64 px) get a 32 px base.
    void setDataShape(int channels, int classes, int side);
    void setBatchSize(int batch);  // for the memory estimate

    bool isValid() const { return valid_; }
    QString errorText() const { return error_; }
    ModelSpec currentSpec() const { return spec_; }
    const ModelAnalysis& currentAnalysis() const { return analysis_; }
    // Short description of how the model was scaled: "phi 1.00 (a 1.20 b 1.10 g 1.15)", ...
    QString scalingText() const;
    // alpha, beta, gamma and the EfficientNet base (w, d, base px) the scaling curves start from.
    EfficientNetScaling compoundBase() const;
    QString readoutText() const;

    // Programmatic control (tests, restoring settings).
    void setFamily(Family family);
    void setEffMode(EffMode mode);
    void setPhi(double phi);
    void setResMode(ResMode mode);
    void setPreset(int b);
    void setCifarN(int n);
    QSlider* phiSlider() const { return phiSlider_; }

    // QSettings persistence of every control.
    void saveSettings() const;
    void restoreSettings();

Q_SIGNALS:
    void specChanged();

private:
    void rebuild();
    void updateLabels();
    QWidget* buildEfficientNetPage();
    QWidget* buildResNetPage();

    QComboBox* family_ = nullptr;
    QStackedWidget* familyPages_ = nullptr;
    // EfficientNet
    QComboBox* effMode_ = nullptr;
    QStackedWidget* effPages_ = nullptr;
    QSlider* phiSlider_ = nullptr;
    QLabel* phiLabel_ = nullptr;
    QDoubleSpinBox *alpha_ = nullptr, *beta_ = nullptr, *gamma_ = nullptr;
    QLabel* abgLabel_ = nullptr;
    QSlider *widthSlider_ = nullptr, *depthSlider_ = nullptr, *resSlider_ = nullptr;
    QLabel *widthLabel_ = nullptr, *depthLabel_ = nullptr, *resLabel_ = nullptr;
    QComboBox* preset_ = nullptr;
    QSpinBox* effBase_ = nullptr;
    // ResNet
    QComboBox* resMode_ = nullptr;
    QStackedWidget* resPages_ = nullptr;
    QComboBox* resPreset_ = nullptr;
    QSlider* cifarN_ = nullptr;
    QLabel* cifarLabel_ = nullptr;
    QLineEdit* blocks_ = nullptr;
    QComboBox* blockType_ = nullptr;
    QSpinBox* baseWidth_ = nullptr;
    QSpinBox* resInput_ = nullptr;
    QComboBox* stem_ = nullptr;

    QLabel* readout_ = nullptr;

    int inChannels_ = 1;
    int numClasses_ = 10;
    int batch_ = 128;
    bool valid_ = false;
    QString error_;
    ModelSpec spec_;
    ModelAnalysis analysis_;
    bool building_ = false;
};

}  // namespace scalelab::ui
