//! `Image::validate`: every internal reference and every architectural
//! limit, checked once; `into_valid` keeps the proof as a `ValidImage`.

use super::{
    invalid, ConvRows, CoreColumns, CoreImage, CoreKind, Image, ImageError, ParamArray, RowStart, Synapse, ValidImage, MAX_ADDRESSED_ROWS,
    MAX_GENERATED_SYNAPSES,
};
use crate::arch::{Dir, TopologyKind};
use crate::ids::{CoreId, RoutingKey};

/// Synapses from which `Image::validate` checks cores on several threads.
const PARALLEL_VALIDATE: usize = 1 << 20;

impl Image {
    /// Learning rules and plastic synapses: every reference in range, every
    /// program a learning program (state w, d, t; one input per operand).
    fn validate_learning(&self) -> Result<(), ImageError> {
        use crate::learning::{LearningRule, Operand};
        for (ri, r) in self.rules.iter().enumerate() {
            match r {
                LearningRule::Loihi(l) => {
                    let k = self
                        .kernels
                        .get(l.program.index())
                        .ok_or_else(|| ImageError::Invalid { what: format!("learning rule {ri}: no kernel {}", l.program) })?;
                    if k.state.len() != 3 || k.inputs.len() != l.operands.len() || !k.params.is_empty() {
                        return invalid(format!("learning rule {ri}: its program must have state w, d, t, no parameters and one input per operand"));
                    }
                    if !(1..=63).contains(&l.t_epoch) {
                        return invalid(format!("learning rule {ri}: t_epoch {} outside 1..=63", l.t_epoch));
                    }
                    if l.operands.contains(&Operand::U) && l.decimation.is_none() {
                        return invalid(format!("learning rule {ri}: a u operand without a decimation"));
                    }
                    // u0..u9, as rules are written: 1 << 64 and more wrapped in
                    // the emulator (u67 ran as u3).
                    if let Some(k) = l.decimation.filter(|&k| k > 9) {
                        return invalid(format!("learning rule {ri}: decimation u{k} outside u0..=u9"));
                    }
                    for t in l.x.iter().chain(&l.y) {
                        if !(t.tau.is_finite() && t.tau >= 0.0) || t.impulse_frac > 256 {
                            return invalid(format!("learning rule {ri}: a trace's tau {} or impulse fraction {} is out of range", t.tau, t.impulse_frac));
                        }
                    }
                    if let Some(rw) = &l.reward {
                        if rw.pop.index() >= self.populations.len() {
                            return invalid(format!("learning rule {ri}: reward population {} does not exist", rw.pop));
                        }
                    }
                }
                LearningRule::Stdp(st) => {
                    let k = self
                        .kernels
                        .get(st.program.index())
                        .ok_or_else(|| ImageError::Invalid { what: format!("learning rule {ri}: no kernel {}", st.program) })?;
                    let inputs = 3 + 2 * crate::learning::stdp::PER_ROUND + st.reward.is_some() as usize;
                    if k.state.len() != 3 || k.inputs.len() != inputs || !k.params.is_empty() {
                        return invalid(format!("learning rule {ri}: an STDP program must have state w, word, delivered, no parameters and {inputs} inputs"));
                    }
                    if st.shift > 16 {
                        return invalid(format!("learning rule {ri}: weight shift {} exceeds 16", st.shift));
                    }
                    let luts = [&st.plus, &st.minus].into_iter().chain(st.reward.as_ref().map(|r| &r.lut));
                    for l in luts {
                        if l.shift > 31 || l.values.len() > 1 << 16 || l.values.iter().any(|&v| v as i32 > crate::learning::stdp::ONE) {
                            return invalid(format!("learning rule {ri}: a decay table is longer than 65,536, shifts past 31 or exceeds one"));
                        }
                    }
                    if let Some(rw) = &st.reward {
                        if rw.pop.index() >= self.populations.len() {
                            return invalid(format!("learning rule {ri}: reward population {} does not exist", rw.pop));
                        }
                    }
                }
            }
        }
        for c in &self.cores {
            for (si, s) in c.plastic.iter().enumerate() {
                let what = || format!("{} plastic set {si}", c.core);
                if s.rule as usize >= self.rules.len() {
                    return invalid(format!("{}: no learning rule {}", what(), s.rule));
                }
                // Printed by disasm in comments and by reports: a line break
                // there broke disasm's output (it no longer reassembled).
                if s.projection.contains(crate::names::bad_char) {
                    return invalid(format!("{}: projection \"{}\" holds control characters or noncharacters", what(), s.projection.escape_debug()));
                }
                let n = s.synapses.len();
                let stdp = matches!(self.rules[s.rule as usize], LearningRule::Stdp(_));
                if s.pre.len() != n || s.tag1.len() != n || s.tag2.len() != n || s.words.len() != if stdp { n } else { 0 } {
                    return invalid(format!("{}: per-synapse arrays of different lengths", what()));
                }
                if s.synapses.windows(2).any(|w| w[0] >= w[1]) || s.synapses.last().is_some_and(|&x| x as usize >= c.synapses.len()) {
                    return invalid(format!("{}: synapse indices not sorted or out of range", what()));
                }
                let pre_size = self
                    .populations
                    .get(s.pre_pop.index())
                    .map(|p| p.size)
                    .ok_or_else(|| ImageError::Invalid { what: format!("{}: no population {}", what(), s.pre_pop) })?;
                if s.pre.iter().any(|&p| p >= pre_size) {
                    return invalid(format!("{}: a pre neuron beyond `{}`'s {pre_size}", what(), self.populations[s.pre_pop.index()].name));
                }
                if !matches!(c.kind, CoreKind::Neuron { .. }) || !c.conv.is_empty() {
                    return invalid(format!("{}: plastic synapses on a core without a kernel or with shared kernels", what()));
                }
            }
        }
        Ok(())
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
        self.validate_with(threads, &[])
    }

