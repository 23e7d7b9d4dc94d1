//! The driver: expand → lower (quantise) → partition → place → route →
//! code generation ([`crate::emit`]) → checks. Each stage is timed for the
//! mapping report ([`crate::report`]).

use std::time::Instant;

use nerve_isa::arch::Arch;
use nerve_isa::ids::CoreId;
use nerve_isa::image::ValidImage;

use crate::emit;
use crate::error::{CompileError, Result};
use crate::lower::{lower, Incoming, Lowered, ProjQuant};
use crate::map::partition::{partition, Split};
use crate::map::place::{place, slice_base, PlaceOptions, Placement, Traffic};
use crate::map::route::{allocate_keys, route, Routes, SliceGraph, Sources};
use crate::net::expand::{expand, Synapses};
use crate::net::model::*;
pub use crate::report::{MapReport, StageTimes};

/// Compiler options.
#[derive(Clone, Debug)]
pub struct Options {
    pub place: PlaceOptions,
    /// Most neurons per core for every population (below the core limit).
    pub neurons_per_core: Option<u32>,
    /// Seed recorded in the image; placement uses `place.seed`.
    pub seed: u64,
    /// Host threads for the stages that split large work (connector
    /// expansion, the partition's checks, code generation, the image
    /// check): `None`, the host's (up to 8) for large networks and
    /// one for small; `Some(k)`, k whatever the size. The image is the same
    /// whatever the count (tested).
    pub threads: Option<usize>,
    /// Shared routes (`map/route/share.rs`): a population pair's slices all
    /// route to every slice of the target when that adds at most this
    /// fraction of the pair's packet deliveries (0: every slice routes to
    /// exactly the cores holding its synapses).
    pub shared_routes: f64,
    /// Set (by another thread, or the progress callback) to stop the compile
    /// at its next stage: it then returns `CompileError::Interrupted`.
    pub stop: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
}

impl Options {
    /// `Err(Interrupted)` once `stop` is set: checked between stages (and
    /// after their progress reports in `compile` and `front`), and between
    /// the items of the longest stages (projections expanded, populations
    /// whose synapses are written).
    pub(crate) fn stopped(&self) -> Result<()> {
        match &self.stop {
            Some(s) if s.load(std::sync::atomic::Ordering::Relaxed) => Err(CompileError::Interrupted),
            _ => Ok(()),
        }
    }

    /// What a cap past the core's own limit means (not an error: the cap is
    /// an upper bound, but not what was asked either), for each front end
    /// to say after its own spelling of the option.
    pub fn neurons_per_core_past(&self, arch: &Arch) -> Option<String> {
        let m = arch.core.max_neurons;
        self.neurons_per_core.filter(|&k| k > m).map(|_| format!("is past `{}`'s {m} neurons per core: a core holds at most {m}", arch.name))
    }
}

impl Default for Options {
    fn default() -> Options {
        Options {
            place: PlaceOptions::default(),
            neurons_per_core: None,
            seed: 0,
            threads: None,
            shared_routes: crate::map::route::share::DEFAULT_MAX_EXTRA,
            stop: None,
        }
    }
}

#[derive(Debug)]
pub struct Output {
    pub image: ValidImage,
    pub report: MapReport,
    /// How each projection's weights were quantised (for exporters).
    pub quant: Vec<(ProjIx, ProjQuant)>,
}

/// The mapping stages shared by `compile` and graph-only benchmarks.
pub struct Mapped {
    pub placement: Placement,
    pub routes: Routes,
    pub keys: crate::map::route::Keys,
    pub dests: Vec<Vec<CoreId>>,
    pub place_s: f64,
    pub route_s: f64,
}

/// Places slices and routes the slice graph.
pub fn map_graph(arch: &Arch, net: &Network, splits: &[Split], graph: &SliceGraph, opts: &PlaceOptions, progress: &mut dyn FnMut(&str)) -> Result<Mapped> {
    map_graph_until(arch, net, splits, graph, opts, progress, &|| Ok(()))
}

