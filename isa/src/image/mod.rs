//! The chip image: everything a machine needs to run a network, and nothing
//! else. The emulator runs only images; the compiler's only product is an image.
//!
//! On disk (all integers little-endian):
//! ```text
//! 0..8    magic "NERVEIMG"
//! 8..12   format version (u32)
//! 12..16  flags (u32, 0)
//! 16..24  payload length in bytes (u64)
//! 24..28  CRC-32 (IEEE) of the payload
//! 28..32  reserved (0)
//! 32..    payload: `Image` encoded by bincode 2 (serde, standard configuration)
//! ```
//! Decoding checks the header, the length, the checksum, decodes with a bound
//! on allocation, rejects trailing bytes and then runs [`Image::validate`].

mod codec;
pub use codec::{CoreColumns, LoadImage};
mod conv;
mod part;
mod validate;

pub use crate::route::{CoreMask, RouteEntry, RouterTable};
pub use conv::{ConvGeometry, ConvRows, MAX_ADDRESSED_ROWS, MAX_GENERATED_SYNAPSES, MAX_STEP};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::arch::{Arch, ArchError};
use crate::ids::{CoreId, KernelId, PopId, RoutingKey, TileId};
use crate::kernel::{Kernel, KernelError};

pub const MAGIC: [u8; 8] = *b"NERVEIMG";
/// Bumped on every change to the payload layout (including the architecture description).
pub const FORMAT_VERSION: u32 = 11;
pub const HEADER_LEN: usize = 32;

/// An image that passed `Image::validate`. Only `Image::into_valid` makes
/// one, and it gives no mutable access, so it stays valid; `into_image`
/// gives the image back (to change it, then validate again).
#[derive(Clone, Debug, PartialEq)]
pub struct ValidImage(Image);

impl ValidImage {
    pub fn into_image(self) -> Image {
        self.0
    }
}

impl std::ops::Deref for ValidImage {
    type Target = Image;
    fn deref(&self) -> &Image {
        &self.0
    }
}

/// A complete chip image.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Image {
    /// The machine this image targets, carried whole so an image is self-contained.
    pub arch: Arch,
    pub meta: Meta,
    pub kernels: Vec<Kernel>,
    /// Cores in use, sorted by id, each at most once.
    pub cores: Vec<CoreImage>,
    /// Routing tables of the router nodes that have entries, sorted by tile, each at most once.
    pub routers: Vec<RouterTable>,
    /// The symbol table: populations and where their neurons live.
    pub populations: Vec<PopSymbol>,
    /// Learning rules of the plastic projections (`CoreImage::plastic` names them).
    pub rules: Vec<crate::learning::LearningRule>,
}

/// Provenance and run settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    /// The network's name.
    pub network: String,
    /// Biological time per timestep, ms.
    pub dt_ms: f64,
    /// The seed the compiler used (connectors, initial values, placement).
    pub seed: u64,
    /// `nerve-compiler x.y.z` or the test that built the image.
    pub producer: String,
}

/// One core's program and data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CoreImage {
    pub core: CoreId,
    /// The population this core holds a slice of.
    pub pop: PopId,
    pub n_neurons: u32,
    pub kind: CoreKind,
    /// Neuron i sends packets with key `key_base + i`; `None`: the core sends nothing.
    pub key_base: Option<RoutingKey>,
    /// Key → synaptic rows, sorted by key, non-overlapping.
    pub inputs: Vec<InputEntry>,
    /// The non-empty synaptic rows, sorted by row number. Row `rows[k].row`
    /// holds `synapses[rows[k].start..rows[k + 1].start]` (the last runs to the
    /// end of `synapses`); every row not listed is empty.
    #[serde(with = "crate::packed")]
    pub rows: Vec<RowStart>,
    #[serde(with = "crate::packed")]
    pub synapses: Vec<Synapse>,
    /// Shared-kernel projections (convolution, pooling) stored as their kernel
    /// (only where the profile has `core.shared_kernels`): their rows are
    /// generated, see `ConvRows` and `CoreImage::expanded`.
    pub conv: Vec<ConvRows>,
    /// The core's plastic synapses, one set per learning projection.
    pub plastic: Vec<crate::learning::PlasticSet>,
    /// Electrical synapses into this core's neurons (gap junctions): each
    /// step, a source neuron's state value, times a weight, into a port.
    #[serde(with = "crate::packed")]
    pub gap: Vec<GapEdge>,
}

