//! A network as a plain PyNN 0.x script for sPyNNaker (SpiNNaker 1 and 2)
//! or NEST: populations with the PyNN cell types of their models (each
//! model's `pynn` mapping), their initial values as nerve starts them,
//! projections with nerve's quantised weights (native connectors where they
//! are exact, else `FromListConnector`), delays in whole timesteps (on NEST
//! one step shorter where they can be, as its hops take one step more), nerve's
//! partition as neurons per core, recording, a run and the spikes written in
//! nerve's CSV format. Spike sources carry exactly the spikes nerve's sources
//! produce (Poisson sources as arrays, unless asked for `SpikeSourcePoisson`).
//! The backend changes the import line, backend-specific set-up and what
//! NEST needs to give nerve's spike times (early source spikes, delays).
//!
//! Bulk data (lists of more than `INLINE` synapses or spikes, or beyond
//! `INLINE_TOTAL` in all) goes to NPY files in a directory beside the script.

use std::fmt::Write as _;

use super::{check_projection, npy, py_float, py_str, py_time, refuse, WeightMode};
use crate::compile::Prepared;
use crate::error::{num, Result};
use crate::models::{Neuron, PynnMap, PynnParam, MODELS};
use crate::net::expand::{Delays, Synapses, Weights};
use crate::net::model::*;
use nerve_isa::MAX_STEPS;

const TARGET: &str = "pynn";

/// Most synapses (or spikes) one list writes into the script itself.
pub const INLINE: usize = 20_000;

/// Most synapses and spikes the whole script holds inline (the rest go to
/// NPY files): Python parses a large literal slowly and in much memory.
pub const INLINE_TOTAL: usize = 200_000;

/// sPyNNaker's longest delay, timesteps (16 on-core slots × 9 delay stages).
pub const SPYNNAKER_MAX_DELAY: u16 = 144;

/// Most neurons sPyNNaker puts on a core (its default for the standard cell types).
pub const SPYNNAKER_MAX_ATOMS: u32 = 256;

/// sPyNNaker's REAL (an ISO C accum, S16.15): every parameter and state
/// variable of its IF_curr_exp is written in it, and its tools refuse a
/// value outside (`DataType.S1615`).
pub const S1615_MIN: f64 = -65536.0;
pub const S1615_MAX: f64 = 65536.0 - 1.0 / 32768.0;

/// Which PyNN backend the script imports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Backend {
    /// `pyNN.spiNNaker` (sPyNNaker): neurons per core as nerve partitioned them.
    #[default]
    Spinnaker,
    /// `pyNN.nest`, on-grid spike times.
    Nest,
}

/// How Poisson sources are exported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum PoissonMode {
    /// `SpikeSourceArray` with exactly the spikes nerve's generators produce.
    #[default]
    Array,
    /// `SpikeSourcePoisson` with the rate (other spikes than nerve's).
    Native,
}

#[derive(Clone, Debug, Default)]
pub struct Options {
    pub backend: Backend,
    pub weights: WeightMode,
    pub poisson: PoissonMode,
    /// Run length the script defaults to and spike arrays cover, ms
    /// (`None`: the network's `duration_ms`, else 1,000 ms).
    pub duration_ms: Option<f64>,
    /// External spikes for input populations: (population, neuron, time in ms).
    pub inputs: Vec<(String, u32, f64)>,
}

/// An exported script and the data files it reads (relative to `data_dir`).
pub struct Script {
    pub text: String,
    pub data_dir: String,
    pub data: Vec<(String, Vec<u8>)>,
    /// What the export changed to fit the target, for the user to read.
    pub notes: Vec<String>,
    /// Where the script's own file name goes in `text` (its docstring's
    /// usage line), written by [`Script::text_for`].
    pub script_at: Option<usize>,
}

impl Script {
    /// The script as written to a file named `script` (the name escaped for
    /// the docstring, put only where the usage line names the script).
    pub fn text_for(&self, script: &str) -> String {
        match self.script_at {
            Some(at) if at <= self.text.len() && self.text.is_char_boundary(at) => {
                let mut t = self.text.clone();
                t.insert_str(at, &super::py_escape(script));
                t
            }
            _ => self.text.clone(),
        }
    }
}

/// The models the target represents, and as what (`--list`).
pub fn models() -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = MODELS
        .iter()
        .filter_map(|m| m.pynn().map(|p| (m.name().to_string(), if p.note.is_empty() { p.cell.to_string() } else { format!("{} ({})", p.cell, p.note) })))
        .collect();
    v.push(("spike_source_array, input".into(), "SpikeSourceArray".into()));
    v.push(("spike_source_poisson".into(), "SpikeSourceArray with nerve's spikes (--poisson native: SpikeSourcePoisson)".into()));
    v
}

fn pynn_of(pop: &Population, backend: Backend) -> Result<Option<(&Neuron, &'static PynnMap)>> {
    match &pop.model {
        Model::Neuron(n) => match n.model.pynn() {
            // nerve's Izhikevich weight is a voltage jump (NEST's synapses are
            // jumps too, hence weight_scale); sPyNNaker's Izhikevich has
            // exponential current synapses, where no weight gives a jump.
            Some(m) if m.cell == "Izhikevich" && backend == Backend::Spinnaker => Err(refuse(
                TARGET,
                format!("population `{}` ({})", pop.name, n.label()),
                "sPyNNaker's Izhikevich cell has exponential current synapses (tau_syn 5 ms), nerve's model voltage jumps: no weight gives the same neuron (export with --backend nest, whose Izhikevich synapses are voltage jumps)",
            )),
            Some(m) => Ok(Some((n, m))),
            None => Err(refuse(
                TARGET,
                format!("population `{}` ({})", pop.name, n.label()),
                "PyNN has no cell type for this model on sPyNNaker or NEST (`nerve export --list` shows what exports)",
            )),
        },
        Model::SpikeSourceArray(_) | Model::SpikeSourcePoisson { .. } | Model::Input => Ok(None),
    }
}

/// The tau_m that stands for no leak (`PynnParam::NoLeak`). NEST: 1e9 ms.
/// sPyNNaker holds tau_m in S16.15 and its core computes exp(-dt/tau_m) and
/// R = tau_m/cm in S16.15 too: a dt/tau_m below 2^-16 rounds the decay to 1
/// (v would not move at all, input included), and R past the range wraps.
/// So the longest dt·2^k (k ≤ 15: dt/tau_m = 2^-k, exact) with tau_m/cm at
/// most 2^15, half the range, leaving room for R times the input current.
fn no_leak_tau(pop: &Population, nm: &Neuron, backend: Backend, dt: f64) -> Result<f64> {
    if backend == Backend::Nest {
        return Ok(1e9);
    }
    let cm = nm.params.get("cm").iter(pop.size as usize).fold(f64::INFINITY, f64::min);
    let most = 32768.0 * cm.min(1.0);
    match (0..=15).rev().map(|k| dt * (1u32 << k) as f64).find(|&t| t <= most) {
        Some(t) => Ok(t),
        None => Err(refuse(
            TARGET,
            format!("population `{}` ({})", pop.name, nm.label()),
            format!(
                "sPyNNaker has no leak-free IF_curr_exp for dt {} ms and cm {} nF: its tau_m stands in for no leak and tau_m/cm (S16.15 on the core) must stay below 32768 with tau_m at least dt",
                num(dt),
                num(cm)
            ),
        )),
    }
}

/// A PyNN parameter's values, per neuron (or one where it is constant).
fn param_values(nm: &Neuron, n: usize, v: &PynnParam, no_leak: f64, at: Step) -> Vec<f64> {
    match v {
        PynnParam::Param(p) => nm.params.get(p).iter(n).collect(),
        PynnParam::Const(c) => vec![*c],
        PynnParam::NoLeak => vec![no_leak],
        PynnParam::Refractory(p) => nm.params.get(p).iter(n).map(|t| refractory_ms(t, at)).collect(),
    }
}

/// A note where sPyNNaker's leak differs from `lif`'s: its core rounds
/// exp(−dt/tau_m) to S16.15 (2^-15), which shortens a long tau_m (2,000 ms
/// at dt 0.1 ms acts as about 1,638) and freezes v past 2^15 steps (the
/// decay rounds to 1: no leak). Said where the effective tau_m is 1% off.
fn spynnaker_leak(pop: &Population, nm: &Neuron, dt: f64) -> Option<String> {
    // (tau_m, what it acts as, how far off), the farthest off.
    let mut worst: Option<(f64, f64, f64)> = None;
    for tau in nm.params.get("tau_m").iter(pop.size as usize) {
        let decay = ((-dt / tau).exp() * 32768.0).round() / 32768.0;
        let acts = if decay >= 1.0 { f64::INFINITY } else { -dt / decay.ln() };
        let off = (acts / tau - 1.0).abs();
        if off > 0.01 && worst.is_none_or(|w| off > w.2) {
            worst = Some((tau, acts, off));
        }
    }
    let (tau, acts, _) = worst?;
    Some(format!(
        "`{}` ({}): sPyNNaker's core rounds the leak exp(-dt/tau_m) to 2^-15, so tau_m = {} ms acts as {} there{}",
        pop.name,
        nm.label(),
        num(tau),
        if acts.is_infinite() { "no leak at all (v does not decay)".to_string() } else { format!("about {:.2} ms", acts) },
        if nm.params.get("tau_m").iter(pop.size as usize).any(|t| t != tau) { " (its most changed neuron)" } else { "" }
    ))
}

