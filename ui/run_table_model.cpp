#include "ui/run_table_model.h"

#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocale>
#include <QSaveFile>

#include "core/models/analysis.h"
#include "core/models/arch_plan.h"
#include "ui/charts/chart_tools.h"
#include "ui/session.h"

namespace scalelab::ui {

RunTableModel::RunTableModel(Session* session, QObject* parent)
    : QAbstractTableModel(parent), session_(session) {
    connect(session, &Session::runsReset, this, [this] {
        beginResetModel();
        regroup();
        endResetModel();
    });
    connect(session, &Session::runAdded, this, [this](int id) {
        if (grouped_) {
            beginResetModel();
            regroup();
            endResetModel();
            return;
        }
        const int row = session_->indexOf(id);
        beginInsertRows({}, row, row);
        endInsertRows();
    });
    connect(session, &Session::runChanged, this, [this](int id) {
        if (grouped_) {
            // Statistics change, membership does not (a config never changes once queued).
            regroup();
            for (int row = 0; row < int(groups_.size()); ++row) {
                if (groups_[size_t(row)].ids.contains(id)) {
                    Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1));
                }
            }
            return;
        }
        const int row = session_->indexOf(id);
        if (row >= 0) {
            Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1));
        }
    });
}

void RunTableModel::regroup() {
    groups_ = grouped_ ? groupRuns(session_->runs()) : std::vector<RunGroup>{};
}

void RunTableModel::setGroupSeeds(bool grouped) {
    if (grouped == grouped_) {
        return;
    }
    beginResetModel();
    grouped_ = grouped;
    regroup();
    endResetModel();
}

QList<int> RunTableModel::runIdsAt(int row) const {
    if (grouped_) {
        return row >= 0 && row < int(groups_.size()) ? groups_[size_t(row)].ids : QList<int>{};
    }
    const int id = runIdAt(row);
    return id ? QList<int>{id} : QList<int>{};
}

int RunTableModel::rowCount(const QModelIndex& parent) const {
    if (parent.isValid()) {
        return 0;
    }
    return grouped_ ? int(groups_.size()) : int(session_->runs().size());
}

int RunTableModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

int RunTableModel::runIdAt(int row) const {
    if (grouped_) {
        return row >= 0 && row < int(groups_.size()) ? groups_[size_t(row)].ids.first() : 0;
    }
    return row >= 0 && row < session_->runs().size() ? session_->runs()[row].id : 0;
}

namespace {

// Blocks per stage as planned (any family), and the depth multiplier when it is not 1.
QString depthText(const RunRecord& r) {
    const ModelSpec& s = r.config.model;
    QStringList b;
    try {
        for (const PlanStage& st : planModel(s).stages) {
            if (st.index > 0) {
                b << QString::number(st.repeats);
            }
        }
    } catch (const std::exception&) {
        return QString("d %1").arg(s.depth, 0, 'f', 2);
    }
    const QString blocks = b.join(",");
    return s.depth == 1.0 ? blocks : QString("%1 (d %2)").arg(blocks).arg(s.depth, 0, 'f', 2);
}

// "fashion-mnist", or a folder's last part for a path.
QString datasetText(const RunRecord& r) {
    const QString d = QString::fromStdString(r.config.dataset);
    const QString name = QFileInfo(d).fileName();
    return d.contains('/') && !name.isEmpty() ? name : d;
}

QString pct(double v) {
    return v < 0 ? QString("-") : QString("%1 %").arg(v * 100, 0, 'f', 2);
}

}  // namespace

