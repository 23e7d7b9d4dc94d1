//! A network as a lava-nc 0.10 script for Loihi 2 (`Loihi2SimCfg(select_tag=
//! "fixed_pt")`, the bit-accurate CPU models), whose spikes are bit-identical
//! with nerve's emulation on the loihi profile: `LIF` processes with the
//! populations' integers, `Dense`/`Sparse` (`DelayDense`/`DelaySparse` where
//! delays are longer than one step) with the projections' integer weights,
//! `weight_exp`, `num_weight_bits` and `sign_mode` (lava truncates them as
//! nerve does), spike sources as `RingBuffer` sources replaying exactly
//! nerve's source spikes, and a `RingBuffer` sink per population. The script
//! writes its spikes in nerve's CSV format: lava's step t (1-based) is nerve's
//! step t − 1, at time (t − 1)·dt.
//!
//! Only models that are lava's `LIF` bit for bit export (`loihi_lif` without
//! nengo-loihi's refractory period); anything else is an error naming the
//! population.

use std::fmt::Write as _;

use super::{check_projection, npy, py_float, py_str, refuse, synapses, Syn, WeightMode};
use crate::compile::Prepared;
use crate::error::Result;
use crate::models::MODELS;
use crate::net::model::*;

const TARGET: &str = "lava";

/// Longest delay, timesteps: DelayDense's delay d − 1 of at most 63 (lava
/// hangs at 64 and more).
pub const MAX_DELAY: u16 = 64;

/// Most matrix entries or source steps written into the script itself.
pub const INLINE: usize = 20_000;

#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Steps the script runs by default (`None`: the network's duration, else 1,000 ms).
    pub steps: Option<u32>,
    /// External spikes for input populations: (population, neuron, time in ms).
    pub inputs: Vec<(String, u32, f64)>,
}

/// An exported script and the data files it reads (relative to `data_dir`).
pub use super::pynn::Script;

/// The models the target represents (`--list`).
pub fn models() -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> =
        MODELS.iter().filter(|m| m.integer_weights()).map(|m| (format!("{} (without `refractory`)", m.name()), "lava.proc.lif.process.LIF".into())).collect();
    v.push(("spike_source_array, spike_source_poisson, input".into(), "RingBuffer source replaying nerve's spikes".into()));
    v
}

/// A Loihi rule as lava's `Loihi2FLearningRule` (every argument given:
/// lava draws a random seed when none is).
fn loihi_rule(r: &LoihiPlasticity) -> String {
    let s = |x: &Option<String>| x.as_deref().map_or("None".to_string(), py_str);
    let mut args = vec![format!("dw={}", s(&r.dw)), format!("dd={}", s(&r.dd)), format!("dt={}", s(&r.dt))];
    for (k, name) in ["x1", "x2", "y1", "y2", "y3"].iter().enumerate() {
        args.push(format!("{name}_impulse={}, {name}_tau={}", py_float(r.impulse[k]), py_float(r.tau[k])));
    }
    args.push(format!("t_epoch={}, rng_seed={}", r.t_epoch, r.rng_seed));
    format!("Loihi2FLearningRule({})", args.join(", "))
}

