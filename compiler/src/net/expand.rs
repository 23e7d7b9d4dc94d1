//! Connectors → synapses. Each projection becomes a CSR matrix by
//! presynaptic neuron: `post[indptr[i]..indptr[i + 1]]` are neuron i's targets,
//! in the order the connector generates them (documented per connector in
//! docs/network-format.md), so the same seed gives the same synapses.

use crate::error::{CompileError, Result};
use crate::net::model::*;
use crate::rng::{stream, Rng};
use nerve_isa::image::ConvGeometry;
use petgraph::visit::EdgeRef;

/// Weights of a projection's synapses, in physical units (or integers for loihi_lif).
#[derive(Clone, Debug)]
pub enum Weights {
    Uniform(f64),
    PerSynapse(Vec<f64>),
}

/// Delays in timesteps (≥ 1).
#[derive(Clone, Debug)]
pub enum Delays {
    Uniform(u16),
    PerSynapse(Vec<u16>),
}

/// A projection's synapses, CSR by presynaptic neuron.
#[derive(Clone, Debug)]
pub struct Synapses {
    pub indptr: Vec<u64>,
    pub post: Vec<u32>,
    pub weights: Weights,
    pub delays: Delays,
}

impl Synapses {
    pub fn len(&self) -> u64 {
        self.post.len() as u64
    }
    pub fn is_empty(&self) -> bool {
        self.post.is_empty()
    }
    pub fn n_pre(&self) -> usize {
        self.indptr.len() - 1
    }
    #[inline]
    pub fn row(&self, pre: usize) -> std::ops::Range<usize> {
        self.indptr[pre] as usize..self.indptr[pre + 1] as usize
    }
    #[inline]
    pub fn weight(&self, s: usize) -> f64 {
        match &self.weights {
            Weights::Uniform(w) => *w,
            Weights::PerSynapse(v) => v[s],
        }
    }
    #[inline]
    pub fn delay(&self, s: usize) -> u16 {
        match &self.delays {
            Delays::Uniform(d) => *d,
            Delays::PerSynapse(v) => v[s],
        }
    }
    pub fn max_delay(&self) -> u16 {
        match &self.delays {
            Delays::Uniform(d) => {
                if self.post.is_empty() {
                    0
                } else {
                    *d
                }
            }
            Delays::PerSynapse(v) => v.iter().copied().max().unwrap_or(0),
        }
    }
    /// Largest |weight|.
    pub fn max_abs_weight(&self) -> f64 {
        match &self.weights {
            Weights::Uniform(w) => {
                if self.post.is_empty() {
                    0.0
                } else {
                    w.abs()
                }
            }
            Weights::PerSynapse(v) => v.iter().fold(0.0, |m, w| m.max(w.abs())),
        }
    }
}

/// Converts a delay in ms to timesteps: round half up; must be at least one step (by its value) and fit u16.
pub fn delay_steps(ms: f64, dt_ms: f64, what: &str) -> Result<u16> {
    let steps = nerve_isa::time::steps_of(ms, dt_ms);
    if nerve_isa::time::below_one_step(ms, dt_ms) {
        return Err(CompileError::Projection {
            projection: what.to_string(),
            reason: format!("delay {} ms is shorter than one timestep ({} ms)", crate::error::num(ms), crate::error::num(dt_ms)),
        });
    }
    if steps > u16::MAX as f64 {
        return Err(CompileError::Projection {
            projection: what.to_string(),
            reason: format!("delay {} ms is {} timesteps, more than any core supports ({})", crate::error::num(ms), crate::error::num(steps), u16::MAX),
        });
    }
    Ok(steps as u16)
}

/// Builds CSR from (pre, post, weight, delay) tuples, stably by pre.
struct Builder {
    n_pre: usize,
    pairs: Vec<(u32, u32)>,
    w: Option<Vec<f64>>,
    d: Option<Vec<u16>>,
}

impl Builder {
    fn finish(self, default_w: f64, default_d: u16) -> Synapses {
        let (pre, post): (Vec<u32>, Vec<u32>) = self.pairs.into_iter().unzip();
        csr(self.n_pre, &pre, &post, self.w, self.d, default_w, default_d)
    }
}

