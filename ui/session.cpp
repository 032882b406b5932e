#include "ui/session.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QSaveFile>
#include <cmath>

#include "core/train/run_folder.h"

namespace scalelab::ui {

double RunRecord::bestValAccuracy() const {
    double best = -1;
    for (const EpochMetrics& e : history) {
        best = std::max(best, e.valAccuracy);
    }
    return best;
}

double RunRecord::testAccuracy() const {
    return hasSummary && summary.test.count > 0 ? summary.test.accuracy : -1;
}

double RunRecord::wallSeconds() const {
    if (hasSummary) {
        return summary.wallSeconds;
    }
    double t = 0;
    for (const EpochMetrics& e : history) {
        t += e.seconds;
    }
    return t;
}

Session::Session(QObject* parent) : QObject(parent) {}

const RunRecord* Session::find(int id) const {
    for (const RunRecord& r : runs_) {
        if (r.id == id) {
            return &r;
        }
    }
    return nullptr;
}

RunRecord* Session::findMutable(int id) {
    return const_cast<RunRecord*>(find(id));
}

int Session::indexOf(int id) const {
    for (int i = 0; i < runs_.size(); ++i) {
        if (runs_[i].id == id) {
            return i;
        }
    }
    return -1;
}

int Session::addRun(RunRecord run) {
    run.id = nextId_++;
    run.name = QString("#%1 %2").arg(run.id).arg(QString::fromStdString(run.config.model.name));
    QString slug = QString::fromStdString(run.config.model.name);
    slug.replace(QRegularExpression("[^A-Za-z0-9.-]+"), "_");
    run.runDir =
        QDir(folder_).filePath(QString("run-%1-%2").arg(run.id, 3, 10, QChar('0')).arg(slug));
    run.status = "queued";
    runs_.push_back(run);
    Q_EMIT runAdded(run.id);
    return run.id;
}

int Session::importRun(RunRecord run) {
    run.id = nextId_++;
    if (run.name.trimmed().isEmpty()) {
        run.name = QString("#%1 %2").arg(run.id).arg(QString::fromStdString(run.config.model.name));
    }
    runs_.push_back(run);
    Q_EMIT runAdded(run.id);
    return run.id;
}

QString Session::queueResume(int id) {
    RunRecord* r = findMutable(id);
    if (!r) {
        return tr("No run %1 in this session").arg(id);
    }
    if (!r->finished()) {
        return tr("%1 is %2; only a stopped run can be resumed").arg(r->name, r->status);
    }
    if (r->hasSummary && r->summary.state == RunState::Completed) {
        return tr("%1 is completed; there is nothing to resume").arg(r->name);
    }
    if (!QFileInfo::exists(QDir(r->runDir).filePath("checkpoint.pt"))) {
        return tr("%1 has no finished epoch to resume from (no checkpoint.pt in %2); train it "
                  "anew instead")
            .arg(r->name, r->runDir);
    }
    r->status = "queued";
    r->resume = true;
    r->progress = r->config.epochs > 0 ? double(r->history.size()) / double(r->config.epochs) : 0;
    r->liveLoss.clear();
    r->liveAccuracy.clear();
    Q_EMIT runChanged(id);
    return {};
}

bool Session::hasRunDir(const QString& dir) const {
    const QString want = QDir::cleanPath(dir);
    for (const RunRecord& r : runs_) {
        if (QDir::cleanPath(r.runDir) == want) {
            return true;
        }
    }
    return false;
}

void Session::removeQueued() {
    bool changed = false;
    for (int i = runs_.size() - 1; i >= 0; --i) {
        if (runs_[i].status == "queued") {
            runs_.removeAt(i);
            changed = true;
        }
    }
    if (changed) {
        Q_EMIT runsReset();
    }
}

void Session::clear() {
    runs_.clear();
    nextId_ = 1;
    Q_EMIT runsReset();
}

void Session::markRunning(int id) {
    if (RunRecord* r = findMutable(id)) {
        r->status = "running";
        if (!r->resume) {
            r->progress = 0;
        }
        Q_EMIT runChanged(id);
    }
}

void Session::applyProgress(int id, const TrainProgress& p) {
    RunRecord* r = findMutable(id);
    if (!r) {
        return;
    }
    const double done =
        double(p.epoch - 1) + (p.batchesPerEpoch ? double(p.batch) / double(p.batchesPerEpoch) : 0);
    if (!p.warning.empty()) {
        r->warning = QString::fromStdString(p.warning);
        Q_EMIT runWarning(id, r->warning);
    }
    if (p.kind == TrainProgress::Kind::Preparing) {
        r->phase = QString::fromStdString(p.phase);
        r->phaseProgress = p.phaseTotal > 0 ? double(p.phaseDone) / double(p.phaseTotal) : 0;
        Q_EMIT runChanged(id);
        return;
    }
    r->phase.clear();
    if (p.kind == TrainProgress::Kind::Batch) {
        r->liveLoss.emplace_back(done, p.trainLoss);
        r->liveAccuracy.emplace_back(done, p.trainAccuracy);
        r->imagesPerSec = p.imagesPerSec;
    } else if (p.kind == TrainProgress::Kind::Epoch) {
        r->history.push_back(p.metrics);
        r->imagesPerSec = p.imagesPerSec;
    }
    if (p.epochs > 0 && p.kind != TrainProgress::Kind::Finished) {
        r->progress =
            std::min(1.0, (p.kind == TrainProgress::Kind::Epoch ? double(p.epoch) : done) /
                              double(p.epochs));
        r->etaSec = p.etaSec;
    }
    Q_EMIT runChanged(id);
}

void Session::applySummary(int id, const TrainSummary& s) {
    RunRecord* r = findMutable(id);
    if (!r) {
        return;
    }
    r->summary = s;
    r->hasSummary = true;
    r->resume = false;
    if (!s.warnings.empty()) {
        r->warning = QString::fromStdString(s.warnings.front());
    }
    r->history = s.history;  // the recorded epochs (with timings) replace the live copies
    r->status = QString::fromStdString(s.status);
    r->params = s.params;
    r->macs = s.macs;
    r->progress = s.completed ? 1.0 : r->progress;
    r->etaSec = 0;
    if (!s.history.empty()) {
        r->imagesPerSec = s.imagesPerSec;
    }
    Q_EMIT runChanged(id);
}

void Session::markFailed(int id, const QString& message) {
    if (RunRecord* r = findMutable(id)) {
        r->resume = false;
    }
    if (RunRecord* r = findMutable(id)) {
        r->status = "failed: " + message;
        r->etaSec = 0;
        Q_EMIT runChanged(id);
    }
}

QString Session::setLabel(int id, const QString& name, const QString& notes) {
    RunRecord* r = findMutable(id);
    if (!r) {
        return tr("No run %1 in this session").arg(id);
    }
    const QString trimmed = name.trimmed();
    if (trimmed.isEmpty()) {
        return tr("A run needs a name; %1 keeps its own").arg(r->name);
    }
    if (trimmed == r->name && notes == r->notes) {
        return {};
    }
    r->name = trimmed;
    r->notes = notes;
    Q_EMIT runChanged(id);
    if (QFileInfo(r->runDir).isDir()) {
        try {
            writeRunLabel(r->runDir.toStdString(), {trimmed.toStdString(), notes.toStdString()});
        } catch (const std::exception&) {
            return tr("%1: the name and notes are kept in the session but could not be written "
                      "to the run folder (label.json)")
                .arg(r->runDir);
        }
    }
    return {};
}

void Session::updateFromFolder(int id, const RunRecord& fresh) {
    RunRecord* r = findMutable(id);
    if (!r) {
        return;
    }
    r->history = fresh.history;
    r->hasSummary = fresh.hasSummary;
    r->summary = fresh.summary;
    r->status = fresh.status;
    r->progress = fresh.progress;
    r->params = fresh.params;
    r->macs = fresh.macs;
    if (fresh.hasSummary && fresh.summary.imagesPerSec > 0) {
        r->imagesPerSec = fresh.summary.imagesPerSec;
    }
    Q_EMIT runChanged(id);
}

int Session::idOfRunDir(const QString& dir) const {
    const QString want = QDir::cleanPath(dir);
    for (const RunRecord& r : runs_) {
        if (QDir::cleanPath(r.runDir) == want) {
            return r.id;
        }
    }
    return 0;
}

void Session::setPruneSweep(int id, const PruneSweepRecord& sweep) {
    RunRecord* r = findMutable(id);
    if (!r) {
        return;
    }
    for (PruneSweepRecord& existing : r->pruning) {
        if (existing.dir == sweep.dir) {
            existing = sweep;
            Q_EMIT runChanged(id);
            return;
        }
    }
    r->pruning.push_back(sweep);
    Q_EMIT runChanged(id);
}

// --- JSON -------------------------------------------------------------------------------------

namespace {

// The core writes and reads these parts (the same format as its run records); Qt's JSON wraps them.
QJsonValue coreJson(const std::string& text) {
    const QJsonDocument doc = QJsonDocument::fromJson(QByteArray::fromStdString(text));
    return doc.isArray() ? QJsonValue(doc.array()) : QJsonValue(doc.object());
}

std::string jsonText(const QJsonValue& v) {
    return (v.isArray() ? QJsonDocument(v.toArray()) : QJsonDocument(v.toObject()))
        .toJson()
        .toStdString();
}

}  // namespace

QString Session::save(const QString& path) const {
    QJsonArray runs;
    for (const RunRecord& r : runs_) {
        QJsonObject o;
        o["id"] = r.id;
        o["name"] = r.name;
        o["scaling"] = r.scaling;
        o["config"] =
            QJsonDocument::fromJson(QByteArray::fromStdString(trainConfigToJson(r.config)))
                .object();
        o["run_dir"] = r.runDir;
        o["status"] = r.status;
        if (r.resume) {
            o["resume"] = true;
        }
        o["params"] = qint64(r.params);
        o["macs"] = qint64(r.macs);
        o["history"] = coreJson(epochHistoryToJson(r.history));
        if (!r.notes.isEmpty()) {
            o["notes"] = r.notes;
        }
        o["images_per_s"] = r.imagesPerSec;
        // Within-epoch points: [fractional epoch, running loss, running accuracy].
        QJsonArray live;
        for (size_t i = 0; i < r.liveLoss.size() && i < r.liveAccuracy.size(); ++i) {
            live.append(QJsonArray{r.liveLoss[i].x(), r.liveLoss[i].y(), r.liveAccuracy[i].y()});
        }
        o["live"] = live;
        QJsonArray pruning;
        for (const PruneSweepRecord& sweep : r.pruning) {
            QJsonObject p = coreJson(pruneSweepToJson(sweep)).toObject();
            p["dir"] = QString::fromStdString(sweep.dir);
            pruning.append(p);
        }
        o["pruning"] = pruning;
        if (r.hasSummary) {
            o["summary"] = coreJson(trainSummaryToJson(r.summary));  // core's one mapping
        }
        runs.append(o);
    }
    QJsonObject root{{"format", "scalelab-session"},
                     {"version", 1},
                     {"session_folder", folder_},
                     {"runs", runs}};
    QSaveFile file(path);  // atomic: a failed write leaves the old file
    if (!file.open(QIODevice::WriteOnly)) {
        return tr("%1: cannot write (%2)").arg(path, file.errorString());
    }
    file.write(QJsonDocument(root).toJson());
    if (!file.commit()) {
        return tr("%1: write failed (%2)").arg(path, file.errorString());
    }
    return {};
}

QString Session::load(const QString& path) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        return tr("%1: cannot open (%2)").arg(path, file.errorString());
    }
    QJsonParseError err;
    const QJsonDocument doc = QJsonDocument::fromJson(file.readAll(), &err);
    if (err.error != QJsonParseError::NoError) {
        return tr("%1: not valid JSON (%2 at byte %3)")
            .arg(path, err.errorString())
            .arg(err.offset);
    }
    const QJsonObject root = doc.object();
    if (root["format"].toString() != "scalelab-session") {
        return tr("%1: not a ScaleLab session file").arg(path);
    }
    QList<RunRecord> loaded;
    int maxId = 0;
    for (const QJsonValue& v : root["runs"].toArray()) {
        const QJsonObject o = v.toObject();
        RunRecord r;
        r.id = o["id"].toInt();
        r.name = o["name"].toString();
        r.scaling = o["scaling"].toString();
        try {
            r.config =
                trainConfigFromJson(QJsonDocument(o["config"].toObject()).toJson().toStdString(),
                                    path.toStdString() + ", run " + r.name.toStdString());
        } catch (const std::exception& e) {
            return QString::fromStdString(e.what());
        }
        r.runDir = o["run_dir"].toString();
        r.status = o["status"].toString();
        r.resume = o["resume"].toBool(false);
        if (r.status == "running") {
            r.status = "interrupted (the app closed while it ran)";
        }
        r.params = o["params"].toInteger(-1);
        r.macs = o["macs"].toInteger(-1);
        const std::string where = path.toStdString() + ", run " + r.name.toStdString();
        // Field by field: a run the charts cannot place is refused, not dropped silently.
        if (r.id < 1) {
            return tr("%1: a run has id %2; ids are whole numbers from 1")
                .arg(path)
                .arg(o["id"].toVariant().toString());
        }
        if (r.params < 0 || r.macs < 0) {
            return tr("%1: field '%2' of run '%3' must be a whole number >= 0 (it is %4)")
                .arg(path, r.params < 0 ? "params" : "macs", r.name,
                     (r.params < 0 ? o["params"] : o["macs"]).toVariant().toString());
        }
        try {
            r.history = epochHistoryFromJson(jsonText(o["history"]), where);
        } catch (const std::exception& e) {
            return QString::fromStdString(e.what());
        }
        r.notes = o["notes"].toString();
        r.imagesPerSec = o["images_per_s"].toDouble(0);
        if (!(r.imagesPerSec >= 0) || !std::isfinite(r.imagesPerSec)) {
            return tr("%1: field 'images_per_s' of run '%2' must be a number >= 0")
                .arg(path, r.name);
        }
        for (const QJsonValue& point : o["live"].toArray()) {
            const QJsonArray a = point.toArray();
            const double x = a.at(0).toDouble(-1), loss = a.at(1).toDouble(-1),
                         acc = a.at(2).toDouble(-1);
            if (a.size() != 3 || !(x >= 0) || !(loss >= 0) || !std::isfinite(loss) ||
                !(acc >= 0 && acc <= 1)) {
                return tr("%1: field 'live' of run '%2' holds a point that is not [epoch >= 0, "
                          "loss >= 0, accuracy in [0, 1]]")
                    .arg(path, r.name);
            }
            r.liveLoss.emplace_back(x, loss);
            r.liveAccuracy.emplace_back(x, acc);
        }
        for (const QJsonValue& p : o["pruning"].toArray()) {
            try {
                PruneSweepRecord sweep = pruneSweepFromJson(jsonText(p), where + ": pruning sweep");
                sweep.dir = p.toObject()["dir"].toString().toStdString();
                r.pruning.push_back(sweep);
            } catch (const std::exception& e) {
                return QString::fromStdString(e.what());
            }
        }
        if (o.contains("summary")) {
            try {
                r.summary = trainSummaryFromJson(jsonText(o["summary"]), where);
            } catch (const std::exception& e) {
                return QString::fromStdString(e.what());
            }
            r.hasSummary = true;
            if (!r.summary.warnings.empty()) {
                r.warning = QString::fromStdString(r.summary.warnings.front());
            }
            r.summary.history = r.history;
            r.summary.params = r.params;
            r.summary.macs = r.macs;
            r.summary.runDir = r.runDir.toStdString();
            r.progress = r.summary.completed ? 1.0 : 0.0;
        }
        maxId = std::max(maxId, r.id);
        loaded.push_back(r);
    }
    runs_ = loaded;
    folder_ = root["session_folder"].toString(folder_);
    nextId_ = maxId + 1;
    Q_EMIT runsReset();
    return {};
}

}  // namespace scalelab::ui
