//! The Python package `nerve` (python/README.md): compile a network (a JSON
//! path, a dict, a NIR file or a `nir.NIRGraph`) for an architecture, run
//! the image with numpy arrays of spikes in and out, get the reports as
//! dicts. Nothing here computes: networks are read by
//! `nerve_compiler::front`, compiled by `nerve_compiler::compile`, and run
//! by `nerve_report::session::run` and summarised by
//! `nerve_report::summary::build`, exactly as `nerve compile` and `nerve
//! run` do, so both give the same images and the same spikes.
// pyo3's macros expand to `unsafe` blocks; this crate writes none itself.
#![deny(unsafe_code)]

use std::path::{Path, PathBuf};

use nerve_compiler::compile::{compile as compile_net, MapReport, Options};
use nerve_compiler::front::nir::conventions::{NirChoice, NirOptions, SourceConvention};
use nerve_compiler::map::place::{read_placement, PlaceOptions, Strategy};
use nerve_compiler::net::model::{Network, ResetMode};
use nerve_compiler::CompileError;
use nerve_emulator::machine::Machine;
use nerve_emulator::EmuError;
use nerve_isa::arch::{Arch, ArchError, MessageModel, BUILTIN_PROFILES};
use nerve_isa::image::{Image, ImageError, ValidImage};
use nerve_report::session::{self, CostModel, Engine, Input, Request};
use nerve_report::spikes::Spike;
use numpy::{PyArray1, PyArrayMethods};
use pyo3::exceptions::{
    PyFileExistsError, PyFileNotFoundError, PyIsADirectoryError, PyMemoryError, PyNotADirectoryError, PyOSError, PyOverflowError, PyPermissionError,
    PyTypeError, PyUserWarning, PyValueError,
};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

// ---------------------------------------------------------------- errors

