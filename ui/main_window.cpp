#include "ui/main_window.h"

#include <QApplication>
#include <QCheckBox>
#include <QCloseEvent>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QSettings>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableView>
#include <QVBoxLayout>

#include "core/error.h"
#include "core/export/onnx_api.h"
#include "core/models/analysis.h"
#include "core/runtime.h"
#include "core/train/run_folder.h"
#include "ui/app_info.h"
#include "ui/charts/chart_export.h"
#include "ui/charts/confusion_chart.h"
#include "ui/charts/cost_chart.h"
#include "ui/charts/pareto_chart.h"
#include "ui/charts/probability_chart.h"
#include "ui/charts/pruning_chart.h"
#include "ui/charts/scaling_chart.h"
#include "ui/charts/training_chart.h"
#include "ui/dataset_panel.h"
#include "ui/feature_panel.h"
#include "ui/job_runner.h"
#include "ui/model_designer.h"
#include "ui/pruning_panel.h"
#include "ui/run_table_model.h"
#include "ui/session.h"
#include "ui/train_settings.h"
#include "ui/training_worker.h"

namespace scalelab::ui {

namespace {

QString duration(double s) {
    if (s < 0) {
        return QObject::tr("unknown");
    }
    if (s < 60) {
        return QObject::tr("%1 s").arg(int(s + 0.5));
    }
    const int t = int(s + 0.5);
    if (t < 3600) {
        return QObject::tr("%1 min %2 s").arg(t / 60).arg(t % 60, 2, 10, QChar('0'));
    }
    return QObject::tr("%1 h %2 min").arg(t / 3600).arg((t % 3600) / 60, 2, 10, QChar('0'));
}

}  // namespace

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
    registerMetaTypes();
    setWindowTitle(tr("ScaleLab — CNN scaling lab"));
    setWindowIcon(appIcon());  // also without main()'s applyAppIdentity (tests, embedding)
    session_ = new Session(this);
    session_->setFolder(QDir(QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation))
                            .filePath("ScaleLab/session-" +
                                      QDateTime::currentDateTime().toString("yyyyMMdd-HHmmss")));
    controller_ = new TrainingController(session_, this);
    jobs_ = new JobRunner(this);
    tableModel_ = new RunTableModel(session_, this);

    splitter_ = new QSplitter(Qt::Horizontal);
    splitter_->addWidget(buildLeftPanel());
    splitter_->addWidget(buildRightPanel());
    splitter_->setStretchFactor(1, 1);
    setCentralWidget(splitter_);
    buildMenus();

    auto* device = new QLabel(QString::fromStdString(describeRuntime(runtimeInfo())));
    device->setToolTip(
        tr("Where training runs: CUDA when LibTorch has it and sees a GPU, the CPU "
           "otherwise; and how many CPU threads LibTorch uses"));
    statusBar()->addPermanentWidget(device);

    connect(datasetPanel_, &DatasetPanel::statusMessage, this,
            [this](const QString& text) { statusBar()->showMessage(text, 8000); });
    connect(datasetPanel_, &DatasetPanel::datasetLoaded, this, &MainWindow::onDatasetLoaded);
    connect(designer_, &ModelDesigner::specChanged, this, [this] {
        const std::string family = designer_->unscaledSpec().family;
        if (family != lastFamily_) {  // each family trains best with its own measured defaults
            lastFamily_ = family;
            trainSettings_->applyFamilyDefaults(designer_->unscaledSpec());
        }
        updateButtons();
        designThrottle_.start();
    });
    designThrottle_.setSingleShot(true);
    designThrottle_.setInterval(100);
    connect(&designThrottle_, &QTimer::timeout, this, &MainWindow::onDesignChanged);
    connect(trainSettings_, &TrainSettings::changed, this,
            [this] { designer_->setBatchSize(trainSettings_->batchSize()); });
    connect(session_, &Session::runChanged, this, &MainWindow::updateProgress);
    for (auto signal : {&Session::runChanged, &Session::runAdded}) {
        connect(session_, signal, this, &MainWindow::sessionEdited);
    }
    connect(session_, &Session::runsReset, this, &MainWindow::sessionEdited);
    connect(session_, &Session::runWarning, this, [this](int id, const QString& text) {
        const RunRecord* r = session_->find(id);
        const QString message = tr("⚠ %1: %2").arg(r ? r->name : QString(), text);
        statusBar()->showMessage(message, 30000);
        lastError_ = message;
    });
    autosaveTimer_.setSingleShot(true);
    autosaveTimer_.setInterval(1500);  // at most one write per 1.5 s while a run trains
    connect(&autosaveTimer_, &QTimer::timeout, this, &MainWindow::autosaveNow);
    watchTimer_.setInterval(2000);  // sweeps and runs of other processes: re-read every 2 s
    connect(&watchTimer_, &QTimer::timeout, this, [this] { refreshWatched(); });
    connect(session_, &Session::runAdded, this, &MainWindow::updateProgress);
    connect(session_, &Session::runsReset, this, &MainWindow::updateProgress);
    connect(controller_, &TrainingController::runStarted, this, &MainWindow::updateButtons);
    connect(controller_, &TrainingController::queueFinished, this, [this] {
        updateButtons();
        updateProgress();
        int completed = 0, other = 0;
        for (const RunRecord& r : session_->runs()) {
            if (r.finished()) {
                (r.hasSummary && r.summary.state == RunState::Completed ? completed : other)++;
            }
        }
        queueSummary_->setText(
            tr("Queue finished: %1 completed, %2 stopped or failed").arg(completed).arg(other));
        statusBar()->showMessage(tr("Queue finished"), 15000);
        QApplication::alert(this);  // the taskbar's attention hint where the desktop has one
        autosaveNow();
    });
    connect(controller_, &TrainingController::runFinished, this, [this](int id) {
        if (const RunRecord* r = session_->find(id)) {
            statusBar()->showMessage(tr("%1: %2").arg(r->name, r->status), 8000);
        }
        onSelectionChanged();
    });

    const bool firstUse = !trainSettings_->hasSavedSettings();
    designer_->restoreSettings();
    trainSettings_->restoreSettings();
    lastFamily_ = designer_->unscaledSpec().family;
    if (firstUse) {
        trainSettings_->applyFamilyDefaults(designer_->unscaledSpec());
    }
    designer_->setBatchSize(trainSettings_->batchSize());
    QSettings settings;
    if (!restoreGeometry(settings.value("mainWindow/geometry").toByteArray())) {
        resize(1400, 860);
    }
    splitter_->restoreState(settings.value("mainWindow/splitter").toByteArray());
    compareSplitter_->restoreState(settings.value("mainWindow/compareSplitter").toByteArray());
    onDesignChanged();
    updateButtons();
    updateProgress();
    setSessionPath({}, false);
}

