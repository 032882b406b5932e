#include "ui/main_window.h"

#include <QApplication>
#include <QCloseEvent>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QSettings>
#include <QSplitter>
#include <QStatusBar>
#include <QTabWidget>
#include <QVBoxLayout>

#include "core/runtime.h"
#include "ui/dataset_panel.h"

namespace scalelab::ui {

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
    setWindowTitle(tr("ScaleLab — CNN scaling lab"));

    splitter_ = new QSplitter(Qt::Horizontal);
    datasetPanel_ = new DatasetPanel;
    datasetPanel_->setMinimumWidth(420);
    splitter_->addWidget(datasetPanel_);

    tabs_ = new QTabWidget;
    tabs_->addTab(placeholderTab(tr("Training\n\nLive loss and accuracy curves of the queued runs "
                                    "will appear here.")),
                  tr("Training"));
    tabs_->addTab(placeholderTab(tr("Compare\n\nThe runs table, the accuracy-vs-MACs Pareto chart "
                                    "and the scaling curves will appear here.")),
                  tr("Compare"));
    tabs_->addTab(placeholderTab(tr("Cost\n\nPer-stage MACs and parameters of the current model "
                                    "will appear here.")),
                  tr("Cost"));
    tabs_->addTab(placeholderTab(tr("Pruning\n\nAccuracy vs sparsity of pruned variants will "
                                    "appear here.")),
                  tr("Pruning"));
    tabs_->addTab(placeholderTab(tr("Feature maps\n\nChannel activations and Grad-CAM of a trained "
                                    "model will appear here.")),
                  tr("Feature maps"));
    splitter_->addWidget(tabs_);
    splitter_->setStretchFactor(1, 1);
    setCentralWidget(splitter_);

    buildMenus();

    const RuntimeInfo rt = runtimeInfo();
    auto* device = new QLabel(QString::fromStdString(describeRuntime(rt)));
    device->setToolTip(
        tr("Where training runs: CUDA when LibTorch has it and sees a GPU, the CPU "
           "otherwise"));
    statusBar()->addPermanentWidget(device);
    connect(datasetPanel_, &DatasetPanel::statusMessage, this,
            [this](const QString& text) { statusBar()->showMessage(text, 8000); });

    QSettings settings;
    if (!restoreGeometry(settings.value("mainWindow/geometry").toByteArray())) {
        resize(1280, 800);
    }
    splitter_->restoreState(settings.value("mainWindow/splitter").toByteArray());
}

QWidget* MainWindow::placeholderTab(const QString& text) {
    auto* w = new QWidget;
    auto* layout = new QVBoxLayout(w);
    auto* label = new QLabel(text);
    label->setAlignment(Qt::AlignCenter);
    label->setWordWrap(true);
    label->setEnabled(false);
    layout->addWidget(label);
    return w;
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
    file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);

    QMenu* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About ScaleLab"), this, [this] {
        QMessageBox::about(this, tr("About ScaleLab"),
                           tr("<b>ScaleLab %1</b><p>A desktop lab for CNN scaling: EfficientNet's "
                              "width, depth and resolution, ResNet's depth, trained on real "
                              "data.</p><p>%2</p>")
                               .arg(QApplication::applicationVersion(),
                                    QString::fromStdString(describeRuntime(runtimeInfo()))));
    });
}

void MainWindow::closeEvent(QCloseEvent* event) {
    QSettings settings;
    settings.setValue("mainWindow/geometry", saveGeometry());
    settings.setValue("mainWindow/splitter", splitter_->saveState());
    event->accept();
}

}  // namespace scalelab::ui
