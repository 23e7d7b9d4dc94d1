//! Networks and images out, for other tools and real boards: [`nir`] (NIR
//! files), [`pynn`] (a PyNN script for sPyNNaker or NEST), [`lava`] (a lava-nc
//! script for Loihi 2), [`spinnaker`] (an image's routing tables in PACMAN's
//! JSON and the router's binary form). [`TARGETS`] says what each target
//! represents; a construct a target cannot represent is an error naming the
//! population or projection, the value and the limit, never a silent change.

pub mod lava;
pub mod nir;
mod npy;
pub mod pynn;
pub mod spinnaker;

use crate::compile::Prepared;
use crate::error::{CompileError, Result};
use crate::lower::ProjQuant;
use crate::net::model::*;
use std::fmt::Write as _;

/// One export target, for `nerve export --list`.
pub struct Target {
    pub name: &'static str,
    /// What it writes.
    pub writes: &'static str,
    /// The models it represents, and as what.
    pub models: fn() -> Vec<(String, String)>,
    pub weights: &'static str,
    pub delays: &'static str,
    pub connectors: &'static str,
    /// What it makes of learning projections.
    pub plasticity: &'static str,
}

pub static TARGETS: &[Target] = &[
    Target {
        name: "pynn",
        writes: "a PyNN 0.x script for sPyNNaker (SpiNNaker 1 and 2) or NEST, writing its spikes in nerve's CSV format",
        models: pynn::models,
        weights: "nerve's quantised weights (or --weights original), in PyNN units; a weight the target's profile clipped is an error",
        delays: "whole timesteps, dt to 144 timesteps on sPyNNaker (delay extensions); a delay that is not a whole number of steps is an error",
        connectors:
            "all_to_all and one_to_one with one weight and delay as PyNN's own connectors; every other as FromListConnector (per-synapse weight and delay)",
        plasticity: "`stdp` as STDPMechanism(SpikePairRule, Additive|MultiplicativeWeightDependence), the script writing the learned weights (--weights); a Loihi rule, a reward or STDP on the inhibitory receptor is an error",
    },
    Target {
        name: "lava",
        writes: "a lava-nc 0.10 script (Loihi2SimCfg fixed_pt) bit-identical with nerve's loihi-profile emulation, writing its spikes in nerve's CSV format",
        models: lava::models,
        weights: "lava's integers with the projection's weight_exp, num_weight_bits and sign_mode; a weight beyond them is an error",
        delays: "1 to 64 timesteps (Dense: 1; DelayDense: 2-64; lava hangs at 65 and more); the loihi profile itself holds 63",
        connectors: "any: Dense where a projection is dense, Sparse otherwise (DelayDense where delays differ from one step)",
        plasticity: "`loihi` rules as LearningDense with Loihi2FLearningRule (all-to-all, one-step delays), the script writing the learned weights (--weights); `loihi3f` and `stdp` are errors",
    },
    Target {
        name: "spinnaker-tables",
        writes: "an image's multicast routing tables per chip in PACMAN's JSON (multicast_routing_tables.from_json) and the router's binary form",
        models: || vec![("(any image)".into(), "its routing tables".into())],
        weights: "-",
        delays: "-",
        connectors: "-",
        plasticity: "-",
    },
    Target {
        name: "nir",
        writes: "a NIR 1.0.8 file with the weights as quantised for the target",
        models: || vec![("NIR neurons (from .nir files), input".into(), "their NIR primitives".into())],
        weights: "quantised for the target",
        delays: "a Delay node per projection whose delay is more than one step (one delay per target neuron, or else one per source neuron)",
        connectors: "Linear/Affine nodes (dense weight matrices, 2^27 entries in all at most: a large conv or pool connector is an error)",
        plasticity: "none: a learning projection is an error (NIR has no learning rules)",
    },
];

/// Which weights an export carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum WeightMode {
    /// As nerve quantised them for the target (what the board runs).
    #[default]
    Quantised,
    /// As the network gives them.
    Original,
}

/// An error of an export: the target, the culprit (population or
/// projection), and the problem with its value and the limit.
pub(crate) fn refuse(target: &str, culprit: impl Into<String>, problem: impl Into<String>) -> CompileError {
    CompileError::Export { target: target.into(), culprit: culprit.into(), problem: problem.into() }
}