MainWindow::~MainWindow() = default;

QWidget* MainWindow::buildLeftPanel() {
    auto* panel = new QWidget;
    auto* v = new QVBoxLayout(panel);
    v->setContentsMargins(4, 4, 4, 4);
    leftTabs_ = new QTabWidget;
    designer_ = new ModelDesigner;
    auto* scroll = new QScrollArea;
    scroll->setWidget(designer_);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    leftTabs_->addTab(scroll, tr("Model"));
    datasetPanel_ = new DatasetPanel;
    leftTabs_->addTab(datasetPanel_, tr("Data"));
    trainSettings_ = new TrainSettings;
    auto* scroll2 = new QScrollArea;
    scroll2->setWidget(trainSettings_);
    scroll2->setWidgetResizable(true);
    scroll2->setFrameShape(QFrame::NoFrame);
    leftTabs_->addTab(scroll2, tr("Training"));
    v->addWidget(leftTabs_, 1);

    auto* buttons = new QHBoxLayout;
    addButton_ = new QPushButton(tr("Add variant"));
    addButton_->setObjectName("addVariantButton");
    addButton_->setToolTip(
        tr("Queue the current design with the current data and training "
           "settings (Ctrl+Shift+A)"));
    trainButton_ = new QPushButton(tr("Train ▶"));
    trainButton_->setToolTip(tr("Train the queued variants one after another (Ctrl+T)"));
    stopButton_ = new QPushButton(tr("Stop ■"));
    stopButton_->setToolTip(
        tr("Stop the current run before its next batch; its finished epochs "
           "stay recorded (Esc)"));
    buttons->addWidget(addButton_);
    buttons->addWidget(trainButton_);
    buttons->addWidget(stopButton_);
    v->addLayout(buttons);
    queueSummary_ = new QLabel;
    v->addWidget(queueSummary_);
    runLabel_ = new QLabel(tr("No run"));
    runProgress_ = new QProgressBar;
    runProgress_->setRange(0, 1000);
    runProgress_->setTextVisible(false);
    queueLabel_ = new QLabel;
    queueProgress_ = new QProgressBar;
    queueProgress_->setRange(0, 1000);
    queueProgress_->setTextVisible(false);
    v->addWidget(runLabel_);
    v->addWidget(runProgress_);
    v->addWidget(queueLabel_);
    v->addWidget(queueProgress_);

    connect(addButton_, &QPushButton::clicked, this, [this] { addVariant(); });
    connect(trainButton_, &QPushButton::clicked, this, &MainWindow::startTraining);
    connect(stopButton_, &QPushButton::clicked, this, &MainWindow::stopTraining);
    panel->setMinimumWidth(430);
    return panel;
}

