#include "ui/model_designer.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QSettings>
#include <QSlider>
#include <QSpinBox>
#include <QStackedWidget>
#include <QVBoxLayout>
#include <cmath>

#include "core/error.h"

namespace scalelab::ui {

namespace {

constexpr double kSliderScale = 100.0;  // slider units per coefficient unit

QSlider* coefSlider(int min, int max, int value) {
    auto* s = new QSlider(Qt::Horizontal);
    s->setRange(min, max);
    s->setValue(value);
    s->setPageStep(10);
    return s;
}

QDoubleSpinBox* baseSpin(double value, const QString& tip) {
    auto* s = new QDoubleSpinBox;
    s->setRange(0.5, 3.0);
    s->setDecimals(3);
    s->setSingleStep(0.01);
    s->setValue(value);
    s->setToolTip(tip);
    return s;
}

QString number(int64_t v) {
    return QLocale().toString(qlonglong(v));
}

const QString kPhiTip = QObject::tr(
    "φ, the compound coefficient: how many times to scale up. Depth grows as α^φ, width as "
    "β^φ, resolution as γ^φ, so MACs grow about (α·β²·γ²)^φ.");
const QString kAlphaTip =
    QObject::tr("α: depth base. d = α^φ multiplies every stage's repeats (rounded up).");
const QString kBetaTip = QObject::tr(
    "β: width base. w = β^φ multiplies channels (rounded to multiples of 8). MACs grow with w².");
const QString kGammaTip =
    QObject::tr("γ: resolution base. r = γ^φ multiplies the input side. MACs grow with r².");
const QString kCifarTip = QObject::tr(
    "CIFAR-style ResNet (He et al. 2016): 3 stages of n basic blocks, 2 convs each, plus the stem "
    "conv and the classifier: 6n + 2 layers. Widths 16/32/64, parameter-free shortcuts.");

}  // namespace

ModelDesigner::ModelDesigner(QWidget* parent) : QWidget(parent) {
    building_ = true;
    auto* layout = new QVBoxLayout(this);
    auto* top = new QFormLayout;
    family_ = new QComboBox;
    family_->addItems({tr("EfficientNet"), tr("ResNet")});
    family_->setToolTip(
        tr("EfficientNet: compound scaling of width, depth and resolution. "
           "ResNet: depth through residual blocks."));
    top->addRow(tr("Family"), family_);
    layout->addLayout(top);

    familyPages_ = new QStackedWidget;
    familyPages_->addWidget(buildEfficientNetPage());
    familyPages_->addWidget(buildResNetPage());
    layout->addWidget(familyPages_);

    readout_ = new QLabel;
    readout_->setTextFormat(Qt::RichText);
    readout_->setWordWrap(true);
    readout_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    readout_->setFrameShape(QFrame::StyledPanel);
    readout_->setMargin(6);
    readout_->setToolTip(
        tr("MACs: multiply-accumulates of convolutions and linear layers per "
           "image, the convention behind the papers' and torchvision's "
           "\"FLOPs\". FLOPs = 2 × MACs."));
    layout->addWidget(readout_);
    layout->addStretch(1);

    connect(family_, QOverload<int>::of(&QComboBox::currentIndexChanged), this, [this](int i) {
        familyPages_->setCurrentIndex(i);
        rebuild();
    });
    building_ = false;
    rebuild();
}

QWidget* ModelDesigner::buildEfficientNetPage() {
    auto* page = new QWidget;
    auto* v = new QVBoxLayout(page);
    v->setContentsMargins(0, 0, 0, 0);
    auto* form = new QFormLayout;
    effMode_ = new QComboBox;
    effMode_->addItems({tr("Compound (φ, α, β, γ)"), tr("Manual (w, d, r)"), tr("Preset (B0–B7)")});
    form->addRow(tr("Scaling"), effMode_);
    v->addLayout(form);

    effPages_ = new QStackedWidget;
    // Compound
    {
        auto* w = new QWidget;
        auto* f = new QFormLayout(w);
        phiSlider_ = coefSlider(0, 400, 0);
        phiSlider_->setToolTip(kPhiTip);
        phiLabel_ = new QLabel;
        auto* row = new QHBoxLayout;
        row->addWidget(phiSlider_, 1);
        row->addWidget(phiLabel_);
        f->addRow(tr("φ"), row);
        alpha_ = baseSpin(1.2, kAlphaTip);
        beta_ = baseSpin(1.1, kBetaTip);
        gamma_ = baseSpin(1.15, kGammaTip);
        f->addRow(tr("α (depth)"), alpha_);
        f->addRow(tr("β (width)"), beta_);
        f->addRow(tr("γ (resolution)"), gamma_);
        abgLabel_ = new QLabel;
        abgLabel_->setToolTip(
            tr("The paper constrains α·β²·γ² ≈ 2, so each +1 of φ about doubles "
               "the MACs."));
        f->addRow(QString(), abgLabel_);
        effPages_->addWidget(w);
    }
    // Manual
    {
        auto* w = new QWidget;
        auto* f = new QFormLayout(w);
        auto add = [&](const QString& name, QSlider*& s, QLabel*& l, int min, int max,
                       const QString& tip) {
            s = coefSlider(min, max, 100);
            s->setToolTip(tip);
            l = new QLabel;
            auto* row = new QHBoxLayout;
            row->addWidget(s, 1);
            row->addWidget(l);
            f->addRow(name, row);
        };
        add(tr("Width w"), widthSlider_, widthLabel_, 10, 400, kBetaTip);
        add(tr("Depth d"), depthSlider_, depthLabel_, 10, 500, kAlphaTip);
        add(tr("Resolution r"), resSlider_, resLabel_, 25, 400, kGammaTip);
        effPages_->addWidget(w);
    }
    // Preset
    {
        auto* w = new QWidget;
        auto* f = new QFormLayout(w);
        preset_ = new QComboBox;
        for (const EfficientNetPreset& p : efficientNetPresets()) {
            preset_->addItem(QString("B%1  (w %2, d %3, %4 px at base 224, dropout %5)")
                                 .arg(QString(p.name).mid(1))
                                 .arg(p.width, 0, 'f', 1)
                                 .arg(p.depth, 0, 'f', 1)
                                 .arg(p.resolution)
                                 .arg(p.dropout, 0, 'f', 1));
        }
        f->addRow(tr("Preset"), preset_);
        effPages_->addWidget(w);
    }
    v->addWidget(effPages_);
    auto* baseForm = new QFormLayout;
    effBase_ = new QSpinBox;
    effBase_->setRange(8, 1024);
    effBase_->setValue(32);
    effBase_->setSuffix(" px");
    effBase_->setToolTip(
        tr("What the resolution coefficient multiplies: 224 for ImageNet-style "
           "inputs, 32 for 28-px images like Fashion-MNIST."));
    baseForm->addRow(tr("Base resolution"), effBase_);
    v->addLayout(baseForm);

    connect(effMode_, QOverload<int>::of(&QComboBox::currentIndexChanged), this, [this](int i) {
        effPages_->setCurrentIndex(i);
        rebuild();
    });
    for (QSlider* s : {phiSlider_, widthSlider_, depthSlider_, resSlider_}) {
        connect(s, &QSlider::valueChanged, this, &ModelDesigner::rebuild);
    }
    for (QDoubleSpinBox* s : {alpha_, beta_, gamma_}) {
        connect(s, QOverload<double>::of(&QDoubleSpinBox::valueChanged), this,
                &ModelDesigner::rebuild);
    }
    connect(preset_, QOverload<int>::of(&QComboBox::currentIndexChanged), this,
            &ModelDesigner::rebuild);
    connect(effBase_, QOverload<int>::of(&QSpinBox::valueChanged), this, &ModelDesigner::rebuild);
    return page;
}

QWidget* ModelDesigner::buildResNetPage() {
    auto* page = new QWidget;
    auto* v = new QVBoxLayout(page);
    v->setContentsMargins(0, 0, 0, 0);
    auto* form = new QFormLayout;
    resMode_ = new QComboBox;
    resMode_->addItems(
        {tr("Preset depth (18–152)"), tr("CIFAR-style (6n+2)"), tr("Custom blocks")});
    form->addRow(tr("Depth"), resMode_);
    v->addLayout(form);
    resPages_ = new QStackedWidget;
    {
        auto* w = new QWidget;
        auto* f = new QFormLayout(w);
        resPreset_ = new QComboBox;
        for (int d : {18, 34, 50, 101, 152}) {
            resPreset_->addItem(QString("ResNet-%1").arg(d), d);
        }
        resPreset_->setToolTip(
            tr("torchvision's layouts: basic blocks for 18/34, bottlenecks "
               "(1×1–3×3–1×1, ×4 width) for 50 and deeper"));
        f->addRow(tr("Preset"), resPreset_);
        resPages_->addWidget(w);
    }
    {
        auto* w = new QWidget;
        auto* f = new QFormLayout(w);
        cifarN_ = coefSlider(1, 18, 3);
        cifarN_->setPageStep(1);
        cifarN_->setToolTip(kCifarTip);
        cifarLabel_ = new QLabel;
        cifarLabel_->setToolTip(kCifarTip);
        auto* row = new QHBoxLayout;
        row->addWidget(cifarN_, 1);
        row->addWidget(cifarLabel_);
        f->addRow(tr("n"), row);
        resPages_->addWidget(w);
    }
    {
        auto* w = new QWidget;
        auto* f = new QFormLayout(w);
        blocks_ = new QLineEdit("2,2,2,2");
        blocks_->setToolTip(
            tr("Residual blocks per stage, comma-separated; widths double per "
               "stage"));
        blockType_ = new QComboBox;
        blockType_->addItems({tr("Basic (two 3×3)"), tr("Bottleneck (1×1–3×3–1×1, ×4)")});
        baseWidth_ = new QSpinBox;
        baseWidth_->setRange(4, 512);
        baseWidth_->setValue(64);
        f->addRow(tr("Blocks per stage"), blocks_);
        f->addRow(tr("Block"), blockType_);
        f->addRow(tr("Base width"), baseWidth_);
        resPages_->addWidget(w);
    }
    v->addWidget(resPages_);
    auto* f2 = new QFormLayout;
    resInput_ = new QSpinBox;
    resInput_->setRange(8, 1024);
    resInput_->setValue(32);
    resInput_->setSuffix(" px");
    resInput_->setToolTip(tr("Input side the images are resized to"));
    stem_ = new QComboBox;
    stem_->addItems({tr("Auto (by resolution)"), tr("ImageNet (7×7/2 + max-pool)"),
                     tr("Small input (3×3/1, no pool)")});
    stem_->setToolTip(tr("Auto: ImageNet stem from 128 px up, small-input stem below"));
    f2->addRow(tr("Input size"), resInput_);
    f2->addRow(tr("Stem"), stem_);
    v->addLayout(f2);

    connect(resMode_, QOverload<int>::of(&QComboBox::currentIndexChanged), this, [this](int i) {
        resPages_->setCurrentIndex(i);
        rebuild();
    });
    connect(resPreset_, QOverload<int>::of(&QComboBox::currentIndexChanged), this,
            &ModelDesigner::rebuild);
    connect(cifarN_, &QSlider::valueChanged, this, &ModelDesigner::rebuild);
    connect(blocks_, &QLineEdit::textChanged, this, &ModelDesigner::rebuild);
    connect(blockType_, QOverload<int>::of(&QComboBox::currentIndexChanged), this,
            &ModelDesigner::rebuild);
    connect(baseWidth_, QOverload<int>::of(&QSpinBox::valueChanged), this, &ModelDesigner::rebuild);
    connect(resInput_, QOverload<int>::of(&QSpinBox::valueChanged), this, &ModelDesigner::rebuild);
    connect(stem_, QOverload<int>::of(&QComboBox::currentIndexChanged), this,
            &ModelDesigner::rebuild);
    return page;
}

void ModelDesigner::setDataShape(int channels, int classes, int side) {
    inChannels_ = channels;
    numClasses_ = classes;
    building_ = true;
    const int base = side <= 64 ? 32 : 224;
    effBase_->setValue(base);
    resInput_->setValue(base);
    building_ = false;
    rebuild();
}

void ModelDesigner::setBatchSize(int batch) {
    batch_ = batch;
    updateLabels();
}

void ModelDesigner::setFamily(Family f) {
    family_->setCurrentIndex(f == Family::EfficientNet ? 0 : 1);
}
void ModelDesigner::setEffMode(EffMode m) {
    effMode_->setCurrentIndex(int(m));
}
void ModelDesigner::setResMode(ResMode m) {
    resMode_->setCurrentIndex(int(m));
}
void ModelDesigner::setPhi(double phi) {
    phiSlider_->setValue(int(std::lround(phi * kSliderScale)));
}
void ModelDesigner::setPreset(int b) {
    preset_->setCurrentIndex(b);
}
void ModelDesigner::setCifarN(int n) {
    cifarN_->setValue(n);
}

EfficientNetScaling ModelDesigner::compoundBase() const {
    EfficientNetScaling s;
    s.mode = EfficientNetScaling::Mode::Compound;
    s.alpha = alpha_->value();
    s.beta = beta_->value();
    s.gamma = gamma_->value();
    s.baseResolution = effBase_->value();
    return s;
}

QString ModelDesigner::scalingText() const {
    if (spec_.family == Family::EfficientNet) {
        switch (EffMode(effMode_->currentIndex())) {
            case EffMode::Compound:
                return QString("φ %1 (α %2, β %3, γ %4)")
                    .arg(phiSlider_->value() / kSliderScale, 0, 'f', 2)
                    .arg(alpha_->value(), 0, 'f', 2)
                    .arg(beta_->value(), 0, 'f', 2)
                    .arg(gamma_->value(), 0, 'f', 2);
            case EffMode::Manual:
            case EffMode::Preset:
                return QString("w %1, d %2, r %3 (%4 px)")
                    .arg(spec_.width, 0, 'f', 2)
                    .arg(spec_.depth, 0, 'f', 2)
                    .arg(spec_.resolutionCoef, 0, 'f', 2)
                    .arg(spec_.resolution);
        }
    }
    QStringList b;
    for (int n : spec_.blocks) {
        b << QString::number(n);
    }
    return QString("%1 blocks %2, %3 px")
        .arg(spec_.block == BlockType::Basic ? "basic" : "bottleneck", b.join(","))
        .arg(spec_.resolution);
}

void ModelDesigner::rebuild() {
    if (building_) {
        return;
    }
    try {
        if (family_->currentIndex() == 0) {
            EfficientNetScaling s = compoundBase();
            switch (EffMode(effMode_->currentIndex())) {
                case EffMode::Compound:
                    s.mode = EfficientNetScaling::Mode::Compound;
                    s.phi = phiSlider_->value() / kSliderScale;
                    break;
                case EffMode::Manual:
                    s.mode = EfficientNetScaling::Mode::Manual;
                    s.width = widthSlider_->value() / kSliderScale;
                    s.depth = depthSlider_->value() / kSliderScale;
                    s.resolution = resSlider_->value() / kSliderScale;
                    break;
                case EffMode::Preset:
                    s.mode = EfficientNetScaling::Mode::Preset;
                    s.preset = preset_->currentIndex();
                    break;
            }
            spec_ = efficientNetSpec(s, inChannels_, numClasses_);
        } else {
            const int input = resInput_->value();
            switch (ResMode(resMode_->currentIndex())) {
                case ResMode::Preset:
                    spec_ = resNetPreset(resPreset_->currentData().toInt(), inChannels_,
                                         numClasses_, input);
                    break;
                case ResMode::Cifar:
                    spec_ = resNetCifar(6 * cifarN_->value() + 2, inChannels_, numClasses_, input);
                    break;
                case ResMode::Custom: {
                    std::vector<int> blocks;
                    for (const QString& part : blocks_->text().split(',', Qt::SkipEmptyParts)) {
                        bool ok = false;
                        const int n = part.trimmed().toInt(&ok);
                        if (!ok) {
                            throw SpecError("blocks per stage: '" + part.trimmed().toStdString() +
                                            "' is not a whole number");
                        }
                        blocks.push_back(n);
                    }
                    spec_ = resNetCustom(
                        blocks,
                        blockType_->currentIndex() == 0 ? BlockType::Basic : BlockType::Bottleneck,
                        baseWidth_->value(), inChannels_, numClasses_, input);
                    break;
                }
            }
            if (stem_->currentIndex() > 0) {
                spec_.stem = stem_->currentIndex() == 1 ? StemType::ImageNet : StemType::Small;
            }
        }
        analysis_ = analyzeModel(spec_);
        valid_ = true;
        error_.clear();
    } catch (const std::exception& e) {
        valid_ = false;
        error_ = QString::fromStdString(e.what());
    }
    updateLabels();
    Q_EMIT specChanged();
}

QString ModelDesigner::readoutText() const {
    return readout_->text();
}

void ModelDesigner::updateLabels() {
    phiLabel_->setText(QString::number(phiSlider_->value() / kSliderScale, 'f', 2));
    widthLabel_->setText(QString::number(widthSlider_->value() / kSliderScale, 'f', 2));
    depthLabel_->setText(QString::number(depthSlider_->value() / kSliderScale, 'f', 2));
    resLabel_->setText(
        QString("%1 (%2 px)")
            .arg(resSlider_->value() / kSliderScale, 0, 'f', 2)
            .arg(std::lround(effBase_->value() * resSlider_->value() / kSliderScale)));
    cifarLabel_->setText(
        tr("ResNet-%1 (n = %2)").arg(6 * cifarN_->value() + 2).arg(cifarN_->value()));
    const double abg = compoundFlopsBase(alpha_->value(), beta_->value(), gamma_->value());
    abgLabel_->setText(tr("α·β²·γ² = %1").arg(abg, 0, 'f', 4));

    if (!valid_) {
        readout_->setText(QString("<span style='color:#b00020'><b>Impossible model:</b> %1</span>")
                              .arg(error_.toHtmlEscaped()));
        return;
    }
    const ModelAnalysis& a = analysis_;
    QString stages;
    for (const StageCost& s : a.stages) {
        if (s.repeats > 0) {
            stages += QString("%1%2×%3")
                          .arg(stages.isEmpty() ? "" : " · ")
                          .arg(s.outChannels)
                          .arg(s.repeats);
        }
    }
    QString html = "<table cellspacing='2'>";
    auto row = [&](const QString& k, const QString& v) {
        html += QString("<tr><td><b>%1</b>&nbsp;&nbsp;</td><td>%2</td></tr>").arg(k, v);
    };
    row(tr("Model"), QString::fromStdString(spec_.name).toHtmlEscaped());
    row(tr("Input"), QString("%1 × %2 × %2 px").arg(spec_.inChannels).arg(spec_.resolution));
    row(tr("Params"), QString("%1 (%2)").arg(QString::fromStdString(humanCount(double(a.params))),
                                             number(a.params)));
    row(tr("MACs"), QString("%1 (%2) per image")
                        .arg(QString::fromStdString(humanCount(double(a.macs))), number(a.macs)));
    row(tr("FLOPs"),
        QString("%1 = 2 × MACs").arg(QString::fromStdString(humanCount(double(a.flops())))));
    row(tr("Stages"), tr("%1 (channels × repeats)").arg(stages));
    row(tr("Train memory"), tr("≈ %1 MiB at batch %2 (estimate)")
                                .arg(a.trainingMemoryBytes(batch_) / (1024.0 * 1024.0), 0, 'f', 0)
                                .arg(batch_));
    if (spec_.family == Family::EfficientNet &&
        EffMode(effMode_->currentIndex()) == EffMode::Compound) {
        EfficientNetScaling base = compoundBase();
        base.phi = 0;
        try {
            const double macs0 =
                double(analyzeModel(efficientNetSpec(base, inChannels_, numClasses_)).macs);
            const double phi = phiSlider_->value() / kSliderScale;
            row(tr("Compound"), tr("d %1, w %2, r %3 · predicted MACs ×%4 = (α·β²·γ²)^φ, exact ×%5 "
                                   "vs φ = 0")
                                    .arg(spec_.depth, 0, 'f', 2)
                                    .arg(spec_.width, 0, 'f', 2)
                                    .arg(spec_.resolutionCoef, 0, 'f', 2)
                                    .arg(std::pow(abg, phi), 0, 'f', 2)
                                    .arg(double(a.macs) / macs0, 0, 'f', 2));
        } catch (const std::exception&) {
        }
    }
    html += "</table>";
    readout_->setText(html);
}

void ModelDesigner::saveSettings() const {
    QSettings s;
    s.beginGroup("designer");
    s.setValue("family", family_->currentIndex());
    s.setValue("effMode", effMode_->currentIndex());
    s.setValue("phi", phiSlider_->value());
    s.setValue("alpha", alpha_->value());
    s.setValue("beta", beta_->value());
    s.setValue("gamma", gamma_->value());
    s.setValue("width", widthSlider_->value());
    s.setValue("depth", depthSlider_->value());
    s.setValue("res", resSlider_->value());
    s.setValue("preset", preset_->currentIndex());
    s.setValue("resMode", resMode_->currentIndex());
    s.setValue("resPreset", resPreset_->currentIndex());
    s.setValue("cifarN", cifarN_->value());
    s.setValue("blocks", blocks_->text());
    s.setValue("blockType", blockType_->currentIndex());
    s.setValue("baseWidth", baseWidth_->value());
    s.setValue("stem", stem_->currentIndex());
    s.endGroup();
}

void ModelDesigner::restoreSettings() {
    QSettings s;
    s.beginGroup("designer");
    building_ = true;
    family_->setCurrentIndex(s.value("family", 0).toInt());
    effMode_->setCurrentIndex(s.value("effMode", 0).toInt());
    phiSlider_->setValue(s.value("phi", 0).toInt());
    alpha_->setValue(s.value("alpha", 1.2).toDouble());
    beta_->setValue(s.value("beta", 1.1).toDouble());
    gamma_->setValue(s.value("gamma", 1.15).toDouble());
    widthSlider_->setValue(s.value("width", 100).toInt());
    depthSlider_->setValue(s.value("depth", 100).toInt());
    resSlider_->setValue(s.value("res", 100).toInt());
    preset_->setCurrentIndex(s.value("preset", 0).toInt());
    resMode_->setCurrentIndex(s.value("resMode", 1).toInt());
    resPreset_->setCurrentIndex(s.value("resPreset", 0).toInt());
    cifarN_->setValue(s.value("cifarN", 3).toInt());
    blocks_->setText(s.value("blocks", "2,2,2,2").toString());
    blockType_->setCurrentIndex(s.value("blockType", 0).toInt());
    baseWidth_->setValue(s.value("baseWidth", 64).toInt());
    stem_->setCurrentIndex(s.value("stem", 0).toInt());
    familyPages_->setCurrentIndex(family_->currentIndex());
    effPages_->setCurrentIndex(effMode_->currentIndex());
    resPages_->setCurrentIndex(resMode_->currentIndex());
    s.endGroup();
    building_ = false;
    rebuild();
}

}  // namespace scalelab::ui
