#include "ui/job_runner.h"

#include <QCoreApplication>

namespace scalelab::ui {

JobRunner::JobRunner(QObject* parent) : QObject(parent) {
    worker_ = new QObject;
    worker_->moveToThread(&thread_);
    connect(&thread_, &QThread::finished, worker_, &QObject::deleteLater);
    thread_.setObjectName("jobs");
    thread_.start();
}

JobRunner::~JobRunner() {
    cancel_.store(true);
    thread_.quit();
    thread_.wait();
}

bool JobRunner::start(std::function<void()> job, std::function<void()> done) {
    if (busy_) {
        return false;
    }
    busy_ = true;
    cancel_.store(false);
    Q_EMIT busyChanged(true);
    QMetaObject::invokeMethod(
        worker_,
        [this, job = std::move(job), done = std::move(done)] {
            job();
            QMetaObject::invokeMethod(
                this,
                [this, done] {
                    busy_ = false;
                    done();
                    Q_EMIT busyChanged(false);
                },
                Qt::QueuedConnection);
        },
        Qt::QueuedConnection);
    return true;
}

}  // namespace scalelab::ui
