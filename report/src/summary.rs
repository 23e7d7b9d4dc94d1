//! The run summary (`nerve run --report run.json`): counts, timing, energy
//! with its breakdowns, NeuroBench-style activity measures, per-step series and
//! a raster sample, everything `nerve report` needs to print tables and draw.

use nerve_emulator::cost::energy;
use nerve_emulator::engine::RunOutput;
use nerve_emulator::machine::{Machine, Run};
use nerve_isa::counters::{Counts, EnergyRow};
use nerve_isa::num;
use serde::{Deserialize, Serialize};

/// Most spikes kept for the raster picture.
pub const RASTER_CAP: usize = 200_000;

/// Per population: whether it is an input (a spike schedule or a Poisson
/// source), whose first spike starts the decision latency.
pub fn input_populations(m: &Machine) -> Vec<bool> {
    (0..m.pops.len())
        .map(|pi| {
            m.cores.iter().any(|c| c.pop == pi as u32 && matches!(c.run, Run::Schedule { .. })) || matches!(m.pops[pi].model.as_str(), "spike_source_poisson")
        })
        .collect()
}
/// Network (data-flow) order of `n` populations given the connections
/// `edges` (pre, post) and which are inputs: breadth-first from the inputs and
/// the populations nothing else feeds (the first population when there are
/// none), stable in the image's order among populations as many hops away;
/// what those cannot reach is started from again, in image order.
pub fn dataflow_order(n: usize, edges: &[(u32, u32)], inputs: &[bool]) -> Vec<u32> {
    let mut out_edges: Vec<Vec<u32>> = vec![Vec::new(); n];
    let mut fed = vec![false; n];
    for &(a, b) in edges {
        if (a as usize) < n && (b as usize) < n && a != b {
            out_edges[a as usize].push(b);
            fed[b as usize] = true;
        }
    }
    for v in &mut out_edges {
        v.sort_unstable();
        v.dedup();
    }
    let mut depth: Vec<Option<u32>> = vec![None; n];
    let mut frontier: Vec<u32> = (0..n as u32).filter(|&p| inputs.get(p as usize).copied().unwrap_or(false) || !fed[p as usize]).collect();
    let mut d = 0u32;
    loop {
        if frontier.is_empty() {
            // Cycles nothing leads into: start again from the first population not placed.
            match depth.iter().position(Option::is_none) {
                Some(p) => frontier.push(p as u32),
                None => break,
            }
        }
        for &p in &frontier {
            depth[p as usize].get_or_insert(d);
        }
        let mut next: Vec<u32> = frontier.iter().flat_map(|&p| out_edges[p as usize].iter().copied()).filter(|&q| depth[q as usize].is_none()).collect();
        next.sort_unstable();
        next.dedup();
        frontier = next;
        d += 1;
    }
    let mut order: Vec<u32> = (0..n as u32).collect();
    order.sort_by_key(|&p| depth[p as usize]);
    order
}

/// The machine's population-to-population connections (pre, post), from where each core's spikes land.
pub fn pop_edges(m: &Machine) -> Vec<(u32, u32)> {
    m.pop_edges()
}

/// Most points kept per per-step series (longer runs are binned).
pub const SERIES_CAP: usize = nerve_emulator::engine::SERIES_CAP;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Summary {
    pub network: String,
    pub arch: String,
    pub dt_ms: f64,
    pub steps: u64,
    pub engine: String,
    pub threads: usize,
    pub machine: MachineShape,
    /// The cost-model choices the run used (profile, or `nerve run` overrides).
    #[serde(default)]
    pub model: CostModel,
    pub cores_used: u32,
    pub tiles_used: u32,
    pub chips_used: u32,
    /// Every counter of the counter table (`nerve_isa::counters`).
    pub counts: Counts,
    pub timing: Timing,
    pub energy: Energy,
    pub neurobench: NeuroBench,
    pub populations: Vec<PopRow>,
    /// The populations in network (data-flow) order, as indices into
    /// `populations` and `raster.populations` (which keep the image's order):
    /// inputs and populations nothing feeds first, then by hops from them,
    /// the image's order among equals. Pictures and tables list populations
    /// this way. Absent in older summaries: the image's order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub population_order: Vec<u32>,
    pub cores: Vec<CoreRow>,
    pub chips: Vec<ChipRow>,
    pub links: Vec<LinkRow>,
    pub series: Series,
    pub raster: Raster,
    pub host: Host,
    /// A run over several ranks (MPI): per rank, its cores and what it sent
    /// the others. Absent for one process.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ranks: Vec<RankRow>,
}

/// One rank of a run over several.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RankRow {
    pub rank: u32,
    /// Its cores: ids of the first and last, and how many.
    pub first_core: u32,
    pub last_core: u32,
    pub cores: u32,
    /// Bytes and messages it sent other ranks, per step (the exchanges,
    /// one every `exchange_every` steps; the start and end of the run
    /// excluded).
    pub bytes_per_step: f64,
    pub messages_per_step: f64,
    /// Seconds its thread 0 spent in the exchanges (waiting included).
    pub exchange_seconds: f64,
    /// Seconds before the first step in which the ranks told each other what they need (a collective: the same on every row).
    #[serde(default)]
    pub setup_seconds: f64,
    /// Steps between exchanges: the shortest delay of a synapse between
    /// ranks (1 when gap junctions cross ranks or synapses learn; the same
    /// on every row).
    #[serde(default = "one")]
    pub exchange_every: u64,
}