/// `map_graph`, which ends with `stopped`'s error if it gives one between placing and routing.
fn map_graph_until(
    arch: &Arch,
    net: &Network,
    splits: &[Split],
    graph: &SliceGraph,
    opts: &PlaceOptions,
    progress: &mut dyn FnMut(&str),
    stopped: &dyn Fn() -> Result<()>,
) -> Result<Mapped> {
    let base = slice_base(splits);
    let n_slices = base.last().map_or(0, |b| b + splits.last().map_or(0, |s| s.count)) as usize;
    let mut slice_pop = Vec::with_capacity(n_slices);
    for (p, s) in splits.iter().enumerate() {
        for k in 0..s.count {
            slice_pop.push((p, k));
        }
    }
    let len_of = |g: u32| {
        let (p, k) = slice_pop[g as usize];
        splits[p].len(k)
    };
    let traffic = Traffic { pairs: graph.edges.iter().map(|&(s, t)| (s, t, len_of(s) as f64)).collect() };
    let t0 = Instant::now();
    let placement = place(arch, net, splits, &traffic, opts, progress)?;
    stopped()?;
    let place_s = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let core_of = |g: u32| {
        let (p, k) = slice_pop[g as usize];
        placement.cores[p][k as usize]
    };
    let mut dests: Vec<Vec<CoreId>> = vec![Vec::new(); n_slices];
    for &(s, t) in &graph.edges {
        dests[s as usize].push(core_of(t));
    }
    for d in &mut dests {
        d.sort();
        d.dedup();
    }
    let sends: Vec<bool> = dests.iter().map(|d| !d.is_empty()).collect();
    // Keys follow placement: populations in the order of their first core along the
    // placement curve, so that neighbours in key space have similar trees and
    // their entries compress together.
    let curve = crate::map::place::tile_order(arch);
    let mut rank = vec![0u32; arch.num_tiles() as usize];
    for (i, t) in curve.iter().enumerate() {
        rank[t.index()] = i as u32;
    }
    let mut order: Vec<usize> = (0..splits.len()).collect();
    order.sort_by_key(|&p| {
        let c = placement.cores[p].first().copied().unwrap_or(CoreId(0));
        (rank[arch.tile_of(c).index()], arch.local_core(c), p)
    });
    let keys = allocate_keys(splits, &sends, &order)?;
    let src_core: Vec<CoreId> = (0..n_slices as u32).map(core_of).collect();
    let src_len: Vec<u32> = (0..n_slices as u32).map(len_of).collect();
    let pop_of: Vec<u32> = slice_pop.iter().map(|&(p, _)| p as u32).collect();
    let routes = route(arch, &keys, &Sources { core: &src_core, len: &src_len, dests: &dests, pop_of: &pop_of }, progress)?;
    let route_s = t1.elapsed().as_secs_f64();
    Ok(Mapped { placement, routes, keys, dests, place_s, route_s })
}

/// The stages every use of a compilation shares: the connectors expanded
/// (delay extensions added where the profile has them), the weights
/// quantised, the populations partitioned.
struct Front {
    ext: Option<crate::net::delays::Extended>,
    syn: Vec<Synapses>,
    /// Electrical projections: their synapses and their ports' quantisation.
    gap_syn: Vec<Synapses>,
    gap_quant: Vec<ProjQuant>,
    lowered: Vec<Lowered>,
    splits: Vec<Split>,
    conns: crate::map::partition::SliceConns,
    times: StageTimes,
}

