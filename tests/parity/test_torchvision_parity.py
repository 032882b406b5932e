#!/usr/bin/env python3
"""Architecture parity with torchvision (Debian's /usr/bin/python3):
1. for every preset B0-B7, ResNet-18..152, ResNeXt-50/101, Wide ResNet-50/101 and MobileNetV2
   at widths 0.35..1.4 (3 channels, 1000 classes, native resolution):
   `scalelab-cli info --json` params == torchvision's, MACs == conv + linear MACs counted by
   hooks on torchvision's model (meta device, no real compute);
2. for B0, B3, ResNet-18, ResNet-50, ResNeXt-50 32x4d, Wide ResNet-50-2 and MobileNetV2 at
   widths 0.5, 1.0 and 1.4: our seeded state dict loads into torchvision's model with no missing
   or unexpected keys, and eval-mode logits agree within 1e-4.
Exit 77 (CTest: skipped) with a message when torch/torchvision are absent."""
import json
import subprocess
import sys
import tempfile

cli = sys.argv[1]
try:
    import torch
    import torchvision
except ImportError as e:
    print(f"SKIPPED: torchvision parity needs Debian's python3-torchvision ({e})")
    sys.exit(77)

failures = []


def count_macs(model, resolution):
    macs = [0]

    def hook(mod, inp, out):
        if isinstance(mod, torch.nn.Conv2d):
            k = mod.kernel_size[0] * mod.kernel_size[1]
            macs[0] += out[0].numel() * (mod.in_channels // mod.groups) * k
        elif isinstance(mod, torch.nn.Linear):
            macs[0] += mod.in_features * mod.out_features

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    meta = model.to("meta").eval()
    with torch.no_grad():
        meta(torch.empty(1, 3, resolution, resolution, device="meta"))
    for h in handles:
        h.remove()
    return macs[0]


def tv_model(name):
    """torchvision's builder for a name; 'mobilenet_v2@0.5' passes width_mult."""
    if "@" in name:
        name, w = name.split("@")
        return getattr(torchvision.models, name)(width_mult=float(w))
    return getattr(torchvision.models, name)()


presets = [(f"efficientnet-b{b}", f"efficientnet_b{b}", r)
           for b, r in enumerate([224, 240, 260, 300, 380, 456, 528, 600])]
presets += [(f"resnet-{d}", f"resnet{d}", 224) for d in (18, 34, 50, 101, 152)]
presets += [(n, n, 224) for n in ("resnext50_32x4d", "resnext101_32x8d", "wide_resnet50_2",
                                  "wide_resnet101_2")]
presets += [("mobilenet-v2", "mobilenet_v2", 224)]
presets += [(f"mobilenet-v2-{w}", f"mobilenet_v2@{w}", 224) for w in ("0.35", "0.5", "0.75", "1.4")]
print(f"{'model':18s} {'params (ours)':>14s} {'torchvision':>14s} {'MACs (ours)':>16s} {'hooks':>16s}")
for ours, tv, res in presets:
    info = json.loads(subprocess.run([cli, "info", "--model", ours, "--json"], check=True,
                                     capture_output=True, text=True).stdout)
    model = tv_model(tv)
    params = sum(p.numel() for p in model.parameters())
    macs = count_macs(model, res)
    print(f"{ours:18s} {info['params']:14,d} {params:14,d} {info['macs']:16,d} {macs:16,d}")
    if info["params"] != params:
        failures.append(f"{ours}: params {info['params']} != torchvision {params}")
    if info["macs"] != macs:
        failures.append(f"{ours}: MACs {info['macs']} != hook count {macs}")
    if info["resolution"] != res:
        failures.append(f"{ours}: resolution {info['resolution']} != {res}")

print()
for ours, tv in (("efficientnet-b0", "efficientnet_b0"), ("efficientnet-b3", "efficientnet_b3"),
                 ("resnet-18", "resnet18"), ("resnet-50", "resnet50"),
                 ("resnext50_32x4d", "resnext50_32x4d"), ("wide_resnet50_2", "wide_resnet50_2"),
                 ("mobilenet-v2", "mobilenet_v2"), ("mobilenet-v2-0.5", "mobilenet_v2@0.5"),
                 ("mobilenet-v2-1.4", "mobilenet_v2@1.4")):
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([cli, "parity-case", "--model", ours, "--out", tmp, "--seed", "7",
                        "--batch", "2"], check=True, capture_output=True)
        state = torch.load(f"{tmp}/weights.pt")
        io = torch.load(f"{tmp}/io.pt")
        if not isinstance(state, dict):
            failures.append(f"{ours}: weights.pt is a {type(state)}, not a dict")
            continue
        model = tv_model(tv)
        result = model.load_state_dict(state, strict=False)
        if result.missing_keys or result.unexpected_keys:
            failures.append(f"{ours}: missing {result.missing_keys[:5]}, unexpected {result.unexpected_keys[:5]}")
            continue
        model.eval()
        with torch.no_grad():
            logits = model(io["input"])
        diff = (logits - io["logits"]).abs().max().item()
        print(f"{ours:18s} {len(state)} keys load strictly; max |logit difference| = {diff:.2e}")
        if not diff < 1e-4:
            failures.append(f"{ours}: logits differ by {diff:.3e} (limit 1e-4)")

if failures:
    print("\nFAILED:\n  " + "\n  ".join(failures))
    sys.exit(1)
print("ok")