QWidget* MainWindow::buildRightPanel() {
    tabs_ = new QTabWidget;
    trainingChart_ = new TrainingChart(session_);
    tabs_->addTab(trainingChart_, tr("Training"));

    compareSplitter_ = new QSplitter(Qt::Vertical);
    table_ = new QTableView;
    proxy_ = new QSortFilterProxyModel(this);
    proxy_->setSourceModel(tableModel_);
    proxy_->setSortRole(Qt::UserRole);
    table_->setModel(proxy_);
    table_->setSortingEnabled(true);
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->setSelectionMode(QAbstractItemView::ExtendedSelection);
    table_->horizontalHeader()->setStretchLastSection(true);
    table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    table_->verticalHeader()->setVisible(false);
    table_->setToolTip(
        tr("Select runs to overlay their curves in the Training tab and to see the "
           "confusion matrix and stage costs of the first selected run. Double-click a run's "
           "name to rename it, its Notes cell to add notes or tags."));
    table_->setEditTriggers(QAbstractItemView::DoubleClicked | QAbstractItemView::EditKeyPressed);
    connect(tableModel_, &RunTableModel::labelProblem, this,
            [this](const QString& m) { report(m); });
    auto* tableBox = new QWidget;
    auto* tableLayout = new QVBoxLayout(tableBox);
    tableLayout->setContentsMargins(0, 0, 0, 0);
    groupSeeds_ =
        new QCheckBox(tr("Group seeds: one row, mean curve and Pareto point (± std) per "
                         "experiment"));
    groupSeeds_->setToolTip(
        tr("Runs whose settings differ only in the seed are repeats of one experiment: show "
           "them as mean ± sample standard deviation"));
    connect(groupSeeds_, &QCheckBox::toggled, this, &MainWindow::setGroupSeeds);
    tableLayout->addWidget(groupSeeds_);
    tableLayout->addWidget(table_);
    compareSplitter_->addWidget(tableBox);
    compareTabs_ = new QTabWidget;
    paretoChart_ = new ParetoChart(session_);
    scalingChart_ = new ScalingChart;
    confusionChart_ = new ConfusionChart;
    compareTabs_->addTab(paretoChart_, tr("Accuracy vs MACs"));
    compareTabs_->addTab(scalingChart_, tr("Scaling curves"));
    compareTabs_->addTab(confusionChart_, tr("Confusion matrix"));
    compareSplitter_->addWidget(compareTabs_);
    compareSplitter_->setStretchFactor(1, 1);
    tabs_->addTab(compareSplitter_, tr("Compare"));

    costChart_ = new CostChart;
    tabs_->addTab(costChart_, tr("Cost"));
    // The two widest pages scroll instead of widening the window (1280x800 screens).
    auto scrollable = [](QWidget* page) {
        auto* area = new QScrollArea;
        area->setWidget(page);
        area->setWidgetResizable(true);
        area->setFrameShape(QFrame::NoFrame);
        return area;
    };
    pruningPanel_ = new PruningPanel(session_, jobs_);
    tabs_->addTab(scrollable(pruningPanel_), tr("Pruning"));
    featurePanel_ = new FeaturePanel(session_, jobs_);
    tabs_->addTab(scrollable(featurePanel_), tr("Feature maps"));
    connect(pruningPanel_, &PruningPanel::errorOccurred, this,
            [this](const QString& m) { report(m); });
    connect(featurePanel_, &FeaturePanel::errorOccurred, this, [this](const QString& m) {
        statusBar()->showMessage(m, 10000);
        lastError_ = m;
    });
    connect(table_->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            &MainWindow::onSelectionChanged);
    return tabs_;
}

void MainWindow::buildMenus() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
    file->addAction(tr("Open &MNIST folder…"), this,
                    [this] { datasetPanel_->openFolder(DatasetKind::Mnist); });
    file->addAction(tr("Open &CIFAR-10 folder…"), this,
                    [this] { datasetPanel_->openFolder(DatasetKind::Cifar10); });
    file->addAction(tr("Open &image folder…"), this,
                    [this] { datasetPanel_->openFolder(DatasetKind::ImageFolder); });
    file->addSeparator();
    file->addAction(tr("&Open session…"), QKeySequence::Open, this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Open session"), QString(),
                                                          tr("ScaleLab session (*.json)"));
        if (!path.isEmpty()) {
            openSession(path);
        }
    });
    recentMenu_ = file->addMenu(tr("&Recent sessions"));
    connect(recentMenu_, &QMenu::aboutToShow, this, &MainWindow::rebuildRecentMenu);
    file->addAction(tr("Open s&weep…"), this, [this] {
        const QString path = QFileDialog::getExistingDirectory(
            this, tr("Open sweep folder (scalelab-cli sweep plan --out DIR)"));
        if (!path.isEmpty()) {
            openSweep(path);
        }
    });
    file->addAction(tr("Open &run folder…"), this, [this] {
        const QString path = QFileDialog::getExistingDirectory(
            this, tr("Open run folder (or a folder holding many runs)"));
        if (!path.isEmpty()) {
            if (importRunFolders(path).isEmpty() && !watched_.contains(QDir::cleanPath(path))) {
                watched_ << QDir::cleanPath(path);  // runs still training there fill in
                watchTimer_.start();
            }
        }
    });
    file->addAction(tr("&Save session"), QKeySequence::Save, this, [this] {
        QString path = sessionPath_;
        if (path.isEmpty()) {
            path =
                QFileDialog::getSaveFileName(this, tr("Save session"), session_->folder() + ".json",
                                             tr("ScaleLab session (*.json)"));
        }
        if (!path.isEmpty()) {
            saveSession(path);
        }
    });
    file->addAction(tr("Save session &as…"), QKeySequence::SaveAs, this, [this] {
        const QString path =
            QFileDialog::getSaveFileName(this, tr("Save session as"), session_->folder() + ".json",
                                         tr("ScaleLab session (*.json)"));
        if (!path.isEmpty()) {
            saveSession(path);
        }
    });
    file->addSeparator();
    file->addAction(tr("&Export chart…"), QKeySequence(Qt::CTRL | Qt::Key_E), this, [this] {
        QCustomPlot* plot = currentPlot();
        if (!plot) {
            report(tr("This tab has no chart to export"));
            return;
        }
        const QString path =
            QFileDialog::getSaveFileName(this, tr("Export chart"), "chart.png", plotExportFilter());
        if (!path.isEmpty()) {
            exportChart(plot, path);
        }
    });
    file->addAction(tr("Export runs table (&CSV)…"), this, [this] {
        const QString path =
            QFileDialog::getSaveFileName(this, tr("Export runs"), "runs.csv", tr("CSV (*.csv)"));
        if (!path.isEmpty()) {
            exportRunsCsv(path);
        }
    });
    file->addAction(tr("Export selected run's &weights…"), this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Export weights"), "weights.pt",
                                                          tr("PyTorch state dict (*.pt)"));
        if (!path.isEmpty()) {
            exportSelectedWeights(path);
        }
    });
    file->addAction(tr("Export selected run as &ONNX…"), this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Export ONNX"), "model.onnx",
                                                          tr("ONNX model (*.onnx)"));
        if (!path.isEmpty()) {
            exportSelectedOnnx(path);
        }
    });
    file->addSeparator();
    file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);

    QMenu* run = menuBar()->addMenu(tr("&Run"));
    run->addAction(tr("&Add variant"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_A), this,
                   [this] { addVariant(); });
    run->addAction(tr("&Train queued variants"), QKeySequence(Qt::CTRL | Qt::Key_T), this,
                   &MainWindow::startTraining);
    run->addAction(tr("&Stop"), QKeySequence(Qt::Key_Escape), this, &MainWindow::stopTraining);
    run->addAction(tr("&Resume selected runs"), QKeySequence(Qt::CTRL | Qt::Key_R), this,
                   [this] { resumeRuns(selectedRuns()); });
    run->addAction(tr("&Remove queued variants"), this, [this] { session_->removeQueued(); });

    QMenu* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("MACs and FLOPs"), this, [this] {
        QMessageBox::information(
            this, tr("MACs and FLOPs"),
            tr("<p><b>MACs</b> are multiply-accumulates: one multiplication and one addition. "
               "ScaleLab counts those of convolutions and linear layers per image, the convention "
               "behind the EfficientNet paper's and torchvision's \"FLOPs\" figures.</p>"
               "<p><b>FLOPs</b>, where shown, are 2 × MACs (each MAC is two floating-point "
               "operations).</p>"));
    });
    help->addAction(tr("&About ScaleLab"), this,
                    [this] { QMessageBox::about(this, tr("About ScaleLab"), aboutText()); });
}

