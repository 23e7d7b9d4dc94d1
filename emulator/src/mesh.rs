//! The network between cores: what a spike's packet does on its way, as
//! the image's routing tables define it. Multicast routes are resolved once
//! per source core (or per key where a core's keys route differently) by
//! tracing the tables (`Image::trace`): destinations, links,
//! routers, hops by kind, chip crossings and path latencies. The
//! per-destination message model (Loihi, SANA-FE) takes instead one
//! dimension-order path per (source core, destination core) pair.
//! Both change what is charged, never what is delivered.

use std::collections::BTreeMap;

use nerve_isa::arch::HopKind;
use nerve_isa::ids::{CoreId, LinkId, RoutingKey};
use nerve_isa::image::Image;

use crate::error::{EmuError, Result};
use crate::machine::Machine;

/// Where a source core's packets go.
#[derive(Clone, Debug, PartialEq)]
pub struct Dest {
    /// Index of the destination core in `Machine::cores`.
    pub core: u32,
    /// Path latency from the source, ns.
    pub latency_ns: f64,
}

/// A resolved multicast route.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Route {
    pub dests: Vec<Dest>,
    /// The destinations' core indices alone (what a step's delivery reads:
    /// a quarter of the bytes).
    pub cores: Vec<u32>,
    /// Directed links used.
    pub links: Vec<LinkId>,
    pub routers: u32,
    pub hops: [u32; 3],
    pub chip_crossings: u32,
    /// Largest path latency over the destinations, ns.
    pub latency_ns: f64,
}

/// The route of neuron `i` of a core with routes `rs`.
#[inline]
pub fn route_of(rs: &[Route], i: usize) -> &Route {
    if rs.len() == 1 {
        &rs[0]
    } else {
        &rs[i]
    }
}

/// Every core's multicast routes: one for all its keys where the tables
/// treat them alike, else one per key; none for a core that sends nothing.
/// `index` maps a core id to its index in the image's cores. Traced on the
/// host's threads for a large image, each over a range of cores (the 1M
/// ring's routes took 0.45–0.51 s of its ~3 s load on one); the first error
/// in core order, as on one thread.
pub fn resolve(img: &Image, index: &BTreeMap<CoreId, u32>) -> Result<Vec<Vec<Route>>> {
    let threads = if img.cores.len() >= PARALLEL_ROUTES { nerve_isa::host_threads() } else { 1 };
    resolve_on(img, index, threads)
}

/// `resolve` on `threads` threads (tests: the same routes and the same
/// first error on any count).
pub fn resolve_on(img: &Image, index: &BTreeMap<CoreId, u32>, threads: usize) -> Result<Vec<Vec<Route>>> {
    let n = img.cores.len();
    let threads = threads.clamp(1, n.max(1));
    if threads <= 1 {
        return img.cores.iter().map(|c| routes_of(img, index, c)).collect();
    }
    let parts: Vec<Result<Vec<Vec<Route>>>> = std::thread::scope(|sc| {
        let hs: Vec<_> = (0..threads)
            .map(|k| {
                let cores = &img.cores[k * n / threads..(k + 1) * n / threads];
                sc.spawn(move || cores.iter().map(|c| routes_of(img, index, c)).collect::<Result<Vec<_>>>())
            })
            .collect();
        // invariant: tracing a route has no panic path (bad tables are errors); a panic there is a bug, which the join passes on
        hs.into_iter().map(|h| h.join().expect("a route-tracing thread panicked")).collect()
    });
    let mut all_routes = Vec::with_capacity(n);
    for p in parts {
        all_routes.extend(p?);
    }
    Ok(all_routes)
}

/// Cores from which `resolve` traces routes on several threads.
const PARALLEL_ROUTES: usize = 512;

