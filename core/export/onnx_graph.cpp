// The ONNX graph of a model: its layer plan walked in forward order (arch_plan.h says how data
// flows), every layer emitted as ONNX nodes with the model's own tensors as initializers under
// their state-dict names -- each BatchNorm that follows a convolution folded into it, as the
// inference path runs it (core/models/inference_net.h). No family is named here: a new family
// whose plan uses the existing layer kinds exports without a change.
//
// OpenCV 4.6's importer (the independent runtime of tests/cli/test_onnx_export.py) mishandles
// some common patterns; the graph avoids them (measured in docs/BENCHMARKS.md, "ONNX export"):
// - Clip with min/max inputs (opset >= 11) is refused: ReLU6 is written 6 - Relu(6 - Relu(x)),
//   within 2.4e-7 of min(max(x, 0), 6) whatever x is;
// - Mul of [N,C,H,W] by [N,C,1,1] fails for N > 1 (a shape assertion): squeeze-excitation's gate
//   is resized (nearest, exact) to H x W before the Mul;
// - Conv without kernel_shape is refused: every Conv carries it;
// - Identity nodes reading an initializer are refused (torch.onnx emits them when it merges equal
//   tensors, which freshly initialised weights are full of): none are emitted, every tensor is
//   its own initializer.

#include "core/export/onnx_graph.h"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>

#include <climits>
#include <map>
#include <set>

#include "core/error.h"
#include "core/export/onnx_api.h"
#include "core/models/arch_plan.h"
#include "core/models/inference_net.h"

namespace scalelab {

namespace {

namespace ox = ONNX_NAMESPACE;

constexpr int64_t kIrVersion = 7;  // ONNX 1.8's IR, the one opset 13 came with

std::string shapeText(const std::vector<int64_t>& dims) {
    std::string s = "[";
    for (size_t i = 0; i < dims.size(); ++i) {
        s += (i ? "," : "") + std::to_string(dims[i]);
    }
    return s + "]";
}

void attr(ox::NodeProto& n, const char* name, int64_t v) {
    ox::AttributeProto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(ox::AttributeProto::INT);
    a->set_i(v);
}

void attr(ox::NodeProto& n, const char* name, float v) {
    ox::AttributeProto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(ox::AttributeProto::FLOAT);
    a->set_f(v);
}

void attr(ox::NodeProto& n, const char* name, const std::vector<int64_t>& v) {
    ox::AttributeProto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(ox::AttributeProto::INTS);
    for (int64_t x : v) {
        a->add_ints(x);
    }
}

void attr(ox::NodeProto& n, const char* name, const std::string& v) {
    ox::AttributeProto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(ox::AttributeProto::STRING);
    a->set_s(v);
}

void valueInfo(ox::ValueInfoProto& v, const std::string& name, const std::vector<int64_t>& dims) {
    v.set_name(name);
    ox::TypeProto_Tensor* t = v.mutable_type()->mutable_tensor_type();
    t->set_elem_type(ox::TensorProto::FLOAT);
    ox::TensorShapeProto* shape = t->mutable_shape();
    shape->add_dim()->set_dim_param("batch");
    for (int64_t d : dims) {
        shape->add_dim()->set_dim_value(d);
    }
}

// A tensor flowing through the graph: its name, channels and map side (rank 4), or features
// (rank 2, after a Linear's Flatten).
struct Flow {
    std::string name;
    int64_t channels = 0;
    int64_t side = 0;
    bool flat = false;
};

class GraphWriter {
public:
    GraphWriter(ox::GraphProto& graph, const ScaleModelImpl& model) : graph_(graph) {
        // The inference path's weights: each BatchNorm after a convolution folded into it.
        FoldedWeights folded = foldBatchNorm(model);
        tensors_ = std::move(folded.tensors);
        foldedNorms_ = std::move(folded.foldedNorms);
        for (const auto& item : model.named_modules()) {
            if (const auto* bn = item.value()->as<torch::nn::BatchNorm2d>()) {
                bnEps_[item.key()] = float(bn->options.eps());
            }
        }
    }