void MainWindow::setSessionFolder(const QString& folder) {
    session_->setFolder(folder);
}
QString MainWindow::sessionFolder() const {
    return session_->folder();
}

void MainWindow::report(const QString& error) {
    lastError_ = error;
    statusBar()->showMessage(error, 15000);
    if (interactive_) {
        QMessageBox::warning(this, tr("ScaleLab"), error);
    }
}

void MainWindow::onDatasetLoaded() {
    const DatasetSummary& s = datasetPanel_->summary();
    designer_->setDataShape(int(s.channels), int(s.classNames.size()),
                            int(std::max(s.height, s.width)));
    updateButtons();
}

void MainWindow::onDesignChanged() {
    costChart_->setCurrent(designer_->isValid()
                               ? std::optional<ModelAnalysis>(designer_->currentAnalysis())
                               : std::nullopt);
    const Scaling scaling = designer_->scaling();
    const double phi = scaling.mode == Scaling::Mode::Compound ? scaling.phi : -1;
    scalingChart_->setBase(designer_->unscaledSpec(), scaling, phi);
}

int MainWindow::addVariant() {
    if (!designer_->isValid()) {
        report(tr("The design is impossible: %1").arg(designer_->errorText()));
        return 0;
    }
    if (datasetPanel_->currentSpec().isEmpty()) {
        report(tr("No dataset is loaded yet"));
        return 0;
    }
    const int repeats = trainSettings_->repeats();
    int first = 0;
    for (int k = 0; k < repeats; ++k) {
        const int id = addOneVariant(uint64_t(k));
        first = first ? first : id;
    }
    if (repeats > 1) {
        statusBar()->showMessage(tr("Queued %1 with %2 seeds (%3 … %4): a seed group")
                                     .arg(session_->find(first)->name)
                                     .arg(repeats)
                                     .arg(trainSettings_->config().seed)
                                     .arg(trainSettings_->config().seed + uint64_t(repeats) - 1),
                                 8000);
    }
    return first;
}

int MainWindow::addOneVariant(uint64_t seedOffset) {
    RunRecord r;
    r.config = trainSettings_->config();
    r.config.seed += seedOffset;
    r.config.model = designer_->currentSpec();
    r.config.dataset = datasetPanel_->currentSpec().toStdString();
    r.scaling = designer_->scalingText();
    r.params = designer_->currentAnalysis().params;
    r.macs = designer_->currentAnalysis().macs;
    const DatasetSummary& ds = datasetPanel_->summary();
    const int64_t available = int64_t(double(ds.trainCount) * (1.0 - r.config.split.valFraction));
    r.trainImages = r.config.split.trainSubset > 0 ? std::min(r.config.split.trainSubset, available)
                                                   : available;
    const int id = session_->addRun(r);
    statusBar()->showMessage(tr("Queued %1").arg(session_->find(id)->name), 5000);
    updateButtons();
    return id;
}

void MainWindow::startTraining() {
    bool anyQueued = false;
    for (const RunRecord& r : session_->runs()) {
        anyQueued = anyQueued || r.status == "queued";
    }
    if (!anyQueued) {
        report(tr("Nothing to train: add a variant first"));
        return;
    }
    if (!QDir().mkpath(session_->folder())) {
        report(tr("%1: cannot create the session folder").arg(session_->folder()));
        return;
    }
    showTab(trainingChart_);
    controller_->start();
    updateButtons();
}

void MainWindow::stopTraining() {
    if (controller_->isRunning()) {
        controller_->stop();
        statusBar()->showMessage(tr("Stopping after the current batch…"), 5000);
    }
}

void MainWindow::updateButtons() {
    const bool running = controller_->isRunning();
    int queued = 0;
    for (const RunRecord& r : session_->runs()) {
        queued += r.status == "queued";
    }
    addButton_->setEnabled(designer_->isValid() && !datasetPanel_->currentSpec().isEmpty());
    addButton_->setToolTip(designer_->isValid() ? tr("Queue the current design (Ctrl+Shift+A)")
                                                : designer_->errorText());
    trainButton_->setEnabled(!running && queued > 0);
    stopButton_->setEnabled(running);
    queueSummary_->setText(tr("%n variant(s) queued", nullptr, queued) +
                           tr(" · %n run(s) in the session", nullptr, session_->runs().size()));
}