fn value_error(e: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// `e`'s message as the OSError subclass Python itself raises for `source`
/// (FileNotFoundError, PermissionError, …), so that `except
/// FileNotFoundError` works as it does around `open()`.
fn os_error(source: &std::io::Error, e: impl std::fmt::Display) -> PyErr {
    use std::io::ErrorKind as K;
    let m = e.to_string();
    match source.kind() {
        K::NotFound => PyFileNotFoundError::new_err(m),
        K::PermissionDenied => PyPermissionError::new_err(m),
        K::IsADirectory => PyIsADirectoryError::new_err(m),
        K::NotADirectory => PyNotADirectoryError::new_err(m),
        K::AlreadyExists => PyFileExistsError::new_err(m),
        // Read, and found not to be text (`nerve_isa::files::text`): the
        // file's content is wrong, not the system's access to it.
        K::InvalidData => PyValueError::new_err(m),
        _ => PyOSError::new_err(m),
    }
}

fn arch_err(e: ArchError) -> PyErr {
    match &e {
        ArchError::Io { source, .. } => os_error(source, &e),
        _ => value_error(e),
    }
}

fn compile_err(e: CompileError) -> PyErr {
    match e {
        CompileError::Io { ref source, .. } | CompileError::Write { ref source, .. } | CompileError::ReadFile { ref source, .. } => os_error(source, &e),
        CompileError::Arch(a) => arch_err(a),
        _ => value_error(py_words(&e.to_string())),
    }
}

/// The NIR import's words for its options, which are `nerve compile`'s
/// flags (`--dt`, `--source snntorch`), as `nerve.compile`'s arguments
/// (`dt=`, `source="snntorch"`): as the CLI's `flag_words` turns the
/// library's words into flags, for the one text both share.
fn py_words(m: &str) -> String {
    // The libraries' advice names the CLI's commands: said as the module's
    // calls (`nerve.load` of a network said "nerve compile … nerve run").
    let mut m = m
        .replace(
            "compile it first (`nerve compile`), or run it as it is (`nerve run` compiles a network given --arch)",
            "compile it (`nerve.compile(path, arch)`): `nerve.load` reads chip images",
        )
        .replace("not a network: `nerve run` runs it as it is", "not a network: `nerve.load(path)` loads it, to run as it is")
        .replace("(spikes counted from 0 in file order)", "(spikes counted from 0 in the order given)");
    for n in SourceConvention::NAMES {
        m = m.replace(&format!("--source {n}"), &format!("source=\"{n}\""));
    }
    m.replace("--source", "source=").replace("--dt", "dt=").replace("--reset", "reset=")
}

fn image_err(e: ImageError) -> PyErr {
    match &e {
        ImageError::Io { source, .. } | ImageError::WriteIo { source, .. } => os_error(source, &e),
        _ => value_error(py_words(&e.to_string())),
    }
}

fn report_err(e: nerve_report::Error) -> PyErr {
    use nerve_report::Error as E;
    match e {
        E::Read { ref source, .. } | E::Write { ref source, .. } | E::Emu(EmuError::Record(ref source)) => os_error(source, &e),
        E::Emu(EmuError::Image(i)) | E::Image(i) => image_err(i),
        E::Compile(c) => compile_err(c),
        E::Memory(m) => PyMemoryError::new_err(m),
        _ => value_error(py_words(&e.to_string())),
    }
}

/// A UserWarning: what `nerve` prints as a note or warning on stderr.
fn warn(py: Python<'_>, msg: &str) -> PyResult<()> {
    py.import("warnings")?.call_method1("warn", (msg, py.get_type::<PyUserWarning>())).map(drop)
}

/// An integer argument within `lo..=hi`. pyo3's own conversion raised a
/// bare OverflowError for -1 (its note naming the argument shows only in
/// tracebacks), with no word of the range.
fn int_arg(v: &Bound<'_, PyAny>, name: &str, lo: u64, hi: u64) -> PyResult<u64> {
    let out_of_range =
        || PyValueError::new_err(format!("{name}: {} is out of range: give an integer from {lo} to {hi}", v.str().map(|s| s.to_string()).unwrap_or_default()));
    // Floats (2.0 too) are refused as Python's range() refuses them; numpy integers pass through __index__.
    // A bool is an int to Python, but `threads=False` meaning 0 (one per CPU) is a slip.
    if v.is_instance_of::<PyBool>() {
        return Err(PyTypeError::new_err(format!("{name}: expected an integer, got bool")));
    }
    let n = match v.extract::<i128>() {
        Ok(n) => n,
        Err(e) if e.is_instance_of::<PyOverflowError>(v.py()) => return Err(out_of_range()),
        Err(_) => return Err(PyTypeError::new_err(format!("{name}: expected an integer, got {}", type_name(v)))),
    };
    u64::try_from(n).ok().filter(|n| (lo..=hi).contains(n)).ok_or_else(out_of_range)
}

fn opt_int_arg(v: &Bound<'_, PyAny>, name: &str, lo: u64, hi: u64) -> PyResult<Option<u64>> {
    if v.is_none() {
        return Ok(None);
    }
    int_arg(v, name, lo, hi).map(Some)
}

// The integer arguments, for `#[pyo3(from_py_with = …)]` (a function of the object alone).
fn steps_arg(v: &Bound<'_, PyAny>) -> PyResult<u64> {
    int_arg(v, "steps", 0, nerve_isa::MAX_STEPS)
}
fn threads_arg(v: &Bound<'_, PyAny>) -> PyResult<usize> {
    Ok(int_arg(v, "threads", 0, u32::MAX.into())? as usize)
}
fn inference_steps_arg(v: &Bound<'_, PyAny>) -> PyResult<Option<u64>> {
    opt_int_arg(v, "inference_steps", 1, u64::MAX)
}
fn max_memory_arg(v: &Bound<'_, PyAny>) -> PyResult<Option<u64>> {
    opt_int_arg(v, "max_memory", 1, u64::MAX)
}
// `Some` when given (None is refused, as before): a placement file refuses
// them given at all, as `nerve compile` does, their defaults included.
fn seed_arg(v: &Bound<'_, PyAny>) -> PyResult<Option<u64>> {
    int_arg(v, "seed", 0, u64::MAX).map(Some)
}
fn effort_arg(v: &Bound<'_, PyAny>) -> PyResult<Option<u32>> {
    Ok(Some(int_arg(v, "effort", 0, u32::MAX.into())? as u32))
}
fn neurons_per_core_arg(v: &Bound<'_, PyAny>) -> PyResult<Option<u32>> {
    Ok(opt_int_arg(v, "neurons_per_core", 1, u32::MAX.into())?.map(|n| n as u32))
}

// The other typed arguments. pyo3's own conversion named the argument only
// in a note that shows in tracebacks ("'int' object is not an instance of
// 'bool'"); these name it in the message, with what it takes.
fn bool_arg(v: &Bound<'_, PyAny>, name: &str) -> PyResult<bool> {
    // Python's bool and numpy.bool_; 1 and "yes" are refused, as a flag given a number is likely a slip.
    v.extract::<bool>().map_err(|_| PyTypeError::new_err(format!("{name}: expected True or False, got {}", type_name(v))))
}
fn opt_bool_arg(v: &Bound<'_, PyAny>, name: &str) -> PyResult<Option<bool>> {
    if v.is_none() {
        return Ok(None);
    }
    bool_arg(v, name).map(Some)
}
fn str_arg(v: &Bound<'_, PyAny>, name: &str) -> PyResult<String> {
    v.extract::<String>().map_err(|_| PyTypeError::new_err(format!("{name}: expected a string, got {}", type_name(v))))
}
fn opt_str_arg(v: &Bound<'_, PyAny>, name: &str) -> PyResult<Option<String>> {
    if v.is_none() {
        return Ok(None);
    }
    str_arg(v, name).map(Some)
}
fn float_arg(v: &Bound<'_, PyAny>, name: &str) -> PyResult<f64> {
    // ints and numpy scalars too (anything with __float__), as Python's float() takes them; not strings.
    if v.is_instance_of::<pyo3::types::PyString>() {
        return Err(PyTypeError::new_err(format!("{name}: expected a number, got str")));
    }
    // Nor a bool (Python's or numpy's), which would be 0 or 1.
    if v.is_instance_of::<PyBool>() || numpy_kind(v).as_deref() == Some("b") {
        return Err(PyTypeError::new_err(format!("{name}: expected a number, got {}", type_name(v))));
    }
    v.extract::<f64>().map_err(|_| PyTypeError::new_err(format!("{name}: expected a number, got {}", type_name(v))))
}
fn opt_float_arg(v: &Bound<'_, PyAny>, name: &str) -> PyResult<Option<f64>> {
    if v.is_none() {
        return Ok(None);
    }
    float_arg(v, name).map(Some)
}
fn path_arg(v: &Bound<'_, PyAny>, name: &str) -> PyResult<PathBuf> {
    v.extract::<PathBuf>().map_err(|_| PyTypeError::new_err(format!("{name}: expected a path (str or os.PathLike), got {}", type_name(v))))
}
/// `fn $f(v) -> PyResult<$t>`: the argument `$name` through `$via`, for
/// `#[pyo3(from_py_with = $f)]` (a function of the object alone).
macro_rules! named_arg {
    ($($f:ident: $t:ty = $via:ident($name:literal);)*) => {
        $(fn $f(v: &Bound<'_, PyAny>) -> PyResult<$t> {
            $via(v, $name)
        })*
    };
}
named_arg! {
    record_all_arg: bool = bool_arg("record_all");
    static_power_arg: bool = bool_arg("static_power");
    overlap_arg: Option<bool> = opt_bool_arg("overlap");
    decision_arg: Option<String> = opt_str_arg("decision");
    messages_arg: Option<String> = opt_str_arg("messages");
    reset_arg: Option<String> = opt_str_arg("reset");
    name_arg: Option<String> = opt_str_arg("name");
    shared_routes_arg: f64 = float_arg("shared_routes");
    dt_arg: Option<f64> = opt_float_arg("dt");
    path_only_arg: PathBuf = path_arg("path");
}
fn arch_name_arg(v: &Bound<'_, PyAny>) -> PyResult<PathBuf> {
    v.extract::<PathBuf>()
        .map_err(|_| PyTypeError::new_err(format!("name: expected a profile name or a profile file (str or os.PathLike), got {}", type_name(v))))
}
/// `engine=`, as one of the names it takes: a `&'static str`, so that the
/// signature's default is the literal `"jit"` (`inspect.signature` showed
/// `engine=Ellipsis` for `"jit".to_string()`).
fn engine_arg(v: &Bound<'_, PyAny>) -> PyResult<&'static str> {
    one_of(v, "engine", &["jit", "jit-cranelift", "jit-avx512", "jit-avx2", "interp"])
}
/// `source=`, as `engine_arg` (the default `"auto"` shown as such).
fn source_arg(v: &Bound<'_, PyAny>) -> PyResult<&'static str> {
    one_of(v, "source", &SourceConvention::NAMES)
}
fn one_of(v: &Bound<'_, PyAny>, name: &str, names: &[&'static str]) -> PyResult<&'static str> {
    let s = str_arg(v, name)?;
    names.iter().copied().find(|n| *n == s).ok_or_else(|| PyValueError::new_err(format!("{name} `{s}`: one of {}", names.join(", "))))
}
fn probe_out_arg(v: &Bound<'_, PyAny>) -> PyResult<Option<PathBuf>> {
    if v.is_none() {
        return Ok(None);
    }
    path_arg(v, "probe_out").map(Some)
}

/// A serde value as Python objects (dicts, lists, numbers, strings), through
/// JSON: the same document `nerve … --report` writes.
fn to_py<'py>(py: Python<'py>, v: &impl serde::Serialize) -> PyResult<Bound<'py, PyAny>> {
    let text = serde_json::to_string(v).map_err(value_error)?;
    py.import("json")?.call_method1("loads", (text,))
}

// ---------------------------------------------------------------- arch

/// An architecture profile (`nerve arch show NAME`).
#[pyclass(name = "Arch", module = "nerve", frozen)]
struct PyArch {
    arch: Arch,
}

#[pymethods]
impl PyArch {
    /// The profile's name.
    #[getter]
    fn name(&self) -> String {
        self.arch.name.clone()
    }

    /// Every field of the profile as a dict (figures with their unit and source).
    #[getter]
    fn fields<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.arch)
    }

    /// The profile as TOML (a file `nerve.arch(path)` reads back).
    fn to_toml(&self) -> String {
        self.arch.to_toml()
    }

    fn __repr__(&self) -> String {
        format!("nerve.arch({:?})", self.arch.name)
    }
}

/// An architecture profile: a built-in name (`nerve.archs()`) or a .toml/.json profile file.
#[pyfunction]
fn arch(#[pyo3(from_py_with = arch_name_arg)] name: PathBuf) -> PyResult<PyArch> {
    Ok(PyArch { arch: load_arch(&name)? })
}

/// A built-in name or a profile file; a path that is not UTF-8 is no
/// built-in name, and is read as it is (its lossy text named another file).
fn load_arch(p: &std::path::Path) -> PyResult<Arch> {
    match p.to_str() {
        Some(s) => Arch::load(s),
        None => Arch::from_file(p),
    }
    .map_err(arch_err)
}

/// The built-in architecture profiles' names.
#[pyfunction]
fn archs() -> Vec<&'static str> {
    BUILTIN_PROFILES.iter().map(|(n, _)| *n).collect()
}

