//! `spike_source_poisson`: independent Poisson spike trains, one xorshift32
//! generator per neuron, seeded from the population's seed and the neuron's
//! index (a source, not a neuron model: it receives no synapses).

use nerve_isa::instr::r;
use nerve_isa::kernel::builder::KernelBuilder;

use crate::error::Result;
use crate::lower::fixed::finish;
use crate::lower::{Body, Lowered, ParamVals};
use crate::net::model::{Population, Values};
use crate::rng::{mix64, stream};

/// Per neuron: the threshold p·2^32 (p = rate·dt, spike when a fresh
/// unsigned draw is below it) and the generator's initial state.
fn setup(pop: &Population, rate: &Values, seed: u64, dt: f64) -> (Vec<i32>, Vec<i32>) {
    let n = pop.size as usize;
    let thr: Vec<i32> = rate
        .iter(n)
        .map(|hz| {
            let p = hz * dt / 1000.0;
            (p * 4_294_967_296.0).round().min(u32::MAX as f64) as u32 as i32
        })
        .collect();
    let state: Vec<i32> = (0..n as u64)
        .map(|i| {
            let s = mix64(seed ^ mix64(i + 1) ^ stream::POISSON) as u32;
            if s == 0 {
                0x9e37_79b9u32 as i32
            } else {
                s as i32
            }
        })
        .collect();
    (thr, state)
}

/// Spike when a fresh 32-bit draw is below p·2^32 (unsigned), p = rate·dt.
pub fn lower(pop: &Population, rate: &Values, seed: u64, dt: f64) -> Result<Lowered> {
    let (thr, state) = setup(pop, rate, seed, dt);
    // A rate whose probability a step 32 bits hold far off (0.1 Hz at dt
    // 1e-6 ms is 0: no spikes; 0.3 Hz acts as 0.23).
    let mut warnings = Vec::new();
    let worst = rate
        .iter(pop.size as usize)
        .zip(&thr)
        .filter(|(hz, _)| *hz > 0.0)
        .map(|(hz, &t)| (hz, t as u32 as f64 / 4_294_967_296.0 / dt * 1000.0))
        .max_by(|a, b| ((a.1 - a.0).abs() / a.0).total_cmp(&((b.1 - b.0).abs() / b.0)));
    if let Some((hz, acts)) = worst.filter(|(hz, acts)| (acts - hz).abs() > 0.01 * hz) {
        warnings.push(format!(
            "population `{}` ({}): a rate of {} Hz at dt {} ms is a spike probability a step that 32 bits hold as {}: it {}",
            pop.name,
            pop.model.name(),
            crate::error::num(hz),
            crate::error::num(dt),
            if acts == 0.0 { "0".to_string() } else { format!("{:.3e}", acts * dt / 1000.0) },
            if acts == 0.0 { "never fires".to_string() } else { format!("fires at {acts:.4} Hz") }
        ));
    }
    let mut b = KernelBuilder::new("poisson");
    let rng = b.state("rng");
    let p32 = b.param("p32");
    b.rand(r(0), rng).ldp(r(1), p32).cmpltu(r(2), r(0), r(1)).spike(r(2));
    let kernel = finish(pop, b)?;
    Ok(Lowered {
        body: Body::Kernel { kernel, params: vec![ParamVals::from_vec(thr)], state: vec![state] },
        ports: vec![],
        vars: vec![],
        quant: vec![],
        warnings,
    })
}

/// The spikes [`spike_steps`] is expected to give (Σ p·steps): what an
/// exporter checks before it generates them.
pub fn expected_spikes(pop: &Population, rate: &Values, dt: f64, steps: u32) -> f64 {
    let (thr, _) = setup(pop, rate, 0, dt);
    thr.iter().map(|&t| t as u32 as f64 / 4_294_967_296.0).sum::<f64>() * steps as f64
}

/// The steps (0-based, below `steps`) at which each neuron spikes: what the
/// kernel above computes, for exporters that carry the same spikes to
/// another simulator (tested against the emulator).
pub fn spike_steps(pop: &Population, rate: &Values, seed: u64, dt: f64, steps: u32) -> Vec<Vec<u32>> {
    let (thr, state) = setup(pop, rate, seed, dt);
    thr.iter()
        .zip(state)
        .map(|(&t, mut x)| {
            (0..steps)
                .filter(|_| {
                    x = nerve_isa::semantics::xorshift32(x);
                    (x as u32) < (t as u32)
                })
                .collect()
        })
        .collect()
}
