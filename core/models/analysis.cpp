#include "core/models/analysis.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>

#include "core/models/arch_plan.h"

namespace scalelab {

namespace {

// Accumulates rows while walking a plan, tracking the current feature-map size.
class Walker {
public:
    explicit Walker(ModelAnalysis& a, int side) : a_(a), h_(side), w_(side) {}

    void setStage(const std::string& stage) { stage_ = stage; }
    int64_t side() const { return h_; }

    // A conv with "same" padding (k/2); groups == in for depthwise.
    void conv(const std::string& name, int64_t in, int64_t out, int k, int stride, int64_t groups,
              bool bias) {
        h_ = (h_ - 1) / stride + 1;
        w_ = (w_ - 1) / stride + 1;
        LayerRow r = row(name, convType(k, stride, groups, in, bias), out);
        r.params = out * (in / groups) * k * k + (bias ? out : 0);
        r.macs = out * (in / groups) * k * k * h_ * w_;
        a_.activationValuesPerImage += out * h_ * w_;
        push(r);
    }
    void bn(const std::string& name, int64_t c, bool activation) {
        LayerRow r = row(name, activation ? "BatchNorm2d + act" : "BatchNorm2d", c);
        r.params = 2 * c;
        a_.activationValuesPerImage += c * h_ * w_ * (activation ? 2 : 1);
        push(r);
    }
    void pool(const std::string& name, const std::string& type, int64_t c, int stride) {
        h_ = (h_ - 1) / stride + 1;
        w_ = (w_ - 1) / stride + 1;
        LayerRow r = row(name, type, c);
        a_.activationValuesPerImage += c * h_ * w_;
        push(r);
    }
    // Squeeze-excitation on a c-channel map: global pool, 1x1 fc1 (c->sq), act, fc2 (sq->c),
    // sigmoid, scale.
    void squeezeExcite(const std::string& name, int64_t c, int64_t sq) {
        LayerRow f1 = row(name + ".fc1", "SE fc1 (1x1 conv)", sq);
        f1.height = f1.width = 1;
        f1.params = c * sq + sq;
        f1.macs = c * sq;
        LayerRow f2 = row(name + ".fc2", "SE fc2 (1x1 conv)", c);
        f2.height = f2.width = 1;
        f2.params = sq * c + c;
        f2.macs = sq * c;
        push(f1);
        push(f2);
        a_.activationValuesPerImage += c * h_ * w_ + 2 * sq + 2 * c;  // scaled map + fc outs
    }
    void globalPool(const std::string& name, int64_t c) {
        h_ = w_ = 1;
        push(row(name, "AdaptiveAvgPool2d", c));
        a_.activationValuesPerImage += c;
    }
    void linear(const std::string& name, int64_t in, int64_t out) {
        LayerRow r = row(name, "Linear " + std::to_string(in) + "->" + std::to_string(out), out);
        r.height = r.width = 1;
        r.params = in * out + out;
        r.macs = in * out;
        a_.activationValuesPerImage += out;
        push(r);
    }
    void addActivation(int64_t values) { a_.activationValuesPerImage += values; }

private:
    static std::string convType(int k, int stride, int64_t groups, int64_t in, bool bias) {
        std::string t = "Conv2d " + std::to_string(k) + "x" + std::to_string(k);
        if (stride != 1) {
            t += "/" + std::to_string(stride);
        }
        if (groups > 1 && groups == in) {
            t += " depthwise";
        }
        if (bias) {
            t += " +bias";
        }
        return t;
    }
    LayerRow row(const std::string& name, const std::string& type, int64_t c) const {
        LayerRow r;
        r.name = name;
        r.type = type;
        r.stage = stage_;
        r.channels = c;
        r.height = h_;
        r.width = w_;
        return r;
    }
    void push(const LayerRow& r) { a_.layers.push_back(r); }

