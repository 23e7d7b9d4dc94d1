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

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::arch::{Arch, ArchError, Dir, TopologyKind};
use crate::ids::{CoreId, KernelId, PopId, RoutingKey, TileId};
use crate::kernel::{Kernel, KernelError};

pub const MAGIC: [u8; 8] = *b"NERVEIMG";
/// Bumped on every change to the payload layout (including the architecture description).
pub const FORMAT_VERSION: u32 = 6;
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
}

/// The rows a 2-D convolution (or pooling, as a depthwise convolution with
/// one weight) adds to the rows of one input entry, generated from its kernel.
///
/// Row `r` of input entry `input` (relative to the entry's first row) is the
/// packet of source neuron `j = (r >> neuron_bits) · pre_slice + (r mod
/// 2^neuron_bits)` of the source population (none if `r mod 2^neuron_bits ≥
/// pre_slice`), laid out as (channel, y, x)
/// row-major in `in_shape`. It reaches output (co, oy, ox) of `out_shape`
/// through kernel tap (ci mod cig, ky, kx), cig = in channels / groups, when co
/// is in ci's group, iy = oy·stride_y + ky·dilation_y − padding_y, likewise for
/// x, and the tap is not `NO_TAP` (a tap of weight 0 is a synapse of weight
/// 0, as when expanded; only an absent tap is none). Outputs outside this core's
/// `post_first .. post_first + n_neurons` are other cores'. The generated
/// synapses of a row follow the row's stored synapses, ordered by (co, ky, kx).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConvRows {
    pub input: u32,
    pub neuron_bits: u8,
    pub pre_slice: u32,
    /// Encoded field by field in place (bincode nests without a header).
    pub geom: ConvGeometry,
    /// Weight mantissas (out channel, in channel / groups, ky, kx), row-major; `NO_TAP`: no synapse.
    pub weights: Vec<i32>,
    pub delay: u8,
    pub port: u8,
    /// Target-population index of this core's neuron 0.
    pub post_first: u32,
}

/// A 2-D convolution's shape: PyTorch's cross-correlation between populations
/// laid out as (channel, row, column), row-major. Pooling is a depthwise
/// convolution (groups = channels).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConvGeometry {
    /// (channels, height, width) of the source and target populations.
    pub in_shape: [u32; 3],
    pub out_shape: [u32; 3],
    /// (height, width) of the kernel, stride, padding and dilation.
    pub kernel: [u32; 2],
    pub stride: [u32; 2],
    pub padding: [u32; 2],
    pub dilation: [u32; 2],
    pub groups: u32,
}

/// Most synapses one `ConvRows` may generate (rows × kernel taps), so that a
/// corrupt image cannot make a loader allocate without bound.
pub const MAX_GENERATED_SYNAPSES: u64 = 1 << 28;

impl ConvRows {
    /// A kernel tap without a synapse (outside every weight range).
    pub const NO_TAP: i32 = i32::MIN;

    /// Weights per output channel.
    fn per_out(&self) -> usize {
        (self.geom.in_shape[0] / self.geom.groups.max(1)) as usize * (self.geom.kernel[0] * self.geom.kernel[1]) as usize
    }

    /// The synapses row `r` (relative to the input entry) generates on a core of
    /// `n` neurons, in the documented order.
    pub fn row(&self, r: u32, n: u32, out: &mut Vec<Synapse>) {
        let low = if self.neuron_bits >= 32 { u32::MAX } else { (1u32 << self.neuron_bits) - 1 };
        let hi = if self.neuron_bits >= 32 { 0 } else { (r as u64) >> self.neuron_bits };
        if (r & low) >= self.pre_slice {
            return; // a key between slices' neurons: no source neuron
        }
        let j = hi * self.pre_slice as u64 + (r & low) as u64;
        let [ci_n, h, w] = self.geom.in_shape;
        let [co_n, oh, ow] = self.geom.out_shape;
        if j >= ci_n as u64 * h as u64 * w as u64 {
            return;
        }
        let j = j as u32;
        let (ci, iy, ix) = (j / (h * w), (j / w) % h, j % w);
        let cig = ci_n / self.geom.groups;
        let cog = co_n / self.geom.groups;
        let g = ci / cig;
        let per_out = self.per_out();
        let [kh, kw] = self.geom.kernel;
        for co in g * cog..(g + 1) * cog {
            let base = co as usize * per_out + ((ci % cig) * kh * kw) as usize;
            for ky in 0..kh {
                // oy · stride = iy + padding − ky · dilation
                let num = iy as i64 + self.geom.padding[0] as i64 - (ky * self.geom.dilation[0]) as i64;
                if num < 0 || num % self.geom.stride[0] as i64 != 0 || num / self.geom.stride[0] as i64 >= oh as i64 {
                    continue;
                }
                let oy = (num / self.geom.stride[0] as i64) as u32;
                for kx in 0..kw {
                    let num = ix as i64 + self.geom.padding[1] as i64 - (kx * self.geom.dilation[1]) as i64;
                    if num < 0 || num % self.geom.stride[1] as i64 != 0 || num / self.geom.stride[1] as i64 >= ow as i64 {
                        continue;
                    }
                    let ox = (num / self.geom.stride[1] as i64) as u32;
                    let wv = self.weights[base + (ky * kw + kx) as usize];
                    if wv == Self::NO_TAP {
                        continue;
                    }
                    let post = (co * oh + oy) * ow + ox;
                    if post >= self.post_first && post - self.post_first < n {
                        out.push(Synapse { weight: wv, target: (post - self.post_first) as u16, delay: self.delay, port: self.port });
                    }
                }
            }
        }
    }

