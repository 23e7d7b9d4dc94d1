//! The JSON network format (docs/network-format.md). Parsing walks the
//! document by hand so that every error names its JSON path, and every key is
//! accounted for: an unknown key is an error, never silently ignored.

use std::cell::{Cell, RefCell};
use std::path::{Path, PathBuf};

use super::dom::{Doc, Keys, Kind, V};
use crate::error::{num, CompileError, Result};
use crate::net::model::*;
use nerve_isa::MAX_STEPS;

/// Where we are in the document, for error messages.
#[derive(Clone)]
struct At<'a> {
    v: V<'a, 'a>,
    file: &'a str,
}

impl<'a> At<'a> {
    fn err<T>(&self, reason: impl Into<String>) -> Result<T> {
        Err(CompileError::Format { file: self.file.to_string(), path: self.v.path(), reason: reason.into() })
    }
    fn kind(&self) -> String {
        match self.v.kind() {
            Kind::Null => "null".into(),
            Kind::Bool(b) => format!("{b}"),
            Kind::Num(n) => n.to_string(),
            Kind::Str(s) => format!("\"{}\"", s.chars().take(40).collect::<String>()),
            Kind::Arr(a) => format!("an array of {}", a.len()),
            Kind::Obj(_) => "an object".into(),
        }
    }
    fn f64(&self) -> Result<f64> {
        match self.v.as_f64() {
            Some(x) if x.is_finite() => Ok(x),
            _ => self.err(format!("expected a number, found {}", self.kind())),
        }
    }
    fn u64(&self) -> Result<u64> {
        match self.v.kind() {
            Kind::Num(n) => {
                if let Some(u) = self.v.as_u64() {
                    return Ok(u);
                }
                if let Some(f) = self.v.as_f64() {
                    if f >= 0.0 && f.fract() == 0.0 && f < 2f64.powi(53) {
                        return Ok(f as u64);
                    }
                }
                self.err(format!("expected a non-negative integer, found {n}"))
            }
            _ => self.err(format!("expected a non-negative integer, found {}", self.kind())),
        }
    }
    fn u32(&self) -> Result<u32> {
        let v = self.u64()?;
        u32::try_from(v).or_else(|_| self.err(format!("{v} is too large (at most {})", u32::MAX)))
    }
    fn i64(&self) -> Result<i64> {
        match self.v.kind() {
            Kind::Num(n) => {
                if let Some(i) = self.v.as_i64() {
                    return Ok(i);
                }
                if let Some(f) = self.v.as_f64() {
                    if f.fract() == 0.0 && f.abs() < 2f64.powi(53) {
                        return Ok(f as i64);
                    }
                }
                self.err(format!("expected an integer, found {n}"))
            }
            _ => self.err(format!("expected an integer, found {}", self.kind())),
        }
    }
    fn bool(&self) -> Result<bool> {
        self.v.as_bool().map_or_else(|| self.err(format!("expected true or false, found {}", self.kind())), Ok)
    }
    fn str(&self) -> Result<&'a str> {
        self.v.as_str().map_or_else(|| self.err(format!("expected a string, found {}", self.kind())), Ok)
    }
    fn array(&self) -> Result<Vec<At<'a>>> {
        match self.v.as_array() {
            Some(a) => Ok(a.map(|v| At { v, file: self.file }).collect()),
            _ => self.err(format!("expected an array, found {}", self.kind())),
        }
    }
    /// An array's elements one by one, where `array` collects them (a
    /// network's 57k projections: 5 ms of a 90 ms read).
    fn items(&self) -> Result<impl ExactSizeIterator<Item = At<'a>> + 'a> {
        let file = self.file;
        match self.v.as_array() {
            Some(a) => Ok(a.map(move |v| At { v, file })),
            _ => self.err(format!("expected an array, found {}", self.kind())),
        }
    }
    /// An array's elements in runs of `size` (the last one shorter), each
    /// with the index of its first element.
    fn item_runs(&self, size: usize) -> Result<Vec<(usize, impl Iterator<Item = At<'a>> + Send + 'a)>> {
        let (file, size) = (self.file, size.max(1));
        match self.v.as_array() {
            Some(mut a) => {
                let mut runs = Vec::with_capacity(a.len().div_ceil(size));
                while !a.is_empty() {
                    let start = runs.len() * size;
                    runs.push((start, a.split_front(size).map(move |v| At { v, file })));
                }
                Ok(runs)
            }
            _ => self.err(format!("expected an array, found {}", self.kind())),
        }
    }
    fn obj(&self) -> Result<Obj<'a>> {
        match self.v.as_object() {
            Some(m) => {
                let m = Keys::new(m);
                match m.repeated() {
                    // A repeated key would hide one of its values.
                    Some(k) => self.err(format!("key `{}` appears twice", super::dom::shown_key(k))),
                    None => Ok(Obj { m, at: self.clone(), used: Cell::new(0), used_more: RefCell::new(Vec::new()) }),
                }
            }
            None => self.err(format!("expected an object, found {}", self.kind())),
        }
    }
    /// A scalar or an array of exactly `n` numbers.
    fn values(&self, n: u32) -> Result<Values> {
        match self.v.as_array() {
            Some(a) => {
                if a.len() != n as usize {
                    return self.err(format!("expected a number or an array of {n} numbers (one per neuron), found an array of {}", a.len()));
                }
                Ok(Values::PerNeuron(self.array()?.iter().map(|x| x.f64()).collect::<Result<_>>()?))
            }
            _ => match self.v.as_f64() {
                Some(x) if x.is_finite() => Ok(Values::Scalar(x)),
                _ => self.err(format!("expected a number or an array of {n} numbers, found {}", self.kind())),
            },
        }
    }
}

/// An object being read: remembers which keys were used.
struct Obj<'a> {
    m: Keys<'a, 'a>,
    at: At<'a>,
    /// Members read, by position (a bit each for the first 64: no allocation per object).
    used: Cell<u64>,
    used_more: RefCell<Vec<usize>>,
}

impl<'a> Obj<'a> {
    fn get(&self, key: &str) -> Option<At<'a>> {
        let (i, v) = self.m.get(key)?;
        if i < 64 {
            self.used.set(self.used.get() | 1 << i);
        } else {
            self.used_more.borrow_mut().push(i);
        }
        Some(At { v, file: self.at.file })
    }
    fn req(&self, key: &str) -> Result<At<'a>> {
        self.get(key).map_or_else(|| self.at.err(format!("missing required key `{key}`")), Ok)
    }
    /// Fails on any key that was not read.
    fn finish(&self, allowed_hint: &str) -> Result<()> {
        let more = self.used_more.borrow();
        for (i, (k, _)) in self.m.members().enumerate() {
            if !(if i < 64 { self.used.get() >> i & 1 == 1 } else { more.contains(&i) }) {
                let k = super::dom::shown_key(k);
                let path = format!("{}.{k}", self.at.v.path());
                return Err(CompileError::Format { file: self.at.file.to_string(), path, reason: format!("unknown key `{k}` (allowed here: {allowed_hint})") });
            }
        }
        Ok(())
    }
}

/// Reads a network file.
pub fn read_network(path: &Path) -> Result<Network> {
    let text = nerve_isa::files::read_to_string(path).map_err(|source| CompileError::Io { path: path.display().to_string(), source })?;
    parse_network(&text, path)
}

/// Parses network JSON. `origin` names the file in errors and anchors relative paths.
pub fn parse_network(text: &str, origin: &Path) -> Result<Network> {
    parse_network_on(text, origin, None)
}

/// [`parse_network`] with its projections read on `threads` threads (as
/// many as the host has, up to 8, for a large network when `None`).
fn parse_network_on(text: &str, origin: &Path, threads: Option<usize>) -> Result<Network> {
    let file = origin.display().to_string();
    let doc = Doc::parse(text).map_err(|e| CompileError::Format {
        file: file.clone(),
        path: format!("line {}, column {}", e.line, e.column),
        reason: format!("not valid JSON: {e}"),
    })?;
    let base = super::refs::base_dir(origin);
    let root = At { v: doc.root(), file: &file };
    Parser { base, text_len: text.len(), names: Default::default(), threads }.network(&root)
}

