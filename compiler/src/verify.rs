//! An independent check of an image's routing against the network: for every
//! key of every source slice, following the tables hop by hop must reach
//! every core that holds targets of that slice's neurons — computed here
//! from the network's synapses and the image's symbol table, not from the
//! compiler's routing data. Every neuron's packet must also find, at each
//! core it reaches, a row holding exactly its synapses into that core: none
//! at the cores a shared route (`map/route/share.rs`) reaches beyond them.

use nerve_isa::ids::RoutingKey;
use nerve_isa::image::Image;

use crate::net::expand::expand;
use crate::net::model::Network;

#[derive(Debug, Default)]
pub struct RoutingCheck {
    pub keys_traced: u64,
    pub deliveries: u64,
    /// Deliveries to cores with no synapse for the neuron (shared routes).
    pub deliveries_without_row: u64,
    pub synapses_checked: u64,
}

/// Checks every key; returns the first discrepancy as an error message.
pub fn check_routing(net: &Network, img: &Image) -> Result<RoutingCheck, String> {
    let a = &img.arch;
    let mut out = RoutingCheck::default();
    // (population index, neuron) → (core, local index)
    // The network and the image are the caller's: a population or neuron the
    // image does not hold is a discrepancy like any other.
    let locate = |pop: usize, neuron: u32| -> Result<(nerve_isa::ids::CoreId, u32), String> {
        let p = img.populations.get(pop).ok_or_else(|| format!("the network's population {pop} is not in the image (it has {})", img.populations.len()))?;
        let s = p
            .slices
            .iter()
            .find(|s| neuron >= s.first && neuron < s.first + s.count)
            .ok_or_else(|| format!("`{}` neuron {neuron}: no slice of the image holds it (the image's population has {} neurons)", p.name, p.size))?;
        Ok((s.core, neuron - s.first))
    };
    // Synapse counts per (pre pop, pre neuron) → per target core, from the network.
    let mut by_source: std::collections::BTreeMap<(usize, u32), std::collections::BTreeMap<u32, u64>> = Default::default();
    for (e, pre, post, _) in net.projections() {
        let s = expand(net, e).map_err(|e| e.to_string())?;
        for i in 0..s.n_pre() {
            for k in s.row(i) {
                let (core, _) = locate(post.index(), s.post[k])?;
                *by_source.entry((pre.index(), i as u32)).or_default().entry(core.0).or_insert(0) += 1;
            }
        }
    }
    // Cores with shared kernels: their rows as generated.
    let generated: std::collections::BTreeMap<u32, nerve_isa::image::CoreImage> = img
        .cores
        .iter()
        .filter(|c| !c.conv.is_empty())
        .map(|c| {
            let (rows, synapses) = c.expanded();
            (c.core.0, nerve_isa::image::CoreImage { rows, synapses, conv: vec![], ..c.clone() })
        })
        .collect();
    for (pi, pop) in img.populations.iter().enumerate() {
        for sl in &pop.slices {
            let c = img.core(sl.core).ok_or("slice core missing")?;
            // Cores the slice as a whole must reach.
            let mut want_slice: Vec<u32> = (sl.first..sl.first + sl.count).filter_map(|n| by_source.get(&(pi, n))).flat_map(|m| m.keys().copied()).collect();
            want_slice.sort();
            want_slice.dedup();
            let Some(kb) = c.key_base else {
                if !want_slice.is_empty() {
                    return Err(format!("`{}` slice on {} has targets but sends no packets", pop.name, sl.core));
                }
                continue;
            };
            for local in 0..sl.count {
                let key = RoutingKey(kb.0 + local);
                let tr = img.trace(a.tile_of(c.core), key).map_err(|e| e.to_string())?;
                out.keys_traced += 1;
                let got: Vec<u32> = tr.cores.iter().map(|c| c.0).collect();
                // Shared routes (map/route/share.rs) may reach more cores; those hold no row for the key (checked below).
                let mut missed = want_slice.iter().filter(|c| got.binary_search(c).is_err());
                if missed.next().is_some() {
                    return Err(format!(
                        "key {key} of `{}` neuron {} reaches cores {got:?}, the network's targets are on {want_slice:?}",
                        pop.name,
                        sl.first + local
                    ));
                }
                // Each destination's row holds exactly this neuron's synapses into it.
                let want = by_source.get(&(pi, sl.first + local));
                for &dc in &tr.cores {
                    out.deliveries += 1;
                    let d = generated.get(&dc.0).map_or_else(|| img.core(dc).ok_or("destination core missing"), Ok)?;
                    let n_syn = d.lookup(key).map_or(0, |r| d.row(r).len() as u64);
                    let expect = want.and_then(|m| m.get(&dc.0)).copied().unwrap_or(0);
                    if n_syn != expect {
                        return Err(format!("key {key} at {dc}: row has {n_syn} synapses, the network has {expect}"));
                    }
                    out.synapses_checked += n_syn;
                    out.deliveries_without_row += (expect == 0) as u64;
                }
            }
        }
    }
    Ok(out)
}