    /// Checks the geometry against itself and the core (`n` neurons).
    fn check(&self, n: u32) -> Result<(), String> {
        let [ci_n, h, w] = self.geom.in_shape;
        let [co_n, oh, ow] = self.geom.out_shape;
        let g = self.geom.groups;
        if ci_n == 0 || h == 0 || w == 0 || co_n == 0 || oh == 0 || ow == 0 {
            return Err(format!("empty shape {:?} → {:?}", self.geom.in_shape, self.geom.out_shape));
        }
        if g == 0 || ci_n % g != 0 || co_n % g != 0 {
            return Err(format!("{g} groups do not divide {ci_n} input and {co_n} output channels"));
        }
        if self.geom.kernel.contains(&0) || self.geom.stride.contains(&0) || self.geom.dilation.contains(&0) {
            return Err("kernel, stride and dilation must be ≥ 1".into());
        }
        let sizes = [ci_n as u64 * h as u64 * w as u64, co_n as u64 * oh as u64 * ow as u64];
        if sizes.iter().any(|&x| x > u32::MAX as u64) || self.geom.padding.iter().any(|&p| p > 1 << 16) || self.geom.kernel.iter().any(|&k| k > 1 << 16) {
            return Err("shape, kernel or padding too large".into());
        }
        let want = co_n as u64 * (ci_n / g) as u64 * self.geom.kernel[0] as u64 * self.geom.kernel[1] as u64;
        if self.weights.len() as u64 != want {
            return Err(format!("{} weights, the geometry needs {want}", self.weights.len()));
        }
        if self.post_first as u64 + n as u64 > sizes[1] {
            return Err(format!("targets {}..{} beyond the {} outputs", self.post_first, self.post_first as u64 + n as u64, sizes[1]));
        }
        if self.pre_slice == 0 {
            return Err("pre_slice must be ≥ 1".into());
        }
        Ok(())
    }
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

impl crate::packed::Packed for RowStart {
    const SIZE: usize = 8;
    fn put(&self, o: &mut [u8]) {
        o[0..4].copy_from_slice(&self.row.to_le_bytes());
        o[4..8].copy_from_slice(&self.start.to_le_bytes());
    }
    fn get(b: &[u8]) -> Self {
        use crate::packed::le;
        RowStart { row: u32::from_le_bytes(le(b, 0)), start: u32::from_le_bytes(le(b, 4)) }
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

impl crate::packed::Packed for Synapse {
    const SIZE: usize = 8;
    fn put(&self, o: &mut [u8]) {
        o[0..4].copy_from_slice(&self.weight.to_le_bytes());
        o[4..6].copy_from_slice(&self.target.to_le_bytes());
        o[6] = self.delay;
        o[7] = self.port;
    }
    fn get(b: &[u8]) -> Self {
        use crate::packed::le;
        Synapse { weight: i32::from_le_bytes(le(b, 0)), target: u16::from_le_bytes(le(b, 4)), delay: b[6], port: b[7] }
    }
}

/// A router node's multicast table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RouterTable {
    pub tile: TileId,
    /// In priority order: the first match wins.
    pub entries: Vec<RouteEntry>,
}

/// One routing entry: packets with `k & mask == key` go out of every link in
/// `links` (bit = [`Dir`] discriminant) and to every local core in `cores`
/// (bit = core index within the tile).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RouteEntry {
    pub key: u32,
    pub mask: u32,
    pub links: u8,
    pub cores: u64,
}

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

/// Why bytes are not an image, or an image is not valid for its architecture.
#[derive(Debug, Error)]
pub enum ImageError {
    #[error("not a nerve image: {len} bytes is shorter than the {HEADER_LEN}-byte header")]
    TooShort { len: usize },
    #[error("not a nerve image: bad magic {found:02x?} (expected \"NERVEIMG\")")]
    BadMagic { found: [u8; 8] },
    #[error("image format version {found} is not supported (this nerve reads version {FORMAT_VERSION})")]
    UnsupportedVersion { found: u32 },
    #[error("image header: {field} must be zero, found {value}")]
    Reserved { field: &'static str, value: u64 },
    #[error("image is truncated: the header announces {expected} payload bytes, {found} follow")]
    Truncated { expected: u64, found: u64 },
    #[error("image has {extra} trailing bytes after the payload")]
    TrailingBytes { extra: u64 },
    #[error("image checksum mismatch: header says {expected:08x}, payload gives {found:08x} (the file is corrupt)")]
    Checksum { expected: u32, found: u32 },
    #[error("image payload does not decode: {0}")]
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
}

fn invalid<T>(what: impl Into<String>) -> Result<T, ImageError> {
    Err(ImageError::Invalid { what: what.into() })
}

/// Largest payload allocation bincode may claim while decoding. Decoding also
/// never pre-allocates more than serde's cautious bound per sequence, so memory
/// stays proportional to the input; this is a backstop.
const DECODE_LIMIT: usize = 1 << 36;

/// Synapses from which `Image::validate` checks cores on several threads.
const PARALLEL_VALIDATE: usize = 1 << 20;

fn bincode_config() -> impl bincode::config::Config {
    bincode::config::standard().with_little_endian().with_variable_int_encoding().with_limit::<DECODE_LIMIT>()
}

/// Checks an image header against the number of payload bytes that follow
/// it; returns the payload length and checksum.
fn check_header(h: &[u8; HEADER_LEN], avail: u64) -> Result<(u64, u32), ImageError> {
    let mut magic = [0u8; 8];
    magic.copy_from_slice(&h[0..8]);
    if magic != MAGIC {
        return Err(ImageError::BadMagic { found: magic });
    }
    let u32_at = |o: usize| u32::from_le_bytes([h[o], h[o + 1], h[o + 2], h[o + 3]]);
    let version = u32_at(8);
    if version != FORMAT_VERSION {
        return Err(ImageError::UnsupportedVersion { found: version });
    }
    let flags = u32_at(12);
    if flags != 0 {
        return Err(ImageError::Reserved { field: "flags", value: flags as u64 });
    }
    let mut len8 = [0u8; 8];
    len8.copy_from_slice(&h[16..24]);
    let len = u64::from_le_bytes(len8);
    let crc = u32_at(24);
    let reserved = u32_at(28);
    if reserved != 0 {
        return Err(ImageError::Reserved { field: "reserved", value: reserved as u64 });
    }
    if avail < len {
        return Err(ImageError::Truncated { expected: len, found: avail });
    }
    if avail > len {
        return Err(ImageError::TrailingBytes { extra: avail - len });
    }
    Ok((len, crc))
}

/// A reader that checksums and counts what it passes on.
struct Hashing<R> {
    inner: R,
    hasher: crc32fast::Hasher,
    count: u64,
}

impl<R: std::io::Read> std::io::Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
}

impl Image {
    /// Encodes the image. Deterministic: equal images give equal bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Encoded in place after a placeholder header, into a buffer sized for
        // the bulk arrays, so that a large image is neither regrown nor copied.
        let bulk: usize = self.cores.iter().map(|c| 8 * (c.synapses.len() + c.rows.len()) + 64 * c.inputs.len()).sum();
        let mut out = Vec::with_capacity(HEADER_LEN + bulk + (1 << 16));
        out.resize(HEADER_LEN, 0);
        bincode::serde::encode_into_std_write(self, &mut out, bincode_config()).expect("an Image always encodes");
        let payload_len = (out.len() - HEADER_LEN) as u64;
        let crc = crc32fast::hash(&out[HEADER_LEN..]);
        out[0..8].copy_from_slice(&MAGIC);
        out[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
        out[16..24].copy_from_slice(&payload_len.to_le_bytes());
        out[24..28].copy_from_slice(&crc.to_le_bytes());
        out
    }

