#include "ui/pruning_panel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QProgressBar>
#include <QPushButton>
#include <QSaveFile>
#include <QSpinBox>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>
#include <memory>

#include "core/train/run_folder.h"
#include "ui/charts/chart_tools.h"
#include "ui/charts/pruning_chart.h"
#include "ui/job_runner.h"
#include "ui/run_picker.h"
#include "ui/session.h"

namespace scalelab::ui {

PruningPanel::PruningPanel(Session* session, JobRunner* jobs, QWidget* parent)
    : QWidget(parent), session_(session), jobs_(jobs) {
    auto* h = new QHBoxLayout(this);
    auto* left = new QWidget;
    left->setMaximumWidth(340);  // the methods' check boxes need 321 px
    auto* f = new QFormLayout(left);
    run_ = new QComboBox;
    run_->setToolTip(tr("A finished run of this session (its weights.pt)"));
    f->addRow(tr("Trained run"), run_);
    global_ = new QCheckBox(tr("Magnitude, global threshold"));
    global_->setChecked(true);
    global_->setToolTip(tr("Zero the smallest weights across all layers at once (unstructured)"));
    layer_ = new QCheckBox(tr("Magnitude, per layer"));
    layer_->setToolTip(tr("Zero the same share of every layer's smallest weights (unstructured)"));
    structured_ = new QCheckBox(tr("L1-norm filters (structured)"));
    structured_->setChecked(true);
    structured_->setToolTip(
        tr("Remove whole inner channels with the smallest L1 norms (Li et al. "
           "2017): a smaller, faster model"));
    f->addRow(tr("Methods"), global_);
    f->addRow(QString(), layer_);
    f->addRow(QString(), structured_);
    levels_ = new QLineEdit("0, 0.25, 0.5, 0.75");
    levels_->setToolTip(tr("Fractions of prunable weights (or inner channels) to remove"));
    f->addRow(tr("Levels"), levels_);
    finetune_ = new QSpinBox;
    finetune_->setRange(0, 100);
    finetune_->setValue(1);
    finetune_->setToolTip(tr("Epochs of fine-tuning after pruning; pruned weights stay zero"));
    f->addRow(tr("Fine-tune epochs"), finetune_);
    finetuneSubset_ = new QSpinBox;
    finetuneSubset_->setRange(0, 10000000);
    finetuneSubset_->setSingleStep(1000);
    finetuneSubset_->setValue(2000);
    finetuneSubset_->setSpecialValueText(tr("the run's"));
    f->addRow(tr("Fine-tune images"), finetuneSubset_);
    perStage_ = new QCheckBox(tr("Per-stage sensitivity"));
    perStage_->setToolTip(tr("Also prune each stage alone, to see which stages tolerate it"));
    f->addRow(QString(), perStage_);
    auto* buttons = new QHBoxLayout;
    start_ = new QPushButton(tr("Run sweep"));
    stop_ = new QPushButton(tr("Stop"));
    stop_->setEnabled(false);
    buttons->addWidget(start_);
    buttons->addWidget(stop_);
    f->addRow(buttons);
    progress_ = new QProgressBar;
    progress_->setRange(0, 1000);
    f->addRow(progress_);
    status_ = new QLabel;
    status_->setWordWrap(true);
    f->addRow(status_);
    auto* exportCsvButton = new QPushButton(tr("Export rows (CSV)…"));
    auto* exportWeightsButton = new QPushButton(tr("Export pruned weights…"));
    exportWeightsButton->setToolTip(
        tr("The pruned model of the row selected below, as a PyTorch "
           "state dict (and its plan.json for a structured one)"));
    f->addRow(exportCsvButton);
    f->addRow(exportWeightsButton);
    h->addWidget(left);

    auto* split = new QSplitter(Qt::Vertical);
    chart_ = new PruningChart;
    // Three charts stacked: below this height their axis labels no longer fit (the tab scrolls).
    chart_->setMinimumHeight(640);
    split->addWidget(chart_);
    table_ = new QTableWidget(0, 8);
    table_->setHorizontalHeaderLabels({tr("Method"), tr("Level"), tr("Scope"), tr("Sparsity"),
                                       tr("MACs"), tr("Acc"), tr("Acc fine-tuned"),
                                       tr("Images/s")});
    table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    split->addWidget(table_);
    split->setStretchFactor(0, 3);
    h->addWidget(split, 1);

    connect(start_, &QPushButton::clicked, this, [this] { startSweep(); });
    connect(stop_, &QPushButton::clicked, this, &PruningPanel::stop);
    connect(exportCsvButton, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Export pruning rows"),
                                                          "pruning.csv", tr("CSV (*.csv)"));
        if (!path.isEmpty()) {
            exportCsv(path);
        }
    });
    connect(exportWeightsButton, &QPushButton::clicked, this, [this] {
        const int row = table_->currentRow();
        const QString path =
            QFileDialog::getSaveFileName(this, tr("Export pruned weights"), "pruned-weights.pt",
                                         tr("PyTorch state dict (*.pt)"));
        if (!path.isEmpty()) {
            exportPrunedWeights(row, path);
        }
    });
    connect(session_, &Session::runChanged, this, &PruningPanel::refreshRuns);
    connect(session_, &Session::runsReset, this, &PruningPanel::refreshRuns);
    connect(run_, &QComboBox::currentIndexChanged, this, &PruningPanel::showStoredSweep);
    refreshRuns();
}