fn one() -> u64 {
    1
}

impl Summary {
    /// Population indices in network order: `population_order` when it is a
    /// permutation of the populations, else the image's order (older summaries).
    pub fn pop_order(&self) -> Vec<usize> {
        let n = self.populations.len().max(self.raster.populations.len());
        let mut seen = vec![false; n];
        let ok = self.population_order.len() == n && self.population_order.iter().all(|&i| (i as usize) < n && !std::mem::replace(&mut seen[i as usize], true));
        if ok {
            self.population_order.iter().map(|&i| i as usize).collect()
        } else {
            (0..n).collect()
        }
    }

    /// Reads a run summary written by `nerve run --report`, refusing values
    /// no run writes (see [`MAX_MAGNITUDE`] and [`Summary::check`]) and a
    /// key given twice in one object, as every JSON reader of nerve does:
    /// users edit these files, and the pictures' axes and loops come from them.
    pub fn read(path: &std::path::Path) -> crate::Result<Summary> {
        let bytes = nerve_isa::files::read(path).map_err(|e| crate::Error::Read { path: path.to_path_buf(), source: e })?;
        // A chip image was refused as "not UTF-8 text … save the file as UTF-8".
        if bytes.starts_with(&nerve_isa::image::MAGIC) {
            return Err(crate::Error::File(format!(
                "{}: is a chip image, not a run summary (`nerve run IMAGE --report run.json` writes one; `nerve inspect` reads images)",
                path.display()
            )));
        }
        let text = nerve_isa::files::text(bytes).map_err(|e| crate::Error::Read { path: path.to_path_buf(), source: e })?;
        let summary_err = |e| crate::Error::Summary { path: path.to_path_buf(), source: e };
        let v: serde_json::Value = serde_json::from_str(&text).map_err(summary_err)?;
        repeated_key(&text).map_err(|e| crate::Error::File(format!("{}: {e}", path.display())))?;
        let value_err = |b: BadValue| crate::Error::SummaryValue { path: path.to_path_buf(), field: b.field, value: b.value, reason: b.reason };
        check_magnitudes(&v).map_err(value_err)?;
        // Through the path it reached: serde_json's message for a value has
        // no position ("missing field `busy_ns`", but in which core?).
        let s: Summary = serde_path_to_error::deserialize(&v).map_err(|e| crate::Error::SummaryField {
            path: path.to_path_buf(),
            at: e.path().to_string(),
            source: e.into_inner(),
        })?;
        s.check_fields().map_err(value_err)?;
        let mut s = s;
        s.network_figures_of_older_summaries();
        Ok(s)
    }

    /// A summary written before the network's figures left out the
    /// delay-extension relays (it has no `neurobench.spikes`): its neurons,
    /// synapses (one a relay neuron), synaptic operations and spikes, less
    /// the relay populations' (its `populations` rows). Membrane updates and
    /// activation sparsity keep theirs: no row holds a relay's share.
    fn network_figures_of_older_summaries(&mut self) {
        if self.neurobench.spikes.is_some() {
            return;
        }
        let relays: Vec<&PopRow> = self.populations.iter().filter(|p| p.model == nerve_isa::image::RELAY_MODEL).collect();
        let size: u64 = relays.iter().map(|p| p.size as u64).sum();
        let nb = &mut self.neurobench;
        nb.neurons = nb.neurons.saturating_sub(size);
        nb.synapses = nb.synapses.saturating_sub(size);
        nb.synaptic_ops = nb.synaptic_ops.saturating_sub(relays.iter().map(|p| p.synaptic_events_in).sum());
        nb.spikes = Some(self.counts.spikes.saturating_sub(relays.iter().map(|p| p.spikes).sum()));
    }

    /// Checks what the reports derive loop bounds and axes from: a positive
    /// timestep, a biological time within [`MAX_MAGNITUDE`], every number
    /// finite and within it, cores and links on the machine's grid.
    pub fn check(&self) -> std::result::Result<(), BadValue> {
        let v = serde_json::to_value(self).map_err(|e| BadValue { field: "(summary)".into(), value: String::new(), reason: e.to_string() })?;
        check_magnitudes(&v)?;
        self.check_fields()
    }

