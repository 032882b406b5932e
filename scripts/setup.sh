#!/usr/bin/env bash
# Installs everything ScaleLab needs from Debian 12's apt. Safe to run again: it installs only
# what is missing, and needs no network when nothing is.
#
#   scripts/setup.sh              core + GUI + tests (SLURM and munge for the sweep test,
#                                 clang-format for the style test)
#   scripts/setup.sh --core-only  core, CLI and core tests only: no Qt (GPU servers, CI shards)
#   scripts/setup.sh --sanitize   core + clang and its sanitizer/libFuzzer runtimes
set -euo pipefail

core_packages=(
    build-essential cmake ninja-build ccache pkg-config
    libtorch-dev
    libopenblas0-pthread        # mandatory: without it LibTorch falls back to reference BLAS (~50x slower)
    libdnnl-dev                 # oneDNN's headers: the Winograd inference candidate calls the oneDNN
                                # LibTorch already links (optional to build)
    zlib1g-dev libssl-dev nlohmann-json3-dev libopencv-dev libgtest-dev
    libcli11-dev                # scalelab-cli's option parsing (header-only CLI11 2.x)
    dataset-fashion-mnist       # the default dataset, /usr/share/datasets/fashion-mnist
    python3 python3-torchvision # test oracle and benchmark peer (/usr/bin/python3)
    libonnx-dev                 # export --onnx: the ONNX protobuf and its checker (optional to build)
    python3-onnx python3-opencv # ONNX export's independent checks: onnx.checker and OpenCV's DNN
)
gui_packages=(
    qt6-base-dev qt6-svg-dev qt6-qpa-plugins libqcustomplot-dev
    fonts-dejavu-core xvfb xauth
    desktop-file-utils appstream  # ctest -R install: validate the installed desktop entry, metainfo
)

sanitize_packages=(clang libclang-rt-14-dev)  # scripts/test.sh --sanitize, scripts/fuzz.sh

# Test dependencies only (not needed to run ScaleLab): tests/cli/test_slurm.py starts its own
# single-node SLURM cluster (slurmctld + slurmd, authenticated by its own munged) in a temporary
# folder to test `scalelab-cli sweep run --slurm` against a real scheduler; without them that
# test is skipped. The test never uses the packages' own services (on a systemd machine Debian
# enables them: munge starts, slurmctld/slurmd stay down without /etc/slurm/slurm.conf; turn
# them off with `systemctl disable --now munge slurmctld slurmd` if you like).
slurm_test_packages=(slurm-wlm slurmctld slurmd slurm-client munge)
# The style test (ctest style.clang_format): .clang-format is checked with Debian 12's
# clang-format 14; without it that test is skipped.
style_test_packages=(clang-format)

packages=("${core_packages[@]}")
case "${1:-}" in
    --core-only) ;;
    --sanitize) packages+=("${sanitize_packages[@]}") ;;
    *) packages+=("${gui_packages[@]}" "${slurm_test_packages[@]}" "${style_test_packages[@]}") ;;
esac

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
    echo "setup: all ${#packages[@]} packages already installed"
    exit 0
fi

echo "setup: installing ${#missing[@]} missing packages: ${missing[*]}"
sudo=()
if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "setup: needs root or sudo to run apt-get" >&2; exit 1; }
    sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "setup: done"