void MainWindow::updateProgress() {
    updateButtons();
    const RunRecord* r = session_->find(controller_->currentRun());
    if (r && !r->phase.isEmpty()) {
        runLabel_->setText(tr("%1: preparing data — %2 (%3 %)")
                               .arg(r->name, r->phase)
                               .arg(int(r->phaseProgress * 100)));
        runLabel_->setToolTip(runLabel_->text());
        runProgress_->setValue(int(r->phaseProgress * 1000));
        queueLabel_->setText(tr("Queue: ETA known after the first batches"));
        queueProgress_->setValue(int(controller_->queueProgress() * 1000));
    } else if (r) {
        const EpochMetrics* last = r->history.empty() ? nullptr : &r->history.back();
        runLabel_->setText(
            tr("%1: %2 % · %3 img/s · ETA %4%5")
                .arg(r->name)
                .arg(int(r->progress * 100))
                .arg(int(r->imagesPerSec))
                .arg(duration(r->etaSec))
                .arg(last && last->valAccuracy >= 0
                         ? tr(" · val acc %1 %").arg(last->valAccuracy * 100, 0, 'f', 1)
                         : QString()));
        if (!r->warning.isEmpty()) {
            runLabel_->setText("<span style='color:#b00020'>⚠</span> " +
                               runLabel_->text().toHtmlEscaped());
            runLabel_->setToolTip(r->warning);
        } else {
            runLabel_->setToolTip({});
        }
        runProgress_->setValue(int(r->progress * 1000));
        const double eta = controller_->queueEtaSec();
        queueLabel_->setText(tr("Queue: %1 % · ETA ≈ %2")
                                 .arg(int(controller_->queueProgress() * 100))
                                 .arg(duration(eta)));
        queueProgress_->setValue(int(controller_->queueProgress() * 1000));
    } else {
        runLabel_->setText(tr("No run training"));
        runProgress_->setValue(0);
        queueLabel_->setText(QString());
        queueProgress_->setValue(0);
    }
}

void MainWindow::selectRuns(const QList<int>& ids) {
    table_->clearSelection();
    for (int row = 0; row < proxy_->rowCount(); ++row) {
        const int id = tableModel_->runIdAt(proxy_->mapToSource(proxy_->index(row, 0)).row());
        if (ids.contains(id)) {
            table_->selectionModel()->select(
                proxy_->index(row, 0), QItemSelectionModel::Select | QItemSelectionModel::Rows);
        }
    }
}

QList<int> MainWindow::selectedRuns() const {
    QList<int> ids;
    for (const QModelIndex& idx : table_->selectionModel()->selectedRows()) {
        ids << tableModel_->runIdsAt(proxy_->mapToSource(idx).row());
    }
    return ids;
}

void MainWindow::setGroupSeeds(bool grouped) {
    if (groupSeeds_->isChecked() != grouped) {
        groupSeeds_->setChecked(grouped);  // comes back here through toggled
        return;
    }
    tableModel_->setGroupSeeds(grouped);
    trainingChart_->setGroupSeeds(grouped);
    paretoChart_->setGroupSeeds(grouped);
    onSelectionChanged();
}

void MainWindow::onSelectionChanged() {
    const QList<int> ids = selectedRuns();
    trainingChart_->setVisibleRuns(ids);
    const RunRecord* r = ids.isEmpty() ? nullptr : session_->find(ids.first());
    if (r) {
        confusionChart_->setResult(r->hasSummary ? r->summary.test : EvalResult{}, r->name);
        try {
            costChart_->setSelected(analyzeModel(r->config.model), r->name);
        } catch (const std::exception&) {
            costChart_->setSelected(std::nullopt, QString());
        }
    } else {
        costChart_->setSelected(std::nullopt, QString());
    }
}

void MainWindow::showTab(QWidget* page) {
    for (int i = 0; i < tabs_->count(); ++i) {
        QWidget* w = tabs_->widget(i);
        auto* area = qobject_cast<QScrollArea*>(w);
        if (w == page || (area && area->widget() == page)) {
            tabs_->setCurrentIndex(i);
            return;
        }
    }
}

QCustomPlot* MainWindow::currentPlot() const {
    QWidget* w = tabs_->currentWidget();
    if (auto* area = qobject_cast<QScrollArea*>(w)) {
        w = area->widget();
    }
    if (w == trainingChart_) {
        return trainingChart_->plot();
    }
    if (w == costChart_) {
        return costChart_->plot();
    }
    if (w == pruningPanel_) {
        return pruningPanel_->chart()->plot();
    }
    if (w == featurePanel_) {
        return featurePanel_->probabilities()->plot();
    }
    if (w == compareSplitter_) {
        QWidget* sub = compareTabs_->currentWidget();
        if (sub == paretoChart_)
            return paretoChart_->plot();
        if (sub == scalingChart_)
            return scalingChart_->plot();
        if (sub == confusionChart_)
            return confusionChart_->plot();
    }
    return nullptr;
}

QString MainWindow::exportChart(QCustomPlot* plot, const QString& path) {
    const QString error = exportPlot(plot, path);
    if (!error.isEmpty()) {
        report(error);
    } else {
        statusBar()->showMessage(tr("Chart saved to %1").arg(path), 8000);
    }
    return error;
}

