#pragma once
// The runs of a session as a table (the Compare tab), sortable through a QSortFilterProxyModel:
// Qt::UserRole carries the raw number of each cell.

#include <QAbstractTableModel>

namespace scalelab::ui {

class Session;

class RunTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column {
        Name,
        Scaling,
        Depth,
        Params,
        Macs,
        BestVal,
        Test,
        Time,
        ImagesPerSec,
        Status,
        ColumnCount
    };
    explicit RunTableModel(Session* session, QObject* parent = nullptr);

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    QVariant headerData(int section, Qt::Orientation o, int role) const override;

    int runIdAt(int row) const;
    // The table as CSV (header + one line per run, raw numbers, accuracies in %). Returns "" on
    // success, else a message naming the file and the problem.
    QString exportCsv(const QString& path) const;

private:
    Session* session_;
};

}  // namespace scalelab::ui