fn arch_of(a: &Bound<'_, PyAny>) -> PyResult<Arch> {
    if let Ok(p) = a.cast::<PyArch>() {
        return Ok(p.get().arch.clone());
    }
    if let Ok(s) = a.extract::<PathBuf>() {
        return load_arch(&s);
    }
    Err(PyTypeError::new_err(format!("arch: expected a profile name, a profile file or a nerve.Arch, got {}", type_name(a))))
}

fn type_name(a: &Bound<'_, PyAny>) -> String {
    a.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "?".into())
}

// ---------------------------------------------------------------- compile

/// A chip image: compiled by `nerve.compile` or read by `nerve.load`.
#[pyclass(name = "Image", module = "nerve", frozen)]
struct PyImage {
    image: ValidImage,
    /// The mapping report, for an image compiled here.
    report: Option<MapReport>,
    /// What a NIR import chose for dt and reset, and why.
    nir: Option<NirChoice>,
    /// The file it was loaded from (`load`): an output of a run must not
    /// be it (`probe_out=` the image's own file overwrote it, as `nerve run
    /// --probe-out` of its image is refused).
    source: Option<PathBuf>,
}

fn reset_name(r: ResetMode) -> &'static str {
    match r {
        ResetMode::ToReset => "zero",
        ResetMode::Subtract => "subtract",
    }
}

/// How a network is given.
enum Source {
    Path(PathBuf),
    /// JSON text (from a dict), named in errors by the string.
    Json(String, &'static str),
    /// A `nir.NIRGraph` written to a temporary file, and the network's name.
    Graph(PathBuf, String),
}

/// How errors name a `nir.NIRGraph` (rather than the temporary file it was written to).
const GRAPH_ORIGIN: &str = "<nir.NIRGraph>";

fn read_source(src: &Source, nir: &NirOptions) -> nerve_compiler::Result<(Network, Option<NirChoice>)> {
    use nerve_compiler::front::nir::{lower, read};
    match src {
        Source::Path(p) => nerve_compiler::front::read_noting(p, nir),
        // Named by `name=`, not by the file: any network name then passes, whatever a file name may hold.
        Source::Graph(p, name) => lower::to_network(&read::read_nir(p)?, name, GRAPH_ORIGIN, nir).map(|(n, c)| (n, Some(c))),
        Source::Json(text, origin) => {
            if nir.dt_s.is_some() || nir.reset.is_some() || nir.source != SourceConvention::Auto {
                return Err(CompileError::Options(format!("{origin}: the timestep, reset and source options apply to NIR networks")));
            }
            // Relative paths in it (connection lists) are taken from the working directory.
            let mut net = nerve_compiler::front::json::parse_network(text, Path::new(origin))?;
            // Without a `name`, a file is named after its stem; a dict has
            // none, and its origin's label titled the reports.
            if *origin == DICT_ORIGIN && net.name == DICT_ORIGIN {
                net.name = "network".into();
            }
            Ok((net, None))
        }
    }
}

/// Compiles a network for an architecture.
///
/// `network`: a JSON network or NIR file (str or os.PathLike, by extension),
/// a dict (the JSON network format), or a `nir.NIRGraph` (written to a
/// temporary NIR file named `name`.nir and read as a file is).
/// `arch`: a built-in profile's name, a .toml/.json profile file (str or
/// os.PathLike) or an `Arch`; "spinnaker" when not given (the CLI's
/// `--arch` has no default: give it where the chip matters).
#[pyfunction]
#[pyo3(
    signature = (network, arch = None, *, seed = None, neurons_per_core = None, placement = None, effort = None, shared_routes = 1.0, dt = None, reset = None, source = "auto", name = None),
    // The defaults shown are those used: None here stands for "not given".
    text_signature = "(network, arch=\"spinnaker\", *, seed=0, neurons_per_core=None, placement=None, effort=60, shared_routes=1.0, dt=None, reset=None, source=\"auto\", name=None)"
)]
#[allow(clippy::too_many_arguments)]
fn compile(
    py: Python<'_>,
    network: &Bound<'_, PyAny>,
    arch: Option<&Bound<'_, PyAny>>,
    #[pyo3(from_py_with = seed_arg)] seed: Option<u64>,
    #[pyo3(from_py_with = neurons_per_core_arg)] neurons_per_core: Option<u32>,
    placement: Option<&Bound<'_, PyAny>>,
    #[pyo3(from_py_with = effort_arg)] effort: Option<u32>,
    #[pyo3(from_py_with = shared_routes_arg)] shared_routes: f64,
    #[pyo3(from_py_with = dt_arg)] dt: Option<f64>,
    #[pyo3(from_py_with = reset_arg)] reset: Option<String>,
    #[pyo3(from_py_with = source_arg)] source: &'static str,
    #[pyo3(from_py_with = name_arg)] name: Option<String>,
) -> PyResult<PyImage> {
    let arch = match arch {
        Some(a) => arch_of(a)?,
        None => Arch::load("spinnaker").map_err(arch_err)?,
    };
    if !(shared_routes.is_finite() && shared_routes >= 0.0) {
        return Err(PyValueError::new_err(format!(
            "shared_routes: {shared_routes} is not a fraction of deliveries: give a number >= 0 (0 routes every slice exactly)"
        )));
    }
    if let Some(x) = dt {
        if !(x.is_finite() && x > 0.0) {
            return Err(PyValueError::new_err(format!("dt: {x} is not a timestep: give a number of seconds > 0 (e.g. 0.001)")));
        }
    }
    let nir = NirOptions {
        dt_s: dt,
        reset: match reset.as_deref() {
            None => None,
            Some("zero") => Some(ResetMode::ToReset),
            Some("subtract") => Some(ResetMode::Subtract),
            Some(r) => return Err(PyValueError::new_err(format!("reset `{r}`: one of zero, subtract"))),
        },
        source: SourceConvention::parse(source)
            .ok_or_else(|| PyValueError::new_err(format!("source `{source}`: one of {}", SourceConvention::NAMES.join(", "))))?,
    };
    if let (Some(k), Some(past)) = (neurons_per_core, Options { neurons_per_core, ..Options::default() }.neurons_per_core_past(&arch)) {
        warn(py, &format!("neurons_per_core={k} {past}"))?;
    }
    let strategy = match placement {
        None => Strategy::Pack,
        Some(p) => placement_of(p)?,
    };
    // A placement file is used as it is: refining options given with it
    // would be ignored without a word (`nerve compile` refuses them too),
    // at their default values too.
    if matches!(strategy, Strategy::Explicit(_)) {
        let given: Vec<&str> = [("effort", effort.is_some()), ("seed", seed.is_some())].into_iter().filter(|g| g.1).map(|g| g.0).collect();
        if !given.is_empty() {
            return Err(PyValueError::new_err(format!(
                "{}: refine a placement by \"pack\" or \"spread\"; a placement file is used as it is",
                given.join(", ")
            )));
        }
    }
    // Ctrl-C: the compile holds no GIL, so Python runs its handler only when
    // asked: each stage's progress asks, and a KeyboardInterrupt stops the
    // compile at its next stage (it ran to its end, however long).
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let defaults = PlaceOptions::default();
    let (seed, effort) = (seed.unwrap_or(defaults.seed), effort.unwrap_or(defaults.effort));
    let opts = Options { place: PlaceOptions { strategy, effort, seed }, neurons_per_core, seed, threads: None, shared_routes, stop: Some(stop.clone()) };

    // The network's source; a NIRGraph goes through a temporary file.
    let mut tmpdir: Option<Bound<'_, PyAny>> = None;
    let src = if let Ok(d) = network.cast::<PyDict>() {
        Source::Json(dict_json(py, d)?, DICT_ORIGIN)
    } else if let Ok(p) = network.extract::<PathBuf>() {
        Source::Path(p)
    } else if is_nir_graph(py, network) {
        // The JSON networks' rule, before anything is written.
        let name = name.clone().unwrap_or_else(|| "nir_graph".into());
        if let Some(why) = nerve_isa::names::bad_network_name(&name) {
            return Err(PyValueError::new_err(format!("name: {why}")));
        }
        let dir = py.import("tempfile")?.call_method1("mkdtemp", ("", "nerve-"))?;
        let file = dir.extract::<PathBuf>()?.join("graph.nir");
        tmpdir = Some(dir);
        if let Err(e) = py.import("nir")?.call_method1("write", (file.clone(), network)) {
            remove_dir(py, tmpdir.as_ref());
            return Err(e);
        }
        Source::Graph(file, name)
    } else {
        return Err(PyTypeError::new_err(format!(
            "network: expected a path (.json or .nir), a dict (JSON network) or a nir.NIRGraph, got {}",
            type_name(network)
        )));
    };
    if name.is_some() && tmpdir.is_none() {
        return Err(PyValueError::new_err("name: only for a nir.NIRGraph (a file or dict names its network itself)"));
    }
    let mut interrupted: Option<PyErr> = None;
    let result = py.detach(|| -> nerve_compiler::Result<(nerve_compiler::Output, Option<NirChoice>)> {
        let work = || -> nerve_compiler::Result<(nerve_compiler::Output, Option<NirChoice>)> {
            let t = std::time::Instant::now();
            let (net, choice) = read_source(&src, &nir)?;
            let read_s = t.elapsed().as_secs_f64();
            let mut out = compile_net(&arch, &net, &opts, &mut |_: &str| {})?;
            out.report.seconds.read = read_s;
            Ok((out, choice))
        };
        // The compile runs on a thread of its own while this one, the
        // caller's, asks Python for signals every 20 ms (Python runs its
        // handlers on its main thread, where Ctrl-C is seen): a
        // KeyboardInterrupt sets `stop`, which the compile sees between
        // stages and between a stage's items (asked at stage boundaries only,
        // a 1 s stage ran to its end). The result comes back over a channel,
        // so a quick compile is not held for the 20 ms.
        std::thread::scope(|s| {
            let (done, result) = std::sync::mpsc::channel();
            // The stack of a process's main thread (8 MiB), where the CLI compiles: a spawned thread has 2 MiB.
            let work = &work;
            let spawned = std::thread::Builder::new().stack_size(8 << 20).spawn_scoped(s, move || {
                let _ = done.send(work());
            });
            if spawned.is_err() {
                // No thread to be had: compiled here, Ctrl-C seen when it ends.
                return work();
            }
            loop {
                match result.recv_timeout(std::time::Duration::from_millis(20)) {
                    Ok(r) => return r,
                    // A panic on the compile's thread: `scope` raises it when the thread is joined.
                    Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return Err(CompileError::Interrupted),
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                }
                if interrupted.is_none() {
                    if let Err(e) = Python::attach(|py| py.check_signals()) {
                        interrupted = Some(e);
                        stop.store(true, std::sync::atomic::Ordering::Relaxed);
                    }
                }
            }
        })
    });
    remove_dir(py, tmpdir.as_ref());
    if let Some(e) = interrupted {
        return Err(e);
    }
    let (out, choice) = result.map_err(|e| match (&src, e) {
        (_, e @ (CompileError::Io { .. } | CompileError::Write { .. } | CompileError::ReadFile { .. } | CompileError::Arch(_))) => compile_err(e),
        // The temporary file means nothing to the caller; what it holds does.
        (Source::Graph(file, _), e) => value_error(py_words(&e.to_string().replace(&file.display().to_string(), GRAPH_ORIGIN))),
        (_, e) => compile_err(e),
    })?;
    for w in choice.iter().flat_map(|c| &c.warnings).chain(&out.report.warnings) {
        warn(py, &py_words(w))?;
    }
    Ok(PyImage { image: out.image, report: Some(out.report), nir: choice, source: None })
}