/// The shortest text of a valid projection,
/// `{"pre":"a","post":"a","weight":1,"connector":{"type":"one_to_one"}}`, less a little.
const MIN_PROJECTION_BYTES: usize = 64;

struct Parser {
    base: PathBuf,
    /// The document's length in bytes (what it can hold bounds what is reserved).
    text_len: usize,
    /// Population name → index: a network may have thousands of populations
    /// and tens of thousands of projections naming them.
    names: rustc_hash::FxHashMap<String, PopIx>,
    /// Threads reading the projections (`None`: by their number and the host's).
    threads: Option<usize>,
}

/// What placing a projection in the network needs of the projections
/// before it (the part of reading that is done in turn).
#[derive(Default)]
struct Sofar {
    /// The hashes of the projection labels so far (electrical ones too):
    /// checked per projection, where scanning the projections so far was
    /// quadratic and a set of the labels themselves cost 25–30 ms of reading
    /// a 57k-projection network (the strings' copies).
    labels: rustc_hash::FxHashSet<u64>,
    /// How many projections join each (pre, post) pair so far: default labels number them.
    pairs: rustc_hash::FxHashMap<(u32, u32), u32>,
}

impl Sofar {
    /// A projection read on its own put in the network, after those before it.
    fn place(&mut self, net: &mut Network, r: ReadProjection) -> Result<()> {
        let ReadProjection { at, label_at, pre, post, electrical, seeded, mut p } = r;
        // Chemical projections so far from pre to post, labelled or not
        // (counted here: walking pre's edges per projection was quadratic in
        // its fan-out).
        // Electrical ones counted apart (in the pair's high half): each kind
        // numbers its own, so a label, and the seed taken from it, does not
        // move when a projection of another pair is added before it.
        let key = (pre.index() as u32 | if electrical { 1 << 31 } else { 0 }, post.index() as u32);
        let dup = {
            let d = self.pairs.entry(key).or_insert(0);
            *d += 1;
            *d
        };
        p.label = match &label_at {
            Some(l) => l.str()?.to_string(),
            None => {
                // Built by hand: `format!` was a tenth of reading 57k projections.
                let (a, b) = (&net.pop(pre).name, &net.pop(post).name);
                let mut l = String::with_capacity(a.len() + b.len() + 8);
                l.push_str(a);
                l.push(if electrical { '⇄' } else { '→' });
                l.push_str(b);
                if dup > 1 {
                    l.push('#');
                    l.push_str(&dup.to_string());
                }
                l
            }
        };
        self.unique_label(net, label_at.as_ref().unwrap_or(&at), label_at.is_some(), &p.label)?;
        if !seeded {
            seed_from_label(&mut p.connector, &p.label);
        }
        if electrical {
            let position = net.graph.edge_count() + net.electrical.len();
            net.electrical.push(Electrical { pre, post, p, position });
        } else {
            net.graph.add_edge(pre, post, p);
        }
        Ok(())
    }

    /// Refuses a projection label that cannot be written, or that an earlier
    /// projection has: labels name the rows of `--save-weights` and the
    /// compile report, where two alike could not be told apart. `at` is the
    /// label, or the projection where the label is its default (`given` false).
    fn unique_label(&mut self, net: &Network, at: &At, given: bool, label: &str) -> Result<()> {
        if let Some(why) = bad_projection_label(label) {
            return at.err(why);
        }
        let h = std::hash::BuildHasher::hash_one(&rustc_hash::FxBuildHasher, label);
        // A hash seen before is a label used before, or (rarely) two labels
        // with one hash: the labels themselves decide.
        let taken = || net.graph.edge_weights().map(|p| &p.label).chain(net.electrical.iter().map(|e| &e.p.label)).any(|l| l == label);
        if !self.labels.insert(h) && taken() {
            let how = if given { "" } else { " (this projection's default label: give it a `label`)" };
            return at.err(format!("projection label `{label}` is used twice{how}: labels name the rows of --save-weights and must be unique"));
        }
        Ok(())
    }
}

/// A projection read on its own: all of it but what depends on the
/// projections before it (a default label's number, whether the label is
/// unique, an electrical projection's position, a seed taken from the label).
struct ReadProjection<'a> {
    at: At<'a>,
    /// Its `label`, if it has one.
    label_at: Option<At<'a>>,
    pre: PopIx,
    post: PopIx,
    electrical: bool,
    /// Its connector has a `seed`.
    seeded: bool,
    /// The projection, its label still empty.
    p: Projection,
}

/// From this many projections up, they are read on several threads.
const PARALLEL_PROJECTIONS: usize = 8192;

/// Projections read as one job (each job's results are reserved whole).
const PROJECTIONS_PER_JOB: usize = 1024;

impl Parser {
    fn network(mut self, root: &At) -> Result<Network> {
        let o = root.obj()?;
        // It titles the reports and their (XML) pictures.
        let name = match o.get("name") {
            Some(n) => {
                let name = n.str()?.to_string();
                if let Some(why) = nerve_isa::names::bad_network_name(&name) {
                    return n.err(why);
                }
                name
            }
            None => {
                let name = super::name_of_file(Path::new(root.file)).unwrap_or_else(|| "network".into());
                if let Some(why) = nerve_isa::names::bad_network_name(&name) {
                    return root.err(format!("the network, named after its file for want of a `name`: {why}"));
                }
                name
            }
        };
        let dt_ms = match o.get("dt_ms") {
            Some(d) => {
                let v = d.f64()?;
                if v <= 0.0 {
                    return d.err(format!("the timestep must be positive, found {}", num(v)));
                }
                if !DT_MS_RANGE.contains(&v) {
                    let (lo, hi) = (num(*DT_MS_RANGE.start()), num(*DT_MS_RANGE.end()));
                    return d.err(format!("a timestep of {} ms is outside {lo}..={hi} ms", num(v)));
                }
                v
            }
            None => 0.1,
        };
        if let Some(d) = o.get("description") {
            d.str()?;
        }
        let mut net = Network::new(name, dt_ms);
        if let Some(d) = o.get("duration_ms") {
            let v = d.f64()?;
            if v <= 0.0 {
                return d.err(format!("the duration must be positive, found {} ms", num(v)));
            }
            // Exported scripts run this long: no longer than a run can be
            // (in timesteps as every time becomes them: the nearest, a half up).
            let steps = nerve_isa::time::steps_of(v, dt_ms);
            if steps > MAX_STEPS as f64 {
                return d.err(format!("a duration of {} ms is {steps:e} timesteps of {dt_ms} ms: more than {MAX_STEPS}, the most a run takes", num(v)));
            }
            net.duration_ms = Some(v);
        }
        let pops = o.req("populations")?;
        let pops_arr = pops.array()?;
        if pops_arr.is_empty() {
            return pops.err("a network needs at least one population");
        }
        for p in &pops_arr {
            let pop = self.population(p, dt_ms)?;
            if self.names.contains_key(&pop.name) {
                return p.err(format!("population name `{}` is used twice", pop.name));
            }
            let name = pop.name.clone();
            let ix = net.graph.add_node(pop);
            self.names.insert(name, ix);
        }
        if let Some(projs) = o.get("projections") {
            let n = projs.items()?.len();
            // Room for the projections up front, as many as the text can hold
            // valid ones: an array of empty objects is three bytes each, and
            // reserving a 184-byte edge for each of them would size memory
            // from what has not been checked.
            let room = n.min(self.text_len / MIN_PROJECTION_BYTES);
            let mut sofar = Sofar::default();
            sofar.labels.reserve(room);
            sofar.pairs.reserve(room);
            net.graph.reserve_edges(room);
            // Each projection read on its own, on a few threads for a large
            // network (a 57k-projection network's took 50 ms on one), then
            // placed in turn: the same network, and the same first error
            // (in document order), whatever the thread count. Nothing past
            // the first projection found wrong is read (it could be a large
            // list, or a file) once that is known.
            let threads = self.threads.unwrap_or_else(|| if n < PARALLEL_PROJECTIONS { 1 } else { nerve_isa::host_threads() });
            let first_wrong = std::sync::atomic::AtomicUsize::new(usize::MAX);
            let (net_ref, this) = (&net, &self);
            let read = crate::par::map_in_order(projs.item_runs(PROJECTIONS_PER_JOB)?, threads, |(start, run)| {
                let mut out = Vec::new();
                for (i, pj) in (start..).zip(run) {
                    if i > first_wrong.load(std::sync::atomic::Ordering::Relaxed) {
                        break;
                    }
                    let r = this.read_projection(net_ref, &pj);
                    let wrong = r.is_err();
                    if out.capacity() == 0 {
                        out.reserve_exact(PROJECTIONS_PER_JOB.min(n - start));
                    }
                    out.push(r);
                    if wrong {
                        first_wrong.fetch_min(i, std::sync::atomic::Ordering::Relaxed);
                        break;
                    }
                }
                out
            });
            for r in read.into_iter().flatten() {
                sofar.place(&mut net, r?)?;
            }
        }
        o.finish("name, dt_ms, duration_ms, description, populations, projections")?;
        Ok(net)
    }

