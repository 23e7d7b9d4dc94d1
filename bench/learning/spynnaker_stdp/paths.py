"""Paths shared by the scripts in this folder (importing it has no side effects).

Every script puts this folder first on sys.path, so `import model` / `import paths`
resolve here whatever the working directory is.
"""
import glob
import os
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
# the committed test data (written only by `build.py --update-test-data`)
TEST_DATA = os.path.join(REPO, "cli", "tests", "data", "spynnaker_stdp", "cases.json")
# venvs made by bench/export/setup.sh
VENVS = os.path.join(REPO, "bench", "export", ".venv")
# scratch directory for intermediate files (cases_input.json, nest_out.json,
# vb_results.txt, vb/<case>/, cases.json); every script takes --work DIR
DEFAULT_WORK = os.path.join(tempfile.gettempdir(), "nerve-learning", "spynnaker_stdp")
# 6 random networks also mapped on the virtual board (spy_virtual.py), kept as inputs
RAND_CASES = os.path.join(HERE, "rand_cases.json")


def work_dir(path=None):
    """Create (if needed) and return the absolute work directory."""
    path = os.path.abspath(path or DEFAULT_WORK)
    os.makedirs(path, exist_ok=True)
    return path


def spynnaker_binaries():
    """model_binaries/ of the sPyNNaker 1!7.4.1 wheel: the installed package if this
    interpreter has it, else the venv bench/export/.venv/spynnaker."""
    try:
        import importlib.util
        spec = importlib.util.find_spec("spynnaker")
        if spec and spec.submodule_search_locations:
            d = os.path.join(list(spec.submodule_search_locations)[0], "pyNN",
                             "model_binaries")
            if os.path.isdir(d):
                return d
    except Exception:
        pass
    hits = sorted(glob.glob(os.path.join(VENVS, "spynnaker", "lib", "python3*",
                                         "site-packages", "spynnaker", "pyNN",
                                         "model_binaries")))
    return hits[-1] if hits else None


def show(path):
    """path relative to the repository root if it is inside it (for messages)."""
    path = os.path.abspath(path)
    rel = os.path.relpath(path, REPO)
    return path if rel.startswith("..") else rel
