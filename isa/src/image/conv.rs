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
/// source neuron (when the image is loaded, each may be walked: those that
/// cannot reach the core are skipped where that is cheaper).
pub const MAX_ADDRESSED_ROWS: u64 = 1 << 28;

#[cfg(test)]
thread_local! {
    /// The kernel taps `ConvRows::row` tried on this thread: the work
    /// `CoreImage::expanded` does, counted for a test to bound (a timed
    /// test would measure the machine).
    static TAPS_TRIED: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

impl ConvRows {
    /// A kernel tap without a synapse (outside every weight range).
    pub const NO_TAP: i32 = i32::MIN;

    /// Weights per output channel.
    fn per_out(&self) -> usize {
        (self.geom.in_shape[0] / self.geom.groups.max(1)) as usize * (self.geom.kernel[0] * self.geom.kernel[1]) as usize
    }

    /// The source neuron row `r` (relative to the input entry) stands for:
    /// slice `r >> neuron_bits`, neuron `r mod 2^neuron_bits` of it (`None`:
    /// a key between slices' neurons).
    fn source_of(&self, r: u32) -> Option<u64> {
        let (hi, lo) = if self.neuron_bits >= 32 { (0, r) } else { (r >> self.neuron_bits, r & ((1u32 << self.neuron_bits) - 1)) };
        (lo < self.pre_slice).then_some(hi as u64 * self.pre_slice as u64 + lo as u64)
    }

    /// The synapses row `r` (relative to the input entry) generates on a core of
    /// `n` neurons, in the documented order.
    pub fn row(&self, r: u32, n: u32, out: &mut Vec<Synapse>) {
        let Some(j) = self.source_of(r) else { return };
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
        // Only the output channels, and within one only the output rows,
        // that hold some of this core's neurons: the others' synapses would
        // all be other cores' (a core of 10 of 16 × 32 × 32 outputs walked
        // every one, 89 % of a compile).
        let plane = oh as u64 * ow as u64;
        let (pf, n64) = (self.post_first as u64, n as u64);
        if n == 0 || plane == 0 {
            return;
        }
        let co_lo = (g as u64 * cog as u64).max(pf / plane);
        let co_hi = ((g as u64 + 1) * cog as u64).min((pf + n64 - 1) / plane + 1);
        for co in co_lo..co_hi {
            let at = co * plane;
            let (oy_lo, oy_hi) = ((pf.max(at) - at) / ow as u64, ((pf + n64).min(at + plane) - at - 1) / ow as u64);
            let co = co as u32;
            let base = co as usize * per_out + ((ci % cig) * kh * kw) as usize;
            for ky in 0..kh {
                // oy · stride = iy + padding − ky · dilation
                let num = iy as i64 + self.geom.padding[0] as i64 - ky as i64 * self.geom.dilation[0] as i64;
                if num < 0 || num % self.geom.stride[0] as i64 != 0 || num / self.geom.stride[0] as i64 >= oh as i64 {
                    continue;
                }
                let oy = (num / self.geom.stride[0] as i64) as u32;
                if (oy as u64) < oy_lo || oy as u64 > oy_hi {
                    continue;
                }
                for kx in 0..kw {
                    #[cfg(test)]
                    TAPS_TRIED.with(|t| t.set(t.get() + 1));
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

    /// A box of source neurons, (channel, y, x) ranges inclusive, holding
    /// every one whose row generates a synapse on a core of `n` neurons
    /// (`None`: no source neuron does). The geometry must have passed
    /// `check`.
    fn reach(&self, n: u32) -> Option<[(u64, u64); 3]> {
        let g = &self.geom;
        let [ci_n, h, w] = g.in_shape.map(u64::from);
        let [co_n, oh, ow] = g.out_shape.map(u64::from);
        let plane = oh * ow;
        let (first, last) = (self.post_first as u64, (self.post_first as u64 + n as u64).checked_sub(1)?);
        let (co_first, co_last) = (first / plane, (last / plane).min(co_n - 1));
        let (cig, cog) = (ci_n / g.groups as u64, co_n / g.groups as u64);
        let ci = ((co_first / cog) * cig, (co_last / cog + 1) * cig - 1);
        // Output rows and columns: tight within one channel (and one row).
        let (oy, ox) = if co_first == co_last {
            let (lo, hi) = (first - co_first * plane, last - co_first * plane);
            if lo / ow == hi / ow {
                ((lo / ow, hi / ow), (lo % ow, hi % ow))
            } else {
                ((lo / ow, hi / ow), (0, ow - 1))
            }
        } else {
            ((0, oh - 1), (0, ow - 1))
        };
        // Source i reaches output o through tap k when i + padding = o · stride + k · dilation.
        let input = |(lo, hi): (u64, u64), d: usize, size: u64| -> Option<(u64, u64)> {
            let pad = g.padding[d] as i128;
            let a = (lo as i128 * g.stride[d] as i128 - pad).max(0);
            let b = (hi as i128 * g.stride[d] as i128 + (g.kernel[d] as i128 - 1) * g.dilation[d] as i128 - pad).min(size as i128 - 1);
            (a <= b).then_some((a as u64, b as u64))
        };
        Some([ci, input(oy, 0, h)?, input(ox, 1, w)?])
    }

    /// Calls `f` with each of an entry's first `count` rows that stands for
    /// a source neuron of the box `b` (`reach`), in order; the box must hold
    /// at most `addressed_rows(count)` neurons, the rows it walks.
    fn each_row_in(&self, b: [(u64, u64); 3], count: u32, mut f: impl FnMut(u32)) {
        let [_, h, w] = self.geom.in_shape.map(u64::from);
        let bits = self.neuron_bits.min(32) as u32;
        let pre = self.pre_slice as u64;
        for ci in b[0].0..=b[0].1 {
            for iy in b[1].0..=b[1].1 {
                for ix in b[2].0..=b[2].1 {
                    // Row r stands for j = (r >> bits) · pre_slice + (r mod 2^bits): the inverse.
                    let j = (ci * h + iy) * w + ix;
                    let (hi, lo) = (j / pre, j % pre);
                    let r = if bits >= 32 {
                        if hi != 0 {
                            return;
                        }
                        lo
                    } else if lo >> bits != 0 {
                        continue; // past the 2^bits rows of a block: no row
                    } else {
                        (hi << bits) | lo
                    };
                    if r >= count as u64 {
                        return; // rows grow with j
                    }
                    f(r as u32);
                }
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
        // Every stored row and every row an entry addresses whose source
        // neuron may reach this core (`reach`; the others generate nothing),
        // in order: not every row an entry addresses (a corrupt entry
        // addresses 2^32), nor every one standing for a source neuron (a
        // core of 10 of 16,384 outputs walked all 16,384 sources' rows, 1,639
        // such cores 22 s). The box is walked when no larger than the rows
        // addressed (which validation bounds), else those rows, filtered.
        let mut rows_of: Vec<u32> = self.rows.iter().map(|r| r.row).collect();
        for k in &self.conv {
            let e = &self.inputs[k.input as usize];
            let Some(b) = k.reach(self.n_neurons) else { continue };
            let boxed = b.iter().map(|&(lo, hi)| hi - lo + 1).try_fold(1u64, u64::checked_mul);
            if boxed.is_some_and(|x| x <= k.addressed_rows(e.count)) {
                k.each_row_in(b, e.count, |r| rows_of.push(e.row + r));
            } else {
                let [_, h, w] = k.geom.in_shape.map(u64::from);
                let inside =
                    |r: u32| k.source_of(r).is_some_and(|j| [j / (h * w), (j / w) % h, j % w].iter().zip(&b).all(|(&x, &(lo, hi))| lo <= x && x <= hi));
                k.each_addressed_row(e.count, |r| {
                    if inside(r) {
                        rows_of.push(e.row + r)
                    }
                });
            }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::RoutingKey;
    use crate::image::InputEntry;

    /// `expanded` as `ConvRows` documents it, with nothing skipped: every
    /// row each entry addresses, every tap of every output channel.
    fn expanded_by_definition(c: &CoreImage) -> (Vec<RowStart>, Vec<Synapse>) {
        let mut rows_of: Vec<u32> = c.rows.iter().map(|r| r.row).collect();
        for k in &c.conv {
            let e = &c.inputs[k.input as usize];
            rows_of.extend((0..e.count).map(|r| e.row + r));
        }
        rows_of.sort_unstable();
        rows_of.dedup();
        let (mut rows, mut syn) = (Vec::new(), Vec::new());
        for r in rows_of {
            let start = syn.len();
            syn.extend_from_slice(c.row(r));
            for k in &c.conv {
                let e = &c.inputs[k.input as usize];
                if r < e.row || r - e.row >= e.count {
                    continue;
                }
                let r = (r - e.row) as u64;
                let (hi, lo) = if k.neuron_bits >= 32 { (0, r) } else { (r >> k.neuron_bits, r & ((1 << k.neuron_bits) - 1)) };
                let g = &k.geom;
                let [ci_n, h, w] = g.in_shape.map(i64::from);
                let [co_n, oh, ow] = g.out_shape.map(i64::from);
                let j = (hi * k.pre_slice as u64 + lo) as i64;
                if lo >= k.pre_slice as u64 || j >= ci_n * h * w {
                    continue;
                }
                let (ci, iy, ix) = (j / (h * w), j / w % h, j % w);
                let (cig, cog) = (ci_n / g.groups as i64, co_n / g.groups as i64);
                let [kh, kw] = g.kernel.map(i64::from);
                for co in (ci / cig) * cog..(ci / cig + 1) * cog {
                    for ky in 0..kh {
                        for kx in 0..kw {
                            let ny = iy + g.padding[0] as i64 - ky * g.dilation[0] as i64;
                            let nx = ix + g.padding[1] as i64 - kx * g.dilation[1] as i64;
                            let (sy, sx) = (g.stride[0] as i64, g.stride[1] as i64);
                            if ny < 0 || nx < 0 || ny % sy != 0 || nx % sx != 0 || ny / sy >= oh || nx / sx >= ow {
                                continue;
                            }
                            let wv = k.weights[(((co * cig + ci % cig) * kh + ky) * kw + kx) as usize];
                            let post = (co * oh + ny / sy) * ow + nx / sx - k.post_first as i64;
                            if wv != ConvRows::NO_TAP && (0..c.n_neurons as i64).contains(&post) {
                                syn.push(Synapse { weight: wv, target: post as u16, delay: k.delay, port: k.port });
                            }
                        }
                    }
                }
            }
            if syn.len() > start {
                rows.push(RowStart { row: r, start: start as u32 });
            }
        }
        (rows, syn)
    }

    struct Rng(u64);
    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
        fn in_(&mut self, lo: u32, hi: u32) -> u32 {
            lo + self.below((hi - lo + 1) as u64) as u32
        }
    }

    /// A shared-kernel core: one or two kernels (the second on the first's
    /// entry or its own), some stored rows, outputs `post_first ..
    /// post_first + n`; every geometry passes `check`.
    fn random_core(rng: &mut Rng) -> CoreImage {
        let mut c = crate::sample::sample_image().cores[1].clone();
        let (mut rows, mut synapses) = (Vec::new(), Vec::new());
        c.inputs.clear();
        c.conv.clear();
        let groups = rng.in_(1, 3);
        let in_shape = [groups * rng.in_(1, 3), rng.in_(1, 7), rng.in_(1, 7)];
        let out_shape = [groups * rng.in_(1, 3), rng.in_(1, 6), rng.in_(1, 6)];
        let out_size = out_shape.iter().product::<u32>();
        let post_first = rng.in_(0, out_size - 1);
        let few = if rng.below(2) == 0 { 3 } else { u32::MAX };
        c.n_neurons = rng.in_(1, (out_size - post_first).min(few));
        for ki in 0..rng.in_(1, 2) {
            let geom = ConvGeometry {
                in_shape,
                out_shape,
                kernel: [rng.in_(1, 4), rng.in_(1, 4)],
                stride: [rng.in_(1, 3), rng.in_(1, 3)],
                padding: [rng.in_(0, 3), rng.in_(0, 3)],
                dilation: [rng.in_(1, 3), rng.in_(1, 3)],
                groups,
            };
            let n_w = out_shape[0] * in_shape[0] / groups * geom.kernel[0] * geom.kernel[1];
            let weights = (0..n_w).map(|_| if rng.below(5) == 0 { ConvRows::NO_TAP } else { rng.in_(0, 10) as i32 - 5 }).collect();
            let neuron_bits = [0, 1, 2, 3, 5, 32][rng.below(6) as usize];
            let pre_slice = rng.in_(1, in_shape.iter().product::<u32>() + 2);
            if ki == 0 || rng.below(2) == 0 {
                let row = c.inputs.last().map_or(rng.in_(0, 5), |e| e.row + e.count + rng.in_(0, 5));
                let span = if neuron_bits >= 32 { pre_slice + 3 } else { ((in_shape.iter().product::<u32>() / pre_slice + 2) << neuron_bits).min(1 << 12) };
                let count = rng.in_(1, span);
                c.inputs.push(InputEntry { key: RoutingKey(c.inputs.len() as u32 * (1 << 16)), mask: !0xffff, row, count });
            }
            let k = ConvRows { input: c.inputs.len() as u32 - 1, neuron_bits, pre_slice, geom, weights, delay: 1, port: ki as u8, post_first };
            k.check(c.n_neurons).unwrap();
            c.conv.push(k);
        }
        for e in &c.inputs {
            for r in e.row..e.row + e.count {
                if rng.below(8) == 0 {
                    rows.push(RowStart { row: r, start: synapses.len() as u32 });
                    synapses.push(Synapse { weight: 7, target: rng.below(c.n_neurons as u64) as u16, delay: 2, port: 0 });
                }
            }
        }
        (c.rows, c.synapses) = (rows, synapses);
        c
    }

    /// Skipping the rows, output channels and output rows that cannot reach
    /// the core generates exactly the rows of the definition, in its order.
    #[test]
    fn expanded_is_the_definition() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut generated = 0;
        for case in 0..3000 {
            let c = random_core(&mut rng);
            let got = c.expanded();
            assert_eq!(got, expanded_by_definition(&c), "case {case}: {c:?}");
            generated += got.1.len();
        }
        assert!(generated > 10_000, "the cases generate synapses: {generated}");
    }

    /// A 16-channel 32 × 32 5 × 5 convolution onto 16 × 32 × 32 outputs in
    /// cores of 10, its 16,384 source rows behind one entry (keys of 8
    /// neuron bits, slices of 256): each core's rows cost with the synapses
    /// it holds, not with its sources' rows × every output channel's taps
    /// (the compile's check took 22 s here, 0.16 s after).
    #[test]
    fn expanded_costs_with_the_core_not_its_sources() {
        let mut c = crate::sample::sample_image().cores[1].clone();
        c.rows.clear();
        c.synapses.clear();
        c.n_neurons = 10;
        c.inputs = vec![InputEntry { key: RoutingKey(0), mask: !0x3fff, row: 0, count: 1 << 14 }];
        let geom =
            ConvGeometry { in_shape: [16, 32, 32], out_shape: [16, 32, 32], kernel: [5, 5], stride: [1, 1], padding: [2, 2], dilation: [1, 1], groups: 1 };
        let weights: Vec<i32> = (0..16 * 16 * 25).map(|i| i % 7 - 3).collect();
        c.conv = vec![ConvRows { input: 0, neuron_bits: 8, pre_slice: 256, geom, weights, delay: 1, port: 0, post_first: 0 }];
        TAPS_TRIED.with(|t| t.set(0));
        let mut synapses = 0;
        for first in (0..16 * 32 * 32 - 10).step_by(10) {
            c.conv[0].post_first = first;
            synapses += c.expanded().1.len();
        }
        let tried = TAPS_TRIED.with(|t| t.get());
        // An output's taps inside the input, for each of the 16 input channels.
        let taps = |o: u32| (o.min(2) + 1 + (31 - o).min(2)) as usize;
        assert_eq!(synapses, (0..16_380).map(|p: u32| 16 * taps(p / 32 % 32) * taps(p % 32)).sum::<usize>());
        // Each source row that reaches a core tries its taps for the core's
        // few channels; every source row trying all 16 channels' taps was
        // 10.7e9 tries (31 s).
        assert!(tried <= 4 * synapses as u64, "{tried} taps tried for {synapses} synapses");
    }
}
