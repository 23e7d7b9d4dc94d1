//! How a NIR file's parameters are to be read: the timestep and the reset.
//!
//! NIR defines ODEs, not a step; every exporter assumes its own dt and reset
//! (../shared/spec/nir.md): snnTorch encodes its dt in `r = τ_mem/dt` and
//! `w_in = τ_syn/dt` (its export default is 1e-4 s) and resets by subtraction;
//! Sinabs writes `IF` with `r = 1` for a step of 1 and subtracts; Norse and
//! the generic reading use 1 ms and reset to `v_reset`. The wrong dt is not a
//! small error: a snnTorch model read at 1 ms has decay factors 1 − dt/τ < 0.
//! So the convention is detected from the file when not given, the choice is
//! reported with its reason, and a dt that is not small against a time
//! constant is warned about.

use super::model::{FlatGraph, NirNode};
use crate::net::model::ResetMode;

/// The exporter whose conventions give the defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceConvention {
    /// Detected from the file (the default): snnTorch's r = τ/dt, Sinabs' IF with r = 1, else generic.
    Auto,
    Generic,
    SnnTorch,
    Sinabs,
    Norse,
}

impl SourceConvention {
    pub const NAMES: [&'static str; 5] = ["auto", "generic", "snntorch", "sinabs", "norse"];

    pub fn parse(s: &str) -> Option<SourceConvention> {
        match s {
            "auto" => Some(SourceConvention::Auto),
            "generic" => Some(SourceConvention::Generic),
            "snntorch" => Some(SourceConvention::SnnTorch),
            "sinabs" => Some(SourceConvention::Sinabs),
            "norse" => Some(SourceConvention::Norse),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            SourceConvention::Auto => "auto",
            SourceConvention::Generic => "generic",
            SourceConvention::SnnTorch => "snntorch",
            SourceConvention::Sinabs => "sinabs",
            SourceConvention::Norse => "norse",
        }
    }
}

/// The import options: `None` and `Auto` leave the choice to the file.
#[derive(Clone, Debug)]
pub struct NirOptions {
    /// Timestep in seconds; `None`: the file's metadata `sample_dt`, else the convention's.
    pub dt_s: Option<f64>,
    pub reset: Option<ResetMode>,
    pub source: SourceConvention,
}

impl Default for NirOptions {
    fn default() -> Self {
        NirOptions { dt_s: None, reset: None, source: SourceConvention::Auto }
    }
}

/// What the import chose, and why (printed at compile time).
#[derive(Clone, Debug, PartialEq)]
pub struct NirChoice {
    pub dt_s: f64,
    pub reset: ResetMode,
    /// The convention applied (never `Auto`).
    pub source: SourceConvention,
    pub dt_why: String,
    pub reset_why: String,
    /// A dt that is not small against a time constant, per node.
    pub warnings: Vec<String>,
}

impl NirChoice {
    /// One line for people: `dt 0.0001 s (…), reset subtract (…)`.
    pub fn summary(&self) -> String {
        let reset = match self.reset {
            ResetMode::ToReset => "to v_reset",
            ResetMode::Subtract => "subtract",
        };
        format!("NIR import: dt {} s ({}); reset {reset} ({})", fmt_dt(self.dt_s), self.dt_why, self.reset_why)
    }
}

fn fmt_dt(dt: f64) -> String {
    // Seven significant digits, what a NIR file's float32 holds: a τ of
    // 2.5e-3 s stored as 0.0024999999 (or computed as r·dt, 0.0025000000000000005)
    // read as `2.500000e-3` beside `dt 0.001 s`.
    nerve_isa::num(format!("{dt:.6e}").parse().unwrap_or(dt))
}

/// snnTorch's `export_to_nir` default timestep.
const SNNTORCH_DT: f64 = 1e-4;

/// Above this dt/τ, forward Euler is far from the ODE (decay e^(−dt/τ) vs 1 − dt/τ
/// differ by > 2% of the step's decay); at ≥ 1 the decay factor is ≤ 0.
const COARSE: f64 = 0.2;

/// A time constant's name, its values, and the input gain that goes with it.
type Constant<'a> = (&'static str, &'a [f64], Option<&'a [f64]>);

