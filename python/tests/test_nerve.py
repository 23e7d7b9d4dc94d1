"""Tests of the Python package `nerve` (python/README.md).

Run after building and installing the wheel (python/ci.sh). The CLI
comparisons use the `nerve` binary: $NERVE_BIN, else target/{debug,release}/nerve
of this checkout (python/ci.sh builds it)."""

import csv
import json
import os
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import nerve

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "examples" / "small.json"
NIR_FF = ROOT / "compiler" / "tests" / "data" / "nir" / "ff_lif_20_16_4.nir"
NIR_FF_SPIKES = ROOT / "compiler" / "tests" / "data" / "nir" / "ff_lif_20_16_4.nir.spikes.csv"


def nerve_bin():
    env = os.environ.get("NERVE_BIN")
    if env:
        return env
    for p in (ROOT / "target" / "debug" / "nerve", ROOT / "target" / "release" / "nerve"):
        if p.exists():
            return str(p)
    found = shutil.which("nerve")
    if found:
        return found
    pytest.fail("no `nerve` binary: set NERVE_BIN or `cargo build -p nerve-cli`")


def cli(*args):
    r = subprocess.run([nerve_bin(), *map(str, args)], capture_output=True, text=True, env={**os.environ, "NERVE_HUGEPAGES": "0"})
    assert r.returncode == 0, r.stderr
    return r


def read_spike_csv(path):
    """{population: [(neuron, time_ms)]} in file order."""
    out = {}
    with open(path) as f:
        for row in csv.DictReader(f):
            out.setdefault(row["population"], []).append((int(row["neuron"]), float(row["time"])))
    return out


def as_pairs(spikes):
    return {pop: list(zip(n.tolist(), t.tolist())) for pop, (n, t) in spikes.items() if len(n)}


def input_net():
    """An input population of 8 driving 4 LIF neurons, as a dict."""
    return {
        "name": "tiny_in",
        "dt_ms": 1.0,
        "populations": [
            {"name": "inp", "size": 8, "model": "input"},
            {"name": "out", "size": 4, "model": "lif",
             "params": {"tau_m": 10.0, "cm": 0.25, "v_rest": -65.0, "v_reset": -65.0, "v_thresh": -55.0,
                        "tau_refrac": 2.0, "tau_syn_E": 5.0, "tau_syn_I": 5.0, "i_offset": 0.0},
             "record": ["spikes"]},
        ],
        "projections": [
            {"pre": "inp", "post": "out", "receptor": "excitatory",
             "connector": {"type": "all_to_all"}, "weight": 2.0, "delay": 1.0},
        ],
    }


# ------------------------------------------------------------------ arch

def test_arch():
    assert set(nerve.archs()) >= {"loihi", "spinnaker", "spinnaker2", "tiny"}
    a = nerve.arch("loihi")
    assert a.name == "loihi"
    fields = a.fields
    assert isinstance(fields, dict) and fields["name"] == "loihi"
    assert "energy" in fields and "timing" in fields
    assert "loihi" in a.to_toml()


def test_arch_unknown():
    with pytest.raises(ValueError, match="nope"):
        nerve.arch("nope")


def test_arch_file_roundtrip(tmp_path):
    p = tmp_path / "mine.toml"
    p.write_text(nerve.arch("tiny").to_toml())
    assert nerve.arch(str(p)).fields == nerve.arch("tiny").fields


# ------------------------------------------------------------------ compile

def test_compile_path_and_dict_identical(tmp_path):
    by_path = nerve.compile(SMALL, arch="spinnaker")
    by_str = nerve.compile(str(SMALL), arch=nerve.arch("spinnaker"))
    by_dict = nerve.compile(json.loads(SMALL.read_text()), arch="spinnaker")
    assert by_path.to_bytes() == by_str.to_bytes() == by_dict.to_bytes()
    out = tmp_path / "small.img"
    by_dict.save(out)
    assert out.read_bytes() == by_path.to_bytes()
    loaded = nerve.load(out)
    assert loaded.to_bytes() == by_path.to_bytes()
    assert loaded.report is None
    assert by_path.network == "small" and by_path.arch.name == "spinnaker" and by_path.dt_ms == 0.1
    assert [p["name"] for p in by_path.populations] == ["stim", "exc", "inh"]


def test_compile_image_matches_cli(tmp_path):
    img = tmp_path / "cli.img"
    cli("compile", SMALL, "--arch", "loihi", "--seed", "3", "-o", img, "--quiet")
    assert nerve.compile(SMALL, "loihi", seed=3).to_bytes() == img.read_bytes()


def test_mapping_report():
    r = nerve.compile(SMALL, "spinnaker", neurons_per_core=64).report
    assert isinstance(r, dict)
    text = json.dumps(r)
    assert "exc" in text
    # 400 exc neurons at most 64 per core: at least 7 cores for them alone.
    assert nerve.compile(SMALL, "spinnaker", neurons_per_core=64).to_bytes() != nerve.compile(SMALL, "spinnaker").to_bytes()


def test_compile_errors(tmp_path):
    with pytest.raises(OSError, match="missing.json"):
        nerve.compile(tmp_path / "missing.json")
    bad = json.loads(SMALL.read_text())
    bad["populations"][1]["params"]["tau_m"] = "fast"
    with pytest.raises(ValueError, match="tau_m"):
        nerve.compile(bad)
    with pytest.raises(ValueError, match="NIR"):
        nerve.compile(json.loads(SMALL.read_text()), dt=0.001)
    with pytest.raises(ValueError, match="reset"):
        nerve.compile(NIR_FF, reset="sometimes")
    with pytest.raises(TypeError, match="network"):
        nerve.compile(42)
    with pytest.raises(ValueError, match="neurons_per_core"):
        nerve.compile(SMALL, neurons_per_core=0)
    for bad in [-1.0, float("nan")]:
        with pytest.raises(ValueError, match="shared_routes"):
            nerve.compile(SMALL, shared_routes=bad)


def test_unreadable_files_raise_oserror(tmp_path):
    # A file that cannot be opened is an OSError (the subclass open() would
    # raise) naming the file, whichever reader meets it; one read and found
    # wrong stays a ValueError. The NIR, placement and connection-list
    # readers raised ValueError for both.
    with pytest.raises(FileNotFoundError, match=r"cannot read NIR file .*missing\.nir"):
        nerve.compile(tmp_path / "missing.nir")
    junk = tmp_path / "junk.nir"
    junk.write_bytes(b"not HDF5")
    with pytest.raises(ValueError, match="HDF5"):
        nerve.compile(junk)
    # Not UTF-8 is found wrong once read: a ValueError (it was an OSError),
    # as Python's own decoding raises UnicodeDecodeError, a ValueError.
    latin = tmp_path / "latin.json"
    latin.write_bytes(b'{"name": "x\xff", "populations": []}')
    with pytest.raises(ValueError, match=r"latin\.json.*not UTF-8 text: byte 0xff at line 1, column 12"):
        nerve.compile(latin, "spinnaker")
    with pytest.raises(IsADirectoryError, match="cannot read placement file"):
        nerve.compile(input_net(), placement=str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"cannot read placement file .*none\.csv"):
        nerve.compile(input_net(), placement=str(tmp_path / "none.csv"))
    net = input_net()
    net["projections"][0]["connector"] = {"type": "from_list", "file": str(tmp_path / "nope.csv")}
    with pytest.raises(FileNotFoundError, match=r"connection list .*nope\.csv \(referenced at \$\.projections\[0\]"):
        nerve.compile(net)