    fn population(&self, at: &At, dt_ms: f64) -> Result<Population> {
        let o = at.obj()?;
        let name_at = o.req("name")?;
        let name = name_at.str()?.to_string();
        if let Some(why) = bad_population_name(&name) {
            return name_at.err(why);
        }
        let size_at = o.req("size")?;
        let size = size_at.u32()?;
        if size == 0 {
            return size_at.err("a population needs at least one neuron");
        }
        let model_at = o.req("model")?;
        let model_name = model_at.str()?;
        let params = o.get("params").map(|p| p.obj()).transpose()?;
        let model = match model_name {
            "spike_source_array" => {
                if let Some(p) = &params {
                    p.finish("(none: give `spike_times` at the population level)")?;
                }
                let st = o.req("spike_times")?;
                let arr = st.array()?;
                let per_neuron: Vec<Vec<f64>> = if arr.iter().all(|a| a.v.is_array()) && !arr.is_empty() {
                    if arr.len() != size as usize {
                        return st.err(format!("expected {size} lists of spike times (one per neuron), found {}", arr.len()));
                    }
                    arr.iter().map(|a| self.times(a, dt_ms)).collect::<Result<_>>()?
                } else {
                    let one = self.times(&st, dt_ms)?;
                    // Each neuron gets its own copy of the list: refuse a population that cannot hold them before making them.
                    let each = (std::mem::size_of::<Vec<f64>>() + one.len() * std::mem::size_of::<f64>()) as u64;
                    if let Err(m) = crate::compile::check_neurons_fit(size as u64, each) {
                        return st.err(format!("population `{name}`: {m}"));
                    }
                    vec![one; size as usize]
                };
                Model::SpikeSourceArray(per_neuron)
            }
            "spike_source_poisson" => {
                let p = match &params {
                    Some(p) => p,
                    None => return model_at.err("`spike_source_poisson` needs `params` with `rate` (Hz)"),
                };
                let rate_at = p.req("rate")?;
                let rate = rate_at.values(size)?;
                let (lo, hi) = rate.min_max(size as usize);
                if lo < 0.0 {
                    return rate_at.err(format!("rates must be ≥ 0 Hz, found {}", num(lo)));
                }
                if hi * dt_ms / 1000.0 > 1.0 {
                    return rate_at.err(format!("a rate of {} Hz means more than one spike per {} ms timestep", num(hi), num(dt_ms)));
                }
                p.finish("rate")?;
                let seed = match o.get("seed") {
                    Some(s) => s.u64()?,
                    None => crate::rng::seed_of(crate::rng::stream::POISSON, &[&name]),
                };
                Model::SpikeSourcePoisson { rate, seed }
            }
            "input" => {
                if let Some(p) = &params {
                    p.finish("(none)")?;
                }
                Model::Input
            }
            other => match crate::models::find(other).filter(|m| m.in_json()) {
                Some(m) => Model::Neuron(self.neuron(m, &model_at, params.as_ref(), size)?),
                None => {
                    let mut known = crate::models::names();
                    known.extend(["spike_source_array", "spike_source_poisson", "input"]);
                    return model_at.err(format!("unknown model `{other}` (known: {})", known.join(", ")));
                }
            },
        };
        // `spike_times` belongs to spike-source arrays only (read above for them).
        if !matches!(model, Model::SpikeSourceArray { .. }) {
            if let Some(s) = o.get("spike_times") {
                return s.err(format!(
                    "`spike_times` is for spike_source_array populations, not `{model_name}` (an `input` population takes spikes from `nerve run --input`)"
                ));
            }
        }
        // The population-level seed belongs to Poisson sources only.
        if !matches!(model, Model::SpikeSourcePoisson { .. }) {
            if let Some(s) = o.get("seed") {
                return s.err("`seed` at the population level is for spike_source_poisson; initial values take their own seed");
            }
        }
        let mut initial = Vec::new();
        if let Some(init) = o.get("initial") {
            let io = init.obj()?;
            let allowed = model.state();
            for (k, _) in io.m.members() {
                // invariant: `k` is one of io.m's own keys (this loop iterates them)
                let at = io.get(k).expect("a key of this object is in it");
                let Some(var) = allowed.iter().find(|v| v.name == k) else {
                    let names: Vec<&str> = allowed.iter().map(|v| v.name).collect();
                    return at.err(format!("`{}` has no state variable `{k}` (it has: {})", model_name, names.join(", ")));
                };
                let v = self.init(&at, size, &name, k)?;
                if let Some(bits) = var.int_bits {
                    let check = |x: f64| x.fract() == 0.0 && x.abs() < (1u64 << bits) as f64;
                    let ok = match &v {
                        Init::Values(vals) => vals.stored().iter().all(|&x| check(x)),
                        Init::Uniform { lo, hi, .. } => check(*lo) && check(*hi),
                    };
                    if !ok {
                        return at.err(format!("{model_name} state is {bits}-bit integers"));
                    }
                }
                initial.push((k.to_string(), v));
            }
        }
        let mut record_spikes = false;
        if let Some(r) = o.get("record") {
            for x in r.array()? {
                match x.str()? {
                    "spikes" => record_spikes = true,
                    other => {
                        if model.state().iter().any(|v| v.name == other) {
                            return x.err(format!("`{other}` is probed at run time: `nerve run --probe {name}:{other}`; `record` takes \"spikes\""));
                        }
                        return x.err(format!("`record` takes \"spikes\", found \"{other}\""));
                    }
                }
            }
        }
        let max_per_core = match o.get("max_per_core") {
            Some(m) => {
                let v = m.u32()?;
                if v == 0 {
                    return m.err("`max_per_core` must be ≥ 1");
                }
                Some(v)
            }
            None => None,
        };
        let labels = match o.get("labels") {
            Some(l) => {
                let arr = l.array()?;
                if arr.len() != size as usize {
                    return l.err(format!("{} labels for {size} neurons: give one per neuron", arr.len()));
                }
                let mut seen = std::collections::HashMap::with_capacity(arr.len());
                let mut out = Vec::with_capacity(arr.len());
                for (i, a) in arr.iter().enumerate() {
                    let t = a.str()?.trim();
                    if let Some(why) = nerve_isa::names::bad_label(t) {
                        return a.err(why);
                    }
                    if let Some(j) = seen.insert(t.to_string(), i) {
                        return a.err(format!("label `{t}` is used by neurons {j} and {i}"));
                    }
                    out.push(t.to_string());
                }
                out
            }
            None => Vec::new(),
        };
        o.finish("name, size, model, params, initial, record, seed, spike_times, max_per_core, labels")?;
        Ok(Population { name, size, model, initial, record_spikes, max_per_core, labels })
    }

