#pragma once
// The time a run has left, from what it measured so far. Torch-free (tests drive it with
// made-up timings).
//
// Training batches: an exponential moving average of the seconds per batch, over about the last
// `window` batches (the plain mean while fewer have run), so one slow batch (a page fault, a
// checkpoint write by another process) moves the estimate by at most 1/window of its excess.
// Epoch ends (precise BatchNorm, validation, checkpoint and record writes): the measured
// seconds of the last one; before the first has run, an estimate of one forward pass over the
// evaluation images at a third of a training step's cost per batch. The final test pass is
// estimated the same way.

#include <cstdint>

namespace scalelab {

class EtaEstimator {
public:
    // window: batches the moving average spans (>= 1); evalBatchesPerEpoch: batches of the
    // validation pass at each epoch's end; testBatches: batches of the final test pass.
    EtaEstimator(int64_t window, int64_t evalBatchesPerEpoch, int64_t testBatches);

    void addBatch(double seconds);     // one training batch (forward, backward, step)
    void addEpochEnd(double seconds);  // the work after an epoch's last batch

    // Seconds left with `batchesLeft` training batches and `epochEndsLeft` epoch ends to go,
    // plus the final test pass. 0 before any batch was measured (unknown).
    double secondsLeft(int64_t batchesLeft, int64_t epochEndsLeft) const;
    bool known() const { return batches_ > 0; }
    double secondsPerBatch() const { return batchSec_; }

private:
    int64_t window_;
    int64_t evalBatches_;
    int64_t testBatches_;
    int64_t batches_ = 0;
    double batchSec_ = 0;
    double epochEndSec_ = -1;  // -1: none measured yet
};

}  // namespace scalelab