/// CSR from connection columns, stably by pre.
fn csr(n_pre: usize, pre: &[u32], post: &[u32], w: Option<Vec<f64>>, d: Option<Vec<u16>>, default_w: f64, default_d: u16) -> Synapses {
    let mut counts = vec![0u64; n_pre + 1];
    for &p in pre {
        counts[p as usize + 1] += 1;
    }
    for i in 0..n_pre {
        counts[i + 1] += counts[i];
    }
    let indptr = counts.clone();
    // Already in source order (connection lists usually are): the stable
    // counting sort below would be the identity, so skip it.
    if pre.windows(2).all(|x| x[0] <= x[1]) {
        return Synapses {
            indptr,
            post: post.to_vec(),
            weights: w.map_or(Weights::Uniform(default_w), Weights::PerSynapse),
            delays: d.map_or(Delays::Uniform(default_d), Delays::PerSynapse),
        };
    }
    let mut fill = counts;
    let mut order = vec![0usize; pre.len()];
    for (k, &p) in pre.iter().enumerate() {
        let slot = &mut fill[p as usize];
        order[*slot as usize] = k;
        *slot += 1;
    }
    Synapses {
        indptr,
        post: order.iter().map(|&k| post[k]).collect(),
        weights: match w {
            Some(w) => Weights::PerSynapse(order.iter().map(|&k| w[k]).collect()),
            None => Weights::Uniform(default_w),
        },
        delays: match d {
            Some(d) => Delays::PerSynapse(order.iter().map(|&k| d[k]).collect()),
            None => Delays::Uniform(default_d),
        },
    }
}

/// Expands one projection.
pub fn expand(net: &Network, proj: ProjIx) -> Result<Synapses> {
    // invariant: callers pass a projection of `net` (from net.projections())
    let (pre, post) = net.graph.edge_endpoints(proj).expect("`proj` is one of the network's projections");
    expand_projection(net, pre, post, &net.graph[proj])
}

/// Room for `expect` items and a margin of four standard deviations of a
/// binomial count (a row sum of Bernoulli trials), so that a random
/// connector's list is seldom grown; capped at 64 M items (256 MB), past
/// which the list grows as it fills (few reallocations for that much work).
fn reserve(expect: f64) -> usize {
    let x = expect.max(0.0);
    (x + 4.0 * x.sqrt() + 16.0).min((1u64 << 26) as f64) as usize
}

