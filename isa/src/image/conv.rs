//! Shared kernels: the rows a 2-D convolution (or pooling) generates from
//! one stored kernel, and `CoreImage::expanded`, the one definition of the
//! rows they stand for (the emulator and the compiler's check use it).

use serde::{Deserialize, Serialize};

use super::{CoreImage, RowStart, Synapse};

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

/// Largest stride and dilation (as the front ends' largest kernel, stride,
/// padding or dilation, the compiler's `MAX_GEOMETRY`).
pub const MAX_STEP: u32 = 1 << 20;

/// Most rows the shared kernels of one core may address that stand for a
/// source neuron (each is generated when the image is loaded).
pub const MAX_ADDRESSED_ROWS: u64 = 1 << 28;

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
                let num = iy as i64 + self.geom.padding[0] as i64 - ky as i64 * self.geom.dilation[0] as i64;
                if num < 0 || num % self.geom.stride[0] as i64 != 0 || num / self.geom.stride[0] as i64 >= oh as i64 {
                    continue;
                }
                let oy = (num / self.geom.stride[0] as i64) as u32;
                for kx in 0..kw {
                    let num = ix as i64 + self.geom.padding[1] as i64 - kx as i64 * self.geom.dilation[1] as i64;
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

    /// Source neurons per `2^neuron_bits` rows: the rows of a block that
    /// stand for one (the block's first `pre_slice`, those its low bits hold).
    fn per_block(&self) -> u64 {
        if self.neuron_bits >= 32 {
            self.pre_slice as u64
        } else {
            (self.pre_slice as u64).min(1 << self.neuron_bits)
        }
    }

    /// At least as many as the rows among an entry's first `count` that
    /// stand for a source neuron (the others generate nothing): a bound of
    /// the rows `expanded` walks. The geometry must have passed `check`.
    pub fn addressed_rows(&self, count: u32) -> u64 {
        let count = count as u64;
        let pb = self.per_block();
        let valid = if self.neuron_bits >= 32 { count.min(pb) } else { (count >> self.neuron_bits) * pb + (count & ((1 << self.neuron_bits) - 1)).min(pb) };
        let [c, h, w] = self.geom.in_shape;
        valid.min(c as u64 * h as u64 * w as u64)
    }

    /// Calls `f` with each of an entry's first `count` rows that stands for
    /// a source neuron, in order (the source neuron grows with the row).
    fn each_addressed_row(&self, count: u32, mut f: impl FnMut(u32)) {
        let [c, h, w] = self.geom.in_shape;
        let size = c as u64 * h as u64 * w as u64;
        let bits = self.neuron_bits.min(32) as u32;
        let pb = self.per_block();
        for hi in 0u64.. {
            for lo in 0..pb {
                let r = (hi << bits) | lo;
                if r >= count as u64 || hi * self.pre_slice as u64 + lo >= size {
                    return;
                }
                f(r as u32);
            }
            if bits >= 32 {
                return;
            }
        }
    }

    /// Checks the geometry against itself and the core (`n` neurons).
    pub(super) fn check(&self, n: u32) -> Result<(), String> {
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
        if let Some(x) = self.geom.stride.iter().chain(&self.geom.dilation).find(|&&x| x > MAX_STEP) {
            return Err(format!(
                "stride {:?} or dilation {:?}: {x} is beyond {MAX_STEP}, the largest stride or dilation",
                self.geom.stride, self.geom.dilation
            ));
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

impl CoreImage {
    /// The core's rows with every shared-kernel row generated: (rows,
    /// synapses) in the form of `rows`/`synapses`, each generated row after
    /// the stored synapses of the same row. The image must be valid.
    pub fn expanded(&self) -> (Vec<RowStart>, Vec<Synapse>) {
        if self.conv.is_empty() {
            return (self.rows.clone(), self.synapses.clone());
        }
        // Every stored row and every row an entry addresses that stands for
        // a source neuron (the others generate nothing), in order: not every
        // row an entry addresses (a corrupt entry addresses 2^32).
        let mut rows_of: Vec<u32> = self.rows.iter().map(|r| r.row).collect();
        for k in &self.conv {
            let e = &self.inputs[k.input as usize];
            k.each_addressed_row(e.count, |r| rows_of.push(e.row + r));
        }
        rows_of.sort_unstable();
        rows_of.dedup();
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
}
