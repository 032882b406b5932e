#pragma once
// How a dataset is split and augmented for training. Torch-free: the GUI sets these.

#include <cstdint>

namespace scalelab {

struct SplitOptions {
    double valFraction = 0.1;   // share of the train images held out for validation, [0, 0.9]
    int64_t trainSubset = 0;    // keep only this many training images after the split; 0 = all
    int64_t testSubset = 0;     // keep only this many test images (first ones); 0 = all
    uint64_t seed = 42;         // seed of the split's shuffle: the same seed, the same split
    bool valFromSubset = true;  // with a train subset, validation is valFraction of the subset's
                                // size (held out beside it), not of the whole training set;
                                // false: ScaleLab 0.1's split (runs recorded before it)
};

struct AugmentOptions {
    int cropPadding = 0;          // px of zero padding before a random crop back to size; 0 = off
    bool horizontalFlip = false;  // random left-right flip (off by default: wrong for digits)
};

}  // namespace scalelab