/// `placement=`: "pack", "spread" or a placement CSV file (str or os.PathLike).
fn placement_of(p: &Bound<'_, PyAny>) -> PyResult<Strategy> {
    let file = if p.is_instance_of::<PyString>() {
        match p.extract::<String>()?.as_str() {
            "pack" => return Ok(Strategy::Pack),
            "spread" => return Ok(Strategy::Spread),
            // A word that names no file is a misspelt strategy; a path (a
            // separator or an extension) is a file, there or not.
            f if !Path::new(f).exists() && !f.contains(['/', '\\', '.']) => {
                return Err(PyValueError::new_err(format!("placement `{f}`: expected `pack`, `spread` or a CSV file")));
            }
            f => PathBuf::from(f),
        }
    } else {
        p.extract::<PathBuf>()
            .map_err(|_| PyTypeError::new_err(format!("placement: expected \"pack\", \"spread\" or a CSV file (str or os.PathLike), got {}", type_name(p))))?
    };
    Ok(Strategy::Explicit(read_placement(&file).map_err(compile_err)?))
}

/// How errors name a network given as a dict.
const DICT_ORIGIN: &str = "<network dict>";

/// A network dict as JSON text. json.dumps alone (C, fast on big inline
/// connection lists) serves when it can; when it cannot, the dict is walked
/// to name the culprit by its JSON path: json.dumps wrote NaN and infinity
/// as tokens nerve's parser then refused at a column of the text, and
/// refused numpy values ("Object of type ndarray is not JSON
/// serializable") without saying where.
fn dict_json(py: Python<'_>, d: &Bound<'_, PyDict>) -> PyResult<String> {
    let json = py.import("json")?;
    let kw = PyDict::new(py);
    kw.set_item("allow_nan", false)?;
    if let Ok(text) = json.call_method("dumps", (d,), Some(&kw)) {
        let text: String = text.extract()?;
        // An int past a float's range (10**400) dumps fine and was then refused
        // at a column of this text: walked instead, to name its path. So is a
        // surrogate escape (a lone one, `"x\ud800"`, is no Unicode text).
        if !has_digit_run(&text, 309) && !text.contains("\\ud") {
            return Ok(text);
        }
    }
    let plain = plain_json(d.as_any(), "$", 0)?;
    json.call_method("dumps", (plain,), Some(&kw))?.extract()
}

/// Whether `text` has `n` or more digits in a row (a number no f64 holds
/// has at least 309; a label may have them too, and costs only the walk).
fn has_digit_run(text: &str, n: usize) -> bool {
    let mut run = 0;
    for b in text.bytes() {
        run = if b.is_ascii_digit() { run + 1 } else { 0 };
        if run >= n {
            return true;
        }
    }
    false
}