/// The timestep and the backend a script is written for.
#[derive(Clone, Copy)]
struct Step {
    dt: f64,
    backend: Backend,
}

/// The tau_refrac that holds a neuron on the backend as nerve holds it:
/// R − 1 steps after its spike (R = tau_refrac/dt, rounded half up), where
/// NEST and sPyNNaker hold ceil(tau_refrac/dt) steps (measured on NEST
/// 3.10: 0.1 ms at dt 0.1 ms fired 2,500 times for nerve's 3,333). NEST
/// counts in whole tics, so (R − 1)·dt is exact there; sPyNNaker divides
/// S16.15 values, so a quarter step less keeps its ceiling at R − 1.
fn refractory_ms(tau_refrac: f64, at: Step) -> f64 {
    let held = (nerve_isa::time::steps_of(tau_refrac, at.dt) - 1.0).max(0.0);
    let ms = match at.backend {
        _ if held == 0.0 => 0.0,
        Backend::Nest => held * at.dt,
        Backend::Spinnaker => (held - 0.25) * at.dt,
    };
    // As a decimal of 12 significant digits: 1.9, not 1.9000000000000001.
    nerve_isa::significant12(ms)
}

/// Refuses a value sPyNNaker cannot hold: every parameter and initial value
/// it is given, and IF_curr_exp's R = tau_m/cm, which its core computes in
/// S16.15 (past the range it wraps silently).
fn spynnaker_ranges(pop: &Population, nm: &Neuron, m: &PynnMap, no_leak: f64, at: Step) -> Result<()> {
    let n = pop.size as usize;
    let out = |x: f64| !(S1615_MIN..=S1615_MAX).contains(&x);
    let refuse_at = |what: &str, unit: &str, vals: &[f64]| -> Result<()> {
        let Some((i, x)) = vals.iter().enumerate().find(|(_, x)| out(**x)) else { return Ok(()) };
        let at = if vals.iter().any(|y| y != x) { format!(" (neuron {i})") } else { String::new() };
        Err(refuse(
            TARGET,
            format!("population `{}` ({})", pop.name, nm.label()),
            format!(
                "{what} {} {unit}{at} is outside sPyNNaker's S16.15 range [{}, {}]: sPyNNaker holds {}'s parameters, state and R as 16.15 fixed point",
                num(*x),
                num(S1615_MIN),
                num(S1615_MAX),
                m.cell
            ),
        ))
    };
    let spec_unit = |name: &str| nm.model.params().iter().find(|p| p.name == name).map_or("", |p| p.unit);
    for (k, v) in m.params {
        let unit = match v {
            PynnParam::Param(p) | PynnParam::Refractory(p) => spec_unit(p),
            _ => spec_unit(k),
        };
        refuse_at(k, if unit.is_empty() && *k == "tau_m" { "ms" } else { unit }, &param_values(nm, n, v, no_leak, at))?;
    }
    for (pynn_name, var) in m.state {
        if let Some(spec) = nm.model.state().iter().find(|s| s.name == *var) {
            refuse_at(&format!("initial {pynn_name}"), spec.unit, &nm.params.initial(pop, spec))?;
        }
    }
    if m.cell == "IF_curr_exp" {
        let tau = m.params.iter().find(|(k, _)| *k == "tau_m").map(|(_, v)| param_values(nm, n, v, no_leak, at));
        let cm = m.params.iter().find(|(k, _)| *k == "cm").map(|(_, v)| param_values(nm, n, v, no_leak, at));
        if let (Some(tau), Some(cm)) = (tau, cm) {
            let len = tau.len().max(cm.len());
            let r: Vec<f64> = (0..len).map(|i| tau[i.min(tau.len() - 1)] / cm[i.min(cm.len() - 1)]).collect();
            refuse_at("tau_m/cm (the membrane resistance its core computes)", "MOhm", &r)?;
        }
    }
    Ok(())
}

/// A per-neuron value list (inline, or a list from an NPY file), or a
/// scalar where all are equal.
fn values(v: &[f64], data: &mut Bulk) -> String {
    match v.first() {
        Some(&x) if v.iter().all(|&y| y == x) => py_float(x),
        _ if data.inline(v.len()) => format!("[{}]", v.iter().map(|&x| py_float(x)).collect::<Vec<_>>().join(", ")),
        _ => {
            let file = format!("values_{}.npy", data.files.len());
            data.files.push((file.clone(), npy::f64_1d(v)));
            format!("data({}).tolist()", py_str(&file))
        }
    }
}

/// Spike times (ms) per neuron, as Python lists.
/// Spike times per neuron as Python lists; on NEST in full, as
/// [`nest_time`] chose them to the last bit (six decimals undid it).
fn spike_lists(times: &[Vec<f64>], backend: Backend) -> String {
    let time = |x: f64| if backend == Backend::Nest { py_float(x) } else { py_time(x) };
    let per: Vec<String> = times.iter().map(|t| format!("[{}]", t.iter().map(|&x| time(x)).collect::<Vec<_>>().join(", "))).collect();
    format!("[{}]", per.join(", "))
}

