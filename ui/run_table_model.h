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
        Name,     // editable: renames the run (session and run folder)
        Dataset,  // what it was trained on
        Scaling,
        Depth,
        Params,
        Macs,
        BestVal,
        Test,
        Time,
        ImagesPerSec,
        Status,
        Notes,  // editable: the user's notes and tags
        ColumnCount
    };
    explicit RunTableModel(Session* session, QObject* parent = nullptr);

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    QVariant headerData(int section, Qt::Orientation o, int role) const override;
    Qt::ItemFlags flags(const QModelIndex& index) const override;
    bool setData(const QModelIndex& index, const QVariant& value, int role) override;

    int runIdAt(int row) const;
    // The table as CSV (header + one line per run, raw numbers, accuracies in %), followed by
    // every hyperparameter of each run's config (config.json's fields; the model's as model.*).
    // Returns "" on success, else a message naming the file and the problem.
    QString exportCsv(const QString& path) const;

Q_SIGNALS:
    void labelProblem(const QString& message);  // a rename/notes edit could not be written

private:
    Session* session_;
};

}  // namespace scalelab::ui