QVariant RunTableModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= rowCount()) {
        return {};
    }
    const RunRecord* found = session_->find(runIdAt(index.row()));
    if (!found) {
        return {};
    }
    const RunRecord& r = *found;
    if (grouped_ && groups_[size_t(index.row())].ids.size() > 1) {
        const QVariant v = groupData(groups_[size_t(index.row())], r, index.column(), role);
        if (v.isValid()) {
            return v;
        }
    }
    if (role == Qt::UserRole) {
        switch (index.column()) {
            case Name:
                return r.id;
            case Dataset:
                return datasetText(r);
            case Notes:
                return r.notes;
            case Scaling:
                return r.scaling;
            case Depth:
                return depthText(r);
            case Params:
                return qlonglong(r.params);
            case Macs:
                return qlonglong(r.macs);
            case BestVal:
                return r.bestValAccuracy();
            case Test:
                return r.testAccuracy();
            case Time:
                return r.wallSeconds();
            case ImagesPerSec:
                return r.imagesPerSec;
            case Status:
                return r.status;
        }
    }
    if (role == Qt::DisplayRole) {
        switch (index.column()) {
            case Name:
                return r.name;
            case Dataset:
                return datasetText(r);
            case Notes:
                return r.notes;
            case Scaling:
                return r.scaling;
            case Depth:
                return depthText(r);
            case Params:
                return compactCount(double(r.params));
            case Macs:
                return compactCount(double(r.macs));
            case BestVal:
                return pct(r.bestValAccuracy());
            case Test:
                return pct(r.testAccuracy());
            case Time:
                return QString("%1 s").arg(r.wallSeconds(), 0, 'f', 1);
            case ImagesPerSec:
                return r.imagesPerSec > 0 ? QString::number(r.imagesPerSec, 'f', 0) : QString("-");
            case Status: {
                const QString status = r.status == "running"
                                           ? QString("running %1 %").arg(int(r.progress * 100))
                                           : r.status;
                return r.warning.isEmpty() ? status : QString("⚠ ") + status;
            }
        }
    }
    if (role == Qt::TextAlignmentRole && index.column() >= Params &&
        index.column() <= ImagesPerSec) {
        return int(Qt::AlignRight | Qt::AlignVCenter);
    }
    if (role == Qt::EditRole && (index.column() == Name || index.column() == Notes)) {
        return index.column() == Name ? r.name : r.notes;
    }
    if (role == Qt::ToolTipRole) {
        if (index.column() == Macs) {
            return tr("%1 multiply-accumulates per image (conv + linear); FLOPs = 2 x MACs = %2")
                .arg(exactCount(r.macs), exactCount(2 * r.macs));
        }
        if (index.column() == Params) {
            return tr("%1 learnable parameters").arg(exactCount(r.params));
        }
        if (index.column() == Dataset) {
            return QString::fromStdString(r.config.dataset);
        }
        if (index.column() == Notes) {
            return r.notes.isEmpty() ? tr("Double-click to add notes or tags") : r.notes;
        }
        if (index.column() == Status && !r.warning.isEmpty()) {
            return tr("Warning: %1\n%2").arg(r.warning, r.runDir);
        }
        if (index.column() == Name) {
            return tr("%1\nDouble-click to rename").arg(r.runDir);
        }
        if (index.column() == Status) {
            return r.runDir;
        }
    }
    return {};
}

QVariant RunTableModel::headerData(int section, Qt::Orientation o, int role) const {
    if (o != Qt::Horizontal) {
        return {};
    }
    static const char* names[] = {"Run",          "Dataset",  "Scaling (w/d/r or φ)",
                                  "Depth",        "Params",   "MACs",
                                  "Best val acc", "Test acc", "Time",
                                  "Images/s",     "Status",   "Notes"};
    static_assert(sizeof names / sizeof names[0] == ColumnCount);
    if (role == Qt::DisplayRole) {
        return tr(names[section]);
    }
    if (role == Qt::ToolTipRole && section == Macs) {
        return tr(
            "Multiply-accumulates of convolutions and linear layers per image, the "
            "convention behind the papers' \"FLOPs\". FLOPs = 2 x MACs.");
    }
    return {};
}

QVariant RunTableModel::groupData(const RunGroup& g, const RunRecord& first, int column,
                                  int role) const {
    auto seconds = [](const MeanStd& m) {
        return m.count > 1 ? QString("%1 ± %2 s").arg(m.mean, 0, 'f', 1).arg(m.std, 0, 'f', 1)
               : m.count   ? QString("%1 s").arg(m.mean, 0, 'f', 1)
                           : QString("-");
    };
    auto rate = [](const MeanStd& m) {
        return m.count > 1 ? QString("%1 ± %2").arg(m.mean, 0, 'f', 0).arg(m.std, 0, 'f', 0)
               : m.count   ? QString::number(m.mean, 'f', 0)
                           : QString("-");
    };
    QStringList seeds;
    for (uint64_t s : g.seeds) {
        seeds << QString::number(s);
    }
    if (role == Qt::UserRole) {
        switch (column) {
            case BestVal:
                return g.bestValAccuracy.mean;
            case Test:
                return g.testAccuracy.mean;
            case Time:
                return g.seconds.mean;
            case ImagesPerSec:
                return g.imagesPerSec.mean;
            default:
                return {};
        }
    }
    if (role == Qt::DisplayRole) {
        switch (column) {
            case Name:
                return tr("%1 · %n seeds", nullptr, int(g.ids.size())).arg(first.name);
            case BestVal:
                return meanStdPercent(g.bestValAccuracy);
            case Test:
                return meanStdPercent(g.testAccuracy);
            case Time:
                return seconds(g.seconds);
            case ImagesPerSec:
                return rate(g.imagesPerSec);
            case Status: {
                int done = 0;
                for (int id : g.ids) {
                    const RunRecord* r = session_->find(id);
                    done += r && r->testAccuracy() >= 0;
                }
                return tr("%1 of %2 tested").arg(done).arg(g.ids.size());
            }
            default:
                return {};
        }
    }
    if (role == Qt::ToolTipRole && (column == Name || column == Test || column == BestVal)) {
        return tr("%n runs that differ only in the seed (%1): mean ± sample standard deviation "
                  "(n − 1) over those with a result",
                  nullptr, int(g.ids.size()))
            .arg(seeds.join(", "));
    }
    return {};
}