    int64_t weights() const { return weights_; }
    int64_t nodes() const { return graph_.node_size(); }

    // A tensor name not used yet: `base`, else base_2, base_3, ...
    std::string fresh(const std::string& base) {
        int& n = used_[base];
        ++n;
        return n == 1 ? base : base + "_" + std::to_string(n);
    }

    // A node writing one new tensor named after `base`; returns that name.
    std::string node(const std::string& op, const std::vector<std::string>& inputs,
                     const std::string& base, ox::NodeProto** out = nullptr) {
        ox::NodeProto* n = graph_.add_node();
        n->set_op_type(op);
        for (const std::string& in : inputs) {
            n->add_input(in);
        }
        const std::string name = fresh(base);
        n->add_output(name);
        n->set_name(name);
        if (out) {
            *out = n;
        }
        return name;
    }

    bool has(const std::string& key) const { return tensors_.count(key) > 0; }
    bool folded(const std::string& bnPath) const { return foldedNorms_.count(bnPath) > 0; }

    // The model's tensor `key` as an initializer of the name `key` (added once), checked against
    // the shape the plan gives it.
    const std::string& weight(const std::string& key, const std::vector<int64_t>& expected,
                              const std::string& layer) {
        const auto it = tensors_.find(key);
        if (it == tensors_.end()) {
            throw Error("ONNX export: layer " + layer + ": the model has no tensor '" + key + "'");
        }
        const std::vector<int64_t> dims = it->second.sizes().vec();
        if (dims != expected) {
            throw Error("ONNX export: layer " + layer + ": " + key + " is " + shapeText(dims) +
                        " but the model's plan says " + shapeText(expected));
        }
        if (added_.insert(key).second) {
            const torch::Tensor t = it->second.detach().to(torch::kCPU, torch::kFloat).contiguous();
            ox::TensorProto* p = graph_.add_initializer();
            p->set_name(key);
            p->set_data_type(ox::TensorProto::FLOAT);
            for (int64_t d : dims) {
                p->add_dims(d);
            }
            // raw_data is little-endian, as the CPUs LibTorch runs on store floats.
            p->set_raw_data(std::string(static_cast<const char*>(t.data_ptr()), t.nbytes()));
            weights_ += t.numel();
        }
        return it->first;
    }

    // A float constant (added once under its name).
    std::string constant(const std::string& name, const std::vector<int64_t>& dims,
                         const std::vector<float>& values) {
        if (added_.insert(name).second) {
            ox::TensorProto* p = graph_.add_initializer();
            p->set_name(name);
            p->set_data_type(ox::TensorProto::FLOAT);
            for (int64_t d : dims) {
                p->add_dims(d);
            }
            for (float v : values) {
                p->add_float_data(v);
            }
        }
        return name;
    }

    std::string constantInts(const std::string& name, const std::vector<int64_t>& values) {
        if (added_.insert(name).second) {
            ox::TensorProto* p = graph_.add_initializer();
            p->set_name(name);
            p->set_data_type(ox::TensorProto::INT64);
            p->add_dims(int64_t(values.size()));
            for (int64_t v : values) {
                p->add_int64_data(v);
            }
        }
        return name;
    }