/// `v` as plain JSON values: numpy arrays and scalars (anything with
/// `tolist`, `__index__` or `__float__`) become lists, ints and floats;
/// NaN, infinities and other objects are refused naming `path`.
fn plain_json<'py>(v: &Bound<'py, PyAny>, path: &str, depth: usize) -> PyResult<Bound<'py, PyAny>> {
    let py = v.py();
    // serde_json (nerve's parser) refuses deeper nesting anyway, and a
    // dict holding itself would otherwise recurse until the stack ran out.
    if depth > 128 {
        return Err(PyValueError::new_err(format!("{DICT_ORIGIN}: {path}: nested more than 128 deep (a dict or list holding itself?)")));
    }
    if v.is_instance_of::<PyInt>() && !v.is_instance_of::<PyBool>() && v.extract::<f64>().is_err() {
        let digits = v.str()?.to_string().trim_start_matches('-').len();
        return Err(PyValueError::new_err(format!(
            "{DICT_ORIGIN}: {path}: an integer of {digits} digits is past the range of JSON numbers nerve reads (a float's, about 1.8e308)"
        )));
    }
    let text_err = |at: &str| PyValueError::new_err(format!("{DICT_ORIGIN}: {at}: a str that is not Unicode text (a lone surrogate such as \\ud800), which JSON networks cannot hold"));
    if v.is_instance_of::<PyString>() && v.extract::<String>().is_err() {
        return Err(text_err(path));
    }
    if v.is_none() || v.is_instance_of::<PyBool>() || v.is_instance_of::<PyInt>() || v.is_instance_of::<PyString>() {
        return Ok(v.clone());
    }
    if let Ok(d) = v.cast::<PyDict>() {
        let out = PyDict::new(py);
        for (k, x) in d.iter() {
            // An int key becomes its digits, as json.dumps writes it.
            let key = if k.is_instance_of::<PyString>() {
                k.extract::<String>().map_err(|_| text_err(&format!("{path}, a key")))?
            } else if k.is_instance_of::<PyInt>() && !k.is_instance_of::<PyBool>() {
                k.str()?.to_string()
            } else {
                return Err(PyTypeError::new_err(format!("{DICT_ORIGIN}: {path}: key {} is not a str", k.repr()?)));
            };
            let x = plain_json(&x, &format!("{path}.{key}"), depth + 1)?;
            out.set_item(key, x)?;
        }
        return Ok(out.into_any());
    }
    if v.is_instance_of::<PyList>() || v.is_instance_of::<PyTuple>() {
        let out = PyList::empty(py);
        for (i, x) in v.try_iter()?.enumerate() {
            out.append(plain_json(&x?, &format!("{path}[{i}]"), depth + 1)?)?;
        }
        return Ok(out.into_any());
    }
    let number = if v.is_instance_of::<PyFloat>() {
        v.clone()
    } else if v.hasattr("tolist")? {
        // A numpy array or scalar; its `tolist` gives Python values (never numpy's again).
        let x = v.call_method0("tolist")?;
        if !x.hasattr("tolist")? {
            return plain_json(&x, path, depth);
        }
        // A longdouble's `tolist` is a longdouble again: taken as the float it rounds to.
        if x.hasattr("__float__")? && !x.hasattr("__len__")? {
            PyFloat::new(py, x.extract::<f64>()?).into_any()
        } else {
            x
        }
    } else if v.hasattr("__index__")? {
        return py.import("operator")?.call_method1("index", (v,));
    } else if v.hasattr("__float__")? {
        PyFloat::new(py, v.extract::<f64>()?).into_any()
    } else {
        v.clone()
    };
    match number.extract::<f64>() {
        Ok(x) if number.is_instance_of::<PyFloat>() && !x.is_finite() => {
            Err(PyValueError::new_err(format!("{DICT_ORIGIN}: {path}: {x} is not a finite number: JSON networks hold finite numbers only")))
        }
        Ok(_) if number.is_instance_of::<PyFloat>() => Ok(number),
        _ => Err(PyTypeError::new_err(format!("{DICT_ORIGIN}: {path}: a {} is not a JSON value (dict, list, str, int, float, bool or None)", type_name(v)))),
    }
}

fn is_nir_graph(py: Python<'_>, x: &Bound<'_, PyAny>) -> bool {
    // `nir` is imported only for objects that may be its graphs.
    let module: String = x.get_type().getattr("__module__").and_then(|m| m.extract()).unwrap_or_default();
    if !module.starts_with("nir") {
        return false;
    }
    py.import("nir").and_then(|nir| x.is_instance(&nir.getattr("NIRGraph")?)).unwrap_or(false)
}

/// Refuses, before any work (as `nerve run` does), an output file that cannot
/// be written: found after a run, it lost the run. The OSError subclass
/// Python's `open` would raise (OSError where the directory refuses a file).
fn writable(path: &Path, what: &str, inputs: &[&Path]) -> PyResult<()> {
    nerve_report::check_outputs(&[(what, path)], inputs).map_err(|m| {
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        if path.is_dir() {
            PyIsADirectoryError::new_err(m)
        } else if !dir.exists() {
            PyFileNotFoundError::new_err(m)
        } else if !dir.is_dir() {
            PyNotADirectoryError::new_err(m)
        } else {
            PyOSError::new_err(m)
        }
    })
}

fn remove_dir(py: Python<'_>, dir: Option<&Bound<'_, PyAny>>) {
    if let Some(d) = dir {
        if let Ok(shutil) = py.import("shutil") {
            let _ = shutil.call_method1("rmtree", (d, true));
        }
    }
}

/// Reads a chip image file (from `nerve compile` or `Image.save`).
#[pyfunction]
fn load(py: Python<'_>, #[pyo3(from_py_with = path_only_arg)] path: PathBuf) -> PyResult<PyImage> {
    // As `nerve run` reads an image: both steps' errors name the file.
    let image = py.detach(|| Image::read_for_load(&path).map(|l| l.into_valid())).map_err(image_err)?;
    // Resolved now: a later os.chdir would make a relative path name another file.
    let source = std::fs::canonicalize(&path).unwrap_or(path);
    Ok(PyImage { image, report: None, nir: None, source: Some(source) })
}

// ---------------------------------------------------------------- run

/// A run's results.
#[pyclass(name = "Result", module = "nerve", frozen)]
struct PyRun {
    /// Recorded spikes: {population: (neurons uint32[n], times_ms float64[n])}, sorted by time then neuron.
    #[pyo3(get)]
    spikes: Py<PyDict>,
    /// Probes: {"POP:VAR": float64[steps, neurons]} in the variable's physical units.
    #[pyo3(get)]
    probes: Py<PyDict>,
    /// The run summary (what `nerve run --report` writes) as a dict.
    #[pyo3(get)]
    report: Py<PyAny>,
    /// The run summary for people, as `nerve run` prints it.
    #[pyo3(get)]
    text: String,
    /// Input spikes at or after the run's end, not delivered (a UserWarning says so too).
    #[pyo3(get)]
    late_inputs: usize,
    /// Learned weights as the run left them (what `nerve run --save-weights`
    /// writes): {projection label: (pre uint32[n], post uint32[n], weight
    /// float64[n], delay_ms float64[n])}, every learning projection's synapses
    /// sorted by (pre, post, delay); weights in the projection's units. Empty
    /// without learning.
    #[pyo3(get)]
    weights: Py<PyDict>,
}

#[pymethods]
impl PyRun {
    fn __str__(&self) -> String {
        self.text.clone()
    }
}

/// `x` as a numpy array and its dtype's kind; an empty one (`[]` is
/// float64) as kind "i", to pass as neurons or times alike.
fn as_array<'py>(np: &Bound<'py, PyModule>, x: &Bound<'py, PyAny>, at: &str) -> PyResult<(Bound<'py, PyAny>, String)> {
    // numpy makes [0, True] an int64 array: a bool among other values is
    // refused as a bool array is, not taken as 0 or 1. (Lists and tuples
    // only: another iterable, a generator, would be used up by the look.)
    if x.is_instance_of::<PyList>() || x.is_instance_of::<PyTuple>() {
        for (i, item) in x.try_iter()?.enumerate() {
            let item = item?;
            // Python's int and float first: no attribute lookup (and its error) per spike.
            if item.is_exact_instance_of::<PyInt>() || item.is_exact_instance_of::<PyFloat>() {
                continue;
            }
            if item.is_instance_of::<PyBool>() || numpy_kind(&item).as_deref() == Some("b") {
                return Err(PyValueError::new_err(format!("{at}[{i}]: a bool ({}) is not a number", item.repr()?)));
            }
        }
    }
    let a = np.call_method1("asarray", (x,))?;
    let kind: String = a.getattr("dtype")?.getattr("kind")?.extract()?;
    let size: usize = a.getattr("size")?.extract()?;
    Ok((a, if size == 0 { "i".into() } else { kind }))
}