/// Expands projection `p` from `pre` to `post` (one of the graph's, or an
/// electrical one, which is not in the graph).
pub fn expand_projection(net: &Network, pre: PopIx, post: PopIx, p: &Projection) -> Result<Synapses> {
    let (n_pre, n_post) = (net.pop(pre).size as usize, net.pop(post).size as usize);
    let same = pre == post;
    let dt = net.dt_ms;
    let default_d = match p.delay_ms {
        Some(ms) => delay_steps(ms, dt, &p.label)?,
        None => 1,
    };
    let default_w = p.weight.unwrap_or(1.0);
    let need_weight = |what: &str| -> Result<f64> {
        p.weight.ok_or_else(|| CompileError::Projection {
            projection: p.label.clone(),
            reason: format!("{what} has no weight and the projection gives no `weight`"),
        })
    };
    // `expect`: the synapses expected, reserved at once. Grown push by push,
    // the projections expanded side by side on several threads took turns at
    // the allocator's lock (rand_big: about 8 reallocations per projection,
    // 7% of the compile's CPU time waiting or waking in the kernel).
    let csr_direct = |expect: f64, targets: &mut dyn FnMut(usize, &mut Vec<u32>)| -> Synapses {
        let mut indptr = Vec::with_capacity(n_pre + 1);
        indptr.push(0u64);
        let mut post = Vec::with_capacity(reserve(expect));
        for i in 0..n_pre {
            targets(i, &mut post);
            indptr.push(post.len() as u64);
        }
        Synapses { indptr, post, weights: Weights::Uniform(default_w), delays: Delays::Uniform(default_d) }
    };
    let s = match &p.connector {
        Connector::AllToAll { allow_self_connections } => {
            need_weight("all_to_all")?;
            let skip_self = same && !allow_self_connections;
            csr_direct(n_pre as f64 * n_post as f64, &mut |i, out| out.extend((0..n_post as u32).filter(|&j| !(skip_self && j as usize == i))))
        }
        Connector::OneToOne => {
            need_weight("one_to_one")?;
            csr_direct(n_pre as f64, &mut |i, out| out.push(i as u32))
        }
        Connector::FixedProbability { p: prob, seed, allow_self_connections } => {
            need_weight("fixed_probability")?;
            let skip_self = same && !allow_self_connections;
            let mut rng = Rng::new(*seed, stream::CONNECTOR);
            let prob = *prob;
            let log_q = (-prob).ln_1p();
            csr_direct(n_pre as f64 * n_post as f64 * prob.clamp(0.0, 1.0), &mut |i, out| {
                if prob <= 0.0 {
                    return;
                }
                if prob >= 1.0 {
                    out.extend((0..n_post as u32).filter(|&j| !(skip_self && j as usize == i)));
                    return;
                }
                // Geometric skipping: the gap to the next chosen target is
                // ⌊ln(1 − U) / ln(1 − p)⌋, which is Bernoulli(p) per pair.
                let mut j: i64 = -1;
                loop {
                    let u = rng.f64();
                    // ln(1 − U) ≤ 0 and ln(1 − p) < 0: the quotient is ≥ 0 (or
                    // NaN), so `as i64` floors it, and ⌊g⌋ < k ⟺ g < k for an
                    // integer k (`floor` is a libm call on the baseline x86-64).
                    let gap = (-u).ln_1p() / log_q;
                    // A NaN gap ends the row too.
                    #[allow(clippy::neg_cmp_op_on_partial_ord)]
                    if !(gap < (n_post as i64 - j) as f64) {
                        break;
                    }
                    j += gap as i64 + 1;
                    if j >= n_post as i64 {
                        break;
                    }
                    if !(skip_self && j as usize == i) {
                        out.push(j as u32);
                    }
                }
            })
        }
        Connector::FixedNumberPost { n, seed, allow_self_connections } => {
            need_weight("fixed_number_post")?;
            let skip_self = same && !allow_self_connections;
            let mut rng = Rng::new(*seed, stream::CONNECTOR);
            let n = *n as usize;
            csr_direct(n_pre as f64 * n.min(n_post) as f64, &mut |i, out| {
                let excl = if skip_self { Some(i as u32) } else { None };
                sample_distinct(&mut rng, n_post as u32, n, excl, out);
            })
        }
        Connector::FixedNumberPre { n, seed, allow_self_connections } => {
            need_weight("fixed_number_pre")?;
            let skip_self = same && !allow_self_connections;
            let mut rng = Rng::new(*seed, stream::CONNECTOR);
            let mut pairs = Vec::with_capacity(n_post * *n as usize);
            let mut buf = Vec::new();
            for j in 0..n_post {
                buf.clear();
                let excl = if skip_self { Some(j as u32) } else { None };
                sample_distinct(&mut rng, n_pre as u32, *n as usize, excl, &mut buf);
                pairs.extend(buf.iter().map(|&i| (i, j as u32)));
            }
            Builder { n_pre, pairs, w: None, d: None }.finish(default_w, default_d)
        }
        Connector::FromList(list) => {
            let w = match &list.weight {
                Some(col) => {
                    let mut w = Vec::with_capacity(col.len());
                    for (k, &x) in col.iter().enumerate() {
                        w.push(if x.is_nan() { need_weight(&format!("connection {k}"))? } else { x });
                    }
                    Some(w)
                }
                // An empty list has nothing to weigh, as `fixed_probability` with p 0.
                None if list.is_empty() => None,
                None => {
                    need_weight("from_list without weights")?;
                    None
                }
            };
            let d = match &list.delay {
                Some(col) => {
                    let mut d = Vec::with_capacity(col.len());
                    for (k, &ms) in col.iter().enumerate() {
                        d.push(if ms.is_nan() { default_d } else { delay_steps(ms, dt, &format!("{} connection {k}", p.label))? });
                    }
                    Some(d)
                }
                None => None,
            };
            csr(n_pre, &list.pre, &list.post, w, d, default_w, default_d)
        }
        Connector::Dense(m) => {
            let scale = p.weight.unwrap_or(1.0);
            let mut pairs = Vec::new();
            let mut w = Vec::new();
            for (j, row) in m.iter().enumerate() {
                for (i, &x) in row.iter().enumerate() {
                    if x != 0.0 {
                        pairs.push((i as u32, j as u32));
                        w.push(x * scale);
                    }
                }
            }
            Builder { n_pre, pairs, w: Some(w), d: None }.finish(default_w, default_d)
        }
        Connector::Conv2d(c) => {
            let scale = p.weight.unwrap_or(1.0);
            let (pairs, w) = expand_conv(c, scale);
            Builder { n_pre, pairs, w: Some(w), d: None }.finish(default_w, default_d)
        }
        Connector::Pool2d(c) => {
            let wv = p.weight.unwrap_or(1.0) * c.scale;
            let pairs = expand_pool(c);
            Builder { n_pre, pairs, w: None, d: None }.finish(wv, default_d)
        }
    };
    Ok(s)
}