/// An electrical synapse: every step t, `weight × v / 2^shift` (rounded to
/// nearest, ties away from zero) of source
/// neuron `src_neuron` on core `src_core` (its state slot `slot` after the
/// step's update) is added into port `port` of neuron `target` for step t + 1.
/// A gap junction g·(v_pre − v_post) is two of them: from the partner, and
/// from the neuron itself with −g (the compiler sums those per neuron).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GapEdge {
    pub src_core: CoreId,
    pub weight: i32,
    pub src_neuron: u16,
    pub target: u16,
    pub slot: u8,
    pub port: u8,
    pub shift: u8,
}

impl crate::packed::Packed for GapEdge {
    const NAME: &'static str = "gap junction";
    const FIELDS: &'static [crate::packed::Field] = &[
        field("src_core", 4, false),
        field("weight", 4, false),
        field("src_neuron", 2, false),
        field("target", 2, false),
        field("slot", 1, false),
        field("port", 1, false),
        field("shift", 1, false),
    ];
    fn fields(&self) -> [u64; crate::packed::MAX_FIELDS] {
        let g = self;
        [g.src_core.0 as u64, crate::packed::from_i32(g.weight), g.src_neuron as u64, g.target as u64, g.slot as u64, g.port as u64, g.shift as u64, 0]
    }
    fn from_fields(f: &[u64; crate::packed::MAX_FIELDS]) -> Self {
        GapEdge {
            src_core: CoreId(f[0] as u32),
            weight: crate::packed::to_i32(f[1]),
            src_neuron: f[2] as u16,
            target: f[3] as u16,
            slot: f[4] as u8,
            port: f[5] as u8,
            shift: f[6] as u8,
        }
    }
}

/// A packed record's field (see `crate::packed`).
const fn field(name: &'static str, bytes: u8, delta: bool) -> crate::packed::Field {
    crate::packed::Field { name, bytes, delta }
}

/// What runs on a core.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum CoreKind {
    /// A neuron kernel over per-neuron parameters and state.
    Neuron {
        kernel: KernelId,
        /// One entry per kernel parameter slot.
        params: Vec<ParamArray>,
        /// Initial state: one array of `n_neurons` values per kernel state slot.
        state: Vec<Vec<i32>>,
    },
    /// Replays fixed spike times: for each neuron, the timesteps it spikes at,
    /// strictly increasing.
    SpikeArray { steps: Vec<Vec<u32>> },
    /// Injects spikes supplied when the image is run (an input population).
    External,
}

/// A parameter's values on one core.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ParamArray {
    /// The same value for every neuron.
    Uniform(i32),
    /// One value per neuron.
    PerNeuron(Vec<i32>),
}

impl ParamArray {
    #[inline]
    pub fn get(&self, n: usize) -> i32 {
        match self {
            ParamArray::Uniform(v) => *v,
            ParamArray::PerNeuron(v) => v[n],
        }
    }
}

/// Where a non-empty row starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RowStart {
    pub row: u32,
    pub start: u32,
}

impl RowStart {
    /// The row number's index among the packed fields (`Columns::steps_into`).
    pub const ROW: usize = 0;
    /// The start's index among the packed fields.
    pub const START: usize = 1;
}