    /// A neuron model's parameters, read and checked through its table
    /// (`crate::models`): every documented parameter is read before
    /// unknown keys are refused.
    fn neuron(&self, m: &'static dyn NeuronModel, model_at: &At, params: Option<&Obj>, size: u32) -> Result<Neuron> {
        let specs = m.params();
        let required: Vec<&str> = specs.iter().filter(|s| s.default == crate::models::Default::Required).map(|s| s.name).collect();
        let Some(p) = params else {
            if required.is_empty() {
                return Ok(Neuron { model: m, params: crate::models::Params::defaults(specs) });
            }
            let others: Vec<&str> = specs.iter().filter(|s| s.default != crate::models::Default::Required).map(|s| s.name).collect();
            return model_at.err(format!("`{}` needs `params` with {} (and optionally {})", m.name(), required.join(", "), others.join(", ")));
        };
        let mut n = Neuron { model: m, params: crate::models::Params::defaults(specs) };
        for s in specs {
            if let Some(a) = p.get(s.name) {
                let v = a.values(size)?;
                // invariant: `s` is one of the model's own parameter specs, and Params::set fails only on an undeclared name
                n.params.set(s.name, v).expect("the model declares its own parameters");
            }
        }
        for (k, _) in p.m.members() {
            if specs.iter().all(|s| s.name != k) {
                if let Some(h) = m.hint(k) {
                    // invariant: `k` is one of p.m's own keys (this loop iterates them)
                    return p.get(k).expect("a key of this object is in it").err(h);
                }
            }
        }
        let names: Vec<&str> = specs.iter().map(|s| s.name).collect();
        p.finish(&names.join(", "))?;
        if let Err((k, msg)) = n.check(size as usize) {
            let at = p.get(k).unwrap_or_else(|| if required.contains(&k) { p.at.clone() } else { model_at.clone() });
            return at.err(msg);
        }
        Ok(n)
    }

    fn times(&self, at: &At, dt_ms: f64) -> Result<Vec<f64>> {
        let mut out = Vec::new();
        for x in at.array()? {
            let t = x.f64()?;
            if t < 0.0 {
                return x.err(format!("spike times must be ≥ 0 ms, found {}", num(t)));
            }
            // The image holds a spike's step in 32 bits: a later one would silently become the last step.
            if nerve_isa::time::steps_of(t, dt_ms) > MAX_STEPS as f64 {
                return x.err(format!(
                    "spike time {} ms is step {:e} of {dt_ms} ms, beyond {MAX_STEPS}, the most a run takes",
                    num(t),
                    nerve_isa::time::steps_of(t, dt_ms)
                ));
            }
            out.push(t);
        }
        let mut sorted = out.clone();
        sorted.sort_by(f64::total_cmp);
        // Two spikes in one timestep cannot both be emitted.
        for w in sorted.windows(2) {
            if nerve_isa::time::steps_of(w[0], dt_ms) == nerve_isa::time::steps_of(w[1], dt_ms) {
                return at.err(format!("spike times {} and {} ms fall in the same {} ms timestep", num(w[0]), num(w[1]), num(dt_ms)));
            }
        }
        Ok(sorted)
    }

    /// An initial value of `var` in population `pop`.
    fn init(&self, at: &At, size: u32, pop: &str, var: &str) -> Result<Init> {
        if at.v.as_object().is_some() {
            let o = at.obj()?;
            let u = o.req("uniform")?;
            let lh = u.array()?;
            if lh.len() != 2 {
                return u.err("expected [lo, hi]");
            }
            let (lo, hi) = (lh[0].f64()?, lh[1].f64()?);
            if hi < lo {
                return u.err(format!("lo {lo} > hi {hi}"));
            }
            let seed = match o.get("seed") {
                Some(s) => s.u64()?,
                None => crate::rng::seed_of(crate::rng::stream::INITIAL, &[pop, var]),
            };
            o.finish("uniform, seed")?;
            Ok(Init::Uniform { lo, hi, seed })
        } else {
            Ok(Init::Values(at.values(size)?))
        }
    }

