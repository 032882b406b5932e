#include "ui/model_designer.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QGroupBox>
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
#include "core/models/family.h"
#include "core/models/scaling_gap.h"
#include "ui/charts/scaling_chart.h"

namespace scalelab::ui {

namespace {

constexpr double kSliderScale = 100.0;  // slider units per coefficient unit
const char* const kProblemStyle = "border: 2px solid #b00020;";

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

QString qs(const std::string& s) {
    return QString::fromStdString(s);
}

const QString kPhiTip = QObject::tr(
    "φ, the compound coefficient: how many times to scale up. Depth grows as α^φ, width as "
    "β^φ, resolution as γ^φ, so MACs grow about (α·β²·γ²)^φ. Applies to every family "
    "(the EfficientNet paper's Table 3 scales MobileNet and ResNet the same way).");
const QString kAlphaTip =
    QObject::tr("α: depth base. d = α^φ multiplies every stage's repeats (rounded up).");
const QString kBetaTip = QObject::tr(
    "β: width base. w = β^φ multiplies channels (rounded to multiples of 8). MACs grow with w².");
const QString kGammaTip =
    QObject::tr("γ: resolution base. r = γ^φ multiplies the input side. MACs grow with r².");

// The editor's text for a value, and the value of an editor.
void setFieldValue(QWidget* w, const ParamValue& v) {
    if (auto* spin = qobject_cast<QSpinBox*>(w)) {
        spin->setValue(int(std::get<double>(v)));
    } else if (auto* dspin = qobject_cast<QDoubleSpinBox*>(w)) {
        dspin->setValue(std::get<double>(v));
    } else if (auto* combo = qobject_cast<QComboBox*>(w)) {
        combo->setCurrentIndex(std::max(0, combo->findText(qs(std::get<std::string>(v)))));
    } else if (auto* edit = qobject_cast<QLineEdit*>(w)) {
        edit->setText(qs(paramText(v)));
    }
}

}  // namespace

ModelDesigner::ModelDesigner(QWidget* parent) : QWidget(parent) {
    building_ = true;
    auto* layout = new QVBoxLayout(this);
    auto* top = new QFormLayout;
    family_ = new QComboBox;
    QString tip;
    for (const ModelFamily* f : families()) {
        family_->addItem(qs(f->label), qs(f->id));
        tip += QString("<b>%1</b>: %2<br>")
                   .arg(qs(f->label).toHtmlEscaped(), qs(f->summary).toHtmlEscaped());
    }
    family_->setToolTip(tip);
    top->addRow(tr("Family"), family_);
    layout->addLayout(top);

    familyPages_ = new QStackedWidget;
    pages_.resize(families().size());
    for (size_t i = 0; i < families().size(); ++i) {
        pages_[i].family = families()[i];
        familyPages_->addWidget(buildFamilyPage(pages_[i]));
    }
    layout->addWidget(familyPages_);
    layout->addWidget(buildScalingBox());

    readout_ = new QLabel;
    readout_->setTextFormat(Qt::RichText);
    readout_->setWordWrap(true);
    readout_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    readout_->setFrameShape(QFrame::StyledPanel);
    readout_->setMargin(6);
    readout_->setToolTip(
        tr("MACs: multiply-accumulates of convolutions and linear layers per "
           "image, the convention behind the papers' and torchvision's "
           "\"FLOPs\". FLOPs = 2 × MACs.\n\n"
           "Why (a scaled model): exact ÷ predicted growth, split by switching on one rounding "
           "at a time from a model with fractional channels, repeats and map sizes: channels "
           "(multiples of 8), repeats (rounded up), map size (the input side rounded, strided "
           "layers' sides rounded up) and structure, what no rounding explains (the stem's "
           "image channels, the classifier, depthwise convs, stem and head do not scale as "
           "w²·d·r²)."));
    layout->addWidget(readout_);
    layout->addStretch(1);

    connect(family_, QOverload<int>::of(&QComboBox::currentIndexChanged), this, [this](int i) {
        familyPages_->setCurrentIndex(i);
        rebuild();
    });
    building_ = false;
    rebuild();
}

QWidget* ModelDesigner::buildFamilyPage(FamilyPage& page) {
    const ModelFamily& f = *page.family;
    auto* w = new QWidget;
    auto* form = new QFormLayout(w);
    form->setContentsMargins(0, 0, 0, 0);
    page.preset = new QComboBox;
    for (const PresetDecl& p : f.presets) {
        page.preset->addItem(QString("%1  (%2)").arg(qs(p.name), qs(p.note)), qs(p.name));
    }
    page.preset->setToolTip(tr("A published configuration; the fields below start from it"));
    // Long preset notes must not widen the whole panel.
    page.preset->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    page.preset->setMinimumContentsLength(16);
    form->addRow(tr("Preset"), page.preset);
    for (const ParamDecl& d : f.params) {
        const QString tipText = QString("%1 (%2)").arg(qs(d.meaning), qs(paramRange(d)));
        QWidget* editor = nullptr;
        switch (d.kind) {
            case ParamKind::Int: {
                auto* s = new QSpinBox;
                s->setRange(int(d.min), int(d.max));
                connect(s, QOverload<int>::of(&QSpinBox::valueChanged), this,
                        &ModelDesigner::rebuild);
                editor = s;
                break;
            }
            case ParamKind::Real: {
                auto* s = new QDoubleSpinBox;
                s->setDecimals(d.min > 0 && d.min < 1e-3 ? 6 : 3);
                s->setRange(d.min, d.max);
                s->setSingleStep(d.max - d.min > 1 ? 0.1 : 0.01);
                connect(s, QOverload<double>::of(&QDoubleSpinBox::valueChanged), this,
                        &ModelDesigner::rebuild);
                editor = s;
                break;
            }
            case ParamKind::Choice: {
                auto* c = new QComboBox;
                c->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
                c->setMinimumContentsLength(10);
                for (const std::string& choice : d.choices) {
                    c->addItem(qs(choice));
                }
                connect(c, QOverload<int>::of(&QComboBox::currentIndexChanged), this,
                        &ModelDesigner::rebuild);
                editor = c;
                break;
            }
            case ParamKind::IntList: {
                auto* e = new QLineEdit;
                connect(e, &QLineEdit::textChanged, this, &ModelDesigner::rebuild);
                editor = e;
                break;
            }
        }
        editor->setToolTip(tipText);
        editor->setProperty("tip", tipText);
        page.fields[d.key] = editor;
        form->addRow(qs(d.label), editor);
    }
    loadPresetIntoFields(page);
    FamilyPage* pp = &page;
    connect(page.preset, QOverload<int>::of(&QComboBox::currentIndexChanged), this, [this, pp] {
        const bool was = building_;
        building_ = true;
        loadPresetIntoFields(*pp);
        building_ = was;
        rebuild();
    });
    return w;
}

QWidget* ModelDesigner::buildScalingBox() {
    auto* box = new QGroupBox(tr("Scaling (any family)"));
    auto* v = new QVBoxLayout(box);
    auto* form = new QFormLayout;
    scaleMode_ = new QComboBox;
    scaleMode_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    scaleMode_->setMinimumContentsLength(12);
    scaleMode_->addItems(
        {tr("None (the preset as is)"), tr("Manual (w, d, r)"), tr("Compound (φ, α, β, γ)")});
    scaleMode_->setToolTip(
        tr("Width multiplies every stage's channels (rounded to multiples of 8), depth every "
           "stage's repeats (rounded up), resolution the input side."));
    form->addRow(tr("Mode"), scaleMode_);
    v->addLayout(form);

    scalePages_ = new QStackedWidget;
    scalePages_->addWidget(new QWidget);  // None
    {
        auto* w = new QWidget;
        auto* f = new QFormLayout(w);
        f->setContentsMargins(0, 0, 0, 0);
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
        scalePages_->addWidget(w);
    }
    {
        auto* w = new QWidget;
        auto* f = new QFormLayout(w);
        f->setContentsMargins(0, 0, 0, 0);
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
            tr("The paper constrains α·β²·γ² ≈ 2, so each +1 of φ about doubles the MACs."));
        f->addRow(QString(), abgLabel_);
        scalePages_->addWidget(w);
    }
    v->addWidget(scalePages_);
    auto* baseForm = new QFormLayout;
    baseRes_ = new QSpinBox;
    baseRes_->setRange(8, 1024);
    baseRes_->setValue(32);
    baseRes_->setSuffix(" px");
    baseRes_->setToolTip(
        tr("The input side at r = 1: 224 for ImageNet-style inputs, 32 for 28-px images like "
           "Fashion-MNIST. A preset's own resolution (B3: 300 at 224) scales with it."));
    baseForm->addRow(tr("Base resolution"), baseRes_);
    resMultiple_ = new QComboBox;
    resMultiple_->setObjectName("resolutionMultiple");
    resMultiple_->addItem(tr("exact: round(r · base)"), 0);
    for (int n : {8, 16, 32}) {
        resMultiple_->addItem(tr("multiple of %1 px").arg(n), n);
    }
    resMultiple_->setToolTip(
        tr("Where the scaled input side goes: to the nearest whole px, or to the nearest "
           "multiple of 8, 16 or 32 px (at least one), as hardware-friendly sizes often are. "
           "Applies when scaling; the scaling curves use it too."));
    baseForm->addRow(tr("Resolution"), resMultiple_);
    v->addLayout(baseForm);

