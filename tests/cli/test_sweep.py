#!/usr/bin/env python3
"""scalelab-cli sweep plan / train --sweep / sweep run --local / sweep status (issue 12):
1. plan expansion: the grid's product in order (last key fastest), stable ids (same grid, same
   ids in another folder and from a JSON grid file), idempotent re-plan, a folder planned with
   another grid or other base settings refused, and bad input -- an unknown key, a value out of
   range, an empty grid, a key without values, a key given twice, the executor's --threads as a
   key, two values planning the same config, --index out of range, a folder that is no sweep --
   each a clear message and a non-zero exit with nothing written and no record touched;
2. the local executor with --jobs 2: at most 2 children at once; one child SIGKILLed after its
   first epoch leaves an interrupted record, and `sweep run` again continues it from that epoch
   (the epoch-1 row is kept, not retrained) and finishes the sweep; a finished run is never
   retrained; Ctrl-C (SIGINT to the executor) stops it with exit 130 and records "cancelled",
   and running it again finishes the sweep."""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

cli = sys.argv[1]
if not os.path.exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz") and \
        not os.environ.get("SCALELAB_DATA"):
    print("SKIPPED: Fashion-MNIST is not installed")
    sys.exit(77)

failures = []
TINY = ["--model", "resnet-cifar-8", "--subset", "128", "--test-subset", "100",
        "--batch-size", "32", "--val-fraction", "0.1"]


def run(*args, timeout=300):
    return subprocess.run([cli, *args], capture_output=True, text=True, timeout=timeout)


def expect(name, out, code, fragments=()):
    msg = (out.stderr + out.stdout).strip()
    ok = out.returncode == code and all(f in msg for f in fragments)
    first = msg.splitlines()[0] if msg else "(no message)"
    print(f"{name:34s} exit {out.returncode}: {first[:150]}")
    if not ok:
        failures.append(f"{name}: exit {out.returncode} (expected {code}), wanted {fragments} "
                        f"in: {msg[-600:]}")


def snapshot(folder):
    """Every file below `folder` with its bytes and mtime: to prove nothing was touched."""
    out = {}
    for root, _, files in os.walk(folder):
        for f in files:
            p = os.path.join(root, f)
            if f == ".lock":
                continue
            with open(p, "rb") as fh:
                out[p] = (fh.read(), os.stat(p).st_mtime_ns)
    return out


def children_of(parent):
    """PIDs (as text) whose parent is `parent`."""
    out = []
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/stat") as f:
                if pid.isdigit() and f.read().rsplit(")", 1)[1].split()[1] == str(parent):
                    out.append(pid)
        except OSError:
            pass
    return out


def plan_of(folder):
    with open(os.path.join(folder, "sweep.json")) as f:
        return json.load(f)


def summary(run_dir):
    with open(os.path.join(run_dir, "summary.json")) as f:
        return json.load(f)


