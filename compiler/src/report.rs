//! The mapping report (`nerve compile --report map.json`): what the
//! network became on the machine, stage times, quantisation per projection.

use nerve_isa::arch::Arch;
use nerve_isa::image::ValidImage;
use serde::Serialize;

use crate::compile::{Mapped, Options};
use crate::lower::{Lowered, ProjQuant};
use crate::map::partition::Split;
use crate::map::place::{Refinement, Strategy, REFINE_MOVES_X_DEGREE};
use crate::map::route::{LinkLoad, RouteStats};
use crate::net::expand::Synapses;
use crate::net::model::Network;

/// Seconds per stage.
#[derive(Clone, Debug, Default, Serialize)]
pub struct StageTimes {
    /// Reading the network file(s), filled in by the caller (the CLI).
    pub read: f64,
    pub expand: f64,
    pub lower: f64,
    pub partition: f64,
    pub place: f64,
    pub route: f64,
    pub codegen: f64,
    pub check: f64,
    /// The stages above, from expand to check.
    pub total: f64,
    /// Encoding and writing the image, filled in by the caller (the CLI).
    pub write: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct PopReport {
    pub name: String,
    pub model: String,
    pub size: u32,
    pub neurons_per_core: u32,
    pub cores: u32,
}

/// The mapping report (`--report map.json`).
#[derive(Clone, Debug, Serialize)]
pub struct MapReport {
    pub network: String,
    pub arch: String,
    /// The network's own neurons and synapses: the delay-extension relays'
    /// are apart (below), so that a network has the same counts on every profile.
    pub neurons: u64,
    pub synapses: u64,
    /// Relays the compiler added for delays past the profile's delay slots
    /// (`net::delays`), and the synapses feeding them: 0 where none.
    pub relay_neurons: u64,
    pub relay_synapses: u64,
    /// Gap-junction terms (`GapEdge`s) in the image: each electrical
    /// synapse's partner term and each joined neuron's self term per port.
    pub gap_terms: u64,
    pub populations: Vec<PopReport>,
    pub cores_used: u32,
    pub tiles_used: u32,
    pub chips_used: u32,
    pub placement: String,
    pub placement_cost_initial: f64,
    pub placement_cost_final: f64,
    /// What placement refinement did (the moves tried, which the cap can make fewer than asked).
    pub placement_refinement: Refinement,
    pub routing: RouteStats,
    pub quantisation: Vec<ProjQuant>,
    pub busiest_links: Vec<LinkLoad>,
    pub seconds: StageTimes,
    /// What the image's fixed point loses that a run would show, in words:
    /// weights clipped or rounded to 0, currents that drain in whole LSBs,
    /// constants and rates rounded far off (the CLI prints them as warnings).
    pub warnings: Vec<String>,
}

/// The report of a compiled network.
#[allow(clippy::too_many_arguments)]
pub fn map_report(
    arch: &Arch,
    net: &Network,
    opts: &Options,
    syn: &[Synapses],
    lowered: &[Lowered],
    splits: &[Split],
    mapped: &Mapped,
    image: &ValidImage,
    times: StageTimes,
) -> MapReport {
    let a = arch;
    let footprint = a.footprint(image.cores.iter().map(|c| c.core));
    let mut busiest = mapped.routes.links.clone();
    busiest.sort_by(|x, y| y.neurons.cmp(&x.neurons).then(x.tile.cmp(&y.tile)));
    busiest.truncate(10);
    let relay: Vec<bool> = net.pops().map(|(_, p)| p.model.name() == nerve_isa::image::RELAY_MODEL).collect();
    let relay_neurons: u64 = net.pops().filter(|(i, _)| relay[i.index()]).map(|(_, p)| p.size as u64).sum();
    let relay_synapses: u64 = net.projections().filter(|(_, _, post, _)| relay[post.index()]).map(|(e, ..)| syn[e.index()].len()).sum();
    MapReport {
        network: net.name.clone(),
        arch: arch.name.clone(),
        neurons: net.num_neurons() - relay_neurons,
        synapses: syn.iter().map(|s| s.len()).sum::<u64>() - relay_synapses,
        relay_neurons,
        relay_synapses,
        gap_terms: image.cores.iter().map(|c| c.gap.len() as u64).sum(),
        populations: net
            .pops()
            .map(|(i, p)| PopReport {
                name: p.name.clone(),
                model: p.model.name().into(),
                size: p.size,
                neurons_per_core: splits[i.index()].size,
                cores: splits[i.index()].count,
            })
            .collect(),
        cores_used: image.cores.len() as u32,
        tiles_used: footprint.tiles,
        chips_used: footprint.chips,
        placement: match &opts.place.strategy {
            Strategy::Pack => format!("pack, {}", refinement_words(&mapped.placement.refinement, opts.place.seed)),
            Strategy::Spread => format!("spread, {}", refinement_words(&mapped.placement.refinement, opts.place.seed)),
            Strategy::Explicit(l) => format!("explicit ({} slices from {})", l.slices.len(), l.file),
        },
        placement_cost_initial: mapped.placement.cost_initial,
        placement_cost_final: mapped.placement.cost_final,
        placement_refinement: mapped.placement.refinement.clone(),
        routing: mapped.routes.stats.clone(),
        quantisation: lowered.iter().flat_map(|l| l.quant.iter().map(|(_, q)| q.clone())).collect(),
        busiest_links: busiest,
        seconds: times,
        warnings: warnings(lowered, syn),
    }
}

/// The lowering's warnings, and each projection's weights clipped, or
/// rounded to 0 where they held more than 1% of its summed |weight| (in the
/// quantisation table alone, they went unsaid under `-q` and through `nerve
/// run`; a trained network's few tiny weights are left to the table).
fn warnings(lowered: &[Lowered], syn: &[Synapses]) -> Vec<String> {
    let mut out: Vec<String> = lowered.iter().flat_map(|l| l.warnings.iter().cloned()).collect();
    for (e, q) in lowered.iter().flat_map(|l| &l.quant) {
        let mut lost = vec![];
        if q.clipped > 0 {
            lost.push(format!("{} clipped to the port's range", q.clipped));
        }
        // The zeroed weights as measured with `underflow` (after the port's
        // shift; for STDP through its words, which the mantissa path here
        // had measured as none: 3 of 4 weights lost, unsaid).
        let share = |sy: &Synapses| {
            let all: f64 = (0..sy.len() as usize).map(|k| sy.weight(k).abs()).sum();
            if all > 0.0 {
                q.underflow_abs / all
            } else {
                0.0
            }
        };
        if let Some(f) = syn.get(e.index()).map(share).filter(|&f| q.underflow > 0 && f > 0.01) {
            lost.push(format!("{} rounded to 0, {:.1}% of its summed |weight| (they deliver nothing)", q.underflow, 100.0 * f));
        }
        if !lost.is_empty() {
            out.push(format!(
                "projection {}: of its weights, {} (port {}, whose step is {:.4e} in the weights' units)",
                q.projection,
                lost.join(" and "),
                q.port,
                // After a negative exponent's shift the port resolves `unit`.
                q.unit * 2f64.powi(q.exp.max(0) as i32)
            ));
        }
    }
    out
}

/// What refinement did, in words: the moves it tried rather than the effort
/// asked for, and why they are fewer when the cap cut them.
fn refinement_words(r: &Refinement, seed: u64) -> String {
    if let Some(why) = r.skipped {
        return format!("not refined ({why})");
    }
    let per_slice = |m: u64| {
        let x = m as f64 / r.slices.max(1) as f64;
        if x.fract() == 0.0 {
            format!("{x}")
        } else {
            format!("{x:.1}")
        }
    };
    let tried = match r.cap {
        None => format!("{} moves ({} per slice, seed {seed})", r.tried, per_slice(r.tried)),
        Some(_) => format!(
            "{} moves ({} per slice, seed {seed}; {} per slice asked for, capped at {REFINE_MOVES_X_DEGREE:e} / mean degree {:.1} so that dense slice graphs place in seconds)",
            r.tried,
            per_slice(r.tried),
            per_slice(r.requested),
            r.mean_degree,
        ),
    };
    let kept = if r.kept_start { "; it ended worse than it began, so the start was kept" } else { "" };
    format!("refined: {tried}, {} to another tile in use, {} accepted{kept}", r.weighed, r.accepted)
}
