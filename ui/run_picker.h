#pragma once
// The "trained run" pickers of the Pruning and Feature-map tabs.

class QComboBox;

namespace scalelab::ui {

class Session;

// Fills `combo` with the session's finished runs that have a weights.pt (item data: run id),
// keeping the current choice; leaves the combo alone when that list has not changed, so progress
// updates of a training run do not disturb it.
void fillFinishedRuns(QComboBox* combo, const Session& session);

}  // namespace scalelab::ui