/// Exports `net` (compiled for its target as `out`).
pub fn export(net: &Network, prep: &Prepared, o: &Options, data_dir: &str) -> Result<Script> {
    super::no_electrical(TARGET, net)?;
    let dt = net.dt_ms;
    let duration = o.duration_ms.or(net.duration_ms).unwrap_or(1000.0);
    if !(duration.is_finite() && duration > 0.0) {
        return Err(refuse(TARGET, "the run", format!("duration {duration} ms must be a positive number")));
    }
    // The run's timesteps, as nerve counts a time's (the nearest, a half up;
    // the script counts its --duration's alike), which the spike arrays
    // cover: an absurd duration ran (and wrote) on for ever, or was cut to
    // 2^32 - 1 steps by the cast.
    let steps = nerve_isa::time::steps_of(duration, dt).max(1.0);
    if steps > MAX_STEPS as f64 {
        return Err(refuse(
            TARGET,
            format!("the run's duration {} ms", num(duration)),
            format!("{steps:e} timesteps of {} ms: more than {MAX_STEPS}, the most a run takes", num(dt)),
        ));
    }
    let steps = steps as u32;
    // sPyNNaker's timestep is a whole number of µs (it takes ceil(dt·1000)):
    // with any other dt it refuses the script's min_delay = dt at setup, and
    // would run every decay and time at its own step if it did not.
    let us = dt * 1000.0;
    if o.backend == Backend::Spinnaker && (us - us.round()).abs() > 1e-9 * us.max(1.0) {
        return Err(refuse(
            TARGET,
            "the timestep",
            format!("dt {} ms is not a whole number of microseconds, and sPyNNaker's timestep is one (it would take {} µs)", num(dt), us.ceil()),
        ));
    }
    if o.poisson == PoissonMode::Array {
        super::check_poisson_volume(TARGET, net, steps, "export with `--poisson native` (PyNN's own Poisson sources) or a shorter `--duration`")?;
    }
    let mut data = Bulk { files: Vec::new(), inline_left: INLINE_TOTAL };
    let mut notes = Vec::new();
    // Every check before any output.
    let at = Step { dt, backend: o.backend };
    let (mut refractory, mut offset) = (Vec::new(), Vec::new());
    for (pi, pop) in net.pops() {
        if let Some((nm, m)) = pynn_of(pop, o.backend)? {
            // What NEST does otherwise, said (docs/exporters.md, "Delays on NEST").
            // A cell that spikes with no spike arriving: driven by i_offset, by
            // a v_rest at or above v_thresh, or started there (a cell at v −49
            // over v_thresh −50 spiked at 0 on nerve, 0.1 ms on NEST, unsaid).
            let n = pop.size as usize;
            let has = |k: &str| nm.model.params().iter().any(|p| p.name == k);
            let self_driven = (has("i_offset") && nm.params.get("i_offset").iter(n).any(|x| x != 0.0))
                || (has("v_rest") && has("v_thresh") && {
                    let th: Vec<f64> = nm.params.get("v_thresh").iter(n).collect();
                    let over = |v: &[f64]| v.iter().zip(&th).any(|(v, t)| v >= t);
                    let rest: Vec<f64> = nm.params.get("v_rest").iter(n).collect();
                    let start = nm.model.state().iter().find(|s| s.name == "v").map(|spec| nm.params.initial(pop, spec)).unwrap_or_default();
                    over(&rest) || over(&start)
                });
            if o.backend == Backend::Nest && self_driven {
                offset.push(format!("`{}`", pop.name));
            }
            if o.backend == Backend::Nest && m.cell == "Izhikevich" {
                notes.push(format!(
                    "`{}` (izhikevich): NEST adds a spike's voltage jump after the step's integration, before its threshold test (a step before nerve), and loses a jump that arrives in the step the cell fires to its reset: its spike times part from nerve's after the first lost jump",
                    pop.name
                ));
            }
            for (k, v) in m.params {
                if let PynnParam::Refractory(p) = v {
                    let given = nm.params.get(p);
                    let (from, to) = (given.iter(1).next().unwrap_or(0.0), refractory_ms(given.iter(1).next().unwrap_or(0.0), at));
                    let per_neuron = given.iter(pop.size as usize).any(|t| t != from);
                    if per_neuron || from != to {
                        refractory.push(if per_neuron {
                            format!("`{}` {k} per neuron", pop.name)
                        } else {
                            format!("`{}` {k} {} ms as {} ms", pop.name, num(from), num(to))
                        });
                    }
                }
            }
            if o.backend == Backend::Spinnaker && m.cell == "IF_curr_exp" && !m.params.iter().any(|(_, v)| *v == PynnParam::NoLeak) {
                if let Some(note) = spynnaker_leak(pop, nm, dt) {
                    notes.push(note);
                }
            }
        }
        if let (Some((nm, m)), Backend::Spinnaker) = (pynn_of(pop, o.backend)?, o.backend) {
            let no_leak = no_leak_tau(pop, nm, o.backend, dt)?;
            spynnaker_ranges(pop, nm, m, no_leak, Step { dt, backend: o.backend })?;
            if m.params.iter().any(|(_, v)| *v == PynnParam::NoLeak) {
                // v relaxes toward v_rest + R·I by dt/tau_m (2^-k) a step.
                let lost = 1.0 - (-duration / no_leak).exp();
                let v_far = nm.params.get("v_rest").iter(pop.size as usize).fold(0.0f64, |a, x| a.max(x.abs()));
                notes.push(format!(
                    "`{}` ({}): no leak-free tau_m on sPyNNaker (S16.15, at most 65536 ms, and exp(-dt/tau_m) rounds to 1 past 2^15 timesteps, freezing v): tau_m = {} ms, so over the {} ms run v loses {:.3}% of its distance from v_rest; keep its input current below {:.3} nA, past which sPyNNaker's R·I (R = tau_m/cm) overflows",
                    pop.name,
                    nm.label(),
                    num(no_leak),
                    num(duration),
                    100.0 * lost,
                    (((S1615_MAX - v_far) / (no_leak / nm.params.get("cm").iter(pop.size as usize).fold(f64::INFINITY, f64::min))).max(0.0))
                ));
            }
        }
        let per_core = prep.neurons_per_core.get(pi.index()).copied().unwrap_or(0);
        if o.backend == Backend::Spinnaker && per_core > SPYNNAKER_MAX_ATOMS && !pop.model.is_source() {
            return Err(refuse(
                TARGET,
                format!("population `{}`", pop.name),
                format!(
                    "nerve's partition for `{}` puts {per_core} neurons on a core; sPyNNaker's cores hold {SPYNNAKER_MAX_ATOMS} (compile for a SpiNNaker profile or with --neurons-per-core {SPYNNAKER_MAX_ATOMS})",
                    prep.arch
                ),
            ));
        }
    }
    if !offset.is_empty() {
        notes.push(format!(
            "a cell that spikes with no spike arriving (driven by its i_offset, or by a v_rest or an initial v at or above v_thresh) spikes a step later on NEST than on nerve (5.4 ms for nerve's 5.3 at dt 0.1 ms): {}",
            offset.join(", ")
        ));
    }
    if !refractory.is_empty() {
        notes.push(format!(
            "refractory periods are written as the steps nerve holds a neuron after its spike, R − 1 for tau_refrac/dt rounded half up to R ({} holds ceil(tau_refrac/dt) steps, one more{}): {}",
            if o.backend == Backend::Nest { "NEST" } else { "sPyNNaker" },
            if o.backend == Backend::Spinnaker { "; written a quarter step short, as its S16.15 division rounds" } else { "" },
            refractory.join(", ")
        ));
    }
    if o.backend == Backend::Nest {
        nest_initial_currents(net)?;
        nest_reset_below_threshold(net)?;
    }
    super::check_inputs(TARGET, net, &o.inputs)?;
    let mut max_delay = 1u16;
    for (e, _, post, p) in net.projections() {
        check_projection(TARGET, net, e, prep)?;
        let sy = &prep.syn[e.index()];
        // Checked on the network's own weights (the error quotes them), written as asked.
        let integer = net.pop(post).model.neuron_model().is_some_and(|m| m.integer_weights());
        let bad_sign = |w: f64| match p.receptor {
            Receptor::Excitatory => w < 0.0,
            Receptor::Inhibitory => w > 0.0,
        };
        let bad = match &sy.weights {
            Weights::Uniform(w) => (!sy.is_empty() && bad_sign(*w)).then_some(*w),
            Weights::PerSynapse(v) => v.iter().copied().find(|&w| bad_sign(w)),
        };
        if let (Some(w), false) = (bad, integer) {
            return Err(refuse(
                TARGET,
                format!("projection {}", p.label),
                format!("weight {w} on the {} receptor (PyNN's sign convention: excitatory ≥ 0, inhibitory ≤ 0)", p.receptor.name()),
            ));
        }
        let d = sy.max_delay();
        if o.backend == Backend::Spinnaker && d > SPYNNAKER_MAX_DELAY {
            return Err(refuse(
                TARGET,
                format!("projection {}", p.label),
                format!(
                    "delay {} ms ({d} timesteps) exceeds sPyNNaker's {SPYNNAKER_MAX_DELAY} timesteps (16 slots × 9 delay stages)",
                    crate::lower::fixed::approx(d as f64 * dt)
                ),
            ));
        }
        max_delay = max_delay.max(d);
        if let Some(pl) = &p.plasticity {
            stdp_of(pl, p, o.backend)?;
        }
    }

    let pinned = if o.backend == Backend::Spinnaker { spynnaker_pinned(net, prep, o, &mut notes) } else { vec![None; net.num_pops()] };
    if o.backend == Backend::Spinnaker {
        spynnaker_weight_steps(net, prep, o, &pinned, &mut notes);
    }

    let mut t = String::new();
    let backend = match o.backend {
        Backend::Spinnaker => "sPyNNaker",
        Backend::Nest => "NEST",
    };
    let arch = &prep.arch;
    let _ = writeln!(t, "#!/usr/bin/env python3");
    let _ = write!(
        t,
        "\"\"\"{}: a PyNN script exported by nerve for {backend}, from the network compiled for `{}`\n({}).\n\nRuns the network and writes its spikes in nerve's CSV format (population,neuron,time\nin ms, sorted by time, population, neuron), to compare with `nerve run --record`.\n\n    python ",
        super::py_escape(&net.name),
        super::py_escape(arch),
        match o.weights {
            WeightMode::Quantised => format!("weights as nerve quantised them for `{}`", super::py_escape(arch)),
            WeightMode::Original => "weights as the network gives them".to_string(),
        }
    );
    let script_at = Some(t.len());
    t.push_str(" [--duration MS] [--out FILE]\n\"\"\"\n");
    let learns = net.projections().any(|(.., p)| p.plasticity.is_some());
    // csv: the learned weights' labels quoted as nerve quotes them.
    t.push_str(if learns {
        "import argparse\nimport csv\nimport math\nimport os\n\nimport numpy as np\n"
    } else {
        "import argparse\nimport math\nimport os\n\nimport numpy as np\n"
    });
    match o.backend {
        Backend::Spinnaker => t.push_str("import pyNN.spiNNaker as sim\n"),
        Backend::Nest => t.push_str("import pyNN.nest as sim\n"),
    }
    let _ = writeln!(t, "\nDT = {}  # ms", py_float(dt));
    let _ = writeln!(t, "DURATION = {}  # ms, the default run", py_float(duration));
    let _ = writeln!(t, "SOURCE_STEPS = {steps}  # the exported spike arrays cover steps 0 to this less one");
    let _ = writeln!(t, "DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), {})", py_str(data_dir));
    let mut template = String::from(concat!(
        r#"
ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--duration", type=float, default=DURATION, help="ms to run, the nearest whole number of timesteps (default %(default)s)")
ap.add_argument("--out", default="spikes.csv", help="spike file to write (default %(default)s)")
WEIGHTS_ARG
args = ap.parse_args()
if not args.duration > 0:
    ap.error(f"--duration {args.duration}: give a positive number of ms")


def steps_of(ms):
    # nerve's timesteps of a time (nerve_isa::time::steps_of): the nearest, a
    # half up, and a time a rounding away from a half taken as that half.
    x = ms / DT
    half = math.floor(x * 2 + 0.5) / 2
    tol = min(1e-9 * half, max(4 * 2.220446049250313e-16 * half, 1e-6))
    if half % 1 == 0.5 and abs(x - half) <= tol:
        x = half
    return math.floor(x + 0.5)


# Whole timesteps, the nearest to the duration, as nerve takes times: NEST
# runs only whole multiples of its resolution.
STEPS = max(1, steps_of(args.duration))
# Their length in ms for either simulator: NEST rounds it to its tics;
# sPyNNaker runs ceil(ms / DT) steps, one too many if STEPS * DT rounded up.
RUN_MS = STEPS * DT
while math.ceil(RUN_MS / DT) > STEPS:
    RUN_MS = math.nextafter(RUN_MS, 0)
CHECK_ARRAYS

def data(name):
    return np.load(os.path.join(DATA, name))


"#,
        super::py_fmt_time!(),
        r#"
"#
    ));
    let has_arrays = net.pops().any(|(_, p)| match &p.model {
        Model::SpikeSourceArray(_) | Model::Input => true,
        Model::SpikeSourcePoisson { .. } => o.poisson == PoissonMode::Array,
        Model::Neuron(_) => false,
    });
    // On the template only: the docstring holds the network's name.
    template = template.replace(
        "WEIGHTS_ARG\n",
        if learns { "ap.add_argument(\"--weights\", default=\"weights.csv\", help=\"learned weights to write (default %(default)s)\")\n" } else { "" },
    );
    template = template.replace(
        "CHECK_ARRAYS",
        if has_arrays {
            "if STEPS > SOURCE_STEPS:\n    ap.error(f\"the exported spike sources cover {SOURCE_STEPS} steps (of {DT} ms); export again with a longer --duration\")\n"
        } else {
            ""
        },
    );
    t.push_str(&template);
    // The timestep itself: PyNN refuses a min_delay below it by any rounding.
    let min_delay = "DT";
    let max_delay = py_time(max_delay as f64 * dt);
    match o.backend {
        Backend::Spinnaker => {
            // sPyNNaker takes no max_delay (it warns that it ignores one).
            let _ = writeln!(t, "sim.setup(timestep=DT, min_delay={min_delay})");
        }
        Backend::Nest => {
            if let Some(tics) = nest_tics(dt)? {
                let _ = writeln!(
                    t,
                    "# NEST's resolution is a whole number of tics (1,000 per ms by default): DT needs {tics} per ms,\n# set each time PyNN resets NEST's kernel (its setup does, then sets the resolution).\n_clear = sim.simulator.state.clear\n\n\ndef _clear_with_tics():\n    _clear()\n    sim.nest.SetKernelStatus({{\"tics_per_ms\": {tics}, \"resolution\": DT}})\n\n\nsim.simulator.state.clear = _clear_with_tics"
                );
            }
            let _ = writeln!(t, "sim.setup(timestep=DT, min_delay={min_delay}, max_delay={max_delay}, spike_precision=\"on_grid\")");
            if net.pops().any(|(_, p)| p.model.neuron_model().and_then(|m| m.pynn()).is_some_and(|m| m.cell == "IF_curr_delta")) {
                t.push_str("# PyNN's IF_curr_delta lacks NEST's name for v (PyNN 0.12-0.13).\nsim.IF_curr_delta.variable_map = {\"v\": \"V_m\"}\n");
            }
        }
    }
    t.push_str("\npops = {}\n");
    let any_marked = net.pops().any(|(_, p)| p.record_spikes);
    let mut recorded = Vec::new();
    for (pi, pop) in net.pops() {
        let n = pop.size as usize;
        let name = py_str(&pop.name);
        let cell = match &pop.model {
            Model::Neuron(nm) => {
                // invariant: pynn_of returns Some for every Model::Neuron (or the error `?` passes on)
                let (_, m) = pynn_of(pop, o.backend)?.expect("a neuron model with a PyNN map");
                let no_leak = no_leak_tau(pop, nm, o.backend, dt)?;
                let at = Step { dt, backend: o.backend };
                let params: Vec<String> = m.params.iter().map(|(k, v)| format!("{k}={}", values(&param_values(nm, n, v, no_leak, at), &mut data))).collect();
                format!("sim.{}({})", m.cell, params.join(", "))
            }
            Model::SpikeSourceArray(times) => {
                let steps_ms: Vec<Vec<f64>> = times.iter().map(|ts| ts.iter().map(|&x| nerve_isa::time::steps_of(x, dt) * dt).collect()).collect();
                source_array(&source_spikes(o.backend, &pop.name, steps_ms, dt, steps, &mut notes), o.backend, &mut data)
            }
            Model::SpikeSourcePoisson { rate, seed } => match o.poisson {
                PoissonMode::Array => {
                    let st = crate::models::poisson::spike_steps(pop, rate, *seed, dt, steps);
                    let times: Vec<Vec<f64>> = st.iter().map(|s| s.iter().map(|&k| k as f64 * dt).collect()).collect();
                    source_array(&source_spikes(o.backend, &pop.name, times, dt, steps, &mut notes), o.backend, &mut data)
                }
                PoissonMode::Native => {
                    let r: Vec<f64> = rate.iter(n).collect();
                    format!("sim.SpikeSourcePoisson(rate={}, start=0.0, duration={})", values(&r, &mut data), py_time(duration))
                }
            },
            Model::Input => {
                let mut times = vec![Vec::new(); n];
                for (p, k, tm) in &o.inputs {
                    if *p == pop.name {
                        times[*k as usize].push(nerve_isa::time::steps_of(*tm, dt) * dt);
                    }
                }
                for ts in &mut times {
                    ts.sort_by(f64::total_cmp);
                    ts.dedup();
                }
                source_array(&source_spikes(o.backend, &pop.name, times, dt, steps, &mut notes), o.backend, &mut data)
            }
        };
        let extra = match pinned[pi.index()] {
            Some([e, i]) => format!(", additional_parameters={{\"max_expected_summed_weight\": [{}, {}]}}", py_float(e), py_float(i)),
            None => String::new(),
        };
        let _ = writeln!(t, "pops[{name}] = sim.Population({n}, {cell}, label={name}{extra})");
        if let Model::Neuron(nm) = &pop.model {
            // invariant: pynn_of(pop)? above returned an error for a neuron model without a PyNN map
            let m = nm.model.pynn().expect("pynn_of(pop)? refused a neuron model without a PyNN map");
            let init: Vec<String> = m
                .state
                .iter()
                .filter_map(|(pynn_name, var)| {
                    // v always (nerve starts it at v_rest, PyNN at -65 mV); the others where the network sets them.
                    if *var != "v" && !pop.initial.iter().any(|(k, _)| k == var) {
                        return None;
                    }
                    let spec = nm.model.state().iter().find(|s| s.name == *var)?;
                    // On NEST an initial current is refused unless 0 (nest_initial_currents), and left out.
                    if o.backend == Backend::Nest && spec.unit == "nA" {
                        return None;
                    }
                    let mut x = nm.params.initial(pop, spec);
                    // sPyNNaker holds the inhibitory current as a magnitude and
                    // subtracts it (neuron_model_lif_impl.h: total_exc − total_inh),
                    // nerve's is signed: +0.5 nA raised v here and lowered it there.
                    if o.backend == Backend::Spinnaker && *var == "isyn_inh" {
                        x.iter_mut().for_each(|v| *v = -*v);
                    }
                    Some(format!("{pynn_name}={}", values(&x, &mut data)))
                })
                .collect();
            if !init.is_empty() {
                let _ = writeln!(t, "pops[{name}].initialize({})", init.join(", "));
            }
            if o.backend == Backend::Spinnaker {
                let per_core = prep.neurons_per_core.get(pi.index()).copied().unwrap_or(0);
                let _ = writeln!(t, "pops[{name}].set_max_atoms_per_core({per_core})  # nerve's partition");
            }
        }
        if !any_marked || pop.record_spikes {
            let _ = writeln!(t, "pops[{name}].record(\"spikes\")");
            recorded.push(pop.name.clone());
        }
    }
    t.push('\n');
    let proj_at = t.len();
    let mut conns_helper = false;
    // NEST's delay compensation: synapses written a step shorter, and the
    // projections (with their synapse counts) of 1-step delays left as they are.
    let (mut shortened, mut one_step, mut kept) = (0u64, Vec::<String>::new(), Vec::<String>::new());
    // Learning projections: (label, index, PyNN units per nerve unit).
    let mut learning: Vec<(String, usize, f64)> = Vec::new();
    if net.projections().any(|(.., p)| p.plasticity.is_some()) {
        t.push_str("learning = {}  # label -> Projection, for their weights after the run\n");
    }
    for (e, pre, post, p) in net.projections() {
        let sy = &prep.syn[e.index()];
        let scale = net.pop(post).model.neuron_model().and_then(|m| m.pynn()).map_or(1.0, |m| m.weight_scale);
        let q = prep.quant.iter().find(|(x, _)| *x == e).map(|(_, q)| q);
        let value = |w: f64| {
            scale
                * match (o.weights, q) {
                    (WeightMode::Quantised, Some(q)) => q.value(q.mantissa(w).0),
                    _ => w,
                }
        };
        let (uw, ud) = uniform(sy, &value);
        let native = match (&p.connector, uw, ud) {
            (Connector::AllToAll { allow_self_connections }, Some(w), Some(d)) if sy.len() == expected_all(net, pre, post, *allow_self_connections) => {
                Some((format!("sim.AllToAllConnector(allow_self_connections={})", if *allow_self_connections { "True" } else { "False" }), w, d))
            }
            // PyNN 0.13's OneToOneConnector fails on a 1-neuron pre population
            // (numpy's nonzero of a 0-d mask): its one synapse 0 -> 0 is an
            // all-to-all between two 1-neuron populations, else a list.
            (Connector::OneToOne, Some(w), Some(d)) if sy.len() == net.pop(pre).size.min(net.pop(post).size) as u64 => {
                match (net.pop(pre).size, net.pop(post).size) {
                    (1, 1) => Some(("sim.AllToAllConnector(allow_self_connections=True)".to_string(), w, d)),
                    (1, _) => None,
                    _ => Some(("sim.OneToOneConnector()".to_string(), w, d)),
                }
            }
            _ => None,
        };
        // The synapse type with the weight and delay all its synapses share (else the connector's).
        let plastic = p.plasticity.as_ref().map(|pl| stdp_of(pl, p, o.backend)).transpose()?;
        // NEST applies a spike arriving at t to the update that ends at t + dt,
        // nerve to the step it arrives in: each hop took delay + 1 steps on
        // NEST. A delay one step shorter lands it in nerve's step; one of a
        // single step cannot be shortened. Learning projections keep theirs:
        // their learned weights' file gives the delays back as NEST holds them.
        let compensate = o.backend == Backend::Nest && plastic.is_none();
        let written = |d: u16| if compensate && d >= 2 { d - 1 } else { d };
        if compensate {
            let (n, one) = (sy.len(), (0..sy.len() as usize).filter(|&k| sy.delay(k) == 1).count() as u64);
            shortened += n - one;
            if one > 0 {
                one_step.push(format!("{} ({one})", p.label));
            }
        } else if o.backend == Backend::Nest && !sy.is_empty() {
            kept.push(format!("{} ({})", p.label, sy.len()));
        }
        let syn_type = |w: Option<f64>, d: Option<u16>| {
            let mut args: Vec<String> = Vec::new();
            if let Some(st) = plastic {
                args.push(stdp_args(st, scale, o.backend));
            }
            if let Some(w) = w {
                args.push(format!("weight={}", py_float(w)));
            }
            if let Some(d) = d {
                args.push(format!("delay={}", py_time(written(d) as f64 * dt)));
            }
            let kind = if plastic.is_some() { "STDPMechanism" } else { "StaticSynapse" };
            format!("sim.{kind}({})", args.join(", "))
        };
        let static_syn = |w: f64, d: u16| syn_type(Some(w), Some(d));
        let (conn, synapse) = match native {
            Some((c, w, d)) => (c, static_syn(w, d)),
            None if data.inline(sy.len() as usize) => {
                let mut l = Vec::with_capacity(sy.len() as usize);
                for i in 0..sy.n_pre() {
                    for k in sy.row(i) {
                        l.push(format!("({i}, {}, {}, {})", sy.post[k], py_float(value(sy.weight(k))), py_time(written(sy.delay(k)) as f64 * dt)));
                    }
                }
                (format!("sim.FromListConnector([{}])", l.join(", ")), syn_type(None, None))
            }
            None => {
                // The synapses as a CSR matrix, weights and delays as files of their own where they differ.
                conns_helper = true;
                let file = format!("proj{}", e.index());
                let (indptr, posts) = npy::csr(sy);
                data.files.push((format!("{file}_indptr.npy"), indptr));
                data.files.push((format!("{file}_post.npy"), posts));
                let wfile = match uw {
                    Some(_) => "None".to_string(),
                    None => {
                        let f = format!("proj{}_weight.npy", e.index());
                        let w: Vec<f64> = (0..sy.len() as usize).map(|k| value(sy.weight(k))).collect();
                        data.files.push((f.clone(), npy::f64_1d(&w)));
                        py_str(&f)
                    }
                };
                let dfile = match ud {
                    Some(_) => "None".to_string(),
                    None => {
                        let f = format!("proj{}_delay.npy", e.index());
                        let d: Vec<u16> = (0..sy.len() as usize).map(|k| written(sy.delay(k))).collect();
                        data.files.push((f.clone(), npy::u16_1d(&d)));
                        py_str(&f)
                    }
                };
                let synapse = syn_type(uw, ud);
                (format!("conns({}, {wfile}, {dfile})", py_str(&file)), synapse)
            }
        };
        let assign = if plastic.is_some() {
            learning.push((p.label.clone(), e.index(), scale));
            format!("learning[{}] = ", py_str(&p.label))
        } else {
            String::new()
        };
        let _ = writeln!(
            t,
            "{assign}sim.Projection(pops[{}], pops[{}], {conn}, synapse_type={synapse}, receptor_type={}, label={})",
            py_str(&net.pop(pre).name),
            py_str(&net.pop(post).name),
            py_str(p.receptor.name()),
            py_str(&p.label)
        );
    }
    if o.backend == Backend::Nest && (shortened > 0 || !one_step.is_empty() || !kept.is_empty()) {
        let list = |v: &[String]| {
            format!(
                "{}{}",
                v.iter().take(8).cloned().collect::<Vec<_>>().join(", "),
                if v.len() > 8 { format!(" and {} more projections", v.len() - 8) } else { String::new() }
            )
        };
        let mut cannot = String::new();
        if !one_step.is_empty() {
            cannot += &format!(
                "; a delay of one step cannot be shortened, so these synapses still arrive one step later than on nerve, per hop: {}",
                list(&one_step)
            );
        }
        if !kept.is_empty() {
            cannot += &format!(
                "; learning projections keep their delays (their learned weights are read back with the delays NEST holds), so their synapses arrive one step later than on nerve, and their spike pairings shift with them: {}",
                list(&kept)
            );
        }
        let did = if shortened > 0 {
            format!(
                "the script writes {shortened} synapses' delays of 2 or more steps one step shorter (delay - dt), so that their spikes arrive at nerve's steps"
            )
        } else {
            "the script could shorten no delay".to_string()
        };
        let said = format!(
            "NEST applies a spike that arrives at t to the update ending at t + dt, one step later than nerve, so each hop took delay + 1 steps; {did}{cannot}"
        );
        t.insert_str(proj_at, &format!("# {}.\n", said.replace('\n', " ")));
        notes.push(said);
    }
    if conns_helper {
        t.insert_str(
            proj_at,
            r#"def conns(proj, weight=None, delay=None):
    """A FromListConnector from NPY files of a projection's synapses as a CSR
    matrix (proj_indptr.npy: row starts by pre neuron; proj_post.npy: post
    neurons), with per-synapse weights and delays (timesteps) from their own
    files where given (otherwise the synapse type's)."""
    indptr, post = data(proj + "_indptr.npy"), data(proj + "_post.npy")
    pre = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr).astype(np.int64))
    cols, names = [pre, post], []
    if weight is not None:
        cols.append(data(weight))
        names.append("weight")
    if delay is not None:
        cols.append(data(delay) * DT)
        names.append("delay")
    if not names:
        return sim.FromListConnector(np.column_stack([pre, post.astype(np.int64)]))
    return sim.FromListConnector(np.column_stack([c.astype(np.float64) for c in cols]), column_names=names)


"#,
        );
    }
    t.push_str(&super::py_recorded(net, &recorded));
    t.push_str(
        &r#"sim.run(RUN_MS)

# Spikes in nerve's order: time step, population (network order), neuron;
# steps 0..STEPS, as `nerve run --steps STEPS` (NEST stamps one at the run's end too).
rows = []
for k, name in enumerate(RECORDED):
    for i, st in enumerate(pops[name].get_data("spikes").segments[0].spiketrains):
        for time in st.magnitude:
            step = int(round(float(time) / DT))
            if step < STEPS:
                rows.append((step, k, i, name))
rows.sort()
WRITE_SPIKES
print(f"wrote {len(rows)} spikes to {args.out}")
"#
        .replace("WRITE_SPIKES\n", super::PY_WRITE_SPIKES),
    );
    if !learning.is_empty() {
        let _ = writeln!(
            t,
            "\n# Learning projections: (label, index among the network's projections, PyNN units per nerve unit).\nLEARNING = [{}]",
            learning.iter().map(|(l, i, sc)| format!("({}, {i}, {})", py_str(l), py_float(*sc))).collect::<Vec<_>>().join(", ")
        );
        t.push_str(
            r#"# Their weights after the run, as `nerve run --save-weights` writes them
# (projection,pre,post,weight,delay; weight in the network's units, delay in ms).
wrows = []
for label, index, scale in LEARNING:
    for pre, post, w, d in learning[label].get(["weight", "delay"], format="list", with_address=True):
        wrows.append((index, int(pre), int(post), float(d), label, float(w) / scale))
wrows.sort()
# csv quotes a label as nerve does (one with a comma, quote or line break).
with open(args.weights, "w", newline="") as f:
    out = csv.writer(f, lineterminator="\n")
    out.writerow(["projection", "pre", "post", "weight", "delay"])
    for _, pre, post, d, label, w in wrows:
        out.writerow([label, pre, post, repr(w), fmt(d)])
print(f"wrote {len(wrows)} learned weights to {args.weights}")
"#,
        );
    }
    if o.backend == Backend::Spinnaker {
        t.push_str(
            r#"try:
    from spinn_front_end_common.data import FecDataView
    print(f"reports: {FecDataView.get_run_dir_path()}")
except Exception:  # a board run may not keep reports
    pass
"#,
        );
    }
    t.push_str("sim.end()\n");
    Ok(Script { text: t, data_dir: data_dir.to_string(), data: data.files, notes, script_at })
}

