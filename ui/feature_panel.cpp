#include "ui/feature_panel.h"

#include <QComboBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGridLayout>
#include <QLabel>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>
#include <memory>

#include "ui/charts/probability_chart.h"
#include "ui/feature_grid.h"
#include "ui/job_runner.h"
#include "ui/run_picker.h"
#include "ui/session.h"

namespace scalelab::ui {

FeaturePanel::FeaturePanel(Session* session, JobRunner* jobs, QWidget* parent)
    : QWidget(parent), session_(session), jobs_(jobs) {
    auto* h = new QHBoxLayout(this);
    auto* controls = new QWidget;
    controls->setMaximumWidth(300);
    auto* f = new QFormLayout(controls);
    run_ = new QComboBox;
    f->addRow(tr("Trained run"), run_);
    source_ = new QComboBox;
    source_->addItems(
        {tr("Test image by index"), tr("First test image of a class"), tr("Image file")});
    f->addRow(tr("Image"), source_);
    index_ = new QSpinBox;
    index_->setRange(0, 9999999);
    f->addRow(tr("Test index"), index_);
    testClass_ = new QComboBox;
    f->addRow(tr("Class"), testClass_);
    openFile_ = new QPushButton(tr("Open image file…"));
    f->addRow(openFile_);
    stage_ = new QComboBox;
    stage_->setToolTip(tr("Which stage's output to show: the stem, then each stage"));
    f->addRow(tr("Stage"), stage_);
    camClass_ = new QComboBox;
    camClass_->setToolTip(
        tr("Grad-CAM shows where the evidence for this class lies: the stage's "
           "channels weighted by the gradient of the class score"));
    f->addRow(tr("Grad-CAM class"), camClass_);
    sort_ = new QComboBox;
    sort_->addItems({tr("By mean activation"), tr("By channel index")});
    f->addRow(tr("Order"), sort_);
    maxChannels_ = new QSpinBox;
    maxChannels_->setRange(0, 4096);
    maxChannels_->setValue(64);
    maxChannels_->setSpecialValueText(tr("all"));
    f->addRow(tr("Show channels"), maxChannels_);
    auto* exportGridButton = new QPushButton(tr("Export grid (PNG)…"));
    auto* exportOverlayButton = new QPushButton(tr("Export Grad-CAM overlay (PNG)…"));
    f->addRow(exportGridButton);
    f->addRow(exportOverlayButton);
    status_ = new QLabel;
    status_->setWordWrap(true);
    f->addRow(status_);
    h->addWidget(controls);

    auto* views = new QGridLayout;
    input_ = new QLabel;
    input_->setAlignment(Qt::AlignCenter);
    input_->setMinimumSize(196, 196);
    input_->setToolTip(
        tr("The input as the model sees it: resized to its resolution (normalization "
           "undone for display)"));
    overlay_ = new QLabel;
    overlay_->setAlignment(Qt::AlignCenter);
    overlay_->setMinimumSize(196, 196);
    overlay_->setToolTip(
        tr("Grad-CAM: the input blended with the class-evidence heat map (viridis: "
           "yellow = most evidence)"));
    probs_ = new ProbabilityChart;
    probs_->setMinimumHeight(200);
    grid_ = new FeatureGrid;
    // Input and Grad-CAM side by side, the probabilities below them, then the channel grid:
    // narrow enough for a 1280 px screen with the designer beside it (the page scrolls down).
    views->addWidget(new QLabel(tr("<b>Input</b>")), 0, 0);
    views->addWidget(new QLabel(tr("<b>Grad-CAM</b>")), 0, 1);
    views->addWidget(input_, 1, 0);
    views->addWidget(overlay_, 1, 1);
    views->addWidget(probs_, 2, 0, 1, 2);
    views->addWidget(grid_, 3, 0, 1, 2);
    views->setRowStretch(3, 1);
    h->addLayout(views, 1);

    auto again = [this] { refresh(); };
    connect(run_, QOverload<int>::of(&QComboBox::activated), this, again);
    connect(source_, QOverload<int>::of(&QComboBox::activated), this, again);
    connect(index_, QOverload<int>::of(&QSpinBox::valueChanged), this, again);
    connect(testClass_, QOverload<int>::of(&QComboBox::activated), this, again);
    connect(stage_, QOverload<int>::of(&QComboBox::activated), this, again);
    connect(camClass_, QOverload<int>::of(&QComboBox::activated), this, again);
    connect(sort_, QOverload<int>::of(&QComboBox::activated), this, again);
    connect(maxChannels_, QOverload<int>::of(&QSpinBox::valueChanged), this, again);
    connect(openFile_, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getOpenFileName(
            this, tr("Open image"), QString(),
            tr("Images (*.png *.jpg *.jpeg *.bmp *.tif *.tiff *.webp *.pgm *.ppm)"));
        if (!path.isEmpty()) {
            setImageFile(path);
        }
    });
    connect(exportGridButton, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getSaveFileName(
            this, tr("Export grid"), "feature-grid.png", tr("PNG image (*.png)"));
        if (!path.isEmpty()) {
            exportGrid(path);
        }
    });
    connect(exportOverlayButton, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Export overlay"), "gradcam.png",
                                                          tr("PNG image (*.png)"));
        if (!path.isEmpty()) {
            exportOverlay(path);
        }
    });
    connect(session_, &Session::runChanged, this, &FeaturePanel::refreshRuns);
    connect(session_, &Session::runsReset, this, &FeaturePanel::refreshRuns);
    refreshRuns();
}

void FeaturePanel::refreshRuns() {
    fillFinishedRuns(run_, *session_);
}

void FeaturePanel::selectRun(int id) {
    refreshRuns();
    run_->setCurrentIndex(run_->findData(id));
}