/// The time constants of a node with their input gains; a gain of
/// `r = τ/dt` is snnTorch's encoding.
fn constants(node: &NirNode) -> Vec<Constant<'_>> {
    match node {
        NirNode::LI { tau, r, .. } | NirNode::LIF { tau, r, .. } => vec![("tau", &tau.data, Some(&r.data))],
        NirNode::CubaLI { tau_syn, tau_mem, r, w_in, .. } | NirNode::CubaLIF { tau_syn, tau_mem, r, w_in, .. } => {
            vec![("tau_mem", &tau_mem.data, Some(&r.data)), ("tau_syn", &tau_syn.data, w_in.as_ref().map(|w| w.data.as_slice()))]
        }
        _ => vec![],
    }
}

/// The dt that `gain = τ/dt` encodes, if every (τ, gain) pair of the graph
/// gives the same one (to 1e-5) and the gains are not all 1 (the generic r).
/// snnTorch writes r = 1/(1 − β) with β in [0, 1): a gain below 1 (dt > τ,
/// a decay factor below 0) is not its encoding, and read as one gave a dt
/// the coarse-step check then called unstable.
fn encoded_dt(g: &FlatGraph) -> Option<f64> {
    let mut dt: Option<f64> = None;
    let mut any_not_one = false;
    let mut any = false;
    for (_, node) in &g.nodes {
        for (_, tau, gain) in constants(node) {
            let Some(gain) = gain else { continue };
            if tau.is_empty() || gain.is_empty() || (tau.len() != gain.len() && tau.len() != 1 && gain.len() != 1) {
                // Lengths that disagree: no dt read from them (the node's own check names them).
                return None;
            }
            let n = tau.len().max(gain.len());
            for i in 0..n {
                let t = tau[if tau.len() == 1 { 0 } else { i }];
                let k = gain[if gain.len() == 1 { 0 } else { i }];
                // 1 − 1e-6: float32's 1/(1 − β) at β = 0 is 1 exactly, but leave room.
                if !(t > 0.0 && k >= 1.0 - 1e-6 && t.is_finite() && k.is_finite()) {
                    return None;
                }
                any = true;
                any_not_one |= k != 1.0;
                let d = t / k;
                match dt {
                    None => dt = Some(d),
                    Some(x) if ((d - x) / x).abs() <= 1e-5 => {}
                    Some(_) => return None,
                }
            }
        }
    }
    // Exporters write float32 τ: 1e-4 comes back as 9.9999997e-5.
    dt.filter(|_| any && any_not_one).map(|d| round_sig(d, 6))
}

fn round_sig(x: f64, digits: i32) -> f64 {
    // 0 (τ/r underflowed) has no scale: log10 is −∞, and the exponent's
    // arithmetic overflowed (a panic in debug builds).
    if !x.is_normal() {
        return x;
    }
    let e = 10f64.powi(digits - 1 - x.abs().log10().floor() as i32);
    let y = (x * e).round() / e;
    // A dt far outside any range (r = 1e308 gives 1e-310 s, whose scale
    // 10^315 overflows) is kept as it is, for the range check to name it
    // (it read "dt NaN s").
    if y.is_finite() && y != 0.0 {
        y
    } else {
        x
    }
}

/// Sinabs' signature: spiking nodes are IF with r = 1, and nothing has a time constant.
fn sinabs_like(g: &FlatGraph) -> bool {
    let mut any_if = false;
    for (_, node) in &g.nodes {
        match node {
            NirNode::IF { r, .. } => {
                any_if = true;
                if r.data.iter().any(|&x| x != 1.0) {
                    return false;
                }
            }
            n if !constants(n).is_empty() => return false,
            _ => {}
        }
    }
    any_if
}