/// External spikes from Python: `{population: (neurons, times_ms)}` or a
/// sequence (or structured array) of `(population, neuron, time_ms)`.
/// The spikes of `inputs`: a dict's as one `Input` per population (named
/// `inputs["pop"]`, so that a refused spike is named by its place in the
/// caller's arrays), a list's as one.
fn spikes_in(py: Python<'_>, inputs: &Bound<'_, PyAny>) -> PyResult<Vec<Input>> {
    let np = py.import("numpy")?;
    let mut out = Vec::new();
    if let Ok(d) = inputs.cast::<PyDict>() {
        let mut per_pop = Vec::new();
        for (k, v) in d.iter() {
            let pop: String = k.extract().map_err(|_| {
                PyValueError::new_err(format!("inputs: key {}: expected a population name (str)", k.repr().map(|r| r.to_string()).unwrap_or_default()))
            })?;
            let at = format!("inputs[{pop:?}]");
            let pair: Vec<Bound<'_, PyAny>> = v
                .extract()
                .ok()
                .filter(|p: &Vec<Bound<'_, PyAny>>| p.len() == 2)
                .ok_or_else(|| PyValueError::new_err(format!("{at}: expected a pair (neurons, times_ms) of equal-length arrays")))?;
            let (neurons, kind) = as_array(&np, &pair[0], &format!("{at}: neurons"))?;
            if !(kind == "i" || kind == "u") {
                return Err(PyValueError::new_err(format!("{at}: neuron indices must be integers, got dtype {}", neurons.getattr("dtype")?.str()?)));
            }
            // Unsigned indices as uint64 (int64 wrapped 2^64 − 1 to "neuron -1"), signed as int64.
            let n: Vec<i128> = if kind == "u" {
                let a = np.call_method1("ascontiguousarray", (neurons, "uint64"))?;
                let a = a.cast_into::<PyArray1<u64>>().map_err(|_| PyValueError::new_err(format!("{at}: neurons must be a 1-d array")))?;
                let r = a.readonly();
                r.as_slice()?.iter().map(|&x| i128::from(x)).collect()
            } else {
                let a = np.call_method1("ascontiguousarray", (neurons, "int64"))?;
                let a = a.cast_into::<PyArray1<i64>>().map_err(|_| PyValueError::new_err(format!("{at}: neurons must be a 1-d array")))?;
                let r = a.readonly();
                r.as_slice()?.iter().map(|&x| i128::from(x)).collect()
            };
            // Numbers of ms only: numpy's float64 cast took timedelta64[s] 3 as 3 ms, a
            // datetime64 as its days since 1970, "1.5" as 1.5, and dropped imaginary parts.
            let (times, kind) = as_array(&np, &pair[1], &format!("{at}: times_ms"))?;
            if !matches!(kind.as_str(), "f" | "i" | "u") {
                return Err(PyValueError::new_err(format!("{at}: times_ms must be numbers (ms), got dtype {}", times.getattr("dtype")?.str()?)));
            }
            let times = np.call_method1("ascontiguousarray", (times, "float64")).map_err(|e| PyValueError::new_err(format!("{at}: times_ms: {e}")))?;
            let times = times.cast_into::<PyArray1<f64>>().map_err(|_| PyValueError::new_err(format!("{at}: times_ms must be a 1-d array")))?;
            let t = times.readonly();
            let t = t.as_slice()?;
            if n.len() != t.len() {
                return Err(PyValueError::new_err(format!("{at}: {} neuron indices but {} times", n.len(), t.len())));
            }
            let mut spikes = Vec::with_capacity(n.len());
            for (i, (&neuron, &time_ms)) in n.iter().zip(t).enumerate() {
                spikes.push(spike(&pop, neuron, time_ms, || format!("{at}[{i}]"))?);
            }
            per_pop.push(Input { origin: at, spikes });
        }
        return Ok(per_pop);
    }
    // A structured array's records become tuples through `tolist`, its
    // fields taken by name where they are named (they were read in their
    // order: `(population, time_ms, neuron)` records swapped neuron and time).
    let list = if inputs.hasattr("dtype")? {
        let names: Option<Vec<String>> = inputs.getattr("dtype")?.getattr("names")?.extract().ok();
        let fields = match names {
            None => inputs.clone(),
            Some(names) => {
                let has = |n: &str| names.iter().any(|x| x == n);
                let time = ["time_ms", "time"].into_iter().find(|t| has(t));
                match time {
                    Some(time) if names.len() == 3 && has("population") && has("neuron") => inputs.get_item(vec!["population", "neuron", time])?,
                    _ if names.iter().enumerate().all(|(i, n)| *n == format!("f{i}")) => inputs.clone(),
                    _ => {
                        return Err(PyValueError::new_err(format!(
                            "inputs: a structured array's fields are named population, neuron and time_ms (or time), in any order, or left unnamed (f0, f1, f2); found {}",
                            names.join(", ")
                        )))
                    }
                }
            }
        };
        fields.call_method0("tolist")?
    } else {
        inputs.clone()
    };
    let items: Vec<Bound<'_, PyAny>> = list.extract().map_err(|_| {
        PyTypeError::new_err(format!(
            "inputs: expected a dict {{population: (neurons, times_ms)}} or a list of (population, neuron, time_ms), got {}",
            type_name(inputs)
        ))
    })?;
    for (i, item) in items.iter().enumerate() {
        // Any sequence of three (a list as a tuple), each field checked on
        // its own: one message for all named none of them.
        let repr = |x: &Bound<'_, PyAny>| x.repr().map(|r| r.to_string()).unwrap_or_default();
        let fields: Vec<Bound<'_, PyAny>> = (!item.is_instance_of::<PyString>() && !item.is_instance_of::<PyBytes>())
            .then(|| item.extract().ok())
            .flatten()
            .filter(|f: &Vec<Bound<'_, PyAny>>| f.len() == 3)
            .ok_or_else(|| PyValueError::new_err(format!("inputs[{i}]: expected (population, neuron, time_ms), got {}", repr(item))))?;
        // A structured array's `S` (bytes) names arrive as bytes.
        let pop = match fields[0].cast::<PyBytes>() {
            Ok(b) => std::str::from_utf8(b.as_bytes())
                .map_err(|_| PyValueError::new_err(format!("inputs[{i}]: population {} is not UTF-8", repr(&fields[0]))))?
                .to_string(),
            Err(_) => fields[0]
                .extract::<String>()
                .map_err(|_| PyValueError::new_err(format!("inputs[{i}]: population: expected a str, got {} {}", type_name(&fields[0]), repr(&fields[0]))))?,
        };
        // What the dict form refuses by dtype is refused here too, not
        // converted: a bool (Python's, which is an int, or numpy's) and a
        // numpy scalar of another kind than the dict form takes (complex
        // lost its imaginary part, timedelta64 its unit).
        let takes = |x: &Bound<'_, PyAny>, kinds: &[&str]| !x.is_instance_of::<PyBool>() && numpy_kind(x).is_none_or(|k| kinds.contains(&k.as_str()));
        let neuron: i128 = Some(&fields[1]).filter(|x| takes(x, &["i", "u"])).and_then(|x| x.extract().ok()).ok_or_else(|| {
            PyValueError::new_err(format!("inputs[{i}]: neuron: expected an integer index, got {} {}", type_name(&fields[1]), repr(&fields[1])))
        })?;
        let time_ms: f64 = Some(&fields[2])
            .filter(|x| takes(x, &["f", "i", "u"]))
            .and_then(|x| x.extract().ok())
            .ok_or_else(|| PyValueError::new_err(format!("inputs[{i}]: time_ms: expected a number, got {} {}", type_name(&fields[2]), repr(&fields[2]))))?;
        out.push(spike(&pop, neuron, time_ms, || format!("inputs[{i}]"))?);
    }
    Ok(vec![Input { origin: "inputs".into(), spikes: out }])
}