    float bnEps(const std::string& path) const {
        const auto it = bnEps_.find(path);
        if (it == bnEps_.end()) {
            throw Error("ONNX export: layer " + path + ": the model has no BatchNorm2d there");
        }
        return it->second;
    }

private:
    ox::GraphProto& graph_;
    std::map<std::string, torch::Tensor> tensors_;
    std::set<std::string> foldedNorms_;
    std::map<std::string, float> bnEps_;
    std::map<std::string, int> used_;
    std::set<std::string> added_;
    int64_t weights_ = 0;
};

// Conv with the plan's kernel, stride, groups and "same" padding (k-1)/2.
std::string conv(GraphWriter& w, const std::string& x, const std::string& path, int64_t in,
                 int64_t out, int kernel, int stride, int groups) {
    std::vector<std::string> inputs = {
        x, w.weight(path + ".weight", {out, in / groups, kernel, kernel}, path)};
    if (w.has(path + ".bias")) {
        inputs.push_back(w.weight(path + ".bias", {out}, path));
    }
    ox::NodeProto* n = nullptr;
    const std::string y = w.node("Conv", inputs, path, &n);
    const int64_t pad = (kernel - 1) / 2;
    attr(*n, "kernel_shape", std::vector<int64_t>{kernel, kernel});  // OpenCV needs it
    attr(*n, "strides", std::vector<int64_t>{stride, stride});
    attr(*n, "pads", std::vector<int64_t>{pad, pad, pad, pad});
    attr(*n, "dilations", std::vector<int64_t>{1, 1});
    attr(*n, "group", int64_t(groups));
    return y;
}

std::string activation(GraphWriter& w, ActKind kind, const std::string& x,
                       const std::string& path) {
    switch (kind) {
        case ActKind::ReLU:
            return w.node("Relu", {x}, path);
        case ActKind::ReLU6: {
            // min(max(x, 0), 6) without Clip (refused by OpenCV 4.6 at opset 13) or Min with a
            // constant (also refused): 6 - Relu(6 - Relu(x)), off by at most half an ulp of 6.
            const std::string six = w.constant("scalelab/six", {1}, {6.0f});
            const std::string r = w.node("Relu", {x}, path + "/relu");
            const std::string t = w.node("Sub", {six, r}, path + "/six_minus");
            const std::string u = w.node("Relu", {t}, path + "/relu_rest");
            return w.node("Sub", {six, u}, path);
        }
        case ActKind::SiLU: {
            const std::string s = w.node("Sigmoid", {x}, path + "/sigmoid");
            return w.node("Mul", {x, s}, path);
        }
        case ActKind::None:
            return x;
    }
    throw Error("ONNX export: layer " + path + ": unknown activation");
}

}  // namespace

bool onnxExportAvailable() {
    return true;
}

OnnxGraphInfo buildOnnxGraph(const ScaleModelImpl& model,
                             const std::vector<std::pair<std::string, std::string>>& metadata,
                             const std::string& docString, const ProgressFn& progress) {
    const ArchPlan& plan = model.plan();
    const ModelSpec& spec = plan.spec;
    ox::ModelProto proto;
    proto.set_ir_version(kIrVersion);
    proto.set_producer_name("ScaleLab");
    proto.set_producer_version("0.1.0");
    proto.set_doc_string(docString);
    ox::OperatorSetIdProto* opset = proto.add_opset_import();
    opset->set_domain("");
    opset->set_version(kOnnxOpset);
    for (const auto& [key, value] : metadata) {
        ox::StringStringEntryProto* e = proto.add_metadata_props();
        e->set_key(key);
        e->set_value(value);
    }
    ox::GraphProto& graph = *proto.mutable_graph();
    graph.set_name(spec.name);
    valueInfo(*graph.add_input(), "input", {spec.inChannels, spec.resolution, spec.resolution});

    GraphWriter w(graph, model);
    w.fresh("input");
    w.fresh("logits");  // the last node's output is renamed to it
    Flow cur{"input", spec.inChannels, spec.resolution, false};
    int block = -1;  // the block whose layers are being walked
    Flow blockIn, shortcut;
    bool hasShortcutLayers = false;
    ox::NodeProto* last = nullptr;
    const int64_t total = int64_t(plan.layers.size());
    for (int64_t i = 0; i < total; ++i) {
        reportProgress(progress, i, total);
        const PlanLayer& l = plan.layers[size_t(i)];
        if (l.block != block) {
            block = l.block;
            blockIn = cur;
            shortcut = cur;
            hasShortcutLayers = false;
        }
        Flow& at = l.shortcut ? shortcut : cur;
        const bool consumesChannels = l.kind != LayerKind::ResidualAdd;
        if (consumesChannels && (at.channels != l.in || (at.flat && l.kind != LayerKind::Linear))) {
            throw Error("ONNX export: layer " + l.path + " takes " + std::to_string(l.in) +
                        " channels but gets " + std::to_string(at.channels) +
                        (at.flat ? " flat features" : "") + " (the plan's order is broken)");
        }
        const int graphNodesBefore = graph.node_size();
        switch (l.kind) {
            case LayerKind::Conv:
            case LayerKind::DepthwiseConv:
                at.name = conv(w, at.name, l.path, l.in, l.out, l.kernel, l.stride, l.groups);
                at.channels = l.out;
                at.side = l.outSide;
                break;
            case LayerKind::BatchNorm: {
                if (w.folded(l.path)) {
                    break;  // in the Conv before it (weights and bias folded)
                }
                ox::NodeProto* n = nullptr;
                at.name = w.node("BatchNormalization",
                                 {at.name, w.weight(l.path + ".weight", {l.out}, l.path),
                                  w.weight(l.path + ".bias", {l.out}, l.path),
                                  w.weight(l.path + ".running_mean", {l.out}, l.path),
                                  w.weight(l.path + ".running_var", {l.out}, l.path)},
                                 l.path, &n);
                attr(*n, "epsilon", w.bnEps(l.path));
                break;
            }
            case LayerKind::Activation:
                at.name = activation(w, l.act, at.name, l.path);
                break;
            case LayerKind::SqueezeExcite: {
                const std::string x = at.name;
                std::string s = w.node("GlobalAveragePool", {x}, l.path + "/avgpool");
                s = conv(w, s, l.path + ".fc1", l.in, l.squeeze, 1, 1, 1);
                s = activation(w, l.act, s, l.path + "/act");
                s = conv(w, s, l.path + ".fc2", l.squeeze, l.in, 1, 1, 1);
                s = w.node("Sigmoid", {s}, l.path + "/gate");
                if (at.side > 1) {
                    // The gate at the map's size, so the Mul needs no broadcasting (OpenCV 4.6).
                    const float side = float(at.side);
                    const std::string scales = w.constant(
                        "scalelab/se_scales_" + std::to_string(at.side), {4}, {1, 1, side, side});
                    ox::NodeProto* n = nullptr;
                    s = w.node("Resize", {s, "", scales}, l.path + "/gate_resized", &n);
                    attr(*n, "mode", std::string("nearest"));
                    attr(*n, "coordinate_transformation_mode", std::string("asymmetric"));
                    attr(*n, "nearest_mode", std::string("floor"));
                }
                at.name = w.node("Mul", {x, s}, l.path);
                break;
            }
            case LayerKind::MaxPool: {
                ox::NodeProto* n = nullptr;
                at.name = w.node("MaxPool", {at.name}, l.path, &n);
                const int64_t pad = (l.kernel - 1) / 2;
                attr(*n, "kernel_shape", std::vector<int64_t>{l.kernel, l.kernel});
                attr(*n, "strides", std::vector<int64_t>{l.stride, l.stride});
                attr(*n, "pads", std::vector<int64_t>{pad, pad, pad, pad});
                at.side = l.outSide;
                break;
            }
            case LayerKind::GlobalPool:
                at.name = w.node("GlobalAveragePool", {at.name}, l.path);
                at.side = 1;
                break;
            case LayerKind::Dropout:
                break;  // the identity outside training
            case LayerKind::Linear: {
                if (!at.flat) {
                    if (at.side != 1) {
                        throw Error("ONNX export: layer " + l.path + " gets a " +
                                    std::to_string(at.side) + "x" + std::to_string(at.side) +
                                    " map; a Linear takes pooled (1x1) features");
                    }
                    ox::NodeProto* f = nullptr;
                    at.name = w.node("Flatten", {at.name}, l.path + "/flatten", &f);
                    attr(*f, "axis", int64_t(1));
                    at.flat = true;
                }
                ox::NodeProto* n = nullptr;
                at.name = w.node("Gemm",
                                 {at.name, w.weight(l.path + ".weight", {l.out, l.in}, l.path),
                                  w.weight(l.path + ".bias", {l.out}, l.path)},
                                 l.path, &n);
                attr(*n, "transB", int64_t(1));
                at.channels = l.out;
                break;
            }
            case LayerKind::ResidualAdd: {
                if (l.block < 0 || size_t(l.block) >= plan.blocks.size()) {
                    throw Error("ONNX export: residual add " + l.path + " sits in no block");
                }
                Flow s = hasShortcutLayers ? shortcut : blockIn;
                if (!hasShortcutLayers && (s.side != cur.side || s.channels != cur.channels)) {
                    // The parameter-free shortcut: every stride-th row and column, zero channels.
                    const int64_t stride = plan.blocks[size_t(l.block)].stride;
                    if ((s.side + stride - 1) / stride != cur.side || s.channels > cur.channels) {
                        throw Error("ONNX export: residual add " + l.path +
                                    ": the block's input (" + std::to_string(s.channels) + " x " +
                                    std::to_string(s.side) + " px) does not reach its output (" +
                                    std::to_string(cur.channels) + " x " +
                                    std::to_string(cur.side) + " px) by stride " +
                                    std::to_string(stride) + " and zero padding");
                    }
                    if (stride > 1) {
                        s.name = w.node("Slice",
                                        {s.name, w.constantInts("scalelab/zeros2", {0, 0}),
                                         w.constantInts("scalelab/ends_" + std::to_string(s.side),
                                                        {s.side, s.side}),
                                         w.constantInts("scalelab/axes_hw", {2, 3}),
                                         w.constantInts("scalelab/steps_" + std::to_string(stride),
                                                        {stride, stride})},
                                        l.path + "/shortcut_subsample");
                        s.side = cur.side;
                    }
                    if (s.channels < cur.channels) {
                        const int64_t extra = cur.channels - s.channels;
                        s.name = w.node("Pad",
                                        {s.name, w.constantInts("scalelab/pad_channels_" +
                                                                    std::to_string(extra),
                                                                {0, 0, 0, 0, 0, extra, 0, 0})},
                                        l.path + "/shortcut_pad");
                        s.channels = cur.channels;
                    }
                }
                if (s.side != cur.side || s.channels != cur.channels || s.channels != l.out) {
                    throw Error("ONNX export: residual add " + l.path + " adds " +
                                std::to_string(cur.channels) + " x " + std::to_string(cur.side) +
                                " px to a shortcut of " + std::to_string(s.channels) + " x " +
                                std::to_string(s.side) + " px");
                }
                cur.name = w.node("Add", {cur.name, s.name}, l.path);
                break;
            }
        }
        if (l.shortcut) {
            hasShortcutLayers = true;
        }
        if (graph.node_size() > graphNodesBefore && !l.shortcut) {
            last = graph.mutable_node(graph.node_size() - 1);
        }
    }
    reportProgress(progress, total, total);
    if (!cur.flat || cur.channels != spec.numClasses || last == nullptr ||
        last->output(0) != cur.name) {
        throw Error("ONNX export: the plan of " + spec.name + " does not end in " +
                    std::to_string(spec.numClasses) + " logits");
    }
    last->set_output(0, "logits");
    valueInfo(*graph.add_output(), "logits", {spec.numClasses});

    try {
        ox::checker::check_model(proto);
    } catch (const std::exception& e) {
        throw Error("ONNX export: onnx::checker rejects the graph of " + spec.name + ": " +
                    e.what());
    }
    if (proto.ByteSizeLong() > size_t(INT_MAX)) {
        throw Error("ONNX export: " + spec.name + " needs " +
                    std::to_string(proto.ByteSizeLong() >> 20) +
                    " MiB, more than one protobuf file holds (2 GiB)");
    }
    OnnxGraphInfo info;
    info.nodes = w.nodes();
    info.weights = w.weights();
    if (!proto.SerializeToString(&info.bytes)) {
        throw Error("ONNX export: " + spec.name + ": serializing the graph failed");
    }
    return info;
}

}  // namespace scalelab
