#!/usr/bin/env python3
"""Which ONNX patterns OpenCV's DNN importer (Debian 12: 4.6) runs, and which it mishandles.

Each case is a one- or few-node opset-13 graph with a dynamic batch dimension, run in OpenCV
at batch 1 and 4 and compared with NumPy. core/export/onnx_graph.cpp emits only the patterns
marked "used"; docs/BENCHMARKS.md ("ONNX export") records this script's output.
Every case runs in its own process: some failures abort the interpreter (SIGFPE).

    /usr/bin/python3 scripts/opencv_onnx_patterns.py"""
import os
import subprocess
import sys
import tempfile

import numpy as np

C, S = 8, 7


def build(case):
    import onnx
    from onnx import TensorProto as T
    from onnx import helper as h
    from onnx import numpy_helper as nh

    rng = np.random.default_rng(0)
    w1 = rng.normal(size=(C, C, 1, 1)).astype(np.float32) * 0.3
    inits, ref = {}, None
    sig = lambda v: 1 / (1 + np.exp(-v))
    conv1x1 = lambda x, w: np.einsum("nchw,oc->nohw", x, w[:, :, 0, 0])
    gap = lambda x: x.mean(axis=(2, 3), keepdims=True)
    if case == "Clip(x, 0, 6) [min/max as inputs, opset >= 11]":
        inits = {"lo": np.array(0, np.float32), "hi": np.array(6, np.float32)}
        nodes = [h.make_node("Clip", ["input", "lo", "hi"], ["logits"])]
        ref = lambda x: np.clip(x, 0, 6)
    elif case == "Min(Relu(x), 6) [a constant operand]":
        inits = {"six": np.array([6], np.float32)}
        nodes = [h.make_node("Relu", ["input"], ["r"]), h.make_node("Min", ["r", "six"], ["logits"])]
        ref = lambda x: np.clip(x, 0, 6)
    elif case == "6 - Relu(6 - Relu(x)) [used for ReLU6]":
        inits = {"six": np.array([6], np.float32)}
        nodes = [h.make_node("Relu", ["input"], ["r"]), h.make_node("Sub", ["six", "r"], ["t"]),
                 h.make_node("Relu", ["t"], ["u"]), h.make_node("Sub", ["six", "u"], ["logits"])]
        ref = lambda x: np.clip(x, 0, 6)
    elif case == "Conv without kernel_shape":
        inits = {"w": w1}
        nodes = [h.make_node("Conv", ["input", "w"], ["logits"])]
        ref = lambda x: conv1x1(x, w1)
    elif case == "Conv with kernel_shape [used]":
        inits = {"w": w1}
        nodes = [h.make_node("Conv", ["input", "w"], ["logits"], kernel_shape=[1, 1])]
        ref = lambda x: conv1x1(x, w1)
    elif case == "Identity(initializer) -> Conv weight [torch.onnx on fresh weights]":
        inits = {"w": w1}
        nodes = [h.make_node("Identity", ["w"], ["w2"]),
                 h.make_node("Conv", ["input", "w2"], ["logits"], kernel_shape=[1, 1])]
        ref = lambda x: conv1x1(x, w1)
    elif case == "x * Sigmoid(GlobalAveragePool(x)) [broadcasting Mul, SE]":
        nodes = [h.make_node("GlobalAveragePool", ["input"], ["p"]),
                 h.make_node("Sigmoid", ["p"], ["g"]), h.make_node("Mul", ["input", "g"], ["logits"])]
        ref = lambda x: x * sig(gap(x))
    elif case == "x * Expand(gate, [1,1,H,W])":
        inits = {"shape": np.array([1, 1, S, S], np.int64)}
        nodes = [h.make_node("GlobalAveragePool", ["input"], ["p"]),
                 h.make_node("Sigmoid", ["p"], ["g"]), h.make_node("Expand", ["g", "shape"], ["e"]),
                 h.make_node("Mul", ["input", "e"], ["logits"])]
        ref = lambda x: x * sig(gap(x))
    elif case == "x * Resize(gate, nearest, x H,W) [used for SE]":
        inits = {"scales": np.array([1, 1, S, S], np.float32)}
        nodes = [h.make_node("GlobalAveragePool", ["input"], ["p"]),
                 h.make_node("Sigmoid", ["p"], ["g"]),
                 h.make_node("Resize", ["g", "", "scales"], ["e"], mode="nearest",
                             coordinate_transformation_mode="asymmetric", nearest_mode="floor"),
                 h.make_node("Mul", ["input", "e"], ["logits"])]
        ref = lambda x: x * sig(gap(x))
    elif case == "x * Sigmoid(x) [used for SiLU]":
        nodes = [h.make_node("Sigmoid", ["input"], ["s"]), h.make_node("Mul", ["input", "s"], ["logits"])]
        ref = lambda x: x * sig(x)
    elif case == "GlobalAveragePool, Flatten, Gemm(transB) [used]":
        wl = rng.normal(size=(5, C)).astype(np.float32)
        inits = {"w": wl, "b": np.zeros(5, np.float32)}
        nodes = [h.make_node("GlobalAveragePool", ["input"], ["p"]),
                 h.make_node("Flatten", ["p"], ["f"], axis=1),
                 h.make_node("Gemm", ["f", "w", "b"], ["logits"], transB=1)]
        ref = lambda x: gap(x)[:, :, 0, 0] @ wl.T
    elif case == "Slice(step 2) + Pad(channels) [used for option-A shortcuts]":
        inits = {"st": np.array([0, 0], np.int64), "en": np.array([S, S], np.int64),
                 "ax": np.array([2, 3], np.int64), "sp": np.array([2, 2], np.int64),
                 "pads": np.array([0, 0, 0, 0, 0, C, 0, 0], np.int64)}
        nodes = [h.make_node("Slice", ["input", "st", "en", "ax", "sp"], ["s"]),
                 h.make_node("Pad", ["s", "pads"], ["logits"])]
        ref = lambda x: np.pad(x[:, :, ::2, ::2], ((0, 0), (0, C), (0, 0), (0, 0)))
    elif case == "BatchNormalization (weight 1, bias 0, mean 0, var 1) [used]":
        inits = {"w": np.ones(C, np.float32), "b": np.zeros(C, np.float32),
                 "m": np.zeros(C, np.float32), "v": np.ones(C, np.float32)}
        nodes = [h.make_node("BatchNormalization", ["input", "w", "b", "m", "v"], ["logits"])]
        ref = lambda x: x / np.sqrt(1 + 1e-5)
    inp = h.make_tensor_value_info("input", T.FLOAT, ["batch", C, S, S])
    rank = 2 if "Gemm" in case else 4  # OpenCV wants the output's rank declared
    out = h.make_tensor_value_info("logits", T.FLOAT, ["batch"] + [None] * (rank - 1))
    graph = h.make_graph(nodes, "g", [inp], [out], [nh.from_array(v, k) for k, v in inits.items()])
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", 13)])
    model.ir_version = 7
    return model, ref