    /// Decodes and validates an image.
    pub fn from_bytes(bytes: &[u8]) -> Result<Image, ImageError> {
        let img = Image::from_bytes_unvalidated(bytes)?;
        img.validate()?;
        Ok(img)
    }

    /// Checks the header and checksum and decodes, without [`Image::validate`]:
    /// for callers that validate next anyway (the emulator's `Machine::load`
    /// does), so that a large image is not checked twice.
    pub fn from_bytes_unvalidated(bytes: &[u8]) -> Result<Image, ImageError> {
        if bytes.len() < HEADER_LEN {
            return Err(ImageError::TooShort { len: bytes.len() });
        }
        let header: &[u8; HEADER_LEN] = bytes[..HEADER_LEN].try_into().expect("HEADER_LEN bytes");
        let (len, crc) = check_header(header, (bytes.len() - HEADER_LEN) as u64)?;
        let payload = &bytes[HEADER_LEN..];
        debug_assert_eq!(payload.len() as u64, len);
        let found = crc32fast::hash(payload);
        if found != crc {
            return Err(ImageError::Checksum { expected: crc, found });
        }
        Image::decode_payload(payload)
    }

    /// Decodes a payload without the header checks or validation. Exposed so
    /// tests can feed corrupt payloads past the checksum.
    pub fn decode_payload(payload: &[u8]) -> Result<Image, ImageError> {
        let (img, used): (Image, usize) = bincode::serde::decode_from_slice(payload, bincode_config()).map_err(|e| ImageError::Decode(e.to_string()))?;
        if used != payload.len() {
            return Err(ImageError::PayloadTrailing { extra: payload.len() - used });
        }
        Ok(img)
    }

