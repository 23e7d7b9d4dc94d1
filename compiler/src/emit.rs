//! Code generation: the lowered populations, their slices, placement and
//! routes written into a chip image (kernels, parameters, state, input
//! tables, synaptic rows, routing tables), and the post-compile check that
//! every source slice's keys reach exactly its destination cores.

use nerve_isa::arch::Arch;
use nerve_isa::ids::{KernelId, PopId, RoutingKey};
use nerve_isa::image::{ConvRows, CoreImage, CoreKind, Image, InputEntry, Meta, ParamArray, PopSymbol, RouterTable, RowStart, Slice, Synapse};
use nerve_isa::kernel::Kernel;

use crate::compile::{Mapped, Options};
use crate::error::{CompileError, Result};
use crate::lower::{Body, Lowered, ParamVals, ProjQuant};
use crate::map::partition::{for_each_row, groups_into, SliceConns, Split};
use crate::map::place::slice_base;
use crate::net::expand::Synapses;
use crate::net::model::*;

fn slice_params(p: &ParamVals, r: std::ops::Range<u32>) -> ParamArray {
    match p {
        ParamVals::Uniform(v) => ParamArray::Uniform(*v),
        ParamVals::PerNeuron(v) => {
            let s = &v[r.start as usize..r.end as usize];
            if s.windows(2).all(|w| w[0] == w[1]) {
                ParamArray::Uniform(s[0])
            } else {
                ParamArray::PerNeuron(s.to_vec())
            }
        }
    }
}

/// A core's image under construction.
struct Building {
    img: CoreImage,
    /// Shared kernels, by the key of their input entry (indices are known once inputs are sorted).
    conv: Vec<(u32, ConvRows)>,
}

/// Synapses of one (source, target) population group at which codegen
/// scatters to several threads.
const PARALLEL_SCATTER: usize = 1 << 18;

/// One group's synapses, scattered into the rows of its target cores.
struct Scatter<'a> {
    net: &'a Network,
    pre: PopIx,
    ps: Split,
    qs: Split,
    group: &'a [(&'a Synapses, &'a ProjQuant, &'a Projection)],
    uniform_m: &'a [Option<i32>],
    shared: &'a [Option<crate::net::expand::SharedKernel>],
    conn: &'a [Vec<u32>],
    /// Key base of each source slice.
    key_base: &'a [Option<RoutingKey>],
    /// Per group member, if plastic: its learning rule's index in the image,
    /// its projection's index in the network, and an STDP rule's words.
    plastic: &'a [Option<(u32, u32, Option<&'a crate::plasticity::stdp::Planned>)>],
    run_key: u32,
    run_mask: u32,
    span: u32,
}

/// One thread's part of every target core's new rows and synapses, and the
/// index in the core's synapses of its first one.
type Part<'c> = (&'c mut [RowStart], &'c mut [Synapse], u32);

