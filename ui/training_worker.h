#pragma once
// Trains one run at a time on its own thread (Tiled's pattern: a QObject moved to a QThread).
// Requests arrive as queued slot calls, results leave as queued signals carrying value types;
// Stop sets an atomic flag the trainer checks before every batch.

#include <QObject>
#include <QString>
#include <QThread>
#include <atomic>

#include "ui/metatypes.h"

namespace scalelab::ui {

class TrainingWorker : public QObject {
    Q_OBJECT
public:
    // Thread-safe: asks the current run to stop before its next batch.
    void requestStop() { stop_.store(true); }
    // Thread-safe: clears a previous stop request (called before a new queue starts).
    void clearStop() { stop_.store(false); }

public Q_SLOTS:
    // Trains a run into runDir, or (resume) continues the run there from its last finished epoch.
    void train(int runId, scalelab::TrainConfig config, QString runDir, bool resume);

Q_SIGNALS:
    void progress(int runId, scalelab::TrainProgress progress);
    void finished(int runId, scalelab::TrainSummary summary);
    void failed(int runId, QString message);

private:
    std::atomic<bool> stop_{false};
};

class Session;

// Owns the worker thread and runs the session's queued runs one after another.
class TrainingController : public QObject {
    Q_OBJECT
public:
    explicit TrainingController(Session* session, QObject* parent = nullptr);
    // Stops the current run (within one batch), then quits and joins the thread.
    ~TrainingController() override;

    bool isRunning() const { return currentRun_ != 0; }
    int currentRun() const { return currentRun_; }
    // Estimated seconds left for the whole queue (current run + queued ones, from the MAC rate
    // the current run achieves); -1 when unknown.
    double queueEtaSec() const;
    // Fraction of the queue done, by estimated work.
    double queueProgress() const;

public Q_SLOTS:
    // Starts the queued runs (no-op while running).
    void start();
    // Stops the current run within one batch; queued runs stay queued.
    void stop();
    // Stops and blocks until the worker has finished its current run (window closing).
    void stopAndWait();

Q_SIGNALS:
    void runStarted(int runId);
    void runFinished(int runId);
    void queueFinished();
    void requestTrain(int runId, scalelab::TrainConfig config, QString runDir, bool resume);

private:
    void dispatchNext();
    Session* session_;
    QThread thread_;
    TrainingWorker* worker_ = nullptr;
    int currentRun_ = 0;
    bool stopping_ = false;
    QList<int> queueAtStart_;
};

}  // namespace scalelab::ui