    pub fn read(path: &std::path::Path) -> Result<Image, ImageError> {
        let img = Image::read_unvalidated(path)?;
        img.validate()?;
        Ok(img)
    }

    /// [`Image::from_bytes_unvalidated`] on a file's contents, decoded as the
    /// file is read (a large image is not held twice, as bytes and decoded):
    /// the same checks and the same errors, the checksum's first (a payload
    /// that fails to decode is read to its end, and a checksum mismatch is
    /// reported rather than the decoding error).
    pub fn read_unvalidated(path: &std::path::Path) -> Result<Image, ImageError> {
        use std::io::Read;
        let io = |source: std::io::Error| ImageError::Io { path: path.display().to_string(), source };
        let mut f = std::fs::File::open(path).map_err(io)?;
        let file_len = f.metadata().map_err(io)?.len();
        if file_len < HEADER_LEN as u64 {
            return Err(ImageError::TooShort { len: file_len as usize });
        }
        let mut header = [0u8; HEADER_LEN];
        f.read_exact(&mut header).map_err(io)?;
        let (len, crc) = check_header(&header, file_len - HEADER_LEN as u64)?;
        // Checksummed a buffer at a time, below the buffer the decoder reads from.
        let mut r = std::io::BufReader::with_capacity(1 << 20, Hashing { inner: f.take(len), hasher: crc32fast::Hasher::new(), count: 0 });
        let decoded: Result<Image, _> = bincode::serde::decode_from_std_read(&mut r, bincode_config());
        let used = r.get_ref().count - r.buffer().len() as u64;
        // The rest, if the decoder stopped early: the checksum covers it all.
        std::io::copy(&mut r, &mut std::io::sink()).map_err(io)?;
        let h = r.into_inner();
        if h.count != len {
            return Err(ImageError::Truncated { expected: len, found: h.count });
        }
        let found = h.hasher.finalize();
        if found != crc {
            return Err(ImageError::Checksum { expected: crc, found });
        }
        let img = decoded.map_err(|e| ImageError::Decode(e.to_string()))?;
        if used != len {
            return Err(ImageError::PayloadTrailing { extra: (len - used) as usize });
        }
        Ok(img)
    }