def test_dict_network_values_named_by_json_path():
    # A lone surrogate was refused at a column of json.dumps's text.
    net = input_net()
    net["projections"][0]["label"] = "x\ud800"
    with pytest.raises(ValueError, match=r"\$\.projections\[0\]\.label: a str that is not Unicode text"):
        nerve.compile(net)
    net = input_net()
    net["populations"][1]["params"]["x\udfff"] = 1
    with pytest.raises(ValueError, match=r"\$\.populations\[1\]\.params, a key: a str that is not Unicode text"):
        nerve.compile(net)
    # A pair of surrogate escapes is one character, read as before.
    net = input_net()
    net["projections"][0]["label"] = "x\U0001F9E0"
    assert nerve.compile(net).to_bytes() != b""
    # json.dumps wrote NaN as a token the parser refused at "line 1,
    # column 106", and refused numpy values without saying where.
    for bad in [float("nan"), float("inf"), np.float64("-inf")]:
        net = input_net()
        net["populations"][1]["params"]["tau_m"] = bad
        with pytest.raises(ValueError, match=r"\$\.populations\[1\]\.params\.tau_m: -?(NaN|inf) is not a finite number"):
            nerve.compile(net)
    net = input_net()
    net["populations"][1]["params"]["v_thresh"] = np.array([1.0, float("nan")])
    with pytest.raises(ValueError, match=r"\$\.populations\[1\]\.params\.v_thresh\[1\]"):
        nerve.compile(net)
    net = input_net()
    net["populations"][1]["params"]["tau_m"] = {1.5}
    with pytest.raises(TypeError, match=r"\$\.populations\[1\]\.params\.tau_m: a set is not a JSON value"):
        nerve.compile(net)
    # numpy scalars and arrays are their plain values: the same image.
    net = input_net()
    net["populations"][0]["size"] = np.int64(8)
    net["populations"][1]["params"]["tau_m"] = np.float32(10.0)
    net["projections"][0]["weight"] = np.array(2.0)
    net["projections"][0]["delay"] = np.float64(1.0)
    assert nerve.compile(net).to_bytes() == nerve.compile(input_net()).to_bytes()
    # A longdouble (its tolist is a longdouble again) was "not a JSON value".
    net = input_net()
    net["populations"][1]["params"]["tau_m"] = np.longdouble(10.0)
    net["projections"][0]["weight"] = np.array(2.0, dtype=np.longdouble)
    assert nerve.compile(net).to_bytes() == nerve.compile(input_net()).to_bytes()
    # An int past a float's range was refused at a column of the text json.dumps made.
    net = input_net()
    net["populations"][1]["params"]["tau_m"] = 10**400
    with pytest.raises(ValueError, match=r"\$\.populations\[1\]\.params\.tau_m: an integer of 401 digits is past the range"):
        nerve.compile(net)


def test_placement_and_arch_take_pathlike(tmp_path):
    # Both took str alone, while compile, load and probe_out took os.PathLike.
    prof = tmp_path / "mine.toml"
    prof.write_text(nerve.arch("tiny").to_toml())
    assert nerve.arch(prof).fields == nerve.arch("tiny").fields
    pl = tmp_path / "pl.csv"
    pl.write_text("population,slice,core\ninp,0,3\nout,0,5\n")
    assert nerve.compile(input_net(), placement=pl).to_bytes() == nerve.compile(input_net(), placement=str(pl)).to_bytes()
    with pytest.raises(ValueError, match="placement `packed`: expected `pack`, `spread` or a CSV file"):
        nerve.compile(input_net(), placement="packed")
    with pytest.raises(TypeError, match="placement: expected"):
        nerve.compile(input_net(), placement=3)
    # A placement file is used as it is: refining options with it are refused, not ignored.
    # Their defaults too, given (as `nerve compile --seed 0` is refused).
    for kw, named in [(dict(seed=9), "seed"), (dict(effort=5), "effort"), (dict(effort=5, seed=1), "effort, seed"), (dict(seed=0), "seed"), (dict(effort=60), "effort")]:
        with pytest.raises(ValueError, match=rf"^{named}: refine a placement by \"pack\" or \"spread\""):
            nerve.compile(input_net(), placement=pl, **kw)
    nerve.compile(input_net(), placement="spread", seed=9, effort=5)


def test_shared_routes():
    shared = nerve.compile(SMALL, "spinnaker", neurons_per_core=10).report["routing"]
    exact = nerve.compile(SMALL, "spinnaker", neurons_per_core=10, shared_routes=0).report["routing"]
    assert shared["sharing"]["pairs_shared"] > 0 and exact["sharing"]["pairs_shared"] == 0
    assert shared["entries_compressed"] < exact["entries_compressed"]


# ------------------------------------------------------------------ NIR

def test_nir_file():
    img = nerve.compile(NIR_FF, "loihi")
    assert img.nir is not None and img.nir["dt_s"] > 0 and img.nir["reset"] in ("zero", "subtract")
    assert img.network == "ff_lif_20_16_4"
    r = img.run(50, inputs=input_from_csv(NIR_FF_SPIKES))
    assert sum(len(n) for n, _ in r.spikes.values()) > 0


def test_nir_graph_object():
    nir = pytest.importorskip("nir")
    graph = nir.read(str(NIR_FF))
    assert isinstance(graph, nir.NIRGraph)
    from_graph = nerve.compile(graph, "loihi", name="ff_lif_20_16_4")
    assert from_graph.to_bytes() == nerve.compile(NIR_FF, "loihi").to_bytes()
    with pytest.raises(ValueError, match="name"):
        nerve.compile(NIR_FF, name="x")


def test_a_nir_sample_dt_that_is_not_a_number_is_refused_unless_dt_is_given(tmp_path):
    # Text or a list in `sample_dt` was passed over for the default 1 ms without a word.
    h5py = pytest.importorskip("h5py")
    for value in ["0.0005", [0.0005, 0.001]]:
        f = tmp_path / "odd_dt.nir"
        shutil.copy(NIR_FF, f)
        with h5py.File(f, "r+") as h:
            meta = h["node"].require_group("metadata")
            if "sample_dt" in meta:
                del meta["sample_dt"]
            meta["sample_dt"] = value
        with pytest.raises(ValueError, match="sample_dt is not a number"):
            nerve.compile(f, "loihi")
        assert nerve.compile(f, "loihi", dt=0.0005).nir["dt_s"] == 0.0005