    fn read_projection<'a>(&self, net: &Network, at: &At<'a>) -> Result<ReadProjection<'a>> {
        let o = at.obj()?;
        let pop = |k: &str| -> Result<PopIx> {
            let a = o.req(k)?;
            let n = a.str()?;
            let found = self.names.get(n).copied();
            found.map_or_else(
                || {
                    let known: Vec<&str> = net.pops().map(|(_, p)| p.name.as_str()).take(8).collect();
                    a.err(format!("no population named `{n}` (populations: {}{})", known.join(", "), if net.num_pops() > 8 { ", …" } else { "" }))
                },
                Ok,
            )
        };
        let pre = pop("pre")?;
        let post = pop("post")?;
        let (pre_size, post_size) = (net.pop(pre).size, net.pop(post).size);
        let post_model = &net.pop(post).model;
        if post_model.is_source() {
            return o.req("post")?.err(format!("`{}` is a {} and cannot receive synapses", net.pop(post).name, post_model.name()));
        }
        let post_neuron = post_model.neuron_model();
        let is_loihi = post_neuron.is_some_and(|m| m.integer_weights());
        let receptor = match o.get("receptor") {
            Some(r) => match r.str()? {
                "excitatory" => Receptor::Excitatory,
                "inhibitory" => Receptor::Inhibitory,
                "electrical" => return self.electrical(net, &o, pre, post),
                other => return r.err(format!("unknown receptor `{other}` (excitatory, inhibitory or electrical)")),
            },
            None => Receptor::Excitatory,
        };
        let plasticity = match o.get("plasticity") {
            Some(p) => Some(self.plasticity(net, &p, post)?),
            None => None,
        };
        let weight = match o.get("weight") {
            Some(w) => Some(w.f64()?),
            None => None,
        };
        let delay_ms = match o.get("delay") {
            Some(d) => {
                let v = d.f64()?;
                if nerve_isa::time::below_one_step(v, net.dt_ms) {
                    return d.err(format!("delay {} ms is shorter than one timestep ({} ms)", num(v), num(net.dt_ms)));
                }
                Some(v)
            }
            None => None,
        };
        let mut loihi = LoihiWeights::default();
        for k in ["weight_exp", "num_weight_bits", "sign_mode"] {
            if let Some(a) = o.get(k) {
                if !is_loihi {
                    return a.err(format!("`{k}` applies to projections into loihi_lif populations"));
                }
                match k {
                    "weight_exp" => {
                        let e = a.i64()?;
                        if !(-8..=7).contains(&e) {
                            return a.err(format!("weight_exp must be in -8..=7, found {e}"));
                        }
                        loihi.weight_exp = e as i8;
                    }
                    "num_weight_bits" => {
                        let b = a.i64()?;
                        if !(1..=8).contains(&b) {
                            return a.err(format!("num_weight_bits must be in 1..=8, found {b}"));
                        }
                        loihi.num_weight_bits = b as u8;
                    }
                    _ => {
                        loihi.sign_mode = Some(match a.str()? {
                            "mixed" => SignMode::Mixed,
                            "excitatory" => SignMode::Excitatory,
                            "inhibitory" => SignMode::Inhibitory,
                            other => return a.err(format!("sign_mode is `mixed`, `excitatory` or `inhibitory`, found `{other}`")),
                        })
                    }
                }
            }
        }
        let conn_at = o.req("connector")?;
        let connector = self.connector(&conn_at, pre_size, post_size, pre == post, (&net.pop(pre).labels, &net.pop(post).labels))?;
        let carries_weights = matches!(connector, Connector::FromList(_) | Connector::Dense(_) | Connector::Conv2d(_) | Connector::Pool2d(_));
        if weight.is_none() && !carries_weights {
            return o.at.err(format!("missing required key `weight` (a `{}` connector gives no per-synapse weights)", connector.name()));
        }
        if let Some(l) = o.get("label") {
            l.str()?;
        }
        o.finish("pre, post, receptor, connector, weight, delay, plasticity, weight_exp, num_weight_bits, sign_mode, label")?;
        // PyNN's sign convention for current-based models, on the weight each
        // synapse gets: a dense matrix is scaled by `weight`, so its entries and
        // the scale each alone say nothing of the product's sign. A conv2d kernel
        // is signed as PyTorch's (mixed signs on one projection), so neither it
        // nor its scale is held to the convention.
        if !is_loihi {
            let check = |w: f64, where_: &str| -> Result<()> {
                let bad = match receptor {
                    Receptor::Excitatory => w < 0.0,
                    Receptor::Inhibitory => w > 0.0,
                };
                if bad {
                    return o.at.err(format!(
                        "{where_} weight {} on an {} projection: PyNN's convention is positive excitatory and negative inhibitory weights",
                        num(w),
                        receptor.name()
                    ));
                }
                Ok(())
            };
            if let Some(w) = weight.filter(|_| !matches!(connector, Connector::Dense(_) | Connector::Conv2d(_))) {
                check(w, "the")?;
            }
            match &connector {
                Connector::FromList(l) => {
                    if let Some(ws) = &l.weight {
                        for (k, &w) in ws.iter().enumerate() {
                            if !w.is_nan() {
                                check(w, &format!("connection ({}, {})", l.pre[k], l.post[k]))?;
                            }
                        }
                    }
                }
                Connector::Dense(rows) => {
                    let scale = weight.unwrap_or(1.0);
                    for (j, r) in rows.iter().enumerate() {
                        for (i, &w) in r.iter().enumerate() {
                            if weight.is_some() {
                                check(w * scale, &format!("dense[{j}][{i}] ({}) times the projection's weight ({}) gives a", num(w), num(scale)))?;
                            } else {
                                check(w, &format!("dense[{j}][{i}]"))?;
                            }
                        }
                    }
                }
                _ => {}
            }
        } else if let Some(why) = post_neuron.and_then(|m| fractional_weight(m.name(), weight, &connector)) {
            return o.at.err(why);
        }
        let seeded = conn_at.obj()?.get("seed").is_some();
        let p = Projection { label: String::new(), receptor, connector, weight, delay_ms, loihi, plasticity: plasticity.map(Box::new) };
        Ok(ReadProjection { at: at.clone(), label_at: o.get("label"), pre, post, electrical: false, seeded, p })
    }

    /// A projection's `plasticity` (docs/learning.md): read here, checked
    /// by `plasticity::check` (which the Rust builder runs too), its
    /// complaint placed at the key's JSON path.
    fn plasticity(&self, net: &Network, at: &At, post: PopIx) -> Result<Plasticity> {
        let pl = self.read_plasticity(at)?;
        if let Err(b) = crate::plasticity::check(net, post, &pl) {
            let mut cur = at.clone();
            for part in b.key.split('.').filter(|p| !p.is_empty()) {
                match cur.obj().ok().and_then(|o| o.get(part)) {
                    Some(a) => cur = a,
                    None => break,
                }
            }
            return cur.err(b.reason);
        }
        Ok(pl)
    }

    fn read_plasticity(&self, at: &At) -> Result<Plasticity> {
        let o = at.obj()?;
        let ty_at = o.req("type")?;
        let ty = ty_at.str()?;
        match ty {
            "loihi" | "loihi3f" => {
                let rule = |k: &str| -> Result<Option<String>> {
                    match o.get(k) {
                        Some(a) if a.v.is_null() => Ok(None),
                        Some(a) => Ok(Some(a.str()?.to_string())),
                        None => Ok(None),
                    }
                };
                let (dw, dd, dt) = (rule("dw")?, rule("dd")?, rule("dt")?);
                let num = |k: &str| -> Result<f64> {
                    match o.get(k) {
                        Some(a) => a.f64(),
                        None => Ok(0.0),
                    }
                };
                let three = ty == "loihi3f";
                let mut impulse = [0.0; 5];
                let mut tau = [0.0; 5];
                for (q, name) in ["x1", "x2", "y1", "y2", "y3"].iter().enumerate() {
                    if three && q >= 2 {
                        continue; // a 3F rule's post traces come from the neuron and the reward
                    }
                    impulse[q] = num(&format!("{name}_impulse"))?;
                    tau[q] = num(&format!("{name}_tau"))?;
                }
                let t_epoch = match o.get("t_epoch") {
                    Some(a) => {
                        let v = a.u64()?;
                        if !(1..=63).contains(&v) {
                            return a.err(format!("`t_epoch` must be in 1..=63 steps, found {v}"));
                        }
                        v as u16
                    }
                    None => 1,
                };
                let rng_seed = match o.get("rng_seed") {
                    Some(a) => a.u64()?,
                    None => 1,
                };
                let reward = if three {
                    let name = o.req("reward")?.str()?.to_string();
                    let weight = match o.get("reward_weight") {
                        Some(a) => a.f64()?,
                        None => 1.0,
                    };
                    Some(RewardSpec { pop: name, weight, y1_impulse: num("y1_impulse")?, y1_tau: num("y1_tau")? })
                } else {
                    None
                };
                let allowed = if three {
                    "type, dw, dd, dt, x1_impulse, x1_tau, x2_impulse, x2_tau, y1_impulse, y1_tau, t_epoch, rng_seed, reward, reward_weight"
                } else {
                    "type, dw, dd, dt, x1_impulse, x1_tau, x2_impulse, x2_tau, y1_impulse, y1_tau, y2_impulse, y2_tau, y3_impulse, y3_tau, t_epoch, rng_seed"
                };
                o.finish(allowed)?;
                Ok(Plasticity::Loihi(LoihiPlasticity { dw, dd, dt, impulse, tau, t_epoch, rng_seed, reward }))
            }
            "stdp" => {
                // PyNN's defaults: SpikePairRule(20, 20, 0.01, 0.01), AdditiveWeightDependence(0, 1).
                let num = |o: &Obj, k: &str, default: f64| -> Result<f64> {
                    match o.get(k) {
                        Some(a) => a.f64(),
                        None => Ok(default),
                    }
                };
                let td_at = o.req("timing_dependence")?;
                let td = td_at.obj()?;
                let td_ty = td.req("type")?;
                if td_ty.str()? != "spike_pair" {
                    return td_ty.err(format!("unknown timing dependence `{}` (spike_pair)", td_ty.str()?));
                }
                let (tau_plus, tau_minus) = (num(&td, "tau_plus", 20.0)?, num(&td, "tau_minus", 20.0)?);
                let (a_plus, a_minus) = (num(&td, "A_plus", 0.01)?, num(&td, "A_minus", 0.01)?);
                td.finish("type, tau_plus, tau_minus, A_plus, A_minus")?;
                let wd_at = o.req("weight_dependence")?;
                let wd = wd_at.obj()?;
                let wd_ty = wd.req("type")?;
                let multiplicative = match wd_ty.str()? {
                    "additive" => false,
                    "multiplicative" => true,
                    other => return wd_ty.err(format!("unknown weight dependence `{other}` (additive, multiplicative)")),
                };
                let (w_min, w_max) = (num(&wd, "w_min", 0.0)?, num(&wd, "w_max", 1.0)?);
                wd.finish("type, w_min, w_max")?;
                let reward = match o.get("reward") {
                    Some(r) => {
                        let name = r.str()?.to_string();
                        let weight = num(&o, "reward_weight", 1.0)?;
                        Some(StdpReward { pop: name, weight, tau: num(&o, "reward_tau", 100.0)? })
                    }
                    None => {
                        for k in ["reward_weight", "reward_tau"] {
                            if let Some(a) = o.get(k) {
                                return a.err(format!("`{k}` belongs to a third factor: give `reward` too"));
                            }
                        }
                        None
                    }
                };
                let weight_shift = match o.get("weight_shift") {
                    Some(a) => {
                        let v = a.u64()?;
                        if v > 16 {
                            return a.err(format!("`weight_shift` must be in 0..=16, found {v}"));
                        }
                        Some(v as u8)
                    }
                    None => None,
                };
                o.finish("type, timing_dependence, weight_dependence, reward, reward_weight, reward_tau, weight_shift")?;
                Ok(Plasticity::Stdp(StdpPlasticity { tau_plus, tau_minus, a_plus, a_minus, multiplicative, w_min, w_max, reward, weight_shift }))
            }
            other => ty_at.err(format!("unknown plasticity type `{other}` (loihi, loihi3f, stdp)")),
        }
    }

    /// A projection of electrical synapses (gap junctions): conductances in
    /// µS, one timestep's latency, no plasticity; kept in `net.electrical`.
    fn electrical<'a>(&self, net: &Network, o: &Obj<'a>, pre: PopIx, post: PopIx) -> Result<ReadProjection<'a>> {
        for (k, why) in [
            ("plasticity", "electrical synapses do not learn"),
            ("delay", "an electrical synapse acts after one timestep"),
            ("weight_exp", "for loihi_lif spikes"),
            ("num_weight_bits", "for loihi_lif spikes"),
            ("sign_mode", "for loihi_lif spikes"),
        ] {
            if let Some(a) = o.get(k) {
                return a.err(format!("`{k}` does not apply to an electrical projection: {why}"));
            }
        }
        for (ix, end) in [(pre, "pre"), (post, "post")] {
            let m = &net.pop(ix).model;
            // In mV: loihi_lif's v is an integer, which the junction's µS took for mV (its u left its 24 bits).
            if !m.neuron_model().is_some_and(|x| x.state().iter().any(|v| v.name == "v" && v.unit == "mV")) {
                return o.req(end)?.err(format!(
                    "`{}` is a {}: electrical synapses join neurons with a membrane potential `v` in mV (not spike sources, nor loihi_lif, whose v is an integer)",
                    net.pop(ix).name,
                    m.name()
                ));
            }
        }
        let weight = match o.get("weight") {
            Some(w) => Some(w.f64()?),
            None => None,
        };
        let conn_at = o.req("connector")?;
        let connector = self.connector(&conn_at, net.pop(pre).size, net.pop(post).size, pre == post, (&net.pop(pre).labels, &net.pop(post).labels))?;
        let carries_weights = matches!(connector, Connector::FromList(_) | Connector::Dense(_));
        if weight.is_none() && !carries_weights {
            return o.at.err(format!("missing required key `weight` (the conductance, µS; a `{}` connector gives no per-synapse weights)", connector.name()));
        }
        if matches!(connector, Connector::Conv2d(_) | Connector::Pool2d(_)) {
            return conn_at.err("electrical synapses take a point-to-point connector (from_list, one_to_one, all_to_all, fixed_*, dense)");
        }
        if let Connector::FromList(l) = &connector {
            if l.delay.is_some() {
                return conn_at.err("an electrical synapse acts after one timestep: its connections take no delay");
            }
            if let Some(ws) = &l.weight {
                if let Some(k) = ws.iter().position(|w| !w.is_nan() && *w < 0.0) {
                    return conn_at.err(format!("connection ({}, {}) has conductance {} µS: conductances are ≥ 0", l.pre[k], l.post[k], num(ws[k])));
                }
            }
        }
        // A dense matrix is scaled by `weight` (≥ 0 below), so each entry's
        // sign is its conductance's: a negative one drives `v` to the rail.
        if let Connector::Dense(rows) = &connector {
            for (j, r) in rows.iter().enumerate() {
                if let Some(i) = r.iter().position(|w| *w < 0.0) {
                    let at = conn_at.obj()?.req("weights")?.array()?[j].array()?[i].clone();
                    return at.err(format!("dense[{j}][{i}] is a conductance of {} µS: conductances are ≥ 0", num(r[i])));
                }
            }
        }
        if weight.is_some_and(|w| w < 0.0) {
            return o.req("weight")?.err("a conductance is ≥ 0 µS");
        }
        if let Some(l) = o.get("label") {
            l.str()?;
        }
        o.finish("pre, post, receptor, connector, weight, label")?;
        let seeded = conn_at.obj()?.get("seed").is_some();
        let p = Projection {
            label: String::new(),
            receptor: Receptor::Excitatory,
            connector,
            weight,
            delay_ms: None,
            loihi: LoihiWeights::default(),
            plasticity: None,
        };
        Ok(ReadProjection { at: o.at.clone(), label_at: o.get("label"), pre, post, electrical: true, seeded, p })
    }

    fn connector(&self, at: &At, pre_n: u32, post_n: u32, same: bool, labels: (&[String], &[String])) -> Result<Connector> {
        let o = at.obj()?;
        let ty_at = o.req("type")?;
        let ty = ty_at.str()?;
        // Without a `seed`, the projection's label gives one once it is known (`seed_from_label`).
        let seed = |o: &Obj| -> Result<u64> { o.get("seed").map_or(Ok(0), |s| s.u64()) };
        let allow_self = |o: &Obj| -> Result<bool> { o.get("allow_self_connections").map_or(Ok(true), |s| s.bool()) };
        let c = match ty {
            "all_to_all" => {
                let a = allow_self(&o)?;
                o.finish("type, allow_self_connections")?;
                Connector::AllToAll { allow_self_connections: a }
            }
            "one_to_one" => {
                o.finish("type")?;
                if pre_n != post_n {
                    return ty_at.err(format!("one_to_one needs equal sizes, pre has {pre_n} and post {post_n}"));
                }
                Connector::OneToOne
            }
            "fixed_probability" => {
                let p_at = o.req("p")?;
                let p = p_at.f64()?;
                if !(0.0..=1.0).contains(&p) {
                    return p_at.err(format!("p must be in [0, 1], found {}", num(p)));
                }
                let c = Connector::FixedProbability { p, seed: seed(&o)?, allow_self_connections: allow_self(&o)? };
                o.finish("type, p, seed, allow_self_connections")?;
                c
            }
            "fixed_number_pre" | "fixed_number_post" => {
                let n_at = o.req("n")?;
                let n = n_at.u32()?;
                let a = allow_self(&o)?;
                let avail = if ty == "fixed_number_pre" { pre_n } else { post_n };
                let avail = if same && !a { avail.saturating_sub(1) } else { avail };
                if n > avail {
                    return n_at.err(format!("n = {n} exceeds the {avail} distinct candidates"));
                }
                let s = seed(&o)?;
                o.finish("type, n, seed, allow_self_connections")?;
                if ty == "fixed_number_pre" {
                    Connector::FixedNumberPre { n, seed: s, allow_self_connections: a }
                } else {
                    Connector::FixedNumberPost { n, seed: s, allow_self_connections: a }
                }
            }
            "from_list" => {
                let index = |l: &[String]| -> Option<std::collections::HashMap<String, u32>> {
                    (!l.is_empty()).then(|| l.iter().enumerate().map(|(i, x)| (x.clone(), i as u32)).collect())
                };
                let (pre_ix, post_ix) = (index(labels.0), index(labels.1));
                // A neuron: its index, or its label where the population has labels.
                let neuron = |a: &At, ix: &Option<std::collections::HashMap<String, u32>>, end: &str| -> Result<u32> {
                    match (a.v.as_str(), ix) {
                        (Some(t), Some(m)) => m.get(t).copied().map_or_else(|| a.err(format!("no {end} neuron labelled `{t}`")), Ok),
                        (Some(t), None) => a.err(format!("`{t}`: the {end} population has no labels; give a neuron index")),
                        _ => a.u32(),
                    }
                };
                let select: Vec<(String, String)> = match o.get("select") {
                    Some(sel) => {
                        let so = sel.obj()?;
                        let mut v = Vec::new();
                        for (k, x) in so.m.members() {
                            let val = match x.kind() {
                                Kind::Str(t) => t.to_string(),
                                Kind::Num(n) => n.to_string(),
                                Kind::Bool(b) => b.to_string(),
                                _ => return sel.err(format!("select `{k}`: give the column's value as a string or a number")),
                            };
                            if ["pre", "post", "weight", "delay"].contains(&k) {
                                return sel.err(format!("select `{k}`: select on other columns than pre, post, weight and delay"));
                            }
                            v.push((k.to_string(), val));
                        }
                        v
                    }
                    None => Vec::new(),
                };
                let ignore: Vec<String> = match o.get("ignore_columns") {
                    Some(ig) => {
                        let mut v = Vec::new();
                        for x in ig.array()? {
                            let k = x.str()?;
                            if k == "pre" || k == "post" {
                                return x.err(format!("ignore_columns `{k}`: a connection's pre and post are always read"));
                            }
                            if select.iter().any(|(s, _)| s == k) {
                                return x.err(format!("ignore_columns `{k}`: `select` reads that column"));
                            }
                            v.push(k.to_string());
                        }
                        v
                    }
                    None => Vec::new(),
                };
                let conns = match (o.get("connections"), o.get("file")) {
                    (Some(c), None) => {
                        if !select.is_empty() || !ignore.is_empty() {
                            return at.err("`select` and `ignore_columns` apply to a `file`'s columns");
                        }
                        let mut out = ConnList::default();
                        // `[]` is a projection of no synapses, as `fixed_probability` with p 0
                        // (a network generated from data may have none); without `weight`
                        // it was said to have no weight (expand: nothing to weigh).
                        for e in c.array()? {
                            let f = e.array()?;
                            if !(2..=4).contains(&f.len()) {
                                return e.err("a connection is [pre, post], [pre, post, weight] or [pre, post, weight, delay]");
                            }
                            out.push(Conn {
                                pre: neuron(&f[0], &pre_ix, "pre")?,
                                post: neuron(&f[1], &post_ix, "post")?,
                                weight: f.get(2).map(|w| w.f64()).transpose()?,
                                delay: f.get(3).map(|d| d.f64()).transpose()?,
                            });
                        }
                        out
                    }
                    (None, Some(f)) if select.is_empty() && ignore.is_empty() && pre_ix.is_none() && post_ix.is_none() => self.read_csv(&f)?,
                    (None, Some(f)) => {
                        let sel = super::csv::Selection { select: &select, ignore: &ignore, pre: pre_ix.as_ref(), post: post_ix.as_ref() };
                        super::csv::read_selected(&self.base.join(f.str()?), &f.v.path(), &sel)?
                    }
                    (Some(_), Some(_)) => return at.err("give either `connections` or `file`, not both"),
                    (None, None) => return at.err("from_list needs `connections` or `file`"),
                };
                o.finish("type, connections, file, select, ignore_columns")?;
                for (i, (&a, &b)) in conns.pre.iter().zip(&conns.post).enumerate() {
                    if a >= pre_n || b >= post_n {
                        return at.err(format!(
                            "connection {i} ({a}, {b}) is out of range: pre has {pre_n} neurons, post {post_n}"
                        ));
                    }
                }
                Connector::FromList(conns)
            }
            "dense" => {
                let w_at = o.req("weights")?;
                let rows = w_at.array()?;
                if rows.len() != post_n as usize {
                    return w_at.err(format!("expected {post_n} rows (one per post neuron), found {}", rows.len()));
                }
                let mut m = Vec::with_capacity(rows.len());
                for r in rows {
                    let cols = r.array()?;
                    if cols.len() != pre_n as usize {
                        return r.err(format!("expected {pre_n} weights (one per pre neuron), found {}", cols.len()));
                    }
                    m.push(cols.iter().map(|c| c.f64()).collect::<Result<Vec<_>>>()?);
                }
                o.finish("type, weights")?;
                Connector::Dense(m)
            }
            "conv2d" => {
                let c = self.conv2d(&o, pre_n, post_n)?;
                o.finish("type, in_shape, weights, stride, padding, dilation, groups")?;
                Connector::Conv2d(Box::new(c))
            }
            "sum_pool2d" | "avg_pool2d" => {
                let in_shape = shape3(&o.req("in_shape")?)?;
                let kernel = pair(&o.req("kernel")?)?;
                let stride = o.get("stride").map_or(Ok(kernel), |s| pair(&s))?;
                let padding = o.get("padding").map_or(Ok([0, 0]), |s| pair(&s))?;
                o.finish("type, in_shape, kernel, stride, padding")?;
                let out_shape = conv_out(at, in_shape, in_shape[0], kernel, stride, padding, [1, 1])?;
                check_sizes(at, in_shape, out_shape, pre_n, post_n)?;
                let scale = if ty == "avg_pool2d" { 1.0 / (kernel[0] as f64 * kernel[1] as f64) } else { 1.0 };
                Connector::Pool2d(Box::new(Pool2d { in_shape, out_shape, kernel, stride, padding, scale }))
            }
            other => {
                return ty_at.err(format!(
                    "unknown connector `{other}` (known: all_to_all, one_to_one, fixed_probability, fixed_number_pre, fixed_number_post, from_list, dense, conv2d, sum_pool2d, avg_pool2d)"
                ))
            }
        };
        Ok(c)
    }

    fn conv2d(&self, o: &Obj, pre_n: u32, post_n: u32) -> Result<Conv2d> {
        let in_shape = shape3(&o.req("in_shape")?)?;
        let w_at = o.req("weights")?;
        // weights[co][ci][kh][kw]
        let mut dims = Vec::new();
        let mut flat = Vec::new();
        fn walk(a: &At, depth: usize, dims: &mut Vec<usize>, flat: &mut Vec<f64>) -> Result<()> {
            if depth == 4 {
                flat.push(a.f64()?);
                return Ok(());
            }
            let arr = a.array()?;
            if dims.len() == depth {
                dims.push(arr.len());
            } else if dims[depth] != arr.len() {
                return a.err(format!("ragged weights: expected {} entries at this depth, found {}", dims[depth], arr.len()));
            }
            for x in &arr {
                walk(x, depth + 1, dims, flat)?;
            }
            Ok(())
        }
        walk(&w_at, 0, &mut dims, &mut flat)?;
        if dims.len() != 4 || dims.contains(&0) {
            return w_at.err("conv2d weights are [out_channels][in_channels/groups][kh][kw]");
        }
        let groups = o.get("groups").map_or(Ok(1), |g| g.u32())?;
        if groups == 0 {
            // Not a weight shape to fix: `need [out][1]` with `[..][1]` found contradicted itself.
            if let Some(g) = o.get("groups") {
                return g.err("groups must be at least 1 (1: every output channel sees every input channel)");
            }
        }
        if groups == 0 || in_shape[0] % groups != 0 || dims[0] as u32 % groups != 0 || dims[1] as u32 * groups != in_shape[0] {
            return w_at.err(format!(
                "{} input channels with groups = {groups} need weights of [out][{}][kh][kw], found [..][{}]",
                in_shape[0],
                in_shape[0] / groups.max(1),
                dims[1]
            ));
        }
        let kernel = [dims[2] as u32, dims[3] as u32];
        let stride = o.get("stride").map_or(Ok([1, 1]), |s| pair(&s))?;
        let padding = o.get("padding").map_or(Ok([0, 0]), |s| pair(&s))?;
        let dilation = o.get("dilation").map_or(Ok([1, 1]), |s| pair(&s))?;
        let out_shape = conv_out(&o.at, in_shape, dims[0] as u32, kernel, stride, padding, dilation)?;
        check_sizes(&o.at, in_shape, out_shape, pre_n, post_n)?;
        Ok(Conv2d { in_shape, out_shape, weights: flat, kernel, stride, padding, dilation, groups })
    }

    fn read_csv(&self, f: &At) -> Result<ConnList> {
        super::csv::read(&self.base.join(f.str()?), &f.v.path())
    }
}