CASES = [
    "Clip(x, 0, 6) [min/max as inputs, opset >= 11]",
    "Min(Relu(x), 6) [a constant operand]",
    "6 - Relu(6 - Relu(x)) [used for ReLU6]",
    "Conv without kernel_shape",
    "Conv with kernel_shape [used]",
    "Identity(initializer) -> Conv weight [torch.onnx on fresh weights]",
    "x * Sigmoid(GlobalAveragePool(x)) [broadcasting Mul, SE]",
    "x * Expand(gate, [1,1,H,W])",
    "x * Resize(gate, nearest, x H,W) [used for SE]",
    "x * Sigmoid(x) [used for SiLU]",
    "GlobalAveragePool, Flatten, Gemm(transB) [used]",
    "Slice(step 2) + Pad(channels) [used for option-A shortcuts]",
    "BatchNormalization (weight 1, bias 0, mean 0, var 1) [used]",
]


def run_one(case, batch):
    import cv2

    model, ref = build(case)
    x = (np.random.default_rng(1).normal(size=(batch, C, S, S)) * 4).astype(np.float32)
    path = write(model)
    try:
        net = cv2.dnn.readNetFromONNX(path)
        net.setInput(x)
        got = net.forward()
    except cv2.error as e:
        text = str(e).replace("cv::dnn::dnn4_v20220524::", "")
        expected = [l for l in text.splitlines() if "(expected:" in l]
        errors = [l.split("error:")[-1].strip() for l in text.splitlines() if "error:" in l]
        why = expected[-1].strip(" >") if expected else errors[-1] if errors else text
        print("refused: " + why[:90])
        return
    finally:
        os.remove(path)
    want = ref(x)
    if got.shape != want.shape:
        print(f"wrong shape {got.shape}, expected {want.shape}")
    else:
        print(f"ok, max abs diff {np.abs(got - want).max():.1e}")


def write(model):
    fd, path = tempfile.mkstemp(suffix=".onnx")
    with os.fdopen(fd, "wb") as f:
        f.write(model.SerializeToString())
    return path


if len(sys.argv) == 3:
    run_one(sys.argv[1], int(sys.argv[2]))
    sys.exit(0)
import cv2  # noqa: E402

print(f"OpenCV {cv2.__version__}; opset 13, input [batch, {C}, {S}, {S}]")
print(f"| pattern | batch 1 | batch 4 |\n|---|---|---|")
for case in CASES:
    cells = []
    for batch in (1, 4):
        p = subprocess.run([sys.executable, __file__, case, str(batch)], capture_output=True,
                           text=True)
        text = p.stdout.strip() or (f"crash (signal {-p.returncode})" if p.returncode < 0
                                    else p.stderr.strip().splitlines()[-1][:110])
        cells.append(text.replace("|", "\\|"))
    print(f"| {case} | {cells[0]} | {cells[1]} |")