/// Chooses `n` distinct values of 0..range (excluding `excl`), in increasing
/// order, by Floyd's algorithm on a sorted set (n is small next to range in
/// practice; the result's order is canonical).
fn sample_distinct(rng: &mut Rng, range: u32, n: usize, excl: Option<u32>, out: &mut Vec<u32>) {
    let avail = range - excl.map_or(0, |_| 1);
    debug_assert!(n as u32 <= avail);
    let mut chosen: std::collections::BTreeSet<u32> = std::collections::BTreeSet::new();
    for j in (avail as u64 - n as u64)..avail as u64 {
        let t = rng.below(j + 1) as u32;
        if !chosen.insert(t) {
            chosen.insert(j as u32);
        }
    }
    // Map 0..avail onto 0..range skipping the excluded value.
    out.extend(chosen.into_iter().map(|x| match excl {
        Some(e) if x >= e => x + 1,
        _ => x,
    }));
}

/// The largest kernel, stride, padding or dilation a convolution or pooling
/// may have, from any front end: far beyond any real network, and small
/// enough that its index arithmetic (a position times a stride plus a
/// kernel offset times a dilation, in 64 bits) cannot overflow and a shared
/// kernel's size is a product that fits.
pub const MAX_GEOMETRY: u32 = 1 << 20;

/// The output shape `[out_c, oh, ow]` of a convolution (or pooling, with
/// dilation 1) over `in_shape`, PyTorch's: or why there is none. Every
/// front end's convolutions and poolings come through here, so the same
/// geometry is refused the same way.
pub fn conv_out_shape(in_shape: [u32; 3], out_c: u32, k: [u32; 2], s: [u32; 2], p: [u32; 2], d: [u32; 2]) -> std::result::Result<[u32; 3], String> {
    if s.contains(&0) || d.contains(&0) || k.contains(&0) {
        return Err("kernel, stride and dilation must be ≥ 1".into());
    }
    for (what, v) in [("kernel", k), ("stride", s), ("padding", p), ("dilation", d)] {
        if let Some(x) = v.iter().find(|&&x| x > MAX_GEOMETRY) {
            return Err(format!("{what} {x} is beyond {MAX_GEOMETRY}, the largest kernel, stride, padding or dilation"));
        }
    }
    let mut out = [out_c, 0, 0];
    for i in 0..2 {
        let span = d[i] as i64 * (k[i] as i64 - 1) + 1;
        let padded = in_shape[i + 1] as i64 + 2 * p[i] as i64;
        let n = padded - span;
        if n < 0 {
            return Err(format!("the kernel ({} with dilation {}) is larger than the padded input ({padded})", k[i], d[i]));
        }
        // A padded dimension past 32 bits gives an output dimension past them
        // (cast, it wrapped: padding 2^31 made a pooling of no synapses).
        out[i + 1] = u32::try_from(n / s[i] as i64 + 1)
            .map_err(|_| format!("the output is {} wide in dimension {} (padded input {padded}), beyond {}", n / s[i] as i64 + 1, i + 1, u32::MAX))?;
    }
    Ok(out)
}