/// Core `c`'s routes (see `resolve`).
fn routes_of(img: &Image, index: &BTreeMap<CoreId, u32>, c: &nerve_isa::image::CoreImage) -> Result<Vec<Route>> {
    let a = &img.arch;
    let Some(kb) = c.key_base else {
        return Ok(vec![]);
    };
    let (lo, hi) = (kb.0, kb.0 + c.n_neurons - 1);
    let src_tile = a.tile_of(c.core);
    let keys: Vec<u32> = if img.routes_alike(lo, hi) { vec![lo] } else { (lo..=hi).collect() };
    let mut routes = Vec::with_capacity(keys.len());
    for &k in &keys {
        let tr = img.trace(src_tile, RoutingKey(k))?;
        let mut dests = Vec::with_capacity(tr.cores.len());
        let mut lat = 0.0f64;
        for (dc, pc) in tr.cores.iter().zip(&tr.paths) {
            let di = *index.get(dc).ok_or_else(|| EmuError::Invalid(format!("packets of {} are routed to {dc}, which the image does not use", c.core)))?;
            let l = a.timing.path_ns(pc);
            lat = lat.max(l);
            dests.push(Dest { core: di, latency_ns: l });
        }
        let mut hops = [0u32; 3];
        let mut crossings = 0;
        let mut links = Vec::with_capacity(tr.hops.len());
        for &(t, d) in &tr.hops {
            match d.hop_kind() {
                HopKind::EastWest => hops[0] += 1,
                HopKind::NorthSouth => hops[1] += 1,
                HopKind::Diagonal => hops[2] += 1,
            }
            if let Some(nb) = a.neighbour(t, d) {
                if a.chip_of(nb) != a.chip_of(t) {
                    crossings += 1;
                }
            }
            links.push(LinkId::new(t, d));
        }
        let cores = dests.iter().map(|d| d.core).collect();
        routes.push(Route { dests, cores, links, routers: tr.routers.len() as u32, hops, chip_crossings: crossings, latency_ns: lat });
    }
    Ok(routes)
}

/// A source core's direct paths, and for each of its fan-out spans the path
/// it takes (an index, so that a message costs no search).
pub struct DirectPaths {
    pub paths: Vec<Direct>,
    /// Aligned with the core's spans (`Fanout::spans`): index into `paths` (spans without synapses: unused).
    pub of_span: Vec<u32>,
    /// Per neuron: its messages' totals, so that a spike costs one lookup.
    pub per_neuron: Vec<NeuronMessages>,
}

/// What one spike of a neuron sends under the per-destination model.
#[derive(Clone, Copy, Default)]
pub struct NeuronMessages {
    pub messages: u32,
    pub hops: [u32; 3],
    pub chip_crossings: u32,
    /// The slowest message's network latency.
    pub latency_ns: f64,
}

/// A per-destination message's path from its source core to `core`.
pub struct Direct {
    pub hops: [u32; 3],
    pub chip_crossings: u32,
    pub latency_ns: f64,
    /// Directed links.
    pub links: Vec<LinkId>,
}

/// The direct paths from each core to the cores its fan-out reaches.
pub fn direct_paths(m: &Machine) -> Vec<DirectPaths> {
    let a = &m.arch;
    let tm = &a.timing;
    // Per destination core: its index in the current source's `dests`
    // (valid where `seen` holds that source), so spans find their path
    // without a search (millions of spans on large networks).
    let mut dest_ix = vec![0u32; m.cores.len()];
    let mut seen = vec![usize::MAX; m.cores.len()];
    m.fanout
        .iter()
        .enumerate()
        .map(|(src, f)| {
            let mut dests: Vec<u32> = Vec::new();
            let spans = f.spans(&m.spans);
            for s in spans.iter().filter(|s| s.len > 0) {
                if seen[s.core as usize] != src {
                    seen[s.core as usize] = src;
                    dests.push(s.core);
                }
            }
            dests.sort_unstable();
            for (k, &d) in dests.iter().enumerate() {
                dest_ix[d as usize] = k as u32;
            }
            let from = a.tile_of(m.cores[src].id);
            // Spans without synapses send no message and have no path (never read).
            let of_span: Vec<u32> = spans.iter().map(|s| if s.len > 0 { dest_ix[s.core as usize] } else { u32::MAX }).collect();
            let paths = dests
                .into_iter()
                .map(|d| {
                    let to = a.tile_of(m.cores[d as usize].id);
                    let mut links = Vec::new();
                    nerve_isa::route::direct_path(a, from, to, |t, dir| links.push(LinkId::new(t, dir)));
                    let c = nerve_isa::route::direct_cost(a, from, to);
                    let latency_ns = tm.path_ns(&c);
                    Direct { hops: [c.ew, c.ns, c.diag], chip_crossings: c.chip_crossings, latency_ns, links }
                })
                .collect::<Vec<Direct>>();
            let n = f.neurons();
            let per_neuron = (0..n)
                .map(|i| {
                    let mut t = NeuronMessages::default();
                    for si in f.range(i) {
                        if spans[si].len == 0 {
                            continue;
                        }
                        let d = &paths[of_span[si] as usize];
                        t.messages += 1;
                        for k in 0..3 {
                            t.hops[k] += d.hops[k];
                        }
                        t.chip_crossings += d.chip_crossings;
                        t.latency_ns = t.latency_ns.max(d.latency_ns);
                    }
                    t
                })
                .collect();
            DirectPaths { paths, of_span, per_neuron }
        })
        .collect()
}