/// The weights of a projection as the script writes them (PyNN's units).
fn written_weights(net: &Network, prep: &Prepared, o: &Options, e: ProjIx, post: PopIx) -> Vec<f64> {
    let sy = &prep.syn[e.index()];
    let scale = net.pop(post).model.neuron_model().and_then(|m| m.pynn()).map_or(1.0, |m| m.weight_scale);
    let q = prep.quant.iter().find(|(x, _)| *x == e).map(|(_, q)| q);
    (0..sy.len() as usize)
        .map(|k| {
            let w = sy.weight(k);
            scale
                * match (o.weights, q) {
                    (WeightMode::Quantised, Some(q)) => q.value(q.mantissa(w).0),
                    _ => w,
                }
        })
        .collect()
}

/// sPyNNaker's weight step for a largest expected summed input `w` on a
/// receptor (PopulationVertex.get_ring_buffer_shifts, 7.4): the shift s is
/// the bits above the point `w` needs (one more where w is a power of two),
/// and a 16-bit weight counts 2^(s-15) nA.
fn spynnaker_step(w: f64) -> f64 {
    let mut s = if w <= 0.0 { 0 } else { w.log2().max(0.0).ceil() as i32 };
    if w > 0.0 && 2f64.powi(s) <= w {
        s += 1;
    }
    2f64.powi(s - 15)
}