    /// As `validate_on`, core i's rows and synapses being `columns[i]` where
    /// that is given (a [`super::LoadImage`]'s), else the core's own.
    pub(super) fn validate_with(&self, threads: Option<usize>, columns: &[Option<CoreColumns>]) -> Result<(), ImageError> {
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
        if !crate::names::DT_MS_RANGE.contains(&self.meta.dt_ms) {
            let r = &crate::names::DT_MS_RANGE;
            return invalid(format!("dt_ms = {} is outside {:e}..={:e} ms, the timesteps a network may have", self.meta.dt_ms, r.start(), r.end()));
        }
        // Learning programs run on the learning engine, not the neuron
        // core: they meet the ISA's limits (`validate`), not the core's.
        let programs: Vec<usize> = self.rules.iter().map(|r| r.program().index()).collect();
        let used_by_cores = |ki: usize| self.cores.iter().any(|c| c.kernel_id().is_some_and(|k| k.index() == ki));
        for (ki, k) in self.kernels.iter().enumerate() {
            k.validate()?;
            if programs.contains(&ki) && !used_by_cores(ki) {
                continue;
            }
            for (what, _, need, max) in k.core_needs(&a.core) {
                limit(&|| format!("kernel `{}` {what}", k.name), need, max)?;
            }
        }
        // Cores.
        let n_cores = a.num_cores();
        // Each core's own checks; its key range, if it sends.
        // What is wrong with a synapse into a core of `n` neurons and
        // `n_ports` input ports. Each check is of a range of one field's
        // values: records of each field's least and largest values pass
        // only if every synapse does (`Columns::bounds`).
        let synapse_fault = |n: usize, n_ports: usize, s: &Synapse| -> Option<String> {
            let wb = a.core.weight_bits;
            if s.target as usize >= n {
                Some(format!("targets neuron {} of {n}", s.target))
            } else if s.port as usize >= n_ports {
                Some(format!("uses port {}, the core has {n_ports}", s.port))
            } else if s.delay == 0 || s.delay as u16 > a.core.max_delay_steps {
                Some(format!("has delay {}, allowed 1..={}", s.delay, a.core.max_delay_steps))
            } else if crate::semantics::wrap(s.weight, wb) != s.weight {
                Some(format!("weight {} does not fit {wb} signed bits", s.weight))
            } else {
                None
            }
        };
        // `syn`: the core's `n_syn` synapses to check one by one, or none
        // (those of a `LoadImage` whose bounds were checked: `synapses_ok`).
        let check_core = |i: usize, c: &CoreImage, rows: &[RowStart], n_syn: usize, syn: &[Synapse]| -> Result<Option<(u64, u64, CoreId)>, ImageError> {
            let row_len = |k: usize| rows.get(k + 1).map_or(n_syn, |n| n.start as usize) - rows[k].start as usize;
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
            for (k, r) in rows.iter().enumerate() {
                if k == 0 && r.start != 0 {
                    return invalid(format!("{cid}: the first row starts at synapse {}, not 0", r.start));
                }
                // The next row's order first: a row's length is the next
                // row's start less its own (a start going backwards is an
                // unsorted row, not a row of 2^64 synapses).
                if let Some(nx) = rows.get(k + 1) {
                    if r.row >= nx.row || r.start >= nx.start {
                        return invalid(format!(
                            "{cid}: rows {} and {} are unsorted or empty (they start at synapses {} and {})",
                            r.row, nx.row, r.start, nx.start
                        ));
                    }
                }
                if r.start as usize >= n_syn {
                    return invalid(format!("{cid}: row {} starts at synapse {} of {}", r.row, r.start, n_syn));
                }
                limit(&|| format!("synapses in row {} on {cid}", r.row), row_len(k) as u64, a.core.max_row_length as u64)?;
            }
            for (gi, g) in c.gap.iter().enumerate() {
                let src = self.core(g.src_core).ok_or_else(|| ImageError::Invalid {
                    what: format!("{cid}: electrical synapse {gi} comes from {}, which is not in the image", g.src_core),
                })?;
                let CoreKind::Neuron { state, .. } = &src.kind else {
                    return invalid(format!("{cid}: electrical synapse {gi} comes from {}, which runs no kernel", g.src_core));
                };
                if g.src_neuron as u32 >= src.n_neurons || g.slot as usize >= state.len() {
                    return invalid(format!(
                        "{cid}: electrical synapse {gi} reads neuron {} slot {} of {} ({} neurons, {} slots)",
                        g.src_neuron,
                        g.slot,
                        g.src_core,
                        src.n_neurons,
                        state.len()
                    ));
                }
                if g.target as usize >= n || g.port as usize >= n_ports || g.shift > 62 {
                    return invalid(format!(
                        "{cid}: electrical synapse {gi} into neuron {} port {} shift {} ({n} neurons, {n_ports} ports, shift ≤ 62)",
                        g.target, g.port, g.shift
                    ));
                }
            }
            // The terms into one (neuron, port) at one shift are summed
            // exactly in 64 bits before their one rounding: Σ|weight| ≤ 2^31
            // keeps Σ weight·v (v a 32-bit value) inside.
            let mut sums: std::collections::BTreeMap<(u16, u8, u8), u64> = std::collections::BTreeMap::new();
            for g in &c.gap {
                *sums.entry((g.target, g.port, g.shift)).or_default() += g.weight.unsigned_abs() as u64;
            }
            if let Some(((t, p, sh), w)) = sums.into_iter().find(|&(_, w)| w > 1 << 31) {
                return invalid(format!(
                    "{cid}: the electrical synapses into neuron {t} port {p} at shift {sh} have weights summing to {w} in magnitude, past 2^31 (their sum is taken in 64 bits)"
                ));
            }
            if !c.gap.is_empty() && !matches!(c.kind, CoreKind::Neuron { .. }) {
                return invalid(format!("{cid}: electrical synapses into a core without a kernel"));
            }
            if rows.is_empty() && n_syn > 0 {
                return invalid(format!("{cid}: synapses without rows"));
            }
            if !c.conv.is_empty() && !a.core.shared_kernels {
                return invalid(format!("{cid}: shared-kernel rows on a profile without `shared_kernels`"));
            }
            // Rows the shared kernels address that stand for a source
            // neuron: a bound of the rows `expanded` (which also runs
            // below) walks, however few synapses they have.
            let mut addressed = 0u64;
            for (ki, k) in c.conv.iter().enumerate() {
                let e = c
                    .inputs
                    .get(k.input as usize)
                    .ok_or_else(|| ImageError::Invalid { what: format!("{cid}: kernel rows {ki} use input entry {} of {}", k.input, c.inputs.len()) })?;
                k.check(n as u32).map_err(|m| ImageError::Invalid { what: format!("{cid}: kernel rows {ki}: {m}") })?;
                addressed += k.addressed_rows(e.count);
                if addressed > MAX_ADDRESSED_ROWS {
                    return invalid(format!(
                        "{cid}: kernel rows {ki} (input entry {}, {} rows) bring the rows its shared kernels address to {addressed}, at most {MAX_ADDRESSED_ROWS} a core",
                        k.input, e.count
                    ));
                }
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
            let present: &[RowStart] = generated.as_deref().unwrap_or(rows);
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
                if hi > 1 << 32 {
                    return invalid(format!("{cid}: input entry {ei} addresses rows {lo}..{hi}, past the last row number {} (rows are 32-bit)", u32::MAX));
                }
                input_keys += (present.partition_point(|r| (r.row as u64) < hi) - present.partition_point(|r| (r.row as u64) < lo)) as u64;
                ranges.push((lo, hi));
            }
            ranges.sort_unstable();
            if let Some(w) = ranges.windows(2).find(|w| w[0].1 > w[1].0) {
                return invalid(format!("{cid}: input entries address overlapping rows {}..{} and {}..{}", w[0].0, w[0].1, w[1].0, w[1].1));
            }
            // Every row must be reachable by some key. The rows are sorted
            // (checked above), and the ranges disjoint and sorted: one pass.
            let mut at = 0;
            for r in rows {
                let x = r.row as u64;
                while at < ranges.len() && ranges[at].1 <= x {
                    at += 1;
                }
                if at == ranges.len() || ranges[at].0 > x {
                    return invalid(format!("{cid}: row {} is reached by no input entry", r.row));
                }
            }
            // A gap junction's source on another core sends its `v` to this one every step: an input axon.
            input_keys += c.gap_sources();
            if let Some(m) = a.core.max_input_keys {
                limit(&|| format!("input keys (axons) on {cid}"), input_keys, m as u64)?;
            }
            if let Some(m) = a.core.max_input_table_entries {
                limit(&|| format!("input-table entries on {cid}"), c.inputs.len() as u64, m as u64)?;
            }
            for (si, s) in syn.iter().enumerate() {
                if let Some(f) = synapse_fault(n, n_ports, s) {
                    return invalid(format!("{cid}: synapse {si} {f}"));
                }
            }
            limit(&|| format!("synaptic memory words on {cid}"), self.synapse_words_of(c, rows, n_syn), a.core.synapse_words as u64)?;
            Ok(key_range)
        };
        // Cores are independent: a large image's are checked on several
        // threads, each over consecutive cores, and the first failing core in
        // core order is reported, as one thread would.
        let col = |j: usize| columns.get(j).and_then(Option::as_ref);
        // Whether synapses whose fields span `lo..=hi` all pass `synapse_fault`.
        let synapses_ok = |c: &CoreImage, lo: &Synapse, hi: &Synapse| -> bool {
            let n_ports = match &c.kind {
                CoreKind::Neuron { kernel, .. } => self.kernels.get(kernel.index()).map_or(0, |k| k.inputs.len()),
                _ => 0,
            };
            let n = c.n_neurons as usize;
            synapse_fault(n, n_ports, lo).is_none() && synapse_fault(n, n_ports, hi).is_none()
        };
        let n_syn: usize = self.cores.iter().enumerate().map(|(j, c)| col(j).map_or(c.synapses.len(), |x| x.synapses.len())).sum();
        let threads = match threads {
            Some(k) => k.max(1),
            None if n_syn >= PARALLEL_VALIDATE => crate::host_threads(),
            None => 1,
        };
        let per = self.cores.len().div_ceil(threads).max(1);
        // Per core: its keys (first, last) and id, for the overlap check below.
        type Keys = Vec<(u64, u64, CoreId)>;
        let chunk = |k: usize| -> Result<Keys, ImageError> {
            let (mut out, mut rows, mut syn) = (Vec::new(), Vec::new(), Vec::new());
            for (j, c) in self.cores.iter().enumerate().skip(k * per).take(per) {
                match col(j) {
                    Some(x) => {
                        x.rows.decode_into(&mut rows);
                        // Each synapse check holds for a range of values:
                        // if the least and largest values pass, every
                        // synapse does; else they are checked one by one
                        // for the first culprit.
                        let n_syn = x.synapses.len();
                        let ok = x.synapses.bounds().is_none_or(|(lo, hi)| synapses_ok(c, &lo, &hi));
                        if ok {
                            syn.clear();
                        } else {
                            x.synapses.decode_into(&mut syn);
                        }
                        out.extend(check_core(j, c, &rows, n_syn, &syn)?);
                    }
                    None => out.extend(check_core(j, c, &c.rows, c.synapses.len(), &c.synapses)?),
                }
            }
            Ok(out)
        };
        let parts: Vec<Result<Keys, ImageError>> = if threads <= 1 {
            vec![chunk(0)]
        } else {
            std::thread::scope(|sc| {
                let hs: Vec<_> = (0..self.cores.len().div_ceil(per)).map(|k| sc.spawn(move || chunk(k))).collect();
                // invariant: `check_core` reports every fault as an ImageError, so a thread panics only on a bug, which the join passes on
                hs.into_iter().map(|h| h.join().expect("a validation thread panicked (check_core returns errors, so this is a bug)")).collect()
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
        // The cores a route may deliver to: the image's (a route to another
        // core was refused by the emulator only, while inspect, disasm and
        // export spinnaker-tables took the image).
        let used: std::collections::HashSet<CoreId> = self.cores.iter().map(|c| c.core).collect();
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
                    // Bits 6 and 7 are no direction at all: named by number.
                    let bad: Vec<String> = (0..8u8)
                        .filter(|b| e.links & !link_bits & (1 << b) != 0)
                        .map(|b| Dir::ALL.get(b as usize).map_or(format!("bit {b}"), |d| d.name().to_string()))
                        .collect();
                    return invalid(format!("{} entry {ei}: link(s) {} do not exist on a {} topology", r.tile, bad.join(","), a.topology.kind.name()));
                }
                if let Some(c) = e.cores.from(a.cores_per_tile()) {
                    return invalid(format!("{} entry {ei}: routes to core {c}, past the tile's {} cores", r.tile, a.cores_per_tile()));
                }
                if r.tile.0 < n_tiles {
                    if let Some(c) = e.cores.iter().map(|k| a.core_at(r.tile, k)).find(|c| !used.contains(c)) {
                        return invalid(format!("{} entry {ei}: routes to {c}, which the image does not use", r.tile));
                    }
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
        // Symbol table. The network's name titles the reports and their (XML) pictures.
        if let Some(why) = crate::names::bad_network_name(&self.meta.network) {
            return invalid(why);
        }
        for (pi, p) in self.populations.iter().enumerate() {
            // The reports write these unquoted (recordings, probe headers).
            if let Some(why) = crate::names::bad_population_name(&p.name) {
                return invalid(why);
            }
            if let Some((i, why)) = p.labels.iter().enumerate().find_map(|(i, l)| crate::names::bad_label(l).map(|w| (i, w))) {
                return invalid(format!("population `{}` neuron {i}: {why}", p.name));
            }
            if let Some(why) = p.vars.iter().find_map(|v| crate::names::bad_variable_name(&v.name)) {
                return invalid(format!("population `{}`: {why}", p.name));
            }
            // Printed as they are (disasm, inspect, the reports' tables).
            if let Some(t) = std::iter::once(&p.model).chain(p.vars.iter().map(|v| &v.unit)).find(|t| t.contains(crate::names::bad_char)) {
                return invalid(format!("population `{}`: \"{}\" (its model or a unit) holds control characters or noncharacters", p.name, t.escape_debug()));
            }
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
            if p.size == 0 {
                // Rates per neuron and every per-neuron table divide by it.
                return invalid(format!("population `{}` has no neurons (size 0, at least 1)", p.name));
            }
            if next != p.size {
                return invalid(format!("population `{}` has size {} but its slices cover {next}", p.name, p.size));
            }
            if !p.labels.is_empty() && p.labels.len() != p.size as usize {
                return invalid(format!("population `{}` has {} labels for {} neurons", p.name, p.labels.len(), p.size));
            }
            for v in &p.vars {
                // Every probe's value is raw · scale + offset: a NaN wrote NaN probes.
                if !(v.scale.is_finite() && v.scale != 0.0 && v.offset.is_finite()) {
                    return invalid(format!(
                        "population `{}`: variable `{}` has scale {} and offset {} (finite, a nonzero scale)",
                        p.name, v.name, v.scale, v.offset
                    ));
                }
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
        self.validate_learning()?;
        // Output axons need the routes: checked by walking them.
        if let Some(m) = a.core.max_output_axons {
            for c in &self.cores {
                if let Some(kb) = c.key_base {
                    let mut axons = 0u64;
                    for i in 0..c.n_neurons {
                        let t = self.trace(a.tile_of(c.core), RoutingKey(kb.0 + i)).map_err(|e| ImageError::Invalid { what: e.to_string() })?;
                        axons += t.cores.len() as u64;
                    }
                    limit(&|| format!("output axons on {}", c.core), axons, m as u64)?;
                }
            }
        }
        Ok(())
    }
}
