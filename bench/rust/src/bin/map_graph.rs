//! Maps a PACMAN peer graph (../shared/peers/pacman-graphs/*.json) with nerve's
//! partitioner, placer, router and compressor, and prints one JSON object:
//! time per stage, cores, chips, routing entries, link loads. The `random`
//! graphs are expanded with CPython's generator, exactly as pacman_peer.py does.
//!
//!     map_graph GRAPH.json [--effort N] [--seed S] [--entries N]

use std::time::Instant;

use nerve_bench::pyrandom::PyRandom;
use nerve_compiler::compile::map_graph;
use nerve_compiler::map::partition::Split;
use nerve_compiler::map::place::{slice_base, PlaceOptions};
use nerve_compiler::map::route::SliceGraph;
use nerve_compiler::net::model::*;
use nerve_isa::arch::Arch;
use nerve_isa::ids::RoutingKey;
use serde_json::{json, Value};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = args.get(1).expect("usage: map_graph GRAPH.json [--effort N] [--seed S]");
    let opt = |name: &str, default: u64| -> u64 {
        args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).map_or(default, |v| v.parse().expect("a number"))
    };
    let spec: Value = serde_json::from_str(&std::fs::read_to_string(path).expect("graph file")).expect("JSON");
    let default_max = spec["max_atoms_per_core"].as_u64().unwrap_or(256) as u32;
    // Populations and (deduplicated) edges.
    let mut pops: Vec<(String, u32, u32)> = Vec::new();
    let mut edges: Vec<(String, String)> = Vec::new();
    if let Some(r) = spec.get("random") {
        let mut rng = PyRandom::new(r["seed"].as_u64().unwrap_or(1));
        let n = r["n_pops"].as_u64().unwrap();
        for i in 0..n {
            let size = rng.randint(r["n_min"].as_i64().unwrap(), r["n_max"].as_i64().unwrap());
            pops.push((format!("p{i}"), size as u32, default_max));
        }
        let p = r["p_edge"].as_f64().unwrap();
        for a in 0..n {
            for b in 0..n {
                if rng.random() < p {
                    edges.push((format!("p{a}"), format!("p{b}")));
                }
            }
        }
    } else {
        for p in spec["populations"].as_array().unwrap() {
            pops.push((
                p["label"].as_str().unwrap().into(),
                p["n"].as_u64().unwrap() as u32,
                p["max_atoms_per_core"].as_u64().map_or(default_max, |x| x as u32),
            ));
        }
        for e in spec["projections"].as_array().unwrap_or(&vec![]) {
            edges.push((e["pre"].as_str().unwrap().into(), e["post"].as_str().unwrap().into()));
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    edges.retain(|e| seen.insert(e.clone()));
    // The machine: SpiNNaker chips in a triangular torus of the same size as PACMAN's.
    let m = &spec["machine"];
    let (w, h) = if let (Some(w), Some(h)) = (m["width"].as_u64(), m["height"].as_u64()) {
        (w, h)
    } else {
        match m["n_boards"].as_u64().unwrap_or(1) {
            1 => (8, 8),
            3 => (12, 12),
            6 => (24, 12),
            b => panic!("{b} boards: give width and height"),
        }
    };
    let mut arch = Arch::builtin("spinnaker").unwrap();
    arch.topology.chips = [w as u16, h as u16];
    // `--entries N` shrinks the routers, to exercise re-routing.
    arch.router.table_entries = opt("--entries", arch.router.table_entries as u64) as u32;

    let t_all = Instant::now();
    let t0 = Instant::now();
    let mut net = Network::new("graph", 1.0);
    let mut index = std::collections::BTreeMap::new();
    for (name, size, _) in &pops {
        let id = net.graph.add_node(Population {
            name: name.clone(),
            size: *size,
            model: Model::Input,
            initial: vec![],
            record_spikes: false,
            max_per_core: None,
            labels: vec![],
        });
        index.insert(name.clone(), id);
    }
    for (a, b) in &edges {
        net.graph.add_edge(
            index[a],
            index[b],
            Projection {
                label: format!("{a}→{b}"),
                receptor: Receptor::Excitatory,
                connector: Connector::AllToAll { allow_self_connections: true },
                weight: Some(1.0),
                delay_ms: None,
                loihi: LoihiWeights::default(),
                plasticity: None,
            },
        );
    }
    let splits: Vec<Split> = pops.iter().map(|(_, n, max)| Split::new(*n, (*max).min(arch.core.max_neurons))).collect();
    let base = slice_base(&splits);
    // PACMAN's application edges: every slice of pre to every slice of post.
    let mut ge = Vec::new();
    for (a, b) in &edges {
        let (pa, pb) = (index[a].index(), index[b].index());
        for s in 0..splits[pa].count {
            for t in 0..splits[pb].count {
                ge.push((base[pa] + s, base[pb] + t));
            }
        }
    }
    ge.sort_unstable();
    ge.dedup();
    let graph = SliceGraph { edges: ge };
    let partition_s = t0.elapsed().as_secs_f64();
    let opts = PlaceOptions { effort: opt("--effort", 60) as u32, seed: opt("--seed", 0), ..PlaceOptions::default() };
    let mapped = map_graph(&arch, &net, &splits, &graph, &opts, &mut |_| {}).unwrap_or_else(|e| {
        eprintln!("error: {e}");
        std::process::exit(1)
    });
    let total_s = t_all.elapsed().as_secs_f64();
    // Check every source's first and last key against its destinations through the compressed tables.
    let t1 = Instant::now();
    let tables: std::collections::BTreeMap<u32, &Vec<nerve_isa::image::RouteEntry>> = mapped.routes.tables.iter().map(|(t, e)| (t.0, e)).collect();
    let empty = Vec::new();
    let mut checked = 0u64;
    for (p, sp) in splits.iter().enumerate() {
        for k in 0..sp.count {
            let g = (base[p] + k) as usize;
            let Some(kb) = mapped.keys.base[g] else { continue };
            let src = arch.tile_of(mapped.placement.cores[p][k as usize]);
            for key in [kb.0, kb.0 + sp.len(k) - 1] {
                let tr = nerve_isa::route::trace(&arch, src, RoutingKey(key), |t| tables.get(&t.0).map_or(&empty[..], |v| &v[..])).expect("routable");
                assert_eq!(tr.cores, mapped.dests[g], "key {key:#x} reaches the wrong cores");
                checked += 1;
            }
        }
    }
    let check_s = t1.elapsed().as_secs_f64();
    let mut chips: Vec<u32> = mapped.placement.cores.iter().flatten().map(|&c| arch.chip_of(arch.tile_of(c)).0).collect();
    chips.sort();
    chips.dedup();
    let split_pops = mapped
        .placement
        .cores
        .iter()
        .filter(|cs| {
            let mut t: Vec<u32> = cs.iter().map(|&c| arch.tile_of(c).0).collect();
            t.sort();
            t.dedup();
            t.len() > 1
        })
        .count();
    let r = &mapped.routes.stats;
    let out = json!({
        "graph": path, "machine": {"width": w, "height": h, "chips": w * h},
        "populations": pops.len(), "neurons": pops.iter().map(|p| p.1 as u64).sum::<u64>(), "app_edges": edges.len(),
        "cores_used": splits.iter().map(|s| s.count).sum::<u32>(), "chips_used": chips.len(),
        "populations_on_several_chips": split_pops,
        "entries": {"one_per_tree_node": r.entries_uncompressed, "after_default_elision": r.entries_after_elision,
                     "max_after_elision": r.max_table_uncompressed, "compressed": r.entries_compressed, "max_compressed": r.max_table_compressed},
        "traffic": {"tree_hops": r.tree_hops, "neuron_weighted_hops": r.neuron_weighted_hops, "max_link_trees": r.max_link_trees,
                     "max_link_neurons": r.max_link_neurons, "mean_tree_depth": r.mean_tree_depth, "max_tree_depth": r.max_tree_depth},
        "placement_cost": {"initial": mapped.placement.cost_initial, "final": mapped.placement.cost_final},
        "seconds": {"partition": partition_s, "place": mapped.place_s, "route_and_compress": mapped.route_s, "total": total_s},
        "verified_keys": checked, "verify_seconds": check_s
    });
    println!("{}", serde_json::to_string_pretty(&out).unwrap());
}