/// Exports `net` (prepared for the loihi profile as `prep`).
pub fn export(net: &Network, prep: &Prepared, o: &Options, data_dir: &str) -> Result<Script> {
    super::no_electrical(TARGET, net)?;
    let dt = net.dt_ms;
    let steps = o.steps.unwrap_or_else(|| nerve_isa::time::steps_of(net.duration_ms.unwrap_or(1000.0), dt).max(1.0) as u32);
    if steps == 0 {
        return Err(refuse(TARGET, "the run", "0 steps"));
    }
    super::check_poisson_volume(TARGET, net, steps, "export fewer `--steps`")?;
    for (_, pop) in net.pops() {
        if let Model::Neuron(n) = &pop.model {
            if !n.model.lava_lif(&n.params) {
                return Err(refuse(
                    TARGET,
                    format!("population `{}` ({})", pop.name, n.label()),
                    "lava's LIF computes this model differently; only loihi_lif without `refractory` exports bit for bit",
                ));
            }
        }
    }
    super::check_inputs(TARGET, net, &o.inputs)?;
    let mut projs: Vec<(ProjIx, PopIx, PopIx, Vec<Syn>)> = Vec::new();
    let mut floors: Vec<String> = Vec::new();
    for (e, pre, post, p) in net.projections() {
        check_projection(TARGET, net, e, prep)?;
        let syn = synapses(e, prep, WeightMode::Original)?;
        let mut seen = std::collections::BTreeSet::new();
        for s in &syn {
            if s.delay > MAX_DELAY {
                return Err(refuse(
                    TARGET,
                    format!("projection {}", p.label),
                    format!("delay of {} timesteps exceeds lava's {MAX_DELAY} (DelayDense delays 0-63 after Dense's one step)", s.delay),
                ));
            }
            if !seen.insert((s.post, s.pre)) {
                return Err(refuse(
                    TARGET,
                    format!("projection {}", p.label),
                    format!("two synapses from neuron {} to neuron {}; lava's weight matrix holds one", s.pre, s.post),
                ));
            }
            if s.weight.fract() != 0.0 {
                return Err(refuse(TARGET, format!("projection {}", p.label), format!("weight {} is not an integer", s.weight)));
            }
        }
        // Lava's DelayDense floors each delay's sum apart (weight_exp < 0),
        // nerve the projection's at its arrival step: 66 and 70 arriving
        // together through delays 17 and 2 at weight_exp −3 are 17 on nerve,
        // 8 + 8 on lava, and the spike that followed on nerve did not on lava.
        // Exported (where no two delays' spikes meet, as in the validation
        // networks, the spikes agree bit for bit), and said.
        if p.loihi.weight_exp < 0 {
            let delays: std::collections::BTreeSet<u32> = syn.iter().map(|s| s.delay as u32).collect();
            if delays.len() > 1 {
                floors.push(format!(
                    "projection {}: weight_exp {} with synapses of {} delays ({}): lava floors each delay's sum apart, nerve the projection's, so in a step where spikes arrive through two delays at once the input can differ by the floors and the spikes with it (give the projection one delay, or split it by delay, for bit-exactness whatever the spikes)",
                    p.label,
                    p.loihi.weight_exp,
                    delays.len(),
                    delays.iter().take(6).map(|d| d.to_string()).collect::<Vec<_>>().join(", ") + if delays.len() > 6 { ", …" } else { "" }
                ));
            }
        }
        if let Some(pl) = &p.plasticity {
            let culprit = || format!("projection {}", p.label);
            match &**pl {
                Plasticity::Stdp(_) => {
                    return Err(refuse(
                        TARGET,
                        culprit(),
                        "pair STDP (PyNN's STDPMechanism, SpiNNaker's rule) has no lava synapse (export to pynn, or write it as a Loihi rule, e.g. lava's STDPLoihi strings)",
                    ))
                }
                Plasticity::Loihi(r) if r.reward.is_some() => {
                    return Err(refuse(TARGET, culprit(), "a third-factor rule (loihi3f): lava 0.10 ships no fixed-point neuron that drives LearningDense's third-factor ports"))
                }
                Plasticity::Loihi(_) => {}
            }
            if let Some(s) = syn.iter().find(|s| s.delay != 1) {
                return Err(refuse(
                    TARGET,
                    culprit(),
                    format!("a learning projection with a delay of {} timesteps: lava's LearningDense has one-step synapses only", s.delay),
                ));
            }
            let (npre, npost) = (net.pop(pre).size as u64, net.pop(post).size as u64);
            if (syn.len() as u64) < npre * npost {
                return Err(refuse(
                    TARGET,
                    culprit(),
                    format!(
                        "{} of {} possible synapses: lava's LearningDense learns every entry of its matrix, absent synapses too (connect all to all, with weight 0 where there is none)",
                        syn.len(),
                        npre * npost
                    ),
                ));
            }
        }
        projs.push((e, pre, post, syn));
    }

    let mut data: Vec<(String, Vec<u8>)> = Vec::new();
    let mut notes: Vec<String> = floors;
    let mut t = String::new();
    let _ = writeln!(t, "#!/usr/bin/env python3");
    let _ = write!(
        t,
        "\"\"\"{}: a lava-nc script exported by nerve (Loihi 2, bit-accurate fixed_pt models).\n\nRuns the network and writes its spikes in nerve's CSV format (population,neuron,time\nin ms; lava's step t is nerve's step t - 1), to compare with `nerve run --record`.\n\n    python ",
        super::py_escape(&net.name)
    );
    let script_at = Some(t.len());
    t.push_str(" [--steps N] [--out FILE]\n\"\"\"\n");
    t.push_str(
        r#"import argparse
import csv
import os

import numpy as np
import scipy.sparse as sps
from lava.magma.core.run_conditions import RunSteps
from lava.magma.core.run_configs import Loihi2SimCfg
from lava.magma.core.learning.learning_rule import Loihi2FLearningRule
from lava.proc.dense.process import DelayDense, Dense, LearningDense
from lava.proc.io.sink import RingBuffer as Sink
from lava.proc.io.source import RingBuffer as Source
from lava.proc.lif.process import LIF
from lava.proc.sparse.process import DelaySparse, Sparse
from lava.utils.weightutils import SignMode

"#,
    );
    let _ = writeln!(t, "DT = {}  # ms", py_float(dt));
    let _ = writeln!(t, "STEPS = {steps}  # the default run; spike sources cover this many steps");
    let _ = writeln!(t, "DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), {})", py_str(data_dir));
    let template = String::from(concat!(
        r#"
ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--steps", type=int, default=STEPS, help="timesteps to run (default %(default)s)")
ap.add_argument("--out", default="spikes.csv", help="spike file to write (default %(default)s)")
ap.add_argument("--weights", default="weights.csv", help="learned weights to write, if the network learns (default %(default)s)")
args = ap.parse_args()
if args.steps > STEPS and HAS_SOURCES:
    ap.error(f"the exported spike sources cover {STEPS} steps; export again with more --steps")
T = args.steps


def data(name):
    return np.load(os.path.join(DATA, name))


"#,
        super::py_fmt_time!(),
        r#"

def source(n, spikes):
    """A source replaying spikes given as (neuron, lava step) pairs."""
    s = np.zeros((n, max(T, STEPS)), dtype=np.int32)
    for i, k in spikes:
        if k <= s.shape[1]:
            s[i, k - 1] = 1
    return Source(data=s[:, :T])

"#
    ));
    let has_sources = net.pops().any(|(_, p)| p.model.is_source());
    // On the template only: the docstring holds the network's name.
    t.push_str(&template.replace("HAS_SOURCES", if has_sources { "True" } else { "False" }));
    t.push_str("procs = {}\nsinks = {}\nlearning = {}  # label -> LearningDense\n");
    let int_list = |v: &[i64]| -> String {
        match v.first() {
            Some(&x) if v.iter().all(|&y| y == x) => x.to_string(),
            _ => format!("np.array([{}])", v.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(", ")),
        }
    };
    let any_marked = net.pops().any(|(_, p)| p.record_spikes);
    let mut recorded = Vec::new();
    for (_, pop) in net.pops() {
        let n = pop.size as usize;
        let name = py_str(&pop.name);
        // Source spikes as (neuron, lava step): nerve's step s is lava's s + 1.
        let source_spikes: Option<Vec<(u32, u64)>> = match &pop.model {
            Model::Neuron(nm) => {
                let ints = |k: &str| -> Vec<i64> { nm.params.get(k).iter(n).map(|x| x as i64).collect() };
                let state = |k: &str| -> Vec<i64> {
                    // invariant: the check at the top of `export` refused every neuron model but loihi_lif (lava_lif), whose state is u and v
                    let spec = nm.model.state().iter().find(|s| s.name == k).expect("loihi_lif has u and v");
                    nm.params.initial(pop, spec).iter().map(|&x| x as i64).collect()
                };
                let _ = writeln!(
                    t,
                    "procs[{name}] = LIF(shape=({n},), du={}, dv={}, vth={}, bias_mant={}, bias_exp={}, u={}, v={}, name={name})",
                    int_list(&ints("du")),
                    int_list(&ints("dv")),
                    int_list(&ints("vth")),
                    int_list(&ints("bias_mant")),
                    int_list(&ints("bias_exp")),
                    int_list(&state("u")),
                    int_list(&state("v")),
                );
                None
            }
            Model::SpikeSourceArray(times) => {
                Some(times.iter().enumerate().flat_map(|(i, ts)| ts.iter().map(move |&x| (i as u32, nerve_isa::time::steps_of(x, dt) as u64 + 1))).collect())
            }
            Model::SpikeSourcePoisson { rate, seed } => Some(
                crate::models::poisson::spike_steps(pop, rate, *seed, dt, steps)
                    .iter()
                    .enumerate()
                    .flat_map(|(i, s)| s.iter().map(move |&k| (i as u32, u64::from(k) + 1)))
                    .collect(),
            ),
            Model::Input => {
                Some(o.inputs.iter().filter(|(p, _, _)| *p == pop.name).map(|(_, i, tm)| (*i, nerve_isa::time::steps_of(*tm, dt) as u64 + 1)).collect())
            }
        };
        if let Some(mut sp) = source_spikes {
            sp.sort_unstable();
            sp.dedup();
            // (Step k + 1 for step k, in u64: step 2^32 − 1 is a spike array's
            // last.) Past the run: never emitted, and said, as
            // `export pynn` says it.
            let before = sp.len();
            sp.retain(|&(_, k)| k <= u64::from(steps));
            if sp.len() < before {
                notes.push(format!(
                    "`{}`: {} source spikes at or after {} ms, the run's end (step {steps}), dropped: nerve's run never reaches them",
                    pop.name,
                    before - sp.len(),
                    nerve_isa::num(nerve_isa::significant12(steps as f64 * dt))
                ));
            }
            let list = if sp.len() <= INLINE {
                format!("[{}]", sp.iter().map(|(i, k)| format!("({i}, {k})")).collect::<Vec<_>>().join(", "))
            } else {
                let file = format!("source{}.npy", data.len());
                let flat: Vec<i64> = sp.iter().flat_map(|&(i, k)| [i as i64, k as i64]).collect();
                data.push((file.clone(), npy::i64_2d(sp.len(), 2, &flat)));
                format!("data({}).tolist()", py_str(&file))
            };
            let _ = writeln!(t, "procs[{name}] = source({n}, {list})");
        }
        let _ = writeln!(t, "sinks[{name}] = Sink(shape=({n},), buffer=T)\nprocs[{name}].s_out.connect(sinks[{name}].a_in)");
        if !any_marked || pop.record_spikes {
            recorded.push(pop.name.clone());
        }
    }
    t.push('\n');
    let mut learning: Vec<(String, usize, usize)> = Vec::new(); // label, projection, pre population
    for (e, pre, post, syn) in &projs {
        let p = &net.graph[*e];
        let (npre, npost) = (net.pop(*pre).size as usize, net.pop(*post).size as usize);
        let delayed = syn.iter().any(|s| s.delay != 1);
        let rule = match p.plasticity.as_deref() {
            Some(Plasticity::Loihi(r)) => Some(r),
            _ => None,
        };
        let dense = syn.len() * 4 >= npre * npost || rule.is_some();
        let kw = format!(
            "weight_exp={}, num_weight_bits={}, sign_mode={}, name={}",
            p.loihi.weight_exp,
            p.loihi.num_weight_bits,
            match p.sign_mode() {
                SignMode::Mixed => "SignMode.MIXED",
                SignMode::Excitatory => "SignMode.EXCITATORY",
                SignMode::Inhibitory => "SignMode.INHIBITORY",
            },
            py_str(&p.label)
        );
        let proc = if dense {
            let mut w = vec![0i64; npre * npost];
            let mut d = vec![0i64; npre * npost];
            for s in syn {
                w[s.post as usize * npre + s.pre as usize] = s.weight as i64;
                d[s.post as usize * npre + s.pre as usize] = s.delay as i64 - 1;
            }
            let wm = matrix(&mut data, &format!("w{}", e.index()), npost, npre, &w);
            if let Some(r) = rule {
                learning.push((p.label.clone(), e.index(), pre.index()));
                format!("LearningDense(weights={wm}, learning_rule={}, {kw})", loihi_rule(r))
            } else if delayed {
                let dm = matrix(&mut data, &format!("d{}", e.index()), npost, npre, &d);
                format!("DelayDense(weights={wm}, delays={dm}, {kw})")
            } else {
                format!("Dense(weights={wm}, {kw})")
            }
        } else {
            let rows: Vec<i64> = syn.iter().map(|s| s.post as i64).collect();
            let cols: Vec<i64> = syn.iter().map(|s| s.pre as i64).collect();
            let ws: Vec<i64> = syn.iter().map(|s| s.weight as i64).collect();
            let ds: Vec<i64> = syn.iter().map(|s| s.delay as i64 - 1).collect();
            let csr = |vals: &[i64], tag: &str, data: &mut Vec<(String, Vec<u8>)>| -> String {
                let v = vector(data, &format!("{tag}{}", e.index()), vals);
                let r = vector(data, &format!("r{tag}{}", e.index()), &rows);
                let c = vector(data, &format!("c{tag}{}", e.index()), &cols);
                format!("sps.csr_matrix(({v}, ({r}, {c})), shape=({npost}, {npre}))")
            };
            let wm = csr(&ws, "w", &mut data);
            if delayed {
                let dm = csr(&ds, "d", &mut data);
                format!("DelaySparse(weights={wm}, delays={dm}, {kw})")
            } else {
                format!("Sparse(weights={wm}, {kw})")
            }
        };
        let _ = writeln!(t, "c = {proc}");
        let _ = writeln!(t, "procs[{}].s_out.connect(c.s_in)\nc.a_out.connect(procs[{}].a_in)", py_str(&net.pop(*pre).name), py_str(&net.pop(*post).name));
        if rule.is_some() {
            // The post neurons' spikes drive the rule's post traces (lava's back-propagating action potential).
            let _ = writeln!(t, "procs[{}].s_out.connect(c.s_in_bap)\nlearning[{}] = c", py_str(&net.pop(*post).name), py_str(&p.label));
        }
    }
    if !learning.is_empty() {
        let _ = writeln!(
            t,
            "# Learning projections: (label, index among the network's projections).\nLEARNING = [{}]",
            learning.iter().map(|(l, i, _)| format!("({}, {i})", py_str(l))).collect::<Vec<_>>().join(", ")
        );
    }
    if learning.is_empty() {
        t.push_str("LEARNING = []\n");
    }
    t.push_str(&super::py_recorded(net, &recorded));
    // Lava runs the processes connected to the one it is asked to run: one run per component.
    let mut comp: Vec<usize> = (0..net.num_pops()).collect();
    fn root(c: &mut [usize], mut i: usize) -> usize {
        while c[i] != i {
            c[i] = c[c[i]];
            i = c[i];
        }
        i
    }
    for (_, pre, post, _) in net.projections() {
        let (a, b) = (root(&mut comp, pre.index()), root(&mut comp, post.index()));
        comp[a.max(b)] = a.min(b);
    }
    // Each part's own recorded populations and learning projections: lava
    // answers a read of a process outside the part it ran with the process's
    // initial buffer, not an error, so a part may read only its own.
    let mut parts: Vec<(usize, Vec<String>, Vec<String>)> = Vec::new();
    for i in 0..net.num_pops() {
        if root(&mut comp, i) == i {
            parts.push((i, Vec::new(), Vec::new()));
        }
    }
    let mut part_of = |pop: usize| {
        let r = root(&mut comp, pop);
        // invariant: every root was pushed above
        parts.iter().position(|p| p.0 == r).expect("a root is a part")
    };
    let rec_parts: Vec<(usize, String)> =
        net.pops().filter(|(_, p)| recorded.contains(&p.name)).map(|(pi, p)| (part_of(pi.index()), py_str(&p.name))).collect();
    let learn_parts: Vec<(usize, String)> = learning.iter().map(|(label, _, pre)| (part_of(*pre), py_str(label))).collect();
    for (k, name) in rec_parts {
        parts[k].1.push(name);
    }
    for (k, label) in learn_parts {
        parts[k].2.push(label);
    }
    t.push_str("# Connected parts, each run on its own: a population to run it by, its recorded\n# populations, its learning projections.\nCOMPONENTS = [\n");
    for (r, rec, learn) in &parts {
        let _ = writeln!(t, "    ({}, [{}], [{}]),", py_str(&net.pop(PopIx::new(*r)).name), rec.join(", "), learn.join(", "));
    }
    t.push_str("]\n");
    t.push_str(
        &r#"got = {}
learned = {}
for name, recorded, learns in COMPONENTS:
    procs[name].run(condition=RunSteps(num_steps=T), run_cfg=Loihi2SimCfg(select_tag="fixed_pt"))
    for r in recorded:
        got[r] = sinks[r].data.get()
    for label in learns:
        learned[label] = np.asarray(learning[label].weights.get()).astype(np.int64)
    procs[name].stop()

# Spikes in nerve's order: step, population (network order), neuron.
rows = []
for k, name in enumerate(RECORDED):
    s = got[name]  # (neurons, T); column t - 1 is lava step t
    for i, col in zip(*np.nonzero(s)):
        rows.append((int(col), k, int(i), name))
rows.sort()
WRITE_SPIKES
print(f"wrote {len(rows)} spikes to {args.out}")

# Learned weights as `nerve run --save-weights` writes them
# (projection,pre,post,weight,delay; the matrix is post x pre, delays one step).
if LEARNING:
    n = 0
    # csv quotes a label as nerve does (one with a comma, quote or line break).
    with open(args.weights, "w", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(["projection", "pre", "post", "weight", "delay"])
        for label, _ in LEARNING:
            w = learned[label]
            for pre in range(w.shape[1]):
                for post in range(w.shape[0]):
                    out.writerow([label, pre, post, int(w[post, pre]), fmt(DT)])
                    n += 1
    print(f"wrote {n} learned weights to {args.weights}")
"#
        .replace("WRITE_SPIKES\n", super::PY_WRITE_SPIKES),
    );
    Ok(Script { text: t, data_dir: data_dir.to_string(), data, notes, script_at })
}

/// A Python expression for an int matrix, inline or from an NPY file.
fn matrix(data: &mut Vec<(String, Vec<u8>)>, tag: &str, rows: usize, cols: usize, v: &[i64]) -> String {
    if v.len() <= INLINE {
        let r: Vec<String> = v.chunks(cols.max(1)).map(|row| format!("[{}]", row.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(", "))).collect();
        return format!("np.array([{}], dtype=np.int64).reshape({rows}, {cols})", r.join(", "));
    }
    let file = format!("{tag}.npy");
    data.push((file.clone(), npy::i64_2d(rows, cols, v)));
    format!("data({})", py_str(&file))
}

/// A Python expression for an int vector, inline or from an NPY file.
fn vector(data: &mut Vec<(String, Vec<u8>)>, tag: &str, v: &[i64]) -> String {
    if v.len() <= INLINE {
        return format!("np.array([{}], dtype=np.int64)", v.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(", "));
    }
    let file = format!("{tag}.npy");
    data.push((file.clone(), npy::i64_2d(v.len(), 1, v)));
    format!("data({})[:, 0]", py_str(&file))
}