    connect(scaleMode_, QOverload<int>::of(&QComboBox::currentIndexChanged), this, [this](int i) {
        scalePages_->setCurrentIndex(i);
        rebuild();
    });
    for (QSlider* s : {phiSlider_, widthSlider_, depthSlider_, resSlider_}) {
        connect(s, &QSlider::valueChanged, this, &ModelDesigner::rebuild);
    }
    for (QDoubleSpinBox* s : {alpha_, beta_, gamma_}) {
        connect(s, QOverload<double>::of(&QDoubleSpinBox::valueChanged), this,
                &ModelDesigner::rebuild);
    }
    connect(baseRes_, QOverload<int>::of(&QSpinBox::valueChanged), this, &ModelDesigner::rebuild);
    connect(resMultiple_, QOverload<int>::of(&QComboBox::currentIndexChanged), this,
            &ModelDesigner::rebuild);
    scaleMode_->setCurrentIndex(int(Scaling::Mode::Compound));
    scalePages_->setCurrentIndex(int(Scaling::Mode::Compound));
    return box;
}

void ModelDesigner::loadPresetIntoFields(FamilyPage& page) {
    const PresetDecl& p = page.family->presets.at(size_t(std::max(0, page.preset->currentIndex())));
    for (const ParamDecl& d : page.family->params) {
        auto it = p.values.find(d.key);
        setFieldValue(page.fields.at(d.key), it != p.values.end() ? it->second : d.def);
    }
}