/// The dtype kind (`"b"`, `"c"`, `"f"`, …) of a numpy scalar or array; None for other objects.
fn numpy_kind(x: &Bound<'_, PyAny>) -> Option<String> {
    x.getattr("dtype").and_then(|d| d.getattr("kind")).and_then(|k| k.extract()).ok()
}

fn spike(pop: &str, neuron: i128, time_ms: f64, at: impl Fn() -> String) -> PyResult<Spike> {
    let neuron = u32::try_from(neuron).map_err(|_| PyValueError::new_err(format!("{}: neuron {neuron} of `{pop}` is not an index (0 ≤ n < 2³²)", at())))?;
    if !(time_ms.is_finite() && time_ms >= 0.0) {
        return Err(PyValueError::new_err(format!("{}: time {time_ms} ms of `{pop}` neuron {neuron} is not a time ≥ 0", at())));
    }
    Ok(Spike { population: pop.to_string(), neuron, time_ms })
}

fn probe_list(p: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<String>> {
    match p {
        None => Ok(Vec::new()),
        Some(s) if s.is_instance_of::<PyString>() => Ok(vec![s.extract()?]),
        Some(s) => s.extract().map_err(|_| PyTypeError::new_err("probes: expected \"POP:VAR\" or a sequence of them")),
    }
}

#[pymethods]
impl PyImage {
    /// Writes the image file (`nerve run IMAGE` runs it).
    fn save(&self, py: Python<'_>, #[pyo3(from_py_with = path_only_arg)] path: PathBuf) -> PyResult<()> {
        py.detach(|| self.image.write(&path)).map_err(image_err)
    }

    /// The image file's bytes (what `save` writes).
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.image.to_bytes())
    }

    /// The mapping report (`nerve compile --report`) as a dict; None for a loaded image.
    #[getter]
    fn report<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.report.as_ref().map(|r| to_py(py, r)).transpose()
    }

    /// For a NIR network: the dt and reset the import chose, and why; else None.
    #[getter]
    fn nir<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        let Some(c) = &self.nir else { return Ok(None) };
        let d = PyDict::new(py);
        d.set_item("dt_s", c.dt_s)?;
        d.set_item("reset", reset_name(c.reset))?;
        d.set_item("source", c.source.name())?;
        d.set_item("dt_why", py_words(&c.dt_why))?;
        d.set_item("reset_why", py_words(&c.reset_why))?;
        d.set_item("warnings", c.warnings.iter().map(|w| py_words(w)).collect::<Vec<_>>())?;
        d.set_item("summary", py_words(&c.summary()))?;
        Ok(Some(d))
    }

    /// The architecture the image targets.
    #[getter]
    fn arch(&self) -> PyArch {
        PyArch { arch: self.image.arch.clone() }
    }

    /// The network's name.
    #[getter]
    fn network(&self) -> String {
        self.image.meta.network.clone()
    }

    /// Biological time per timestep, ms.
    #[getter]
    fn dt_ms(&self) -> f64 {
        self.image.meta.dt_ms
    }

    /// The populations: [{name, size, model, record, vars: [{name, unit}]}].
    #[getter]
    fn populations<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let l = PyList::empty(py);
        for p in &self.image.populations {
            let d = PyDict::new(py);
            d.set_item("name", &p.name)?;
            d.set_item("size", p.size)?;
            d.set_item("model", &p.model)?;
            d.set_item("record", p.record_spikes)?;
            let vars = PyList::empty(py);
            for v in &p.vars {
                let vd = PyDict::new(py);
                vd.set_item("name", &v.name)?;
                vd.set_item("unit", &v.unit)?;
                vars.append(vd)?;
            }
            d.set_item("vars", vars)?;
            l.append(d)?;
        }
        Ok(l)
    }

    fn __repr__(&self) -> String {
        format!(
            "<nerve.Image of `{}` for `{}`: {} populations, dt {} ms>",
            self.image.meta.network,
            self.image.arch.name,
            self.image.populations.len(),
            self.image.meta.dt_ms
        )
    }

    /// Runs the image for `steps` timesteps on the emulator (as `nerve run`).
    ///
    /// `inputs`: external spikes, `{population: (neurons, times_ms)}` or a
    /// sequence of `(population, neuron, time_ms)`; `probes`: "POP:VAR" or a
    /// list of them; `record_all`: every population's spikes, not only those
    /// the network marks; `engine`: "jit" (the best backend for this host),
    /// "jit-cranelift", "jit-avx512", "jit-avx2" or "interp"; `threads` (0: one per
    /// CPU; results do not depend on it); `inference_steps`, `decision`,
    /// `messages` ("multicast" | "per-destination"), `overlap`,
    /// `static_power`: as `nerve run`'s options. `probe_out`: a file (.npy:
    /// one probe; else CSV) the probes go to, written as the run goes when
    /// they could take more than `max_memory` bytes (as `nerve run
    /// --probe-out --max-memory`; default 2 GiB); the run's `probes` then
    /// holds a .npy's array memory-mapped from the file, and nothing for a
    /// CSV file. Spikes come back whole either way, outside that budget.
    #[pyo3(signature = (steps, inputs = None, *, probes = None, record_all = false, threads = 1, engine = "jit", inference_steps = None, decision = None, messages = None, overlap = None, static_power = true, probe_out = None, max_memory = None))]
    #[allow(clippy::too_many_arguments)]
    fn run(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = steps_arg)] steps: u64,
        inputs: Option<&Bound<'_, PyAny>>,
        probes: Option<&Bound<'_, PyAny>>,
        #[pyo3(from_py_with = record_all_arg)] record_all: bool,
        #[pyo3(from_py_with = threads_arg)] threads: usize,
        #[pyo3(from_py_with = engine_arg)] engine: &'static str,
        #[pyo3(from_py_with = inference_steps_arg)] inference_steps: Option<u64>,
        #[pyo3(from_py_with = decision_arg)] decision: Option<String>,
        #[pyo3(from_py_with = messages_arg)] messages: Option<String>,
        #[pyo3(from_py_with = overlap_arg)] overlap: Option<bool>,
        #[pyo3(from_py_with = static_power_arg)] static_power: bool,
        #[pyo3(from_py_with = probe_out_arg)] probe_out: Option<PathBuf>,
        #[pyo3(from_py_with = max_memory_arg)] max_memory: Option<u64>,
    ) -> PyResult<PyRun> {
        // Refused as `nerve run --inference-steps` refuses it, by the same rule.
        nerve_report::summary::check_inference_steps(inference_steps, steps, ("inference_steps", "steps")).map_err(PyValueError::new_err)?;
        let engine = match engine {
            "jit" => Engine::Jit,
            "jit-cranelift" => Engine::JitCranelift,
            "jit-avx512" => Engine::JitAvx512,
            "jit-avx2" => Engine::JitAvx2,
            "interp" => Engine::Interp,
            e => return Err(PyValueError::new_err(format!("engine `{e}`: one of jit, jit-cranelift, jit-avx512, jit-avx2, interp"))),
        };
        let messages = match messages.as_deref() {
            None => None,
            Some("multicast") => Some(MessageModel::Multicast),
            Some("per-destination" | "per_destination") => Some(MessageModel::PerDestination),
            Some(x) => return Err(PyValueError::new_err(format!("messages `{x}`: one of multicast, per-destination"))),
        };
        let spikes = match inputs {
            Some(i) if !i.is_none() => spikes_in(py, i)?,
            _ => Vec::new(),
        };
        let probes = probe_list(probes)?;
        let max_memory = match (max_memory, &probe_out) {
            // Probes kept in memory are checked against the memory available instead.
            (Some(_), None) => {
                return Err(PyValueError::new_err("max_memory: only with probe_out (the budget beyond which probes are written as the run goes)"))
            }
            (m, _) => m.unwrap_or(1 << 31),
        };
        let stream = match &probe_out {
            None => None,
            Some(_) if probes.is_empty() => return Err(PyValueError::new_err("probe_out: no probes to write (give probes=…)")),
            // Spikes stay whole in memory: they are returned, not written.
            Some(path) => {
                writable(path, "probe_out", &self.source.iter().map(PathBuf::as_path).collect::<Vec<_>>())?;
                Some(session::Stream { max_memory, record: None, probe_out: path.clone(), keep_spikes: true })
            }
        };
        let probe_names = probes.clone();
        let request = Request {
            steps,
            engine,
            threads,
            pin: Default::default(),
            inputs: spikes,
            input_tables: Vec::new(),
            record_all,
            probes,
            decision: decision.clone(),
            stream,
            // Each probe becomes a float64 array while the run's table is still held.
            probe_copy_bytes: 8,
        };
        let t_load = std::time::Instant::now();
        let image = self.image.clone();
        // Ctrl-C: Python runs its signal handlers only when asked, and the run
        // holds no GIL; progress (every 1,024 steps) asks, at most every 50 ms,
        // and a KeyboardInterrupt stops the run (`Machine::stop`).
        let mut interrupted: Option<PyErr> = None;
        let mut m = py.detach(|| Machine::load_valid(image)).map_err(|e| report_err(e.into()))?;
        let load_seconds = t_load.elapsed().as_secs_f64();
        // Warned (as `nerve run` does) with the machine known: only the
        // threads that run, at most one per core, can outnumber the CPUs.
        if let Some(w) = session::threads_warning(&m, threads, &format!("threads={threads}")) {
            warn(py, &w)?;
        }
        let ran = py.detach(|| -> nerve_report::Result<_> {
            session::apply_cost_model(&mut m, &CostModel { messages, overlap, static_power });
            let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
            m.stop = Some(stop.clone());
            let mut asked = std::time::Instant::now();
            let mut progress = |_| {
                if interrupted.is_none() && asked.elapsed() >= std::time::Duration::from_millis(50) {
                    asked = std::time::Instant::now();
                    if let Err(e) = Python::attach(|py| py.check_signals()) {
                        interrupted = Some(e);
                        stop.store(true, std::sync::atomic::Ordering::Relaxed);
                    }
                }
            };
            let ran = session::run(m, &request, &mut progress)?;
            let summary = nerve_report::summary::build(
                &ran.machine,
                &ran.output,
                &nerve_report::summary::Options {
                    engine: ran.engine,
                    threads: ran.threads,
                    inference_steps,
                    decision: request.decision.as_deref(),
                    decision_spikes: &ran.decision_spikes,
                    recorded: &ran.recorded,
                    load_seconds,
                    huge_pages: false,
                },
            );
            Ok((ran, summary))
        });
        if let Some(e) = interrupted {
            return Err(e);
        }
        let ran = ran.map_err(report_err)?;
        // A Ctrl-C since the last progress is raised here, as
        // KeyboardInterrupt: the first use of numpy below would otherwise
        // fail on it and panic.
        py.check_signals()?;
        let (ran, summary) = ran;
        let (m, out) = (&ran.machine, &ran.output);
        if ran.late_inputs > 0 {
            // `nerve run`'s note: a spike past the end is dropped, which a
            // caller who meant a longer run must hear about.
            warn(py, &nerve_report::session::late_inputs_note(ran.late_inputs, m.dt_ms, steps, "steps"))?;
        }

        // Spikes per recorded population, in the run's order (time, population, neuron).
        // Times as the CSV files print them (0.3, not 0.30000000000000004).
        let mut per_pop: Vec<(Vec<u32>, Vec<f64>)> = vec![(Vec::new(), Vec::new()); m.pops.len()];
        let mut time = nerve_report::spikes::StepsMs::new(m.dt_ms);
        for e in &out.spikes {
            let (n, t) = &mut per_pop[e.pop as usize];
            n.push(e.neuron);
            t.push(time.of(e.step));
        }
        let spikes = PyDict::new(py);
        for (pi, (n, t)) in per_pop.into_iter().enumerate() {
            if ran.recorded[pi] {
                let pair = PyTuple::new(py, [PyArray1::from_vec(py, n).into_any(), PyArray1::from_vec(py, t).into_any()])?;
                spikes.set_item(&m.pops[pi].name, pair)?;
            }
        }
        let probes = PyDict::new(py);
        if let Some(path) = &probe_out {
            // Within max_memory the run kept them: written now, as `nerve run` does.
            if ran.streamed.is_none() {
                nerve_report::probes::write(path, m, out).map_err(report_err)?;
            }
            // A .npy file holds the one probe (the run refuses more).
            if let (Some(name), true) = (probe_names.first(), nerve_report::has_extension(path, "npy")) {
                let kw = PyDict::new(py);
                kw.set_item("mmap_mode", "r")?;
                probes.set_item(name, py.import("numpy")?.call_method("load", (path,), Some(&kw))?)?;
            }
        }
        for p in out.probes.iter().filter(|_| probe_out.is_none()) {
            let pop = &m.pops[p.pop as usize];
            let var = pop.vars.iter().find(|v| v.slot == p.slot).ok_or_else(|| value_error("a probe of an unknown variable"))?;
            let n = pop.size as usize;
            let mut flat = Vec::with_capacity(p.values.len() * n);
            for row in &p.values {
                flat.extend(row.iter().map(|&x| x as f64 * var.scale + var.offset));
            }
            let a = PyArray1::from_vec(py, flat).reshape([p.values.len(), n])?;
            probes.set_item(format!("{}:{}", pop.name, var.name), a)?;
        }
        let weights = PyDict::new(py);
        for l in m.learned() {
            let (mut pre, mut post, mut w, mut d) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for x in &l.synapses {
                pre.push(x.pre);
                post.push(x.post);
                w.push(x.weight);
                d.push(nerve_report::spikes::steps_ms(x.delay.into(), m.dt_ms));
            }
            let arrays = [
                PyArray1::from_vec(py, pre).into_any(),
                PyArray1::from_vec(py, post).into_any(),
                PyArray1::from_vec(py, w).into_any(),
                PyArray1::from_vec(py, d).into_any(),
            ];
            weights.set_item(&l.projection, PyTuple::new(py, arrays)?)?;
        }
        let mut text = nerve_report::text::run_lines(&summary, out.wall_seconds);
        text.push_str("`json.dump(r.report, f)` writes the file `nerve report` turns into breakdowns, pictures and an HTML page.\n");
        Ok(PyRun {
            spikes: spikes.unbind(),
            probes: probes.unbind(),
            report: to_py(py, &summary)?.unbind(),
            text,
            late_inputs: ran.late_inputs,
            weights: weights.unbind(),
        })
    }
}

// ---------------------------------------------------------------- module

/// nerve: compile spiking networks for neuromorphic chips and emulate them.
#[pymodule]
fn nerve(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyArch>()?;
    m.add_class::<PyImage>()?;
    m.add_class::<PyRun>()?;
    m.add_function(wrap_pyfunction!(arch, m)?)?;
    m.add_function(wrap_pyfunction!(archs, m)?)?;
    m.add_function(wrap_pyfunction!(compile, m)?)?;
    m.add_function(wrap_pyfunction!(load, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