impl NirOptions {
    /// The dt and reset for graph `g` (with metadata `sample_dt` = `file_dt`,
    /// `reset_subtract` = `file_reset`): the option wins, then the metadata,
    /// then the convention's (detected for `Auto`).
    pub fn resolve(&self, g: &FlatGraph, file_dt: Option<f64>, file_reset: Option<ResetMode>) -> NirChoice {
        let encoded = encoded_dt(g);
        let auto = self.source == SourceConvention::Auto;
        // A file that states its step (sample_dt) was written by a tool
        // that follows NIR's definitions (reset to v_reset), not by an
        // exporter with unstated conventions (snnTorch and Sinabs write none).
        let source = match self.source {
            SourceConvention::Auto if file_dt.is_some() => SourceConvention::Generic,
            SourceConvention::Auto if encoded.is_some() => SourceConvention::SnnTorch,
            SourceConvention::Auto if sinabs_like(g) => SourceConvention::Sinabs,
            SourceConvention::Auto => SourceConvention::Generic,
            s => s,
        };
        let how = if auto { "detected" } else { "--source" };
        let (conv_dt, conv_dt_why, conv_reset) = match source {
            SourceConvention::SnnTorch => match encoded {
                Some(d) => (d, format!("encoded in r = τ/dt as snnTorch's export writes it ({how} snntorch)"), ResetMode::Subtract),
                None => (SNNTORCH_DT, format!("snnTorch's export default ({how} snntorch)"), ResetMode::Subtract),
            },
            SourceConvention::Sinabs => (1.0, format!("one step per unit of r, as Sinabs writes IF neurons ({how} sinabs)"), ResetMode::Subtract),
            SourceConvention::Norse => (1e-3, format!("Norse's default ({how} norse)"), ResetMode::ToReset),
            SourceConvention::Generic | SourceConvention::Auto if auto => {
                (1e-3, "the generic default: no exporter's convention detected".to_string(), ResetMode::ToReset)
            }
            SourceConvention::Generic | SourceConvention::Auto => (1e-3, "the generic default (--source generic)".to_string(), ResetMode::ToReset),
        };
        let (dt_s, dt_why) = match (self.dt_s, file_dt) {
            (Some(d), _) => (d, "--dt".to_string()),
            (None, Some(d)) => (d, "the file's sample_dt".to_string()),
            (None, None) => (conv_dt, conv_dt_why),
        };
        let (reset, reset_why) = match (self.reset, file_reset) {
            (Some(r), _) => (r, "--reset".to_string()),
            (None, Some(r)) => (r, "the file's reset_subtract".to_string()),
            (None, None) if auto && file_dt.is_some() => (conv_reset, "NIR's definition, as the file states its dt".to_string()),
            (None, None) => (conv_reset, format!("{} convention", source.name())),
        };
        let exact = encoded.is_some_and(|e| ((e - dt_s) / e).abs() <= 1e-5);
        NirChoice { dt_s, reset, source, dt_why, reset_why, warnings: coarse_steps(g, dt_s, exact) }
    }
}