ParamMap ModelDesigner::fieldValues(const FamilyPage& page) const {
    ParamMap values;
    for (const ParamDecl& d : page.family->params) {
        QWidget* w = page.fields.at(d.key);
        if (auto* spin = qobject_cast<QSpinBox*>(w)) {
            values[d.key] = double(spin->value());
        } else if (auto* dspin = qobject_cast<QDoubleSpinBox*>(w)) {
            values[d.key] = dspin->value();
        } else if (auto* combo = qobject_cast<QComboBox*>(w)) {
            values[d.key] = combo->currentText().toStdString();
        } else if (auto* edit = qobject_cast<QLineEdit*>(w)) {
            values[d.key] = parseParam(d, edit->text().trimmed().toStdString());
        }
    }
    return values;
}

ModelDesigner::FamilyPage& ModelDesigner::currentPage() {
    return pages_.at(size_t(std::max(0, family_->currentIndex())));
}
const ModelDesigner::FamilyPage& ModelDesigner::currentPage() const {
    return pages_.at(size_t(std::max(0, family_->currentIndex())));
}

void ModelDesigner::setDataShape(int channels, int classes, int side) {
    inChannels_ = channels;
    numClasses_ = classes;
    building_ = true;
    baseRes_->setValue(side <= 64 ? 32 : 224);
    building_ = false;
    rebuild();
}

void ModelDesigner::setBatchSize(int batch) {
    batch_ = batch;
    updateLabels();
}

void ModelDesigner::setFamily(const std::string& id) {
    family_->setCurrentIndex(family_->findData(qs(id)));
}
void ModelDesigner::setPreset(const std::string& name) {
    FamilyPage& page = currentPage();
    page.preset->setCurrentIndex(page.preset->findData(qs(name)));
}
void ModelDesigner::setParam(const std::string& key, const QString& text) {
    FamilyPage& page = currentPage();
    auto it = page.fields.find(key);
    if (it == page.fields.end()) {
        return;
    }
    const ParamDecl* d = page.family->findParam(key);
    if (auto* edit = qobject_cast<QLineEdit*>(it->second)) {
        edit->setText(text);
    } else {
        setFieldValue(it->second, parseParam(*d, text.toStdString()));
    }
}
void ModelDesigner::setScalingMode(Scaling::Mode mode) {
    scaleMode_->setCurrentIndex(int(mode));
}
void ModelDesigner::setPhi(double phi) {
    phiSlider_->setValue(int(std::lround(phi * kSliderScale)));
}
void ModelDesigner::setBaseResolution(int px) {
    baseRes_->setValue(px);
}