void PruningPanel::refreshRuns() {
    fillFinishedRuns(run_, *session_);
    start_->setEnabled(!running_ && run_->count() > 0);
    showStoredSweep();
}

void PruningPanel::showStoredSweep() {
    if (running_) {
        return;
    }
    const RunRecord* r = session_->find(run_->currentData().toInt());
    if (!r || r->pruning.empty()) {
        if (!shownDir_.isEmpty()) {
            shownDir_.clear();
            result_ = PruneSweepResult{};
            table_->setRowCount(0);
            chart_->setRows({}, -1);
            status_->clear();
        }
        return;
    }
    const PruneSweepRecord& sweep = r->pruning.back();
    const QString dir = QString::fromStdString(sweep.dir);
    if (dir == shownDir_ && result_.rows.size() == sweep.result.rows.size()) {
        return;
    }
    shownDir_ = dir;
    result_ = sweep.result;
    table_->setRowCount(0);
    for (const PruneRow& row : result_.rows) {
        appendTableRow(row);
    }
    chart_->setRows(result_.rows, sweep.finished ? result_.baselineAccuracy : -1);
    progress_->setValue(sweep.finished ? 1000 : 0);
    status_->setText(tr("%1 row(s) of the sweep recorded in %2 (%3)")
                         .arg(result_.rows.size())
                         .arg(dir)
                         .arg(sweep.finished ? QString::fromStdString(result_.status)
                                             : tr("it did not finish: the app closed while it "
                                                  "ran")));
}

QString PruningPanel::keepRecord() {
    record_.result.rows = result_.rows;
    session_->setPruneSweep(recordRunId_, record_);
    try {
        writePruneSweep(record_);
    } catch (const std::exception&) {
        return tr("%1: the pruning rows could not be written (they are kept in the session)")
            .arg(QString::fromStdString(record_.dir));
    }
    return {};
}

void PruningPanel::selectRun(int id) {
    refreshRuns();
    run_->setCurrentIndex(run_->findData(id));
}

void PruningPanel::setMethods(const std::vector<PruneMethod>& m) {
    auto has = [&](PruneMethod x) { return std::find(m.begin(), m.end(), x) != m.end(); };
    global_->setChecked(has(PruneMethod::MagnitudeGlobal));
    layer_->setChecked(has(PruneMethod::MagnitudeLayer));
    structured_->setChecked(has(PruneMethod::L1Structured));
}

void PruningPanel::setLevels(const QString& levels) {
    levels_->setText(levels);
}
void PruningPanel::setFinetuneEpochs(int e) {
    finetune_->setValue(e);
}
void PruningPanel::setPerStage(bool on) {
    perStage_->setChecked(on);
}

