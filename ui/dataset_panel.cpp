#include "ui/dataset_panel.h"

#include <QComboBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QLabel>
#include <QListWidget>
#include <QMenu>
#include <QMessageBox>
#include <QPointer>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

#include "core/data/dataset_spec.h"
#include "ui/image_convert.h"
#include "ui/sample_grid.h"

namespace scalelab::ui {

namespace {
constexpr int kSamplesPerClass = 8;
}

DatasetPanel::DatasetPanel(QWidget* parent) : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);

    auto* pickRow = new QHBoxLayout;
    combo_ = new QComboBox;
    combo_->setToolTip(tr("Datasets found on this machine; Fashion-MNIST is the default"));
    for (const DatasetEntry& e : discoverDatasets()) {
        const QString text = e.available
                                 ? QString::fromStdString(e.name)
                                 : tr("%1 (not installed)").arg(QString::fromStdString(e.name));
        combo_->addItem(text, QString::fromStdString(e.spec));
    }
    pickRow->addWidget(combo_, 1);
    openButton_ = new QPushButton(tr("Open…"));
    auto* openMenu = new QMenu(openButton_);
    openMenu->addAction(tr("MNIST folder (IDX files)…"), this,
                        [this] { openFolder(DatasetKind::Mnist); });
    openMenu->addAction(tr("Fashion-MNIST folder (IDX files)…"), this,
                        [this] { openFolder(DatasetKind::FashionMnist); });
    openMenu->addAction(tr("CIFAR-10 folder (binary batches)…"), this,
                        [this] { openFolder(DatasetKind::Cifar10); });
    openMenu->addAction(tr("Image folder (one subfolder per class)…"), this,
                        [this] { openFolder(DatasetKind::ImageFolder); });
    openButton_->setMenu(openMenu);
    pickRow->addWidget(openButton_);
    layout->addLayout(pickRow);

    progress_ = new QProgressBar;
    progress_->setVisible(false);
    progress_->setTextVisible(true);
    layout->addWidget(progress_);

    summaryLabel_ = new QLabel;
    summaryLabel_->setWordWrap(true);
    summaryLabel_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(summaryLabel_);

    layout->addWidget(new QLabel(tr("<b>Classes</b> (train images)")));
    classList_ = new QListWidget;
    classList_->setMaximumHeight(170);
    layout->addWidget(classList_);

    layout->addWidget(new QLabel(tr("<b>Samples</b> (first train images of each class)")));
    grid_ = new SampleGrid;
    auto* scroll = new QScrollArea;
    scroll->setWidget(grid_);
    scroll->setWidgetResizable(false);
    scroll->setMinimumHeight(200);
    layout->addWidget(scroll, 1);

    connect(combo_, QOverload<int>::of(&QComboBox::activated), this,
            &DatasetPanel::onComboActivated);
    connect(&watcher_, &QFutureWatcher<PreviewResult>::finished, this,
            &DatasetPanel::onLoadFinished);
}

DatasetPanel::~DatasetPanel() {
    if (cancel_) {
        cancel_->store(true);
    }
    watcher_.waitForFinished();
}

QStringList DatasetPanel::classNames() const {
    QStringList out;
    for (const auto& n : summary_.classNames) {
        out << QString::fromStdString(n);
    }
    return out;
}

int DatasetPanel::comboIndexOf(const QString& spec) const {
    for (int i = 0; i < combo_->count(); ++i) {
        if (combo_->itemData(i).toString() == spec) {
            return i;
        }
    }
    return -1;
}

void DatasetPanel::onComboActivated(int index) {
    const QString spec = combo_->itemData(index).toString();
    if (spec != currentSpec_) {
        loadSpec(spec);
    }
}

void DatasetPanel::openFolder(DatasetKind kind) {
    const QString title = tr("Open %1 folder").arg(QString::fromStdString(kindName(kind)));
    const QString dir = QFileDialog::getExistingDirectory(this, title);
    if (dir.isEmpty()) {
        return;
    }
    DatasetSpec spec;
    spec.kind = kind;
    spec.path = dir.toStdString();
    loadSpec(QString::fromStdString(toString(spec)));
}

void DatasetPanel::setBusy(bool busy) {
    combo_->setEnabled(!busy);
    openButton_->setEnabled(!busy);
    progress_->setVisible(busy);
}

