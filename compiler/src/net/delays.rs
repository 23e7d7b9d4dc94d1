//! Delays longer than a core's delay slots, as sPyNNaker maps them: with
//! delay-extension cores. A source population whose synapses need delay d >
//! M (M = the profile's `max_delay_steps`) gets a chain of relay populations
//! R1, R2, … (model `delay_relay`, one relay per source neuron): R1 receives
//! the source one-to-one with delay M, R(k) receives R(k−1) with delay M, and
//! each relay spikes in the step its input arrives, so R(k) repeats the
//! source k·M steps later. A synapse of delay d = k·M + r (1 ≤ r ≤ M) then
//! comes from R(k) with delay r: its spike arrives exactly d steps after the
//! source's. Relays are populations like any other: partitioned, placed,
//! routed, run and charged.
//!
//! The projection keeps its index and its short synapses; its long ones move
//! to new projections from the relays, which carry the original projection's
//! quantisation (the same weights on the same input port).

use nerve_isa::arch::Arch;

use crate::error::{CompileError, Result};
use crate::models::{Neuron, Params};
use crate::net::expand::{Delays, Synapses, Weights};
use crate::net::model::*;

/// The network with delay extensions.
pub struct Extended {
    /// The original network, its populations and projections at the same
    /// indices, plus the relays and their projections after them.
    pub net: Network,
    /// Per projection of `net`: the original projection whose synapses a
    /// stage projection carries (`None` for the others).
    pub origin: Vec<Option<ProjIx>>,
    /// The whole synapse sets of the projections that were split (their
    /// quantisation is chosen over all their weights).
    pub full: Vec<(ProjIx, Synapses)>,
}