QString PruningPanel::fail(const QString& message) {
    status_->setText(QString("<span style='color:#b00020'>%1</span>").arg(message.toHtmlEscaped()));
    Q_EMIT errorOccurred(message);
    return message;
}

QString PruningPanel::startSweep() {
    if (running_ || jobs_->busy()) {
        return fail(tr("Another background job is running"));
    }
    const RunRecord* r = session_->find(run_->currentData().toInt());
    if (!r) {
        return fail(tr("Pick a finished run first (train one in the Training tab)"));
    }
    PruneSweepOptions o;
    o.runDir = r->runDir.toStdString();
    o.methods.clear();
    if (global_->isChecked())
        o.methods.push_back(PruneMethod::MagnitudeGlobal);
    if (layer_->isChecked())
        o.methods.push_back(PruneMethod::MagnitudeLayer);
    if (structured_->isChecked())
        o.methods.push_back(PruneMethod::L1Structured);
    if (o.methods.empty()) {
        return fail(tr("Choose at least one method"));
    }
    o.levels.clear();
    for (const QString& part : levels_->text().split(',', Qt::SkipEmptyParts)) {
        bool ok = false;
        const double v = part.trimmed().toDouble(&ok);
        if (!ok || v < 0 || v >= 1) {
            return fail(tr("Level '%1' is not a fraction in [0, 1)").arg(part.trimmed()));
        }
        o.levels.push_back(v);
    }
    if (o.levels.empty()) {
        return fail(tr("Give at least one level"));
    }
    o.finetuneEpochs = finetune_->value();
    o.finetuneSubset = finetuneSubset_->value();
    o.perStage = perStage_->isChecked();
    outputDir_ = QDir(r->runDir).filePath("pruning-" +
                                          QDateTime::currentDateTime().toString("yyyyMMdd-HHmmss"));
    o.saveModelDir = outputDir_.toStdString();

    result_ = PruneSweepResult{};
    table_->setRowCount(0);
    chart_->setRows({}, -1);
    record_ = PruneSweepRecord{};
    record_.dir = o.saveModelDir;
    record_.options = o;
    recordRunId_ = r->id;
    shownDir_ = outputDir_;
    running_ = true;
    start_->setEnabled(false);
    stop_->setEnabled(true);
    status_->setText(tr("Measuring the unpruned model…"));
    progress_->setValue(0);

    auto shared = std::make_shared<PruneSweepResult>();
    auto error = std::make_shared<QString>();
    PruneHooks hooks;
    hooks.cancel = jobs_->cancelFlag();
    hooks.progress = [this](int64_t done, int64_t total, const std::string& what) {
        QMetaObject::invokeMethod(
            this,
            [this, done, total, what] {
                progress_->setValue(total ? int(1000 * done / total) : 0);
                if (!what.empty()) {
                    status_->setText(tr("%1 of %2: %3")
                                         .arg(done + 1)
                                         .arg(total)
                                         .arg(QString::fromStdString(what)));
                }
            },
            Qt::QueuedConnection);
        return true;
    };
    hooks.row = [this](const PruneRow& row) {
        QMetaObject::invokeMethod(
            this, [this, row] { addRow(row); }, Qt::QueuedConnection);
    };
    jobs_->start(
        [o, hooks, shared, error] {
            try {
                *shared = runPruneSweep(o, hooks);
            } catch (const std::exception& e) {
                *error = QString::fromStdString(e.what());
            }
        },
        [this, shared, error] {
            running_ = false;
            stop_->setEnabled(false);
            start_->setEnabled(run_->count() > 0);
            if (!error->isEmpty()) {
                record_.result.status = ("failed: " + *error).toStdString();
                record_.finished = true;
                keepRecord();
                fail(*error);
                Q_EMIT sweepFinished("failed: " + *error);
                return;
            }
            result_ = *shared;
            record_.result = result_;
            record_.finished = true;
            const QString writeProblem = keepRecord();
            chart_->setRows(result_.rows, result_.baselineAccuracy);
            progress_->setValue(1000);
            status_->setText(
                tr("%1: %2 rows; unpruned model: %3 % test accuracy, %4 img/s inference. "
                   "Pruned models saved under %5")
                    .arg(QString::fromStdString(result_.status))
                    .arg(result_.rows.size())
                    .arg(result_.baselineAccuracy * 100, 0, 'f', 2)
                    .arg(result_.baselineImagesPerSec, 0, 'f', 0)
                    .arg(outputDir_));
            if (!writeProblem.isEmpty()) {
                fail(writeProblem);
            }
            Q_EMIT sweepFinished(QString::fromStdString(result_.status));
        });
    return {};
}