    fn check_fields(&self) -> std::result::Result<(), BadValue> {
        let bad = |field: &str, value: String, reason: &str| Err(BadValue { field: field.into(), value, reason: reason.into() });
        if !(self.dt_ms.is_finite() && self.dt_ms > 0.0) {
            return bad("dt_ms", num(self.dt_ms), "must be a finite number > 0");
        }
        let bio_ms = self.steps as f64 * self.dt_ms;
        if bio_ms > MAX_MAGNITUDE {
            return bad("dt_ms", num(self.dt_ms), &format!("{} steps of it make {} ms, beyond {MAX_MAGNITUDE:e} ms", self.steps, num(bio_ms)));
        }
        let [w, h] = self.machine.grid;
        let on_grid = |x: u32, y: u32| x < w && y < h;
        if let Some(i) = self.cores.iter().position(|c| !on_grid(c.x, c.y)) {
            let c = &self.cores[i];
            return bad(&format!("cores[{i}]"), format!("({}, {})", c.x, c.y), &format!("the tile lies outside the machine's grid {w}×{h}"));
        }
        if let Some(i) = self.links.iter().position(|l| !on_grid(l.x, l.y)) {
            let l = &self.links[i];
            return bad(&format!("links[{i}]"), format!("({}, {})", l.x, l.y), &format!("the tile lies outside the machine's grid {w}×{h}"));
        }
        // Energies are spent, never returned: −5 J printed as a total without a word.
        if let Ok(e) = serde_json::to_value(&self.energy) {
            if let Some((at, x)) = first_negative(&e, "energy") {
                return bad(&at, num(x), "an energy is at least 0 J");
            }
        }
        // A raster spike of a neuron past its population, or at a step past the run, was drawn without a word.
        for (pi, p) in self.raster.populations.iter().enumerate() {
            if let Some(k) = p.spikes.iter().position(|&(step, n)| n >= p.size || step as u64 >= self.steps) {
                let (step, n) = p.spikes[k];
                let why = if n >= p.size {
                    format!("neuron {n} is past the population's {} neurons", p.size)
                } else {
                    format!("step {step} is past the run's {} steps", self.steps)
                };
                return bad(&format!("raster.populations[{pi}].spikes[{k}]"), format!("[{step}, {n}]"), &why);
            }
        }
        Ok(())
    }
}

/// The first negative number under `v` and its JSON path (from `at`).
fn first_negative(v: &serde_json::Value, at: &str) -> Option<(String, f64)> {
    match v {
        serde_json::Value::Number(n) => n.as_f64().filter(|&x| x < 0.0).map(|x| (at.to_string(), x)),
        serde_json::Value::Array(a) => a.iter().enumerate().find_map(|(i, x)| first_negative(x, &format!("{at}[{i}]"))),
        serde_json::Value::Object(o) => o.iter().find_map(|(k, x)| first_negative(x, &format!("{at}.{k}"))),
        _ => None,
    }
}

/// Largest magnitude of any number in a run summary. Real runs stay far
/// below (times in ns, energies in J, counts up to 2^64 ≈ 1.8e19); products
/// of three such numbers (an axis: points × steps per bin × timestep) stay
/// finite, where larger ones overflow to infinity, and the axis ticks of an
/// infinite range are never done.
pub const MAX_MAGNITUDE: f64 = 1e100;

/// A value of a run summary no run writes: the field (a JSON path), the value and why.
#[derive(Clone, Debug, PartialEq)]
pub struct BadValue {
    pub field: String,
    pub value: String,
    pub reason: String,
}

/// Every number of `v` finite and within [`MAX_MAGNITUDE`].
/// Refuses a key given twice in one object, anywhere in the document
/// (`$.cores[2]: key `busy_ns` appears twice`): serde keeps the last and
/// `nerve report` showed it without a word (`"steps":999,"steps":200`: 200).
fn repeated_key(text: &str) -> std::result::Result<(), String> {
    use nerve_compiler::front::dom::{shown_key, Doc, Kind};
    let doc = Doc::parse(text).map_err(|e| format!("not valid JSON: {e}"))?;
    // Depth first in document order, so that the first repeat is the one named.
    let mut stack = vec![doc.root()];
    while let Some(v) = stack.pop() {
        let children: Vec<_> = match v.kind() {
            Kind::Obj(m) => {
                if let Some(k) = m.repeated() {
                    return Err(format!("{}: key `{}` appears twice", v.path(), shown_key(k)));
                }
                m.map(|(_, x)| x).collect()
            }
            Kind::Arr(items) => items.collect(),
            _ => continue,
        };
        stack.extend(children.into_iter().rev().filter(|x| matches!(x.kind(), Kind::Obj(_) | Kind::Arr(_))));
    }
    Ok(())
}