Scaling ModelDesigner::scaling() const {
    Scaling s;
    s.mode = Scaling::Mode(scaleMode_->currentIndex());
    s.width = widthSlider_->value() / kSliderScale;
    s.depth = depthSlider_->value() / kSliderScale;
    s.resolution = resSlider_->value() / kSliderScale;
    s.phi = phiSlider_->value() / kSliderScale;
    s.alpha = alpha_->value();
    s.beta = beta_->value();
    s.gamma = gamma_->value();
    s.resolutionMultiple = resMultiple_->currentData().toInt();
    return s;
}

QString ModelDesigner::scalingText() const {
    const Scaling s = scaling();
    switch (s.mode) {
        case Scaling::Mode::Compound:
            return QString("φ %1 (α %2, β %3, γ %4)")
                .arg(s.phi, 0, 'f', 2)
                .arg(s.alpha, 0, 'f', 2)
                .arg(s.beta, 0, 'f', 2)
                .arg(s.gamma, 0, 'f', 2);
        case Scaling::Mode::Manual:
        case Scaling::Mode::None:
            break;
    }
    return QString("w %1, d %2, r %3 (%4 px)")
        .arg(spec_.width, 0, 'f', 2)
        .arg(spec_.depth, 0, 'f', 2)
        .arg(spec_.resolutionCoef, 0, 'f', 2)
        .arg(spec_.resolution);
}

void ModelDesigner::rebuild() {
    if (building_) {
        return;
    }
    try {
        FamilyPage& page = currentPage();
        const std::string preset = page.preset->currentData().toString().toStdString();
        ModelSpec spec = modelSpecFromName(preset, inChannels_, numClasses_, baseRes_->value());
        base_ = customizeSpec(spec, fieldValues(page));
        spec_ = applyScaling(base_, scaling());
        analysis_ = analyzeModel(spec_);
        valid_ = true;
        error_.clear();
    } catch (const std::exception& e) {
        valid_ = false;
        error_ = QString::fromStdString(e.what());
    }
    markProblem();
    updateLabels();
    Q_EMIT specChanged();
}

// The field the message names ("... (blocks) ...", "width coefficient ...") shows the problem.
void ModelDesigner::markProblem() {
    std::vector<std::pair<QWidget*, QString>> candidates;
    for (auto& [key, w] : currentPage().fields) {
        candidates.emplace_back(w, "(" + qs(key) + ")");
    }
    candidates.emplace_back(widthSlider_, "width coefficient");
    candidates.emplace_back(depthSlider_, "depth coefficient");
    candidates.emplace_back(resSlider_, "resolution coefficient");
    candidates.emplace_back(baseRes_, "too small");
    candidates.emplace_back(phiSlider_, "phi");
    problemField_ = nullptr;
    for (auto& [w, needle] : candidates) {
        const bool bad = !valid_ && !problemField_ && error_.contains(needle);
        if (bad) {
            problemField_ = w;
        }
        w->setStyleSheet(bad ? kProblemStyle : "");
        const QString tip = w->property("tip").toString();
        if (!tip.isEmpty()) {
            w->setToolTip(bad ? error_ + "\n\n" + tip : tip);
        }
    }
    if (!valid_ && !problemField_) {
        // A rule that spans fields (groups need bottleneck blocks, ...): the family's preset
        // box carries it.
        problemField_ = currentPage().preset;
        problemField_->setStyleSheet(kProblemStyle);
    } else {
        currentPage().preset->setStyleSheet("");
    }
}

QString ModelDesigner::readoutText() const {
    return readout_->text();
}