/// Notes the weights sPyNNaker rounds away: it holds one weight step per
/// receptor of a core, chosen from the input it expects on that receptor
/// summed over every projection, and rounds each weight to it silently.
/// The step is at least the largest weight's and at most the summed
/// fan-in's (one spike per source a step; exactly that where all delays
/// onto the receptor are equal; a statistical bound in between otherwise).
/// The projections onto `post`'s `receptor`: (label, |weights| as written,
/// the largest fan-in onto one neuron).
fn receptor_inputs(net: &Network, prep: &Prepared, o: &Options, post: PopIx, receptor: Receptor) -> Vec<(String, Vec<f64>, u64)> {
    let size = net.pop(post).size as usize;
    let mut projs = Vec::new();
    for (e, _, p_post, p) in net.projections() {
        if p_post != post || p.receptor != receptor {
            continue;
        }
        let sy = &prep.syn[e.index()];
        let w: Vec<f64> = written_weights(net, prep, o, e, post).into_iter().map(f64::abs).collect();
        let mut fan_in = vec![0u64; size];
        for &j in sy.post.iter() {
            if let Some(c) = fan_in.get_mut(j as usize) {
                *c += 1;
            }
        }
        projs.push((p.label.clone(), w, fan_in.into_iter().max().unwrap_or(0)));
    }
    projs
}

