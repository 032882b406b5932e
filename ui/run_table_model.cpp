#include "ui/run_table_model.h"

#include <QLocale>
#include <QSaveFile>

#include "core/models/analysis.h"
#include "core/models/arch_plan.h"
#include "ui/session.h"

namespace scalelab::ui {

RunTableModel::RunTableModel(Session* session, QObject* parent)
    : QAbstractTableModel(parent), session_(session) {
    connect(session, &Session::runsReset, this, [this] {
        beginResetModel();
        endResetModel();
    });
    connect(session, &Session::runAdded, this, [this](int id) {
        const int row = session_->indexOf(id);
        beginInsertRows({}, row, row);
        endInsertRows();
    });
    connect(session, &Session::runChanged, this, [this](int id) {
        const int row = session_->indexOf(id);
        if (row >= 0) {
            Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1));
        }
    });
}

int RunTableModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : session_->runs().size();
}

int RunTableModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

int RunTableModel::runIdAt(int row) const {
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

QString pct(double v) {
    return v < 0 ? QString("-") : QString("%1 %").arg(v * 100, 0, 'f', 2);
}

double wallSeconds(const RunRecord& r) {
    if (r.hasSummary) {
        return r.summary.wallSeconds;
    }
    double t = 0;
    for (const auto& e : r.history) {
        t += e.seconds;
    }
    return t;
}

}  // namespace

QVariant RunTableModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= session_->runs().size()) {
        return {};
    }
    const RunRecord& r = session_->runs()[index.row()];
    if (role == Qt::UserRole) {
        switch (index.column()) {
            case Name:
                return r.id;
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
                return wallSeconds(r);
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
            case Scaling:
                return r.scaling;
            case Depth:
                return depthText(r);
            case Params:
                return QString::fromStdString(humanCount(double(r.params)));
            case Macs:
                return QString::fromStdString(humanCount(double(r.macs)));
            case BestVal:
                return pct(r.bestValAccuracy());
            case Test:
                return pct(r.testAccuracy());
            case Time:
                return QString("%1 s").arg(wallSeconds(r), 0, 'f', 1);
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
    if (role == Qt::ToolTipRole) {
        if (index.column() == Macs) {
            return tr("%1 multiply-accumulates per image (conv + linear); FLOPs = 2 x MACs = %2")
                .arg(QLocale().toString(qlonglong(r.macs)))
                .arg(QString::fromStdString(humanCount(2.0 * double(r.macs))));
        }
        if (index.column() == Status && !r.warning.isEmpty()) {
            return tr("Warning: %1\n%2").arg(r.warning, r.runDir);
        }
        if (index.column() == Status || index.column() == Name) {
            return r.runDir;
        }
    }
    return {};
}

QVariant RunTableModel::headerData(int section, Qt::Orientation o, int role) const {
    if (o != Qt::Horizontal) {
        return {};
    }
    static const char* names[] = {"Model",    "Scaling (w/d/r or φ)",
                                  "Depth",    "Params",
                                  "MACs",     "Best val acc",
                                  "Test acc", "Time",
                                  "Images/s", "Status"};
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

QString RunTableModel::exportCsv(const QString& path) const {
    QSaveFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Text)) {
        return tr("%1: cannot write (%2)").arg(path, f.errorString());
    }
    auto quote = [](QString s) {
        s.replace('"', "\"\"");
        return '"' + s + '"';
    };
    QByteArray out =
        "id,model,scaling,depth,params,macs,flops,best_val_acc_pct,test_acc_pct,"
        "seconds,images_per_s,status,run_dir\n";
    for (const RunRecord& r : session_->runs()) {
        const double best = r.bestValAccuracy();
        const double test = r.testAccuracy();
        out += QString("%1,%2,%3,%4,%5,%6,%7,%8,%9,%10,%11,%12,%13\n")
                   .arg(r.id)
                   .arg(quote(QString::fromStdString(r.config.model.name)), quote(r.scaling),
                        quote(depthText(r)))
                   .arg(r.params)
                   .arg(r.macs)
                   .arg(2 * r.macs)
                   .arg(best < 0 ? QString() : QString::number(best * 100, 'f', 3))
                   .arg(test < 0 ? QString() : QString::number(test * 100, 'f', 3))
                   .arg(wallSeconds(r), 0, 'f', 2)
                   .arg(r.imagesPerSec, 0, 'f', 1)
                   .arg(quote(r.status), quote(r.runDir))
                   .toUtf8();
    }
    f.write(out);
    if (!f.commit()) {
        return tr("%1: write failed (%2)").arg(path, f.errorString());
    }
    return {};
}

}  // namespace scalelab::ui
