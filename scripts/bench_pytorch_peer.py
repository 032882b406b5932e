#!/usr/bin/env python3
"""The PyTorch side of scripts/bench_vs_pytorch.sh: torchvision's model trained the same way as
`scalelab-cli bench` does (SGD momentum 0.9, cross-entropy, random data, median step after a
warm-up), with the same stem changes. Prints one JSON object. Run with Debian's /usr/bin/python3."""
import argparse
import json
import statistics
import time

import torch
import torchvision

p = argparse.ArgumentParser()
p.add_argument("--model", required=True,
               choices=["efficientnet-b0", "resnet-18", "resnet-50", "resnext50_32x4d",
                        "wide_resnet50_2", "mobilenet-v2", "resnet-cifar-20"])
p.add_argument("--resolution", type=int, default=32)
p.add_argument("--batch-size", type=int, default=128)
p.add_argument("--steps", type=int, default=10)
p.add_argument("--warmup", type=int, default=2)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--in-channels", type=int, default=1)
p.add_argument("--num-classes", type=int, default=10)
p.add_argument("--channels-last", action="store_true")
p.add_argument("--no-train", action="store_true", help="inference only")
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)

# The same stems as ScaleLab's models at this resolution: a 1-channel first convolution; ResNets
# take the small-input stem (3x3/1, no max-pool) below 128 px, like ScaleLab's "auto" stem.
if a.model == "efficientnet-b0":
    m = torchvision.models.efficientnet_b0(num_classes=a.num_classes)
    old = m.features[0][0]
    m.features[0][0] = torch.nn.Conv2d(a.in_channels, old.out_channels, 3, 2, 1, bias=False)
elif a.model == "mobilenet-v2":
    m = torchvision.models.mobilenet_v2(num_classes=a.num_classes)
    old = m.features[0][0]
    m.features[0][0] = torch.nn.Conv2d(a.in_channels, old.out_channels, 3, 2, 1, bias=False)
elif a.model in ("resnet-18", "resnet-50", "resnext50_32x4d", "wide_resnet50_2"):
    ctor = {"resnet-18": torchvision.models.resnet18, "resnet-50": torchvision.models.resnet50,
            "resnext50_32x4d": torchvision.models.resnext50_32x4d,
            "wide_resnet50_2": torchvision.models.wide_resnet50_2}[a.model]
    m = ctor(num_classes=a.num_classes)
    if a.resolution < 128:
        m.conv1 = torch.nn.Conv2d(a.in_channels, 64, 3, 1, 1, bias=False)  # small-input stem
        m.maxpool = torch.nn.Identity()
    else:
        m.conv1 = torch.nn.Conv2d(a.in_channels, 64, 7, 2, 3, bias=False)
else:
    raise SystemExit(a.model + " has no torchvision counterpart")

fmt = torch.channels_last if a.channels_last else torch.contiguous_format
m = m.to(memory_format=fmt)
x = torch.randn(a.batch_size, a.in_channels, a.resolution, a.resolution).to(memory_format=fmt)
y = torch.randint(a.num_classes, (a.batch_size,))
opt = torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9)
m.train()
train = []
for s in range(0 if a.no_train else a.warmup + a.steps):
    t0 = time.perf_counter()
    opt.zero_grad()
    loss = torch.nn.functional.cross_entropy(m(x), y)
    loss.backward()
    opt.step()
    if s >= a.warmup:
        train.append(time.perf_counter() - t0)
m.eval()
infer = []
with torch.no_grad():
    for s in range(a.warmup + a.steps):
        t0 = time.perf_counter()
        m(x)
        if s >= a.warmup:
            infer.append(time.perf_counter() - t0)
tr = statistics.median(train) if train else float("nan")
inf = statistics.median(infer)
print(json.dumps({"model": a.model, "torch": torch.__version__, "threads": torch.get_num_threads(),
                  "channels_last": a.channels_last, "train_step_ms": tr * 1e3 if train else None,
                  "infer_step_ms": inf * 1e3,
                  "train_images_per_s": a.batch_size / tr if train else None,
                  "infer_images_per_s": a.batch_size / inf}))