    pub fn write(&self, path: &std::path::Path) -> Result<(), ImageError> {
        std::fs::write(path, self.to_bytes()).map_err(|source| ImageError::Io { path: path.display().to_string(), source })
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

    /// Words of synaptic memory a core's rows and shared kernels occupy.
    pub fn synapse_words(&self, core: &CoreImage) -> u64 {
        (0..core.rows.len()).map(|k| self.arch.row_words(core.row_len(k) as u32)).sum::<u64>()
            + core.conv.iter().map(|c| self.arch.row_words(c.weights.len().min(u32::MAX as usize) as u32)).sum::<u64>()
    }

    /// Checks every internal reference and every architectural limit.
    pub fn validate(&self) -> Result<(), ImageError> {
        self.validate_on(None)
    }

    /// Validates and keeps the proof: a consumer given the result (the
    /// emulator) need not check the image again.
    pub fn into_valid(self) -> Result<ValidImage, ImageError> {
        self.into_valid_on(None)
    }

    /// As `into_valid`, checking on `threads` threads (as `validate_on`).
    pub fn into_valid_on(self, threads: Option<usize>) -> Result<ValidImage, ImageError> {
        self.validate_on(threads)?;
        Ok(ValidImage(self))
    }

    /// As `validate`, checking the cores on `threads` threads (`None`: as many
    /// as the host has, for large images). The result is the same whatever
    /// the count: the first failing core in core order is reported (tested).
    pub fn validate_on(&self, threads: Option<usize>) -> Result<(), ImageError> {
        let a = &self.arch;
        a.validate()?;
        // `what` is built only when the limit is exceeded (this runs per row).
        let limit = |what: &dyn Fn() -> String, required: u64, limit: u64| -> Result<(), ImageError> {
            if required > limit {
                Err(ImageError::Limit { arch: a.name.clone(), what: what(), required, limit })
            } else {
                Ok(())
            }
        };
        if !(self.meta.dt_ms.is_finite() && self.meta.dt_ms > 0.0) {
            return invalid(format!("dt_ms = {} must be a positive number", self.meta.dt_ms));
        }
        for k in &self.kernels {
            k.validate()?;
            limit(&|| format!("kernel `{}` instructions", k.name), k.code.len() as u64, a.core.kernel_max_instructions as u64)?;
            limit(&|| format!("kernel `{}` state slots", k.name), k.state.len() as u64, a.core.max_state_slots as u64)?;
            limit(&|| format!("kernel `{}` parameter slots", k.name), k.params.len() as u64, a.core.max_param_slots as u64)?;
            limit(&|| format!("kernel `{}` input ports", k.name), k.inputs.len() as u64, a.core.max_input_ports as u64)?;
        }
        // Cores.
        let n_cores = a.num_cores();
        // Each core's own checks; its key range, if it sends.
        let check_core = |i: usize, c: &CoreImage| -> Result<Option<(u64, u64, CoreId)>, ImageError> {
            let mut key_range = None;
            let cid = c.core;
            if cid.0 >= n_cores {
                return invalid(format!("{cid} does not exist (the machine has {n_cores} cores)"));
            }
            if i > 0 && self.cores[i - 1].core >= cid {
                return invalid(format!("cores are not sorted and unique at {cid}"));
            }
            if c.pop.index() >= self.populations.len() {
                return invalid(format!("{cid} belongs to {} which is not in the symbol table", c.pop));
            }
            let n = c.n_neurons as usize;
            if n == 0 {
                return invalid(format!("{cid} has no neurons"));
            }
            limit(&|| format!("neurons on {cid}"), n as u64, a.core.max_neurons as u64)?;
            let n_ports = match &c.kind {
                CoreKind::Neuron { kernel, params, state } => {
                    let k = self
                        .kernels
                        .get(kernel.index())
                        .ok_or_else(|| ImageError::Invalid { what: format!("{cid} uses {kernel}, the image has {} kernels", self.kernels.len()) })?;
                    if params.len() != k.params.len() {
                        return invalid(format!("{cid}: kernel `{}` has {} parameters, the core gives {}", k.name, k.params.len(), params.len()));
                    }
                    for (pi, p) in params.iter().enumerate() {
                        if let ParamArray::PerNeuron(v) = p {
                            if v.len() != n {
                                return invalid(format!("{cid}: parameter `{}` has {} values for {n} neurons", k.params[pi], v.len()));
                            }
                        }
                    }
                    if state.len() != k.state.len() {
                        return invalid(format!("{cid}: kernel `{}` has {} state slots, the core gives {}", k.name, k.state.len(), state.len()));
                    }
                    for (si, s) in state.iter().enumerate() {
                        if s.len() != n {
                            return invalid(format!("{cid}: state `{}` has {} values for {n} neurons", k.state[si], s.len()));
                        }
                    }
                    k.inputs.len()
                }
                CoreKind::SpikeArray { steps } => {
                    if steps.len() != n {
                        return invalid(format!("{cid}: spike array has {} neurons' times for {n} neurons", steps.len()));
                    }
                    for (ni, s) in steps.iter().enumerate() {
                        if s.windows(2).any(|w| w[0] >= w[1]) {
                            return invalid(format!("{cid}: spike times of neuron {ni} are not strictly increasing"));
                        }
                    }
                    0
                }
                CoreKind::External => 0,
            };
            if let Some(kb) = c.key_base {
                let lo = kb.0 as u64;
                let hi = lo + n as u64 - 1;
                if hi > u32::MAX as u64 {
                    return invalid(format!("{cid}: keys {kb}+{n} overflow 32 bits"));
                }
                key_range = Some((lo, hi, cid));
            }
            // Rows: sorted, non-empty, covering the synapses exactly.
            for (k, r) in c.rows.iter().enumerate() {
                if k == 0 && r.start != 0 {
                    return invalid(format!("{cid}: the first row starts at synapse {}, not 0", r.start));
                }
                if k > 0 {
                    let p = c.rows[k - 1];
                    if p.row >= r.row || p.start >= r.start {
                        return invalid(format!("{cid}: rows {} and {} are unsorted or empty", p.row, r.row));
                    }
                }
                if r.start as usize >= c.synapses.len() {
                    return invalid(format!("{cid}: row {} starts at synapse {} of {}", r.row, r.start, c.synapses.len()));
                }
                limit(&|| format!("synapses in row {} on {cid}", r.row), c.row_len(k) as u64, a.core.max_row_length as u64)?;
            }
            if c.rows.is_empty() && !c.synapses.is_empty() {
                return invalid(format!("{cid}: synapses without rows"));
            }
            if !c.conv.is_empty() && !a.core.shared_kernels {
                return invalid(format!("{cid}: shared-kernel rows on a profile without `shared_kernels`"));
            }
            for (ki, k) in c.conv.iter().enumerate() {
                let e = c
                    .inputs
                    .get(k.input as usize)
                    .ok_or_else(|| ImageError::Invalid { what: format!("{cid}: kernel rows {ki} use input entry {} of {}", k.input, c.inputs.len()) })?;
                k.check(n as u32).map_err(|m| ImageError::Invalid { what: format!("{cid}: kernel rows {ki}: {m}") })?;
                if e.count as u64 * k.weights.len() as u64 > MAX_GENERATED_SYNAPSES {
                    return invalid(format!(
                        "{cid}: kernel rows {ki} would generate {} × {} synapses, at most {MAX_GENERATED_SYNAPSES}",
                        e.count,
                        k.weights.len()
                    ));
                }
                if k.port as usize >= n_ports {
                    return invalid(format!("{cid}: kernel rows {ki} use port {}, the core has {n_ports}", k.port));
                }
                if k.delay == 0 || k.delay as u16 > a.core.max_delay_steps {
                    return invalid(format!("{cid}: kernel rows {ki} have delay {}, allowed 1..={}", k.delay, a.core.max_delay_steps));
                }
                let wb = a.core.weight_bits;
                if let Some(w) = k.weights.iter().find(|&&w| w != ConvRows::NO_TAP && crate::semantics::wrap(w, wb) != w) {
                    return invalid(format!("{cid}: kernel rows {ki} weight {w} does not fit {wb} signed bits"));
                }
            }
            // Input keys count the rows present, generated ones included.
            let generated = if c.conv.is_empty() { None } else { Some(c.expanded().0) };
            let present: &[RowStart] = generated.as_deref().unwrap_or(&c.rows);
            // Input entries: sorted by key, non-overlapping, addressing disjoint row ranges.
            let mut input_keys = 0u64;
            let mut ranges: Vec<(u64, u64)> = Vec::with_capacity(c.inputs.len());
            for (ei, e) in c.inputs.iter().enumerate() {
                let span = !e.mask as u64 + 1;
                if (!e.mask as u64 + 1) & !e.mask as u64 != 0 {
                    return invalid(format!("{cid}: input entry {ei} mask {:08x} is not of the form 1…10…0", e.mask));
                }
                if e.key.0 & !e.mask != 0 {
                    return invalid(format!("{cid}: input entry {ei} key {} has bits outside mask {:08x}", e.key, e.mask));
                }
                if e.count == 0 || e.count as u64 > span {
                    return invalid(format!("{cid}: input entry {ei} covers {} rows, its mask allows 1..={span}", e.count));
                }
                if ei > 0 {
                    let p = &c.inputs[ei - 1];
                    if p.key.0 as u64 + (!p.mask as u64) >= e.key.0 as u64 {
                        return invalid(format!("{cid}: input entries {} and {ei} are unsorted or overlap", ei - 1));
                    }
                }
                let (lo, hi) = (e.row as u64, e.row as u64 + e.count as u64);
                input_keys += (present.partition_point(|r| (r.row as u64) < hi) - present.partition_point(|r| (r.row as u64) < lo)) as u64;
                ranges.push((lo, hi));
            }
            ranges.sort_unstable();
            if let Some(w) = ranges.windows(2).find(|w| w[0].1 > w[1].0) {
                return invalid(format!("{cid}: input entries address overlapping rows {}..{} and {}..{}", w[0].0, w[0].1, w[1].0, w[1].1));
            }
            // Every row must be reachable by some key.
            for r in &c.rows {
                let x = r.row as u64;
                let i = ranges.partition_point(|&(lo, _)| lo <= x);
                if i == 0 || ranges[i - 1].1 <= x {
                    return invalid(format!("{cid}: row {} is reached by no input entry", r.row));
                }
            }
            if let Some(m) = a.core.max_input_keys {
                limit(&|| format!("input keys (axons) on {cid}"), input_keys, m as u64)?;
            }
            if let Some(m) = a.core.max_input_table_entries {
                limit(&|| format!("input-table entries on {cid}"), c.inputs.len() as u64, m as u64)?;
            }
            for (si, s) in c.synapses.iter().enumerate() {
                if s.target as usize >= n {
                    return invalid(format!("{cid}: synapse {si} targets neuron {} of {n}", s.target));
                }
                if s.port as usize >= n_ports {
                    return invalid(format!("{cid}: synapse {si} uses port {}, the core has {n_ports}", s.port));
                }
                if s.delay == 0 || s.delay as u16 > a.core.max_delay_steps {
                    return invalid(format!("{cid}: synapse {si} has delay {}, allowed 1..={}", s.delay, a.core.max_delay_steps));
                }
                let wb = a.core.weight_bits as u32;
                if crate::semantics::wrap(s.weight, wb as u8) != s.weight {
                    return invalid(format!("{cid}: synapse {si} weight {} does not fit {wb} signed bits", s.weight));
                }
            }
            limit(&|| format!("synaptic memory words on {cid}"), self.synapse_words(c), a.core.synapse_words as u64)?;
            Ok(key_range)
        };
        // Cores are independent: a large image's are checked on several
        // threads, each over consecutive cores, and the first failing core in
        // core order is reported, as one thread would.
        let n_syn: usize = self.cores.iter().map(|c| c.synapses.len()).sum();
        let threads = match threads {
            Some(k) => k.max(1),
            None if n_syn >= PARALLEL_VALIDATE => crate::host_threads(),
            None => 1,
        };
        let per = self.cores.len().div_ceil(threads).max(1);
        let chunk = |k: usize| -> Result<Vec<(u64, u64, CoreId)>, ImageError> {
            let mut out = Vec::new();
            for (j, c) in self.cores.iter().enumerate().skip(k * per).take(per) {
                out.extend(check_core(j, c)?);
            }
            Ok(out)
        };
        let parts: Vec<Result<Vec<(u64, u64, CoreId)>, ImageError>> = if threads <= 1 {
            vec![chunk(0)]
        } else {
            std::thread::scope(|sc| {
                let hs: Vec<_> = (0..self.cores.len().div_ceil(per)).map(|k| sc.spawn(move || chunk(k))).collect();
                hs.into_iter().map(|h| h.join().expect("a validation thread panicked")).collect()
            })
        };
        let mut key_ranges: Vec<(u64, u64, CoreId)> = Vec::new();
        for p in parts {
            key_ranges.extend(p?);
        }
        key_ranges.sort();
        for w in key_ranges.windows(2) {
            if w[0].1 >= w[1].0 {
                return invalid(format!("{} and {} send overlapping keys", w[0].2, w[1].2));
            }
        }
        // Routers.
        let n_tiles = a.num_tiles();
        let link_bits: u8 = a.dirs().iter().fold(0, |m, d| m | (1 << *d as u8));
        let core_bits: u64 = if a.cores_per_tile() >= 64 { u64::MAX } else { (1u64 << a.cores_per_tile()) - 1 };
        for (i, r) in self.routers.iter().enumerate() {
            if r.tile.0 >= n_tiles {
                return invalid(format!("router of {} does not exist (the machine has {n_tiles} tiles)", r.tile));
            }
            if i > 0 && self.routers[i - 1].tile >= r.tile {
                return invalid(format!("routing tables are not sorted and unique at {}", r.tile));
            }
            limit(&|| format!("routing entries on {}", r.tile), r.entries.len() as u64, a.router.table_entries as u64)?;
            for (ei, e) in r.entries.iter().enumerate() {
                if e.key & !e.mask != 0 {
                    return invalid(format!("{} entry {ei}: key {:08x} has bits outside mask {:08x}", r.tile, e.key, e.mask));
                }
                if e.links & !link_bits != 0 {
                    let bad: Vec<&str> = Dir::ALL.iter().filter(|d| e.links & !link_bits & (1 << **d as u8) != 0).map(|d| d.name()).collect();
                    return invalid(format!("{} entry {ei}: link(s) {} do not exist on a {:?}", r.tile, bad.join(","), a.topology.kind));
                }
                if e.cores & !core_bits != 0 {
                    return invalid(format!("{} entry {ei}: routes to a core index ≥ {}", r.tile, a.cores_per_tile()));
                }
                if a.topology.kind == TopologyKind::Mesh {
                    for &d in a.dirs() {
                        if e.links & (1 << d as u8) != 0 && a.neighbour(r.tile, d).is_none() {
                            return invalid(format!("{} entry {ei}: link {} leads off the edge of the mesh", r.tile, d.name()));
                        }
                    }
                }
            }
        }
        // Symbol table.
        for (pi, p) in self.populations.iter().enumerate() {
            if self.populations[..pi].iter().any(|q| q.name == p.name) {
                return invalid(format!("population name `{}` appears twice", p.name));
            }
            let mut next = 0u32;
            for s in &p.slices {
                let c = self
                    .core(s.core)
                    .ok_or_else(|| ImageError::Invalid { what: format!("population `{}` has a slice on {} which is not in the image", p.name, s.core) })?;
                if c.pop.index() != pi {
                    return invalid(format!("population `{}` claims {} which belongs to {}", p.name, s.core, c.pop));
                }
                if s.first != next || s.count != c.n_neurons {
                    return invalid(format!(
                        "population `{}`: slice on {} covers {}..{}, expected {}..{} ({} neurons on the core)",
                        p.name,
                        s.core,
                        s.first,
                        s.first as u64 + s.count as u64,
                        next,
                        next as u64 + c.n_neurons as u64,
                        c.n_neurons
                    ));
                }
                next = next.saturating_add(s.count);
            }
            if next != p.size {
                return invalid(format!("population `{}` has size {} but its slices cover {next}", p.name, p.size));
            }
            for v in &p.vars {
                let ok = p.slices.iter().all(|s| match self.core(s.core).map(|c| &c.kind) {
                    Some(CoreKind::Neuron { kernel, .. }) => self.kernels.get(kernel.index()).is_some_and(|k| (v.slot as usize) < k.state.len()),
                    _ => false,
                });
                if !ok {
                    return invalid(format!("population `{}`: variable `{}` names state slot {} that its cores lack", p.name, v.name, v.slot));
                }
            }
        }
        for c in &self.cores {
            let p = &self.populations[c.pop.index()];
            if !p.slices.iter().any(|s| s.core == c.core) {
                return invalid(format!("{} is not listed in population `{}`'s slices", c.core, p.name));
            }
        }
        // Output axons need the routes: checked by walking them.
        if let Some(m) = a.core.max_output_axons {
            for c in &self.cores {
                if let Some(kb) = c.key_base {
                    let mut axons = 0u64;
                    for i in 0..c.n_neurons {
                        let t = crate::route::trace(self, a.tile_of(c.core), RoutingKey(kb.0 + i)).map_err(|e| ImageError::Invalid { what: e.to_string() })?;
                        axons += t.cores.len() as u64;
                    }
                    limit(&|| format!("output axons on {}", c.core), axons, m as u64)?;
                }
            }
        }
        Ok(())
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

    /// The core's rows with every shared-kernel row generated: (rows,
    /// synapses) in the form of `rows`/`synapses`, each generated row after
    /// the stored synapses of the same row. The image must be valid.
    pub fn expanded(&self) -> (Vec<RowStart>, Vec<Synapse>) {
        if self.conv.is_empty() {
            return (self.rows.clone(), self.synapses.clone());
        }
        // Every row number any entry or stored row names, in order.
        let mut rows_of: std::collections::BTreeSet<u32> = self.rows.iter().map(|r| r.row).collect();
        for k in &self.conv {
            let e = &self.inputs[k.input as usize];
            rows_of.extend(e.row..e.row.saturating_add(e.count));
        }
        let mut rows = Vec::with_capacity(rows_of.len());
        let mut syn = Vec::with_capacity(self.synapses.len());
        for r in rows_of {
            let start = syn.len();
            syn.extend_from_slice(self.row(r));
            for k in &self.conv {
                let e = &self.inputs[k.input as usize];
                if r >= e.row && r - e.row < e.count {
                    k.row(r - e.row, self.n_neurons, &mut syn);
                }
            }
            if syn.len() > start {
                rows.push(RowStart { row: r, start: start as u32 });
            }
        }
        (rows, syn)
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