fn check_magnitudes(v: &serde_json::Value) -> std::result::Result<(), BadValue> {
    use serde_json::Value;
    // The path is built only for the culprit (innermost first): a summary holds up to millions of numbers.
    fn with(mut p: Vec<String>, seg: String) -> Vec<String> {
        p.push(seg);
        p
    }
    fn walk(v: &Value) -> Option<(Vec<String>, f64)> {
        match v {
            Value::Number(n) => n.as_f64().filter(|x| !(x.is_finite() && x.abs() <= MAX_MAGNITUDE)).map(|x| (Vec::new(), x)),
            Value::Array(a) => a.iter().enumerate().find_map(|(i, e)| walk(e).map(|(p, x)| (with(p, format!("[{i}]")), x))),
            Value::Object(o) => o.iter().find_map(|(k, e)| walk(e).map(|(p, x)| (with(p, format!(".{k}")), x))),
            _ => None,
        }
    }
    match walk(v) {
        None => Ok(()),
        Some((path, x)) => {
            let field: String = path.iter().rev().map(String::as_str).collect();
            Err(BadValue {
                field: field.trim_start_matches('.').to_string(),
                value: num(x),
                reason: format!("must be finite and within ±{MAX_MAGNITUDE:e} (no run writes more)"),
            })
        }
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct CostModel {
    /// `multicast` or `per_destination`.
    pub messages: String,
    /// Core time per step: max(send, receive) if true, else their sum.
    pub overlap_send_receive: bool,
    /// Static power counted (false after `--static-power off`).
    pub static_power: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MachineShape {
    pub kind: String,
    pub grid: [u32; 2],
    pub tiles_per_chip: [u32; 2],
    pub cores_per_tile: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Timing {
    /// Σ step times (critical path), ns.
    pub emulated_ns: f64,
    /// Σ max(step time, real-time tick): the time to solution, ns.
    pub wall_ns: f64,
    pub time_to_solution_s: f64,
    /// Time to solution ÷ biological time (< 1: faster than real time).
    pub real_time_factor: f64,
    pub real_time_tick_ns: Option<f64>,
    pub overrun_steps: u64,
    pub step_ns: Stats,
    pub core_ns: Stats,
    pub net_ns: Stats,
    pub barrier_ns: f64,
    pub decision: Option<Decision>,
    /// Whether p50 and p99 come from 1.1%-wide bins (runs longer than the
    /// emulator keeps every step's time for: `STEP_TIMES_CAP`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub percentiles_approximate: bool,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Stats {
    pub mean: f64,
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
}

impl Stats {
    pub fn of(v: &[f64]) -> Stats {
        if v.is_empty() {
            return Stats::default();
        }
        let mut s = v.to_vec();
        s.sort_by(f64::total_cmp);
        let q = |f: f64| s[((s.len() - 1) as f64 * f).round() as usize];
        Stats { mean: s.iter().sum::<f64>() / s.len() as f64, p50: q(0.5), p99: q(0.99), max: s[s.len() - 1] }
    }
}

/// Latency from the first input spike to the first spike of the decision population.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Decision {
    pub population: String,
    pub first_input_step: Option<u64>,
    pub decision_step: Option<u64>,
    /// Time on the chip from the start of the first input step to the end of
    /// the decision step: each step its time or the real-time tick, the longer.
    pub latency_ns: Option<f64>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Energy {
    pub total_j: f64,
    pub dynamic_j: f64,
    pub static_j: f64,
    pub static_power_w: f64,
    /// Mean power over the time to solution.
    pub power_w: f64,
    pub per_step_j: f64,
    pub inference_steps: Option<u64>,
    /// Total energy ÷ inferences run; absent without `inference_steps` or steps.
    pub per_inference_j: Option<f64>,
    /// Energy × time to solution (per inference where `per_inference_j` is given), J·s.
    pub edp_js: f64,
    /// Total energy ÷ the network's synaptic events (`NeuroBench::synaptic_ops`, the
    /// delay relays' left out), J: the "all included" figure papers quote.
    pub per_synaptic_event_j: Option<f64>,
    /// Figures of the profile nobody has published (placeholders): the totals leave them out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unknown_figures: Vec<String>,
    pub by_kind: Vec<KindRow>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KindRow {
    pub kind: String,
    pub count: u64,
    pub per_event_pj: f64,
    pub joules: f64,
    pub share: f64,
}

/// The network's own activity: the compiler's delay-extension relays (cores
/// the chip runs and charges, in `counts`, the cores and the populations)
/// are not the network's neurons, and are left out, so that one network
/// has the same figures on every profile.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NeuroBench {
    /// Synaptic operations (accumulates: every synaptic event is one add).
    pub synaptic_ops: u64,
    /// 1 − spikes ÷ neuron-steps.
    pub activation_sparsity: f64,
    /// Neuron (membrane) updates.
    pub membrane_updates: u64,
    pub neurons: u64,
    pub synapses: u64,
    /// The network's spikes (`counts.spikes` less the relays'; summaries
    /// written before it had none: read as `counts.spikes`).
    #[serde(default)]
    pub spikes: Option<u64>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PopRow {
    pub name: String,
    pub model: String,
    pub size: u32,
    pub cores: u32,
    pub spikes: u64,
    pub rate_hz: f64,
    pub synaptic_events_in: u64,
    /// Synaptic weights a learning rule updated on the population's cores (its incoming learning projections).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub synaptic_updates: u64,
    /// Dynamic energy of the population's cores (their synapses, updates, instructions, outgoing packets, learning), J.
    pub dynamic_j: f64,
}

fn is_zero(x: &u64) -> bool {
    *x == 0
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CoreRow {
    pub core: u32,
    pub tile: u32,
    pub x: u32,
    pub y: u32,
    pub local: u32,
    pub chip: u32,
    pub population: String,
    pub neurons: u32,
    pub spikes: u64,
    pub packets_in: u64,
    pub synaptic_events: u64,
    pub updates_active: u64,
    pub busy_ns: f64,
    pub max_step_ns: f64,
    pub dynamic_j: f64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ChipRow {
    pub chip: u32,
    pub cores: u32,
    pub dynamic_j: f64,
    pub static_j: f64,
    pub power_w: f64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LinkRow {
    pub tile: u32,
    pub x: u32,
    pub y: u32,
    pub dir: String,
    pub packets: u64,
}

/// Per-step series, possibly binned (`bin` steps per point; `max` within a bin for times, sums for counts).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Series {
    pub bin: u64,
    pub step_ns: Vec<f64>,
    pub energy_j: Vec<f64>,
    pub spikes: Vec<u64>,
    pub synaptic_events: Vec<u64>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Raster {
    pub truncated: bool,
    pub populations: Vec<RasterPop>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RasterPop {
    pub name: String,
    pub size: u32,
    /// Whether the run recorded this population's spikes.
    pub recorded: bool,
    /// (step, neuron)
    pub spikes: Vec<(u32, u32)>,
    /// Its neurons' labels (the network's `labels`), if it has them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Host {
    /// Simulation only: the timesteps, from the first to the last.
    pub wall_seconds: f64,
    /// Reading (or, given a network, compiling), checking and loading the image, before the first step.
    #[serde(default)]
    pub load_seconds: f64,
    pub emulator_bytes: u64,
    /// Whether glibc was asked for transparent huge pages (the CLI does, see its hugepages.rs).
    #[serde(default)]
    pub huge_pages: bool,
    /// Per thread, the CPU it was pinned to, if the threads were (rank 0's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned: Option<Vec<usize>>,
}

pub struct Options<'a> {
    pub engine: &'a str,
    pub threads: usize,
    pub inference_steps: Option<u64>,
    pub decision: Option<&'a str>,
    /// Spikes of populations the run did not record that the decision
    /// latency needs (`session::Ran::decision_spikes`), beside `out.spikes`.
    pub decision_spikes: &'a [nerve_emulator::engine::SpikeEvent],
    /// Which populations' spikes were recorded.
    pub recorded: &'a [bool],
    pub load_seconds: f64,
    /// Whether the process asked for transparent huge pages.
    pub huge_pages: bool,
}

/// Refuses an inference longer than the run: its energy per inference
/// would be extrapolated from a part of one (14.6 mJ an inference from a
/// 4.9 mJ run), not measured. `nerve run` and the Python binding both ask
/// here before running, each naming the two in its own words (`names`:
/// `("--inference-steps", "--steps")`, `("inference_steps", "steps")`).
pub fn check_inference_steps(inference_steps: Option<u64>, steps: u64, names: (&str, &str)) -> std::result::Result<(), String> {
    match inference_steps.filter(|&k| k > steps) {
        Some(k) => Err(format!(
            "{} {k} is more than the {steps} steps run ({}): run at least one whole inference, so that its energy is measured rather than extrapolated",
            names.0, names.1
        )),
        None => Ok(()),
    }
}

pub fn build(m: &Machine, out: &RunOutput, o: &Options) -> Summary {
    let a = &m.arch;
    let c = &out.counts;
    let steps = out.steps.max(1);
    let dyn_rows: Vec<EnergyRow> = energy::dynamic(a, c);
    let dynamic_j = energy::total_pj(&dyn_rows) * 1e-12;
    let static_w = energy::static_power_w(a, m.footprint.chips, m.cores.len() as u32);
    let static_j = static_w * out.wall_ns * 1e-9;
    let total_j = dynamic_j + static_j;
    let wall_s = out.wall_ns * 1e-9;
    let by_kind = dyn_rows
        .iter()
        .map(|r| KindRow {
            kind: r.kind.into(),
            count: r.count,
            per_event_pj: r.per_event_pj,
            joules: r.picojoules * 1e-12,
            share: if total_j > 0.0 { r.picojoules * 1e-12 / total_j } else { 0.0 },
        })
        .chain(std::iter::once(KindRow {
            kind: "static power".into(),
            count: 0,
            per_event_pj: 0.0,
            joules: static_j,
            share: if total_j > 0.0 { static_j / total_j } else { 0.0 },
        }))
        .collect();
    // Inferences run (a fraction when the run is shorter than one). A run of
    // no steps has none: no per-inference figures (0 / 0 was written as null,
    // which no reader takes for a number), the energy-delay of the whole run.
    let inferences = o.inference_steps.map(|k| out.steps as f64 / k.max(1) as f64).filter(|&n| n > 0.0);
    let per_inference_j = inferences.map(|n| total_j / n);
    let edp = match inferences {
        Some(n) => (total_j / n) * (wall_s / n),
        None => total_j * wall_s,
    };
    // Per core.
    let mut cores = Vec::with_capacity(out.per_core.len());
    let mut chip_dyn: std::collections::BTreeMap<u32, (u32, f64)> = Default::default();
    for pc in &out.per_core {
        let id = nerve_isa::ids::CoreId(pc.core);
        let tile = a.tile_of(id);
        let (x, y) = a.tile_xy(tile);
        let chip = a.chip_of(tile).0;
        // invariant: `out` is the run of `m`: its per_core entries are m's cores, which `cores` holds sorted by id
        let ci = m.cores.binary_search_by_key(&id, |c| c.id).expect("a run's per-core entries are the machine's cores");
        let d = energy::core_dynamic_pj(a, &pc.counts) * 1e-12;
        let e = chip_dyn.entry(chip).or_insert((0, 0.0));
        e.0 += 1;
        e.1 += d;
        cores.push(CoreRow {
            core: pc.core,
            tile: tile.0,
            x,
            y,
            local: a.local_core(id),
            chip,
            population: m.pops[pc.population as usize].name.clone(),
            neurons: m.cores[ci].n as u32,
            spikes: pc.counts.spikes,
            packets_in: pc.counts.packets_in,
            synaptic_events: pc.counts.synaptic_events,
            updates_active: pc.counts.updates_active,
            busy_ns: pc.busy_ns,
            max_step_ns: pc.max_step_ns,
            dynamic_j: d,
        });
    }
    let barrier_j = c.barriers as f64 * a.energy.barrier_pj.charged() * 1e-12;
    let n_chips = chip_dyn.len().max(1) as f64;
    let chips = chip_dyn
        .iter()
        .map(|(&chip, &(nc, d))| {
            let st = (a.energy.static_chip_w.charged() + nc as f64 * a.energy.active_core_w.charged()) * wall_s;
            let dj = d + barrier_j / n_chips;
            ChipRow { chip, cores: nc, dynamic_j: dj, static_j: st, power_w: if wall_s > 0.0 { (dj + st) / wall_s } else { 0.0 } }
        })
        .collect();
    let bio_s = out.steps as f64 * m.dt_ms / 1000.0;
    let populations: Vec<PopRow> = m
        .pops
        .iter()
        .enumerate()
        .map(|(pi, p)| {
            let mine = out.per_core.iter().filter(|x| x.population == pi as u32);
            let spikes: u64 = mine.clone().map(|x| x.counts.spikes).sum();
            PopRow {
                name: p.name.clone(),
                model: p.model.clone(),
                size: p.size,
                cores: p.slices.len() as u32,
                spikes,
                rate_hz: if bio_s > 0.0 && p.size > 0 { spikes as f64 / p.size as f64 / bio_s } else { 0.0 },
                synaptic_events_in: mine.clone().map(|x| x.counts.synaptic_events).sum(),
                synaptic_updates: mine.clone().map(|x| x.counts.synaptic_updates).sum(),
                dynamic_j: mine.map(|x| energy::core_dynamic_pj(a, &x.counts) * 1e-12).sum(),
            }
        })
        .collect();
    let links = out
        .links
        .iter()
        .map(|&(l, n)| {
            let (x, y) = a.tile_xy(l.tile());
            LinkRow { tile: l.tile().0, x, y, dir: l.dir().name().into(), packets: n }
        })
        .collect();
    // Per-step series (binned by the emulator as it ran).
    let ss = &out.series;
    let mut series = Series { bin: ss.bin, ..Series::default() };
    for ((&max_ns, &wall), cs) in ss.max_step_ns.iter().zip(&ss.wall_ns).zip(&ss.counts) {
        series.step_ns.push(max_ns);
        series.energy_j.push(energy::total_pj(&energy::dynamic(a, cs)) * 1e-12 + static_w * wall * 1e-9);
        series.spikes.push(cs.spikes);
        series.synaptic_events.push(cs.synaptic_events);
    }
    // Raster sample.
    let mut raster = Raster { truncated: out.spikes.len() > RASTER_CAP, populations: vec![] };
    for (pi, p) in m.pops.iter().enumerate() {
        raster.populations.push(RasterPop {
            name: p.name.clone(),
            size: p.size,
            recorded: o.recorded.get(pi).copied().unwrap_or(false),
            spikes: vec![],
            labels: p.labels.clone(),
        });
    }
    for s in out.spikes.iter().take(RASTER_CAP) {
        raster.populations[s.pop as usize].spikes.push((s.step, s.neuron));
    }
    // Exact from every step's time, or (beyond the emulator's cap on kept steps) from its histograms.
    let stats = |f: fn(&nerve_emulator::engine::StepTime) -> f64, k: usize| match &out.approximate {
        Some(q) => Stats { mean: q[k].mean, p50: q[k].p50, p99: q[k].p99, max: q[k].max },
        None => Stats::of(&out.step_times.iter().map(f).collect::<Vec<f64>>()),
    };
    let (step_stats, core_stats, net_stats) = (stats(|s| s.step_ns, 0), stats(|s| s.core_ns, 1), stats(|s| s.net_ns, 2));
    let decision = o.decision.map(|name| {
        let inputs = input_populations(m);
        let is_input = |p: u32| inputs[p as usize];
        let all = || out.spikes.iter().chain(o.decision_spikes);
        let first_in = all().filter(|s| is_input(s.pop)).map(|s| s.step as u64).min();
        let dpop = m.pops.iter().position(|p| p.name == name);
        let dec = dpop.and_then(|d| all().filter(|s| s.pop == d as u32 && first_in.is_none_or(|f| s.step as u64 >= f)).map(|s| s.step as u64).min());
        // (The steps' times are kept up to the emulator's cap; beyond it, no
        // latency.) A step lasts at least the real-time tick, as in the time
        // to solution: the latency counted the steps' work alone (13 µs for
        // 8 steps of a 1 ms tick).
        let latency = match (first_in, dec) {
            (Some(f), Some(d)) if (d as usize) < out.step_times.len() => {
                Some(out.step_times[f as usize..=d as usize].iter().map(|s| a.timing.wall_ns(s.step_ns)).sum())
            }
            _ => None,
        };
        Decision { population: name.into(), first_input_step: first_in, decision_step: dec, latency_ns: latency }
    });
    // The network's own figures leave out the delay-extension relays: on a
    // profile with fewer delay slots the same network had more neurons,
    // synapses, spikes and synaptic events.
    let relay: Vec<bool> = m.pops.iter().map(|p| p.model == nerve_isa::image::RELAY_MODEL).collect();
    let mut own = nerve_isa::counters::Counts::default();
    for pc in out.per_core.iter().filter(|x| !relay[x.population as usize]) {
        own.add(&pc.counts);
    }
    // A Poisson source runs as a kernel (and is charged, as sPyNNaker's runs on
    // a core), but has no membrane: NeuroBench's membrane updates and activation
    // sparsity are of the neurons, as a spike array's are (the small example's
    // 50 sources made 50,000 of its 550,000 membrane updates).
    let source: Vec<bool> = m.pops.iter().map(|p| p.model == "spike_source_poisson").collect();
    let mut neurons_own = nerve_isa::counters::Counts::default();
    for pc in out.per_core.iter().filter(|x| !relay[x.population as usize] && !source[x.population as usize]) {
        neurons_own.add(&pc.counts);
    }
    // One relay per source neuron, each fed by one synapse (`net::delays`).
    let relay_neurons: u64 = m.pops.iter().zip(&relay).filter(|(_, &r)| r).map(|(p, _)| p.size as u64).sum();
    let neuron_steps: u64 =
        m.cores.iter().filter(|c| matches!(c.run, Run::Kernel { .. }) && !relay[c.pop as usize] && !source[c.pop as usize]).map(|c| c.n as u64).sum::<u64>()
            * out.steps;
    Summary {
        network: m.network.clone(),
        arch: a.name.clone(),
        dt_ms: m.dt_ms,
        steps: out.steps,
        engine: o.engine.into(),
        threads: o.threads,
        machine: MachineShape {
            kind: a.topology.kind.name().into(),
            grid: [a.grid().0, a.grid().1],
            tiles_per_chip: [a.topology.tiles_per_chip[0] as u32, a.topology.tiles_per_chip[1] as u32],
            cores_per_tile: a.cores_per_tile(),
        },
        model: CostModel {
            messages: a.router.messages.name().into(),
            overlap_send_receive: a.timing.overlap_send_receive,
            static_power: energy::static_power_w(a, 1, 1) > 0.0,
        },
        cores_used: m.cores.len() as u32,
        tiles_used: m.footprint.tiles,
        chips_used: m.footprint.chips,
        counts: *c,
        timing: Timing {
            emulated_ns: out.emulated_ns,
            wall_ns: out.wall_ns,
            time_to_solution_s: wall_s,
            real_time_factor: if bio_s > 0.0 { wall_s / bio_s } else { 0.0 },
            real_time_tick_ns: a.timing.timestep_ns,
            overrun_steps: out.overruns,
            step_ns: step_stats,
            core_ns: core_stats,
            net_ns: net_stats,
            percentiles_approximate: out.approximate.is_some(),
            barrier_ns: a.barrier_ns(m.footprint.tiles),
            decision,
        },
        energy: Energy {
            total_j,
            dynamic_j,
            static_j,
            static_power_w: static_w,
            power_w: if wall_s > 0.0 { total_j / wall_s } else { 0.0 },
            per_step_j: total_j / steps as f64,
            inference_steps: o.inference_steps,
            per_inference_j,
            edp_js: edp,
            // Over the network's own events: the relays' energy is in the total (what the
            // chip spends on the network), their events are not the network's.
            per_synaptic_event_j: (own.synaptic_events > 0).then(|| total_j / own.synaptic_events as f64),
            unknown_figures: a.unknown_energy_figures(),
            by_kind,
        },
        neurobench: NeuroBench {
            synaptic_ops: own.synaptic_events,
            // Spikes of kernel cores' neurons over their neuron-steps: a spike source's spikes have no neuron-steps.
            activation_sparsity: if neuron_steps > 0 { 1.0 - neurons_own.neuron_spikes as f64 / neuron_steps as f64 } else { 1.0 },
            membrane_updates: neurons_own.updates_active + neurons_own.updates_idle,
            neurons: m.pops.iter().map(|p| p.size as u64).sum::<u64>() - relay_neurons,
            synapses: m.synapses().saturating_sub(relay_neurons),
            spikes: Some(own.spikes),
        },
        population_order: dataflow_order(m.pops.len(), &pop_edges(m), &input_populations(m)),
        populations,
        cores,
        chips,
        links,
        series,
        raster,
        host: Host {
            wall_seconds: out.wall_seconds,
            load_seconds: o.load_seconds,
            emulator_bytes: m.memory_bytes(),
            huge_pages: o.huge_pages,
            pinned: out.pinned.clone(),
        },
        ranks: out.traffic.as_ref().map_or_else(Vec::new, |t| {
            (0..t.bytes_sent.len())
                .map(|r| {
                    let (a, b) = (t.bounds[r], t.bounds[r + 1]);
                    RankRow {
                        rank: r as u32,
                        first_core: m.cores[a].id.0,
                        last_core: m.cores[b - 1].id.0,
                        cores: (b - a) as u32,
                        bytes_per_step: t.bytes_sent[r] as f64 / steps as f64,
                        messages_per_step: t.messages_sent[r] as f64 / steps as f64,
                        exchange_seconds: t.exchange_seconds[r],
                        setup_seconds: t.setup_seconds,
                        exchange_every: t.exchange_every,
                    }
                })
                .collect()
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_order() {
        // (populations, edges, inputs, order)
        type Case = (usize, Vec<(u32, u32)>, Vec<u32>, Vec<u32>);
        let cases: Vec<Case> = vec![
            // NIR names sorted as strings: 1, 10, 12, 3, 6, input; the data flows input → 1 → 3 → 6 → 10 → 12.
            (6, vec![(5, 0), (0, 3), (3, 4), (4, 1), (1, 2)], vec![5], vec![5, 0, 3, 4, 1, 2]),
            // stim → exc ⇄ inh, exc → exc: the file's order.
            (3, vec![(0, 1), (1, 1), (1, 2), (2, 1), (2, 2)], vec![0], vec![0, 1, 2]),
            // An input listed last comes first; equals keep the image's order.
            (4, vec![(3, 1), (3, 0), (0, 2), (1, 2)], vec![3], vec![3, 0, 1, 2]),
            // A cycle nothing feeds: from the first population.
            (3, vec![(1, 2), (2, 0), (0, 1)], vec![], vec![0, 1, 2]),
            (3, vec![(2, 1), (1, 0), (0, 2)], vec![], vec![0, 2, 1]),
            // An island after what the inputs reach.
            (5, vec![(0, 1), (3, 4), (4, 3)], vec![0], vec![0, 2, 1, 3, 4]),
            (0, vec![], vec![], vec![]),
        ];
        for (n, edges, inputs, want) in cases {
            let is_in: Vec<bool> = (0..n as u32).map(|p| inputs.contains(&p)).collect();
            assert_eq!(dataflow_order(n, &edges, &is_in), want, "{edges:?}");
        }
    }

    fn fixture() -> serde_json::Value {
        serde_json::from_str(include_str!("../tests/data/run_small.json")).unwrap()
    }

    /// Values no run writes (an edited summary) are refused at `read`,
    /// naming the field, the value and the limit: the pictures' axes and
    /// loops come from them (dt_ms 1e307 made an infinite axis whose ticks
    /// never ended).
    #[test]
    fn absurd_values_are_refused_naming_the_field() {
        let dir = tempfile::tempdir().unwrap();
        // (JSON pointer, new value, message fragments)
        let cases: &[(&str, serde_json::Value, &[&str])] = &[
            ("/dt_ms", 1e307.into(), &["`dt_ms` = 1e307", "1e100"]),
            ("/dt_ms", 0.0.into(), &["`dt_ms` = 0", "> 0"]),
            ("/dt_ms", (-1.0).into(), &["`dt_ms` = -1", "> 0"]),
            ("/dt_ms", 1e98.into(), &["`dt_ms`", "2000 steps of it make 2e101 ms", "1e100 ms"]),
            ("/series/step_ns/3", 1.7e308.into(), &["`series.step_ns[3]` = 1.7e308"]),
            ("/energy/by_kind/0/joules", 1e200.into(), &["`energy.by_kind[0].joules` = 1e200"]),
            ("/timing/real_time_tick_ns", (-1e300).into(), &["`timing.real_time_tick_ns` = -1e300"]),
            ("/cores/2/x", 24.into(), &["`cores[2]` = (24, 0)", "grid 24×12"]),
            // Printed as a total without a word.
            ("/energy/total_j", (-5.0).into(), &["`energy.total_j` = -5", "at least 0 J"]),
            ("/energy/by_kind/0/joules", (-1e-9).into(), &["`energy.by_kind[0].joules` = -1e-9"]),
        ];
        for (ptr, v, want) in cases {
            let mut j = fixture();
            *j.pointer_mut(ptr).unwrap() = v.clone();
            let p = dir.path().join("r.json");
            std::fs::write(&p, serde_json::to_string(&j).unwrap()).unwrap();
            let e = Summary::read(&p).unwrap_err().to_string();
            assert!(e.contains("r.json"), "{ptr}: {e}");
            for w in *want {
                assert!(e.contains(w), "{ptr} = {v}: the message lacks `{w}`: {e}");
            }
        }
        let p = dir.path().join("ok.json");
        std::fs::write(&p, serde_json::to_string(&fixture()).unwrap()).unwrap();
        Summary::read(&p).unwrap();
        // An image given for a summary is named as one (it was "not UTF-8 text").
        let p = dir.path().join("small.img");
        std::fs::write(&p, [&nerve_isa::image::MAGIC[..], &[0xa8, 0, 1, 2]].concat()).unwrap();
        let e = Summary::read(&p).unwrap_err().to_string();
        assert!(e.contains("small.img: is a chip image, not a run summary"), "{e}");
    }

    #[test]
    fn population_order_is_optional_and_checked() {
        let mut v = fixture();
        v.as_object_mut().unwrap().remove("population_order");
        let mut s: Summary = serde_json::from_value(v).unwrap();
        assert_eq!(s.pop_order(), vec![0, 1, 2], "an older summary: the image's order");
        for (given, want) in [(vec![2, 0, 1], vec![2, 0, 1]), (vec![2, 0], vec![0, 1, 2]), (vec![2, 2, 0], vec![0, 1, 2]), (vec![0, 1, 3], vec![0, 1, 2])] {
            s.population_order = given.clone();
            assert_eq!(s.pop_order(), want, "{given:?}");
        }
        s.population_order = vec![];
        assert!(!serde_json::to_string(&s).unwrap().contains("population_order"));
    }
}
