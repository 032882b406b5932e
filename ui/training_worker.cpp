#include "ui/training_worker.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>

#include "ui/session.h"

namespace scalelab::ui {

void registerMetaTypes() {
    static const bool once = [] {
        qRegisterMetaType<scalelab::ModelSpec>();
        qRegisterMetaType<scalelab::TrainConfig>();
        qRegisterMetaType<scalelab::TrainProgress>();
        qRegisterMetaType<scalelab::TrainSummary>();
        return true;
    }();
    (void)once;
}

void TrainingWorker::train(int runId, TrainConfig config, QString runDir, bool resume) {
    TrainHooks hooks;
    hooks.cancel = &stop_;
    hooks.progress = [this, runId](const TrainProgress& p) {
        Q_EMIT progress(runId, p);  // queued to the GUI thread
        return true;
    };
    try {
        const TrainSummary s = resume ? resumeRun(runDir.toStdString(), hooks)
                                      : trainRun(config, runDir.toStdString(), hooks);
        Q_EMIT finished(runId, s);
    } catch (const std::exception& e) {
        Q_EMIT failed(runId, QString::fromStdString(e.what()));
    }
}

// ---------------------------------------------------------------------------------------------

TrainingController::TrainingController(Session* session, QObject* parent)
    : QObject(parent), session_(session) {
    registerMetaTypes();
    worker_ = new TrainingWorker;
    worker_->moveToThread(&thread_);
    connect(&thread_, &QThread::finished, worker_, &QObject::deleteLater);
    connect(this, &TrainingController::requestTrain, worker_, &TrainingWorker::train,
            Qt::QueuedConnection);
    connect(worker_, &TrainingWorker::progress, this,
            [this](int id, const TrainProgress& p) { session_->applyProgress(id, p); });
    connect(worker_, &TrainingWorker::finished, this, [this](int id, const TrainSummary& s) {
        session_->applySummary(id, s);
        currentRun_ = 0;
        Q_EMIT runFinished(id);
        dispatchNext();
    });
    connect(worker_, &TrainingWorker::failed, this, [this](int id, const QString& message) {
        session_->markFailed(id, message);
        currentRun_ = 0;
        Q_EMIT runFinished(id);
        dispatchNext();
    });
    thread_.setObjectName("training");
    thread_.start();
}

TrainingController::~TrainingController() {
    worker_->requestStop();
    thread_.quit();
    thread_.wait();
}

void TrainingController::start() {
    if (isRunning()) {
        return;
    }
    stopping_ = false;
    worker_->clearStop();
    queueAtStart_.clear();
    for (const RunRecord& r : session_->runs()) {
        if (r.status == "queued") {
            queueAtStart_.push_back(r.id);
        }
    }
    dispatchNext();
}

void TrainingController::stop() {
    if (!isRunning()) {
        return;
    }
    stopping_ = true;
    worker_->requestStop();
}

void TrainingController::stopAndWait() {
    stop();
    while (isRunning()) {
        // The worker's finished signal is queued to this thread: deliver it.
        QCoreApplication::processEvents(QEventLoop::AllEvents, 50);
        QThread::msleep(5);
    }
}

void TrainingController::dispatchNext() {
    if (stopping_) {
        stopping_ = false;
        Q_EMIT queueFinished();
        return;
    }
    for (const RunRecord& r : session_->runs()) {
        if (r.status == "queued") {
            currentRun_ = r.id;
            QDir().mkpath(QFileInfo(r.runDir).absolutePath());
            session_->markRunning(r.id);
            Q_EMIT runStarted(r.id);
            Q_EMIT requestTrain(r.id, r.config, r.runDir, r.resume);
            return;
        }
    }
    Q_EMIT queueFinished();
}

namespace {

// Training MACs of a run: epochs x train images x MACs per image.
double runWork(const RunRecord& r, int64_t trainImages) {
    return double(r.config.epochs) * double(trainImages) * double(std::max<int64_t>(r.macs, 1));
}

int64_t trainImagesOf(const RunRecord& r) {
    return r.trainImages > 0 ? r.trainImages : 50000;
}

}  // namespace

double TrainingController::queueEtaSec() const {
    const RunRecord* cur = session_->find(currentRun_);
    if (!cur || cur->imagesPerSec <= 0 || cur->macs <= 0) {
        return -1;
    }
    const double macRate = cur->imagesPerSec * double(cur->macs);  // training MACs per second
    double eta = cur->etaSec;
    for (const RunRecord& r : session_->runs()) {
        if (r.status == "queued" && queueAtStart_.contains(r.id)) {
            eta += runWork(r, trainImagesOf(r)) / macRate;
        }
    }
    return eta;
}

double TrainingController::queueProgress() const {
    double total = 0, done = 0;
    for (int id : queueAtStart_) {
        const RunRecord* r = session_->find(id);
        if (!r) {
            continue;
        }
        const double w = runWork(*r, trainImagesOf(*r));
        total += w;
        done += r->finished() ? w : r->status == "running" ? w * r->progress : 0.0;
    }
    return total > 0 ? done / total : 0.0;
}

}  // namespace scalelab::ui
