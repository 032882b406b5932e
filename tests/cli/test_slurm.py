#!/usr/bin/env python3
"""`scalelab-cli sweep run --slurm` and `sweep status` on a real SLURM (issue 12), not a mock.

The test starts its own single-node cluster in a temporary folder -- munged with its own key and
socket, slurmctld and slurmd with their own slurm.conf (proctrack/linuxproc, task/none,
select/cons_tres, no accounting daemon, free ports, state and spool in the folder), nothing
global touched -- and stops every daemon it started at the end, also when it fails.

It asserts:
1. --dry-run writes DIR/sweep.sbatch (--array=0-3%2, logs in DIR/logs/%A_%a.out) and submits
   nothing;
2. a failing sbatch (an unknown partition) is a clear error, exit 1, nothing recorded;
3. the 4-run sweep of tiny runs submitted with --max-parallel 2 ends with 4 completed run
   records; at most 2 trainings ran at once (the tasks' start/end stamps in their logs, and
   squeue sampled while it ran); the partition oversubscribes its 2 CPUs 4 times, so only the
   array's %2 keeps it at 2; `sweep status` shows tasks queued right after the submission and
   reports all 4 done at the end; submitting again finds nothing to do;
4. a task that fails (its run folder holds a config.json that is not the planned one) is
   reported failed by `sweep status`, with its log's path and the log's last line;
5. nothing the test started is left running.
Skipped (exit 77) only when the SLURM or munge programs are not installed, or when no cgroup
filesystem is mounted (slurmd 22.05 initialises its cgroup plugin even with proctrack/linuxproc
and task/none, and exits without one: a chroot that bind-mounts /sys without its submounts)."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime

cli = os.path.abspath(sys.argv[1])
PROGRAMS = {"munged": "/usr/sbin/munged", "slurmctld": "/usr/sbin/slurmctld",
            "slurmd": "/usr/sbin/slurmd"}
for name in ("munged", "slurmctld", "slurmd"):
    PROGRAMS[name] = shutil.which(name) or (PROGRAMS[name] if os.path.exists(PROGRAMS[name]) else None)
missing = [n for n in ("munged", "slurmctld", "slurmd") if not PROGRAMS[n]] + \
    [n for n in ("sbatch", "squeue", "scontrol", "scancel") if not shutil.which(n)]
if missing:
    print(f"SKIPPED: not installed: {', '.join(missing)} (scripts/setup.sh installs slurm-wlm "
          "and munge as test dependencies)")
    sys.exit(77)
if not os.path.ismount("/sys/fs/cgroup"):
    print("SKIPPED: no cgroup filesystem is mounted on /sys/fs/cgroup; slurmd 22.05 cannot start "
          "without one (in a chroot: mount --rbind /sys)")
    sys.exit(77)
if not os.path.exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz") and \
        not os.environ.get("SCALELAB_DATA"):
    print("SKIPPED: Fashion-MNIST is not installed")
    sys.exit(77)

failures = []
TINY = ["--model", "resnet-cifar-8", "--subset", "128", "--test-subset", "100",
        "--batch-size", "32", "--epochs", "1"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what, check, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if check():
            return True
        time.sleep(0.2)
    failures.append(f"timed out after {timeout} s waiting for {what}")
    return False


class Cluster:
    """munged + slurmctld + slurmd in `root`, on their own socket, key, ports and files."""

    def __init__(self, root):
        self.root = root
        self.procs = []
        self.conf = os.path.join(root, "slurm.conf")
        self.env = dict(os.environ, SLURM_CONF=self.conf)
        for sub in ("munge", "state", "spool", "log"):
            os.makedirs(os.path.join(root, sub))
        os.chmod(os.path.join(root, "munge"), 0o700)
        self.key = os.path.join(root, "munge", "munge.key")
        with open(self.key, "wb") as f:
            f.write(os.urandom(1024))
        os.chmod(self.key, 0o600)
        self.socket = os.path.join(root, "munge", "munge.sock")
        with open("/proc/meminfo") as f:
            mem_mb = int(f.readline().split()[1]) // 1024
        user = "root" if os.getuid() == 0 else os.environ.get("USER", "root")
        log = os.path.join(root, "log")
        with open(self.conf, "w") as f:
            f.write(f"""ClusterName=scalelabtest