Qt::ItemFlags RunTableModel::flags(const QModelIndex& index) const {
    Qt::ItemFlags f = QAbstractTableModel::flags(index);
    if (grouped_ && index.isValid() && index.row() < int(groups_.size()) &&
        groups_[size_t(index.row())].ids.size() > 1) {
        return f;  // a group row: rename its runs one by one with grouping off
    }
    if (index.isValid() && (index.column() == Name || index.column() == Notes)) {
        f |= Qt::ItemIsEditable;
    }
    return f;
}

bool RunTableModel::setData(const QModelIndex& index, const QVariant& value, int role) {
    if (role != Qt::EditRole || !index.isValid() || index.row() >= rowCount() ||
        (index.column() != Name && index.column() != Notes) ||
        !(flags(index) & Qt::ItemIsEditable)) {
        return false;
    }
    const RunRecord* found = session_->find(runIdAt(index.row()));
    if (!found) {
        return false;
    }
    const RunRecord& r = *found;
    const QString name = index.column() == Name ? value.toString() : r.name;
    const QString notes = index.column() == Notes ? value.toString() : r.notes;
    const QString problem = session_->setLabel(r.id, name, notes);
    if (!problem.isEmpty()) {
        Q_EMIT labelProblem(problem);
    }
    return problem.isEmpty();
}

namespace {

// config.json's fields flattened: "lr", "model.width", ... (Qt's JSON orders keys by name).
void flatten(const QJsonObject& o, const QString& prefix, QList<QPair<QString, QString>>& out) {
    for (auto it = o.begin(); it != o.end(); ++it) {
        const QString key = prefix + it.key();
        if (it->isObject()) {
            flatten(it->toObject(), key + ".", out);
        } else if (it->isArray()) {
            out.append({key, QString::fromUtf8(
                                 QJsonDocument(it->toArray()).toJson(QJsonDocument::Compact))});
        } else {
            out.append({key, it->toVariant().toString()});
        }
    }
}

}  // namespace

QString RunTableModel::exportCsv(const QString& path) const {
    QSaveFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Text)) {
        return tr("%1: cannot write (%2)").arg(path, f.errorString());
    }
    auto quote = [](QString s) {
        s.replace('"', "\"\"");
        return '"' + s + '"';
    };
    // Every run's hyperparameters, the union of the keys in first-seen order.
    QList<QList<QPair<QString, QString>>> configs;
    QStringList keys;
    for (const RunRecord& r : session_->runs()) {
        QList<QPair<QString, QString>> fields;
        flatten(QJsonDocument::fromJson(QByteArray::fromStdString(trainConfigToJson(r.config)))
                    .object(),
                QString(), fields);
        for (const auto& [k, v] : fields) {
            if (!keys.contains(k)) {
                keys << k;
            }
        }
        configs << fields;
    }
    // The experiment each run repeats (runs differing only in the seed share the number).
    const std::vector<RunGroup> groups = groupRuns(session_->runs());
    auto experimentOf = [&](int id) {
        for (size_t i = 0; i < groups.size(); ++i) {
            if (groups[i].ids.contains(id)) {
                return int(i) + 1;
            }
        }
        return 0;
    };
    QByteArray out =
        "id,name,experiment,dataset,model,scaling,depth,params,macs,flops,best_val_acc_pct,"
        "test_acc_pct,seconds,images_per_s,status,notes,run_dir";
    for (const QString& k : keys) {
        out += "," + quote("config." + k).toUtf8();
    }
    out += "\n";
    int row = 0;
    for (const RunRecord& r : session_->runs()) {
        const double best = r.bestValAccuracy();
        const double test = r.testAccuracy();
        // Joined, not QString::arg-chained: a name or note holding "%1" stays as typed.
        QStringList cells{QString::number(r.id),
                          quote(r.name),
                          QString::number(experimentOf(r.id)),
                          quote(QString::fromStdString(r.config.dataset)),
                          quote(QString::fromStdString(r.config.model.name)),
                          quote(r.scaling),
                          quote(depthText(r)),
                          QString::number(r.params),
                          QString::number(r.macs),
                          QString::number(2 * r.macs),
                          best < 0 ? QString() : QString::number(best * 100, 'f', 3),
                          test < 0 ? QString() : QString::number(test * 100, 'f', 3),
                          QString::number(r.wallSeconds(), 'f', 2),
                          QString::number(r.imagesPerSec, 'f', 1),
                          quote(r.status),
                          quote(r.notes),
                          quote(r.runDir)};
        out += cells.join(',').toUtf8();
        const auto& fields = configs[row++];
        for (const QString& k : keys) {
            QString value;
            for (const auto& [fk, fv] : fields) {
                if (fk == k) {
                    value = fv;
                    break;
                }
            }
            out += "," + quote(value).toUtf8();
        }
        out += "\n";
    }
    f.write(out);
    if (!f.commit()) {
        return tr("%1: write failed (%2)").arg(path, f.errorString());
    }
    return {};
}

}  // namespace scalelab::ui