with tempfile.TemporaryDirectory() as tmp:
    t0 = time.time()
    # --- 1. plan expansion -------------------------------------------------------------------
    a = os.path.join(tmp, "a")
    out = run("sweep", "plan", "--out", a, "--grid", "lr=0.1,0.05", "--grid", "seed=1,2,3",
              *TINY, "--epochs", "1")
    expect("plan 2 x 3", out, 0, ["planned 6 runs"])
    p = plan_of(a)
    points = [(r["point"]["lr"], r["point"]["seed"]) for r in p["runs"]]
    want = [(lr, s) for lr in ("0.1", "0.05") for s in ("1", "2", "3")]
    if points != want or [r["index"] for r in p["runs"]] != list(range(6)):
        failures.append(f"grid product order: {points}")
    ids = [r["id"] for r in p["runs"]]
    if len(set(ids)) != 6 or not all(re.fullmatch(r"lr-[0-9.]+_seed-\d-[0-9a-f]{8}", i) for i in ids):
        failures.append(f"ids not unique/readable: {ids}")
    for r in p["runs"]:
        c = r["config"]
        if abs(c["lr"] - float(r["point"]["lr"])) > 1e-12 or c["seed"] != int(r["point"]["seed"]) \
                or c["model"]["name"] != "resnet-cifar-8" or c["epochs"] != 1 or c["train_subset"] != 128:
            failures.append(f"run {r['index']}: config does not hold base + point: {c}")
    if p["base"].get("model") != "resnet-cifar-8" or p["base"].get("epochs") != "1":
        failures.append(f"base settings: {p['base']}")
    print(f"ids: {ids[0]} ... {ids[-1]}")

    before = snapshot(a)
    out = run("sweep", "plan", "--out", a, "--grid", "lr=0.1,0.05", "--grid", "seed=1,2,3",
              *TINY, "--epochs", "1")
    expect("re-plan the same grid", out, 0, ["unchanged"])
    if snapshot(a) != before:
        failures.append("re-planning the same grid rewrote sweep.json")

    b = os.path.join(tmp, "b")
    grid_file = os.path.join(tmp, "grid.json")
    with open(grid_file, "w") as f:
        json.dump({"lr": [0.1, 0.05], "seed": [1, 2, 3]}, f)
    out = run("sweep", "plan", "--out", b, "--grid-file", grid_file, *TINY, "--epochs", "1")
    expect("same grid from a JSON file", out, 0, ["planned 6 runs"])
    if os.path.exists(os.path.join(b, "sweep.json")) and [r["id"] for r in plan_of(b)["runs"]] != ids:
        failures.append("the same grid from a file / in another folder got other ids")

    out = run("sweep", "plan", "--out", a, "--grid", "lr=0.1,0.02", "--grid", "seed=1,2,3",
              *TINY, "--epochs", "1")
    expect("re-plan with another grid", out, 1, ["another grid", "lr=0.1,0.05", "nothing was written"])
    out = run("sweep", "plan", "--out", a, "--grid", "lr=0.1,0.05", "--grid", "seed=1,2,3",
              *TINY, "--epochs", "2")
    expect("re-plan with other base settings", out, 1, ["other base settings"])
    if snapshot(a) != before:
        failures.append("a refused re-plan changed the folder")

    bad = os.path.join(tmp, "bad")
    for name, args, code, frags in [
        ("unknown grid key", ["--grid", "learning=0.1,0.2"], 2, ["'learning' is not a training setting", "lr"]),
        ("value out of range", ["--grid", "lr=0.1,-1"], 2, ["run 1 (lr=-1)", "--lr", "nothing was written"]),
        ("empty grid", [], 2, ["the grid is empty"]),
        ("key without values", ["--grid", "lr="], 2, ["'lr' has no values"]),
        ("key given twice", ["--grid", "lr=0.1", "--grid", "lr=0.2"], 2, ["given twice"]),
        ("threads as a grid key", ["--grid", "threads=1,2"], 2, ["executor"]),
        ("base and grid key", ["--lr", "0.1", "--grid", "lr=0.1,0.2"], 2, ["given as a base setting and as a grid key"]),
        ("two values, one config", ["--grid", "width=1,1.0"], 2, ["runs 0 (width=1) and 1 (width=1.0) train the same config"]),
        ("switch with a bad value", ["--grid", "hflip=maybe"], 2, ["true or false"]),
        ("not a parameter of the family", ["--grid", "model=resnet-cifar-8,efficientnet-b0", "--blocks", "1,1,1"],
         2, ["run 1 (model=efficientnet-b0)", "not a parameter of efficientnet"]),
    ]:
        base = TINY[2:] if "model=" in " ".join(args) else TINY
        out = run("sweep", "plan", "--out", bad, *base, *args)
        expect(name, out, code, frags)
        if os.path.exists(bad):
            failures.append(f"{name}: {bad} was created")

    # Scaling and ResNet depth are grid keys like any other (planned only: cheap).
    c = os.path.join(tmp, "c")
    out = run("sweep", "plan", "--out", c, "--grid", "model=resnet-cifar-8,resnet-cifar-14",
              "--grid", "width=0.5,1", "--subset", "128", "--epochs", "1")
    expect("model x width", out, 0, ["planned 4 runs"])
    if out.returncode == 0:
        names = [r["config"]["model"]["name"] for r in plan_of(c)["runs"]]
        widths = [r["config"]["model"]["width"] for r in plan_of(c)["runs"]]
        print(f"model x width: {names} widths {widths}")
        if widths != [0.5, 1, 0.5, 1] or not names[0].startswith("resnet-cifar-8") \
                or not names[2].startswith("resnet-cifar-14"):
            failures.append(f"model x width grid: {names} {widths}")

    notempty = os.path.join(tmp, "notempty")
    os.makedirs(notempty)
    open(os.path.join(notempty, "x.txt"), "w").close()
    out = run("sweep", "plan", "--out", notempty, "--grid", "seed=1,2", *TINY)
    expect("plan into a non-sweep folder", out, 1, ["not empty", "x.txt"])

    expect("--index out of range", run("train", "--sweep", a, "--index", "6"), 2,
           ["--index 6 is out of range", "6 runs", "0..5"])
    expect("--index -1", run("train", "--sweep", a, "--index", "-1"), 2, ["--index"])
    expect("--sweep without --index", run("train", "--sweep", a), 2, ["--index"])
    expect("--sweep with other settings", run("train", "--sweep", a, "--index", "0", "--lr", "0.2"),
           2, ["only --index, --threads and --jsonl", "--lr"])
    expect("--sweep on a folder that is no sweep", run("train", "--sweep", notempty, "--index", "0"),
           1, ["not a sweep folder"])
    expect("sweep run without an executor", run("sweep", "run", a), 2, ["--local or --slurm"])
    expect("sweep status of no sweep", run("sweep", "status", notempty), 1, ["not a sweep folder"])
    if snapshot(a) != before or os.path.exists(os.path.join(a, "runs", ids[0])):
        failures.append("a refused command touched the sweep")
    print(f"part 1 (plan): {time.time() - t0:.1f} s")

    # --- 2. the local executor: 2 jobs, one child killed, then continued --------------------
    t1 = time.time()
    k = os.path.join(tmp, "k")
    out = run("sweep", "plan", "--out", k, "--grid", "seed=1,2,3", *TINY, "--epochs", "2")
    expect("plan 3 runs of 2 epochs", out, 0, ["planned 3 runs"])
    kplan = plan_of(k)
    dirs = [os.path.join(k, "runs", r["id"]) for r in kplan["runs"]]
    sweep = subprocess.Popen([cli, "sweep", "run", k, "--local", "--jobs", "2"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    killed = None
    most = 0
    deadline = time.time() + 300
    while sweep.poll() is None and time.time() < deadline:
        children = children_of(sweep.pid)
        most = max(most, len(children))
        if killed is None:
            for i, d in enumerate(dirs):
                try:
                    s = summary(d)
                    pid = int(open(os.path.join(d, ".lock")).read().strip() or 0)
                except (OSError, ValueError):
                    continue
                if s["state"] == "running" and s["epochs_done"] == 1 and str(pid) in children:
                    with open(os.path.join(d, "metrics.csv")) as f:
                        epoch1 = f.read().splitlines()[1]
                    os.kill(pid, signal.SIGKILL)
                    killed = i
                    print(f"killed run {i}'s child (pid {pid}) after its first epoch")
                    break
        time.sleep(0.05)
    text = sweep.communicate(timeout=120)[0]
    print(text.rstrip())
    if killed is None:
        failures.append("no child was caught after its first epoch to kill")
    else:
        if sweep.returncode != 1 or "killed by signal 9" not in text:
            failures.append(f"executor after the kill: exit {sweep.returncode}")
        if most > 2:
            failures.append(f"{most} children ran at once with --jobs 2")
        s = summary(dirs[killed])
        if s["state"] != "running" or s["epochs_done"] != 1:
            failures.append(f"killed run's record: {s['state']} {s['epochs_done']}")
        st = json.loads(run("sweep", "status", k, "--json").stdout)
        states = [r["state"] for r in st["runs"]]
        print(f"status after the kill: {states}")
        if states[killed] != "interrupted" or states.count("done") != 2:
            failures.append(f"status after the kill: {states}")
        out = run("sweep", "run", k, "--local", "--jobs", "2")
        print(out.stdout.rstrip())
        expect("sweep run again", out, 0, ["1 to run (1 to continue)", f"continuing run {killed}",
                                           "3/3 runs finished"])
        with open(os.path.join(dirs[killed], "metrics.csv")) as f:
            rows = f.read().splitlines()
        if len(rows) != 3 or rows[1] != epoch1:
            failures.append(f"resumed run's metrics: {rows} (epoch 1 was {epoch1})")
        for d in dirs:
            s = summary(d)
            if s["state"] != "completed" or s["epochs_done"] != 2 or s["test"]["count"] != 100:
                failures.append(f"{d}: {s['state']} {s['epochs_done']}")
    print(f"most children at once: {most}")

    done = snapshot(os.path.join(k, "runs"))
    expect("train --sweep on a finished run", run("train", "--sweep", k, "--index", "0"), 0,
           ["already done", "not trained again"])
    expect("sweep run on a finished sweep", run("sweep", "run", k, "--local", "--jobs", "2"), 0,
           ["3 finished, 0 to run"])
    if snapshot(os.path.join(k, "runs")) != done:
        failures.append("a finished run's files changed")
    out = run("sweep", "status", k)
    expect("sweep status", out, 0, ["3 runs: 3 done"])
    print(f"part 2 (kill and continue): {time.time() - t1:.1f} s")

    # --- 3. Ctrl-C ---------------------------------------------------------------------------
    t2 = time.time()
    q = os.path.join(tmp, "q")
    run("sweep", "plan", "--out", q, "--grid", "seed=1,2,3", *TINY, "--epochs", "3",
        "--progress-every", "1")
    qdirs = [os.path.join(q, "runs", r["id"]) for r in plan_of(q)["runs"]]
    sweep = subprocess.Popen([cli, "sweep", "run", q, "--local", "--jobs", "2"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and sum(os.path.exists(os.path.join(d, "config.json")) for d in qdirs) < 2:
        time.sleep(0.05)
    sweep.send_signal(signal.SIGINT)  # the executor alone: it passes SIGINT on to its children
    text = sweep.communicate(timeout=120)[0]
    print(text.rstrip())
    states = [summary(d)["state"] if os.path.exists(os.path.join(d, "summary.json")) else
              ("no summary" if os.path.exists(d) else "not started") for d in qdirs]
    print(f"after Ctrl-C: exit {sweep.returncode}, records {states}")
    if sweep.returncode != 130 or states.count("cancelled") != 2 or "not started" not in states:
        failures.append(f"Ctrl-C: exit {sweep.returncode}, records {states}")
    out = run("sweep", "run", q, "--local", "--jobs", "2")
    expect("sweep run after Ctrl-C", out, 0, ["3/3 runs finished"])
    print(f"part 3 (Ctrl-C and continue): {time.time() - t2:.1f} s")

if failures:
    print("FAILED:\n  " + "\n  ".join(failures))
    sys.exit(1)
print("ok")