/// Splits delays beyond the core's slots over relay chains, if the profile
/// has delay extensions; `syn` (one entry per projection) becomes the
/// synapses of the extended network's projections. `None`: no delay needs it.
///
/// `place`: when the network goes onto the profile's cores, the cap of
/// neurons per core (`Options::neurons_per_core`): the relays' cores are
/// then counted with the network's before any relay is built (65,534
/// stages of one neuron on a 64-core profile were refused only after 30 s
/// of building and partitioning them). Exporters place nothing here.
pub fn extend(arch: &Arch, net: &Network, syn: &mut Vec<Synapses>, place: Option<Option<u32>>) -> Result<Option<Extended>> {
    let m = arch.core.max_delay_steps;
    let dt = net.dt_ms;
    let mut any = false;
    for (e, _, _, p) in net.projections() {
        let md = syn[e.index()].max_delay();
        if md <= m {
            continue;
        }
        if p.plasticity.is_some() {
            return Err(CompileError::Projection {
                projection: p.label.clone(),
                reason: format!(
                    "a delay of {md} timesteps exceeds `{}`'s {m} delay slots; a learning projection's synapses cannot run through delay-extension relays",
                    arch.name
                ),
            });
        }
        match arch.core.max_extended_delay_steps {
            Some(x) if md <= x => any = true,
            Some(x) => {
                return Err(CompileError::Projection {
                    projection: p.label.clone(),
                    reason: format!(
                        "a delay of {md} timesteps ({} ms) exceeds `{}`'s {x} (its {m} delay slots with delay-extension cores)",
                        crate::lower::fixed::approx(md as f64 * dt),
                        arch.name
                    ),
                })
            }
            None => {
                return Err(CompileError::Projection {
                    projection: p.label.clone(),
                    reason: format!("a delay of {md} timesteps ({} ms) exceeds `{}`'s {m} delay slots", crate::lower::fixed::approx(md as f64 * dt), arch.name),
                })
            }
        }
    }
    if !any {
        return Ok(None);
    }
    let mut x = net.clone();
    let mut origin: Vec<Option<ProjIx>> = vec![None; net.graph.edge_count()];
    let mut full = Vec::new();
    // Stages each source population needs: the largest k over its long synapses.
    let mut stages: Vec<u16> = vec![0; net.num_pops()];
    for (e, pre, _, _) in net.projections() {
        let s = &syn[e.index()];
        if s.max_delay() > m {
            let k = (0..s.post.len()).map(|i| (s.delay(i) - 1) / m).max().unwrap_or(0);
            stages[pre.index()] = stages[pre.index()].max(k);
        }
    }
    // What the relays take, before any is built: a relay per source neuron
    // per stage, and while the long synapses are sorted, a list per source
    // neuron per stage. One delay slot and 65,535 steps of delay from 100k
    // neurons made 6.5e9 relays, and the compiler ran out of memory.
    let relay_neurons: u64 = net.pops().map(|(pi, p)| stages[pi.index()] as u64 * p.size as u64).sum();
    if relay_neurons > 0 {
        let long = net.projections().filter(|(e, _, _, _)| syn[e.index()].max_delay() > m);
        let scratch = long
            .map(|(_, pre, _, _)| (stages[pre.index()] as u64 + 1).saturating_mul(net.pop(pre).size as u64))
            .max()
            .unwrap_or(0)
            .saturating_mul(std::mem::size_of::<Vec<(u32, f64, u16)>>() as u64);
        if let Err(why) = crate::compile::check_added_fit(relay_neurons, relay_neurons, scratch) {
            // Name the source with the longest chain and the projection that needs it.
            let (pre, k) = net
                .pops()
                .map(|(pi, _)| (pi, stages[pi.index()]))
                .max_by_key(|&(pi, k)| (k as u64 * net.pop(pi).size as u64, std::cmp::Reverse(pi.index())))
                .unwrap_or_default();
            let (label, md) = net
                .projections()
                .filter(|(_, a, _, _)| *a == pre)
                .map(|(e, _, _, p)| (p.label.clone(), syn[e.index()].max_delay()))
                .max_by_key(|&(_, d)| d)
                .unwrap_or_default();
            return Err(CompileError::Projection {
                projection: label,
                reason: format!(
                    "a delay of {md} timesteps runs through {k} delay-extension stages of `{}`'s {m} delay slots, a relay per neuron of `{}` ({} neurons) each; with the network's other relays, {why}",
                    arch.name,
                    net.pop(pre).name,
                    net.pop(pre).size
                ),
            });
        }
    }
    // Their cores, at the least: a stage's relays are sliced as their source is.
    if let Some(npc) = place {
        let cap = |p: &Population| u64::from(crate::map::partition::slice_cap(arch, p, npc).max(1));
        let relay_cores: u64 = net.pops().map(|(pi, p)| stages[pi.index()] as u64 * (p.size as u64).div_ceil(cap(p))).sum();
        let least = crate::map::partition::least_cores(arch, net, npc).saturating_add(relay_cores);
        if least > arch.num_cores() as u64 {
            // Said as the placement's refusal says it (`compile`).
            let mut e = CompileError::too_few_cores(arch, least, Some(npc.is_some_and(|k| k < arch.core.max_neurons)));
            if let CompileError::TooFewCores { hint, .. } = &mut e {
                let longest = net.projections().map(|(e, _, _, p)| (syn[e.index()].max_delay(), p.label.clone())).max_by_key(|(d, _)| *d);
                let why = longest.map_or(String::new(), |(d, l)| format!(" (the longest: projection {l}, {d} timesteps)"));
                hint.push_str(&format!(
                    "; {relay_cores} of the {least} are relays the compiler adds for delays past `{}`'s {m} delay slots{why}: shorter delays need fewer",
                    arch.name
                ));
            }
            return Err(e);
        }
    }
    // The relay chains.
    let mut relays: Vec<Vec<PopIx>> = vec![Vec::new(); net.num_pops()];
    for (pi, pop) in net.pops() {
        let mut prev = pi;
        for k in 1..=stages[pi.index()] {
            let mut name = format!("{}.delay{k}", pop.name);
            while x.find(&name).is_some() {
                name.push('_');
            }
            let r = x.graph.add_node(Population {
                name,
                size: pop.size,
                model: Model::Neuron(Neuron { model: &crate::models::relay::RELAY, params: Params::defaults(&[]) }),
                initial: vec![],
                record_spikes: false,
                max_per_core: pop.max_per_core,
                labels: vec![],
            });
            let label = format!("{}→{} (delay extension)", x.graph[prev].name, x.graph[r].name);
            x.graph.add_edge(
                prev,
                r,
                Projection {
                    label,
                    receptor: Receptor::Excitatory,
                    connector: Connector::OneToOne,
                    weight: Some(1.0),
                    delay_ms: Some(m as f64 * dt),
                    loihi: LoihiWeights::default(),
                    plasticity: None,
                },
            );
            origin.push(None);
            let n = pop.size as usize;
            syn.push(Synapses { indptr: (0..=n as u64).collect(), post: (0..n as u32).collect(), weights: Weights::Uniform(1.0), delays: Delays::Uniform(m) });
            relays[pi.index()].push(r);
            prev = r;
        }
    }
    // The long synapses, by stage.
    for (e, pre, post, p) in net.projections() {
        let s = &syn[e.index()];
        if s.max_delay() <= m {
            continue;
        }
        let n_pre = s.n_pre();
        let k_max = stages[pre.index()] as usize;
        // Per stage (0: direct), CSR by pre: (post, weight, remaining delay).
        let mut parts: Vec<Vec<Vec<(u32, f64, u16)>>> = vec![vec![Vec::new(); n_pre]; k_max + 1];
        for i in 0..n_pre {
            for j in s.row(i) {
                let d = s.delay(j);
                let k = (d - 1) / m;
                let stage: &mut Vec<Vec<(u32, f64, u16)>> = &mut parts[k as usize];
                stage[i].push((s.post[j], s.weight(j), d - k * m));
            }
        }
        let csr = |rows: &[Vec<(u32, f64, u16)>]| Synapses {
            indptr: std::iter::once(0)
                .chain(rows.iter().scan(0u64, |a, r| {
                    *a += r.len() as u64;
                    Some(*a)
                }))
                .collect(),
            post: rows.iter().flat_map(|r| r.iter().map(|x| x.0)).collect(),
            weights: Weights::PerSynapse(rows.iter().flat_map(|r| r.iter().map(|x| x.1)).collect()),
            delays: Delays::PerSynapse(rows.iter().flat_map(|r| r.iter().map(|x| x.2)).collect()),
        };
        full.push((e, std::mem::replace(&mut syn[e.index()], csr(&parts[0]))));
        for (k, rows) in parts.iter().enumerate().skip(1) {
            if rows.iter().all(|r| r.is_empty()) {
                continue;
            }
            let relay = relays[pre.index()][k - 1];
            let conns: ConnList = rows
                .iter()
                .enumerate()
                .flat_map(|(i, r)| r.iter().map(move |&(j, w, d)| Conn { pre: i as u32, post: j, weight: Some(w), delay: Some(d as f64 * dt) }))
                .collect();
            x.graph.add_edge(
                relay,
                post,
                Projection {
                    label: format!("{} (delay stage {k})", p.label),
                    receptor: p.receptor,
                    connector: Connector::FromList(conns),
                    weight: None,
                    delay_ms: None,
                    // lava's sign mode is the whole projection's: a stage's
                    // share of the weights could infer another.
                    loihi: LoihiWeights { sign_mode: Some(p.sign_mode()), ..p.loihi },
                    plasticity: None,
                },
            );
            origin.push(Some(e));
            syn.push(csr(rows));
        }
    }
    Ok(Some(Extended { net: x, origin, full }))
}
