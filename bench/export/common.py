"""Shared helpers of the exporter validation scripts in bench/export/.

Standard library only: the scripts themselves run under any Python 3 (>= 3.8);
vendor code (NEST, sPyNNaker, PACMAN, lava) runs in the venvs that setup.sh
makes, as child processes, each in its own process group with a timeout.
"""
import argparse
import csv
import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent          # bench/export
REPO = HERE.parent.parent                       # repository root
SETUP = HERE / "setup.sh"
PEERS = REPO.parent / "shared" / "peers"        # /work/shared/peers
DATA = REPO.parent / "shared" / "data"          # /work/shared/data


def common_args(ap, work_prefix):
    ap.add_argument("--nerve", default=str(REPO / "target" / "release" / "nerve"),
                    help="nerve binary (default: %(default)s)")
    ap.add_argument("--work", default=None,
                    help="scratch directory (default: a new %s* dir in /tmp)" % work_prefix)
    ap.add_argument("--venvs", default=str(HERE / ".venv"),
                    help="directory of the vendor venvs made by setup.sh (default: %(default)s)")
    ap.add_argument("--nets", default=None,
                    help="directory already holding nets.py's output (default: run nets.py into WORK/nets)")
    ap.add_argument("--timeout", type=float, default=900.0,
                    help="timeout of each vendor run, s (default: %(default)s)")
    return ap


def setup_work(args, prefix):
    if args.work:
        work = Path(args.work).resolve()
        work.mkdir(parents=True, exist_ok=True)
    else:
        work = Path(tempfile.mkdtemp(prefix=prefix))
    args.work = work
    import shutil
    args.nerve = str(Path(args.nerve).resolve()) if os.sep in args.nerve else (shutil.which(args.nerve) or args.nerve)
    if not (os.path.isfile(args.nerve) and os.access(args.nerve, os.X_OK)):
        sys.exit(f"nerve binary not found: {args.nerve} (give --nerve PATH)")
    print(f"nerve: {args.nerve}")
    print(f"work:  {work}")
    return work


def venv_python(venvs, name):
    """The venv's python; runs setup.sh (which makes all missing venvs) if it is missing."""
    py = Path(venvs) / name / "bin" / "python"
    if not py.exists():
        print(f"== venv {name} missing: running {SETUP} {venvs}", flush=True)
        r = subprocess.run(["bash", str(SETUP), str(venvs)])
        if not py.exists():
            sys.exit(f"setup.sh did not create {py} (exit {r.returncode})")
    return str(py)


class Result:
    def __init__(self, rc, out, err, secs, timed_out):
        self.rc, self.out, self.err, self.secs, self.timed_out = rc, out, err, secs, timed_out

    @property
    def ok(self):
        return self.rc == 0 and not self.timed_out

    def tail(self, n=12, width=300):
        """The last n lines of stdout + stderr, each cut to width characters."""
        lines = (self.out + "\n" + self.err).strip().splitlines()
        return "\n".join("    " + (x if len(x) <= width else x[:width] + " [...]") for x in lines[-n:])


MEM_LIMIT_GB = float(os.environ.get("EXPORT_VALIDATION_MEM_GB", "8"))


def _limit_memory():
    # a runaway vendor run (e.g. a huge exported script) fails with MemoryError instead of
    # driving the machine into the OOM killer
    import resource
    lim = int(MEM_LIMIT_GB * (1 << 30))
    resource.setrlimit(resource.RLIMIT_AS, (lim, lim))


def run(cmd, timeout=600.0, cwd=None, env=None, log=None, limit_memory=True):
    """Runs cmd in its own session (process group); on timeout kills the whole group.
    The address space of each process is limited to EXPORT_VALIDATION_MEM_GB (default 8) GB."""
    cmd = [str(c) for c in cmd]
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, errors="replace", start_new_session=True,
                         preexec_fn=_limit_memory if limit_memory and MEM_LIMIT_GB > 0 else None)
    timed_out = False
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, err = p.communicate()
    finally:
        # lava leaves worker processes behind on errors: clear the group either way
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    secs = time.perf_counter() - t0
    if log:
        with open(log, "w") as f:
            f.write("$ " + " ".join(cmd) + "\n")
            f.write(f"# exit {p.returncode}{' (TIMEOUT %.0f s)' % timeout if timed_out else ''}, "
                    f"{secs:.2f} s\n--- stdout\n{out}\n--- stderr\n{err}\n")
    return Result(p.returncode, out, err, secs, timed_out)


def ensure_nets(args, only=None):
    """Directory with nets.py's networks and its manifest.json (made with nets.py if needed)."""
    if args.nets:
        d = Path(args.nets).resolve()
    else:
        d = args.work / "nets"
    if not (d / "manifest.json").exists():
        cmd = [sys.executable, HERE / "nets.py", "--out", d, "--venvs", args.venvs]
        if only:
            cmd += ["--only", ",".join(only)]
        print(f"== making networks: {' '.join(map(str, cmd))}", flush=True)
        r = run(cmd, timeout=1800, log=args.work / "nets.log")
        print(r.out.rstrip())
        if not r.ok:
            print(r.err[-3000:])
            sys.exit("nets.py failed (see %s)" % (args.work / "nets.log"))
    return d, json.load(open(d / "manifest.json"))


def read_spikes(path):
    """Rows of a nerve spike CSV (population,neuron,time)."""
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def counts_by_pop(path):
    return Counter(r["population"] for r in read_spikes(path))


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


def network_pops(path):
    """[(name, size, model, recorded)] of a nerve network JSON. As `nerve run --record` and the
    exporters do, a network that marks no population records them all."""
    net = json.load(open(path))
    marked = [("spikes" in p.get("record", [])) for p in net["populations"]]
    if not any(marked):
        marked = [True] * len(marked)
    return [(p["name"], p["size"], p["model"], m) for p, m in zip(net["populations"], marked)]


def table(rows, headers, aligns=None):
    """Prints a plain text table; rows are lists of str-able cells."""
    rows = [[("" if c is None else str(c)) for c in r] for r in rows]
    w = [len(h) for h in headers]
    for r in rows:
        for i, c in enumerate(r):
            w[i] = max(w[i], len(c))
    aligns = aligns or ["<"] + [">"] * (len(headers) - 1)

    def line(cells):
        return "  ".join(f"{c:{a}{n}}" for c, a, n in zip(cells, aligns, w)).rstrip()
    print(line(headers))
    print("  ".join("-" * n for n in w))
    for r in rows:
        print(line(r))


def fmt_s(secs):
    return "-" if secs is None else f"{secs:.2f}"


def select(manifest, only, default):
    """Network names: --only's (checked against the manifest), else those default(name, entry) keeps."""
    if only:
        names = only.split(",")
        missing = [n for n in names if n not in manifest]
        if missing:
            sys.exit(f"unknown network(s) {missing}; the manifest has {sorted(manifest)}")
        return names
    return [n for n, m in manifest.items() if default(n, m)]


def main_guard(fn):
    try:
        sys.exit(fn())
    except KeyboardInterrupt:
        sys.exit(130)


def parser(doc):
    return argparse.ArgumentParser(description=doc.strip().splitlines()[0],
                                   formatter_class=argparse.RawDescriptionHelpFormatter,
                                   epilog="\n".join(doc.strip().splitlines()[1:]))
