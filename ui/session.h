#pragma once
// The runs of a session: queued, running and finished variants with their curves and results.
// Value data only (no widgets); charts and tables read it and listen to its signals.

#include <QList>
#include <QObject>
#include <QPointF>
#include <QString>
#include <vector>

#include "core/prune/prune_api.h"
#include "core/train/train_api.h"

namespace scalelab::ui {

struct RunRecord {
    int id = 0;                 // unique within the session, from 1
    QString name;               // "#2 efficientnet-b0", or what the user renamed it to
    QString notes;              // the user's notes and tags ("lr sweep; keep")
    QString scaling;            // "phi 1.00 (a 1.2, b 1.1, g 1.15)", "w 1.00 d 1.10 r 1.07", ...
    TrainConfig config;         // everything the run was started with
    QString runDir;             // its record folder
    QString status = "queued";  // queued | running | completed | cancelled ... | failed: ...
    int64_t params = 0;         // learnable parameters
    int64_t macs = 0;           // per image
    int64_t trainImages = 0;    // images per training epoch (for queue ETAs)
    std::vector<EpochMetrics> history;  // one entry per finished epoch
    std::vector<QPointF> liveLoss;      // (fractional epoch, running train loss) while training
    std::vector<QPointF> liveAccuracy;  // (fractional epoch, running train accuracy)
    bool hasSummary = false;            // summary below is valid
    TrainSummary summary;               // final results (test accuracy, confusion, ...)
    double progress = 0;                // 0..1 of this run
    double etaSec = 0;                  // estimated seconds left in this run
    double imagesPerSec = 0;            // latest training throughput
    QString phase;             // while it prepares its data: "resizing 3,000 training images..."
    double phaseProgress = 0;  // 0..1 of that phase
    QString warning;      // what looked wrong while it trained (loss above 2x chance), "" if none
    bool resume = false;  // queued to continue from its checkpoint (Run > Resume), not anew
    std::vector<PruneSweepRecord> pruning;  // pruning sweeps on this run, oldest first

    double bestValAccuracy() const;  // fraction, -1 if none
    double testAccuracy() const;     // fraction, -1 if none
    // Training wall time, s: the summary's, else the finished epochs' sum (0 before any).
    double wallSeconds() const;
    bool finished() const { return status != "queued" && status != "running"; }
};

class Session : public QObject {
    Q_OBJECT
public:
    explicit Session(QObject* parent = nullptr);

    // The folder under which run folders are created (run-001-..., run-002-...).
    QString folder() const { return folder_; }
    void setFolder(const QString& folder) { folder_ = folder; }

    const QList<RunRecord>& runs() const { return runs_; }
    const RunRecord* find(int id) const;
    int indexOf(int id) const;
    // Adds a run (id, name and runDir are assigned) and returns its id.
    int addRun(RunRecord run);
    // Adds a run that already has its folder and results (an imported run folder): a new id, its
    // own runDir and status kept. Returns the id.
    int importRun(RunRecord run);
    // Queues a cancelled, diverged-free or interrupted run to continue from its last finished
    // epoch (its checkpoint.pt). Returns "" or why it cannot be resumed.
    QString queueResume(int id);
    // True when a run with this folder is already in the session.
    bool hasRunDir(const QString& dir) const;
    // Removes queued runs (running/finished ones stay).
    void removeQueued();
    void clear();

    void markRunning(int id);
    void applyProgress(int id, const TrainProgress& p);
    void applySummary(int id, const TrainSummary& s);
    void markFailed(int id, const QString& message);
    // Renames a run and sets its notes; also written to its run folder (label.json) when the
    // folder exists. Returns "" or the problem (an empty name, an unwritable folder).
    QString setLabel(int id, const QString& name, const QString& notes);
    // A watched run folder changed (another process trains it): its recorded epochs, summary
    // and status replace the run's; name, notes and pruning stay.
    void updateFromFolder(int id, const RunRecord& fresh);
    // The id of the run whose folder is `dir` (0 if none).
    int idOfRunDir(const QString& dir) const;
    // Adds or replaces (same folder) a pruning sweep of run `id`.
    void setPruneSweep(int id, const PruneSweepRecord& sweep);

    // Writes / reads the whole session (runs, specs, curves, results) as one JSON file.
    // Return "" on success, else a message naming the file and the problem.
    QString save(const QString& path) const;
    QString load(const QString& path);

Q_SIGNALS:
    void runWarning(int id, const QString& text);  // a warning arrived while the run trains
    void runAdded(int id);
    void runChanged(int id);
    void runsReset();

private:
    RunRecord* findMutable(int id);
    QList<RunRecord> runs_;
    QString folder_;
    int nextId_ = 1;
};

}  // namespace scalelab::ui