/// `place`: the network goes onto the profile's cores (compile, not an exporter).
fn front(arch: &Arch, net: &Network, opts: &Options, place: bool, progress: &mut dyn FnMut(&str)) -> Result<Front> {
    let mut times = StageTimes::default();
    let dt = net.dt_ms;
    crate::net::check::network(net)?;
    check_memory(net)?;
    progress("expanding connectors");
    opts.stopped()?;
    let t = Instant::now();
    let mut syn = expand_all(net, opts)?;
    // Delays beyond the core's slots: relays on profiles with delay extensions (else an error).
    let ext = crate::net::delays::extend(arch, net, &mut syn, place.then_some(opts.neurons_per_core))?;
    let net: &Network = ext.as_ref().map_or(net, |x| &x.net);
    let origin = |e: ProjIx| ext.as_ref().and_then(|x| x.origin[e.index()]);
    let full = |e: ProjIx| ext.as_ref().and_then(|x| x.full.iter().find(|(f, _)| *f == e).map(|(_, s)| s));
    times.expand = t.elapsed().as_secs_f64();

    let gap_syn: Vec<Synapses> = net.electrical.iter().map(|e| crate::net::expand::expand_projection(net, e.pre, e.post, &e.p)).collect::<Result<_>>()?;
    let gap_currents: Vec<Synapses> = net
        .electrical
        .iter()
        .zip(&gap_syn)
        .map(|(e, s)| {
            let f = (0..net.pop(e.post).size as usize).map(|n| crate::gap::step_factor(net, e.post, n)).fold(0.0f64, f64::max);
            crate::gap::as_currents(s, f)
        })
        .collect();
    // Electrical projections join the inputs as synthetic projections past the graph's.
    let n_edges = net.graph.edge_count();
    let mut gap_quant: Vec<Option<ProjQuant>> = vec![None; net.electrical.len()];

    progress("quantising");
    opts.stopped()?;
    let t = Instant::now();
    let mut lowered: Vec<Lowered> = Vec::with_capacity(net.num_pops());
    // Each population's incoming projections, in projection order: found in
    // one pass, not one per population (rand_big: 1,200 populations by
    // 57,389 projections, twice, was 0.2-0.3 s).
    let mut into: Vec<Vec<(ProjIx, &crate::net::model::Projection)>> = vec![Vec::new(); net.num_pops()];
    for (e, _, b, p) in net.projections() {
        into[b.index()].push((e, p));
    }
    for (pi, pop) in net.pops() {
        // Delay stages take their original projection's quantisation, chosen over all its synapses.
        let mut incoming: Vec<Incoming> = into[pi.index()]
            .iter()
            .filter(|(e, _)| origin(*e).is_none())
            .map(|&(e, p)| Incoming { proj: e, p, syn: full(e).unwrap_or(&syn[e.index()]), electrical: false })
            .collect();
        for (k, e) in net.electrical.iter().enumerate().filter(|(_, e)| e.post == pi) {
            incoming.push(Incoming { proj: ProjIx::new(n_edges + k), p: &e.p, syn: &gap_currents[k], electrical: true });
        }
        let mut l = lower(arch, pop, &incoming, dt)?;
        // An STDP projection's synapses deliver their words: the report measures those.
        for (e, q) in l.quant.iter_mut().filter(|(e, _)| e.index() < n_edges) {
            let p = &net.graph[*e];
            if let Some(crate::net::model::Plasticity::Stdp(st)) = p.plasticity.as_deref() {
                crate::plasticity::stdp::measure_delivered(net, p, st, q, full(*e).unwrap_or(&syn[e.index()]))
                    .map_err(|r| CompileError::Projection { projection: p.label.clone(), reason: format!("learning rule: {r}") })?;
            }
        }
        let (gaps, own): (Vec<_>, Vec<_>) = std::mem::take(&mut l.quant).into_iter().partition(|(e, _)| e.index() >= n_edges);
        l.quant = own;
        for (e, q) in gaps {
            gap_quant[e.index() - n_edges] = Some(q);
        }
        for &(e, _) in &into[pi.index()] {
            if let Some(o) = origin(e) {
                // invariant: a delay stage ends at its origin's post population and the origin (kept, stage 0) is in `incoming` above;
                // `lower` quantises every incoming projection (sources take none: the front ends refuse synapses into them)
                let q = l.quant.iter().find(|(x, _)| *x == o).map(|(_, q)| q.clone()).expect("a delay stage's origin is quantised");
                l.quant.push((e, q));
            }
        }
        lowered.push(l);
    }
    times.lower = t.elapsed().as_secs_f64();

    let t = Instant::now();
    // Partition also gives, per (source, target) population, which slices connect.
    opts.stopped()?;
    let (splits, conns) = partition(arch, net, opts.neurons_per_core, &syn, &gap_syn, opts.threads, progress)?;
    opts.stopped()?;
    times.partition = t.elapsed().as_secs_f64();
    let gap_quant = gap_quant
        .into_iter()
        .enumerate()
        .map(|(k, q)| {
            q.ok_or_else(|| CompileError::Projection {
                projection: net.electrical[k].p.label.clone(),
                reason: "its target's model takes no electrical input".into(),
            })
        })
        .collect::<Result<_>>()?;
    Ok(Front { ext, syn, gap_syn, gap_quant, lowered, splits, conns, times })
}

