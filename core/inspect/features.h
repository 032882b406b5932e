#pragma once
// What a trained model sees: one image through a run's model, the activations of a chosen stage
// (one normalized map per channel), the class probabilities and a Grad-CAM heat map. Torch-free
// for the GUI and the CLI.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace scalelab {

struct FeatureRequest {
    std::string runDir;      // a trained run (or a saved pruned model)
    int64_t testIndex = 0;   // test image to show (when imagePath is empty and testClass < 0)
    int testClass = -1;      // >= 0: show the first test image of this class instead
    std::string imagePath;   // an image file (any format OpenCV reads) instead
    int stage = 1;           // 0 = stem, 1.. = stages (as the analysis numbers them)
    int camClass = -1;       // Grad-CAM target class; -1 = the predicted class
    bool sortByMean = true;  // channels by mean activation, highest first; else by index
    int maxChannels = 0;     // keep only this many channels (after sorting); 0 = all
};

struct ChannelMap {
    int channel = 0;      // index in the stage output
    double mean = 0;      // mean activation (raw units)
    double minValue = 0;  // raw range the map was normalized from
    double maxValue = 0;
    std::vector<float> values;  // row-major, normalized to [0, 1]
};

struct StageInfo {
    std::string name;  // "stem", "stage 1", ...
    int64_t channels = 0;
    int64_t height = 0;  // output side for this run's input resolution, px
    int64_t width = 0;
};

struct FeatureResult {
    std::vector<std::string> classNames;
    std::vector<StageInfo> stages;  // every stage, for pickers
    int64_t trueLabel = -1;         // the test image's label (-1 for a file)
    int64_t testIndex = -1;         // which test image was shown (-1 for a file)
    int predicted = 0;
    std::vector<double> probabilities;  // softmax, per class
    int inputWidth = 0, inputHeight = 0, inputChannels = 0;
    std::vector<uint8_t> inputPixels;  // the model's input with normalization undone (HWC)
    std::string stageName;
    int64_t stageChannels = 0;  // channels of the stage (all, before maxChannels)
    int64_t mapHeight = 0, mapWidth = 0;
    std::vector<ChannelMap> channels;
    int camClass = 0;
    std::vector<float> cam;           // inputHeight x inputWidth, [0, 1]
    std::vector<uint8_t> overlayRgb;  // input blended with the colour-mapped CAM (HWC, RGB)
};

// Runs the request. Throws DataError / SpecError naming the problem (bad index, unreadable
// image, missing run files, stage out of range).
FeatureResult inspectFeatures(const FeatureRequest& request);
// The same on a dataset object instead of the run's dataset spec (tests on generated data).
struct Dataset;
FeatureResult inspectFeatures(const FeatureRequest& request,
                              std::shared_ptr<const Dataset> dataset);

// The viridis colour map: t in [0, 1] -> RGB.
void viridis(double t, uint8_t rgb[3]);

// Writes grid.png (channel maps, colour-mapped, with a colour bar), overlay.png (Grad-CAM) and
// input.png into dir; returns their paths. Needs OpenCV (throws Error in a build without it).
std::vector<std::string> writeFeaturePngs(const FeatureResult& result, const std::string& dir);

}  // namespace scalelab
