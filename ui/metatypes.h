#pragma once
// Core value types that travel through queued signals between the training worker and the GUI.

#include <QMetaType>

#include "core/models/model_spec.h"
#include "core/train/train_api.h"

Q_DECLARE_METATYPE(scalelab::ModelSpec)
Q_DECLARE_METATYPE(scalelab::TrainConfig)
Q_DECLARE_METATYPE(scalelab::TrainProgress)
Q_DECLARE_METATYPE(scalelab::TrainSummary)

namespace scalelab::ui {
// Registers the types above once per process (idempotent).
void registerMetaTypes();
}  // namespace scalelab::ui