/// Bytes compiling takes per synapse, at the peak (the 1M-neuron,
/// 100M-synapse network: 3.05 GiB, ~33 B per synapse).
const BYTES_PER_SYNAPSE: u64 = 40;
/// And per neuron (state, parameters and the emulator's arrays, with room).
const BYTES_PER_NEURON: u64 = 256;

/// The synapses a network's connectors make, at most (without expanding them).
pub fn synapse_bound(net: &Network) -> u64 {
    net.projections()
        .map(|(_, a, b, p)| {
            let (na, nb) = (net.pop(a).size as u64, net.pop(b).size as u64);
            match &p.connector {
                Connector::AllToAll { .. } => na * nb,
                Connector::OneToOne => na.min(nb),
                // The expected count and five standard deviations above it.
                Connector::FixedProbability { p, .. } => {
                    let m = p * (na * nb) as f64;
                    (m + 5.0 * m.sqrt() + 1.0).min((na * nb) as f64) as u64
                }
                Connector::FixedNumberPre { n, .. } => *n as u64 * nb,
                Connector::FixedNumberPost { n, .. } => *n as u64 * na,
                Connector::FromList(l) => l.len() as u64,
                Connector::Dense(_) => na * nb,
                // Saturating: nb × channels × kernel passes 64 bits (it wrapped to a bound that passed).
                // A pair of neurons meets at one tap at most: na × nb bounds it
                // too (a kernel of 2^20 padded around 4 inputs was 2^40 synapses).
                Connector::Conv2d(c) => [(c.in_shape[0] / c.groups.max(1)) as u64, c.kernel[0] as u64, c.kernel[1] as u64]
                    .into_iter()
                    .fold(nb, u64::saturating_mul)
                    .min(na.saturating_mul(nb)),
                Connector::Pool2d(c) => nb.saturating_mul(c.kernel[0] as u64).saturating_mul(c.kernel[1] as u64).min(na.saturating_mul(nb)),
            }
        })
        .fold(0u64, u64::saturating_add)
}

/// Refuses, before any allocation, a network whose compilation would need
/// more memory than the machine has available, with the estimate.
fn check_memory(net: &Network) -> Result<()> {
    let synapses = synapse_bound(net);
    let neurons: u64 = net.pops().map(|(_, p)| p.size as u64).sum();
    let need = synapses.saturating_mul(BYTES_PER_SYNAPSE).saturating_add(neurons.saturating_mul(BYTES_PER_NEURON));
    let Some((avail, bound)) = nerve_isa::files::available_memory() else { return Ok(()) };
    if need > avail {
        return Err(CompileError::Network(format!(
            "the network has {neurons} neurons and makes up to {synapses} synapses: compiling it needs about {:.1} GiB ({BYTES_PER_NEURON} bytes per neuron, {BYTES_PER_SYNAPSE} per synapse), more than the {:.1} GiB {bound}",
            need as f64 / (1u64 << 30) as f64,
            avail as f64 / (1u64 << 30) as f64
        )));
    }
    Ok(())
}

/// Refuses, before they are built, the populations and synapses the compiler
/// adds to a network (delay extensions' relays), and `scratch` bytes it needs
/// while adding them, with the same estimate as `check_memory`; the message
/// says what is needed and what is available.
pub(crate) fn check_added_fit(neurons: u64, synapses: u64, scratch: u64) -> std::result::Result<(), String> {
    let need = neurons.saturating_mul(BYTES_PER_NEURON).saturating_add(synapses.saturating_mul(BYTES_PER_SYNAPSE)).saturating_add(scratch);
    let Some((avail, bound)) = nerve_isa::files::available_memory() else { return Ok(()) };
    if need > avail {
        return Err(format!(
            "{neurons} neurons and {synapses} synapses need about {:.1} GiB ({BYTES_PER_NEURON} bytes per neuron, {BYTES_PER_SYNAPSE} per synapse, {:.1} GiB while they are built), more than the {:.1} GiB {bound}",
            need as f64 / (1u64 << 30) as f64,
            scratch as f64 / (1u64 << 30) as f64,
            avail as f64 / (1u64 << 30) as f64
        ));
    }
    Ok(())
}