/// A random connector without a `seed` takes one from its projection's
/// label, unique among projections: two unseeded projections from one
/// source drew the same adjacency when both took seed 0.
fn seed_from_label(c: &mut Connector, label: &str) {
    if let Connector::FixedProbability { seed, .. } | Connector::FixedNumberPre { seed, .. } | Connector::FixedNumberPost { seed, .. } = c {
        *seed = crate::rng::seed_of(crate::rng::stream::CONNECTOR, &[label]);
    }
}

fn shape3(a: &At) -> Result<[u32; 3]> {
    let v = a.array()?;
    if v.len() != 3 {
        return a.err("expected [channels, height, width]");
    }
    let s = [v[0].u32()?, v[1].u32()?, v[2].u32()?];
    if s.contains(&0) {
        return a.err("every dimension must be ≥ 1");
    }
    Ok(s)
}

fn pair(a: &At) -> Result<[u32; 2]> {
    if a.v.is_number() {
        let x = a.u32()?;
        return Ok([x, x]);
    }
    let v = a.array()?;
    if v.len() != 2 {
        return a.err("expected a number or [h, w]");
    }
    Ok([v[0].u32()?, v[1].u32()?])
}

fn conv_out(at: &At, in_shape: [u32; 3], out_c: u32, k: [u32; 2], s: [u32; 2], p: [u32; 2], d: [u32; 2]) -> Result<[u32; 3]> {
    crate::net::expand::conv_out_shape(in_shape, out_c, k, s, p, d).or_else(|why| at.err(why))
}

