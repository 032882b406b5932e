#include "ui/run_picker.h"

#include <QComboBox>
#include <QDir>
#include <QFileInfo>

#include "ui/session.h"

namespace scalelab::ui {

void fillFinishedRuns(QComboBox* combo, const Session& session) {
    QList<QPair<int, QString>> items;
    for (const RunRecord& r : session.runs()) {
        if (r.finished() && QFileInfo::exists(QDir(r.runDir).filePath("weights.pt"))) {
            items.append({r.id, QString("%1 (%2)").arg(r.name, r.status)});
        }
    }
    bool same = items.size() == combo->count();
    for (int i = 0; same && i < items.size(); ++i) {
        same =
            combo->itemData(i).toInt() == items[i].first && combo->itemText(i) == items[i].second;
    }
    if (same) {
        return;
    }
    const int current = combo->currentData().toInt();
    combo->clear();
    for (const auto& [id, text] : items) {
        combo->addItem(text, id);
    }
    const int i = combo->findData(current);
    if (i >= 0) {
        combo->setCurrentIndex(i);
    }
}

}  // namespace scalelab::ui