QString MainWindow::exportRunsCsv(const QString& path) {
    const QString error = tableModel_->exportCsv(path);
    if (!error.isEmpty()) {
        report(error);
    } else {
        statusBar()->showMessage(tr("Runs saved to %1").arg(path), 8000);
    }
    return error;
}

QString MainWindow::exportSelectedWeights(const QString& path) {
    const QList<int> ids = selectedRuns();
    const RunRecord* r = ids.isEmpty() ? nullptr : session_->find(ids.first());
    QString error;
    if (!r) {
        error = tr("Select a run in the Compare table first");
    } else {
        const QString weights = QDir(r->runDir).filePath("weights.pt");
        const QString checkpoint = QDir(r->runDir).filePath("checkpoint.pt");
        if (!QFileInfo::exists(weights)) {
            error = tr("%1 has no weights yet (%2 not found): it has not finished an epoch")
                        .arg(r->name, weights);
        } else {
            const QFileInfo target(path);
            const QString checkpointTarget =
                target.dir().filePath(target.completeBaseName() + "-checkpoint.pt");
            for (const auto& [from, to] :
                 {std::pair{weights, path}, std::pair{checkpoint, checkpointTarget}}) {
                if (!QFileInfo::exists(from)) {
                    continue;
                }
                QFile::remove(to);
                if (!QFile::copy(from, to)) {
                    error = tr("%1: could not be written (check the folder exists and is writable)")
                                .arg(to);
                    break;
                }
            }
        }
    }
    if (!error.isEmpty()) {
        report(error);
    } else {
        statusBar()->showMessage(tr("Weights of %1 saved to %2").arg(r->name, path), 8000);
    }
    return error;
}

QString MainWindow::exportSelectedOnnx(const QString& path) {
    const QList<int> ids = selectedRuns();
    const RunRecord* r = ids.isEmpty() ? nullptr : session_->find(ids.first());
    if (!r) {
        const QString error = tr("Select a run in the Compare table first");
        report(error);
        return error;
    }
    // Fast (well under a second for the models here): no worker thread needed.
    QApplication::setOverrideCursor(Qt::WaitCursor);
    QString error;
    OnnxExportResult result;
    try {
        result = exportOnnx(r->runDir.toStdString(), path.toStdString());
    } catch (const std::exception& e) {
        error = tr("ONNX export of %1 failed: %2").arg(r->name, QString::fromStdString(e.what()));
    }
    QApplication::restoreOverrideCursor();
    if (!error.isEmpty()) {
        report(error);
        return error;
    }
    QString note;
    for (const std::string& w : result.warnings) {
        note += " " + QString::fromStdString(w);
    }
    statusBar()->showMessage(
        tr("%1 saved as ONNX to %2 (%3 nodes).%4").arg(r->name, path).arg(result.nodes).arg(note),
        8000);
    return {};
}

QString MainWindow::saveSession(const QString& path) {
    const QString error = session_->save(path);
    if (!error.isEmpty()) {
        report(error);
    } else {
        statusBar()->showMessage(tr("Session saved to %1").arg(path), 8000);
        setSessionPath(path, false);
        rememberRecent(path);
        autosaveNow();
    }
    return error;
}

QString MainWindow::openSession(const QString& path) {
    if (controller_->isRunning()) {
        const QString error = tr("Stop training before opening another session");
        report(error);
        return error;
    }
    if (!confirmUnsavedChanges()) {
        return tr("Not opened: the current session has unsaved changes (kept as they are)");
    }
    restoring_ = true;
    const QString error = session_->load(path);
    restoring_ = false;
    if (!error.isEmpty()) {
        report(error);  // the current session is untouched
    } else {
        watched_.clear();  // the folders watched for the old session are not this one's
        seenStamp_.clear();
        watchTimer_.stop();
        statusBar()->showMessage(
            tr("Opened %1 (%n run(s))", nullptr, session_->runs().size()).arg(path), 8000);
        setSessionPath(path, false);
        rememberRecent(path);
        autosaveNow();
        onSelectionChanged();
    }
    return error;
}

QString MainWindow::resumeRuns(const QList<int>& ids) {
    if (ids.isEmpty()) {
        const QString error = tr("Select a cancelled or interrupted run to resume");
        report(error);
        return error;
    }
    QStringList problems;
    int queued = 0;
    for (int id : ids) {
        const QString why = session_->queueResume(id);
        if (why.isEmpty()) {
            ++queued;
        } else {
            problems << why;
        }
    }
    if (queued > 0) {
        startTraining();
    }
    if (!problems.isEmpty()) {
        const QString error = problems.join("; ");
        report(error);
        return error;
    }
    return {};
}