/// Refuses, before they are built, `neurons` neurons that each take
/// `extra` bytes besides the compiler's own (a front end's per-neuron copy of
/// something given once), with the same estimate as `check_memory`: the
/// message says what is needed and what is available.
pub(crate) fn check_neurons_fit(neurons: u64, extra: u64) -> std::result::Result<(), String> {
    let per = BYTES_PER_NEURON.saturating_add(extra);
    let need = neurons.saturating_mul(per);
    let Some((avail, bound)) = nerve_isa::files::available_memory() else { return Ok(()) };
    if need > avail {
        return Err(format!(
            "{neurons} neurons need about {:.1} GiB ({per} bytes per neuron), more than the {:.1} GiB {bound}",
            need as f64 / (1u64 << 30) as f64,
            avail as f64 / (1u64 << 30) as f64
        ));
    }
    Ok(())
}

/// Expands every projection's connector, on up to `threads` host threads
/// (each projection alone, so the result does not depend on the count).
fn expand_all(net: &Network, opts: &Options) -> Result<Vec<Synapses>> {
    let edges: Vec<ProjIx> = net.projections().map(|(e, _, _, _)| e).collect();
    // Threads pay off for large networks only (as in code generation).
    let neurons: u64 = net.pops().map(|(_, p)| p.size as u64).sum();
    let threads = opts.threads.unwrap_or_else(|| if neurons < 50_000 { 1 } else { std::thread::available_parallelism().map_or(1, |n| n.get()).min(8) });
    // A stop is seen between projections: the stage is a compile's longest (the 1M network's 1.4 s).
    crate::par::map_in_order(edges, threads, |e| opts.stopped().and_then(|()| expand(net, e))).into_iter().collect()
}

/// What exporters need of a compilation, without placing, routing or
/// generating code: the quantisation, the partition and the synapses of the
/// network's own projections.
pub struct Prepared {
    /// The profile's name.
    pub arch: String,
    /// How each projection's weights were quantised.
    pub quant: Vec<(ProjIx, ProjQuant)>,
    /// Per population of the network: most neurons on one of its cores.
    pub neurons_per_core: Vec<u32>,
    /// Per projection of the network: its synapses.
    pub syn: Vec<Synapses>,
}

/// The first stages of `compile` (expand, quantise, partition), for exporters.
pub fn prepare(arch: &Arch, net: &Network, opts: &Options, progress: &mut dyn FnMut(&str)) -> Result<Prepared> {
    let f = front(arch, net, opts, false, progress)?;
    let Front { ext, mut syn, lowered, splits, .. } = f;
    let n_own = net.graph.edge_count();
    let (origin, mut full): (Vec<Option<ProjIx>>, Vec<(ProjIx, Synapses)>) = match ext {
        Some(x) => (x.origin, x.full),
        None => (vec![None; n_own], Vec::new()),
    };
    let quant: Vec<(ProjIx, ProjQuant)> =
        lowered.iter().flat_map(|l| l.quant.iter().filter(|(e, _)| origin.get(e.index()).copied().flatten().is_none()).cloned()).collect();
    syn.truncate(n_own);
    for (e, s) in full.drain(..) {
        syn[e.index()] = s;
    }
    Ok(Prepared { arch: arch.name.clone(), quant, neurons_per_core: (0..net.num_pops()).map(|p| splits[p].size).collect(), syn })
}