SlurmctldHost=localhost(127.0.0.1)
SlurmUser={user}
SlurmctldPort={free_port()}
SlurmdPort={free_port()}
AuthType=auth/munge
AuthInfo=socket={self.socket}
CredType=cred/munge
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd.pid
SlurmctldLogFile={log}/slurmctld.log
SlurmdLogFile={log}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=localhost NodeAddr=127.0.0.1 CPUs=2 RealMemory={int(mem_mb * 0.9)} State=UNKNOWN
# Up to 4 jobs per CPU: without the array's %K, all tasks of a small sweep would run at once.
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
""")

    def start(self):
        def daemon(name, *args):
            out = open(os.path.join(self.root, "log", name + ".out"), "w")
            self.procs.append((name, subprocess.Popen([PROGRAMS[name], *args], stdout=out,
                                                      stderr=subprocess.STDOUT, env=self.env)))
        daemon("munged", "--foreground", "--force", f"--socket={self.socket}",
               f"--key-file={self.key}", f"--pid-file={self.root}/munge/munged.pid",
               f"--seed-file={self.root}/munge/munged.seed",
               f"--log-file={self.root}/log/munged.log")
        if not wait_for("munged's socket", lambda: os.path.exists(self.socket), 20):
            return False
        daemon("slurmctld", "-D", "-f", self.conf)
        daemon("slurmd", "-D", "-N", "localhost", "-f", self.conf)

        def idle():
            for name, p in self.procs:
                if p.poll() is not None:
                    raise RuntimeError(f"{name} exited ({p.returncode}): see {self.root}/log")
            out = self.call("sinfo", "-h", "-o", "%T")
            return out.returncode == 0 and out.stdout.strip() == "idle"
        return wait_for("the node to be idle", idle, 60)

    def call(self, *args, timeout=60):
        return subprocess.run(list(args), capture_output=True, text=True, env=self.env,
                              timeout=timeout)

    def ours(self):
        """PIDs of processes that carry this cluster's SLURM_CONF (daemons, slurmstepd, tasks)."""
        pids = []
        marker = f"SLURM_CONF={self.conf}".encode()
        for pid in os.listdir("/proc"):
            if not pid.isdigit() or int(pid) == os.getpid():
                continue
            try:
                with open(f"/proc/{pid}/environ", "rb") as f:
                    if marker in f.read().split(b"\0"):
                        pids.append(int(pid))
            except OSError:
                pass
        return pids

    def stop(self):
        """Cancels every job, stops the daemons, and ends whatever of ours is left."""
        try:
            self.call("scancel", "--user", str(os.getuid()), timeout=20)
            self.call("scontrol", "shutdown", timeout=20)
        except (subprocess.TimeoutExpired, OSError):
            pass
        for name, p in reversed(self.procs):
            if name == "munged":
                p.terminate()
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=10)
        time.sleep(0.5)
        left = self.ours()
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        alive = [n for n, p in self.procs if p.poll() is None]
        return left, alive


def cli_run(cluster, *args, timeout=300):
    return subprocess.run([cli, *args], capture_output=True, text=True, env=cluster.env,
                          timeout=timeout)


def status(cluster, sweep):
    out = cli_run(cluster, "sweep", "status", sweep, "--json", timeout=60)
    if out.returncode != 0:
        failures.append(f"sweep status: exit {out.returncode}: {out.stderr}")
        return None
    return json.loads(out.stdout)


