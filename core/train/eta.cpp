#include "core/train/eta.h"

#include <algorithm>

namespace scalelab {

namespace {
constexpr double kForwardShare = 1.0 / 3.0;  // an eval batch costs about a third of a train step
}

EtaEstimator::EtaEstimator(int64_t window, int64_t evalBatchesPerEpoch, int64_t testBatches)
    : window_(std::max<int64_t>(1, window)),
      evalBatches_(std::max<int64_t>(0, evalBatchesPerEpoch)),
      testBatches_(std::max<int64_t>(0, testBatches)) {}

void EtaEstimator::addBatch(double seconds) {
    if (!(seconds >= 0)) {
        return;
    }
    ++batches_;
    const double weight = 1.0 / double(std::min(batches_, window_));
    batchSec_ += weight * (seconds - batchSec_);
}

void EtaEstimator::addEpochEnd(double seconds) {
    if (seconds >= 0) {
        epochEndSec_ = seconds;
    }
}

double EtaEstimator::secondsLeft(int64_t batchesLeft, int64_t epochEndsLeft) const {
    if (!known()) {
        return 0;
    }
    const double epochEnd =
        epochEndSec_ >= 0 ? epochEndSec_ : double(evalBatches_) * batchSec_ * kForwardShare;
    const double test = double(testBatches_) * batchSec_ * kForwardShare;
    return double(std::max<int64_t>(0, batchesLeft)) * batchSec_ +
           double(std::max<int64_t>(0, epochEndsLeft)) * epochEnd + test;
}

}  // namespace scalelab