/// Refuses a convolution or pooling whose geometry the expansion cannot
/// follow: beyond [`MAX_GEOMETRY`], an output shape other than its geometry
/// gives, shapes other than its populations' sizes, or a kernel of the wrong
/// length. The JSON and NIR readers refuse these with their own paths; this
/// holds the same for networks built in Rust.
pub fn check_geometry(net: &Network) -> Result<()> {
    for (_, a, b, p) in net.projections() {
        let (in_shape, out_shape, out_c, kernel, stride, padding, dilation, weights) = match &p.connector {
            Connector::Conv2d(c) => {
                let g = c.groups;
                if g == 0 || c.in_shape[0] % g != 0 || c.out_shape[0] % g != 0 {
                    return Err(proj_err(p, format!("groups {g} does not divide {} input and {} output channels", c.in_shape[0], c.out_shape[0])));
                }
                let want = [c.out_shape[0], c.in_shape[0] / g, c.kernel[0], c.kernel[1]].iter().try_fold(1u64, |n, &x| n.checked_mul(x as u64));
                (c.in_shape, c.out_shape, c.out_shape[0], c.kernel, c.stride, c.padding, c.dilation, Some((want, c.weights.len())))
            }
            Connector::Pool2d(c) => (c.in_shape, c.out_shape, c.in_shape[0], c.kernel, c.stride, c.padding, [1, 1], None),
            _ => continue,
        };
        let got = conv_out_shape(in_shape, out_c, kernel, stride, padding, dilation).map_err(|r| proj_err(p, r))?;
        if got != out_shape {
            return Err(proj_err(p, format!("the output shape is {out_shape:?}, its geometry gives {got:?}")));
        }
        let numel = |s: [u32; 3]| s.iter().map(|&x| x as u128).product::<u128>();
        let (na, nb) = (net.pop(a).size as u128, net.pop(b).size as u128);
        if numel(in_shape) != na || numel(out_shape) != nb {
            return Err(proj_err(p, format!("shapes {in_shape:?} → {out_shape:?} for populations of {na} and {nb} neurons")));
        }
        if let Some((want, have)) = weights {
            if want != Some(have as u64) {
                return Err(proj_err(p, format!("{have} kernel weights where its shape needs {}", want.map_or("more than 2^64".into(), |w| w.to_string()))));
            }
        }
    }
    Ok(())
}

fn proj_err(p: &Projection, reason: String) -> CompileError {
    CompileError::Projection { projection: p.label.clone(), reason }
}

/// A convolution's or pooling's kernel, kept whole for targets that share
/// kernels (`core.shared_kernels`): geometry and physical weights
/// (out channel, in channel / groups, ky, kx). Pooling is a depthwise
/// convolution (groups = channels) with one weight. `expand` gives the same
/// synapses one by one.
#[derive(Clone, Debug, PartialEq)]
pub struct SharedKernel {
    pub geom: ConvGeometry,
    pub weights: Vec<f64>,
}