def small_nir_graph(nir, metadata=None, mid=None):
    """Input(1×4×4) → `mid` → IF, as nir.write lays a graph out."""
    nodes = {"input": nir.Input(input_type=np.array([1, 4, 4]))}
    edges = []
    last = "input"
    if mid is not None:
        for name, node in mid:
            nodes[name] = node
            edges.append((last, name))
            last = name
    shape = {"pool": [1, 2, 2], "flat": [16]}.get(last, [1, 4, 4])
    n = int(np.prod(shape))
    if last == "input":
        nodes["lin"] = nir.Linear(weight=np.ones((16, 16)))
        nodes["flat0"] = nir.Flatten(input_type={"input": np.array([1, 4, 4])}, start_dim=0, end_dim=-1)
        edges += [("input", "flat0"), ("flat0", "lin")]
        last, shape, n = "lin", [16], 16
    nodes["if"] = nir.IF(r=np.ones(shape), v_threshold=np.ones(shape))
    nodes["output"] = nir.Output(output_type=np.array(shape))
    edges += [(last, "if"), ("if", "output")]
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=metadata or {"sample_dt": 1e-3})


def test_nir_reset_subtract_is_read_as_python_writes_it(tmp_path):
    # nir.write stores a Python or numpy bool as HDF5's boolean (an
    # enumeration): it was passed over, and the reset defaulted to v_reset.
    nir = pytest.importorskip("nir")
    f = tmp_path / "meta.nir"
    for value, want in [(True, "subtract"), (np.bool_(True), "subtract"), (False, "zero"), (1, "subtract"), (0.0, "zero")]:
        nir.write(str(f), small_nir_graph(nir, {"sample_dt": 1e-3, "reset_subtract": value}))
        got = nerve.compile(f, "spinnaker").nir
        assert got["reset"] == want and "reset_subtract" in got["reset_why"], (value, got)
    # Text was passed over too: refused unless `reset` says what to do.
    nir.write(str(f), small_nir_graph(nir, {"sample_dt": 1e-3, "reset_subtract": "yes"}))
    with pytest.raises(ValueError, match="reset_subtract is not a number"):
        nerve.compile(f, "spinnaker")
    assert nerve.compile(f, "spinnaker", reset="subtract").nir["reset"] == "subtract"


def test_nir_geometry_is_whole_and_complete(tmp_path):
    # An empty pool padding ran as 1 (a conv's as 0), surplus values were
    # dropped, and a Flatten dim of 0.7 or NaN was read as 0.
    nir = pytest.importorskip("nir")
    f = tmp_path / "geo.nir"
    pool = lambda pad: [("pool", nir.SumPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array(pad)))]
    flat = lambda start: [("flat", nir.Flatten(input_type={"input": np.array([1, 4, 4])}, start_dim=start, end_dim=-1))]
    nir.write(str(f), small_nir_graph(nir, mid=pool([0, 0])))
    nerve.compile(f, "spinnaker")
    h5py = pytest.importorskip("h5py")
    for mid, field, value, want in [
        (pool([0, 0]), "pool/padding", np.zeros(0, dtype=np.int64), "`padding` has 0 values, expected 1 or 2"),
        (pool([0, 0]), "pool/padding", np.array([0, 0, 5]), "`padding` has 3 values, expected 1 or 2"),
        (flat(0), "flat/start_dim", 0.7, "`start_dim` is 0.7: expected a whole number"),
        (flat(0), "flat/start_dim", float("nan"), "`start_dim` is NaN: expected a whole number"),
    ]:
        # nir's own nodes cannot be made with these values: written over.
        nir.write(str(f), small_nir_graph(nir, mid=mid))
        with h5py.File(f, "r+") as h:
            del h[f"node/nodes/{field}"]
            h[f"node/nodes/{field}"] = value
        with pytest.raises(ValueError, match=re.escape(want)):
            nerve.compile(f, "spinnaker")


def test_nir_graph_name_follows_the_network_name_rule():
    # `name` was checked as a file name: 200 UTF-8 bytes said to be
    # "characters" (150 × "é" refused), and "a\nb" failed naming a
    # temporary file. It names the network, as a JSON network's name does.
    nir = pytest.importorskip("nir")
    graph = nir.read(str(NIR_FF))
    for bad, why in [("", "cannot be empty"), ("a\nb", r"holds '\\n'"), ("é" * 257, "257 characters, beyond 256")]:
        with pytest.raises(ValueError, match="^name: .*" + why) as e:
            nerve.compile(graph, "loihi", name=bad)
        assert "nerve-" not in str(e.value) and ".nir" not in str(e.value)
    for good in ["é" * 256, "../not/a/path", "snn model"]:
        assert nerve.compile(graph, "loihi", name=good).network == good
    assert nerve.compile(graph, "loihi").network == "nir_graph"
    # Errors in the graph name it, not the temporary file it is written to.
    with pytest.raises(ValueError, match=r"^<nir\.NIRGraph>: .*dt="):
        nerve.compile(graph, "loihi", dt=1e9)


def input_from_csv(path):
    """The `input` population's spikes of a recording (a valid --input file)."""
    rows = [r for r in csv.DictReader(open(path)) if r["population"] == "input"]
    assert rows
    return [(r["population"], int(r["neuron"]), float(r["time"])) for r in rows]


# ------------------------------------------------------------------ run

def test_run_inputs_probes_shapes():
    img = nerve.compile(input_net(), "spinnaker")
    neurons = np.array([0, 1, 2, 3, 4, 5, 6, 7, 0, 1], dtype=np.int32)
    times = np.array([1, 1, 1, 1, 1, 1, 1, 1, 20, 20], dtype=np.float64)
    r = img.run(60, inputs={"inp": (neurons, times)}, probes=["out:v"])
    n, t = r.spikes["out"]
    assert n.dtype == np.uint32 and t.dtype == np.float64 and n.shape == t.shape
    assert len(n) > 0, "8 input spikes of weight 2 nA should make the LIF neurons fire"
    assert np.all(np.diff(t) >= 0)
    assert np.all(n < 4)
    v = r.probes["out:v"]
    assert v.dtype == np.float64 and v.shape == (60, 4)
    assert v[0, 0] == pytest.approx(-65.0, abs=0.1)
    assert v.max() <= -55.0 + 1.0
    # The same spikes given as a list of (population, neuron, time_ms) and as a structured array.
    as_list = [("inp", int(a), float(b)) for a, b in zip(neurons, times)]
    r2 = img.run(60, inputs=as_list, probes="out:v")
    rec = np.array(as_list, dtype=[("population", "U8"), ("neuron", "u4"), ("time", "f8")])
    r3 = img.run(60, inputs=rec)
    # Lists for tuples, and a structured array's bytes (`S`) names, as the docs' "sequence".
    r4 = img.run(60, inputs=[list(x) for x in as_list])
    r5 = img.run(60, inputs=np.array(as_list, dtype=[("population", "S8"), ("neuron", "i4"), ("time", "f8")]))
    for other in (r2, r3, r4, r5):
        assert as_pairs(other.spikes) == as_pairs(r.spikes)
    assert np.array_equal(r2.probes["out:v"], v)
    # No input: no output spikes.
    quiet = img.run(60)
    assert len(quiet.spikes["out"][0]) == 0
    assert r.report["counts"] != quiet.report["counts"]


