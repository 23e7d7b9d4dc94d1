use clap::Args;
use nerve_isa::image::Image;
use nerve_isa::stats::ImageStats;
use std::path::PathBuf;

use super::Result;
use nerve_report::format::{table, util};

#[derive(Args)]
pub struct InspectArgs {
    /// The chip image.
    #[arg(value_parser = super::IN)]
    image: PathBuf,
    /// Print JSON instead of tables.
    #[arg(long)]
    json: bool,
    /// Show every row (by default, at most 40 rows per table: cores, routers and chips).
    #[arg(long)]
    all: bool,
}

pub fn run(a: InspectArgs) -> Result<()> {
    let img = Image::read(&a.image)?;
    let s = ImageStats::of(&img);
    if a.json {
        crate::out::outln!("{}", serde_json::to_string_pretty(&s)?);
        return Ok(());
    }
    let l = &s.limits;
    // Chips in use are those with cores, as `compile` and `run` count them
    // (static power is charged per such chip); a chip that only forwards
    // packets is listed apart.
    let with_cores = s.chips.iter().filter(|c| c.cores_used > 0).count();
    let forwarding = match s.chips.len() - with_cores {
        0 => String::new(),
        n => format!(" and {n} forwarding packets only"),
    };
    // Electrical synapses are no rows and no synapses: listed apart where there are any.
    let gaps = s.total_gap_terms > 0;
    let gap_total = if gaps { format!(", {} gap-junction terms", s.total_gap_terms) } else { String::new() };
    // The compiler's delay relays are counted with the network's neurons
    // (the machine holds them), and said: `compile` and `run` name the
    // network's alone (synfire: 2100 here, 1100 there, without a word).
    let relays: Vec<&str> = img.populations.iter().filter(|p| p.model == nerve_isa::image::RELAY_MODEL).map(|p| p.name.as_str()).collect();
    let (relay_neurons, relay_synapses) =
        s.cores.iter().filter(|c| relays.contains(&c.population.as_str())).fold((0u64, 0u64), |(n, y), c| (n + c.neurons as u64, y + c.synapses));
    let of_relays = |n: u64, what: &str| if relays.is_empty() { String::new() } else { format!(" ({n} of them {what})") };
    crate::out::outln!(
        "image {}: network `{}` on `{}` ({} of {} cores, {} of {} chips{}), {} neurons{}, {} synapses{}{}, {} routing entries (largest table {} of {})",
        a.image.display(),
        s.network,
        s.arch,
        s.cores.len(),
        l.cores,
        with_cores,
        l.chips,
        forwarding,
        s.total_neurons,
        of_relays(relay_neurons, "delay relays"),
        s.total_synapses,
        of_relays(relay_synapses, "into delay relays"),
        gap_total,
        s.total_router_entries,
        s.max_router_entries,
        l.router_entries
    );
    let cap = if a.all { usize::MAX } else { 40 };
    let rows: Vec<Vec<String>> = s
        .cores
        .iter()
        .take(cap)
        .map(|c| {
            vec![
                c.core.to_string(),
                c.tile.to_string(),
                c.chip.to_string(),
                c.population.clone(),
                c.kind.clone(),
                util(c.neurons as u64, Some(l.neurons_per_core)),
                c.synapses.to_string(),
            ]
            .into_iter()
            .chain(gaps.then(|| c.gap_terms.to_string()))
            .chain([
                util(c.synapse_words, Some(l.synapse_words_per_core)),
                util(c.input_keys, l.input_keys_per_core),
                util(c.input_entries as u64, l.input_entries_per_core),
            ])
            .collect()
        })
        .collect();
    let head: Vec<&str> = ["core", "tile", "chip", "population", "runs", "neurons", "synapses"]
        .into_iter()
        .chain(gaps.then_some("gap terms"))
        .chain(["synapse words", "input keys", "input entries"])
        .collect();
    crate::out::outln!("\ncores\n{}", table(&head, rows));
    if s.cores.len() > cap {
        crate::out::outln!("… {} more cores (--all shows them)", s.cores.len() - cap);
    }
    let rows: Vec<Vec<String>> = s
        .tiles
        .iter()
        .take(cap)
        .map(|t| {
            vec![
                t.tile.to_string(),
                format!("({}, {})", t.x, t.y),
                t.chip.to_string(),
                util(t.cores_used as u64, Some(l.cores_per_tile)),
                util(t.router_entries as u64, Some(l.router_entries)),
            ]
        })
        .collect();
    crate::out::outln!("\nrouters\n{}", table(&["tile", "x, y", "chip", "cores used", "router entries"], rows));
    if s.tiles.len() > cap {
        crate::out::outln!("… {} more routers (--all shows them)", s.tiles.len() - cap);
    }
    if s.chips.len() > 1 || s.tiles.len() > s.chips.len() {
        let rows: Vec<Vec<String>> = s
            .chips
            .iter()
            .take(cap)
            .map(|c| {
                vec![
                    c.chip.to_string(),
                    c.cores_used.to_string(),
                    c.neurons.to_string(),
                    c.synapses.to_string(),
                    c.router_entries.to_string(),
                    c.max_router_entries.to_string(),
                ]
            })
            .collect();
        crate::out::outln!("\nchips\n{}", table(&["chip", "cores used", "neurons", "synapses", "router entries", "largest table"], rows));
        if s.chips.len() > cap {
            crate::out::outln!("… {} more chips (--all shows them)", s.chips.len() - cap);
        }
    }
    Ok(())
}
