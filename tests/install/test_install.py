#!/usr/bin/env python3
"""cmake --install into a temporary prefix (issue 11, point 9): the binaries land in bin/ and run
from there; a GUI build also installs the desktop entry, the AppStream metainfo and the icons
under the application id, each icon at its size; a CLI-only build installs none of them. The
installed entry and metainfo must pass desktop-file-validate and appstreamcli validate --no-net.
Exit 77 (skipped, not passed) when a validator is not installed and everything else passed.

  test_install.py CMAKE BUILD_DIR GUI(ON|OFF) APP_ID VERSION ICON_SIZE...
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

cmake, build_dir, gui, app_id, version = sys.argv[1:6]
icon_sizes = [int(s) for s in sys.argv[6:]]
gui = gui.upper() in ("ON", "1", "TRUE", "YES")
failures = []
skipped = []


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", head[16:24])


def run_validator(tool, args, path):
    exe = shutil.which(tool)
    if exe is None:
        skipped.append(f"{tool} is not installed (scripts/setup.sh installs it)")
        return
    out = subprocess.run([exe, *args, path], capture_output=True, text=True, timeout=120)
    print(f"{tool} {' '.join(args)} {os.path.basename(path)}: exit {out.returncode}")
    text = (out.stdout + out.stderr).strip()
    if text:
        print("  " + text.replace("\n", "\n  "))
    if out.returncode != 0:
        failures.append(f"{tool} rejects {path}: {text}")


with tempfile.TemporaryDirectory(prefix="scalelab-install-") as prefix:
    out = subprocess.run([cmake, "--install", build_dir, "--prefix", prefix],
                         capture_output=True, text=True, timeout=300)
    if out.returncode != 0:
        print(out.stdout + out.stderr)
        sys.exit("FAIL: cmake --install failed")
    installed = sorted(os.path.relpath(os.path.join(d, f), prefix)
                       for d, _, files in os.walk(prefix) for f in files)
    print("installed:\n  " + "\n  ".join(installed))

    # The binaries, and that they start from the prefix (their libraries are found there).
    version_args = {"scalelab-cli": ["version"], "scalelab": ["--version"]}
    binaries = ["scalelab-cli"] + (["scalelab"] if gui else [])
    for name in binaries:
        path = os.path.join(prefix, "bin", name)
        if not os.access(path, os.X_OK):
            failures.append(f"bin/{name} is not installed (or not executable)")
            continue
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
        args = version_args[name]
        run = subprocess.run([path, *args], capture_output=True, text=True, timeout=120, env=env)
        first = run.stdout.splitlines()[0] if run.stdout else ""
        print(f"bin/{name} {' '.join(args)}: exit {run.returncode}, '{first}'")
        if run.returncode != 0 or version not in first:
            failures.append(f"installed {name} {' '.join(args)}: exit {run.returncode}, "
                            f"'{run.stdout}{run.stderr}' lacks {version}")
    if not gui and os.path.exists(os.path.join(prefix, "bin", "scalelab")):
        failures.append("a build without the GUI installed bin/scalelab")

    share = os.path.join(prefix, "share")
    desktop = os.path.join(share, "applications", f"{app_id}.desktop")
    metainfo = os.path.join(share, "metainfo", f"{app_id}.metainfo.xml")
    icons = {size: os.path.join(share, "icons", "hicolor", f"{size}x{size}", "apps", f"{app_id}.png")
             for size in icon_sizes}
    svg = os.path.join(share, "icons", "hicolor", "scalable", "apps", f"{app_id}.svg")
    desktop_files = [desktop, metainfo, svg, *icons.values()]

    if not gui:
        for path in desktop_files:
            if os.path.exists(path):
                failures.append(f"a build without the GUI installed {os.path.relpath(path, prefix)}")
    else:
        for path in desktop_files:
            if not os.path.isfile(path):
                failures.append(f"{os.path.relpath(path, prefix)} is not installed")
        if not icon_sizes:
            failures.append("no icon sizes given")
        for size, path in icons.items():
            if os.path.isfile(path) and png_size(path) != (size, size):
                failures.append(f"{os.path.relpath(path, prefix)} is {png_size(path)}, not {size}x{size}")
        if os.path.isfile(svg) and b"<svg" not in open(svg, "rb").read(4096):
            failures.append(f"{svg} is not an SVG")

        if os.path.isfile(desktop):
            entry = dict(line.split("=", 1) for line in open(desktop, encoding="utf-8")
                         if "=" in line and not line.startswith("#"))
            if entry.get("Icon", "").strip() != app_id:
                failures.append(f"the desktop entry's Icon is '{entry.get('Icon')}', not {app_id}")
            exec_name = entry.get("Exec", "").split()[0] if entry.get("Exec", "").split() else ""
            if exec_name not in binaries:
                failures.append(f"the desktop entry runs '{exec_name}', which is not installed")
            run_validator("desktop-file-validate", [], desktop)

        if os.path.isfile(metainfo):
            root = ET.parse(metainfo).getroot()
            if root.findtext("id") != app_id:
                failures.append(f"metainfo id '{root.findtext('id')}' is not {app_id}")
            if root.findtext("launchable") != f"{app_id}.desktop":
                failures.append(f"metainfo launchable '{root.findtext('launchable')}' is not the entry")
            releases = root.findall("releases/release")
            newest = releases[0].get("version") if releases else None
            if newest != version:
                failures.append(f"the metainfo's newest release is {newest}, the project is {version}")
            run_validator("appstreamcli", ["validate", "--no-net"], metainfo)

for f in failures:
    print("FAIL:", f)
if failures:
    sys.exit(1)
if skipped:
    print("SKIPPED (everything else passed): " + "; ".join(skipped))
    sys.exit(77)
print("install: every file in place" + (", entry and metainfo valid" if gui else " (CLI only)"))
