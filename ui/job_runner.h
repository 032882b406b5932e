#pragma once
// Runs one background job at a time on its own thread (a QObject moved to a QThread, as the
// training worker). The job gets a cancel flag; its completion callback runs on the GUI thread.

#include <QObject>
#include <QThread>
#include <atomic>
#include <functional>

namespace scalelab::ui {

class JobRunner : public QObject {
    Q_OBJECT
public:
    explicit JobRunner(QObject* parent = nullptr);
    // Cancels a running job, waits for it, joins the thread.
    ~JobRunner() override;

    bool busy() const { return busy_; }
    // Starts `job` on the worker thread; `done` runs on this object's thread afterwards. Returns
    // false (and runs nothing) while another job is busy.
    bool start(std::function<void()> job, std::function<void()> done);
    // Asks the job to stop (it checks the flag between steps / batches).
    void cancel() { cancel_.store(true); }
    const std::atomic<bool>* cancelFlag() const { return &cancel_; }

Q_SIGNALS:
    void busyChanged(bool busy);

private:
    QThread thread_;
    QObject* worker_ = nullptr;
    std::atomic<bool> cancel_{false};
    bool busy_ = false;
};

}  // namespace scalelab::ui