def test_run_probe_out_writes_as_it_goes(tmp_path):
    img = nerve.compile(input_net(), "spinnaker")
    inputs = {"inp": ([0, 1, 2, 3, 4, 5, 6, 7, 0, 1], [1, 1, 1, 1, 1, 1, 1, 1, 20, 20])}
    kept = img.run(60, inputs=inputs, probes=["out:v"], record_all=True)
    # max_memory=1: every step streamed to the file; the spikes are returned whole all the same.
    for budget in (1, None):
        path = tmp_path / f"v{budget}.npy"
        r = img.run(60, inputs=inputs, probes=["out:v"], record_all=True, probe_out=path, max_memory=budget)
        assert path.exists()
        v = r.probes["out:v"]
        assert isinstance(v, np.memmap) and v.dtype == np.float64 and v.shape == (60, 4)
        assert np.array_equal(v, kept.probes["out:v"])
        assert np.array_equal(np.load(path), kept.probes["out:v"])
        assert as_pairs(r.spikes) == as_pairs(kept.spikes) and len(r.spikes["out"][0]) > 0
        assert r.report["counts"] == kept.report["counts"]
    # More spikes than the summary's sample (200,000): all come back from a streamed run.
    busy = {"name": "busy", "dt_ms": 1.0, "populations": [
        {"name": "src", "size": 1000, "model": "spike_source_poisson", "params": {"rate": 900.0}, "seed": 1, "record": ["spikes"]},
        {"name": "out", "size": 4, "model": "lif", "params": {"tau_m": 10.0}, "record": ["spikes"]}],
        "projections": [{"pre": "src", "post": "out", "connector": {"type": "all_to_all"}, "weight": 0.001, "delay": 1.0}]}
    big = nerve.compile(busy, "spinnaker")
    whole = big.run(300, probes=["out:v"])
    streamed = big.run(300, probes=["out:v"], probe_out=tmp_path / "busy.npy", max_memory=1)
    assert len(whole.spikes["src"][0]) > 200_000
    assert as_pairs(streamed.spikes) == as_pairs(whole.spikes)
    assert np.array_equal(streamed.probes["out:v"], whole.probes["out:v"])
    # Several probes go to CSV, the same bytes as `nerve run --probe-out`
    # writes; none come back in memory.
    out_vars = [v["name"] for p in img.populations if p["name"] == "out" for v in p["vars"]]
    two = [f"out:{x}" for x in out_vars[:2]]
    assert len(two) == 2
    img.save(tmp_path / "net.img")
    cli("run", tmp_path / "net.img", "--steps", 60, "--quiet", "--probe", two[0], "--probe", two[1], "--probe-out", tmp_path / "cli.csv")
    for budget in (1, 1 << 31):
        path = tmp_path / f"p{budget}.csv"
        r = img.run(60, probes=two, probe_out=path, max_memory=budget)
        assert r.probes == {}
        assert path.read_bytes() == (tmp_path / "cli.csv").read_bytes()
    with pytest.raises(ValueError, match="probe_out: no probes"):
        img.run(10, probe_out=tmp_path / "none.npy")
    with pytest.raises(ValueError, match="one probe"):
        img.run(10, probes=["out:v", "out:isyn"], probe_out=tmp_path / "two.npy")
    with pytest.raises(ValueError, match=r"not JSON: name it \.csv"):
        img.run(10, probes=["out:v"], probe_out=tmp_path / "v.json")
    assert not (tmp_path / "v.json").exists()
    with pytest.raises(ValueError, match="max_memory"):
        img.run(10, probes=["out:v"], probe_out=tmp_path / "v.npy", max_memory=0)
    with pytest.raises(ValueError, match="max_memory: only with probe_out"):
        img.run(10, probes=["out:v"], max_memory=1 << 20)
    with pytest.raises(OSError):
        img.run(10, probes=["out:v"], probe_out=tmp_path / "no" / "such" / "dir" / "v.npy", max_memory=1)


def test_run_report_has_energy():
    r = nerve.compile(SMALL, "spinnaker").run(500, inference_steps=100)
    e = r.report["energy"]
    assert e["total_j"] > 0 and e["dynamic_j"] > 0
    assert e["per_inference_j"] == pytest.approx(e["total_j"] / 5, rel=1e-9)
    assert r.report["steps"] == 500 and r.report["arch"] == "spinnaker"
    assert "energy" in str(r)
    # The hint is Python's way to the report file, not the CLI's option.
    assert "json.dump(r.report, f)" in str(r) and "--report" not in str(r)
    off = nerve.compile(SMALL, "spinnaker").run(500, static_power=False)
    assert off.report["energy"]["total_j"] < e["total_j"]


def test_an_inference_longer_than_the_run_is_refused_as_by_the_cli(tmp_path):
    # It ran, reporting an energy per inference extrapolated from half of
    # one, where `nerve run --inference-steps` refuses it.
    img = nerve.compile(SMALL, "spinnaker")
    want = r"is more than the 5 steps run .*: run at least one whole inference, so that its energy is measured rather than extrapolated"
    with pytest.raises(ValueError, match=r"^inference_steps 10 " + want.replace(".*", r"\(steps\)")):
        img.run(5, inference_steps=10)
    img.save(tmp_path / "small.img")
    r = subprocess.run([nerve_bin(), "run", str(tmp_path / "small.img"), "--steps", "5", "--inference-steps", "10"],
                       capture_output=True, text=True, env={**os.environ, "NERVE_HUGEPAGES": "0"})
    assert r.returncode == 2 and "--inference-steps 10 is more than the 5 steps run (--steps): run at least one whole inference" in r.stderr, r.stderr
    # One whole inference or more still runs.
    assert img.run(5, inference_steps=5).report["energy"]["per_inference_j"] > 0


def test_threads_and_engines_agree():
    img = nerve.compile(SMALL, "spinnaker")
    base = as_pairs(img.run(400, record_all=True).spikes)
    assert "stim" in base
    assert as_pairs(img.run(400, record_all=True, threads=2).spikes) == base
    assert as_pairs(img.run(400, record_all=True, engine="interp").spikes) == base
    assert as_pairs(img.run(400, record_all=True, engine="jit-cranelift").spikes) == base
    # The AVX-512 and AVX2 backends where the host has them; elsewhere an error that says why.
    for engine, isa in [("jit-avx512", "AVX-512"), ("jit-avx2", "AVX2")]:
        try:
            avx = img.run(400, record_all=True, engine=engine)
        except Exception as e:
            assert isa in str(e)
        else:
            assert as_pairs(avx.spikes) == base