impl crate::packed::Packed for RowStart {
    const NAME: &'static str = "row start";
    // Both grow along a core's rows: stored as steps from the row before.
    const FIELDS: &'static [crate::packed::Field] = &[field("row", 4, true), field("start", 4, true)];
    fn fields(&self) -> [u64; crate::packed::MAX_FIELDS] {
        [self.row as u64, self.start as u64, 0, 0, 0, 0, 0, 0]
    }
    fn from_fields(f: &[u64; crate::packed::MAX_FIELDS]) -> Self {
        RowStart { row: f[0] as u32, start: f[1] as u32 }
    }
}

/// A key/mask entry of a core's input lookup: a packet key `k` matches when
/// `k & mask == key`; it then selects row `row + (k & !mask)` if
/// `k & !mask < count`, and no row otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputEntry {
    pub key: RoutingKey,
    pub mask: u32,
    pub row: u32,
    pub count: u32,
}

/// One synapse of a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Synapse {
    /// Weight mantissa, added into the input port's accumulator (wrapping i32).
    pub weight: i32,
    /// Target neuron index on this core.
    pub target: u16,
    /// Delay in timesteps, 1..=max_delay_steps.
    pub delay: u8,
    /// Input port of the target's kernel.
    pub port: u8,
}

impl Synapse {
    /// The delay's index among the packed fields (`Columns::max`).
    pub const DELAY: usize = 2;
}

impl crate::packed::Packed for Synapse {
    const NAME: &'static str = "synapse";
    const FIELDS: &'static [crate::packed::Field] = &[field("weight", 4, false), field("target", 2, false), field("delay", 1, false), field("port", 1, false)];
    fn fields(&self) -> [u64; crate::packed::MAX_FIELDS] {
        [crate::packed::from_i32(self.weight), self.target as u64, self.delay as u64, self.port as u64, 0, 0, 0, 0]
    }
    fn from_fields(f: &[u64; crate::packed::MAX_FIELDS]) -> Self {
        Synapse { weight: crate::packed::to_i32(f[0]), target: f[1] as u16, delay: f[2] as u8, port: f[3] as u8 }
    }
}

/// The model of the compiler's delay-extension relays: populations the
/// network does not have, which spike recordings leave out.
pub const RELAY_MODEL: &str = "delay_relay";

/// A population in the symbol table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PopSymbol {
    pub name: String,
    pub size: u32,
    /// The neuron model or source kind, e.g. `lif`, `loihi_lif`, `spike_source_poisson`.
    pub model: String,
    /// Where the neurons live, in neuron order: slice i holds neurons
    /// `first..first + count` on `core` as local neurons `0..count`.
    pub slices: Vec<Slice>,
    /// Whether spikes are recorded by default.
    pub record_spikes: bool,
    /// State variables that can be probed, with their physical scale.
    pub vars: Vec<VarSymbol>,
    /// Per neuron, its name (`labels` in the network), or empty.
    pub labels: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slice {
    pub core: CoreId,
    pub first: u32,
    pub count: u32,
}

/// A probe-able state slot: physical value = raw × scale + offset.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VarSymbol {
    pub name: String,
    pub slot: u8,
    pub scale: f64,
    pub offset: f64,
    pub unit: String,
}

/// What a file that is not an image seems to be, when it is a network read
/// where only an image goes (`inspect`, `disasm`, a library's load).
fn magic_hint(found: &[u8; 8]) -> &'static str {
    if crate::files::opens_json(found) {
        "; it looks like a JSON network: compile it first (`nerve compile`), or run it as it is (`nerve run` compiles a network given --arch)"
    } else if *found == crate::files::HDF5_SIGNATURE {
        "; it looks like an HDF5 (NIR) network: compile it first (`nerve compile`), or run it as it is (`nerve run` compiles a network given --arch)"
    } else {
        ""
    }
}