/// The most the projections can put on one neuron's receptor in a step: each
/// one's largest weight times its largest fan-in, summed.
fn summed_input(projs: &[(String, Vec<f64>, u64)]) -> f64 {
    // (fold from +0: an empty f64 sum is −0, which the script wrote as -0.0)
    projs.iter().map(|(_, w, n)| w.iter().copied().fold(0.0f64, f64::max) * *n as f64).fold(0.0, |a, b| a + b)
}

/// Per population, the `max_expected_summed_weight` ([excitatory,
/// inhibitory]) the sPyNNaker script gives it, where a learning projection
/// onto it needs the weight shift nerve learned with: sPyNNaker picks a
/// receptor's shift from its fan-in statistics, most often larger, and
/// learned in words that much coarser, without a word (a `weight_shift` of
/// 6 was dropped from the script). A value of 2^(S−1) makes its shift S;
/// the inhibitory receptor gets its summed input, which never saturates.
/// Only for `IF_curr_exp`, whose weights sPyNNaker takes as they are (a
/// global weight scale of 1); another cell is noted.
fn spynnaker_pinned(net: &Network, prep: &Prepared, o: &Options, notes: &mut Vec<String>) -> Vec<Option<[f64; 2]>> {
    let mut out = vec![None; net.num_pops()];
    for (post, pop) in net.pops() {
        // (label, nerve's shift, whether given)
        let mut shifts: Vec<(String, u8, bool)> = Vec::new();
        for (e, _, p_post, p) in net.projections() {
            let (true, Some(Plasticity::Stdp(st))) = (p_post == post, p.plasticity.as_deref()) else { continue };
            let sy = &prep.syn[e.index()];
            let biggest = sy.max_abs_weight().max(st.w_max).max(st.w_min.abs());
            shifts.push((p.label.clone(), st.weight_shift.unwrap_or_else(|| crate::plasticity::stdp::shift_for(biggest)), st.weight_shift.is_some()));
        }
        let Some(learned) = shifts.iter().map(|x| x.1).max() else { continue };
        // At least the shift whose 16-bit word holds every weight onto the receptor:
        // fixed at a learning projection's, a static 5 nA at shift 0 (≈ 2 nA a word at
        // most) could not be stored at all.
        let exc_in = receptor_inputs(net, prep, o, post, Receptor::Excitatory);
        let (big_label, big) =
            exc_in.iter().map(|(l, w, _)| (l.as_str(), w.iter().copied().fold(0.0f64, f64::max))).fold(("", 0.0f64), |a, b| if b.1 > a.1 { b } else { a });
        // sPyNNaker's words are unsigned 16 bits: w·2^(15−S) ≤ 65,535.
        let fits = (0..=16u8).find(|&k| big * 2f64.powi(15 - k as i32) <= 65535.0).unwrap_or(16);
        let s = learned.max(fits);
        let why = if s > learned {
            format!("the shift whose words hold {big_label}'s {} nA", crate::lower::fixed::approx(big))
        } else {
            "the largest of its learning projections'".to_string()
        };
        let cell = pop.model.neuron_model().and_then(|m| m.pynn()).map_or("", |m| m.cell);
        if cell != "IF_curr_exp" {
            notes.push(format!(
                "population `{}` ({cell}): sPyNNaker picks its receptors' weight shift from their fan-in statistics, and its learning projections ({}) learned in nerve with shift {s}, words of {} nA; a larger shift on the board learns in coarser words (the script fixes the shift for IF_curr_exp only)",
                pop.name,
                shifts.iter().map(|x| x.0.as_str()).collect::<Vec<_>>().join(", "),
                num(2f64.powi(s as i32 - 15))
            ));
            continue;
        }
        for (label, own, _) in shifts.iter().filter(|x| x.1 < s) {
            notes.push(format!(
                "projection {label}: sPyNNaker holds one weight shift per receptor; the script fixes `{}`'s excitatory one at {s}, {why}; {label} learned in nerve with shift {own}, so its words on the board are {}× coarser (give the learning projections onto `{}` that `weight_shift`)",
                pop.name,
                1u32 << (s - own),
                pop.name
            ));
        }
        let exc = summed_input(&exc_in);
        let holds = 65535.0 * 2f64.powi(s as i32 - 15);
        if exc > holds {
            notes.push(format!(
                "population `{}`: the script fixes its excitatory weight shift at {s} (its learning projections', max_expected_summed_weight), where sPyNNaker's ring buffer holds up to {} nA a step; its inputs can sum to {} nA in one step, and coinciding spikes past that saturate on the board (sPyNNaker counts them in its provenance), not in nerve",
                pop.name,
                num(holds),
                num(exc)
            ));
        }
        out[post.index()] = Some([2f64.powi(s as i32 - 1), summed_input(&receptor_inputs(net, prep, o, post, Receptor::Inhibitory))]);
    }
    out
}

fn spynnaker_weight_steps(net: &Network, prep: &Prepared, o: &Options, pinned: &[Option<[f64; 2]>], notes: &mut Vec<String>) {
    for (post, pop) in net.pops() {
        if pop.model.neuron_model().is_none() {
            continue;
        }
        for (r, receptor) in [Receptor::Excitatory, Receptor::Inhibitory].into_iter().enumerate() {
            let projs = receptor_inputs(net, prep, o, post, receptor);
            let biggest = projs.iter().flat_map(|(_, w, _)| w.iter().copied()).fold(0.0f64, f64::max);
            if biggest == 0.0 {
                continue;
            }
            let big_label = projs.iter().find(|(_, w, _)| w.contains(&biggest)).map_or(String::new(), |(l, ..)| l.clone());
            let summed = summed_input(&projs);
            let fixed = pinned[post.index()].map(|v| spynnaker_step(v[r]));
            let (lo, hi) = match fixed {
                Some(step) => (step, step),
                None => (spynnaker_step(biggest), spynnaker_step(summed.max(biggest))),
            };
            for (label, w, _) in &projs {
                let zero: Vec<f64> = w.iter().copied().filter(|&x| x > 0.0 && x < hi / 2.0).collect();
                let smallest = w.iter().copied().filter(|&x| x >= hi / 2.0).fold(f64::INFINITY, f64::min);
                let coarse = smallest.is_finite() && hi / 2.0 > 0.01 * smallest;
                if zero.is_empty() && !coarse {
                    continue;
                }
                let mut said = Vec::new();
                if !zero.is_empty() {
                    let sure = zero.iter().filter(|&&x| x < lo / 2.0).count();
                    said.push(format!(
                        "{} weights below half a step become 0 (e.g. {} nA; {sure} of them below {:.3e} nA, half the smallest step, surely)",
                        zero.len(),
                        num(zero.iter().copied().fold(f64::INFINITY, f64::min)),
                        lo / 2.0
                    ));
                }
                if coarse {
                    said.push(format!("weight {} nA is held to within ±{:.3e} nA only ({:.1}%)", num(smallest), hi / 2.0, 50.0 * hi / smallest));
                }
                let step = match fixed {
                    Some(step) => format!("{step:.3e} nA (the shift the script fixes for its learning projections)"),
                    None => format!(
                        "at least {:.3e} nA (from the largest weight, {} nA of {big_label}) and up to {:.3e} nA (from the summed fan-in, {:.4} nA; its rule where all delays onto the receptor are equal)",
                        lo,
                        num(biggest),
                        hi,
                        summed
                    ),
                };
                notes.push(format!(
                    "projection {label}: sPyNNaker rounds the weights onto `{}`'s {} receptor to one step per core, {step}: {}",
                    pop.name,
                    receptor.name(),
                    said.join("; ")
                ));
            }
        }
    }
}