    ModelAnalysis& a_;
    std::string stage_;
    int64_t h_, w_;
};

void analyzeEfficientNet(const ArchPlan& plan, ModelAnalysis& a) {
    Walker w(a, plan.spec.resolution);
    w.setStage("stem");
    w.conv("features.0.0", plan.spec.inChannels, plan.stemOut, 3, 2, 1, false);
    w.bn("features.0.1", plan.stemOut, true);
    for (const StagePlan& st : plan.stages) {
        w.setStage(st.name);
        for (size_t b = 0; b < st.mbconv.size(); ++b) {
            const MBConvPlan& m = st.mbconv[b];
            const std::string p = st.key + "." + std::to_string(b) + ".block.";
            int i = 0;
            if (m.hasExpand) {
                w.conv(p + "0.0", m.in, m.expanded, 1, 1, 1, false);
                w.bn(p + "0.1", m.expanded, true);
                i = 1;
            }
            w.conv(p + std::to_string(i) + ".0", m.expanded, m.expanded, m.kernel, m.stride,
                   m.expanded, false);
            w.bn(p + std::to_string(i) + ".1", m.expanded, true);
            w.squeezeExcite(p + std::to_string(i + 1), m.expanded, m.squeeze);
            w.conv(p + std::to_string(i + 2) + ".0", m.expanded, m.out, 1, 1, 1, false);
            w.bn(p + std::to_string(i + 2) + ".1", m.out, false);
            if (m.residual) {
                w.addActivation(m.out * w.side() * w.side());
            }
        }
    }
    const std::string headKey = "features." + std::to_string(plan.stages.size() + 1);
    w.setStage("head");
    w.conv(headKey + ".0", plan.stages.back().outChannels, plan.headOut, 1, 1, 1, false);
    w.bn(headKey + ".1", plan.headOut, true);
    w.setStage("classifier");
    w.globalPool("avgpool", plan.headOut);
    w.linear("classifier.1", plan.featureDim, plan.spec.numClasses);
}

void analyzeResNet(const ArchPlan& plan, ModelAnalysis& a) {
    Walker w(a, plan.spec.resolution);
    w.setStage("stem");
    w.conv("conv1", plan.spec.inChannels, plan.stemOut, plan.stemKernel, plan.stemStride, 1, false);
    w.bn("bn1", plan.stemOut, true);
    if (plan.stemPool) {
        w.pool("maxpool", "MaxPool2d 3x3/2", plan.stemOut, 2);
    }
    const bool bottleneck = plan.spec.block == BlockType::Bottleneck;
    for (const StagePlan& st : plan.stages) {
        w.setStage(st.name);
        for (size_t b = 0; b < st.resnet.size(); ++b) {
            const ResBlockPlan& r = st.resnet[b];
            const std::string p = st.key + "." + std::to_string(b) + ".";
            const int64_t inSide = w.side();
            if (bottleneck) {
                w.conv(p + "conv1", r.in, r.mid, 1, 1, 1, false);
                w.bn(p + "bn1", r.mid, true);
                w.conv(p + "conv2", r.mid, r.mid2, 3, r.stride, 1, false);
                w.bn(p + "bn2", r.mid2, true);
                w.conv(p + "conv3", r.mid2, r.out, 1, 1, 1, false);
                w.bn(p + "bn3", r.out, false);
            } else {
                w.conv(p + "conv1", r.in, r.mid, 3, r.stride, 1, false);
                w.bn(p + "bn1", r.mid, true);
                w.conv(p + "conv2", r.mid, r.out, 3, 1, 1, false);
                w.bn(p + "bn2", r.out, false);
            }
            if (r.downsample && plan.spec.shortcut == Shortcut::Projection) {
                // Shortcut conv on the block input: its output size equals the block's.
                Walker sc(a, int(inSide));
                sc.setStage(st.name);
                sc.conv(p + "downsample.0", r.in, r.out, 1, r.stride, 1, false);
                sc.bn(p + "downsample.1", r.out, false);
            }
            w.addActivation(2 * r.out * w.side() * w.side());  // add + ReLU
        }
    }
    w.setStage("classifier");
    w.globalPool("avgpool", plan.featureDim);
    w.linear("fc", plan.featureDim, plan.spec.numClasses);
}

}  // namespace

double ModelAnalysis::trainingMemoryBytes(int64_t batchSize) const {
    return double(activationValuesPerImage) * double(batchSize) * 4.0 + 4.0 * double(params) * 4.0;
}

ModelAnalysis analyzeModel(const ModelSpec& spec) {
    return analyzePlan(planModel(spec));
}

ModelAnalysis analyzePlan(const ArchPlan& plan) {
    const auto t0 = std::chrono::steady_clock::now();
    const ModelSpec& spec = plan.spec;
    ModelAnalysis a;
    a.spec = spec;
    a.layers.reserve(1024);
    if (spec.family == Family::EfficientNet) {
        analyzeEfficientNet(plan, a);
    } else {
        analyzeResNet(plan, a);
    }
    // Stage totals, in walk order.
    auto stageOf = [&](const std::string& name) -> StageCost& {
        for (StageCost& s : a.stages) {
            if (s.name == name) {
                return s;
            }
        }
        a.stages.push_back({});
        a.stages.back().name = name;
        return a.stages.back();
    };
    for (const LayerRow& r : a.layers) {
        StageCost& s = stageOf(r.stage);
        s.params += r.params;
        s.macs += r.macs;
        if (r.type.rfind("SE ", 0) != 0) {  // SE rows are 1x1; the stage output is the map
            s.outChannels = r.channels;
            s.outHeight = r.height;
            s.outWidth = r.width;
        }
        a.params += r.params;
        a.macs += r.macs;
    }
    for (const StagePlan& st : plan.stages) {
        StageCost& s = stageOf(st.name);
        s.repeats = st.repeats;
        s.stride = st.stride;
        s.outChannels = st.outChannels;
    }
    stageOf("stem").stride = plan.stemStride * (plan.stemPool ? 2 : 1);
    a.analysisSeconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return a;
}

std::string humanCount(double v) {
    char buf[32];
    const double a = std::abs(v);
    if (a >= 1e9) {
        std::snprintf(buf, sizeof buf, "%.2f G", v / 1e9);
    } else if (a >= 1e6) {
        std::snprintf(buf, sizeof buf, "%.2f M", v / 1e6);
    } else if (a >= 1e3) {
        std::snprintf(buf, sizeof buf, "%.1f k", v / 1e3);
    } else {
        std::snprintf(buf, sizeof buf, "%.0f", v);
    }
    return buf;
}

std::string analysisToJson(const ModelAnalysis& a, bool withLayers, int64_t batchSize) {
    const ModelSpec& s = a.spec;
    nlohmann::ordered_json j;
    j["name"] = s.name;
    j["family"] = s.family == Family::EfficientNet ? "efficientnet" : "resnet";
    j["params"] = a.params;
    j["macs"] = a.macs;
    j["flops"] = a.flops();
    j["flops_note"] = "FLOPs = 2 x MACs; MACs count conv and linear multiply-accumulates";
    j["resolution"] = s.resolution;
    j["in_channels"] = s.inChannels;
    j["num_classes"] = s.numClasses;
    if (s.family == Family::EfficientNet) {
        j["width"] = s.width;
        j["depth"] = s.depth;
        j["resolution_coef"] = s.resolutionCoef;
        j["base_resolution"] = s.baseResolution;
        j["dropout"] = s.dropout;
    } else {
        j["blocks"] = s.blocks;
        j["block"] = s.block == BlockType::Basic ? "basic" : "bottleneck";
        j["base_width"] = s.baseWidth;
        j["stem"] = effectiveStem(s) == StemType::ImageNet ? "imagenet" : "small";
        j["shortcut"] = s.shortcut == Shortcut::Projection ? "projection" : "zero-pad";
    }
    nlohmann::ordered_json stages = nlohmann::ordered_json::array();
    for (const StageCost& st : a.stages) {
        nlohmann::ordered_json o;
        o["name"] = st.name;
        o["out_channels"] = st.outChannels;
        o["repeats"] = st.repeats;
        o["stride"] = st.stride;
        o["out_size"] = {st.outHeight, st.outWidth};
        o["params"] = st.params;
        o["macs"] = st.macs;
        stages.push_back(o);
    }
    j["stages"] = stages;
    j["activation_values_per_image"] = a.activationValuesPerImage;
    j["training_memory_estimate_bytes"] = a.trainingMemoryBytes(batchSize);
    j["training_memory_batch_size"] = batchSize;
    j["analysis_seconds"] = a.analysisSeconds;
    if (withLayers) {
        nlohmann::ordered_json layers = nlohmann::ordered_json::array();
        for (const LayerRow& r : a.layers) {
            layers.push_back({{"name", r.name},
                              {"type", r.type},
                              {"stage", r.stage},
                              {"out_shape", {r.channels, r.height, r.width}},
                              {"params", r.params},
                              {"macs", r.macs}});
        }
        j["layers"] = layers;
    }
    return j.dump(2);
}

}  // namespace scalelab