def test_bad_inputs_name_the_culprit():
    img = nerve.compile(input_net(), "spinnaker")
    with pytest.raises(ValueError, match="nowhere"):
        img.run(10, inputs={"nowhere": ([0], [1.0])})
    with pytest.raises(ValueError, match=r"neuron 99"):
        img.run(10, inputs={"inp": ([99], [1.0])})
    with pytest.raises(ValueError, match=r"inputs\[\"inp\"\]\[1\].*-1"):
        img.run(10, inputs={"inp": ([0, -1], [1.0, 2.0])})
    with pytest.raises(ValueError, match=r"inp.*2 neuron indices but 1 times"):
        img.run(10, inputs={"inp": ([0, 1], [1.0])})
    with pytest.raises(ValueError, match="integers"):
        img.run(10, inputs={"inp": (np.array([0.5]), [1.0])})
    with pytest.raises(ValueError, match=r"inputs\[\"inp\"\]\[0\].*NaN"):
        img.run(10, inputs={"inp": ([0], [float("nan")])})
    with pytest.raises(ValueError, match=r"inputs\[1\]: neuron: expected an integer index, got str 'zero'"):
        img.run(10, inputs=[("inp", 0, 1.0), ("inp", "zero", 1.0)])
    # Each field named, not the record restated as if it had the wrong shape.
    with pytest.raises(ValueError, match=r"inputs\[0\]: neuron: expected an integer index, got float 0\.0"):
        img.run(10, inputs=[("inp", 0.0, 1.0)])
    with pytest.raises(ValueError, match=r"inputs\[0\]: population: expected a str, got int 3"):
        img.run(10, inputs=[[3, 0, 1.0]])
    with pytest.raises(ValueError, match=r"inputs\[0\]: time_ms: expected a number, got str 'soon'"):
        img.run(10, inputs=[("inp", 0, "soon")])
    with pytest.raises(ValueError, match=r"inputs\[0\]: expected \(population, neuron, time_ms\), got \('inp', 0\)"):
        img.run(10, inputs=[("inp", 0)])
    with pytest.raises(ValueError, match="`out`"):
        img.run(10, inputs={"out": ([0], [1.0])})
    with pytest.raises(ValueError, match="two spikes"):
        img.run(10, inputs={"inp": ([0, 0], [1.0, 1.2])})
    with pytest.raises(ValueError, match="no variable `w`"):
        img.run(10, probes=["out:w"])
    with pytest.raises(ValueError, match="no population `ghost`"):
        img.run(10, probes=["ghost:v"])
    # Probes past the host's memory are refused before the run (they were
    # aborted by the allocator after every step had run).
    with pytest.raises(MemoryError, match=r"out:v.*4000000000 steps.*--probe-out.*probe_out=FILE"):
        img.run(4_000_000_000, probes=["out:v"])
    with pytest.raises(ValueError, match="no variable `w`"):
        img.run(4_000_000_000, probes=["out:w"])
    with pytest.raises(ValueError, match="engine"):
        img.run(10, engine="gpu")
    with pytest.raises(TypeError, match="inputs"):
        img.run(10, inputs=3)


def test_integer_arguments_name_themselves_and_their_range():
    # -1 raised a bare OverflowError ("can't convert negative int to
    # unsigned"), 2.5 a TypeError, neither naming the argument or the range.
    img = nerve.compile(input_net(), "spinnaker")
    for kw in [dict(steps=-1), dict(steps=2**64), dict(steps=3, threads=-1), dict(steps=3, inference_steps=-1),
               dict(steps=3, inference_steps=0), dict(steps=3, probes="out:v", probe_out="x.npy", max_memory=-1)]:
        name = [k for k in kw if k != "probes" and k != "probe_out"][-1]
        with pytest.raises(ValueError, match=rf"^{name}: -?\d+ is out of range: give an integer from [01] to \d+"):
            img.run(**kw)
    for kw in [dict(steps=2.5), dict(steps="5"), dict(steps=3, threads=1.0)]:
        with pytest.raises(TypeError, match=rf"^{list(kw)[-1]}: expected an integer, got (float|str)"):
            img.run(**kw)
    for kw in [dict(seed=-1), dict(seed=2**64), dict(neurons_per_core=-1), dict(neurons_per_core=0), dict(effort=-1)]:
        with pytest.raises(ValueError, match=rf"^{list(kw)[0]}: -?\d+ is out of range: give an integer from [01] to \d+"):
            nerve.compile(input_net(), **kw)
    with pytest.raises(TypeError, match="^seed: expected an integer, got float"):
        nerve.compile(input_net(), seed=1.5)
    # Integers of every kind still pass: numpy's, the largest seed.
    assert img.run(np.int64(3), threads=np.uint8(1)).report["steps"] == 3
    nerve.compile(input_net(), seed=2**64 - 1, effort=np.int32(0))


def test_arch_name_and_steps_name_themselves():
    # pyo3's conversion said "expected str, bytes or os.PathLike object, not
    # NoneType", then of bytes "'bytes' object is not an instance of 'str'";
    # 2^32 steps were refused by the emulator without naming `steps`.
    for bad, kind in [(None, "NoneType"), (b"loihi", "bytes"), (3, "int")]:
        with pytest.raises(TypeError, match=rf"^name: expected a profile name or a profile file \(str or os.PathLike\), got {kind}"):
            nerve.arch(bad)
    img = nerve.compile(input_net(), "spinnaker")
    with pytest.raises(ValueError, match=r"^steps: 4294967296 is out of range: give an integer from 0 to 4294967295"):
        img.run(2**32)


def test_signatures_show_the_defaults():
    # Defaults written as `"jit".to_string()` showed as `engine=Ellipsis`.
    import inspect
    run = inspect.signature(nerve.Image.run).parameters
    comp = inspect.signature(nerve.compile).parameters
    assert run["engine"].default == "jit" and comp["source"].default == "auto"
    # arch showed None, and compiled for spinnaker without a word.
    assert comp["arch"].default == "spinnaker"
    assert nerve.compile(input_net()).arch.name == "spinnaker"
    assert (run["threads"].default, run["record_all"].default, comp["seed"].default, comp["effort"].default) == (1, False, 0, 60)
    for f in [nerve.compile, nerve.Image.run, nerve.arch, nerve.load]:
        assert all(p.default is not Ellipsis for p in inspect.signature(f).parameters.values()), inspect.signature(f)
    img = nerve.compile(input_net(), "spinnaker")
    with pytest.raises(ValueError, match="^engine `gpu`: one of jit, jit-cranelift, jit-avx512, jit-avx2, interp"):
        img.run(3, engine="gpu")
    with pytest.raises(ValueError, match="^source `x`: one of auto, generic"):
        nerve.compile(NIR_FF, source="x")