void PruningPanel::stop() {
    if (running_) {
        jobs_->cancel();
        status_->setText(tr("Stopping after the current batch…"));
    }
}

void PruningPanel::addRow(const PruneRow& r) {
    result_.rows.push_back(r);
    appendTableRow(r);
    chart_->setRows(result_.rows, -1);
    if (const QString problem = keepRecord(); !problem.isEmpty()) {
        fail(problem);
    }
}

void PruningPanel::appendTableRow(const PruneRow& r) {
    const int i = table_->rowCount();
    table_->insertRow(i);
    auto set = [&](int col, const QString& text) {
        table_->setItem(i, col, new QTableWidgetItem(text));
    };
    set(0, QString::fromStdString(r.method));
    set(1, QString::number(r.level, 'f', 2));
    set(2, QString::fromStdString(r.scope));
    set(3, QString("%1 %").arg(r.sparsity * 100, 0, 'f', 1));
    set(4, compactCount(double(r.macs)));
    table_->item(i, 4)->setToolTip(
        tr("%1 MACs per image as it runs (dense kernels); a sparse kernel would need %2")
            .arg(exactCount(r.macs), exactCount(r.sparseMacs)));
    set(5, QString("%1 %").arg(r.accuracy * 100, 0, 'f', 2));
    set(6, r.finetunedAccuracy < 0 ? QString("-")
                                   : QString("%1 %").arg(r.finetunedAccuracy * 100, 0, 'f', 2));
    set(7, QString::number(r.inferImagesPerSec, 'f', 0));
}

QString PruningPanel::exportCsv(const QString& path) {
    if (result_.rows.empty()) {
        return fail(tr("No pruning results to export yet"));
    }
    QSaveFile f(path);
    if (!f.open(QIODevice::WriteOnly)) {
        return fail(tr("%1: cannot write (%2)").arg(path, f.errorString()));
    }
    f.write(QByteArray::fromStdString(pruneResultToCsv(result_)));
    if (!f.commit()) {
        return fail(tr("%1: write failed (%2)").arg(path, f.errorString()));
    }
    status_->setText(tr("Rows saved to %1").arg(path));
    return {};
}

QString PruningPanel::exportPrunedWeights(int row, const QString& path) {
    if (row < 0 || row >= int(result_.rows.size()) || result_.rows[size_t(row)].modelDir.empty()) {
        return fail(tr("Select a row of a finished sweep first"));
    }
    const QString from =
        QDir(QString::fromStdString(result_.rows[size_t(row)].modelDir)).filePath("weights.pt");
    QFile::remove(path);
    if (!QFile::copy(from, path)) {
        return fail(tr("%1: could not be written (from %2)").arg(path, from));
    }
    const QString plan =
        QDir(QString::fromStdString(result_.rows[size_t(row)].modelDir)).filePath("plan.json");
    const QFileInfo target(path);
    QFile::remove(target.dir().filePath(target.completeBaseName() + "-plan.json"));
    QFile::copy(plan, target.dir().filePath(target.completeBaseName() + "-plan.json"));
    status_->setText(tr("Weights saved to %1 (architecture: %2-plan.json)")
                         .arg(path, target.completeBaseName()));
    return {};
}

}  // namespace scalelab::ui