void FeaturePanel::setTestIndex(int index) {
    source_->setCurrentIndex(0);
    index_->setValue(index);
}

void FeaturePanel::setStage(int stage) {
    if (stage < stage_->count()) {
        stage_->setCurrentIndex(stage);
    } else {
        stage_->addItem(QString::number(stage), stage);  // before the first result lists them
        stage_->setCurrentIndex(stage_->count() - 1);
    }
}

void FeaturePanel::setImageFile(const QString& path) {
    imagePath_ = path;
    source_->setCurrentIndex(2);
    refresh();
}

QString FeaturePanel::fail(const QString& message) {
    status_->setText(QString("<span style='color:#b00020'>%1</span>").arg(message.toHtmlEscaped()));
    Q_EMIT errorOccurred(message);
    return message;
}

void FeaturePanel::refresh() {
    const RunRecord* r = session_->find(run_->currentData().toInt());
    if (!r) {
        fail(tr("Pick a finished run (train one first)"));
        return;
    }
    if (jobs_->busy()) {
        pending_ = true;  // runs again when the current job is done
        return;
    }
    FeatureRequest req;
    req.runDir = r->runDir.toStdString();
    req.testIndex = index_->value();
    req.testClass = source_->currentIndex() == 1 ? std::max(0, testClass_->currentIndex()) : -1;
    req.imagePath = source_->currentIndex() == 2 ? imagePath_.toStdString() : std::string();
    if (source_->currentIndex() == 2 && imagePath_.isEmpty()) {
        fail(tr("Open an image file first"));
        return;
    }
    req.stage = stage_->currentIndex() >= 0
                    ? (stage_->currentData().isValid() ? stage_->currentData().toInt()
                                                       : stage_->currentIndex())
                    : 1;
    req.camClass = camClass_->currentIndex() <= 0 ? -1 : camClass_->currentIndex() - 1;
    req.sortByMean = sort_->currentIndex() == 0;
    req.maxChannels = maxChannels_->value();
    status_->setText(tr("Computing…"));
    auto out = std::make_shared<FeatureResult>();
    auto error = std::make_shared<QString>();
    jobs_->start(
        [req, out, error] {
            try {
                *out = inspectFeatures(req);
            } catch (const std::exception& e) {
                *error = QString::fromStdString(e.what());
            }
        },
        [this, out, error, dir = r->runDir] {
            if (!error->isEmpty()) {
                fail(*error);
            } else {
                const bool newRun = dir != lastRunDir_;
                lastRunDir_ = dir;
                show(*out);
                if (newRun) {
                    // Fill the pickers from the first result of a run.
                    stage_->clear();
                    for (size_t i = 0; i < out->stages.size(); ++i) {
                        const StageInfo& s = out->stages[i];
                        stage_->addItem(QString("%1 — %2 ch, %3×%4")
                                            .arg(QString::fromStdString(s.name))
                                            .arg(s.channels)
                                            .arg(s.height)
                                            .arg(s.width),
                                        int(i));
                    }
                    const int shown = int(
                        std::find_if(out->stages.begin(), out->stages.end(),
                                     [&](const StageInfo& s) { return s.name == out->stageName; }) -
                        out->stages.begin());
                    stage_->setCurrentIndex(shown);
                    testClass_->clear();
                    camClass_->clear();
                    camClass_->addItem(tr("Predicted class"));
                    for (const auto& c : out->classNames) {
                        testClass_->addItem(QString::fromStdString(c));
                        camClass_->addItem(QString::fromStdString(c));
                    }
                }
            }
            if (pending_) {
                pending_ = false;
                refresh();
            }
        });
}

void FeaturePanel::show(const FeatureResult& r) {
    result_ = r;
    has_ = true;
    const int scale = std::max(1, 196 / std::max(1, r.inputHeight));
    input_->setPixmap(QPixmap::fromImage(
        pixelsToImage(r.inputPixels, r.inputWidth, r.inputHeight, r.inputChannels, scale)));
    overlay_->setPixmap(
        QPixmap::fromImage(pixelsToImage(r.overlayRgb, r.inputWidth, r.inputHeight, 3, scale)));
    QStringList classes;
    for (const auto& c : r.classNames) {
        classes << QString::fromStdString(c);
    }
    probs_->setProbabilities(r.probabilities, classes, r.predicted, int(r.trueLabel));
    grid_->setResult(r);
    status_->setText(tr("%1%2 · Grad-CAM for %3")
                         .arg(r.testIndex >= 0 ? tr("test image %1").arg(r.testIndex)
                                               : QFileInfo(imagePath_).fileName())
                         .arg(r.trueLabel >= 0
                                  ? tr(" (true class %1)").arg(classes.value(int(r.trueLabel)))
                                  : QString())
                         .arg(classes.value(r.camClass)));
    Q_EMIT updated();
}

QString FeaturePanel::exportGrid(const QString& path) {
    if (!has_) {
        return fail(tr("Nothing to export yet"));
    }
    if (!grid_->render(48).save(path, "PNG")) {
        return fail(
            tr("%1: could not be written (check the folder exists and is writable)").arg(path));
    }
    status_->setText(tr("Grid saved to %1").arg(path));
    return {};
}

QString FeaturePanel::exportOverlay(const QString& path) {
    if (!has_) {
        return fail(tr("Nothing to export yet"));
    }
    const int scale = std::max(1, 224 / std::max(1, result_.inputHeight));
    if (!pixelsToImage(result_.overlayRgb, result_.inputWidth, result_.inputHeight, 3, scale)
             .save(path, "PNG")) {
        return fail(
            tr("%1: could not be written (check the folder exists and is writable)").arg(path));
    }
    status_->setText(tr("Overlay saved to %1").arg(path));
    return {};
}

}  // namespace scalelab::ui
