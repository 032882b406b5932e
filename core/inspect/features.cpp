#include "core/inspect/features.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <mutex>

#include "core/data/file_io.h"
#include "core/error.h"
#include "core/models/analysis.h"
#include "core/models/inference_net.h"
#include "core/train/run_loader.h"

#ifdef SCALELAB_CORE_HAS_OPENCV
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#endif

namespace scalelab {

namespace {

// The last loaded run, kept so that clicking through images and stages does not reload it.
std::shared_ptr<LoadedRun> cachedRun(const std::string& dir,
                                     const std::shared_ptr<const Dataset>& dataset) {
    static std::mutex mutex;
    static std::shared_ptr<LoadedRun> last;
    static std::shared_ptr<const Dataset> lastDataset;
    std::lock_guard<std::mutex> lock(mutex);
    if (!last || last->dir != dir || lastDataset != dataset) {
        last = std::make_shared<LoadedRun>(dataset ? loadRun(dir, dataset) : loadRun(dir));
        lastDataset = dataset;
    }
    return last;
}

// uint8 [1,C,H,W] image for the model: from the test split or from a file.
torch::Tensor sourceImage(const FeatureRequest& r, LoadedRun& run, int64_t& label, int64_t& index) {
    const int64_t channels = run.config.model.inChannels;
    if (r.imagePath.empty()) {
        const Dataset& ds = run.data->dataset();
        const int64_t n = ds.testImages.size(0);
        index = r.testIndex;
        if (r.testClass >= 0) {
            const auto hits = (ds.testLabels == r.testClass).nonzero();
            if (hits.size(0) == 0) {
                throw SpecError("no test image of class " + std::to_string(r.testClass));
            }
            index = hits[0][0].item<int64_t>();
        }
        if (index < 0 || index >= n) {
            throw SpecError("test image index " + std::to_string(index) + " is out of range 0.." +
                            std::to_string(n - 1));
        }
        label = ds.testLabels[index].item<int64_t>();
        return ds.testImages.narrow(0, index, 1).clone();
    }
    index = -1;
#ifdef SCALELAB_CORE_HAS_OPENCV
    if (!fileExists(r.imagePath)) {
        throw DataError(r.imagePath + ": file not found");
    }
    cv::Mat m = cv::imread(r.imagePath, cv::IMREAD_ANYCOLOR);
    if (m.empty()) {
        throw DataError(r.imagePath + ": unreadable image (OpenCV cannot decode it)");
    }
    if (channels == 1) {
        if (m.channels() != 1) {
            cv::cvtColor(m, m, m.channels() == 4 ? cv::COLOR_BGRA2GRAY : cv::COLOR_BGR2GRAY);
        }
    } else {
        cv::cvtColor(m, m,
                     m.channels() == 1   ? cv::COLOR_GRAY2RGB
                     : m.channels() == 4 ? cv::COLOR_BGRA2RGB
                                         : cv::COLOR_BGR2RGB);
    }
    // HWC bytes -> [1,C,H,W] (owned copy: the Mat goes away).
    auto t = torch::from_blob(m.data, {m.rows, m.cols, m.channels()}, torch::kUInt8)
                 .permute({2, 0, 1})
                 .unsqueeze(0)
                 .contiguous()
                 .clone();
    label = -1;
    return t;
#else
    (void)channels;
    throw DataError(r.imagePath + ": this build has no OpenCV to read image files");
#endif
}

}  // namespace

void viridis(double t, uint8_t rgb[3]) {
    // 9 control points of matplotlib's viridis, linearly interpolated.
    static const double k[9][3] = {{68, 1, 84},    {71, 44, 122},  {59, 81, 139},
                                   {44, 113, 142}, {33, 144, 141}, {39, 173, 129},
                                   {92, 200, 99},  {170, 220, 50}, {253, 231, 37}};
    t = std::clamp(std::isfinite(t) ? t : 0.0, 0.0, 1.0) * 8.0;
    const int i = std::min(7, int(t));
    const double f = t - i;
    for (int c = 0; c < 3; ++c) {
        rgb[c] = uint8_t(std::lround(k[i][c] + (k[i + 1][c] - k[i][c]) * f));
    }
}

FeatureResult inspectFeatures(const FeatureRequest& r) {
    return inspectFeatures(r, nullptr);
}

FeatureResult inspectFeatures(const FeatureRequest& r, std::shared_ptr<const Dataset> dataset) {
    auto run = cachedRun(r.runDir, dataset);
    ScaleModelImpl& model = *run->model;
    const ModelSpec& spec = model.spec();
    const auto info = model.featureInfo();
    if (r.stage < 0 || r.stage >= int(info.size())) {
        throw SpecError("stage " + std::to_string(r.stage) + " does not exist (0.." +
                        std::to_string(info.size() - 1) + ")");
    }
    FeatureResult out;
    out.classNames = run->data->dataset().classNames;
    for (const PlanStage& s : model.plan().stages) {
        out.stages.push_back({s.name, s.channels, s.side, s.side});
    }
    // The input as the model sees it: resized once, then normalized.
    int64_t label = -1, index = -1;
    const torch::Tensor raw = resizeImagesU8(sourceImage(r, *run, label, index), spec.resolution);
    out.trueLabel = label;
    out.testIndex = index;
    out.inputChannels = int(raw.size(1));
    out.inputHeight = int(raw.size(2));
    out.inputWidth = int(raw.size(3));
    const auto hwc = raw[0].permute({1, 2, 0}).contiguous();
    out.inputPixels.assign(hwc.data_ptr<uint8_t>(), hwc.data_ptr<uint8_t>() + hwc.numel());
    const Normalization& norm = run->data->normalization();
    const int64_t c = raw.size(1);
    const auto mean = torch::tensor(norm.mean).view({1, c, 1, 1});
    const auto std = torch::tensor(norm.std).view({1, c, 1, 1});
    const auto x = ((raw.to(torch::kFloat32) / 255.0 - mean) / std).to(run->device);

    // One forward with the graph kept, for Grad-CAM's gradient at the stage output.
    static std::mutex forwardMutex;  // the cached model is shared; one forward at a time
    std::lock_guard<std::mutex> lock(forwardMutex);
    model.eval();
    torch::AutoGradMode grad(true);
    // The inference path (BatchNorm folded) with its graph kept for the gradient.
    const InferenceNet net(model);
    FeatureOutputs f = net.forwardFeatures(x, /*keepGraph=*/true);
    const torch::Tensor act = f.stages[size_t(r.stage)];
    const auto probs = torch::softmax(f.logits[0].detach(), 0).cpu();
    for (int64_t k = 0; k < probs.size(0); ++k) {
        out.probabilities.push_back(probs[k].item<double>());
    }
    out.predicted = int(probs.argmax().item<int64_t>());
    out.camClass = r.camClass < 0 ? out.predicted : r.camClass;
    if (out.camClass >= int(probs.size(0))) {
        throw SpecError("Grad-CAM class " + std::to_string(out.camClass) + " does not exist (0.." +
                        std::to_string(probs.size(0) - 1) + ")");
    }
    const auto g = torch::autograd::grad({f.logits[0][out.camClass]}, {act}, {}, false)[0];

    const auto a0 = act.detach()[0].to(torch::kCPU, torch::kFloat32).contiguous();  // [C,h,w]
    out.stageName = info[size_t(r.stage)].name;
    out.stageChannels = a0.size(0);
    out.mapHeight = a0.size(1);
    out.mapWidth = a0.size(2);
    for (int64_t ch = 0; ch < a0.size(0); ++ch) {
        const auto m = a0[ch];
        ChannelMap cm;
        cm.channel = int(ch);
        cm.mean = m.mean().item<double>();
        cm.minValue = m.min().item<double>();
        cm.maxValue = m.max().item<double>();
        const double span = cm.maxValue - cm.minValue;
        const auto n =
            span > 1e-12 ? ((m - cm.minValue) / span).contiguous() : torch::zeros_like(m);
        cm.values.assign(n.data_ptr<float>(), n.data_ptr<float>() + n.numel());
        out.channels.push_back(std::move(cm));
    }
    if (r.sortByMean) {
        std::stable_sort(out.channels.begin(), out.channels.end(),
                         [](const ChannelMap& p, const ChannelMap& q) { return p.mean > q.mean; });
    }
    if (r.maxChannels > 0 && int(out.channels.size()) > r.maxChannels) {
        out.channels.resize(size_t(r.maxChannels));
    }

    // Grad-CAM: channel weights = spatial mean of the gradient; ReLU of the weighted sum.
    const auto weights = g.detach()[0].to(torch::kCPU, torch::kFloat32).mean({1, 2});
    auto cam = torch::relu((weights.view({-1, 1, 1}) * a0).sum(0));
    cam = torch::nn::functional::interpolate(
              cam.view({1, 1, cam.size(0), cam.size(1)}),
              torch::nn::functional::InterpolateFuncOptions()
                  .size(std::vector<int64_t>{out.inputHeight, out.inputWidth})
                  .mode(torch::kBilinear)
                  .align_corners(false))
              .view({out.inputHeight, out.inputWidth});
    const double camMax = cam.max().item<double>();
    if (camMax > 0) {
        cam = cam / camMax;
    }
    cam = cam.contiguous();
    out.cam.assign(cam.data_ptr<float>(), cam.data_ptr<float>() + cam.numel());
    out.overlayRgb.resize(size_t(out.inputWidth) * size_t(out.inputHeight) * 3);
    for (size_t p = 0; p < out.cam.size(); ++p) {
        uint8_t col[3];
        viridis(out.cam[p], col);
        for (int k = 0; k < 3; ++k) {
            const uint8_t base =
                out.inputChannels == 1 ? out.inputPixels[p] : out.inputPixels[p * 3 + size_t(k)];
            out.overlayRgb[p * 3 + size_t(k)] = uint8_t(std::lround(0.5 * base + 0.5 * col[k]));
        }
    }
    return out;
}

std::vector<std::string> writeFeaturePngs(const FeatureResult& r, const std::string& dir) {
#ifndef SCALELAB_CORE_HAS_OPENCV
    (void)r;
    throw Error(dir + ": writing PNGs needs OpenCV, which this build lacks");
#else
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) {
        throw Error(dir + ": cannot create the folder (" + ec.message() + ")");
    }
    // Channel grid: square-ish, each map scaled up (nearest) to at least 48 px, 2 px gaps.
    const int n = int(r.channels.size());
    const int cols = std::max(1, int(std::ceil(std::sqrt(double(std::max(n, 1))))));
    const int rows = std::max(1, (n + cols - 1) / cols);
    const int scale = std::max(1, int(std::ceil(48.0 / double(std::max<int64_t>(1, r.mapHeight)))));
    const int th = int(r.mapHeight) * scale, tw = int(r.mapWidth) * scale, gap = 2;
    const int barW = 24;
    cv::Mat grid(rows * (th + gap) + gap, cols * (tw + gap) + gap + barW + 8, CV_8UC3,
                 cv::Scalar(255, 255, 255));
    for (int i = 0; i < n; ++i) {
        const ChannelMap& m = r.channels[size_t(i)];
        const int ox = gap + (i % cols) * (tw + gap), oy = gap + (i / cols) * (th + gap);
        for (int y = 0; y < th; ++y) {
            for (int x = 0; x < tw; ++x) {
                uint8_t c[3];
                viridis(m.values[size_t((y / scale) * r.mapWidth + x / scale)], c);
                grid.at<cv::Vec3b>(oy + y, ox + x) = cv::Vec3b(c[2], c[1], c[0]);
            }
        }
    }
    // Colour bar: 1 at the top, 0 at the bottom (each map normalized to its own range).
    const int bx = grid.cols - barW - 4;
    for (int y = gap; y < grid.rows - gap; ++y) {
        uint8_t c[3];
        viridis(1.0 - double(y - gap) / double(std::max(1, grid.rows - 2 * gap - 1)), c);
        for (int x = 0; x < barW; ++x) {
            grid.at<cv::Vec3b>(y, bx + x) = cv::Vec3b(c[2], c[1], c[0]);
        }
    }
    const int up = std::max(1, 224 / std::max(1, r.inputHeight));
    cv::Mat overlay(r.inputHeight, r.inputWidth, CV_8UC3);
    for (int p = 0; p < r.inputHeight * r.inputWidth; ++p) {
        overlay.at<cv::Vec3b>(p / r.inputWidth, p % r.inputWidth) =
            cv::Vec3b(r.overlayRgb[size_t(p) * 3 + 2], r.overlayRgb[size_t(p) * 3 + 1],
                      r.overlayRgb[size_t(p) * 3]);
    }
    cv::resize(overlay, overlay, cv::Size(), up, up, cv::INTER_NEAREST);
    cv::Mat input(r.inputHeight, r.inputWidth, r.inputChannels == 1 ? CV_8UC1 : CV_8UC3,
                  const_cast<uint8_t*>(r.inputPixels.data()));
    cv::Mat inputOut;
    if (r.inputChannels == 3) {
        cv::cvtColor(input, inputOut, cv::COLOR_RGB2BGR);
    } else {
        inputOut = input.clone();
    }
    cv::resize(inputOut, inputOut, cv::Size(), up, up, cv::INTER_NEAREST);
    const std::vector<std::pair<std::string, cv::Mat>> files = {
        {joinPath(dir, "grid.png"), grid},
        {joinPath(dir, "overlay.png"), overlay},
        {joinPath(dir, "input.png"), inputOut}};
    std::vector<std::string> paths;
    for (const auto& [path, img] : files) {
        if (!cv::imwrite(path, img)) {
            throw Error(path + ": could not be written");
        }
        paths.push_back(path);
    }
    return paths;
#endif
}

}  // namespace scalelab