namespace {

// A run folder as a session record: config, epochs, summary, label and pruning sweeps. Throws
// Error for an unreadable run; a damaged label or sweep is added to `problems`, the run comes in.
RunRecord recordFromFolder(const std::string& dir, QStringList& problems) {
    const RunFolderRecord rec = readRunFolder(dir);
    RunRecord r;
    r.config = rec.config;
    r.runDir = QString::fromStdString(dir);
    r.history = rec.history;
    const ModelAnalysis a = analyzeModel(rec.config.model);
    r.params = rec.summary.params > 0 ? rec.summary.params : a.params;
    r.macs = rec.summary.macs > 0 ? rec.summary.macs : a.macs;
    const bool finished = rec.hasSummary && rec.summary.state != RunState::Running;
    if (finished) {
        r.status = QString::fromStdString(rec.summary.status);
        r.hasSummary = true;
        r.summary = rec.summary;
        r.summary.params = r.params;
        r.summary.macs = r.macs;
        r.progress = rec.summary.state == RunState::Completed ? 1.0 : 0.0;
        r.imagesPerSec = rec.summary.imagesPerSec;
    } else {
        bool alive = false;
        const std::string pid = runFolderWriter(dir, &alive);
        const int epochs = int(rec.history.size());
        if (alive) {
            r.status = MainWindow::tr("running in process %1: %2 of %3 epochs done")
                           .arg(QString::fromStdString(pid))
                           .arg(epochs)
                           .arg(rec.config.epochs);
        } else if (!pid.empty()) {
            r.status = MainWindow::tr(
                           "running elsewhere or interrupted: %1 of %2 epochs done "
                           "(process %3 holds the folder)")
                           .arg(epochs)
                           .arg(rec.config.epochs)
                           .arg(QString::fromStdString(pid));
        } else {
            r.status = MainWindow::tr("interrupted after %n epoch(s) (Run → Resume continues it)",
                                      nullptr, epochs);
        }
        r.progress = rec.config.epochs > 0 ? double(epochs) / double(rec.config.epochs) : 0;
        if (!rec.history.empty()) {
            r.imagesPerSec = rec.history.back().imagesPerSec;
        }
    }
    // What people gave it and what was done with it. A damaged one is named; the run comes in.
    try {
        const RunLabel label = readRunLabel(dir);
        r.name = QString::fromStdString(label.name);
        r.notes = QString::fromStdString(label.notes);
    } catch (const Error& e) {
        problems << QString::fromStdString(e.what());
    }
    for (const std::string& sweepDir : findPruneSweeps(dir)) {
        try {
            r.pruning.push_back(readPruneSweep(sweepDir));
        } catch (const Error& e) {
            problems << QString::fromStdString(e.what());
        }
    }
    return r;
}

// Sizes and modification times of the files a writer changes: a different stamp means re-read.
QString folderStamp(const QString& dir) {
    QString stamp;
    for (const char* name : {runfile::kMetrics, runfile::kSummary, runfile::kConfig, ".lock"}) {
        const QFileInfo f(QDir(dir).filePath(name));
        stamp += QString("%1:%2:%3;")
                     .arg(name)
                     .arg(f.exists() ? f.size() : -1)
                     .arg(f.exists() ? f.lastModified().toMSecsSinceEpoch() : 0);
    }
    return stamp;
}

}  // namespace

QString MainWindow::importRunFolders(const QString& path) {
    const std::vector<std::string> dirs = findRunFolders(path.toStdString());
    if (dirs.empty()) {
        const QString error =
            tr("%1 holds no run folder (no config.json in it or in the folders below it)")
                .arg(path);
        report(error);
        return error;
    }
    int imported = 0, skipped = 0;
    QStringList problems;
    for (const std::string& dir : dirs) {
        const QString qdir = QString::fromStdString(dir);
        if (session_->hasRunDir(qdir)) {
            ++skipped;
            continue;
        }
        try {
            const QString stamp = folderStamp(qdir);
            session_->importRun(recordFromFolder(dir, problems));
            seenStamp_[QDir::cleanPath(qdir)] = stamp;
            ++imported;
        } catch (const Error& e) {
            problems << QString::fromStdString(e.what());
        }
    }
    QString message = tr("Imported %n run(s) from %1", nullptr, imported).arg(path);
    if (skipped) {
        message += tr("; %n already in the session", nullptr, skipped);
    }
    if (!problems.isEmpty()) {
        const QString error = message +
                              tr("; %n could not be read: ", nullptr, int(problems.size())) +
                              problems.join("; ");
        report(error);
        return error;
    }
    statusBar()->showMessage(message, 8000);
    onSelectionChanged();
    return {};
}

QString MainWindow::openSweep(const QString& dir) {
    if (!QFileInfo(dir).isDir()) {
        const QString error = tr("%1 is not a folder").arg(dir);
        report(error);
        return error;
    }
    const bool isSweep = QFileInfo::exists(QDir(dir).filePath("sweep.json"));
    const QString runs =
        QFileInfo(QDir(dir).filePath("runs")).isDir() ? QDir(dir).filePath("runs") : dir;
    if (!watched_.contains(QDir::cleanPath(runs))) {
        watched_ << QDir::cleanPath(runs);
    }
    watchTimer_.start();
    if (findRunFolders(runs.toStdString()).empty()) {
        // A sweep that has not started yet: its runs appear as they start.
        statusBar()->showMessage(
            isSweep ? tr("Watching sweep %1: no run has started yet; runs appear as they start")
                          .arg(dir)
                    : tr("Watching %1: no run folder yet").arg(dir),
            8000);
        return {};
    }
    return importRunFolders(runs);
}

int MainWindow::refreshWatched() {
    int changed = 0;
    QStringList problems;
    for (const QString& folder : watched_) {
        for (const std::string& dir : findRunFolders(folder.toStdString())) {
            const QString qdir = QDir::cleanPath(QString::fromStdString(dir));
            const QString stamp = folderStamp(qdir);
            if (seenStamp_.value(qdir) == stamp) {
                continue;
            }
            try {
                RunRecord fresh = recordFromFolder(dir, problems);
                const int id = session_->idOfRunDir(qdir);
                if (id == 0) {
                    session_->importRun(fresh);
                } else {
                    const RunRecord* existing = session_->find(id);
                    if (existing && existing->status == "running") {
                        continue;  // this window trains it: its own progress is newer
                    }
                    session_->updateFromFolder(id, fresh);
                }
                seenStamp_[qdir] = stamp;
                ++changed;
            } catch (const Error&) {
                // Half-written (a run just starting): read again at the next tick.
            }
        }
    }
    return changed;
}