impl Scatter<'_> {
    /// Builds the input entries, rows and synapses of the target slices
    /// (`cores[t]` is slice t), in source order, on `threads` threads, each
    /// over a range of source neurons: it counts what its sources add to
    /// each core, then writes them into its own stretch of each core's
    /// arrays. The arrays are the same whatever the thread count.
    fn run(&self, cores: &mut [Building], threads: usize) {
        let (ps, qs) = (self.ps, self.qs);
        let n_pre = self.net.pop(self.pre).size as usize;
        let n = cores.len();
        // One input entry per connected target core, numbered past its rows so far.
        let mut base_row: Vec<Option<u32>> = vec![None; n];
        for (s, targets) in self.conn.iter().enumerate().take(ps.count as usize) {
            if self.key_base[s].is_none() {
                continue; // reaches no target here (checked by the caller)
            }
            for &t in targets {
                let k = t as usize;
                if base_row[k].is_none() {
                    let b = &mut cores[k].img;
                    let r = b.inputs.iter().map(|e| e.row + e.count).max().unwrap_or(0);
                    b.inputs.push(InputEntry { key: RoutingKey(self.run_key), mask: self.run_mask, row: r, count: self.span });
                    base_row[k] = Some(r);
                }
            }
        }
        // Groups stored as synapses (shared kernels are generated later).
        let live: Vec<&(&Synapses, &ProjQuant, &Projection)> =
            self.group.iter().enumerate().filter(|(g, _)| self.shared[*g].is_none()).map(|(_, x)| x).collect();
        // Source ranges of about equal synapse counts.
        let at: Vec<usize> = (0..=n_pre).map(|i| live.iter().map(|(sy, _, _)| sy.indptr[i] as usize).sum()).collect();
        let cut = nerve_isa::cuts(&at, threads);
        // Each source neuron's key, if its slice sends.
        let key_of = |i: u32| -> Option<u32> {
            let s = ps.slice_of(i);
            self.key_base[s as usize].map(|kb| kb.0 + (i - ps.range(s).start))
        };
        // Rows and synapses per target core added by sources lo..hi.
        let count = |lo: usize, hi: usize| -> (Vec<usize>, Vec<usize>) {
            let (mut rows, mut syns) = (vec![0usize; n], vec![0usize; n]);
            let mut last = vec![u32::MAX; n];
            for i in lo as u32..hi as u32 {
                if key_of(i).is_none() {
                    continue;
                }
                for (sy, _, _) in &live {
                    for &j in &sy.post[sy.row(i as usize)] {
                        let t = qs.slice_of(j) as usize;
                        syns[t] += 1;
                        // A new row where the source changes (no branch: it is unpredictable).
                        rows[t] += (last[t] != i) as usize;
                        last[t] = i;
                    }
                }
            }
            (rows, syns)
        };
        let counted: Vec<(Vec<usize>, Vec<usize>)> = if threads <= 1 {
            vec![count(0, n_pre)]
        } else {
            std::thread::scope(|sc| {
                let hs: Vec<_> = cut.windows(2).map(|w| (w[0], w[1])).map(|(lo, hi)| sc.spawn(move || count(lo, hi))).collect();
                // invariant: `count` cannot fail; a panic there is a bug, which the join passes on
                hs.into_iter().map(|h| h.join().expect("a codegen thread panicked (counting cannot fail, so this is a bug)")).collect()
            })
        };
        // Each core's arrays grow by what all threads add (on the threads:
        // first writes to new memory cost page faults); each thread then
        // gets its stretch of them, in thread (= source) order.
        let old: Vec<(usize, usize)> = cores.iter().map(|c| (c.img.rows.len(), c.img.synapses.len())).collect();
        let grow = |k0: usize, cs: &mut [Building]| {
            for (k, c) in (k0..).zip(cs.iter_mut()) {
                let add_rows: usize = counted.iter().map(|c| c.0[k]).sum();
                let add_syns: usize = counted.iter().map(|c| c.1[k]).sum();
                c.img.rows.resize(old[k].0 + add_rows, RowStart { row: 0, start: 0 });
                c.img.synapses.resize(old[k].1 + add_syns, Synapse { weight: 0, target: 0, delay: 0, port: 0 });
            }
        };
        if threads <= 1 {
            grow(0, cores);
        } else {
            let per = n.div_ceil(threads).max(1);
            std::thread::scope(|sc| {
                for (c, cs) in cores.chunks_mut(per).enumerate() {
                    let grow = &grow;
                    sc.spawn(move || grow(c * per, cs));
                }
            });
        }
        let mut parts: Vec<Vec<Part>> = (0..counted.len()).map(|_| Vec::with_capacity(n)).collect();
        for (k, c) in cores.iter_mut().enumerate() {
            let b = &mut c.img;
            let (r0, s0) = old[k];
            let (mut rrest, mut srest) = (&mut b.rows[r0..], &mut b.synapses[s0..]);
            let mut start = s0;
            for (th, (rows, syns)) in counted.iter().enumerate() {
                let (r, rr) = std::mem::take(&mut rrest).split_at_mut(rows[k]);
                let (s, sr) = std::mem::take(&mut srest).split_at_mut(syns[k]);
                (rrest, srest) = (rr, sr);
                parts[th].push((r, s, start as u32));
                start += syns[k];
            }
        }
        let fill = |lo: usize, hi: usize, parts: &mut [Part]| {
            let (mut rc, mut sc) = (vec![0usize; n], vec![0usize; n]);
            let mut last = vec![u32::MAX; n];
            for i in lo as u32..hi as u32 {
                let Some(key) = key_of(i) else { continue };
                for (g, (sy, q, _)) in self.group.iter().enumerate() {
                    if self.shared[g].is_some() {
                        continue;
                    }
                    for x in sy.row(i as usize) {
                        let j = sy.post[x];
                        let t = qs.slice_of(j);
                        let k = t as usize;
                        let (rows, syns, first) = &mut parts[k];
                        if last[k] != i {
                            last[k] = i;
                            // invariant: neuron i has a key, so its slice sends; `conn` lists every slice its synapses reach, and the loop at the
                            // top of `run` gave each of those a base row
                            let row = base_row[k].expect("a target slice of a sending source has a base row") + (key - self.run_key);
                            rows[rc[k]] = RowStart { row, start: *first + sc[k] as u32 };
                            rc[k] += 1;
                        }
                        let m = match self.uniform_m[g] {
                            Some(m) => m,
                            None => q.mantissa(sy.weight(x)).0,
                        };
                        syns[sc[k]] = Synapse { weight: m, target: (j - t * qs.size) as u16, delay: sy.delay(x) as u8, port: q.port };
                        sc[k] += 1;
                    }
                }
            }
        };
        if threads <= 1 {
            fill(0, n_pre, &mut parts[0]);
        } else {
            std::thread::scope(|sc| {
                for (w, p) in cut.windows(2).zip(parts.iter_mut()) {
                    let (lo, hi, fill) = (w[0], w[1], &fill);
                    sc.spawn(move || fill(lo, hi, p));
                }
            });
        }
        drop(parts);
        if self.plastic.iter().any(|p| p.is_some()) {
            self.plastic_sets(cores, &old, &key_of);
        }
    }

    /// The plastic projections' synapses on each target core, found by
    /// walking the synapses in the order `fill` wrote them.
    fn plastic_sets(&self, cores: &mut [Building], old: &[(usize, usize)], key_of: &dyn Fn(u32) -> Option<u32>) {
        let qs = self.qs;
        let n_pre = self.net.pop(self.pre).size;
        let mut next: Vec<usize> = old.iter().map(|o| o.1).collect();
        // Per core and group member: the set's index in the core's `plastic`.
        let mut set_of: Vec<Vec<Option<usize>>> = vec![vec![None; self.group.len()]; cores.len()];
        for i in 0..n_pre {
            if key_of(i).is_none() {
                continue;
            }
            for (g, (sy, q, p)) in self.group.iter().enumerate() {
                if self.shared[g].is_some() {
                    continue;
                }
                for x in sy.row(i as usize) {
                    let k = qs.slice_of(sy.post[x]) as usize;
                    if let Some((rule, projection_index, stdp)) = self.plastic[g] {
                        let b = &mut cores[k].img;
                        let s = *set_of[k][g].get_or_insert_with(|| {
                            // Lava's integer weights are their own units (the port's weight_exp is not the weight's).
                            let integer = matches!(q.rule, crate::lower::quant::QuantRule::Lava { .. });
                            b.plastic.push(nerve_isa::learning::PlasticSet {
                                rule,
                                projection: p.label.clone(),
                                projection_index,
                                pre_pop: PopId(self.pre.index() as u32),
                                synapses: vec![],
                                pre: vec![],
                                tag1: vec![],
                                tag2: vec![],
                                words: vec![],
                                weight_unit: if integer { 1.0 } else { q.value(1) },
                            });
                            b.plastic.len() - 1
                        });
                        let set = &mut b.plastic[s];
                        set.synapses.push(next[k] as u32);
                        set.pre.push(i);
                        set.tag1.push(0);
                        set.tag2.push(0);
                        if let Some(pl) = stdp {
                            // The word learns; the synapse delivers what the word is worth.
                            let word = pl.word(sy.weight(x));
                            set.words.push(word);
                            b.synapses[next[k]].weight = pl.delivery.apply(word);
                        }
                    }
                    next[k] += 1;
                }
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn codegen(
    arch: &Arch,
    net: &Network,
    opts: &Options,
    syn: &[Synapses],
    lowered: &[Lowered],
    splits: &[Split],
    mapped: &Mapped,
    conns: &SliceConns,
) -> Result<Image> {
    let base = slice_base(splits);
    let mut kernels: Vec<Kernel> = Vec::new();
    // Learning rules, one per plastic projection, their programs among the kernels.
    let mut rules: Vec<nerve_isa::learning::LearningRule> = Vec::new();
    let mut rule_of: Vec<Option<u32>> = vec![None; net.graph.edge_count()];
    let mut stdp_of: Vec<Option<crate::plasticity::stdp::Planned>> = (0..net.graph.edge_count()).map(|_| None).collect();
    for (e, _, post, p) in net.projections() {
        let Some(pl) = &p.plasticity else { continue };
        // invariant: `lower` quantises every projection into a population (delay stages take their origin's, in `front`)
        let q = &lowered[post.index()].quant.iter().find(|(x, _)| *x == e).expect("every projection is quantised").1;
        let c = crate::plasticity::compile(net, e, pl, q, &syn[e.index()])?;
        stdp_of[e.index()] = c.stdp;
        let kid = match kernels.iter().position(|k| *k == c.program) {
            Some(i) => KernelId(i as u32),
            None => {
                kernels.push(c.program);
                KernelId(kernels.len() as u32 - 1)
            }
        };
        let mut rule = c.rule;
        rule.set_program(kid);
        rule_of[e.index()] = Some(rules.len() as u32);
        rules.push(rule);
    }
    let mut cores: Vec<Building> = Vec::new();
    for (pi, _) in net.pops() {
        let sp = splits[pi.index()];
        let low = &lowered[pi.index()];
        let kid = match &low.body {
            Body::Kernel { kernel, .. } => Some(match kernels.iter().position(|k| k == kernel) {
                Some(i) => KernelId(i as u32),
                None => {
                    kernels.push(kernel.clone());
                    KernelId(kernels.len() as u32 - 1)
                }
            }),
            Body::SpikeArray(_) | Body::External => None,
        };
        for k in 0..sp.count {
            let r = sp.range(k);
            let kind = match &low.body {
                Body::Kernel { params, state, .. } => CoreKind::Neuron {
                    // invariant: `kid` is Some exactly when the body is Body::Kernel (set from the same match above)
                    kernel: kid.expect("a kernel body has a kernel id"),
                    params: params.iter().map(|p| slice_params(p, r.clone())).collect(),
                    state: state.iter().map(|s| s[r.start as usize..r.end as usize].to_vec()).collect(),
                },
                Body::SpikeArray(steps) => CoreKind::SpikeArray { steps: steps[r.start as usize..r.end as usize].to_vec() },
                Body::External => CoreKind::External,
            };
            let core = mapped.placement.cores[pi.index()][k as usize];
            let g = (base[pi.index()] + k) as usize;
            cores.push(Building {
                img: CoreImage {
                    core,
                    pop: PopId(pi.index() as u32),
                    n_neurons: r.end - r.start,
                    kind,
                    key_base: mapped.keys.base[g],
                    inputs: vec![],
                    rows: vec![],
                    synapses: vec![],
                    conv: vec![],
                    plastic: vec![],
                    gap: vec![],
                },
                conv: vec![],
            });
        }
    }
    // Synaptic rows, per target population and source group. A population's
    // cores are consecutive in `cores`, in slice order (built so above), and
    // only its own groups write them: populations are filled side by side
    // when no group is large enough to be split itself (rand_big: 1,200
    // populations, 57k groups of a few hundred synapses each).
    let fill = Fill { arch, net, opts, syn, lowered, splits, mapped, conns, base: &base, rule_of: &rule_of, stdp_of: &stdp_of };
    let mut parts: Vec<(PopIx, &mut [Building])> = Vec::new();
    let mut rest = cores.as_mut_slice();
    for (post, _) in net.pops() {
        let (mine, more) = std::mem::take(&mut rest).split_at_mut(splits[post.index()].count as usize);
        parts.push((post, mine));
        rest = more;
    }
    let largest = net.projections().map(|(e, _, _, _)| syn[e.index()].post.len()).max().unwrap_or(0);
    let threads = match opts.threads {
        Some(k) => k.max(1),
        None if largest < PARALLEL_SCATTER => nerve_isa::host_threads(),
        None => 1,
    }
    .min(parts.len().max(1));
    // The first failing population (in population order) gives the error, as
    // filling them in turn would; a large group is split itself only when
    // populations are filled in turn.
    let inner_threads = threads <= 1;
    // A stop is seen between populations: writing the synapses is the compile's longest stage.
    crate::par::map_in_order(parts, threads, |(post, targets)| opts.stopped().and_then(|()| fill_population(&fill, post, targets, inner_threads)))
        .into_iter()
        .collect::<Result<()>>()?;
    let mut out_cores: Vec<CoreImage> = cores
        .into_iter()
        .map(|b| {
            let mut c = b.img;
            c.inputs.sort_by_key(|e| e.key);
            for (key, mut k) in b.conv {
                // invariant: a shared kernel is pushed only for a target slice its projection group reaches, and `job.run` gave
                // every reached target slice an input entry with the group's run key
                k.input = c.inputs.iter().position(|e| e.key.0 == key).expect("a kernel's input entry exists") as u32;
                c.conv.push(k);
            }
            c
        })
        .collect();
    out_cores.sort_by_key(|c| c.core);
    let populations = net
        .pops()
        .map(|(pi, p)| {
            let sp = splits[pi.index()];
            PopSymbol {
                name: p.name.clone(),
                size: p.size,
                model: p.model.name().to_string(),
                slices: (0..sp.count)
                    .map(|k| Slice { core: mapped.placement.cores[pi.index()][k as usize], first: sp.range(k).start, count: sp.len(k) })
                    .collect(),
                record_spikes: p.record_spikes,
                vars: lowered[pi.index()].vars.clone(),
                labels: p.labels.clone(),
            }
        })
        .collect();
    let routers = mapped.routes.tables.iter().map(|(t, e)| RouterTable { tile: *t, entries: e.clone() }).collect();
    Ok(Image {
        arch: arch.clone(),
        meta: Meta { network: net.name.clone(), dt_ms: net.dt_ms, seed: opts.seed, producer: format!("nerve-compiler {}", env!("CARGO_PKG_VERSION")) },
        kernels,
        cores: out_cores,
        routers,
        populations,
        rules,
    })
}

/// What every target population's rows are built from (`fill_population`).
struct Fill<'a> {
    arch: &'a Arch,
    net: &'a Network,
    opts: &'a Options,
    syn: &'a [Synapses],
    lowered: &'a [Lowered],
    splits: &'a [Split],
    mapped: &'a Mapped,
    conns: &'a SliceConns,
    base: &'a [u32],
    rule_of: &'a [Option<u32>],
    stdp_of: &'a [Option<crate::plasticity::stdp::Planned>],
}

/// The synaptic rows of target population `post`, per source group, into
/// its cores `targets` (slice order). `inner_threads`: whether a large
/// group may be scattered by several threads (not when populations are
/// already filled side by side).
fn fill_population(f: &Fill, post: PopIx, targets: &mut [Building], inner_threads: bool) -> Result<()> {
    let Fill { arch, net, opts, syn, lowered, splits, mapped, conns, base, rule_of, stdp_of } = *f;
    let qs = splits[post.index()];
    let quant: &[(ProjIx, ProjQuant)] = &lowered[post.index()].quant;
    for (pre, projs) in groups_into(net, post) {
        let ps = splits[pre.index()];
        let group: Vec<(&Synapses, &ProjQuant, &Projection)> = projs
            .iter()
            .map(|e| {
                // invariant: `lower` quantises every projection into a population (delay stages take their origin's, in `front`)
                let q = &quant.iter().find(|(pe, _)| pe == e).expect("every projection is quantised").1;
                (&syn[e.index()], q, &net.graph[*e])
            })
            .collect();
        let conn = conns.get(&(pre, post)).ok_or_else(|| CompileError::Internal("a projection into a population partition did not see".into()))?;
        // One input entry per (source population, target core), covering the
        // population's whole key run. Rows are numbered by key offset within
        // the run; only non-empty rows are stored.
        let (run_key, run_mask) = match mapped.keys.runs[pre.index()] {
            Some(r) => r,
            None => continue,
        };
        let span = (!run_mask as u64 + 1) as u32;
        // Mantissas of uniform weights, once per projection.
        let uniform_m: Vec<Option<i32>> = group
            .iter()
            .map(|(sy, q, _)| match &sy.weights {
                crate::net::expand::Weights::Uniform(w) => Some(q.mantissa(*w).0),
                crate::net::expand::Weights::PerSynapse(_) => None,
            })
            .collect();
        let plastic: Vec<Option<(u32, u32, Option<&crate::plasticity::stdp::Planned>)>> =
            projs.iter().map(|e| rule_of[e.index()].map(|r| (r, net.position_of(*e) as u32, stdp_of[e.index()].as_ref()))).collect();
        for (sy, _, proj) in &group {
            if sy.max_delay() > 255 {
                return Err(CompileError::Projection { projection: proj.label.clone(), reason: format!("delay {} steps exceeds 255", sy.max_delay()) });
            }
        }
        let kernels: Vec<Option<crate::net::expand::SharedKernel>> =
            projs.iter().zip(&group).map(|(e, (sy, _, _))| crate::net::expand::shared_kernel(arch, net, *e, sy)).collect();
        // Every connected source slice has a key (checked before the
        // scatter, which then cannot fail).
        for sl in 0..ps.count {
            if mapped.keys.base[(base[pre.index()] + sl) as usize].is_none() && !conn[sl as usize].is_empty() {
                return Err(CompileError::Internal("a connected slice has no key".into()));
            }
        }
        let job = Scatter {
            net,
            pre,
            ps,
            qs,
            group: &group,
            uniform_m: &uniform_m,
            shared: &kernels,
            conn,
            key_base: &mapped.keys.base[base[pre.index()] as usize..(base[pre.index()] + ps.count) as usize],
            plastic: &plastic,
            run_key,
            run_mask,
            span,
        };
        // Large groups are scattered by several threads, each over its own
        // source neurons: the per-core arrays come out the same whatever the split.
        let n_syn: usize = group.iter().map(|(sy, _, _)| sy.post.len()).sum();
        let threads = match opts.threads {
            _ if !inner_threads => 1,
            Some(k) => k.max(1),
            None if n_syn >= PARALLEL_SCATTER => nerve_isa::host_threads(),
            None => 1,
        };
        job.run(targets, threads);
        // Shared kernels: one per target slice the projection reaches.
        for (g, k) in kernels.iter().enumerate() {
            let Some(k) = k else { continue };
            let (sy, q, proj) = group[g];
            if plastic[g].is_some() {
                return Err(CompileError::Projection {
                    projection: proj.label.clone(),
                    reason: "a learning rule on a shared-kernel (convolution) projection: its synapses are one kernel".into(),
                });
            }
            let delay = match sy.delays {
                crate::net::expand::Delays::Uniform(d) => d as u8,
                crate::net::expand::Delays::PerSynapse(_) => {
                    return Err(CompileError::Internal(format!("{}: a shared kernel with per-synapse delays", proj.label)))
                }
            };
            // Zero taps are absent, as `expand` drops them.
            let weights: Vec<i32> = k.weights.iter().map(|&w| if w == 0.0 { ConvRows::NO_TAP } else { q.mantissa(w).0 }).collect();
            let mut reached = vec![false; qs.count as usize];
            for_each_row(&[sy], net.pop(pre).size, qs, |_, sl, _| reached[sl as usize] = true);
            for (t, _) in reached.iter().enumerate().filter(|(_, r)| **r) {
                targets[t].conv.push((
                    run_key,
                    ConvRows {
                        input: u32::MAX,
                        neuron_bits: mapped.keys.neuron_bits,
                        pre_slice: ps.size,
                        geom: k.geom,
                        weights: weights.clone(),
                        delay,
                        port: q.port,
                        post_first: t as u32 * qs.size,
                    },
                ));
            }
        }
    }
    Ok(())
}

/// Every source slice's first and last key, traced through the final tables,
/// reaches exactly its destination cores. Slices are traced on `threads`
/// host threads (`None`: the host's, for images of `PARALLEL_CHECK` slices or
/// more); the first failing slice in slice order gives the error whatever
/// the count.
pub(crate) fn check_routes(img: &Image, splits: &[Split], mapped: &Mapped, threads: Option<usize>) -> Result<()> {
    let a = &img.arch;
    let base = slice_base(splits);
    let slices: Vec<(usize, u32)> = splits.iter().enumerate().flat_map(|(p, sp)| (0..sp.count).map(move |k| (p, k))).collect();
    let check = |&(p, k): &(usize, u32)| -> Result<()> {
        let g = (base[p] + k) as usize;
        let Some(kb) = mapped.keys.base[g] else { return Ok(()) };
        let src = a.tile_of(mapped.placement.cores[p][k as usize]);
        for key in [kb.0, kb.0 + splits[p].len(k) - 1] {
            let tr = img.trace(src, RoutingKey(key)).map_err(|e| CompileError::Internal(e.to_string()))?;
            if tr.cores != mapped.dests[g] {
                return Err(CompileError::Internal(format!("key {key:#x} reaches {:?}, should reach {:?}", tr.cores, mapped.dests[g])));
            }
        }
        Ok(())
    };
    let threads = match threads {
        Some(k) => k.max(1),
        None if slices.len() >= PARALLEL_CHECK => nerve_isa::host_threads(),
        None => 1,
    };
    // Chunks small enough that threads finish together (a slice's trace
    // costs with its fan-out), large enough that taking one is cheap.
    crate::par::try_each_in_order(&slices, threads, 64, check)
}

/// Slices from which tracing the routes pays for threads (the 1M ring's
/// 3,910 took ~0.75 s on one).
const PARALLEL_CHECK: usize = 1024;
