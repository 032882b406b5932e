#include "ui/train_settings.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QLabel>
#include <QSettings>
#include <QSpinBox>

#include "core/models/family.h"
#include "core/runtime.h"

namespace scalelab::ui {

TrainSettings::TrainSettings(QWidget* parent) : QWidget(parent) {
    auto* f = new QFormLayout(this);
    epochs_ = new QSpinBox;
    epochs_->setRange(1, 1000);
    epochs_->setValue(3);
    batch_ = new QSpinBox;
    batch_->setRange(1, 4096);
    batch_->setValue(128);
    lr_ = new QDoubleSpinBox;
    lr_->setDecimals(5);
    lr_->setRange(1e-5, 10.0);
    lr_->setSingleStep(0.01);
    lr_->setValue(0.05);
    optimizer_ = new QComboBox;
    optimizer_->addItems({"SGD (Nesterov momentum 0.9, wd 5e-4)", "AdamW (wd 0.05)"});
    schedule_ = new QComboBox;
    schedule_->addItems({tr("Cosine"), tr("Constant")});
    warmup_ = new QDoubleSpinBox;
    warmup_->setRange(0, 100);
    warmup_->setDecimals(1);
    warmup_->setSuffix(tr(" epochs"));
    subset_ = new QSpinBox;
    subset_->setRange(0, 10000000);
    subset_->setSingleStep(1000);
    subset_->setValue(5000);
    subset_->setSpecialValueText(tr("all"));
    subset_->setToolTip(tr("Train on only this many images (0 = all): quick loops on the CPU"));
    testSubset_ = new QSpinBox;
    testSubset_->setRange(0, 10000000);
    testSubset_->setSingleStep(1000);
    testSubset_->setValue(2000);
    testSubset_->setSpecialValueText(tr("all"));
    testSubset_->setToolTip(
        tr("Test on only the first this many test images (0 = all): the "
           "final evaluation of quick runs"));
    valFraction_ = new QDoubleSpinBox;
    valFraction_->setRange(0.0, 0.9);
    valFraction_->setSingleStep(0.05);
    valFraction_->setValue(0.1);
    valFraction_->setToolTip(
        tr("Share of the training images held out (fixed seed) to validate "
           "after every epoch"));
    cropPadding_ = new QSpinBox;
    cropPadding_->setRange(0, 16);
    cropPadding_->setSuffix(" px");
    cropPadding_->setSpecialValueText(tr("off"));
    cropPadding_->setToolTip(tr("Random crop after zero padding by this many pixels"));
    flip_ = new QCheckBox(tr("Random horizontal flip"));
    flip_->setToolTip(tr("Off by default: flipping is wrong for digits"));
    device_ = new QComboBox;
    const RuntimeInfo rt = runtimeInfo();
    device_->addItem(
        rt.cudaAvailable ? tr("Auto (CUDA available)") : tr("Auto (CPU: no CUDA here)"), "auto");
    device_->addItem(tr("CPU"), "cpu");
    if (rt.cudaAvailable) {
        for (int i = 0; i < rt.cudaDeviceCount; ++i) {
            device_->addItem(tr("CUDA GPU %1").arg(i), QString("cuda:%1").arg(i));
        }
    }
    device_->setToolTip(QString::fromStdString(describeRuntime(rt)));
    seed_ = new QSpinBox;
    seed_->setRange(0, 1000000);
    seed_->setValue(42);
    seed_->setToolTip(
        tr("One seed for the split, the initialisation, the data order and dropout: "
           "CPU runs with the same seed repeat exactly"));

    f->addRow(tr("Epochs"), epochs_);
    f->addRow(tr("Batch size"), batch_);
    defaultsNote_ = new QLabel;
    defaultsNote_->setWordWrap(true);
    defaultsNote_->setStyleSheet("color: #555;");
    f->addRow(defaultsNote_);
    f->addRow(tr("Learning rate"), lr_);
    f->addRow(tr("Optimizer"), optimizer_);
    f->addRow(tr("Schedule"), schedule_);
    f->addRow(tr("Warm-up"), warmup_);
    f->addRow(tr("Train subset"), subset_);
    f->addRow(tr("Test images"), testSubset_);
    f->addRow(tr("Validation share"), valFraction_);
    f->addRow(tr("Crop padding"), cropPadding_);
    f->addRow(QString(), flip_);
    f->addRow(tr("Device"), device_);
    f->addRow(tr("Seed"), seed_);
    repeats_ = new QSpinBox;
    repeats_->setRange(1, 20);
    repeats_->setValue(1);
    repeats_->setToolTip(
        tr("Add variant queues this many runs with seeds seed, seed + 1, ...: a seed group, shown "
           "as mean ± std with Compare's Group seeds"));
    f->addRow(tr("Seeds per variant"), repeats_);

    for (QSpinBox* s : {epochs_, batch_, subset_, testSubset_, cropPadding_, seed_}) {
        connect(s, QOverload<int>::of(&QSpinBox::valueChanged), this, &TrainSettings::changed);
    }
    for (QDoubleSpinBox* s : {lr_, warmup_, valFraction_}) {
        connect(s, QOverload<double>::of(&QDoubleSpinBox::valueChanged), this,
                &TrainSettings::changed);
    }
    for (QComboBox* c : {optimizer_, schedule_, device_}) {
        connect(c, QOverload<int>::of(&QComboBox::currentIndexChanged), this,
                &TrainSettings::changed);
    }
    connect(flip_, &QCheckBox::toggled, this, &TrainSettings::changed);
}

void TrainSettings::applyFamilyDefaults(const ModelSpec& spec) {
    const TrainConfig d = familyTrainDefaults(spec);
    optimizer_->setCurrentIndex(d.optimizer == OptimizerKind::SGD ? 0 : 1);
    lr_->setValue(d.lr);
    warmup_->setValue(d.warmupEpochs);
    const ModelFamily& f = familyOf(spec.family);
    defaultsNote_->setText(tr("Defaults for %1: %2, lr %3, warm-up %4 epochs")
                               .arg(QString::fromStdString(f.label))
                               .arg(QString::fromStdString(f.trainDefaults.optimizer))
                               .arg(d.lr)
                               .arg(d.warmupEpochs));
    defaultsNote_->setToolTip(tr("Measured (scripts/defaults_sweep.sh, docs/BENCHMARKS.md): %1")
                                  .arg(QString::fromStdString(f.trainDefaults.measured)));
}

bool TrainSettings::hasSavedSettings() const {
    return QSettings().contains("training/lr");
}

TrainConfig TrainSettings::config() const {
    TrainConfig c;
    c.epochs = epochs_->value();
    c.batchSize = batch_->value();
    c.lr = lr_->value();
    c.optimizer = optimizer_->currentIndex() == 0 ? OptimizerKind::SGD : OptimizerKind::AdamW;
    c.weightDecay = c.optimizer == OptimizerKind::SGD ? 5e-4 : 0.05;
    c.schedule = schedule_->currentIndex() == 0 ? ScheduleKind::Cosine : ScheduleKind::Constant;
    c.warmupEpochs = std::min<double>(warmup_->value(), double(c.epochs));
    c.split.trainSubset = subset_->value();
    c.split.valFraction = valFraction_->value();
    c.split.testSubset = testSubset_->value();
    c.augment.cropPadding = cropPadding_->value();
    c.augment.horizontalFlip = flip_->isChecked();
    c.device = device_->currentData().toString().toStdString();
    c.seed = uint64_t(seed_->value());
    c.progressEveryBatches = 5;
    return c;
}

int TrainSettings::repeats() const {
    return repeats_->value();
}
void TrainSettings::setRepeats(int n) {
    repeats_->setValue(n);
}

int TrainSettings::batchSize() const {
    return batch_->value();
}
void TrainSettings::setEpochs(int e) {
    epochs_->setValue(e);
}
void TrainSettings::setSubset(int n) {
    subset_->setValue(n);
}
void TrainSettings::setBatchSize(int b) {
    batch_->setValue(b);
}
void TrainSettings::setValFraction(double f) {
    valFraction_->setValue(f);
}
void TrainSettings::setTestSubset(int n) {
    testSubset_->setValue(n);
}

void TrainSettings::saveSettings() const {
    QSettings s;
    s.beginGroup("training");
    s.setValue("epochs", epochs_->value());
    s.setValue("batch", batch_->value());
    s.setValue("lr", lr_->value());
    s.setValue("optimizer", optimizer_->currentIndex());
    s.setValue("schedule", schedule_->currentIndex());
    s.setValue("warmup", warmup_->value());
    s.setValue("subset", subset_->value());
    s.setValue("valFraction", valFraction_->value());
    s.setValue("testSubset", testSubset_->value());
    s.setValue("cropPadding", cropPadding_->value());
    s.setValue("flip", flip_->isChecked());
    s.setValue("device", device_->currentIndex());
    s.setValue("seed", seed_->value());
    s.setValue("repeats", repeats_->value());
    s.endGroup();
}

void TrainSettings::restoreSettings() {
    QSettings s;
    s.beginGroup("training");
    epochs_->setValue(s.value("epochs", 3).toInt());
    batch_->setValue(s.value("batch", 128).toInt());
    lr_->setValue(s.value("lr", 0.05).toDouble());
    optimizer_->setCurrentIndex(s.value("optimizer", 0).toInt());
    schedule_->setCurrentIndex(s.value("schedule", 0).toInt());
    warmup_->setValue(s.value("warmup", 0.0).toDouble());
    subset_->setValue(s.value("subset", 5000).toInt());
    valFraction_->setValue(s.value("valFraction", 0.1).toDouble());
    testSubset_->setValue(s.value("testSubset", 2000).toInt());
    cropPadding_->setValue(s.value("cropPadding", 0).toInt());
    flip_->setChecked(s.value("flip", false).toBool());
    device_->setCurrentIndex(std::min(s.value("device", 0).toInt(), device_->count() - 1));
    seed_->setValue(s.value("seed", 42).toInt());
    repeats_->setValue(s.value("repeats", 1).toInt());
    s.endGroup();
}

}  // namespace scalelab::ui