/// NEST's tics per ms for a timestep that is not a whole number of its
/// default tics (1,000 per ms): the fewest (a multiple of 1,000) of which
/// `dt` is a whole number; `None` where the default does.
fn nest_tics(dt: f64) -> Result<Option<u64>> {
    const MOST: u64 = 10_000_000;
    let whole = |t: u64| {
        let x = dt * t as f64;
        x >= 0.5 && (x - x.round()).abs() <= 1e-9 * x
    };
    if whole(1000) {
        return Ok(None);
    }
    match (2..=MOST / 1000).map(|k| k * 1000).find(|&t| whole(t)) {
        Some(t) => Ok(Some(t)),
        None => Err(refuse(
            TARGET,
            "the timestep",
            format!("dt {} ms is not a whole number of NEST's tics for any tics_per_ms up to {MOST} (NEST's resolution must be one)", num(dt)),
        )),
    }
}

/// Refuses an initial synaptic current other than 0 for NEST: the cell
/// PyNN makes of `IF_curr_exp` with on-grid spikes (`iaf_psc_exp`) takes no
/// initial `I_syn_ex` / `I_syn_in` (NEST 3.10 refuses the key; PyNN 0.13 only
/// logs a warning and runs from 0). sPyNNaker takes them, in nA.
fn nest_initial_currents(net: &Network) -> Result<()> {
    for (_, pop) in net.pops() {
        let Model::Neuron(nm) = &pop.model else { continue };
        let Some(m) = nm.model.pynn() else { continue };
        for (pynn_name, var) in m.state {
            let Some(spec) = nm.model.state().iter().find(|s| s.name == *var) else { continue };
            if spec.unit != "nA" || !pop.initial.iter().any(|(k, _)| k == var) {
                continue;
            }
            let v = nm.params.initial(pop, spec);
            if let Some((i, x)) = v.iter().enumerate().find(|(_, x)| **x != 0.0) {
                return Err(refuse(
                    TARGET,
                    format!("population `{}`", pop.name),
                    format!(
                        "initial {var} {} nA (neuron {i}): NEST's {} (PyNN's {} with on-grid spikes) takes no initial synaptic current ({pynn_name} is left at 0 with only a warning); export for sPyNNaker, or start it at 0",
                        num(*x),
                        if m.cell == "IF_curr_exp" { "iaf_psc_exp" } else { m.cell },
                        m.cell
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Refuses a reset at or above the threshold for NEST, whose iaf_psc_exp
/// refuses it ("Reset potential must be smaller than threshold"), so the
/// script failed as it set the parameters. nerve runs such a cell (it fires
/// every step it is not refractory), and so does sPyNNaker.
fn nest_reset_below_threshold(net: &Network) -> Result<()> {
    for (_, pop) in net.pops() {
        let Model::Neuron(nm) = &pop.model else { continue };
        if nm.model.pynn().is_none_or(|m| m.cell != "IF_curr_exp") {
            continue;
        }
        let (reset, thresh) = (nm.params.get("v_reset"), nm.params.get("v_thresh"));
        if let Some(i) = (0..pop.size as usize).find(|&i| reset.get(i) >= thresh.get(i)) {
            return Err(refuse(
                TARGET,
                format!("population `{}`", pop.name),
                format!(
                    "v_reset {} mV is not below v_thresh {} mV{}: NEST's iaf_psc_exp refuses it (\"Reset potential must be smaller than threshold\"); export for sPyNNaker, or reset below the threshold",
                    num(reset.get(i)),
                    num(thresh.get(i)),
                    if reset.is_uniform() && thresh.is_uniform() { String::new() } else { format!(" (neuron {i})") }
                ),
            ));
        }
    }
    Ok(())
}

/// A learning projection's rule, if PyNN can say it: pair STDP as
/// `STDPMechanism`; a Loihi rule or a third factor has no PyNN synapse type.
fn stdp_of<'a>(pl: &'a Plasticity, p: &Projection, backend: Backend) -> Result<&'a StdpPlasticity> {
    let culprit = || format!("projection {}", p.label);
    let st = match pl {
        Plasticity::Stdp(st) => st,
        Plasticity::Loihi(_) => {
            return Err(refuse(
                TARGET,
                culprit(),
                "a Loihi learning rule: PyNN has no synapse type for it (export to lava, or save the learned network with `nerve run --save-network` and export that)",
            ))
        }
    };
    if st.reward.is_some() {
        return Err(refuse(
            TARGET,
            culprit(),
            "reward-modulated STDP (a third factor): PyNN's STDPMechanism has none (save the learned network with `nerve run --save-network` and export that)",
        ));
    }
    if p.receptor == Receptor::Inhibitory {
        return Err(refuse(TARGET, culprit(), "STDP on the inhibitory receptor: PyNN's STDPMechanism learns weights ≥ 0 (PyNN's inhibitory weights are ≤ 0)"));
    }
    if backend == Backend::Nest && st.w_min != 0.0 {
        return Err(refuse(TARGET, culprit(), format!("w_min {}: NEST's stdp_synapse has no lower bound but 0 (PyNN on NEST requires w_min = 0)", st.w_min)));
    }
    // PyNN hands NEST A_plus as lambda and A_minus as alpha = A_minus / A_plus,
    // and stdp_synapse depresses by alpha·lambda: with A_plus 0 it cannot
    // depress at all (a depression-only rule ran unchanged on NEST 3.10).
    if backend == Backend::Nest && st.a_plus == 0.0 {
        return Err(refuse(
            TARGET,
            culprit(),
            format!(
                "A_plus 0 with A_minus {}: NEST's stdp_synapse scales depression by A_plus (PyNN's lambda), so it would not learn at all (use --backend spinnaker, or a small A_plus)",
                st.a_minus
            ),
        ));
    }
    if backend == Backend::Nest && !st.multiplicative && st.w_max <= 0.0 {
        return Err(refuse(TARGET, culprit(), format!("w_max {}: NEST's additive STDP scales its steps by w_max, which must be > 0", st.w_max)));
    }
    Ok(st)
}

/// `STDPMechanism`'s rule arguments (weights times `scale`, PyNN's units).
/// sPyNNaker's additive steps are weights (nerve computes as it does);
/// NEST's stdp_synapse makes them fractions of w_max, so they are divided
/// by it there.
fn stdp_args(st: &StdpPlasticity, scale: f64, backend: Backend) -> String {
    let per = if backend == Backend::Nest && !st.multiplicative { 1.0 / (st.w_max * scale) } else { 1.0 };
    let (a_plus, a_minus) = if st.multiplicative { (st.a_plus, st.a_minus) } else { (st.a_plus * scale * per, st.a_minus * scale * per) };
    format!(
        "timing_dependence=sim.SpikePairRule(tau_plus={}, tau_minus={}, A_plus={}, A_minus={}), weight_dependence=sim.{}WeightDependence(w_min={}, w_max={})",
        py_float(st.tau_plus),
        py_float(st.tau_minus),
        py_float(a_plus),
        py_float(a_minus),
        if st.multiplicative { "Multiplicative" } else { "Additive" },
        py_float(st.w_min * scale),
        py_float(st.w_max * scale)
    )
}

/// A projection's weight (as `value` gives it) and delay where all its
/// synapses share them.
fn uniform(sy: &Synapses, value: &dyn Fn(f64) -> f64) -> (Option<f64>, Option<u16>) {
    if sy.is_empty() {
        return (None, None);
    }
    let w = match &sy.weights {
        Weights::Uniform(w) => Some(value(*w)),
        Weights::PerSynapse(v) => {
            let w0 = value(v[0]);
            v.iter().all(|&w| value(w) == w0).then_some(w0)
        }
    };
    let d = match &sy.delays {
        Delays::Uniform(d) => Some(*d),
        Delays::PerSynapse(v) => v.iter().all(|&d| d == v[0]).then_some(v[0]),
    };
    (w, d)
}

/// Synapses an all-to-all connector makes (so that one with a zero weight
/// dropped, or otherwise changed, is written out in full instead).
fn expected_all(net: &Network, pre: PopIx, post: PopIx, self_conn: bool) -> u64 {
    let (a, b) = (net.pop(pre).size as u64, net.pop(post).size as u64);
    if pre == post && !self_conn {
        a * (b - 1)
    } else {
        a * b
    }
}

/// The data files of a script, and how much more it may hold inline.
struct Bulk {
    files: Vec<(String, Vec<u8>)>,
    inline_left: usize,
}

impl Bulk {
    /// Whether a list of `n` items goes into the script (and takes its room).
    fn inline(&mut self, n: usize) -> bool {
        let ok = n <= INLINE && n <= self.inline_left;
        if ok {
            self.inline_left -= n;
        }
        ok
    }
}

/// A source's spike times (sorted per neuron) as the script writes them.
///
/// A spike at step `steps` or later is dropped on both backends: nerve's run
/// of `steps` steps never has it, and NEST emitted one at exactly the run's
/// end (a spike at 5 ms in a 5 ms run). The export counts them.
///
/// PyNN on NEST feeds a spike source through a parrot neuron one min_delay
/// (one step) late, so NEST cannot emit a source spike before step 2 (it
/// drops one at 0 ms and refuses one at dt). A neuron's spikes at steps 0 and
/// 1 move, in order, to steps 2, 3, ... while these come before its next
/// spike (a neuron spikes once a step) and the run's end; the ones with no
/// such step left are dropped. The export says how many of which neurons
/// moved where and which were dropped.
fn source_spikes(backend: Backend, pop: &str, mut times: Vec<Vec<f64>>, dt: f64, steps: u32, notes: &mut Vec<String>) -> Vec<Vec<f64>> {
    let step = |x: f64| nerve_isa::time::steps_of(x, dt) as u64;
    let ms = |k: u64| format!("{} ms", py_time(k as f64 * dt));
    let mut n_late = 0usize;
    for ts in &mut times {
        let before = ts.len();
        ts.retain(|&x| step(x) < steps as u64);
        n_late += before - ts.len();
    }
    let late = (n_late > 0)
        .then(|| format!("{n_late} source spikes at or after {}, the run's end (step {steps}), dropped: nerve's run never reaches them", ms(steps as u64)));
    if backend != Backend::Nest {
        if let Some(late) = late {
            notes.push(format!("`{pop}`: {late}"));
        }
        return times;
    }
    let (mut moved, mut dropped) = (Vec::new(), Vec::new());
    let (mut n_moved, mut n_dropped) = (0usize, 0usize);
    for (i, ts) in times.iter_mut().enumerate() {
        let n = ts.iter().take_while(|&&x| step(x) < 2).count();
        if n == 0 {
            continue;
        }
        let mut early: Vec<u64> = ts[..n].iter().map(|&x| step(x)).collect();
        early.dedup();
        let limit = ts.get(n).map_or(steps as u64, |&x| step(x));
        let mut next = 2u64;
        let (mut to, mut gone) = (Vec::new(), Vec::new());
        for k in early {
            if next < limit {
                to.push((k, next));
                next += 1;
            } else {
                gone.push(k);
            }
        }
        ts.splice(..n, to.iter().map(|&(_, k)| k as f64 * dt));
        n_moved += to.len();
        n_dropped += gone.len();
        if !to.is_empty() {
            moved.push(format!("{i} ({})", to.iter().map(|&(a, b)| format!("{} -> {}", ms(a), ms(b))).collect::<Vec<_>>().join(", ")));
        }
        if !gone.is_empty() {
            dropped.push(format!("{i} ({})", gone.iter().map(|&k| ms(k)).collect::<Vec<_>>().join(", ")));
        }
    }
    let list = |mut v: Vec<String>| {
        let more = if v.len() > 8 { format!(" and {} more", v.len() - 8) } else { String::new() };
        v.truncate(8);
        format!("{}{more}", v.join(", "))
    };
    let mut said = Vec::new();
    if n_moved > 0 {
        said.push(format!("{n_moved} moved later, in order, to the free steps before each neuron's next spike: neurons {}", list(moved)));
    }
    if n_dropped > 0 {
        said.push(format!("{n_dropped} dropped, no free step left from {} to the neuron's next spike or the run's end: neurons {}", ms(2), list(dropped)));
    }
    let mut parts = Vec::new();
    if !said.is_empty() {
        parts.push(format!(
            "{} source spikes before {}, the first time PyNN on NEST can emit one (it passes them through parrot neurons one min_delay late): {}",
            n_moved + n_dropped,
            ms(2),
            said.join("; ")
        ));
    }
    parts.extend(late);
    if !parts.is_empty() {
        notes.push(format!("`{pop}`: {}", parts.join("; and ")));
    }
    let tics = nest_tics(dt).ok().flatten().unwrap_or(1000);
    for ts in &mut times {
        for x in ts.iter_mut() {
            *x = nest_time(*x, dt, tics);
        }
    }
    times
}

/// A source spike's time at step k as PyNN on NEST needs it to stay on that
/// step: PyNN subtracts min_delay (DT) in floating point and NEST puts a
/// difference above step k − 1's exact time (a whole number of its tics),
/// by any rounding, on the next step (4.4 − 0.1 is 4.300000000000001,
/// emitted at 4.5 by NEST 3.10, as every 0.5 ms from 64.4 to 76.4 at dt
/// 0.1; at dt 1/30 ms, 195 of 1,498). The time itself, or the nearest below
/// it (a few ulps) whose difference is at most that exact time: measured on
/// NEST 3.10 over steps 2..400 and 7 times around each at dt 0.1 and 1/30,
/// every time this takes lands on its step. `tics`: NEST's tics per ms.
/// Written in full ([`spike_lists`]: 4.3999999999999995).
fn nest_time(x: f64, dt: f64, tics: u64) -> f64 {
    let k = nerve_isa::time::steps_of(x, dt);
    let t = tics as f64;
    // Step k − 1's time in tics, a whole number.
    let n = (k - 1.0) * (dt * t).round();
    // (v − DT)·tics ≤ n, exactly: the product's rounding error from an FMA.
    let at_most = |v: f64| {
        let d = v - dt;
        let p = d * t;
        (p - n) + d.mul_add(t, -p) <= 0.0
    };
    let mut v = x;
    for _ in 0..64 {
        if at_most(v) {
            return v;
        }
        if !(v > 0.0 && v.is_finite()) {
            break;
        }
        // The next double below a positive one (f64::next_down: Rust 1.86, past the MSRV).
        v = f64::from_bits(v.to_bits() - 1);
    }
    x
}

/// `sim.SpikeSourceArray` for spike times per neuron: inline, or from an NPY
/// file of (neuron, time) rows for many spikes.
fn source_array(times: &[Vec<f64>], backend: Backend, data: &mut Bulk) -> String {
    let total: usize = times.iter().map(|t| t.len()).sum();
    // sPyNNaker 7.4 fails on a list of empty lists (IndexError: its spike
    // density check takes the commonest of no spike times); one empty list
    // for all neurons is the same source, and maps.
    if total == 0 && backend == Backend::Spinnaker {
        return "sim.SpikeSourceArray(spike_times=[])".to_string();
    }
    if data.inline(total) {
        return format!("sim.SpikeSourceArray(spike_times={})", spike_lists(times, backend));
    }
    let file = format!("spikes_{}.npy", data.files.len());
    let flat: Vec<f64> = times.iter().enumerate().flat_map(|(i, ts)| ts.iter().flat_map(move |&x| [i as f64, x])).collect();
    data.files.push((file.clone(), npy::f64_2d(total, 2, &flat)));
    // Rows come neuron by neuron: split them at each neuron's first row.
    format!(
        "sim.SpikeSourceArray(spike_times=(lambda a: [x.tolist() for x in np.split(a[:, 1], np.searchsorted(a[:, 0], np.arange(1, {})))])(data({})))",
        times.len(),
        py_str(&file)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The times NEST 3.10 put on the next step (PyNN's t − DT past the
    /// grid), and ones it did not, measured there; each chosen time's
    /// difference is at most its step's exact time.
    #[test]
    fn nest_times_stay_on_their_step() {
        let dt = 0.1;
        assert_eq!(nest_time(44.0 * dt, dt, 1000), 4.3999999999999995); // 4.4 − 0.1 = 4.300000000000001
        assert_eq!(nest_time(734.0 * dt, dt, 1000), 73.39999999999999);
        assert_eq!(nest_time(500.0 * dt, dt, 1000), 50.0); // 49.9: on its step as written
        let dt = 1.0 / 30.0;
        assert_eq!(nest_time(74.0 * dt, dt, 3000), 2.4666666666666663); // 2.466666666666667 went to step 75
        assert_eq!(nest_time(36.0 * dt, dt, 3000), 36.0 * dt); // 1.2 − dt: on its step
        for (dt, tics) in [(0.1, 1000u64), (1.0 / 30.0, 3000), (0.025, 1000)] {
            for k in 2..5000u32 {
                let x = k as f64 * dt;
                let v = nest_time(x, dt, tics);
                assert!(v <= x && x - v < 8.0 * f64::EPSILON * x, "dt {dt} step {k}: {v} for {x}");
                assert_eq!(nerve_isa::time::steps_of(v, dt), k as f64, "dt {dt} step {k}");
            }
        }
    }
}
