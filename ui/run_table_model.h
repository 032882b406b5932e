#pragma once
// The runs of a session as a table (the Compare tab), sortable through a QSortFilterProxyModel:
// Qt::UserRole carries the raw number of each cell. With seed grouping on, runs that repeat one
// experiment with other seeds share a row showing mean ± std and the seed count.

#include <QAbstractTableModel>
#include <vector>

#include "ui/run_groups.h"

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

    int runIdAt(int row) const;  // grouped: the group's first run
    // Every run a row stands for (one run, or a seed group's runs).
    QList<int> runIdsAt(int row) const;
    // Seed groups (ui/run_groups.h): one row per experiment, metrics as mean ± std over its
    // seeds; off = one row per run.
    void setGroupSeeds(bool grouped);
    bool groupSeeds() const { return grouped_; }
    // The table as CSV (header + one line per run, raw numbers, accuracies in %), followed by
    // every hyperparameter of each run's config (config.json's fields; the model's as model.*).
    // Returns "" on success, else a message naming the file and the problem.
    QString exportCsv(const QString& path) const;

Q_SIGNALS:
    void labelProblem(const QString& message);  // a rename/notes edit could not be written

private:
    void regroup();
    QVariant groupData(const RunGroup& group, const RunRecord& first, int column, int role) const;
    Session* session_;
    bool grouped_ = false;
    std::vector<RunGroup> groups_;  // grouped mode: the rows
};

}  // namespace scalelab::ui
