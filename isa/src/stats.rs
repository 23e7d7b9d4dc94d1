//! Resource use of an image against its architecture's limits: what
//! `nerve inspect` prints and what mapping reports summarise.

use serde::Serialize;

use crate::image::{CoreKind, Image};

/// One core's use of its resources.
#[derive(Clone, Debug, Serialize)]
pub struct CoreStats {
    pub core: u32,
    pub tile: u32,
    pub chip: u32,
    pub population: String,
    pub kind: String,
    pub neurons: u32,
    /// Synapses into the core, those its shared kernels generate included.
    pub synapses: u64,
    /// What the core stores (a shared kernel once, not its synapses).
    pub synapse_words: u64,
    /// Gap-junction terms into the core (`GapEdge`s: a junction's partner
    /// term, and each neuron's self term per input port).
    pub gap_terms: u64,
    /// Rows that packets reach, generated ones included, and the neurons of
    /// other cores whose `v` a gap junction reads.
    pub input_keys: u64,
    pub input_entries: u32,
    pub rows: u32,
    pub kernel_instructions: u32,
}

/// One router node's table.
#[derive(Clone, Debug, Serialize)]
pub struct TileStats {
    pub tile: u32,
    pub chip: u32,
    pub x: u32,
    pub y: u32,
    pub cores_used: u32,
    pub router_entries: u32,
}

/// One chip.
#[derive(Clone, Debug, Serialize)]
pub struct ChipStats {
    pub chip: u32,
    pub cores_used: u32,
    pub neurons: u64,
    pub synapses: u64,
    pub router_entries: u32,
    pub max_router_entries: u32,
}

/// The limits the figures above are measured against.
#[derive(Clone, Debug, Serialize)]
pub struct Limits {
    pub neurons_per_core: u32,
    pub synapse_words_per_core: u32,
    pub input_keys_per_core: Option<u32>,
    pub input_entries_per_core: Option<u32>,
    pub router_entries: u32,
    pub kernel_instructions: u32,
    pub cores_per_tile: u32,
    pub cores: u32,
    pub tiles: u32,
    pub chips: u32,
}

#[derive(Clone, Debug, Serialize)]
pub struct ImageStats {
    pub network: String,
    pub arch: String,
    pub limits: Limits,
    pub cores: Vec<CoreStats>,
    pub tiles: Vec<TileStats>,
    pub chips: Vec<ChipStats>,
    pub total_neurons: u64,
    pub total_synapses: u64,
    pub total_gap_terms: u64,
    pub total_router_entries: u64,
    pub max_router_entries: u32,
}

impl ImageStats {
    pub fn of(img: &Image) -> ImageStats {
        let a = &img.arch;
        let mut cores = Vec::with_capacity(img.cores.len());
        for c in &img.cores {
            let tile = a.tile_of(c.core);
            let (kind, instrs) = match &c.kind {
                CoreKind::Neuron { kernel, .. } => {
                    let k = &img.kernels[kernel.index()];
                    (format!("kernel {}", k.name), k.code.len() as u32)
                }
                CoreKind::SpikeArray { .. } => ("spike array".to_string(), 0),
                CoreKind::External => ("external input".to_string(), 0),
            };
            // A shared-kernel core's synapses and input keys are the rows
            // its kernels generate (what the compile and run reports
            // count); what it stores is the kernel (`synapse_words`).
            let generated = if c.conv.is_empty() { None } else { Some(c.expanded()) };
            let (rows, synapses) = generated.as_ref().map_or((c.rows.len(), c.synapses.len()), |(r, s)| (r.len(), s.len()));
            cores.push(CoreStats {
                core: c.core.0,
                tile: tile.0,
                chip: a.chip_of(tile).0,
                population: img.populations[c.pop.index()].name.clone(),
                kind,
                neurons: c.n_neurons,
                synapses: synapses as u64,
                synapse_words: img.synapse_words(c),
                gap_terms: c.gap.len() as u64,
                input_keys: rows as u64 + c.gap_sources(),
                input_entries: c.inputs.len() as u32,
                rows: rows as u32,
                kernel_instructions: instrs,
            });
        }
        // Tiles that have cores or entries, in id order.
        let mut tile_ids: Vec<u32> = cores.iter().map(|c| c.tile).chain(img.routers.iter().map(|r| r.tile.0)).collect();
        tile_ids.sort_unstable();
        tile_ids.dedup();
        let tiles: Vec<TileStats> = tile_ids
            .iter()
            .map(|&t| {
                let tid = crate::ids::TileId(t);
                let (x, y) = a.tile_xy(tid);
                TileStats {
                    tile: t,
                    chip: a.chip_of(tid).0,
                    x,
                    y,
                    cores_used: cores.iter().filter(|c| c.tile == t).count() as u32,
                    router_entries: img.router(tid).map_or(0, |r| r.entries.len() as u32),
                }
            })
            .collect();
        let mut chip_ids: Vec<u32> = tiles.iter().map(|t| t.chip).collect();
        chip_ids.dedup();
        chip_ids.sort_unstable();
        chip_ids.dedup();
        let chips = chip_ids
            .iter()
            .map(|&ch| {
                let ts = tiles.iter().filter(|t| t.chip == ch);
                let cs = cores.iter().filter(|c| c.chip == ch);
                ChipStats {
                    chip: ch,
                    cores_used: cs.clone().count() as u32,
                    neurons: cs.clone().map(|c| c.neurons as u64).sum(),
                    synapses: cs.map(|c| c.synapses).sum(),
                    router_entries: ts.clone().map(|t| t.router_entries).sum(),
                    max_router_entries: ts.map(|t| t.router_entries).max().unwrap_or(0),
                }
            })
            .collect();
        ImageStats {
            network: img.meta.network.clone(),
            arch: a.name.clone(),
            limits: Limits {
                neurons_per_core: a.core.max_neurons,
                synapse_words_per_core: a.core.synapse_words,
                input_keys_per_core: a.core.max_input_keys,
                input_entries_per_core: a.core.max_input_table_entries,
                router_entries: a.router.table_entries,
                kernel_instructions: a.core.kernel_max_instructions,
                cores_per_tile: a.cores_per_tile(),
                cores: a.num_cores(),
                tiles: a.num_tiles(),
                chips: a.num_chips(),
            },
            total_neurons: cores.iter().map(|c| c.neurons as u64).sum(),
            total_synapses: cores.iter().map(|c| c.synapses).sum(),
            total_gap_terms: cores.iter().map(|c| c.gap_terms).sum(),
            total_router_entries: tiles.iter().map(|t| t.router_entries as u64).sum(),
            max_router_entries: tiles.iter().map(|t| t.router_entries).max().unwrap_or(0),
            cores,
            tiles,
            chips,
        }
    }
}