/// Most Poisson spikes an export generates and writes as spike arrays, all
/// sources together: 2^27 (1 GiB as f64 times). A long `--duration` would
/// otherwise fill memory before a byte is written.
pub const MAX_SOURCE_SPIKES: u64 = 1 << 27;

/// Refuses, naming the population where the total passes
/// [`MAX_SOURCE_SPIKES`], Poisson sources whose spikes over `steps` an export
/// would generate as arrays; `instead` says what the user can do.
pub(crate) fn check_poisson_volume(target: &str, net: &Network, steps: u32, instead: &str) -> Result<()> {
    let mut total = 0.0;
    for (_, pop) in net.pops() {
        if let Model::SpikeSourcePoisson { rate, .. } = &pop.model {
            let here = crate::models::poisson::expected_spikes(pop, rate, net.dt_ms, steps);
            total += here;
            if total > MAX_SOURCE_SPIKES as f64 {
                return Err(refuse(
                    target,
                    format!("population {}", pop.name),
                    format!(
                        "its Poisson spikes over {steps} steps are about {}{}, more than {MAX_SOURCE_SPIKES}, the most an export writes as spike arrays; {instead}",
                        crate::error::num(here.round()),
                        if total > here { format!(" ({} with the sources before it)", crate::error::num(total.round())) } else { String::new() },
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// External input spikes, (population, neuron, time in ms), checked as
/// `nerve run` checks them: each names an input population and a neuron of
/// it, at a time ≥ 0 of a step a run reaches, and no neuron spikes twice in
/// one step (the exported script would merge the two into one spike, or
/// refuse them at run time).
pub(crate) fn check_inputs(target: &str, net: &Network, inputs: &[(String, u32, f64)]) -> Result<()> {
    let dt = net.dt_ms;
    let mut seen = std::collections::HashMap::with_capacity(inputs.len());
    for (k, (name, n, t)) in inputs.iter().enumerate() {
        let culprit = || format!("input spike {k} (`{name}` neuron {n} at {} ms)", crate::error::num(*t));
        if let Some(why) = input_spike_problem(net, name, *n, *t) {
            return Err(refuse(target, culprit(), why));
        }
        let step = nerve_isa::time::steps_of(*t, dt);
        if let Some(first) = seen.insert((name.as_str(), *n, step as u32), k) {
            return Err(refuse(
                target,
                culprit(),
                format!(
                    "input spike {first} of the neuron falls in the same timestep ({step}, dt {} ms): a neuron spikes at most once a step",
                    crate::error::num(dt)
                ),
            ));
        }
    }
    Ok(())
}

/// Why `net` cannot take an input spike of population `name`'s neuron `n`
/// at `t` ms, if it cannot: no such input population or neuron, or a time
/// that is not one of a step a run reaches. The CLI asks it of each spike of
/// each `--input` file, to name the spike in its file.
pub fn input_spike_problem(net: &Network, name: &str, n: u32, t: f64) -> Option<String> {
    let Some(pi) = net.find(name) else {
        return Some("the network has no population of that name".into());
    };
    let p = net.pop(pi);
    if !matches!(p.model, Model::Input) {
        return Some(format!("`{name}` is a {}, not an input population", p.model.name()));
    }
    if n >= p.size {
        return Some(format!("neuron {n} does not exist (the population has {})", p.size));
    }
    if !(t.is_finite() && t >= 0.0) {
        return Some("the time is not a time ≥ 0".into());
    }
    let step = nerve_isa::time::steps_of(t, net.dt_ms);
    if step >= nerve_isa::MAX_STEPS as f64 {
        return Some(format!("it is at step {step:e}, after {}, the last of the longest run", nerve_isa::MAX_STEPS - 1));
    }
    None
}

/// Electrical synapses have no form in PyNN, Lava or NIR (nor routes in
/// PACMAN's tables): a network with them is refused, naming the first.
pub(crate) fn no_electrical(target: &str, net: &Network) -> Result<()> {
    match net.electrical.first() {
        Some(e) => Err(refuse(target, format!("projection {}", e.p.label), "electrical synapses (gap junctions) have no form in this target")),
        None => Ok(()),
    }
}

/// One synapse of a projection: pre and post neuron, weight, delay in steps.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Syn {
    pub pre: u32,
    pub post: u32,
    pub weight: f64,
    pub delay: u16,
}

/// A projection's synapses with the weights `mode` asks for (quantised as
/// `prep` quantised them).
pub(crate) fn synapses(e: ProjIx, prep: &Prepared, mode: WeightMode) -> Result<Vec<Syn>> {
    let syn = &prep.syn[e.index()];
    let q: Option<&ProjQuant> = prep.quant.iter().find(|(x, _)| *x == e).map(|(_, q)| q);
    let mut v = Vec::with_capacity(syn.len() as usize);
    for i in 0..syn.n_pre() {
        for k in syn.row(i) {
            let w = syn.weight(k);
            let weight = match (mode, q) {
                (WeightMode::Quantised, Some(q)) => q.value(q.mantissa(w).0),
                _ => w,
            };
            v.push(Syn { pre: i as u32, post: syn.post[k], weight, delay: syn.delay(k) });
        }
    }
    Ok(v)
}

/// Refuses a projection the target's profile clipped or whose delays are not
/// whole timesteps (what vendor tools round or clip silently).
pub(crate) fn check_projection(target: &str, net: &Network, e: ProjIx, prep: &Prepared) -> Result<()> {
    let p = &net.graph[e];
    if let Some((_, q)) = prep.quant.iter().find(|(x, _)| *x == e) {
        if q.clipped > 0 {
            return Err(refuse(
                target,
                format!("projection {}", p.label),
                format!("{} synapse(s) have weights beyond the target's weight bits (clipped when compiled; see the mapping report)", q.clipped),
            ));
        }
    }
    let dt = net.dt_ms;
    let whole = |d: f64| ((d / dt) - (d / dt).round()).abs() <= 1e-9 * (d / dt).abs().max(1.0);
    if let Some(d) = p.delay_ms {
        if !whole(d) {
            return Err(refuse(target, format!("projection {}", p.label), format!("delay {d} ms is not a whole number of {dt} ms timesteps")));
        }
    }
    if let Connector::FromList(l) = &p.connector {
        if let Some(ds) = &l.delay {
            if let Some(d) = ds.iter().copied().find(|d| !d.is_nan() && !whole(*d)) {
                return Err(refuse(target, format!("projection {}", p.label), format!("delay {d} ms is not a whole number of {dt} ms timesteps")));
            }
        }
    }
    Ok(())
}

/// Python's repr of a float, enough digits to round-trip.
pub(crate) fn py_float(x: f64) -> String {
    if x.is_finite() {
        let s = format!("{x:?}");
        if s.contains('.') || s.contains('e') {
            s
        } else {
            format!("{s}.0")
        }
    } else if x.is_nan() {
        "float('nan')".into()
    } else if x > 0.0 {
        "float('inf')".into()
    } else {
        "-float('inf')".into()
    }
}

/// The scripts' `fmt(t)`: a spike time as `nerve run --record` writes it
/// (`nerve_report::spikes::fmt_time`), one definition for every exported
/// script; a macro, as `concat!` takes literals only.
macro_rules! py_fmt_time {
    () => {
        r#"def fmt(t):
    # As nerve writes times: six decimals where DT is a whole number of us,
    # else 12 significant digits (0.0666666666667 ms at DT 1/30 ms).
    us = DT * 1e6
    if abs(us - round(us)) <= 1e-9 * max(us, 1.0):
        s = f"{t:.6f}".rstrip("0").rstrip(".")
        return s or "0"
    from decimal import Decimal
    s = format(Decimal(repr(float(f"{t:.11e}"))), "f")
    return (s.rstrip("0").rstrip(".") if "." in s else s) or "0"
"#
    };
}
pub(crate) use py_fmt_time;

/// A time in ms for a script: six decimals, trailing zeros dropped (how
/// nerve writes spike times), where they are the time up to float rounding
/// (3 × 0.1 as 0.3); otherwise Python's round-trip repr, so that a time of a
/// step of dt = 1/30 ms is that step's time, not 0.033333 (which PyNN
/// refuses as a min_delay below the timestep, and NEST puts on another step).
pub(crate) fn py_time(x: f64) -> String {
    let s = format!("{x:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    let short = if s.is_empty() || s == "-" {
        "0.0".to_string()
    } else if s.contains('.') {
        s.to_string()
    } else {
        format!("{s}.0")
    };
    match short.parse::<f64>() {
        Ok(y) if (y - x).abs() <= 1e-12 * x.abs() => short,
        _ => py_float(x),
    }
}

/// The recorded populations' lines of an exported script: `RECORDED`, and
/// `LABELS` (per recorded population with labels, its neurons' labels; None
/// when no population of the network has labels), with which the script
/// writes its spike file as `nerve run --record` does: a `label` column
/// when the network's neurons have labels (empty for populations without).
pub(crate) fn py_recorded(net: &Network, recorded: &[String]) -> String {
    let names = recorded.iter().map(|n| py_str(n)).collect::<Vec<_>>().join(", ");
    let labels = if net.pops().any(|(_, p)| !p.labels.is_empty()) {
        let per: Vec<String> = net
            .pops()
            .filter(|(_, p)| !p.labels.is_empty() && recorded.contains(&p.name))
            .map(|(_, p)| format!("{}: [{}]", py_str(&p.name), p.labels.iter().map(|l| py_str(l)).collect::<Vec<_>>().join(", ")))
            .collect();
        format!("{{{}}}", per.join(", "))
    } else {
        "None".to_string()
    };
    format!("\nRECORDED = [{names}]\n# The spike file's label column (as `nerve run --record` writes it), or None.\nLABELS = {labels}\n")
}

/// The script's spike file written as `nerve run --record` writes it, from
/// its sorted `rows` of (step, population index, neuron, name).
pub(crate) const PY_WRITE_SPIKES: &str = r#"with open(args.out, "w", encoding="utf-8") as f:
    f.write("population,neuron,time\n" if LABELS is None else "population,neuron,time,label\n")
    for step, _, i, name in rows:
        label = "" if LABELS is None else "," + (LABELS[name][i] if name in LABELS else "")
        f.write(f"{name},{i},{fmt(step * DT)}{label}\n")
"#;

/// A Python string literal, `"…"`: backslash, double quote and control
/// characters escaped as Python's repr escapes them, every other character
/// as is (scripts are UTF-8). Every name and path written into generated
/// Python goes through it (or through [`py_escape`] inside a docstring).
pub(crate) fn py_str(s: &str) -> String {
    format!("\"{}\"", py_escape(s))
}

/// `s` escaped for the inside of a Python string literal, `"…"` or a
/// `"""…"""` docstring: no backslash, quote or line break of `s` can end the
/// literal or change what it says.
pub(crate) fn py_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    for c in s.chars() {
        match c {
            '\\' => o.push_str("\\\\"),
            '"' => o.push_str("\\\""),
            '\n' => o.push_str("\\n"),
            '\r' => o.push_str("\\r"),
            '\t' => o.push_str("\\t"),
            // U+2028 and U+2029 too: str.splitlines() breaks lines there.
            c if c.is_control() || c == '\u{2028}' || c == '\u{2029}' => {
                let n = c as u32;
                let _ = if n < 0x100 { write!(o, "\\x{n:02x}") } else { write!(o, "\\u{n:04x}") };
            }
            c => o.push(c),
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_written_exactly() {
        assert_eq!(py_time(3.0 * 0.1), "0.3", "six decimals where they are the time up to rounding");
        assert_eq!(py_time(0.0), "0.0");
        assert_eq!(py_time(2.0), "2.0");
        let dt = 1.0 / 30.0;
        assert_eq!(py_time(dt), "0.03333333333333333", "a step of dt = 1/30 ms is not 0.033333");
        assert_eq!(py_time(dt).parse::<f64>().unwrap(), dt);
        assert_eq!(py_time(4.0 * dt).parse::<f64>().unwrap(), 4.0 * dt);
    }

    #[test]
    fn names_become_python_literals() {
        assert_eq!(py_str(r#"a\b"c'd"#), r#""a\\b\"c'd""#);
        assert_eq!(py_str("x\ny\r\t\u{7}\u{85}\u{2028}é{script}"), r#""x\ny\r\t\x07\x85\u2028é{script}""#);
        assert_eq!(py_escape("\"\"\""), r#"\"\"\""#, "no run of quotes can end a docstring");
    }
}