/// Compiles a network for an architecture.
pub fn compile(arch: &Arch, net: &Network, opts: &Options, progress: &mut dyn FnMut(&str)) -> Result<Output> {
    let t_all = Instant::now();
    // Too many neurons for the cores is known before any synapse is built
    // (180,000 neurons at 16 a core on a 4,896-core profile were refused
    // after 13 s of building them). Not in `front`: exporters place nothing,
    // and their targets' machines are not the profile's cores.
    let least = crate::map::partition::least_cores(arch, net, opts.neurons_per_core);
    if least > arch.num_cores() as u64 {
        return Err(CompileError::too_few_cores(arch, least, Some(opts.neurons_per_core.is_some_and(|k| k < arch.core.max_neurons))));
    }
    let Front { ext, syn, gap_syn, gap_quant, lowered, splits, conns, mut times } = front(arch, net, opts, true, progress)?;
    let own_pops = net.num_pops();
    let net: &Network = ext.as_ref().map_or(net, |x| &x.net);
    let origin = |e: ProjIx| ext.as_ref().and_then(|x| x.origin[e.index()]);

    // Slice graph from the slice connections.
    let base = slice_base(&splits);
    let mut edges: Vec<(u32, u32)> = Vec::new();
    for (&(pre, post), conn) in &conns {
        for (s, ts) in conn.iter().enumerate() {
            edges.extend(ts.iter().map(|&sl| (base[pre.index()] + s as u32, base[post.index()] + sl)));
        }
    }
    edges.sort_unstable();
    edges.dedup();
    if !(opts.shared_routes.is_finite() && opts.shared_routes >= 0.0) {
        return Err(CompileError::Options(format!(
            "shared routes: {} is not a fraction of deliveries: give a number >= 0 (0 routes every slice exactly)",
            opts.shared_routes
        )));
    }
    let slice_pop: Vec<u32> = splits.iter().enumerate().flat_map(|(p, s)| std::iter::repeat_n(p as u32, s.count as usize)).collect();
    let len = |g: u32| {
        let p = slice_pop[g as usize] as usize;
        splits[p].len(g - base[p])
    };
    let (graph, sharing) =
        crate::map::route::share::share(net, &SliceGraph { edges }, &splits, &slice_pop, &base, len, opts.shared_routes, arch.core.max_output_axons);
    let mut mapped = map_graph_until(arch, net, &splits, &graph, &opts.place, progress, &|| opts.stopped()).map_err(|e| match e {
        // Cores the compiler's own relays take are named: the network's
        // neurons alone may fit (400,000 sources with a 14.4 ms delay needed
        // 7,816 cores, 6,250 of them relays, and the message said neither).
        CompileError::TooFewCores { arch: a, at_least, required, available, hint } if splits.len() > own_pops => {
            let relays: u64 = splits[own_pops..].iter().map(|s| s.count as u64).sum();
            let longest = net
                .projections()
                .filter(|(_, a, _, _)| a.index() < own_pops)
                .map(|(e, _, _, p)| {
                    // A split projection's whole synapses, not its first stage's.
                    let whole = ext.as_ref().and_then(|x| x.full.iter().find(|(f, _)| *f == e)).map_or(&syn[e.index()], |(_, s)| s);
                    (whole.max_delay(), p.label.clone())
                })
                .max_by_key(|(d, _)| *d);
            let why = longest.map_or(String::new(), |(d, l)| format!(" (the longest: projection {l}, {d} timesteps)"));
            CompileError::TooFewCores {
                arch: a,
                at_least,
                required,
                available,
                hint: format!(
                    "{hint}; {relays} of the {required} are relays the compiler adds for delays past `{}`'s {} delay slots{why}: shorter delays need fewer",
                    arch.name, arch.core.max_delay_steps
                ),
            }
        }
        e => e,
    })?;
    opts.stopped()?;
    mapped.routes.stats.sharing = sharing;
    times.place = mapped.place_s;
    times.route = mapped.route_s;

    progress("generating code");
    opts.stopped()?;
    let t = Instant::now();
    let mut image = emit::codegen(arch, net, opts, &syn, &lowered, &splits, &mapped, &conns)?;
    for (core, g) in crate::gap::edges(net, &gap_syn, &gap_quant, &lowered, &splits, &mapped.placement.cores)? {
        // invariant: `edges` places every junction on the cores of its populations' slices, which codegen made
        let i = image.cores.binary_search_by_key(&core, |c| c.core).expect("a junction's target core is in the image");
        image.cores[i].gap.push(g);
    }
    times.codegen = t.elapsed().as_secs_f64();

    progress("checking the image");
    opts.stopped()?;
    let t = Instant::now();
    let image = image.into_valid_on(opts.threads).map_err(|e| CompileError::Internal(format!("the generated image is invalid: {e}")))?;
    emit::check_routes(&image, &splits, &mapped, opts.threads)?;
    times.check = t.elapsed().as_secs_f64();
    times.total = t_all.elapsed().as_secs_f64();

    let report = crate::report::map_report(arch, net, opts, &syn, &lowered, &splits, &mapped, &image, times);
    // What exporters read: the quantisation of the network's own projections.
    let quant: Vec<(ProjIx, ProjQuant)> = lowered.iter().flat_map(|l| l.quant.iter().filter(|(e, _)| origin(*e).is_none()).cloned()).collect();
    let mut report = report;
    report.quantisation = quant.iter().map(|(_, q)| q.clone()).collect();
    Ok(Output { image, report, quant })
}
