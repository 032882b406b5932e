#pragma once
// Why a scaled model does not grow as the formula says. Scaling predicts MACs x d·w²·r² (compound:
// (α·β²·γ²)^φ); the exact count differs because the plan rounds channels, repeats and map sides,
// and because not every layer scales as w²·d·r². scalingGap splits exact / predicted into four
// factors whose product is that ratio (to the rounding of doubles). Torch-free: the designer
// calls it on every change and the scaling chart on every hover. Works for every registered
// family: it reads only the generic plan (core/models/arch_plan.h).
//
// Definitions. B = the base spec, X = applyScaling(B, scaling), and the relative multipliers
// w = X.width / B.width, d = X.depth / B.depth, r = X.resolutionCoef / B.resolutionCoef;
// predicted = d·w²·r². Every layer L of X's plan that has MACs (conv, depthwise conv,
// squeeze-excitation, linear), with m_L its exact MACs, gets three correction factors, each of
// which undoes one kind of rounding:
//   C_L (channels)  the product, over L's two channel counts (conv: out and in/groups; SE: its
//                   channels and squeeze width; linear: out and in), of ideal / built. ideal =
//                   the count of the same layer in "the twin" (X planned at B's width: the same
//                   layers and blocks, unscaled channels) × w. A count that does not follow the
//                   width -- the same in the twin and in "the probe" (X planned at 2 × B's width;
//                   ½ × when w < 1) -- is taken as built: image channels, classes, a depthwise
//                   conv's in/groups = 1, MobileNetV2's 1280-channel head below w = 1.
//   R_L (repeats)   for a layer in stage s (1..N): n_s·d / N_s, with n_s the blocks of stage s
//                   in B and N_s = the blocks in X (ceil of the table's repeats × X.depth). 1 for
//                   the stem, the head and the classifier.
//   S_L (map size)  for conv layers: (b_L·r / h_L)², with h_L the output side in X and b_L the
//                   side that the same stride walk (ceil at every stride 2) gives from B's input
//                   side. It undoes round(r·R) (and a resolution multiple) and the integer sides
//                   of strided convs and pools; B's own rounding stays, so S = 1 when r = 1.
//                   1 for SE and linear layers (no map).
// With M_ideal = Σ m·C·R·S, M_c = Σ m·R·S (channels rounded), M_cr = Σ m·S (repeats rounded
// too) and M_exact = Σ m (map sides rounded too: X's exact MACs), the parts are a sequential
// substitution, channels first, then repeats, then map size:
//   channels = M_c / M_ideal, repeats = M_cr / M_c, mapSize = M_exact / M_cr,
//   structure = M_ideal / (M_B · predicted): what is left with nothing rounded -- layers that do
//   not scale as w²·d·r² (the 3-channel stem input, depthwise convs and SE layers growing as w,
//   the classifier not growing with r, stem and head not repeating with d, first blocks that
//   differ from the repeated ones).
// Then gap = exact / predicted = channels · repeats · mapSize · structure. At r = w = d = 1 with
// no resolution multiple, X = B and every part is 1. The split depends on the order of the
// substitution (as every sequential split does); this order is fixed.

#include <cstdint>

#include "core/models/model_spec.h"

namespace scalelab {

struct ScalingGap {
    double predicted = 1;    // d·w²·r²: the MACs growth the formula predicts
    double exact = 1;        // MACs(X) / MACs(B): the growth of the planned model
    double channels = 1;     // channel rounding (makeDivisible, a family's integer widths)
    double repeats = 1;      // repeats rounding (ceil of n·d)
    double mapSize = 1;      // input side round(r·R) and the integer sides of strided layers
    double structure = 1;    // layers that do not scale as w²·d·r²
    int64_t baseMacs = 0;    // M_B
    int64_t scaledMacs = 0;  // M_exact
    double idealMacs = 0;    // M_ideal: nothing rounded

    double gap() const { return exact / predicted; }  // = channels·repeats·mapSize·structure
};

// The split of `base` scaled by `scaling` (see above). Throws SpecError when either spec is
// impossible (as applyScaling and planModel do).
ScalingGap scalingGap(const ModelSpec& base, const Scaling& scaling);

}  // namespace scalelab