def test_cli_notes_are_python_warnings():
    # `nerve compile` notes a neurons_per_core past the profile's, `nerve run`
    # warns of threads past the CPUs; Python said nothing.
    with pytest.warns(UserWarning, match=r"^neurons_per_core=100000 is past `spinnaker`'s 256 neurons per core: a core holds at most 256"):
        nerve.compile(SMALL, "spinnaker", neurons_per_core=100000)
    img = nerve.compile(input_net(), "spinnaker")
    # As many threads run as the image has cores at most: a warning only if
    # those outnumber the CPUs, saying how many run.
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    many = input_net()
    many["populations"][1]["size"] = cpus + 2
    wide = nerve.compile(many, "spinnaker", neurons_per_core=1)
    with pytest.warns(UserWarning, match=rf"^threads=100000 runs \d+ threads \(at most one per core of the image\), more than the {cpus} CPU\(s\) this process may use"):
        wide.run(3, threads=100000)
    with pytest.warns(UserWarning, match=rf"^threads={cpus + 1} exceeds the {cpus} CPU\(s\) this process may use"):
        wide.run(3, threads=cpus + 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nerve.compile(SMALL, "spinnaker", neurons_per_core=256)
        img.run(3, threads=1)
        img.run(3, threads=0)
    # More asked for than the CPUs: warned only if more than the CPUs run.
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        ran = img.run(3, threads=100000)
    assert bool(said) == (ran.report["threads"] > cpus), ([str(w.message) for w in said], ran.report["threads"])


def test_nir_choices_speak_python():
    # The import's reasons and warnings named `nerve compile`'s flags
    # ("(--dt, or --source)", "--dt") to Python callers.
    with pytest.warns(UserWarning, match=r"give the dt the model was trained at \(dt=, or source=\)") as w:
        img = nerve.compile(NIR_FF, "loihi", dt=1.0)
    assert img.nir["dt_why"] == "dt="
    assert not any("--" in str(x.message) for x in w)
    assert not any("--" in x for x in img.nir["warnings"])
    # Norse's 2.5 ms τ_syn at the generic 1 ms: warned, in the units' own short numbers.
    with pytest.warns(UserWarning, match=r"dt 0\.001 s is not small against tau 0\.0025 s") as w:
        img = nerve.compile(NIR_FF.with_name("lif_norse.nir"), "loihi", source="generic", reset="subtract")
    assert not any("--" in str(x.message) for x in w)
    assert 'source="generic"' in img.nir["dt_why"] and img.nir["reset_why"] == "reset="
    assert "--" not in img.nir["summary"]
    with pytest.raises(ValueError, match=r"\(dt=\) is outside"):
        nerve.compile(NIR_FF, "loihi", dt=1e9)


def test_other_arguments_name_themselves_and_what_they_take(tmp_path):
    # pyo3's own message ("'int' object is not an instance of 'bool'") named
    # the argument only in a note that shows in tracebacks.
    img = nerve.compile(input_net(), "spinnaker")
    for kw, want in [(dict(record_all=1), "record_all: expected True or False, got int"),
                     (dict(static_power="no"), "static_power: expected True or False, got str"),
                     (dict(overlap=0), "overlap: expected True or False, got int"),
                     (dict(engine=5), "engine: expected a string, got int"),
                     (dict(messages=1), "messages: expected a string, got int"),
                     (dict(decision=["out"]), "decision: expected a string, got list"),
                     (dict(probes="out:v", probe_out=3), r"probe_out: expected a path \(str or os.PathLike\), got int")]:
        with pytest.raises(TypeError, match="^" + want):
            img.run(3, **kw)
    for kw, want in [(dict(shared_routes="0.5"), "shared_routes: expected a number, got str"),
                     (dict(dt=[1]), "dt: expected a number, got list"),
                     (dict(reset=0), "reset: expected a string, got int"),
                     (dict(source=None), "source: expected a string, got NoneType"),
                     (dict(name=7), "name: expected a string, got int")]:
        with pytest.raises(TypeError, match="^" + want):
            nerve.compile(input_net(), **kw)
    with pytest.raises(TypeError, match="^path: expected a path"):
        nerve.load(5)
    with pytest.raises(TypeError, match="^path: expected a path"):
        img.save(None)
    # What they take still passes: numpy's bool, an int or numpy float for a number, None where optional.
    assert img.run(3, record_all=np.bool_(True), static_power=False, overlap=None).report["steps"] == 3
    nerve.compile(input_net(), shared_routes=1, dt=None)
    nerve.compile(input_net(), shared_routes=np.float32(0.5))
    img.save(tmp_path / "a.img")


def test_spike_times_must_be_numbers_and_neurons_indices():
    # numpy's float64 cast took timedelta64[s] 3 as 3 ms, timedelta64[us]
    # 3000 as 3000 ms, a date as its days since 1970, "1.5" as 1.5 ms, and
    # dropped imaginary parts; uint64 2^64 − 1 became "neuron -1".
    img = nerve.compile(input_net(), "spinnaker")
    for times in [np.array([3], dtype="timedelta64[s]"), np.array([3000], dtype="timedelta64[us]"),
                  np.array(["2020-01-01"], dtype="datetime64[D]"), np.array([3 + 1j]), np.array(["1.5"]),
                  np.array([True]), np.array([3.0], dtype=object)]:
        with pytest.raises(ValueError, match=r'^inputs\["inp"\]: times_ms must be numbers \(ms\), got dtype ' + str(times.dtype).replace("[", r"\[").replace("]", r"\]")):
            img.run(10, inputs={"inp": ([0], times)})
    for neurons in [np.array([2**64 - 1], dtype=np.uint64), np.array([2**32], dtype=np.uint64)]:
        with pytest.raises(ValueError, match=rf'^inputs\["inp"\]\[0\]: neuron {int(neurons[0])} of `inp` is not an index'):
            img.run(10, inputs={"inp": (neurons, [1.0])})
    with pytest.raises(ValueError, match=rf"^inputs\[0\]: neuron {2**64 - 1} of `inp` is not an index"):
        img.run(10, inputs=[("inp", 2**64 - 1, 1.0)])
    # Numbers of every kind still pass, and give the same spikes; empty arrays too.
    want = as_pairs(img.run(10, inputs={"inp": ([0, 7], [3.0, 4.0])}).spikes)
    assert want
    for neurons, times in [(np.array([0, 7], dtype=np.uint64), np.array([3, 4], dtype=np.int32)),
                           (np.array([0, 7], dtype=np.uint8), np.array([3, 4], dtype=np.float32)),
                           ([0, 7], np.array([3, 4], dtype=np.uint16))]:
        assert as_pairs(img.run(10, inputs={"inp": (neurons, times)}).spikes) == want
    img.run(10, inputs={"inp": (np.array([], dtype=np.uint64), np.array([], dtype="datetime64[D]"))})
    img.run(10, inputs={"inp": ([], [])})


def test_the_list_form_refuses_what_the_dict_form_refuses():
    # A list's numpy complex time lost its imaginary part (with a
    # ComplexWarning), a bool time was 1 ms and a bool neuron neuron 1,
    # where the dict form refuses complex and bool arrays.
    img = nerve.compile(input_net(), "spinnaker")
    for t in [np.complex128(2 + 5j), np.complex64(2), 2 + 5j, True, np.True_, np.timedelta64(3, "s"),
              np.datetime64("2020-01-01"), np.array(True), np.array(2.0, dtype=object)]:
        with pytest.raises(ValueError, match=rf"^inputs\[1\]: time_ms: expected a number, got {type(t).__name__} "):
            img.run(10, inputs=[("inp", 0, 1.0), ("inp", 0, t)])
    for n in [True, False, np.True_, np.array(False), np.float64(1.0), np.complex128(1)]:
        with pytest.raises(ValueError, match=rf"^inputs\[0\]: neuron: expected an integer index, got {type(n).__name__} "):
            img.run(10, inputs=[("inp", n, 2.0)])
    # A structured array's bool field arrives as Python bools: refused too.
    rec = np.array([("inp", True, 2.0)], dtype=[("population", "U8"), ("neuron", "?"), ("time", "f8")])
    with pytest.raises(ValueError, match=r"^inputs\[0\]: neuron: expected an integer index, got bool True"):
        img.run(10, inputs=rec)
    # Integers and reals of every kind still pass, and give the dict form's spikes.
    want = as_pairs(img.run(10, inputs={"inp": ([0, 7], [3.0, 4.0])}).spikes)
    assert want
    for n0, t0 in [(0, 3), (np.int8(0), np.float32(3)), (np.uint64(0), np.int64(3)), (np.array(0), np.array(3.0))]:
        assert as_pairs(img.run(10, inputs=[("inp", n0, t0), ("inp", 7, 4.0)]).spikes) == want


def test_bools_and_field_names_are_not_taken_as_numbers():
    # A Python bool is an int: threads=False was 0 (one thread per CPU),
    # neurons_per_core=True one neuron a core; [0, True] became an int64 array.
    img = nerve.compile(input_net(), "spinnaker")
    for kw in [dict(threads=False), dict(steps=True)]:
        with pytest.raises(TypeError, match=r": expected an integer, got bool"):
            img.run(**{"steps": 5, **kw})
    with pytest.raises(TypeError, match=r"neurons_per_core: expected an integer, got bool"):
        nerve.compile(input_net(), "spinnaker", neurons_per_core=True)
    with pytest.raises(TypeError, match=r"shared_routes: expected a number, got bool"):
        nerve.compile(input_net(), "spinnaker", shared_routes=np.True_)
    with pytest.raises(ValueError, match=r'^inputs\["inp"\]: neurons\[1\]: a bool \(True\) is not a number'):
        img.run(5, inputs={"inp": ([0, True], [1.0, 3.0])})
    with pytest.raises(ValueError, match=r'^inputs\["inp"\]: times_ms\[0\]: a bool \(np.True_\) is not a number'):
        img.run(5, inputs={"inp": ([0], [np.True_])})
    # A structured array's fields by their names, in any order; unnamed ones in order.
    want = as_pairs(img.run(10, inputs=[("inp", 0, 3.0), ("inp", 2, 1.0)]).spikes)
    swapped = np.array([("inp", 3.0, 0), ("inp", 1.0, 2)], dtype=[("population", "U8"), ("time_ms", "f8"), ("neuron", "i8")])
    assert as_pairs(img.run(10, inputs=swapped).spikes) == want
    plain = np.array([("inp", 0, 3.0), ("inp", 2, 1.0)], dtype="U8,i8,f8")
    assert as_pairs(img.run(10, inputs=plain).spikes) == want
    odd = np.array([("inp", 3.0, 0)], dtype=[("pop", "U8"), ("t", "f8"), ("n", "i8")])
    with pytest.raises(ValueError, match=r"fields are named population, neuron and time_ms .* found pop, t, n"):
        img.run(10, inputs=odd)


def test_a_profile_file_named_in_other_than_utf8_is_read(tmp_path):
    # Its name went through lossy text, and another file was looked for.
    name = os.fsdecode(tmp_path) + os.sep + os.fsdecode(b"caf\xe9.toml")
    with open(os.fsencode(name), "w") as f:
        f.write(nerve.arch("spinnaker").to_toml())
    assert nerve.arch(name).name == "spinnaker"


def test_a_probe_file_that_cannot_be_written_is_refused_before_the_run(tmp_path):
    # It was found after the whole run, and the run was lost.
    img = nerve.compile(input_net(), "spinnaker")
    with pytest.raises(FileNotFoundError, match=r"probe_out .*v.npy: the directory .* does not exist"):
        img.run(10, probes=["out:v"], probe_out=tmp_path / "no" / "v.npy")
    with pytest.raises(IsADirectoryError, match=r"is a directory"):
        img.run(10, probes=["out:v"], probe_out=tmp_path)
    (tmp_path / "f").write_text("")
    with pytest.raises(NotADirectoryError, match=r"probe_out .*f/v.npy"):
        img.run(10, probes=["out:v"], probe_out=tmp_path / "f" / "v.npy")
    # Without probes, that is the error, whatever the path.
    with pytest.raises(ValueError, match="probe_out: no probes"):
        img.run(10, probe_out=tmp_path)


def test_input_errors_name_the_spike_in_its_array():
    # A spike the machine refuses was named by its place among all the
    # dict's spikes ("inputs: spike 2"); now by its population's array.
    img = nerve.compile(input_net(), "spinnaker")
    with pytest.raises(ValueError, match=r'^inputs\["inp"\]: spike 1 \(`inp` neuron 8 at 2 ms\)'):
        img.run(5, inputs={"out": ([], []), "inp": ([0, 8], [1.0, 2.0])})
    with pytest.raises(ValueError, match=r"^inputs: spike 1 \(`inp` neuron 8"):
        img.run(5, inputs=[("inp", 0, 1.0), ("inp", 8, 2.0)])


def test_late_inputs_warn():
    # Spikes past the run's end are not delivered: said, as `nerve run`'s
    # note does, and counted (they were dropped without a word).
    img = nerve.compile(input_net(), "spinnaker")
    with pytest.warns(UserWarning, match=r"2 input spike\(s\) fall at or after 4.5 ms, in step 5 or later, after this 5-step run"):
        r = img.run(5, inputs={"inp": ([0, 1, 2, 3], [1.0, 7.0, 4.5, 4.4])})
    assert r.late_inputs == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert img.run(5, inputs={"inp": ([0], [1.0])}).late_inputs == 0


def test_ctrl_c_stops_a_run():
    # The run holds no GIL; Ctrl-C was raised only when it had finished (an
    # hours-long run could not be stopped). 2e8 steps of small.json take
    # minutes; a SIGINT a second in must end it within a few seconds.
    code = (
        "import sys, time, nerve\n"
        f"img = nerve.compile({str(SMALL)!r}, 'spinnaker')\n"
        "print('ready', flush=True)\n"
        "t = time.monotonic()\n"
        "try:\n"
        "    img.run(200_000_000)\n"
        "    print('finished', flush=True)\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted', time.monotonic() - t, flush=True)\n"
    )
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "ready"
        import signal
        import time
        time.sleep(1.0)
        p.send_signal(signal.SIGINT)
        out, _ = p.communicate(timeout=30)
    finally:
        p.kill()
    word, *after = out.split()
    assert word == "interrupted", out
    assert float(after[0]) < 10, out


def test_load_validation_errors_name_the_file(tmp_path):
    # An image that decodes but fails validation (two populations named
    # `exc`, the checksum fixed) was refused without the file's name.
    import struct
    import zlib
    good = tmp_path / "small.img"
    nerve.compile(SMALL, "spinnaker").save(good)
    b = good.read_bytes()
    payload = bytearray(b[32:])
    k = payload.find(b"inh")
    assert k >= 0
    payload[k:k + 3] = b"exc"
    header = bytearray(b[:32])
    struct.pack_into("<I", header, 24, zlib.crc32(payload))
    bad = tmp_path / "dup_pop.img"
    bad.write_bytes(bytes(header + payload))
    with pytest.raises(ValueError, match="exc") as e:
        nerve.load(bad)
    assert str(bad) in str(e.value)


def test_load_errors(tmp_path):
    with pytest.raises(OSError):
        nerve.load(tmp_path / "none.img")
    junk = tmp_path / "junk.img"
    junk.write_bytes(b"not an image at all, certainly not")
    with pytest.raises(ValueError, match="not a nerve image"):
        nerve.load(junk)
    # A network given to load: the advice is the module's, not the CLI's.
    with pytest.raises(ValueError, match=re.escape("compile it (`nerve.compile(path, arch)`): `nerve.load` reads chip images")) as e:
        nerve.load(SMALL)
    assert "nerve run" not in str(e.value)


def test_a_run_does_not_write_over_the_image_it_was_loaded_from(tmp_path):
    # probe_out= the image's own file overwrote it (`nerve run --probe-out`
    # of its image is refused): a later load said "bad magic".
    f = tmp_path / "victim.img"
    nerve.compile(SMALL, "spinnaker").save(f)
    before = f.read_bytes()
    img = nerve.load(f)
    with pytest.raises(OSError, match="input"):
        img.run(10, probes=["exc:v"], probe_out=f)
    assert f.read_bytes() == before
    img.run(10, probes=["exc:v"], probe_out=tmp_path / "v.csv")
    # Named relative to where it was loaded, and then from elsewhere.
    cwd = os.getcwd()
    try:
        os.chdir(tmp_path)
        img = nerve.load("victim.img")
        (tmp_path / "sub").mkdir()
        os.chdir(tmp_path / "sub")
        with pytest.raises(OSError, match="input"):
            img.run(10, probes=["exc:v"], probe_out="../victim.img")
        img.run(10, probes=["exc:v"], probe_out="victim.img")
    finally:
        os.chdir(cwd)
    assert f.read_bytes() == before and (tmp_path / "sub" / "victim.img").exists()


# ------------------------------------------------------------------ CLI vs Python

def test_cli_and_python_give_identical_spikes_and_probes(tmp_path):
    img_path = tmp_path / "small.img"
    cli("compile", SMALL, "--arch", "spinnaker", "-o", img_path, "--quiet")
    rec, probe, report = tmp_path / "spikes.csv", tmp_path / "v.npy", tmp_path / "run.json"
    cli("run", img_path, "--steps", 1500, "--record", rec, "--record-all", "--probe", "inh:v", "--probe-out", probe,
        "--report", report, "--quiet")
    py = nerve.load(img_path).run(1500, record_all=True, probes=["inh:v"])
    cli_spikes = read_spike_csv(rec)
    py_spikes = as_pairs(py.spikes)
    assert cli_spikes.keys() == py_spikes.keys() and sum(map(len, cli_spikes.values())) > 100
    for pop in cli_spikes:
        # The times the CSV prints, as numbers (not step × dt: 0.30000000000000004).
        assert py_spikes[pop] == cli_spikes[pop]
    assert np.array_equal(np.load(probe), py.probes["inh:v"])
    cli_report = json.loads(report.read_text())
    assert cli_report["counts"] == py.report["counts"]
    assert cli_report["energy"] == py.report["energy"]


def test_cli_and_python_agree_with_inputs(tmp_path):
    rec, inp = tmp_path / "out.csv", tmp_path / "in.csv"
    inp.write_text("population,neuron,time\n" + "".join(f"{p},{n},{t}\n" for p, n, t in input_from_csv(NIR_FF_SPIKES)))
    cli("run", NIR_FF, "--arch", "loihi", "--steps", 60, "--input", inp, "--record", rec, "--quiet")
    py = nerve.compile(NIR_FF, "loihi").run(60, inputs=input_from_csv(NIR_FF_SPIKES))
    cli_spikes = read_spike_csv(rec)
    assert sum(map(len, cli_spikes.values())) > 0
    assert {p: [(n, round(t, 6)) for n, t in s] for p, s in as_pairs(py.spikes).items()} == cli_spikes


# ------------------------------------------------------------------ the example

def test_example_script_runs():
    script = ROOT / "python" / "examples" / "snntorch_to_energy.py"
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    for arch in ("loihi", "spinnaker"):
        assert f"== {arch}" in r.stdout
    assert r.stdout.count("energy per inference:") == 2
    assert "predicted letters:" in r.stdout


def test_learned_weights_are_returned_as_the_cli_saves_them(tmp_path):
    # A learning run from Python returned nothing of what it learned.
    net = ROOT / "cli" / "tests" / "data" / "loihi_stdp.json"
    r = nerve.compile(net, "loihi").run(60)
    assert r.weights, "a learning network returns its learning projections"
    cli("run", net, "--arch", "loihi", "--steps", "60", "-q", "--save-weights", tmp_path / "w.csv")
    want = {}
    with open(tmp_path / "w.csv") as f:
        for row in csv.DictReader(f):
            want.setdefault(row["projection"], []).append((int(row["pre"]), int(row["post"]), float(row["weight"]), float(row["delay"])))
    got = {k: list(zip(p.tolist(), q.tolist(), w.tolist(), d.tolist())) for k, (p, q, w, d) in r.weights.items()}
    assert got == want
    assert all(p.dtype == np.uint32 and w.dtype == np.float64 for p, _, w, _ in r.weights.values())
    # Weights moved from their initial values: the run learned, and this is what it left.
    first = nerve.compile(net, "loihi").run(1).weights
    assert any(not np.array_equal(first[k][2], r.weights[k][2]) for k in r.weights)
    assert nerve.compile(SMALL, "spinnaker").run(5).weights == {}


def test_an_unnamed_dict_is_named_network():
    # A file without `name` is named after its stem; a dict was named after
    # its error label, `<network dict>`, which then titled the reports.
    d = input_net()
    del d["name"]
    img = nerve.compile(d, "spinnaker")
    assert img.network == "network"
    assert img.run(5).report["network"] == "network"


def test_precision_warnings_are_raised():
    # A current that drains in whole LSBs at a small dt is said, as `nerve compile` says it.
    net = {"name": "fine", "dt_ms": 1e-4, "populations": [
        {"name": "src", "size": 1, "model": "spike_source_array", "spike_times": [[0.5]]},
        {"name": "n", "size": 1, "model": "lif"}],
        "projections": [{"pre": "src", "post": "n", "weight": 1.5, "connector": {"type": "one_to_one"}}]}
    with pytest.warns(UserWarning, match=r"population `n` \(lif\): a spike of projection src→n's smallest weight, 1.5 nA"):
        img = nerve.compile(net, "spinnaker")
    assert img.report["warnings"] and "of its exact charge" in img.report["warnings"][0]
    net["dt_ms"] = 0.1
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert nerve.compile(net, "spinnaker").report["warnings"] == []
