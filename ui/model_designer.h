#pragma once
// The model designer, read from the family registry: pick a family and one of its presets, turn
// the family's own parameters (one field per declared parameter, with its range and meaning),
// and scale any family the same way -- by compound phi (alpha, beta, gamma) or by explicit
// width, depth and resolution, optionally rounding the scaled side to a multiple of 8, 16 or 32 px.
// A live readout (params, MACs, FLOPs, resolution, stages, memory, and for a scaled model the
// predicted and exact growth and the split of their gap) follows every change; the analysis is
// torch-free and takes well under a millisecond, so it runs on each slider move. Nothing here names
// a family.

#include <QWidget>

#include <map>

#include "core/models/analysis.h"
#include "core/models/model_spec.h"

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QSlider;
class QSpinBox;
class QStackedWidget;

namespace scalelab {
class ModelFamily;
}

namespace scalelab::ui {

class ModelDesigner : public QWidget {
    Q_OBJECT
public:
    explicit ModelDesigner(QWidget* parent = nullptr);

    // The dataset decides channels and classes; small images (<= 64 px) get a 32 px base.
    void setDataShape(int channels, int classes, int side);
    void setBatchSize(int batch);  // for the memory estimate

    bool isValid() const { return valid_; }
    QString errorText() const { return error_; }
    ModelSpec currentSpec() const { return spec_; }
    const ModelAnalysis& currentAnalysis() const { return analysis_; }
    // The preset with the family parameters applied, before scaling (phi = 0).
    ModelSpec unscaledSpec() const { return base_; }
    // The scaling as set: its mode and all of w, d, r, phi, alpha, beta, gamma.
    Scaling scaling() const;
    // Short description of how the model was scaled: "phi 1.00 (a 1.20 b 1.10 g 1.15)", ...
    QString scalingText() const;
    QString readoutText() const;
    // The field that shows the current problem (nullptr when valid or none applies).
    QWidget* problemField() const { return problemField_; }

    // Programmatic control (tests, the screenshot tour, restoring settings).
    void setFamily(const std::string& id);
    void setPreset(const std::string& name);
    void setParam(const std::string& key, const QString& text);
    void setScalingMode(Scaling::Mode mode);
    void setPhi(double phi);
    void setBaseResolution(int px);
    QSlider* phiSlider() const { return phiSlider_; }

    // QSettings persistence of every control.
    void saveSettings() const;
    void restoreSettings();

Q_SIGNALS:
    void specChanged();

private:
    struct FamilyPage {
        const ModelFamily* family = nullptr;
        QComboBox* preset = nullptr;
        std::map<std::string, QWidget*> fields;  // parameter key -> its editor
    };

    void rebuild();
    void updateLabels();
    QWidget* buildFamilyPage(FamilyPage& page);
    QWidget* buildScalingBox();
    void loadPresetIntoFields(FamilyPage& page);
    ParamMap fieldValues(const FamilyPage& page) const;
    FamilyPage& currentPage();
    const FamilyPage& currentPage() const;
    void markProblem();

    QComboBox* family_ = nullptr;
    QStackedWidget* familyPages_ = nullptr;
    std::vector<FamilyPage> pages_;
    // Scaling (every family)
    QComboBox* scaleMode_ = nullptr;
    QStackedWidget* scalePages_ = nullptr;
    QSlider* phiSlider_ = nullptr;
    QLabel* phiLabel_ = nullptr;
    QDoubleSpinBox *alpha_ = nullptr, *beta_ = nullptr, *gamma_ = nullptr;
    QLabel* abgLabel_ = nullptr;
    QSlider *widthSlider_ = nullptr, *depthSlider_ = nullptr, *resSlider_ = nullptr;
    QLabel *widthLabel_ = nullptr, *depthLabel_ = nullptr, *resLabel_ = nullptr;
    QSpinBox* baseRes_ = nullptr;
    QComboBox* resMultiple_ = nullptr;  // data: the resolution multiple in px (0 = exact)

    QLabel* readout_ = nullptr;

    int inChannels_ = 1;
    int numClasses_ = 10;
    int batch_ = 128;
    bool valid_ = false;
    QString error_;
    QWidget* problemField_ = nullptr;
    ModelSpec base_;
    ModelSpec spec_;
    ModelAnalysis analysis_;
    bool building_ = false;
};

}  // namespace scalelab::ui