void ModelDesigner::updateLabels() {
    phiLabel_->setText(QString::number(phiSlider_->value() / kSliderScale, 'f', 2));
    widthLabel_->setText(QString::number(widthSlider_->value() / kSliderScale, 'f', 2));
    depthLabel_->setText(QString::number(depthSlider_->value() / kSliderScale, 'f', 2));
    resLabel_->setText(QString::number(resSlider_->value() / kSliderScale, 'f', 2));
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
    row(tr("Model"), qs(spec_.name).toHtmlEscaped());
    row(tr("Input"), QString("%1 × %2 × %2 px").arg(spec_.inChannels).arg(spec_.resolution));
    row(tr("Params"), QString("%1 (%2)").arg(qs(humanCount(double(a.params))), number(a.params)));
    row(tr("MACs"),
        QString("%1 (%2) per image").arg(qs(humanCount(double(a.macs))), number(a.macs)));
    row(tr("FLOPs"), QString("%1 = 2 × MACs").arg(qs(humanCount(double(a.flops())))));
    row(tr("Stages"), tr("%1 (channels × repeats)").arg(stages));
    row(tr("Train memory"), tr("≈ %1 MiB at batch %2 (estimate)")
                                .arg(a.trainingMemoryBytes(batch_) / (1024.0 * 1024.0), 0, 'f', 0)
                                .arg(batch_));
    const Scaling s = scaling();
    if (s.mode != Scaling::Mode::None) {
        try {
            const ScalingGap g = scalingGap(base_, s);
            row(tr("Scaling"),
                tr("d %1, w %2, r %3 · predicted MACs ×%4 = %5, exact ×%6 vs unscaled")
                    .arg(s.depthFactor(), 0, 'f', 2)
                    .arg(s.widthFactor(), 0, 'f', 2)
                    .arg(s.resolutionFactor(), 0, 'f', 2)
                    .arg(g.predicted, 0, 'f', 2)
                    .arg(s.mode == Scaling::Mode::Compound ? tr("(α·β²·γ²)^φ") : tr("w²·d·r²"))
                    .arg(g.exact, 0, 'f', 2));
            row(tr("Why"), gapText(g).toHtmlEscaped());
        } catch (const std::exception&) {
        }
    }
    html += "</table>";
    readout_->setText(html);
}

void ModelDesigner::saveSettings() const {
    QSettings s;
    s.beginGroup("designer2");
    s.setValue("family", family_->currentData());
    s.setValue("scaleMode", scaleMode_->currentIndex());
    s.setValue("phi", phiSlider_->value());
    s.setValue("alpha", alpha_->value());
    s.setValue("beta", beta_->value());
    s.setValue("gamma", gamma_->value());
    s.setValue("width", widthSlider_->value());
    s.setValue("depth", depthSlider_->value());
    s.setValue("res", resSlider_->value());
    s.setValue("resMultiple", resMultiple_->currentData());
    for (const FamilyPage& page : pages_) {
        s.beginGroup(qs(page.family->id));
        s.setValue("preset", page.preset->currentData());
        try {
            for (const auto& [key, value] : fieldValues(page)) {
                s.setValue(qs(key), qs(paramText(value)));
            }
        } catch (const std::exception&) {
            // an unparsable field is not saved; its preset value comes back
        }
        s.endGroup();
    }
    s.endGroup();
}

void ModelDesigner::restoreSettings() {
    QSettings s;
    s.beginGroup("designer2");
    building_ = true;
    const int fam = family_->findData(s.value("family").toString());
    family_->setCurrentIndex(std::max(0, fam));
    scaleMode_->setCurrentIndex(s.value("scaleMode", int(Scaling::Mode::Compound)).toInt());
    phiSlider_->setValue(s.value("phi", 0).toInt());
    alpha_->setValue(s.value("alpha", 1.2).toDouble());
    beta_->setValue(s.value("beta", 1.1).toDouble());
    gamma_->setValue(s.value("gamma", 1.15).toDouble());
    widthSlider_->setValue(s.value("width", 100).toInt());
    depthSlider_->setValue(s.value("depth", 100).toInt());
    resSlider_->setValue(s.value("res", 100).toInt());
    resMultiple_->setCurrentIndex(std::max(0, resMultiple_->findData(s.value("resMultiple", 0))));
    for (FamilyPage& page : pages_) {
        s.beginGroup(qs(page.family->id));
        const int p = page.preset->findData(s.value("preset").toString());
        page.preset->setCurrentIndex(std::max(0, p));
        loadPresetIntoFields(page);
        for (const ParamDecl& d : page.family->params) {
            const QString text = s.value(qs(d.key)).toString();
            if (text.isEmpty()) {
                continue;
            }
            try {
                setFieldValue(page.fields.at(d.key), parseParam(d, text.toStdString()));
            } catch (const std::exception&) {
                // a stored value outside today's range keeps the preset's
            }
        }
        s.endGroup();
    }
    familyPages_->setCurrentIndex(family_->currentIndex());
    scalePages_->setCurrentIndex(scaleMode_->currentIndex());
    s.endGroup();
    building_ = false;
    rebuild();
}

}  // namespace scalelab::ui