/// What to do about an image of another format version: an older one is
/// compiled again; a newer one came from a newer nerve.
fn version_hint(found: u32) -> &'static str {
    if found > FORMAT_VERSION {
        "the image is newer than this nerve: run it with the nerve that compiled it, or compile the network again with this one"
    } else {
        "compile the network again with this nerve"
    }
}

/// Why bytes are not an image, or an image is not valid for its architecture.
#[derive(Debug, Error)]
pub enum ImageError {
    #[error("not a nerve image: {len} bytes is shorter than the {HEADER_LEN}-byte header")]
    TooShort { len: usize },
    #[error("not a nerve image: bad magic {found:02x?} (expected \"NERVEIMG\"){}", magic_hint(found))]
    BadMagic { found: [u8; 8] },
    #[error("image format version {found} is not supported (this nerve reads version {FORMAT_VERSION}): {}", version_hint(*found))]
    UnsupportedVersion { found: u32 },
    #[error("image header: {field} must be zero, found {value}")]
    Reserved { field: &'static str, value: u64 },
    #[error("image is truncated: the header announces {expected} payload bytes, {found} follow")]
    Truncated { expected: u64, found: u64 },
    #[error("image has {extra} trailing bytes after the payload")]
    TrailingBytes { extra: u64 },
    /// A pipe is read only as far as the header announces and one byte
    /// more: how much more follows is not known.
    #[error("image stream goes on past the {expected} payload bytes its header announces (trailing bytes after the image)")]
    StreamTrailing { expected: u64 },
    #[error("image checksum mismatch: header says {expected:08x}, payload gives {found:08x} (the file is corrupt)")]
    Checksum { expected: u32, found: u32 },
    #[error("image payload does not decode (a corrupt file whose checksum still matches, or not written by this nerve): {0}")]
    Decode(String),
    #[error("image payload has {extra} undecoded bytes at its end")]
    PayloadTrailing { extra: usize },
    #[error("image architecture: {0}")]
    Arch(#[from] ArchError),
    #[error("image: {0}")]
    Kernel(#[from] KernelError),
    #[error("image is invalid: {what}")]
    Invalid { what: String },
    #[error("image exceeds a limit of `{arch}`: {what} needs {required}, the limit is {limit}")]
    Limit { arch: String, what: String, required: u64, limit: u64 },
    #[error("cannot read image {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("cannot write image {path}: {source}")]
    WriteIo { path: String, source: std::io::Error },
    /// Any of the above in an image file, named (the one message: not a
    /// `source`, which would print it again as its cause).
    #[error("{path}: {error}")]
    InFile { path: String, error: Box<ImageError> },
}

impl ImageError {
    /// This error as one of the image file `path` (errors that name their
    /// file already are kept as they are).
    pub fn in_file(self, path: &std::path::Path) -> ImageError {
        match self {
            ImageError::Io { .. } | ImageError::WriteIo { .. } | ImageError::InFile { .. } => self,
            e => ImageError::InFile { path: path.display().to_string(), error: Box::new(e) },
        }
    }
}

pub(crate) fn invalid<T>(what: impl Into<String>) -> Result<T, ImageError> {
    Err(ImageError::Invalid { what: what.into() })
}

impl Image {
    /// Follows a packet with `key` from `source_tile` through the image's routing tables.
    pub fn trace(&self, source_tile: TileId, key: RoutingKey) -> Result<crate::route::Trace, crate::route::RouteError> {
        crate::route::trace(&self.arch, source_tile, key, |t| self.router(t).map(|r| r.entries.as_slice()).unwrap_or(&[]))
    }

    /// Whether every key of [lo, hi] routes alike through the image's tables.
    pub fn routes_alike(&self, lo: u32, hi: u32) -> bool {
        crate::route::uniform(self.routers.iter().map(|r| r.entries.as_slice()), lo, hi)
    }

    pub fn core(&self, id: CoreId) -> Option<&CoreImage> {
        self.cores.binary_search_by_key(&id, |c| c.core).ok().map(|i| &self.cores[i])
    }

    pub fn router(&self, tile: TileId) -> Option<&RouterTable> {
        self.routers.binary_search_by_key(&tile, |r| r.tile).ok().map(|i| &self.routers[i])
    }

    pub fn population(&self, name: &str) -> Option<(PopId, &PopSymbol)> {
        self.populations.iter().enumerate().find(|(_, p)| p.name == name).map(|(i, p)| (PopId(i as u32), p))
    }

    /// Words of synaptic memory a core's rows, shared kernels and gap
    /// junctions occupy (a junction, a 32-bit weight with its source and
    /// target, a word: docs/arch.md).
    pub fn synapse_words(&self, core: &CoreImage) -> u64 {
        self.synapse_words_of(core, &core.rows, core.synapses.len())
    }

    /// As `synapse_words`, the core's rows being `rows` over `n_syn`
    /// synapses (they may be held apart, as a `LoadImage` holds them).
    pub fn synapse_words_of(&self, core: &CoreImage, rows: &[RowStart], n_syn: usize) -> u64 {
        let row_len = |k: usize| rows.get(k + 1).map_or(n_syn, |n| n.start as usize) - rows[k].start as usize;
        // `row_words` per row, its divisor taken once (a large image has a
        // row per synapse, and a division each cost ~0.2 s of its load).
        let (head, per) = (self.arch.core.row_header_words as u64, self.arch.synapses_per_word() as u64);
        let words = |n: u64| if n == 0 { 0 } else { head + if per.is_power_of_two() { (n + per - 1) >> per.trailing_zeros() } else { n.div_ceil(per) } };
        debug_assert!((0..100).all(|n| words(n) == self.arch.row_words(n as u32)));
        (0..rows.len()).map(|k| words(row_len(k) as u64)).sum::<u64>()
            + core.conv.iter().map(|c| self.arch.row_words(c.weights.len().min(u32::MAX as usize) as u32)).sum::<u64>()
            + core.gap.len() as u64
    }
}

/// Helper for code that needs the kernel of a neuron core.
impl CoreImage {
    pub fn kernel_id(&self) -> Option<KernelId> {
        match &self.kind {
            CoreKind::Neuron { kernel, .. } => Some(*kernel),
            CoreKind::SpikeArray { .. } | CoreKind::External => None,
        }
    }

    /// Distinct neurons of other cores whose `v` the core's gap junctions
    /// read: each arrives every step, so each takes an input key (axon).
    pub fn gap_sources(&self) -> u64 {
        let mut v: Vec<(CoreId, u16)> = self.gap.iter().filter(|g| g.src_core != self.core).map(|g| (g.src_core, g.src_neuron)).collect();
        v.sort_unstable();
        v.dedup();
        v.len() as u64
    }

    /// The row for a packet key, if the core has one.
    pub fn lookup(&self, key: RoutingKey) -> Option<u32> {
        // Entries are sorted by key and non-overlapping: the candidate is the last entry with key ≤ k.
        let i = self.inputs.partition_point(|e| e.key.0 <= key.0);
        if i == 0 {
            return None;
        }
        let e = &self.inputs[i - 1];
        if key.0 & e.mask != e.key.0 {
            return None;
        }
        let off = key.0 & !e.mask;
        (off < e.count).then_some(e.row + off)
    }

    /// Length of the k-th listed row.
    pub fn row_len(&self, k: usize) -> usize {
        let end = self.rows.get(k + 1).map_or(self.synapses.len(), |n| n.start as usize);
        end - self.rows[k].start as usize
    }

    /// The synapses of row `r` (empty if the row is not listed).
    pub fn row(&self, r: u32) -> &[Synapse] {
        match self.rows.binary_search_by_key(&r, |x| x.row) {
            Ok(k) => {
                let a = self.rows[k].start as usize;
                &self.synapses[a..a + self.row_len(k)]
            }
            Err(_) => &[],
        }
    }
}