QString MainWindow::autosavePath() {
    return QDir(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation))
        .filePath("autosave-session.json");
}

void MainWindow::autosaveNow() {
    autosaveTimer_.stop();
    if (!autosaveEnabled_) {
        return;
    }
    QDir().mkpath(QFileInfo(autosavePath()).path());
    const QString error = session_->save(autosavePath());
    if (!error.isEmpty()) {
        statusBar()->showMessage(tr("Autosave failed: %1").arg(error), 8000);
        return;
    }
    QSettings settings;
    settings.setValue("session/path", sessionPath_);
    settings.setValue("session/modified", isWindowModified());
}

bool MainWindow::restoreAutosave() {
    QSettings settings;
    const QString named = settings.value("session/path").toString();
    if (!QFileInfo::exists(autosavePath())) {
        // Quit with Discard: the named session as it was last saved.
        return !named.isEmpty() && QFileInfo::exists(named) && openSession(named).isEmpty();
    }
    restoring_ = true;
    const QString error = session_->load(autosavePath());
    restoring_ = false;
    if (!error.isEmpty()) {
        // Keep the damaged file for the user; start empty.
        QFile::remove(autosavePath() + ".unreadable");
        QFile::rename(autosavePath(), autosavePath() + ".unreadable");
        report(tr("The autosaved session could not be reopened (kept as %1): %2")
                   .arg(autosavePath() + ".unreadable", error));
        return false;
    }
    setSessionPath(named, settings.value("session/modified").toBool());
    statusBar()->showMessage(
        tr("Reopened the last session (%n run(s))", nullptr, session_->runs().size()), 8000);
    onSelectionChanged();
    return true;
}

void MainWindow::sessionEdited() {
    if (restoring_) {
        return;
    }
    setWindowModified(true);
    if (!autosaveTimer_.isActive()) {
        autosaveTimer_.start();
    }
}

void MainWindow::setSessionPath(const QString& path, bool modified) {
    sessionPath_ = path;
    const QString name = path.isEmpty() ? tr("Untitled session") : QFileInfo(path).fileName();
    setWindowTitle(tr("%1[*] — ScaleLab").arg(name));
    setWindowModified(modified);
}

QStringList MainWindow::recentSessions() const {
    return QSettings().value("session/recent").toStringList();
}

void MainWindow::rememberRecent(const QString& path) {
    QStringList recent = recentSessions();
    const QString full = QFileInfo(path).absoluteFilePath();
    recent.removeAll(full);
    recent.prepend(full);
    while (recent.size() > 8) {
        recent.removeLast();
    }
    QSettings().setValue("session/recent", recent);
}

void MainWindow::rebuildRecentMenu() {
    recentMenu_->clear();
    const QStringList recent = recentSessions();
    for (const QString& path : recent) {
        QAction* a = recentMenu_->addAction(path, this, [this, path] { openSession(path); });
        a->setEnabled(QFileInfo::exists(path));
    }
    if (recent.isEmpty()) {
        recentMenu_->addAction(tr("(none yet)"))->setEnabled(false);
    }
}

bool MainWindow::confirmUnsavedChanges() {
    if (!isWindowModified()) {
        return true;
    }
    QMessageBox::StandardButton answer = unsavedAnswer_;
    if (interactive_) {
        answer = QMessageBox::question(
            this, tr("Unsaved changes"),
            tr("The session has changes that are not saved in a session file. Save them?"),
            QMessageBox::Save | QMessageBox::Discard | QMessageBox::Cancel, QMessageBox::Save);
    }
    if (answer == QMessageBox::Discard) {
        return true;
    }
    if (answer != QMessageBox::Save) {
        return false;
    }
    QString path = sessionPath_;
    if (path.isEmpty() && interactive_) {
        path = QFileDialog::getSaveFileName(this, tr("Save session"), session_->folder() + ".json",
                                            tr("ScaleLab session (*.json)"));
    }
    return !path.isEmpty() && saveSession(path).isEmpty();
}

void MainWindow::closeEvent(QCloseEvent* event) {
    const bool hadChanges = isWindowModified();
    if (!confirmUnsavedChanges()) {
        event->ignore();
        return;
    }
    if (controller_->isRunning()) {
        if (interactive_) {
            const auto answer = QMessageBox::question(
                this, tr("Training in progress"),
                tr("A run is training. Stop it and quit? Its finished epochs stay recorded in "
                   "its run folder."),
                QMessageBox::Yes | QMessageBox::No, QMessageBox::No);
            if (answer != QMessageBox::Yes) {
                event->ignore();
                return;
            }
        }
        statusBar()->showMessage(tr("Stopping the current run…"));
        controller_->stopAndWait();
    }
    jobs_->cancel();  // a pruning sweep stops before its next batch; ~JobRunner joins it
    QSettings settings;
    settings.setValue("mainWindow/geometry", saveGeometry());
    settings.setValue("mainWindow/splitter", splitter_->saveState());
    settings.setValue("mainWindow/compareSplitter", compareSplitter_->saveState());
    designer_->saveSettings();
    trainSettings_->saveSettings();
    if (!autosaveEnabled_) {
        // The tour and screenshots leave the user's session alone.
    } else if (hadChanges && isWindowModified()) {
        // Discarded: the next launch reopens the session as it was last saved, not these edits.
        autosaveTimer_.stop();
        QFile::remove(autosavePath());
        settings.setValue("session/path", sessionPath_);
    } else {
        autosaveNow();  // the stopped run's final state too
    }
    event->accept();
}

}  // namespace scalelab::ui