def stamps(log):
    """(start, end) of a task from the scalelab lines the sbatch script writes."""
    start = end = None
    with open(log) as f:
        for line in f:
            if line.startswith("scalelab: task"):
                words = line.split()
                if "started" in words:
                    start = datetime.strptime(words[words.index("started") + 1], "%Y-%m-%dT%H:%M:%S.%f%z")
                elif "ended" in words:
                    end = datetime.strptime(words[words.index("ended") + 1], "%Y-%m-%dT%H:%M:%S.%f%z")
    return start, end


def most_at_once(intervals):
    events = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals],
                    key=lambda x: (x[0], x[1]))
    now = most = 0
    for _, d in events:
        now += d
        most = max(most, now)
    return most


def fix_nanoseconds(path):
    """date's %N gives 9 digits; Python's %f takes 6."""
    with open(path) as f:
        text = f.read()
    import re
    text = re.sub(r"(\.\d{6})\d{3}([+-]\d{4})", r"\1\2", text)
    with open(path, "w") as f:
        f.write(text)


root = tempfile.mkdtemp(prefix="scalelab-slurm-")
cluster = Cluster(root)
t0 = time.time()
try:
    if cluster.start():
        print(f"cluster up in {time.time() - t0:.1f} s ({root})")
        sweep = os.path.join(root, "sweep")
        out = cli_run(cluster, "sweep", "plan", "--out", sweep, "--grid", "seed=1,2,3,4", *TINY)
        if out.returncode != 0:
            failures.append(f"plan: {out.stderr}")
        plan = json.load(open(os.path.join(sweep, "sweep.json")))
        dirs = [os.path.join(sweep, "runs", r["id"]) for r in plan["runs"]]

        # 1. --dry-run
        out = cli_run(cluster, "sweep", "run", sweep, "--slurm", "--max-parallel", "2", "--dry-run")
        script = os.path.join(sweep, "sweep.sbatch")
        text = open(script).read() if os.path.exists(script) else ""
        print(f"dry run: exit {out.returncode}: {out.stdout.strip().splitlines()[0] if out.stdout else out.stderr}")
        if out.returncode != 0 or "#SBATCH --array=0-3%2" not in text or \
                f"#SBATCH --output={sweep}/logs/%A_%a.out" not in text or \
                "--index \"$SLURM_ARRAY_TASK_ID\"" not in text or \
                os.path.exists(os.path.join(sweep, "slurm.json")):
            failures.append(f"--dry-run: exit {out.returncode}, script:\n{text}")

        # 2. sbatch refuses
        out = cli_run(cluster, "sweep", "run", sweep, "--slurm", "--partition", "nosuch")
        print(f"unknown partition: exit {out.returncode}: {out.stderr.strip()}")
        if out.returncode != 1 or "sbatch" not in out.stderr or "nothing was submitted" not in out.stderr \
                or os.path.exists(os.path.join(sweep, "slurm.json")):
            failures.append(f"failing sbatch: exit {out.returncode}: {out.stderr}")

        # 3. the sweep
        t1 = time.time()
        out = cli_run(cluster, "sweep", "run", sweep, "--slurm", "--max-parallel", "2")
        print(out.stdout.strip() or out.stderr.strip())
        if out.returncode != 0:
            failures.append(f"submit: exit {out.returncode}: {out.stderr}")
        first = status(cluster, sweep)
        first_states = [r["state"] for r in first["runs"]] if first else []
        print(f"status right after the submission: {first_states}")
        if "queued" not in first_states:
            failures.append(f"no task shown queued right after the submission: {first_states}")
        sampled = 0

        def all_done():
            global sampled
            q = cluster.call("squeue", "-h", "-r", "-o", "%K|%T")
            sampled = max(sampled, sum(1 for l in q.stdout.splitlines() if l.endswith("|RUNNING")))
            return all(os.path.exists(os.path.join(d, "summary.json")) and
                       json.load(open(os.path.join(d, "summary.json")))["state"] != "running"
                       for d in dirs) and q.stdout.strip() == ""
        wait_for("the 4 runs", all_done, 600)
        print(f"sweep ran in {time.time() - t1:.1f} s; squeue showed at most {sampled} running")
        for d in dirs:
            s = json.load(open(os.path.join(d, "summary.json"))) if os.path.exists(os.path.join(d, "summary.json")) else {}
            if s.get("state") != "completed" or s.get("epochs_done") != 1 or s.get("test", {}).get("count") != 100:
                failures.append(f"{d}: record {s.get('state')} {s.get('epochs_done')}")
        job = json.load(open(os.path.join(sweep, "slurm.json")))["submissions"][-1]["job_id"]
        intervals = []
        for i in range(4):
            log = os.path.join(sweep, "logs", f"{job}_{i}.out")
            if not os.path.exists(log):
                failures.append(f"no log {log}")
                continue
            fix_nanoseconds(log)
            s, e = stamps(log)
            if s is None or e is None:
                failures.append(f"{log}: no start/end stamps")
                continue
            intervals.append((s, e))
        most = most_at_once(intervals)
        print(f"tasks' own stamps: at most {most} ran at once; "
              + ", ".join(f"{(e - s).total_seconds():.1f} s" for s, e in intervals))
        if most > 2 or sampled > 2:
            failures.append(f"more than 2 tasks at once: stamps {most}, squeue {sampled}")
        final = status(cluster, sweep)
        states = [r["state"] for r in final["runs"]] if final else []
        text = cli_run(cluster, "sweep", "status", sweep).stdout
        print(text.rstrip())
        if states != ["done"] * 4 or "4 runs: 4 done" not in text:
            failures.append(f"sweep status at the end: {states}")
        out = cli_run(cluster, "sweep", "run", sweep, "--slurm", "--max-parallel", "2")
        if out.returncode != 0 or "nothing to submit" not in out.stdout:
            failures.append(f"resubmitting a finished sweep: {out.returncode} {out.stdout} {out.stderr}")

        # 4. a failing task
        bad = os.path.join(root, "bad")
        cli_run(cluster, "sweep", "plan", "--out", bad, "--grid", "seed=7", *TINY)
        bad_plan = json.load(open(os.path.join(bad, "sweep.json")))
        bad_dir = os.path.join(bad, "runs", bad_plan["runs"][0]["id"])
        os.makedirs(bad_dir)
        shutil.copy(os.path.join(dirs[0], "config.json"), bad_dir)  # another run's config
        out = cli_run(cluster, "sweep", "run", bad, "--slurm")
        if out.returncode != 0:
            failures.append(f"submit the failing sweep: {out.stderr}")
        wait_for("the failing task to end",
                 lambda: cluster.call("squeue", "-h", "-r").stdout.strip() == "", 120)
        st = status(cluster, bad)
        r = st["runs"][0] if st else {}
        text = cli_run(cluster, "sweep", "status", bad).stdout
        print(text.rstrip())
        if r.get("state") != "failed" or not r.get("log", "").endswith(f"_{0}.out") or \
                "log " + r.get("log", "?") not in text or "is not the config" not in text:
            failures.append(f"failed task in sweep status: {r}\n{text}")
except Exception as e:  # noqa: BLE001 -- report, then stop the cluster
    failures.append(f"{type(e).__name__}: {e}")
finally:
    left, alive = cluster.stop()
    if left or alive:
        failures.append(f"left running after the stop (now killed): pids {left}, daemons {alive}")
    else:
        print("every daemon and task the test started has ended")
    if failures:
        print(f"logs kept in {root}/log")
    else:
        shutil.rmtree(root, ignore_errors=True)
print(f"total {time.time() - t0:.1f} s")

if failures:
    print("FAILED:\n  " + "\n  ".join(failures))
    sys.exit(1)
print("ok")