/// The shared kernel of projection `e`, if the target shares kernels and the
/// projection is a convolution or pooling whose synapses `sy` are the
/// kernel's, all of one delay. A projection that delay extension split
/// (`net::delays::extend`) keeps its connector but only the synapses of its
/// direct stage, with their own delays (the rest go through relays): it is
/// stored synapse by synapse, as on a target without shared kernels. So is
/// one into a population that another projection teaches (per population,
/// not per core: simpler, and no core of it then mixes the two): a core's learning
/// rules walk its stored rows, which a core with a shared kernel has none
/// of (the image refuses both on one core), and stored synapses are the
/// same synapses.
pub fn shared_kernel(arch: &nerve_isa::arch::Arch, net: &Network, e: ProjIx, sy: &Synapses) -> Option<SharedKernel> {
    if !arch.core.shared_kernels || matches!(sy.delays, Delays::PerSynapse(_)) {
        return None;
    }
    let p = &net.graph[e];
    // invariant: `e` is one of the network's projections
    let (_, post) = net.graph.edge_endpoints(e).expect("a projection has endpoints");
    // A rule on the convolution itself keeps the kernel, to be refused by name (`emit`).
    if net.graph.edges_directed(post, petgraph::Direction::Incoming).any(|x| x.id() != e && x.weight().plasticity.is_some()) {
        return None;
    }
    let scale = p.weight.unwrap_or(1.0);
    match &p.connector {
        Connector::Conv2d(c) => Some(SharedKernel {
            geom: ConvGeometry {
                in_shape: c.in_shape,
                out_shape: c.out_shape,
                kernel: c.kernel,
                stride: c.stride,
                padding: c.padding,
                dilation: c.dilation,
                groups: c.groups,
            },
            weights: c.weights.iter().map(|w| w * scale).collect(),
        }),
        Connector::Pool2d(c) => Some(SharedKernel {
            geom: ConvGeometry {
                in_shape: c.in_shape,
                out_shape: c.out_shape,
                kernel: c.kernel,
                stride: c.stride,
                padding: c.padding,
                dilation: [1, 1],
                groups: c.in_shape[0],
            },
            weights: vec![scale * c.scale; c.in_shape[0] as usize * c.kernel[0] as usize * c.kernel[1] as usize],
        }),
        _ => None,
    }
}

fn expand_conv(c: &Conv2d, scale: f64) -> (Vec<(u32, u32)>, Vec<f64>) {
    let [ci_n, h, w] = c.in_shape;
    let [co_n, oh, ow] = c.out_shape;
    let [kh, kw] = c.kernel;
    let cig = ci_n / c.groups;
    let cog = co_n / c.groups;
    let mut pairs = Vec::new();
    let mut ws = Vec::new();
    for co in 0..co_n {
        let g = co / cog;
        for oy in 0..oh {
            for ox in 0..ow {
                let post = (co * oh + oy) * ow + ox;
                for cl in 0..cig {
                    let ci = g * cig + cl;
                    for ky in 0..kh {
                        // In 64 bits: a position past a tall input's last row
                        // leaves 32 (its geometry within MAX_GEOMETRY).
                        let iy = oy as i64 * c.stride[0] as i64 + ky as i64 * c.dilation[0] as i64 - c.padding[0] as i64;
                        if iy < 0 || iy >= h as i64 {
                            continue;
                        }
                        for kx in 0..kw {
                            let ix = ox as i64 * c.stride[1] as i64 + kx as i64 * c.dilation[1] as i64 - c.padding[1] as i64;
                            if ix < 0 || ix >= w as i64 {
                                continue;
                            }
                            let wv = c.weights[(((co * cig + cl) * kh + ky) * kw + kx) as usize];
                            if wv != 0.0 {
                                let pre = (ci * h + iy as u32) * w + ix as u32;
                                pairs.push((pre, post));
                                ws.push(wv * scale);
                            }
                        }
                    }
                }
            }
        }
    }
    (pairs, ws)
}

fn expand_pool(c: &Pool2d) -> Vec<(u32, u32)> {
    let [ch, h, w] = c.in_shape;
    let [_, oh, ow] = c.out_shape;
    let mut pairs = Vec::new();
    for k in 0..ch {
        for oy in 0..oh {
            for ox in 0..ow {
                let post = (k * oh + oy) * ow + ox;
                for ky in 0..c.kernel[0] {
                    let iy = oy as i64 * c.stride[0] as i64 + ky as i64 - c.padding[0] as i64;
                    if iy < 0 || iy >= h as i64 {
                        continue;
                    }
                    for kx in 0..c.kernel[1] {
                        let ix = ox as i64 * c.stride[1] as i64 + kx as i64 - c.padding[1] as i64;
                        if ix < 0 || ix >= w as i64 {
                            continue;
                        }
                        pairs.push(((k * h + iy as u32) * w + ix as u32, post));
                    }
                }
            }
        }
    }
    pairs
}