/// Warnings for nodes whose time constants are not long against dt. Where
/// the file encodes dt (r = τ/dt) the discrete model is the exporter's own,
/// so only decay factors ≤ 0 are warned about.
fn coarse_steps(g: &FlatGraph, dt: f64, exact: bool) -> Vec<String> {
    let mut w = Vec::new();
    for (name, node) in &g.nodes {
        for (what, tau, _) in constants(node) {
            let tmin = tau.iter().copied().filter(|t| *t > 0.0).fold(f64::INFINITY, f64::min);
            if !tmin.is_finite() {
                continue;
            }
            let ratio = dt / tmin;
            if ratio >= 1.0 {
                w.push(format!(
                    "node `{name}`: dt {} s ≥ {what} {} s: the decay factor 1 − dt/τ = {} is not in (0, 1), so the state oscillates or grows; give the dt the model was trained at (--dt, or --source)",
                    fmt_dt(dt),
                    fmt_dt(tmin),
                    fmt_dt(1.0 - ratio)
                ));
            } else if ratio > COARSE && !exact {
                w.push(format!(
                    "node `{name}`: dt {} s is not small against {what} {} s (dt/τ = {ratio:.2}): forward Euler's decay 1 − dt/τ = {:.3} vs the ODE's e^(−dt/τ) = {:.3}",
                    fmt_dt(dt),
                    fmt_dt(tmin),
                    1.0 - ratio,
                    (-ratio).exp()
                ));
            }
        }
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_shown_in_seven_significant_digits_at_most() {
        for (x, want) in
            [(0.0025000000000000005, "0.0025"), (1e-4, "0.0001"), (1.0, "1"), (1e-5, "1e-5"), (0.1234567891234, "0.1234568"), (0.0024999999441206455, "0.0025")]
        {
            assert_eq!(fmt_dt(x), want);
        }
    }
    use crate::front::nir::model::Array;

    fn cuba(tau_mem: f64, r: f64, tau_syn: f64, w_in: f64) -> NirNode {
        NirNode::CubaLIF {
            tau_syn: Array::scalar(tau_syn),
            tau_mem: Array::scalar(tau_mem),
            r: Array::scalar(r),
            v_leak: Array::scalar(0.0),
            w_in: Some(Array::scalar(w_in)),
            v_threshold: Array::scalar(1.0),
            v_reset: None,
        }
    }

    fn graph(nodes: Vec<NirNode>) -> FlatGraph {
        FlatGraph { nodes: nodes.into_iter().enumerate().map(|(i, n)| (format!("n{i}"), n)).collect(), ..FlatGraph::default() }
    }

    /// A gain so large that the dt it encodes is subnormal is read as that
    /// dt, not as NaN (which the range check printed as "dt NaN s").
    #[test]
    fn a_subnormal_encoded_dt_is_kept() {
        assert_eq!(round_sig(1e-310, 6), 1e-310);
        assert_eq!(round_sig(0.0, 6), 0.0);
        assert_eq!(round_sig(1e-20 / 1e305, 6), 0.0);
        assert_eq!(round_sig(0.0009999997615814777, 6), 0.001);
        let g = graph(vec![cuba(1e-3, 1e308, 2e-4, 2e307)]);
        let dt = encoded_dt(&g).unwrap();
        assert!(dt > 0.0 && dt < 1e-300, "{dt}");
    }

    #[test]
    fn snntorch_dt_is_read_from_r_and_w_in() {
        // The braille model's float32 parameters.
        let g = graph(vec![
            cuba(0.0009999997615814777, 9.999997615814776, 0.0002222222281091009, 2.2222222810910086),
            cuba(0.0002222222281091009, 2.2222222810910086, 0.0002, 2.0),
        ]);
        let c = NirOptions::default().resolve(&g, None, None);
        assert_eq!((c.dt_s, c.reset, c.source), (1e-4, ResetMode::Subtract, SourceConvention::SnnTorch));
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        // An inconsistent encoding is not snnTorch's.
        let g = graph(vec![cuba(1e-3, 10.0, 2e-4, 1.0)]);
        assert_eq!(NirOptions::default().resolve(&g, None, None).source, SourceConvention::Generic);
    }

    #[test]
    fn precedence_is_flag_then_metadata_then_convention() {
        let g = graph(vec![cuba(1e-3, 10.0, 2e-4, 2.0)]);
        let o = NirOptions { dt_s: Some(5e-5), reset: Some(ResetMode::ToReset), source: SourceConvention::Auto };
        let c = o.resolve(&g, Some(1e-3), None);
        assert_eq!((c.dt_s, c.reset), (5e-5, ResetMode::ToReset));
        assert!(c.dt_why.contains("--dt") && c.reset_why.contains("--reset"));
        let c = NirOptions::default().resolve(&g, Some(2e-4), None);
        assert_eq!((c.dt_s, c.reset), (2e-4, ResetMode::ToReset));
        assert!(c.dt_why.contains("sample_dt"));
        // nerve's own export states the reset too.
        let c = NirOptions::default().resolve(&g, Some(2e-4), Some(ResetMode::Subtract));
        assert_eq!(c.reset, ResetMode::Subtract);
        assert!(c.reset_why.contains("reset_subtract"));
    }

    #[test]
    fn sinabs_and_generic_defaults() {
        let if1 = NirNode::IF { r: Array::scalar(1.0), v_threshold: Array::scalar(1.0), v_reset: None };
        let c = NirOptions::default().resolve(&graph(vec![if1.clone()]), None, None);
        assert_eq!((c.dt_s, c.reset, c.source), (1.0, ResetMode::Subtract, SourceConvention::Sinabs));
        let lif =
            NirNode::LIF { tau: Array::scalar(0.0025), r: Array::scalar(1.0), v_leak: Array::scalar(0.0), v_threshold: Array::scalar(0.1), v_reset: None };
        let c = NirOptions::default().resolve(&graph(vec![if1, lif.clone()]), None, None);
        assert_eq!((c.dt_s, c.reset, c.source), (1e-3, ResetMode::ToReset, SourceConvention::Generic));
        let c = NirOptions { source: SourceConvention::Norse, ..NirOptions::default() }.resolve(&graph(vec![lif]), None, None);
        assert_eq!((c.dt_s, c.source), (1e-3, SourceConvention::Norse));
    }

    /// A gain below 1 is not snnTorch's r = 1/(1 − β): not read as a dt (0.5
    /// at τ 10 ms gave dt 20 ms, and v swung ±0.9 from one spike).
    #[test]
    fn gains_below_one_encode_no_dt() {
        let g = graph(vec![cuba(1e-2, 0.5, 1e-2, 0.5)]);
        assert_eq!(encoded_dt(&g), None);
        let c = NirOptions::default().resolve(&g, None, None);
        assert_eq!((c.source, c.dt_s), (SourceConvention::Generic, 1e-3), "{c:?}");
        // r = 1 beside r > 1 still encodes one (β = 0 somewhere).
        let g = graph(vec![cuba(1e-3, 10.0, 1e-4, 1.0)]);
        assert_eq!(encoded_dt(&g), Some(1e-4));
    }

    #[test]
    fn coarse_steps_are_warned_about() {
        // snnTorch's braille model read at 1 ms: τ_syn 0.2 ms.
        let g = graph(vec![cuba(1e-3, 10.0, 2e-4, 2.0)]);
        let c = NirOptions { dt_s: Some(1e-3), ..NirOptions::default() }.resolve(&g, None, None);
        assert!(c.warnings.iter().any(|w| w.contains("n0") && w.contains("tau_syn") && w.contains("1 − dt/τ = -4 is not in (0, 1)")), "{:?}", c.warnings);
        // A τ of 1e-300 s: the factor as people read it, not 300 digits.
        let c = NirOptions { dt_s: Some(1e-3), ..NirOptions::default() }.resolve(&graph(vec![cuba(1e-3, 1.0, 1e-300, 1.0)]), None, None);
        assert!(c.warnings.iter().any(|w| w.contains("1 − dt/τ = -1e297 is not")), "{:?}", c.warnings);
        // dt/τ = 0.5 at a dt the file does not encode.
        let c = NirOptions { dt_s: Some(1e-4), ..NirOptions::default() }.resolve(&graph(vec![cuba(1e-3, 1.0, 2e-4, 1.0)]), None, None);
        assert!(c.warnings.iter().any(|w| w.contains("not small")), "{:?}", c.warnings);
        let c = NirOptions { dt_s: Some(1e-5), ..NirOptions::default() }.resolve(&graph(vec![cuba(1e-3, 1.0, 2e-4, 1.0)]), None, None);
        assert!(c.warnings.is_empty());
    }
}