void DatasetPanel::loadSpec(const QString& specText) {
    if (watcher_.isRunning()) {
        return;  // one load at a time; the controls are disabled meanwhile
    }
    loadingSpec_ = specText;
    setBusy(true);
    progress_->setRange(0, 0);
    progress_->setFormat(tr("Loading %1…").arg(specText));
    Q_EMIT statusMessage(tr("Loading %1…").arg(specText));

    cancel_ = std::make_shared<std::atomic<bool>>(false);
    auto cancel = cancel_;
    QPointer<QProgressBar> bar = progress_;
    const std::string text = specText.toStdString();
    watcher_.setFuture(QtConcurrent::run([text, cancel, bar]() {
        PreviewResult r;
        try {
            const DatasetSpec spec = parseDatasetSpec(text);
            r.preview =
                previewDataset(spec, kSamplesPerClass, [cancel, bar](int64_t done, int64_t total) {
                    // Runs on the worker: hand the numbers to the GUI thread.
                    QMetaObject::invokeMethod(
                        bar,
                        [bar, done, total] {
                            if (bar) {
                                bar->setRange(0, int(total));
                                bar->setValue(int(done));
                            }
                        },
                        Qt::QueuedConnection);
                    return !cancel->load();
                });
            r.ok = true;
        } catch (const std::exception& e) {
            r.error = QString::fromStdString(e.what());
        }
        return r;
    }));
}

void DatasetPanel::onLoadFinished() {
    setBusy(false);
    const PreviewResult r = watcher_.result();
    if (!r.ok) {
        lastError_ = r.error;
        // Nothing is lost: the previous dataset stays selected and shown.
        const int keep = comboIndexOf(currentSpec_);
        if (keep >= 0) {
            combo_->setCurrentIndex(keep);
        }
        Q_EMIT statusMessage(tr("Could not load %1").arg(loadingSpec_));
        Q_EMIT loadFailed(r.error);
        if (interactive_) {
            QMessageBox::warning(this, tr("Could not load the dataset"),
                                 tr("%1\n\nThe current dataset stays selected.").arg(r.error));
        }
        return;
    }
    lastError_.clear();
    summary_ = r.preview.summary;
    currentSpec_ = loadingSpec_;
    if (comboIndexOf(currentSpec_) < 0) {
        const QString name = QString::fromStdString(summary_.name);
        combo_->addItem(tr("%1 — %2").arg(name, QString::fromStdString(summary_.path)),
                        currentSpec_);
    }
    combo_->setCurrentIndex(comboIndexOf(currentSpec_));

    std::vector<QImage> images;
    std::vector<int> labels;
    for (const SampleImage& s : r.preview.samples) {
        images.push_back(toQImage(s));
        labels.push_back(int(s.label));
    }
    grid_->setSamples(images, labels, classNames());
    grid_->adjustSize();
    showSummary();
    Q_EMIT statusMessage(tr("%1 loaded in %2 s")
                             .arg(QString::fromStdString(summary_.name))
                             .arg(summary_.loadSeconds, 0, 'f', 2));
    Q_EMIT datasetLoaded(currentSpec_);
}

void DatasetPanel::showSummary() {
    const DatasetSummary& s = summary_;
    QStringList meanStd;
    for (size_t c = 0; c < s.mean.size(); ++c) {
        meanStd << QString("%1 / %2").arg(s.mean[c], 0, 'f', 4).arg(s.std[c], 0, 'f', 4);
    }
    QString html =
        tr("<b>%1</b><br>%2<br>"
           "Train %3 images · test %4 images<br>"
           "%5 × %6 px, %7<br>"
           "Mean / std (pixels in [0,1]): %8")
            .arg(QString::fromStdString(s.name).toHtmlEscaped(),
                 QString::fromStdString(s.path).toHtmlEscaped())
            .arg(s.trainCount)
            .arg(s.testCount)
            .arg(s.width)
            .arg(s.height)
            .arg(s.channels == 1 ? tr("grayscale") : tr("%1 channels (RGB)").arg(s.channels))
            .arg(meanStd.join(", "));
    if (!s.note.empty()) {
        html += "<br><i>" + QString::fromStdString(s.note).toHtmlEscaped() + "</i>";
    }
    summaryLabel_->setText(html);
    classList_->clear();
    for (size_t k = 0; k < s.classNames.size(); ++k) {
        classList_->addItem(QString("%1  %2  (%3)")
                                .arg(k, 2)
                                .arg(QString::fromStdString(s.classNames[k]))
                                .arg(k < s.trainClassCounts.size() ? s.trainClassCounts[k] : 0));
    }
}

}  // namespace scalelab::ui