fn check_sizes(at: &At, in_shape: [u32; 3], out_shape: [u32; 3], pre_n: u32, post_n: u32) -> Result<()> {
    // 128 bits: three dimensions of up to 2^32 each.
    let ni: u128 = in_shape.iter().map(|&x| x as u128).product();
    let no: u128 = out_shape.iter().map(|&x| x as u128).product();
    if ni != pre_n as u128 {
        return at.err(format!("in_shape {in_shape:?} has {ni} neurons, pre has {pre_n}"));
    }
    if no != post_n as u128 {
        return at.err(format!("the output shape {out_shape:?} has {no} neurons, post has {post_n}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A network of `n` projections among 40 populations: default labels
    /// (some numbered: a pair joined twice), given labels, electrical ones,
    /// connectors with and without seeds; `bad` replaces projection i's text.
    fn network(n: usize, bad: &[(usize, &str)]) -> String {
        let pops: Vec<String> = (0..40).map(|i| format!(r#"{{"name":"p{i}","size":{},"model":"lif"}}"#, 3 + i % 5)).collect();
        let projs: Vec<String> = (0..n)
            .map(|i| {
                if let Some((_, t)) = bad.iter().find(|(j, _)| *j == i) {
                    return t.to_string();
                }
                let (a, b) = (i % 40, (i / 40 + i) % 40);
                match i % 7 {
                    0 => format!(r#"{{"pre":"p{a}","post":"p{b}","weight":0.5,"connector":{{"type":"fixed_probability","p":0.5}}}}"#),
                    1 => format!(
                        r#"{{"pre":"p{a}","post":"p{b}","weight":0.5,"delay":2,"connector":{{"type":"fixed_probability","p":0.3,"seed":{i}}},"label":"L{i}"}}"#
                    ),
                    2 => format!(r#"{{"pre":"p{a}","post":"p{b}","weight":0.1,"receptor":"electrical","connector":{{"type":"all_to_all"}}}}"#),
                    3 => format!(r#"{{"pre":"p{a}","post":"p{b}","weight":-0.5,"receptor":"inhibitory","connector":{{"type":"fixed_number_pre","n":2}}}}"#),
                    _ => format!(r#"{{"pre":"p{a}","post":"p{b}","weight":0.25,"connector":{{"type":"all_to_all"}}}}"#),
                }
            })
            .collect();
        format!(r#"{{"name":"n","dt_ms":1,"populations":[{}],"projections":[{}]}}"#, pops.join(","), projs.join(","))
    }

    fn read(text: &str, threads: usize) -> Result<Network> {
        parse_network_on(text, Path::new("n.json"), Some(threads))
    }

    #[test]
    fn projections_read_on_several_threads_give_the_same_network() {
        let text = network(PARALLEL_PROJECTIONS + 4096, &[]);
        let one = format!("{:?}", read(&text, 1).unwrap());
        // Numbered default labels, electrical positions and label seeds are
        // the ones reading in turn gives.
        assert!(one.contains("p0→p1#2") && one.contains("p0⇄p1") && one.contains("L1"), "the network holds every kind");
        for threads in [2, 3, 8] {
            assert_eq!(format!("{:?}", read(&text, threads).unwrap()), one, "{threads} threads");
        }
        assert_eq!(format!("{:?}", parse_network(&text, Path::new("n.json")).unwrap()), one, "the host's thread count");
    }

    #[test]
    fn the_first_error_in_document_order_is_given_on_any_thread_count() {
        let n = PARALLEL_PROJECTIONS + 4096;
        // Projection 5000 repeats projection 1's label (found placing it, in
        // turn); 9000 names no population (found reading it, maybe first on
        // another thread): 5000's is the error, as in one thread; without
        // it, 9000's; with an unknown key at 100 too, that one.
        let dup = r#"{"pre":"p0","post":"p0","weight":1,"connector":{"type":"all_to_all"},"label":"L1"}"#;
        let missing = r#"{"pre":"nope","post":"p0","weight":1,"connector":{"type":"all_to_all"}}"#;
        let unknown = r#"{"pre":"p0","post":"p0","weight":1,"connector":{"type":"all_to_all"},"colour":"red"}"#;
        for (bad, want) in [
            (vec![(5000, dup), (9000, missing)], "$.projections[5000].label"),
            (vec![(9000, missing)], "$.projections[9000].pre"),
            (vec![(100, unknown), (5000, dup), (9000, missing)], "$.projections[100].colour"),
        ] {
            let text = network(n, &bad);
            for threads in [1, 2, 3, 8] {
                let e = read(&text, threads).unwrap_err().to_string();
                assert!(e.contains(want), "{threads} threads: {e} (want {want})");
            }
        }
    }

    /// `ignore_columns` of a file: a weight column left unread gives the
    /// projection's weight; pre and post cannot be left unread, nor a
    /// column `select` reads.
    #[test]
    fn ignored_columns_give_way_to_the_projection() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("e.csv"), "pre,post,weight,kind\n0,1,1.5,a\n1,0,1.5,b\n").unwrap();
        let origin = dir.path().join("n.json");
        let net = |connector: &str| {
            let text = format!(
                r#"{{"name":"t","dt_ms":1.0,"populations":[{{"name":"a","size":2,"model":"lif"}}],
                "projections":[{{"pre":"a","post":"a","weight":3.0,"connector":{connector}}}]}}"#
            );
            parse_network(&text, &origin)
        };
        let got = net(r#"{"type":"from_list","file":"e.csv","ignore_columns":["weight","kind"]}"#).unwrap();
        let w = |n: &Network| match &n.projections().next().unwrap().3.connector {
            Connector::FromList(c) => c.iter().map(|c| c.weight).collect::<Vec<_>>(),
            c => panic!("{c:?}"),
        };
        assert_eq!(w(&got), [None, None], "the file's weights were read");
        assert_eq!(w(&net(r#"{"type":"from_list","file":"e.csv","ignore_columns":["kind"]}"#).unwrap()), [Some(1.5), Some(1.5)]);
        for (connector, want) in [
            (
                r#"{"type":"from_list","file":"e.csv","ignore_columns":["kind","pre"]}"#,
                "ignore_columns[1]: ignore_columns `pre`: a connection's pre and post are always read",
            ),
            (r#"{"type":"from_list","file":"e.csv","select":{"kind":"a"},"ignore_columns":["kind"]}"#, "ignore_columns `kind`: `select` reads that column"),
        ] {
            let e = net(connector).unwrap_err().to_string();
            assert!(e.contains(want), "{e}");
        }
    }

    /// `spike_times` on a population of another model names its place; the
    /// message said the key was unknown and listed it among those allowed.
    #[test]
    fn spike_times_belong_to_spike_source_arrays() {
        for (model, params) in [("lif", ""), ("input", ""), ("spike_source_poisson", r#","params":{"rate":5.0}"#)] {
            let text = format!(r#"{{"name":"t","dt_ms":1.0,"populations":[{{"name":"a","size":1,"model":"{model}","spike_times":[1.0]{params}}}]}}"#);
            let e = parse_network(&text, Path::new("n.json")).unwrap_err().to_string();
            assert!(
                e.contains("$.populations[0].spike_times") && e.contains(&format!("`spike_times` is for spike_source_array populations, not `{model}`")),
                "{e}"
            );
        }
    }

    /// A duration becomes timesteps as every time does (the nearest, a half
    /// up): 4294967295.4 ms at dt 1 is the most steps a run takes, not one
    /// more (it was rounded up and refused).
    #[test]
    fn a_duration_counts_its_nearest_timestep() {
        let net = |d: &str| {
            parse_network(
                &format!(r#"{{"name":"t","dt_ms":1.0,"duration_ms":{d},"populations":[{{"name":"a","size":1,"model":"lif"}}]}}"#),
                Path::new("n.json"),
            )
        };
        assert_eq!(net("4294967295.4").unwrap().duration_ms, Some(4294967295.4));
        let e = net("4294967295.5").unwrap_err().to_string();
        assert!(e.contains("$.duration_ms") && e.contains("4.294967296e9 timesteps of 1 ms: more than 4294967295"), "{e}");
    }
}
