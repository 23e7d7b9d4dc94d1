//! Compile → run, through the libraries: the invariants that tie the image to
//! the network, and determinism across engines and thread counts.

use nerve_compiler::compile::{compile, Options};
use nerve_compiler::front::json::read_network;
use nerve_compiler::net::expand::expand;
use nerve_emulator::engine::{run, Interp, Recording, RunOutput};
use nerve_emulator::kernel::jit::Jit;
use nerve_emulator::machine::Machine;
use nerve_isa::arch::{Arch, MessageModel};
use std::path::Path;

fn example(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples").join(name)
}

fn emulate(img: nerve_isa::Image, steps: u64, jit: bool, threads: usize) -> (Machine, RunOutput) {
    let mut m = Machine::load(img).unwrap();
    let rec = Recording { spikes: vec![true; m.pops.len()], probes: vec![], per_step: true, chunk_steps: None };
    let out = if jit {
        let j = Jit::compile(&m).unwrap();
        run(&mut m, &j, steps, threads, &rec, &mut |_| {}).unwrap()
    } else {
        run(&mut m, &Interp, steps, threads, &rec, &mut |_| {}).unwrap()
    };
    (m, out)
}

/// Synaptic events delivered == Σ over spikes of the spiking neuron's
/// out-degree in the network (synapses whose delivery falls inside the run),
/// and no packet is lost: every packet sent reaches every core of its tree.
#[test]
fn synaptic_events_equal_spikes_times_out_degree() {
    let net = read_network(&example("small.json")).unwrap();
    for arch in ["spinnaker", "loihi"] {
        let a = Arch::builtin(arch).unwrap();
        let out = compile(&a, &net, &Options::default(), &mut |_| {}).unwrap();
        let steps = 2000;
        let (m, r) = emulate(out.image.into_image(), steps, true, 1);
        // Out-degree per (population, neuron) from the network itself.
        let mut deg: std::collections::BTreeMap<(usize, u32), u64> = Default::default();
        for (e, pre, _, _) in net.projections() {
            let s = expand(&net, e).unwrap();
            for i in 0..s.n_pre() {
                *deg.entry((pre.index(), i as u32)).or_insert(0) += s.row(i).len() as u64;
            }
        }
        let expected: u64 = r.spikes.iter().map(|s| deg.get(&(s.pop as usize, s.neuron)).copied().unwrap_or(0)).sum();
        assert!(expected > 1000, "{arch}: the test needs activity ({expected})");
        assert_eq!(r.counts.synaptic_events, expected, "{arch}");
        assert_eq!(r.counts.spikes, r.spikes.len() as u64, "{arch}: every spike is a packet");
        // Multicast: packets in == Σ over spikes of the tree's destination count.
        // Per destination: one message per (spike, core holding a synapse of it).
        let dests: u64 = r
            .spikes
            .iter()
            .map(|s| {
                let p = &m.pops[s.pop as usize];
                let sl = p.slices.iter().find(|x| s.neuron >= x.first && s.neuron < x.first + x.count).unwrap();
                let ci = m.cores.iter().position(|c| c.id == sl.core).unwrap();
                match a.router.messages {
                    MessageModel::Multicast => m.routes[ci].first().map_or(0, |rt| rt.dests.len() as u64),
                    MessageModel::PerDestination => {
                        let i = (s.neuron - sl.first) as usize;
                        m.fanout[ci].of(&m.spans, i).iter().filter(|sp| sp.len > 0).count() as u64
                    }
                }
            })
            .sum();
        assert_eq!(r.counts.packets_in, dests, "{arch}");
        if a.router.messages == MessageModel::PerDestination {
            assert_eq!(r.counts.packets_out, dests, "{arch}: one message out per message in");
            assert_eq!(r.counts.packets_no_row, 0, "{arch}");
        }
    }
}

/// examples/small.json on `loihi`, 20 neurons per core (split populations).
fn small_on_loihi() -> nerve_isa::Image {
    let net = read_network(&example("small.json")).unwrap();
    let a = Arch::builtin("loihi").unwrap();
    compile(&a, &net, &Options { neurons_per_core: Some(20), ..Options::default() }, &mut |_| {}).unwrap().image.into_image()
}

/// The message model changes what is charged, never what is computed: the same
/// spikes and synaptic events either way; per-destination sends no packet to a
/// core without a row, and its hops are each message's direct path.
#[test]
fn message_models_change_costs_not_results() {
    let img = small_on_loihi();
    let mut outs = Vec::new();
    for model in [MessageModel::Multicast, MessageModel::PerDestination] {
        let mut m = Machine::load(img.clone()).unwrap();
        m.arch.router.messages = model;
        let rec = Recording { spikes: vec![true; m.pops.len()], probes: vec![], per_step: true, chunk_steps: None };
        let j = Jit::compile(&m).unwrap();
        outs.push(run(&mut m, &j, 1000, 2, &rec, &mut |_| {}).unwrap());
    }
    let (mc, pd) = (&outs[0], &outs[1]);
    assert!(mc.counts.spikes > 100, "the test needs activity");
    assert_eq!(mc.spikes, pd.spikes);
    assert_eq!(mc.counts.synaptic_events, pd.counts.synaptic_events);
    assert_eq!(mc.counts.packets_out, mc.counts.spikes, "multicast: one packet per spike");
    assert_eq!(pd.counts.packets_in, mc.counts.packets_in - mc.counts.packets_no_row, "per destination: the arrivals that had a row");
    assert_eq!(pd.counts.packets_out, pd.counts.packets_in);
    assert_eq!(pd.counts.packets_no_row, 0);
    assert!(mc.counts.packets_no_row > 0 && pd.counts.packets_out > mc.counts.packets_out, "split populations make the models differ");
}

/// Without link contention the per-destination model totals link loads at the
/// end of the run from spike counts; with it, per step. Both must agree.
#[test]
fn per_destination_link_loads_same_either_way() {
    let img = small_on_loihi();
    let mut outs = Vec::new();
    for link_ns in [0.0, 1e-300] {
        let mut m = Machine::load(img.clone()).unwrap();
        m.arch.router.messages = MessageModel::PerDestination;
        m.arch.timing.link_packet_ns = link_ns;
        let rec = Recording { spikes: vec![true; m.pops.len()], probes: vec![], per_step: true, chunk_steps: None };
        let j = Jit::compile(&m).unwrap();
        outs.push(run(&mut m, &j, 1000, 2, &rec, &mut |_| {}).unwrap());
    }
    assert!(outs[0].counts.packets_out > 100, "the test needs traffic");
    assert!(outs[0].links.len() > 1);
    assert_eq!(outs[0].links, outs[1].links);
    assert_eq!(outs[0].counts, outs[1].counts);
    let t = |o: &nerve_emulator::engine::RunOutput| o.step_times.iter().map(|s| s.step_ns).collect::<Vec<f64>>();
    assert_eq!(t(&outs[0]), t(&outs[1]));
}

#[test]
fn engines_and_thread_counts_agree() {
    let net = read_network(&example("small.json")).unwrap();
    let a = Arch::builtin("tiny").unwrap();
    // `tiny` has 4 delay slots: cap the 1 ms stimulus delay at the profile (dt 0.1 ms → 10 steps) by
    // compiling for spinnaker instead when it does not fit.
    let img = match compile(&a, &net, &Options::default(), &mut |_| {}) {
        Ok(o) => o.image.into_image(),
        Err(_) => compile(&Arch::builtin("spinnaker").unwrap(), &net, &Options::default(), &mut |_| {}).unwrap().image.into_image(),
    };
    let (_, base) = emulate(img.clone(), 1500, false, 1);
    for (jit, threads) in [(true, 1), (true, 2), (false, 3), (true, 4)] {
        let (_, r) = emulate(img.clone(), 1500, jit, threads);
        assert_eq!(r.spikes, base.spikes, "jit={jit} threads={threads}");
        assert_eq!(r.counts, base.counts, "jit={jit} threads={threads}");
        let a: Vec<f64> = r.step_times.iter().map(|s| s.step_ns).collect();
        let b: Vec<f64> = base.step_times.iter().map(|s| s.step_ns).collect();
        assert_eq!(a, b, "step times");
    }
}

/// Threads work on copies of their cores' ring inputs (`engine::step::Worker`),
/// or in place past `Machine::ring_copy_max`, and reallocate their cores' state
/// arrays: after a run the machine holds the same pending inputs and states
/// whatever the thread count, so a second run continues the first alike
/// (small.json's 1 ms delays leave inputs pending).
#[test]
fn the_machine_after_a_run_is_the_same_on_any_thread_count() {
    let net = read_network(&example("small.json")).unwrap();
    let img = compile(&Arch::builtin("spinnaker").unwrap(), &net, &Options { neurons_per_core: Some(20), ..Options::default() }, &mut |_| {})
        .unwrap()
        .image
        .into_image();
    let state = |m: &Machine| -> Vec<Vec<i32>> {
        m.cores
            .iter()
            .flat_map(|c| match &c.run {
                nerve_emulator::machine::Run::Kernel { data, .. } => data.state.iter().map(|s| s.to_vec()).collect(),
                _ => vec![],
            })
            .collect()
    };
    let (m1, r1) = emulate(img.clone(), 777, true, 1);
    assert!(m1.ring.iter().filter(|&&x| x != 0).count() > 10, "the test needs inputs pending at the end");
    assert!(m1.cores.len() > 4 && r1.counts.spikes > 100, "the test needs cores and activity");
    for threads in [2, 3, 5] {
        let (m, r) = emulate(img.clone(), 777, true, threads);
        assert_eq!(r.spikes, r1.spikes, "{threads} threads");
        assert!(m.ring[..] == m1.ring[..], "{threads} threads: pending inputs");
        assert_eq!(state(&m), state(&m1), "{threads} threads: states");
    }
    // A ring part too large to copy (`ring_copy_max`) is used in place: the same.
    let mut m = Machine::load(img).unwrap();
    m.ring_copy_max = 0;
    let rec = Recording { spikes: vec![true; m.pops.len()], probes: vec![], per_step: true, chunk_steps: None };
    let j = Jit::compile(&m).unwrap();
    let r = run(&mut m, &j, 777, 3, &rec, &mut |_| {}).unwrap();
    assert_eq!(r.spikes, r1.spikes, "in place");
    assert!(m.ring[..] == m1.ring[..], "in place: pending inputs");
    assert_eq!(state(&m), state(&m1), "in place: states");
}

/// A profile without idle updates (`core.idle_updates = false`): the same
/// spikes and counts as with them, except that every update is active (the
/// JIT skips the activity test), in both engines and at any thread count.
#[test]
fn profiles_without_idle_updates_count_every_update() {
    // Integrate-and-fire neurons: idle in every step without input.
    let img = nerve_isa::sample::sample_image();
    assert!(img.arch.core.idle_updates);
    let (_, base) = emulate(img.clone(), 40, false, 1);
    assert!(base.counts.updates_idle > 0 && base.counts.updates_active > 0, "the test needs both kinds");
    let mut whole = img.clone();
    whole.arch.core.idle_updates = false;
    let mut expected = base.counts;
    expected.updates_active += expected.updates_idle;
    expected.updates_idle = 0;
    for (jit, threads) in [(false, 1), (true, 1), (true, 2)] {
        let (_, r) = emulate(whole.clone(), 40, jit, threads);
        assert_eq!(r.spikes, base.spikes, "jit={jit} threads={threads}");
        assert_eq!(r.counts, expected, "jit={jit} threads={threads}");
    }
}

/// The synapse arena laid out on several threads is the one laid out on
/// one, and the same whether it is laid out by source core or by walking
/// every row.
#[test]
fn arena_layout_is_the_same_on_any_thread_count() {
    let img = small_on_loihi();
    let one = Machine::load_grouped(img.clone().into_valid().unwrap(), Some(1), Some(false)).unwrap();
    assert!(one.arena.len() > 1000, "the test needs synapses");
    // Delivery reads a neuron's rows at consecutive destinations as one
    // stretch of the arena, in the order of its spans (`Fanout::syns_of`):
    // each span's synapses address its own core's inputs.
    let mut multi = 0;
    for (ci, f) in one.fanout.iter().enumerate() {
        for i in 0..one.cores[ci].n {
            let sp = f.of(&one.spans, i);
            multi += (sp.len() > 1) as usize;
            assert!(sp.windows(2).all(|w| w[1].core > w[0].core), "core {ci} neuron {i}: {sp:?}");
            assert_eq!(sp.iter().map(|s| s.deliver as usize).sum::<usize>(), f.syns(i).len(), "core {ci} neuron {i}");
            for (k, (s, y)) in f.rows(&one.spans, i).enumerate() {
                assert_eq!(y, f.syns_of(&one.spans, i, k..k + 1), "core {ci} neuron {i} span {k}");
                let d = &one.cores[s.core as usize];
                let inputs = d.in_off..d.in_off + d.ports * d.stride();
                for &x in &one.arena[y] {
                    let at = nerve_emulator::machine::PackedSyn(x).offset();
                    assert!(inputs.contains(&at), "core {ci} neuron {i} span {k}: synapse input {at} outside core {}'s {inputs:?}", s.core);
                }
            }
        }
    }
    assert!(multi > 10, "the test needs neurons with rows at several cores");
    for by_source in [false, true] {
        for k in [1, 2, 3, 7] {
            let m = Machine::load_grouped(img.clone().into_valid().unwrap(), Some(k), Some(by_source)).unwrap();
            assert!(m.arena == one.arena, "{k} threads, by source {by_source}: arena differs");
            assert!(m.fanout == one.fanout && m.spans == one.spans, "{k} threads, by source {by_source}: fan-out differs");
        }
    }
}

/// Each neuron's arrivals and synapses in a machine, checked against the
/// image without the load's walk: for every destination of its route, in
/// order, the row its key selects there (`CoreImage::lookup`), if any.
fn assert_arena_is_the_images(img: &nerve_isa::Image, m: &Machine, what: &str) {
    use nerve_emulator::machine::PackedSyn;
    let mut checked = 0;
    for (ci, c) in img.cores.iter().enumerate() {
        let (Some(kb), false) = (c.key_base, m.routes[ci].is_empty()) else { continue };
        let f = &m.fanout[ci];
        for i in 0..c.n_neurons {
            let route = &m.routes[ci][if m.routes[ci].len() == 1 { 0 } else { i as usize }];
            let (mut spans, mut syn) = (Vec::new(), Vec::new());
            for d in &route.dests {
                let dc = &img.cores[d.core as usize];
                let row = dc.lookup(nerve_isa::ids::RoutingKey(kb.0 + i)).map_or(&[][..], |r| dc.row(r));
                if row.is_empty() {
                    continue;
                }
                let dm = &m.cores[d.core as usize];
                spans.push((d.core, row.len()));
                syn.extend(row.iter().map(|s| PackedSyn::new((dm.in_off + s.port as usize * dm.stride() + s.target as usize) as u32, s.delay, s.weight).0));
            }
            let got: Vec<(u32, usize)> = f.of(&m.spans, i as usize).iter().map(|s| (s.core, s.len as usize)).collect();
            assert_eq!(got, spans, "{what}: core {ci} neuron {i}: arrivals");
            assert!(m.arena[f.syns(i as usize)] == syn[..], "{what}: core {ci} neuron {i}: synapses");
            checked += syn.len();
        }
    }
    assert!(checked > 1000, "{what}: the test needs synapses");
}

/// `img` with one input entry split in two whose rows are swapped: the
/// keys of one source at that core no longer select rows in key order.
fn split_an_entry(mut img: nerve_isa::Image) -> nerve_isa::Image {
    use nerve_isa::image::{InputEntry, RowStart};
    // An entry from the first key of a core that sends, holding at least
    // two of its keys and no other core's, so that the swap puts that
    // core's rows out of key order next to each other.
    let senders: Vec<(u32, u32)> = img.cores.iter().filter_map(|c| c.key_base.map(|k| (k.0, k.0 + c.n_neurons))).collect();
    let keys_of_one = |e: &InputEntry| {
        let end = e.key.0 as u64 + e.count as u64;
        let within: Vec<&(u32, u32)> = senders.iter().filter(|&&(lo, hi)| (lo as u64) < end && hi > e.key.0).collect();
        match within[..] {
            [&(lo, hi)] if lo == e.key.0 => (hi - lo).min(e.count),
            _ => 0,
        }
    };
    for c in img.cores.iter_mut().filter(|c| c.plastic.is_empty() && c.conv.is_empty()) {
        let Some(ei) = c.inputs.iter().position(|e| keys_of_one(e) >= 2) else { continue };
        let e = c.inputs[ei];
        // Keys key..key + h and the next h, each an aligned block (h the
        // largest power of two below the sender's keys: they fit in 2h).
        let h = 1u32 << (31 - (keys_of_one(&e) - 1).leading_zeros());
        let (c1, c2) = (h, (e.count - h).min(h));
        let first = InputEntry { key: e.key, mask: !(h - 1), row: e.row + c2, count: c1 };
        let second = InputEntry { key: nerve_isa::ids::RoutingKey(e.key.0 + h), mask: !(h - 1), row: e.row, count: c2 };
        c.inputs.splice(ei..=ei, [first, second]);
        let moved = |r: u32| match r.checked_sub(e.row) {
            Some(d) if d < c1 => r + c2,
            Some(d) if d < e.count => r - c1,
            _ => r,
        };
        let mut rows: Vec<(u32, Vec<_>)> = (0..c.rows.len()).map(|k| (moved(c.rows[k].row), c.row(c.rows[k].row).to_vec())).collect();
        rows.sort_by_key(|r| r.0);
        (c.rows, c.synapses) = (Vec::new(), Vec::new());
        for (row, s) in rows {
            c.rows.push(RowStart { row, start: c.synapses.len() as u32 });
            c.synapses.extend(s);
        }
        return img;
    }
    panic!("no input entry to split");
}

/// The arena holds every neuron's rows as the image selects them, however
/// it is laid out and read, also where one source's rows at a core are
/// out of key order (the load's runs of rows then break).
#[test]
fn arena_holds_the_rows_each_key_selects() {
    let celegans = || {
        let net = read_network(&example("celegans/network.json")).unwrap();
        compile(&Arch::builtin("spinnaker").unwrap(), &net, &Options::default(), &mut |_| {}).unwrap().image.into_image()
    };
    let dir = tempfile::tempdir().unwrap();
    for (name, img) in [("small", small_on_loihi()), ("celegans", celegans()), ("celegans, an entry split", split_an_entry(celegans()))] {
        let path = dir.path().join("a.img");
        img.write(&path).unwrap();
        let img = nerve_isa::Image::read(&path).unwrap();
        for by_source in [false, true] {
            for k in [1, 2, 3] {
                let what = format!("{name}, {k} threads, by source {by_source}");
                let m = Machine::load_grouped(img.clone().into_valid().unwrap(), Some(k), Some(by_source)).unwrap();
                assert_arena_is_the_images(&img, &m, &what);
                let m = Machine::load_image_grouped(nerve_isa::Image::read_for_load(&path).unwrap(), Some(k), Some(by_source)).unwrap();
                assert_arena_is_the_images(&img, &m, &format!("{what}, columns"));
            }
        }
    }
}

/// A machine loaded from a file read for loading (synapses read in place
/// from their columns) is the one loaded from the decoded image: on plain,
/// learning (whose cores stay decoded) and gap-junction networks, on any
/// thread count and either arena layout; and it runs to the same spikes.
#[test]
fn machines_loaded_from_columns_equal_those_from_decoded_images() {
    let on = |net: &str, arch: &str| {
        let net = read_network(&example(net)).unwrap();
        compile(&Arch::builtin(arch).unwrap(), &net, &Options::default(), &mut |_| {}).unwrap().image.into_image()
    };
    let dir = tempfile::tempdir().unwrap();
    for (name, img) in
        [("small", small_on_loihi()), ("stdp-memory", on("stdp-memory/network.json", "loihi")), ("celegans", on("celegans/network.json", "spinnaker"))]
    {
        let path = dir.path().join(format!("{name}.img"));
        img.write(&path).unwrap();
        let read = || nerve_isa::Image::read_for_load(&path).unwrap();
        let (_, cols) = read().into_parts();
        assert!(cols.iter().flatten().count() > 0, "{name}: cores in columns");
        let want = Machine::load_grouped(nerve_isa::Image::read(&path).unwrap().into_valid().unwrap(), Some(1), Some(false)).unwrap();
        for by_source in [false, true] {
            for k in [1, 2, 3] {
                let m = Machine::load_image_grouped(read(), Some(k), Some(by_source)).unwrap();
                let what = format!("{name}, {k} threads, by source {by_source}");
                assert!(m.arena == want.arena && m.fanout == want.fanout && m.spans == want.spans, "{what}: arena differs");
                assert_eq!((m.ring_slots, m.in_total, m.synapses()), (want.ring_slots, want.in_total, want.synapses()), "{what}");
                // The totals noted at load are what the spans hold.
                let all = 0..m.cores.len();
                assert_eq!((m.synapses(), m.pop_edges()), (m.synapses_at(all.clone()), m.pop_edges_at(all)), "{what}: totals");
                assert!(m.cores.iter().zip(&want.cores).all(|(a, b)| a.n_syn == b.n_syn && a.plastic.len() == b.plastic.len()), "{what}: cores differ");
            }
        }
        let rec = |m: &Machine| Recording { spikes: vec![true; m.pops.len()], probes: vec![], per_step: true, chunk_steps: None };
        let mut a = Machine::load_image(read()).unwrap();
        let mut b = want;
        let (ra, rb) = (rec(&a), rec(&b));
        let x = run(&mut a, &Interp, 200, 2, &ra, &mut |_| {}).unwrap();
        let y = run(&mut b, &Interp, 200, 2, &rb, &mut |_| {}).unwrap();
        assert!(!y.spikes.is_empty(), "{name}: the test needs spikes");
        assert_eq!(x.spikes, y.spikes, "{name}: spikes");
        assert_eq!(x.counts, y.counts, "{name}: counts");
    }
}

#[test]
fn probes_record_every_step_in_neuron_order() {
    let net = read_network(&example("small.json")).unwrap();
    // Several cores per population, placed in any order.
    let o = Options { neurons_per_core: Some(64), ..Options::default() };
    let out = compile(&Arch::builtin("spinnaker").unwrap(), &net, &o, &mut |_| {}).unwrap();
    let mut m = Machine::load_valid(out.image).unwrap();
    let (pi, p) = m.pops.iter().enumerate().find(|(_, p)| p.name == "exc").unwrap();
    let v = p.vars.iter().find(|v| v.name == "v").unwrap().clone();
    let rec = Recording { spikes: vec![true; m.pops.len()], probes: vec![(pi as u32, v.slot)], per_step: false, chunk_steps: None };
    let r = run(&mut m, &Interp, 30, 2, &rec, &mut |_| {}).unwrap();
    let tr = &r.probes[0];
    assert_eq!(tr.values.len(), 30);
    assert_eq!(tr.values[0].len(), 400);
    // Every value is a plausible membrane voltage (mV), i.e. each neuron's own slot.
    for row in &tr.values {
        for &x in row {
            let mv = x as f64 * v.scale + v.offset;
            assert!((-61.0..=-48.0).contains(&mv), "{mv}");
        }
    }
    // Initial voltages differ per neuron (uniform draw): step 0 is not constant.
    assert!(tr.values[0].windows(2).any(|w| w[0] != w[1]));
}

/// A streamed recording (chunks of any size, any thread count) gives the
/// sink exactly the spikes and probe values an in-memory run keeps, in
/// order, and the same counters; a sink error stops the run with it.
#[test]
fn streamed_recordings_equal_in_memory_ones() {
    use nerve_emulator::engine::{run_streamed, RecordSink, SpikeEvent};
    #[derive(Default)]
    struct Keep {
        next: u64,
        spikes: Vec<SpikeEvent>,
        rows: Vec<Vec<Vec<i32>>>,
        fail_at: Option<u64>,
    }
    impl RecordSink for Keep {
        fn chunk(&mut self, first: u64, spikes: &[SpikeEvent], probes: &[Vec<Vec<i32>>]) -> std::io::Result<()> {
            assert_eq!(first, self.next, "chunks arrive in step order, none missing");
            let rows = probes[0].len() as u64;
            assert!(spikes.iter().all(|s| (first..first + rows).contains(&(s.step as u64))));
            self.next += rows;
            if self.fail_at.is_some_and(|f| first >= f) {
                return Err(std::io::Error::other("disk full"));
            }
            self.spikes.extend_from_slice(spikes);
            self.rows.resize(probes.len(), Vec::new());
            for (d, p) in self.rows.iter_mut().zip(probes) {
                d.extend_from_slice(p);
            }
            Ok(())
        }
    }
    let net = read_network(&example("small.json")).unwrap();
    let o = Options { neurons_per_core: Some(64), ..Options::default() };
    let out = compile(&Arch::builtin("spinnaker").unwrap(), &net, &o, &mut |_| {}).unwrap();
    let load = || Machine::load_valid(out.image.clone()).unwrap();
    let m0 = load();
    let slot = |m: &Machine, pop: &str| {
        let (pi, p) = m.pops.iter().enumerate().find(|(_, p)| p.name == pop).unwrap();
        (pi as u32, p.vars.iter().find(|v| v.name == "v").unwrap().slot)
    };
    let probes = vec![slot(&m0, "exc"), slot(&m0, "inh")];
    let steps = 157;
    let rec = Recording { spikes: vec![true; m0.pops.len()], probes, per_step: true, chunk_steps: None };
    let mut m = load();
    let want = run(&mut m, &Interp, steps, 1, &rec, &mut |_| {}).unwrap();
    assert!(want.spikes.len() > 50, "{} spikes", want.spikes.len());
    for threads in [1, 2] {
        for chunk in [1, 7, 156, 157, 1000] {
            let mut m = load();
            let mut k = Keep::default();
            let rec = Recording { chunk_steps: Some(chunk), ..rec.clone() };
            let got = run_streamed(&mut m, &Interp, steps, threads, &rec, &mut k, &mut |_| {}).unwrap();
            assert!(got.spikes.is_empty() && got.probes.iter().all(|p| p.values.is_empty()));
            assert_eq!(k.next, steps);
            assert_eq!(k.spikes, want.spikes, "threads {threads}, chunk {chunk}");
            for (p, w) in k.rows.iter().zip(&want.probes) {
                assert_eq!(p, &w.values, "threads {threads}, chunk {chunk}");
            }
            assert_eq!(got.counts, want.counts);
        }
    }
    for threads in [1, 2] {
        let mut m = load();
        let mut k = Keep { fail_at: Some(20), ..Keep::default() };
        let rec = Recording { chunk_steps: Some(10), ..rec.clone() };
        let e = run_streamed(&mut m, &Interp, steps, threads, &rec, &mut k, &mut |_| {}).err().unwrap();
        assert!(e.to_string().contains("disk full"), "{e}");
        assert_eq!(k.next, 30, "the run stops at the failing chunk");
    }
}

/// Convolution and pooling on a profile with shared kernels: the image keeps
/// each kernel once per target core; its generated rows equal the rows of the
/// same network compiled with every synapse stored, the routing check passes,
/// and both images run to the same spikes and synaptic events.
#[test]
fn shared_kernels_equal_stored_synapses() {
    let w1: Vec<Vec<Vec<Vec<f64>>>> = (0..4)
        .map(|o| (0..2).map(|c| (0..3).map(|y| (0..3).map(|x| [0.0, 0.3, 0.5, -0.2][(o * 5 + c * 3 + y * 2 + x) % 4]).collect()).collect()).collect())
        .collect();
    let w2: Vec<Vec<Vec<Vec<f64>>>> =
        (0..2).map(|o| (0..4).map(|c| (0..2).map(|y| (0..2).map(|x| [0.4, 0.0, 0.6][(o + c + y + 2 * x) % 3]).collect()).collect()).collect()).collect();
    let lif = r#""model": "lif", "params": {"tau_m": 20.0, "cm": 0.2, "v_rest": -65.0, "v_reset": -65.0, "v_thresh": -55.0, "tau_refrac": 2.0, "tau_syn_E": 5.0, "tau_syn_I": 5.0}"#;
    let text = format!(
        r#"{{"name": "conv", "dt_ms": 1.0,
          "populations": [
            {{"name": "in", "size": 50, "model": "spike_source_poisson", "params": {{"rate": 80.0}}, "seed": 3}},
            {{"name": "c1", "size": 100, {lif}}},
            {{"name": "p1", "size": 16, {lif}}},
            {{"name": "c2", "size": 20, {lif}}}],
          "projections": [
            {{"pre": "in", "post": "c1", "connector": {{"type": "conv2d", "in_shape": [2, 5, 5], "weights": {w1}, "padding": [1, 1]}}, "delay": 1.0}},
            {{"pre": "in", "post": "c1", "receptor": "inhibitory", "connector": {{"type": "fixed_probability", "p": 0.05, "seed": 4}}, "weight": -0.2, "delay": 2.0}},
            {{"pre": "c1", "post": "p1", "connector": {{"type": "avg_pool2d", "in_shape": [4, 5, 5], "kernel": 2}}, "weight": 2.0, "delay": 1.0}},
            {{"pre": "c1", "post": "c2", "connector": {{"type": "conv2d", "in_shape": [4, 5, 5], "weights": {w2}, "stride": [2, 1], "padding": [0, 1], "dilation": [1, 2]}}, "delay": 1.0}}]}}"#,
        w1 = serde_json::to_string(&w1).unwrap(),
        w2 = serde_json::to_string(&w2).unwrap()
    );
    let net = nerve_compiler::front::json::parse_network(&text, Path::new("conv.json")).unwrap();
    let shared = Arch::builtin("tiny").unwrap();
    assert!(shared.core.shared_kernels);
    let mut stored = shared.clone();
    stored.core.shared_kernels = false;
    stored.core.synapse_words *= 4; // every synapse stored needs more room
    let opts = Options { neurons_per_core: Some(12), ..Options::default() };
    let a = compile(&shared, &net, &opts, &mut |_| {}).unwrap().image.into_image();
    let mut b = compile(&stored, &net, &opts, &mut |_| {}).unwrap().image.into_image();
    assert!(a.cores.iter().filter(|c| !c.conv.is_empty()).count() >= 10, "conv, pool and conv reach many cores");
    assert!(b.cores.iter().all(|c| c.conv.is_empty()));
    let syn = |i: &nerve_isa::Image| i.cores.iter().map(|c| c.synapses.len()).sum::<usize>();
    assert!(syn(&a) * 3 < syn(&b), "stored synapses: shared {} vs {}", syn(&a), syn(&b));
    let words = |i: &nerve_isa::Image| i.cores.iter().map(|c| i.synapse_words(c)).sum::<u64>();
    assert!(words(&a) < words(&b), "words: shared {} vs {}", words(&a), words(&b));
    // Generated rows = stored rows, row by row, as multisets.
    assert_eq!(a.cores.len(), b.cores.len());
    for (ca, cb) in a.cores.iter().zip(&b.cores) {
        assert_eq!((ca.core, &ca.inputs), (cb.core, &cb.inputs));
        let (ra, sa) = ca.expanded();
        type Rows = Vec<(u32, Vec<(u16, i32, u8, u8)>)>;
        let view = |rows: &[nerve_isa::image::RowStart], syn: &[nerve_isa::image::Synapse]| -> Rows {
            rows.iter()
                .enumerate()
                .map(|(k, r)| {
                    let end = rows.get(k + 1).map_or(syn.len(), |n| n.start as usize);
                    let mut v: Vec<_> = syn[r.start as usize..end].iter().map(|s| (s.target, s.weight, s.delay, s.port)).collect();
                    v.sort();
                    (r.row, v)
                })
                .collect()
        };
        assert_eq!(view(&ra, &sa), view(&cb.rows, &cb.synapses), "{}", ca.core);
    }
    let check = nerve_compiler::verify::check_routing(&net, &a).unwrap();
    assert!(check.synapses_checked > 1000);
    // Same spikes and synaptic events (the profiles differ only in where synapses live).
    b.arch.core.shared_kernels = true;
    b.arch.core.synapse_words = shared.core.synapse_words * 4;
    let mut a2 = a.clone();
    a2.arch.core.synapse_words = b.arch.core.synapse_words;
    let (_, ra) = emulate(a2, 300, true, 2);
    let (_, rb) = emulate(b, 300, false, 1);
    assert!(ra.spikes.iter().filter(|s| s.pop == 3).count() > 10, "the test needs c2 to spike");
    assert_eq!(ra.spikes, rb.spikes);
    assert_eq!(ra.counts, rb.counts);
    // A corrupt kernel is a typed error naming the core.
    let k = a.cores.iter().position(|c| !c.conv.is_empty()).unwrap();
    for (what, f) in [
        ("input entry", Box::new(|c: &mut nerve_isa::image::ConvRows| c.input = 99) as Box<dyn Fn(&mut nerve_isa::image::ConvRows)>),
        (
            "weights",
            Box::new(|c: &mut nerve_isa::image::ConvRows| {
                c.weights.pop();
            }),
        ),
        ("groups", Box::new(|c: &mut nerve_isa::image::ConvRows| c.geom.groups = 3)),
        ("delay", Box::new(|c: &mut nerve_isa::image::ConvRows| c.delay = 0)),
        ("beyond", Box::new(|c: &mut nerve_isa::image::ConvRows| c.post_first = 1 << 30)),
    ] {
        let mut bad = a.clone();
        f(&mut bad.cores[k].conv[0]);
        let e = bad.validate().unwrap_err().to_string();
        assert!(e.contains("kernel rows") && e.contains(&bad.cores[k].core.to_string()), "{what}: {e}");
        assert!(Machine::load(bad).is_err());
    }
}

/// A convolution or pooling whose delay needs delay extension (40 steps on
/// spinnaker, 16 per core) is split into relay stages, each a part of the
/// kernel with delays of its own: those parts are stored synapse by synapse,
/// while a short convolution beside them keeps its shared kernel; the spikes
/// equal those of the same profile without shared kernels.
#[test]
fn delay_extended_convolutions_on_shared_kernel_profiles() {
    let text = r#"{"name": "conv40", "dt_ms": 1.0,
      "populations": [
        {"name": "in", "size": 16, "model": "spike_source_poisson", "params": {"rate": 200.0}, "seed": 3},
        {"name": "c", "size": 4, "model": "if", "record": ["spikes"]},
        {"name": "p", "size": 4, "model": "if", "record": ["spikes"]},
        {"name": "q", "size": 4, "model": "if", "record": ["spikes"]}],
      "projections": [
        {"pre": "in", "post": "c", "connector": {"type": "conv2d", "in_shape": [1, 4, 4], "weights": [[[[0.1, 0.2], [0.3, 0.4]]]], "stride": [2, 2]}, "weight": 0.5, "delay": 40.0},
        {"pre": "in", "post": "p", "connector": {"type": "sum_pool2d", "in_shape": [1, 4, 4], "kernel": [2, 2]}, "weight": 0.5, "delay": 40.0},
        {"pre": "in", "post": "q", "connector": {"type": "conv2d", "in_shape": [1, 4, 4], "weights": [[[[0.1, 0.2], [0.3, 0.4]]]], "stride": [2, 2]}, "weight": 0.5, "delay": 1.0}]}"#;
    let net = nerve_compiler::front::json::parse_network(text, Path::new("conv40.json")).unwrap();
    for name in ["spinnaker", "spinnaker2"] {
        let shared = Arch::builtin(name).unwrap();
        assert!(shared.core.shared_kernels && shared.core.max_delay_steps < 40, "{name}");
        let mut stored = shared.clone();
        stored.core.shared_kernels = false;
        let a = compile(&shared, &net, &Options::default(), &mut |_| {}).unwrap_or_else(|e| panic!("{name}: {e}")).image.into_image();
        let b = compile(&stored, &net, &Options::default(), &mut |_| {}).unwrap().image.into_image();
        assert_eq!(a.cores.iter().map(|c| c.conv.len()).sum::<usize>(), 1, "{name}: only the short convolution shares its kernel");
        let (_, ra) = emulate(a, 200, false, 1);
        let (_, rb) = emulate(b, 200, false, 1);
        for pop in 1..4 {
            assert!(ra.spikes.iter().filter(|s| s.pop == pop).count() > 5, "{name}: population {pop} needs to spike");
        }
        assert_eq!(ra.spikes, rb.spikes, "{name}");
    }
}

/// A static convolution or pooling into a population that another
/// projection teaches (STDP) is stored synapse by synapse on profiles with
/// shared kernels (a core's learning walks stored rows; the image refuses a
/// core with both), while one into an untaught population keeps its kernel;
/// on every profile the spikes equal those of the same network with each
/// convolution and pooling written out as `from_list`.
#[test]
fn convolutions_beside_learning_are_stored_and_equal_from_list() {
    let lif = r#""model": "lif", "params": {"tau_m": 10.0, "cm": 0.2, "v_rest": -65.0, "v_reset": -65.0, "v_thresh": -55.0, "tau_refrac": 1.0, "tau_syn_E": 5.0, "tau_syn_I": 5.0}"#;
    let stdp = r#""plasticity": {"type": "stdp", "timing_dependence": {"type": "spike_pair", "A_plus": 0.05, "A_minus": 0.06}, "weight_dependence": {"type": "additive", "w_min": 0.0, "w_max": 2.0}}"#;
    // (pre, post, connector, weight) of the static projections, in order.
    let convs = [
        ("in", "c", r#"{"type": "conv2d", "in_shape": [1, 4, 4], "weights": [[[[0.3, 0.6], [0.9, 0.4]]]], "stride": [2, 2]}"#, 2.0),
        ("in", "p", r#"{"type": "sum_pool2d", "in_shape": [1, 4, 4], "kernel": [2, 2]}"#, 1.5),
        ("in", "q", r#"{"type": "conv2d", "in_shape": [1, 4, 4], "weights": [[[[0.3, 0.6], [0.9, 0.4]]]], "stride": [2, 2]}"#, 2.0),
    ];
    let network = |statics: &[String]| {
        format!(
            r#"{{"name": "conv_stdp", "dt_ms": 1.0,
              "populations": [
                {{"name": "in", "size": 16, "model": "spike_source_poisson", "params": {{"rate": 150.0}}, "seed": 5}},
                {{"name": "c", "size": 4, {lif}}}, {{"name": "p", "size": 4, {lif}}}, {{"name": "q", "size": 4, {lif}}}],
              "projections": [
                {{"pre": "in", "post": "p", "connector": {{"type": "all_to_all"}}, "weight": 0.4, {stdp}}},
                {s0}, {s1}, {s2},
                {{"pre": "in", "post": "c", "connector": {{"type": "fixed_probability", "p": 0.5, "seed": 2}}, "weight": 0.4, {stdp}}}]}}"#,
            s0 = statics[0],
            s1 = statics[1],
            s2 = statics[2]
        )
    };
    let kept: Vec<String> = convs.iter().map(|(a, b, c, w)| format!(r#"{{"pre": "{a}", "post": "{b}", "connector": {c}, "weight": {w}}}"#)).collect();
    let net = nerve_compiler::front::json::parse_network(&network(&kept), Path::new("conv_stdp.json")).unwrap();
    // The same synapses as lists: every static projection expanded here.
    let listed: Vec<String> = net
        .projections()
        .filter(|(_, _, _, p)| p.plasticity.is_none())
        .map(|(e, pre, post, _)| {
            let s = expand(&net, e).unwrap();
            let entries: Vec<String> =
                (0..s.n_pre()).flat_map(|i| s.row(i).map(move |at| (i, at))).map(|(i, at)| format!("[{i}, {}, {}]", s.post[at], s.weight(at))).collect();
            format!(
                r#"{{"pre": "{}", "post": "{}", "connector": {{"type": "from_list", "connections": [{}]}}}}"#,
                net.pop(pre).name,
                net.pop(post).name,
                entries.join(", ")
            )
        })
        .collect();
    let net_list = nerve_compiler::front::json::parse_network(&network(&listed), Path::new("conv_stdp_list.json")).unwrap();
    for name in ["spinnaker", "spinnaker2", "tiny", "loihi"] {
        let arch = Arch::builtin(name).unwrap();
        let a = compile(&arch, &net, &Options::default(), &mut |_| {}).unwrap_or_else(|e| panic!("{name}: {e}")).image.into_image();
        let b = compile(&arch, &net_list, &Options::default(), &mut |_| {}).unwrap_or_else(|e| panic!("{name}: {e}")).image.into_image();
        let kernels = a.cores.iter().map(|c| c.conv.len()).sum::<usize>();
        assert_eq!(kernels, usize::from(arch.core.shared_kernels), "{name}: only the convolution into the untaught population shares its kernel");
        let (_, ra) = emulate(a, 300, false, 1);
        let (_, rb) = emulate(b, 300, false, 1);
        for pop in 1..4 {
            assert!(ra.spikes.iter().filter(|s| s.pop == pop).count() > 5, "{name}: population {pop} needs to spike");
        }
        assert_eq!(ra.spikes, rb.spikes, "{name}");
    }
}

/// A figure whose status is `unknown` is charged as 0, as the run says
/// ("unknown figures count as 0"), whatever its placeholder value: per
/// event and static power alike.
#[test]
fn unknown_energy_figures_are_charged_as_zero() {
    use nerve_isa::arch::Status;
    use nerve_report::session::{self, Request};
    use nerve_report::summary;
    let net = read_network(&example("small.json")).unwrap();
    let total = |f: &dyn Fn(&mut Arch)| {
        let mut a = Arch::builtin("spinnaker").unwrap();
        f(&mut a);
        a.validate().unwrap();
        let out = compile(&a, &net, &Options::default(), &mut |_| {}).unwrap();
        let ran = session::run(Machine::load_valid(out.image).unwrap(), &Request { steps: 100, ..Request::default() }, &mut |_| {}).unwrap();
        let o = summary::Options {
            engine: "interp",
            threads: 1,
            inference_steps: None,
            decision: None,
            decision_spikes: &ran.decision_spikes,
            recorded: &ran.recorded,
            load_seconds: 0.0,
            huge_pages: false,
        };
        let s = summary::build(&ran.machine, &ran.output, &o);
        (s.energy.total_j, s.energy.unknown_figures)
    };
    let zero = total(&|a| {
        a.energy.synaptic_op_pj.value = 0.0;
        a.energy.static_chip_w.value = 0.0;
    });
    let unknown = total(&|a| {
        (a.energy.synaptic_op_pj.value, a.energy.synaptic_op_pj.status) = (1000.0, Status::Unknown);
        (a.energy.static_chip_w.value, a.energy.static_chip_w.status) = (5.0, Status::Unknown);
    });
    assert!(zero.0 > 0.0);
    assert_eq!(unknown.0, zero.0, "unknown figures charged");
    assert_eq!(unknown.1, ["energy.synaptic_op_pj", "energy.static_chip_w"]);
    let known = total(&|a| a.energy.synaptic_op_pj.value = 1000.0);
    assert!(known.0 > total(&|_| {}).0, "a known figure is charged");
}

/// Validation checks cores on several threads for large images: any thread
/// count reports the same first failing core (and accepts a valid image).
#[test]
fn validation_reports_the_first_bad_core_on_any_thread_count() {
    let img = small_on_loihi();
    assert!(img.cores.len() >= 8, "the test needs several cores");
    for k in [1, 2, 3, 5] {
        img.validate_on(Some(k)).unwrap();
    }
    // Two cores with a synapse aimed past their last neuron: the earlier one is named.
    let mut bad = img.clone();
    let with_syn: Vec<usize> = bad.cores.iter().enumerate().filter(|(_, c)| !c.synapses.is_empty()).map(|(i, _)| i).collect();
    assert!(with_syn.len() >= 2);
    let (first, last) = (with_syn[1], *with_syn.last().unwrap());
    for i in [first, last] {
        let n = bad.cores[i].n_neurons as u16;
        bad.cores[i].synapses[0].target = n;
    }
    let expected = bad.validate_on(Some(1)).unwrap_err().to_string();
    assert!(expected.contains(&bad.cores[first].core.to_string()), "{expected}");
    for k in [2, 3, 5, 8] {
        assert_eq!(bad.validate_on(Some(k)).unwrap_err().to_string(), expected, "{k} threads");
    }
}

/// A run longer than the emulator keeps every step's time for
/// (`STEP_TIMES_CAP`): memory stays bounded (no per-step record), the
/// totals are exact (the series' counts add up to the run's; its points sum
/// the emulated and wall times), and the percentiles come from the
/// histograms, within their 1.1% bins of the exact ones of a shorter run of
/// the same steady network, over one and two threads alike.
#[test]
fn runs_beyond_the_step_cap_keep_exact_totals_and_bounded_series() {
    use nerve_emulator::engine::{SERIES_CAP, STEP_TIMES_CAP};
    let net = nerve_compiler::front::json::parse_network(
        r#"{"name":"long","dt_ms":1.0,"populations":[
            {"name":"p","size":2,"model":"spike_source_poisson","params":{"rate":200},"seed":3},
            {"name":"n","size":2,"model":"lif","params":{"i_offset":0.2},"record":["spikes"]}],
            "projections":[{"pre":"p","post":"n","weight":0.3,"connector":{"type":"one_to_one"}}]}"#,
        Path::new("long.json"),
    )
    .unwrap();
    let img = compile(&Arch::load("spinnaker").unwrap(), &net, &Options::default(), &mut |_| {}).unwrap().image.into_image();
    let steps = STEP_TIMES_CAP + 12_345;
    let mut outs = Vec::new();
    for threads in [1, 2] {
        let (_, out) = emulate(img.clone(), steps, true, threads);
        assert!(out.step_times.is_empty(), "no step kept one by one");
        let q = out.approximate.expect("the distributions");
        let s = &out.series;
        assert!(s.max_step_ns.len() <= SERIES_CAP && s.counts.len() == s.max_step_ns.len());
        let spikes: u64 = s.counts.iter().map(|c| c.spikes).sum();
        let barriers: u64 = s.counts.iter().map(|c| c.barriers).sum();
        assert_eq!((spikes, barriers), (out.counts.spikes, steps));
        // Each bin holds its own steps' spikes (every population is recorded;
        // the last bin is part of one).
        assert!(s.bin > 1 && steps % s.bin != 0, "the test needs bins of several steps and a partial last one");
        let mut per_bin = vec![0u64; s.counts.len()];
        for sp in &out.spikes {
            per_bin[(sp.step as u64 / s.bin) as usize] += 1;
        }
        assert_eq!(per_bin, s.counts.iter().map(|c| c.spikes).collect::<Vec<_>>(), "each bin's spikes, {threads} threads");
        let wall: f64 = s.wall_ns.iter().sum();
        assert!((wall - out.wall_ns).abs() <= 1e-9 * out.wall_ns, "{wall} vs {}", out.wall_ns);
        assert!((q[0].mean - out.emulated_ns / steps as f64).abs() <= 1e-6 * q[0].mean);
        assert!(q[0].p50 <= q[0].p99 && q[0].p99 <= q[0].max && q[0].max == s.max_step_ns.iter().cloned().fold(0.0, f64::max));
        outs.push((out.counts, out.emulated_ns, q, s.max_step_ns.clone()));
    }
    assert_eq!(outs[0], outs[1], "one and two threads");
    // The exact percentiles of a shorter run of the same network.
    let (_, short) = emulate(img, 200_000, true, 1);
    let mut v: Vec<f64> = short.step_times.iter().map(|s| s.step_ns).collect();
    v.sort_by(f64::total_cmp);
    let q = outs[0].2[0];
    for (got, f) in [(q.p50, 0.5), (q.p99, 0.99)] {
        let want = v[((v.len() - 1) as f64 * f).round() as usize];
        assert!((got - want).abs() <= 0.02 * want, "p{}: {got} vs {want}", f * 100.0);
    }
}

/// A thread's spikes of a step travel with its post when they fit
/// (`POST_SPIKES`), else through its shared list: bursts of 80 source spikes
/// in a step (so that, on up to four threads, some thread has more than its
/// post carries) must reach every thread alike, by the list on the bursts
/// and by the posts on the quiet steps.
#[test]
fn a_burst_past_what_a_post_carries_is_delivered_alike_on_any_thread_count() {
    let times: Vec<String> = (0..240).map(|i| format!("[{}, 2.0, {}]", 1.0 + (i % 3) as f64 * 0.1, 5.0 + (i % 7) as f64 * 0.1)).collect();
    let text = format!(
        r#"{{"name": "burst", "dt_ms": 0.1,
  "populations": [
    {{"name": "src", "size": 240, "model": "spike_source_array", "spike_times": [{}]}},
    {{"name": "out", "size": 160, "model": "lif",
     "params": {{"tau_m": 10.0, "cm": 0.2, "v_rest": -65.0, "v_reset": -65.0, "v_thresh": -55.0,
                "tau_refrac": 0.2, "tau_syn_E": 1.0, "tau_syn_I": 1.0}},
     "record": ["spikes"]}}
  ],
  "projections": [
    {{"pre": "src", "post": "out", "receptor": "excitatory",
     "connector": {{"type": "fixed_probability", "p": 0.5, "seed": 3}}, "weight": 2.0, "delay": 0.1}},
    {{"pre": "out", "post": "out", "receptor": "inhibitory",
     "connector": {{"type": "fixed_probability", "p": 0.1, "seed": 4}}, "weight": -0.05, "delay": 0.1}}
  ]}}"#,
        times.join(", ")
    );
    let net = nerve_compiler::front::json::parse_network(&text, Path::new("burst.json")).unwrap();
    let opts = Options { neurons_per_core: Some(20), ..Options::default() };
    let img = compile(&Arch::builtin("spinnaker").unwrap(), &net, &opts, &mut |_| {}).unwrap().image.into_image();
    let (_, base) = emulate(img.clone(), 100, true, 1);
    // Every source fires three times; the burst drives the LIF population.
    let busiest = base.spikes.iter().fold(std::collections::BTreeMap::new(), |mut m, s| {
        *m.entry(s.step).or_insert(0usize) += 1;
        m
    });
    assert!(busiest.values().any(|&n| n > 4 * nerve_emulator::engine::POST_SPIKES), "the test needs steps past what posts carry: {busiest:?}");
    assert!(base.spikes.iter().any(|s| s.pop == 1), "the burst must make the LIF population fire");
    for (jit, threads) in [(true, 2), (false, 2), (true, 3), (true, 4)] {
        let (_, r) = emulate(img.clone(), 100, jit, threads);
        // Compared whole, reported by the first difference (the lists are long).
        let first = r.spikes.iter().zip(&base.spikes).position(|(a, b)| a != b);
        assert!(r.spikes == base.spikes, "jit={jit} threads={threads}: {} vs {} spikes, first difference at {first:?}", r.spikes.len(), base.spikes.len());
        assert_eq!(r.counts, base.counts, "jit={jit} threads={threads}");
    }
}

/// Routes are traced on several threads for a large image, each over a
/// range of cores (`mesh::resolve`): the same routes, and the same first
/// error (in core order) when packets lead to a core the index lacks, on
/// any thread count.
#[test]
fn routes_are_the_same_traced_on_any_thread_count() {
    let net = read_network(&example("small.json")).unwrap();
    let opts = Options { neurons_per_core: Some(4), ..Options::default() };
    let img = compile(&Arch::builtin("spinnaker").unwrap(), &net, &opts, &mut |_| {}).unwrap().image.into_image();
    assert!(img.cores.len() > 100, "the test needs many cores: {}", img.cores.len());
    let index: std::collections::BTreeMap<_, u32> = img.cores.iter().enumerate().map(|(i, c)| (c.core, i as u32)).collect();
    let one = nerve_emulator::mesh::resolve_on(&img, &index, 1).unwrap();
    assert!(one.iter().filter(|r| !r.is_empty()).count() > 100);
    for threads in [2, 3, 7] {
        assert!(nerve_emulator::mesh::resolve_on(&img, &index, threads).unwrap() == one, "{threads} threads");
    }
    // Two cores that receive, late in core order, missing from the index: the first of them is named.
    let mut partial = index.clone();
    let receiving: std::collections::BTreeSet<u32> = one.iter().flatten().flat_map(|r| r.cores.iter().copied()).collect();
    let late: Vec<u32> = receiving.iter().rev().take(2).copied().collect();
    for &di in &late {
        partial.remove(&img.cores[di as usize].core);
    }
    let want = nerve_emulator::mesh::resolve_on(&img, &partial, 1).err().map(|e| e.to_string());
    assert!(want.is_some(), "routes into a core the index lacks must fail");
    for threads in [2, 3, 7] {
        let got = nerve_emulator::mesh::resolve_on(&img, &partial, threads).err().map(|e| e.to_string());
        assert_eq!(got, want, "{threads} threads");
    }
}

/// A step's time is its slowest core's, whichever thread runs that core:
/// each thread tells the others its slowest core of a step it has settled
/// with a later post (one step later, or two when steps are settled during
/// the next: `Shared::defer_settle`). Here the slowest core moves between
/// threads from step to step (a quiet population on the first cores, one
/// driven at scattered steps on the last), so that a step matched with
/// another step's figures shows in its time.
#[test]
fn the_slowest_core_of_each_step_is_found_on_any_thread_count() {
    let times: Vec<String> = (0..20).map(|k| format!("[{}, {}]", 0.3 + 0.7 * k as f64, 1.1 + 1.3 * k as f64)).collect();
    let lif = r#""model": "lif", "params": {"tau_m": 10.0, "cm": 0.2, "v_rest": -65.0, "v_reset": -65.0, "v_thresh": -55.0, "tau_refrac": 0.2, "tau_syn_E": 1.0, "tau_syn_I": 1.0}"#;
    let text = format!(
        r#"{{"name": "moving", "dt_ms": 0.1,
  "populations": [
    {{"name": "quiet", "size": 100, {lif}}},
    {{"name": "src", "size": 20, "model": "spike_source_array", "spike_times": [{}]}},
    {{"name": "busy", "size": 100, {lif}, "record": ["spikes"]}}
  ],
  "projections": [
    {{"pre": "src", "post": "busy", "receptor": "excitatory", "connector": {{"type": "all_to_all"}}, "weight": 0.5, "delay": 0.1}}
  ]}}"#,
        times.join(", ")
    );
    let net = nerve_compiler::front::json::parse_network(&text, Path::new("moving.json")).unwrap();
    let opts = Options { neurons_per_core: Some(20), ..Options::default() };
    let img = compile(&Arch::builtin("spinnaker").unwrap(), &net, &opts, &mut |_| {}).unwrap().image.into_image();
    let steps = 400;
    let (_, base) = emulate(img.clone(), steps, true, 1);
    let core: Vec<f64> = base.step_times.iter().map(|s| s.core_ns).collect();
    let changes = core.windows(2).filter(|w| w[0] != w[1]).count();
    assert!(changes >= 40, "the test needs the slowest core's time to change from step to step: {changes} changes");
    for (jit, threads) in [(true, 2), (false, 2), (true, 3), (true, 5)] {
        let (_, r) = emulate(img.clone(), steps, jit, threads);
        assert_eq!(r.spikes, base.spikes, "jit={jit} threads={threads}");
        // Compared whole, reported by the first difference (the lists are long).
        let first = r.step_times.iter().zip(&base.step_times).position(|(a, b)| a != b);
        assert!(r.step_times == base.step_times, "jit={jit} threads={threads}: step times differ first at step {first:?}");
        assert_eq!(r.counts, base.counts, "jit={jit} threads={threads}");
        assert_eq!(r.series.counts, base.series.counts, "jit={jit} threads={threads}");
        assert_eq!(r.series.max_step_ns, base.series.max_step_ns, "jit={jit} threads={threads}");
        for (a, b) in r.per_core.iter().zip(&base.per_core) {
            assert_eq!((a.counts, a.busy_ns, a.max_step_ns), (b.counts, b.busy_ns, b.max_step_ns), "jit={jit} threads={threads} core {}", a.core);
        }
    }
}

/// Delivery looks a ring slot up once per run of synapses of one delay and,
/// after a short run, per synapse (`engine::step::Ctx::apply`): a source's
/// synapses in long runs, short runs and one-by-one delays must each reach
/// their target at the source's step plus its own delay (every target fires
/// once, its first spike its delay after the source's, less one constant),
/// on one thread and on two splitting the rows.
#[test]
fn each_synapse_arrives_after_its_own_delay_whatever_its_neighbours() {
    // Targets 0–11: 0.1 ms; 12–13: 0.5 ms; 14–25: 0.1 ms; 26–39: 0.1–1.4 ms, one each.
    let delay_steps = |j: usize| -> u64 {
        match j {
            0..=11 | 14..=25 => 1,
            12 | 13 => 5,
            _ => (j - 25) as u64,
        }
    };
    let conns: Vec<String> = (0..40).map(|j| format!("[0, {j}, 50.0, {:.1}]", delay_steps(j) as f64 * 0.1)).collect();
    let text = format!(
        r#"{{"name": "delays", "dt_ms": 0.1,
  "populations": [
    {{"name": "src", "size": 1, "model": "spike_source_array", "spike_times": [[1.0]]}},
    {{"name": "out", "size": 40, "model": "lif",
     "params": {{"tau_m": 10.0, "cm": 0.2, "v_rest": -65.0, "v_reset": -65.0, "v_thresh": -55.0,
                "tau_refrac": 50.0, "tau_syn_E": 1.0, "tau_syn_I": 1.0}},
     "record": ["spikes"]}}
  ],
  "projections": [
    {{"pre": "src", "post": "out", "receptor": "excitatory", "connector": {{"type": "from_list", "connections": [{}]}}}}
  ]}}"#,
        conns.join(", ")
    );
    let net = nerve_compiler::front::json::parse_network(&text, Path::new("delays.json")).unwrap();
    let opts = Options { neurons_per_core: Some(8), ..Options::default() };
    let img = compile(&Arch::builtin("spinnaker").unwrap(), &net, &opts, &mut |_| {}).unwrap().image.into_image();
    for threads in [1, 2] {
        let (_, r) = emulate(img.clone(), 60, true, threads);
        let src = r.spikes.iter().find(|s| s.pop == 0).expect("the source fires").step as u64;
        let mut first = vec![None; 40];
        for s in r.spikes.iter().filter(|s| s.pop == 1) {
            assert!(first[s.neuron as usize].is_none(), "target {} fired twice ({threads} threads)", s.neuron);
            first[s.neuron as usize] = Some(s.step as u64);
        }
        let lag: Vec<i64> = (0..40)
            .map(|j| first[j].unwrap_or_else(|| panic!("target {j} never fired ({threads} threads)")) as i64 - src as i64 - delay_steps(j) as i64)
            .collect();
        assert!(lag.iter().all(|&l| l == lag[0]), "targets' first spikes less their delays differ ({threads} threads): {lag:?}");
    }
}

/// Runs `image` for `steps` steps on one thread (the JIT or the interpreter):
/// population `pop`'s spike count and its neurons' v in mV, per step.
fn v_trace(image: nerve_isa::image::ValidImage, pop: &str, steps: u64, jit: bool) -> (usize, Vec<Vec<f64>>) {
    trace(image, pop, "v", steps, jit)
}

/// population `pop`'s spike count and its neurons' `var` in its units, per
/// step, on one thread, by the interpreter or the JIT.
pub(crate) fn trace(image: nerve_isa::image::ValidImage, pop: &str, var: &str, steps: u64, jit: bool) -> (usize, Vec<Vec<f64>>) {
    let mut m = Machine::load_valid(image).unwrap();
    let (pi, p) = m.pops.iter().enumerate().find(|(_, p)| p.name == pop).unwrap();
    let v = p.vars.iter().find(|v| v.name == var).unwrap().clone();
    let rec = Recording { spikes: vec![true; m.pops.len()], probes: vec![(pi as u32, v.slot)], per_step: false, chunk_steps: None };
    let r = if jit {
        let code = Jit::compile(&m).unwrap();
        run(&mut m, &code, steps, 1, &rec, &mut |_| {})
    } else {
        run(&mut m, &Interp, steps, 1, &rec, &mut |_| {})
    }
    .unwrap();
    let spikes = r.spikes.iter().filter(|s| s.pop as usize == pi).count();
    (spikes, r.probes[0].values.iter().map(|row| row.iter().map(|&x| x as f64 * v.scale + v.offset).collect()).collect())
}

/// Weights far above what a neuron needs to fire: v goes where they drive
/// it, never round its fixed-point range (1000 nA into a 0.2 nF cell wrapped
/// v to −1360 mV); weights no fixed point of v can follow are refused.
#[test]
fn strong_weights_drive_v_and_never_wrap_it() {
    use nerve_compiler::front::json::parse_network;
    let net = |w: f64, receptor: &str| {
        let text = format!(
            r#"{{"dt_ms": 1.0, "populations": [{{"name": "src", "size": 4, "model": "spike_source_array", "spike_times": [[1.0, 3.0], [2.0], [], [5.0]]}},
            {{"name": "n", "size": 4, "model": "lif", "params": {{"tau_m": 20.0, "cm": 0.2, "v_rest": -65.0, "v_reset": -65.0, "v_thresh": -50.0,
            "tau_refrac": 2.0, "tau_syn_E": 5.0, "tau_syn_I": 5.0}}}}],
            "projections": [{{"pre": "src", "post": "n", "receptor": "{receptor}", "connector": {{"type": "all_to_all"}}, "weight": {w}, "delay": 1.0}}]}}"#
        );
        parse_network(&text, Path::new("strong.json")).unwrap()
    };
    let arch = Arch::builtin("spinnaker").unwrap();
    for w in [1.0, 100.0, 1000.0, 1e5, 1e6] {
        for (receptor, sign) in [("excitatory", 1.0), ("inhibitory", -1.0)] {
            let out = compile(&arch, &net(w * sign, receptor), &Options::default(), &mut |_| {}).unwrap();
            let (n_spikes, vs) = v_trace(out.image, "n", 40, false);
            for (t, row) in vs.iter().enumerate() {
                for &mv in row {
                    if sign > 0.0 {
                        // Driven up: at or above rest (reset = rest), never wrapped below it.
                        assert!(mv >= -65.001, "{w} nA {receptor}: v = {mv} mV at step {t}");
                    } else {
                        assert!((-65.001 * 1e9..=-64.999).contains(&mv), "{w} nA {receptor}: v = {mv} mV at step {t}");
                    }
                }
            }
            if sign > 0.0 && w >= 100.0 {
                // Each neuron fires at the first arrival and whenever refractoriness ends while the current lasts.
                assert!(n_spikes >= 4 * 3, "{w} nA: {n_spikes} spikes");
            }
            if sign < 0.0 {
                assert_eq!(n_spikes, 0, "{w} nA inhibitory");
            }
        }
    }
    let e = compile(&arch, &net(1e12, "excitatory"), &Options::default(), &mut |_| {}).unwrap_err().to_string();
    assert!(e.contains("`n`") && e.contains("1000000000000 nA") && e.contains("coarser than 1 mV"), "{e}");
    let text = r#"{"dt_ms": 1.0, "populations": [{"name": "n", "size": 1, "model": "lif", "params": {"tau_m": 20.0, "cm": 0.25, "i_offset": -1e12}}]}"#;
    let e = compile(&arch, &parse_network(text, Path::new("drive.json")).unwrap(), &Options::default(), &mut |_| {}).unwrap_err().to_string();
    assert!(e.contains("`n`") && e.contains("i_offset drives v") && e.contains("8.00e13 mV") && e.contains("coarser than 1 mV"), "{e}");
    // Voltages beyond the scale are named as such, not as a drive.
    let text = r#"{"dt_ms": 1.0, "populations": [{"name": "n", "size": 1, "model": "lif", "params": {"v_thresh": 1e9}}]}"#;
    let e = compile(&arch, &parse_network(text, Path::new("vth.json")).unwrap(), &Options::default(), &mut |_| {}).unwrap_err().to_string();
    assert!(e.contains("`n`") && e.contains("v_rest, v_reset and v_thresh reach |v| = 1000000000 mV") && !e.contains("i_offset"), "{e}");
    // A constant drive: a leaky cell settles at v_rest + i_offset·τm/cm (−8,065 mV
    // here, which wrapped); a perfect integrator (`if`) driven down saturates
    // at the bottom of v's range, and neither fires.
    for (model, params, want) in [("lif", r#""tau_m": 20.0, "cm": 0.25, "i_offset": -100.0"#, Some(-8065.0)), ("if", r#""cm": 1.0, "i_offset": -1.0"#, None)] {
        let text = format!(
            r#"{{"dt_ms": 1.0, "populations": [{{"name": "n", "size": 1, "model": "{model}",
            "params": {{{params}, "v_rest": -65.0, "v_reset": -65.0, "v_thresh": -50.0}}}}]}}"#
        );
        let out = compile(&arch, &parse_network(&text, Path::new("drive.json")).unwrap(), &Options::default(), &mut |_| {}).unwrap();
        let (n_spikes, vs) = v_trace(out.image, "n", 5000, false);
        assert_eq!(n_spikes, 0, "{model}");
        let mv: Vec<f64> = vs.iter().map(|row| row[0]).collect();
        assert!(mv.windows(2).all(|w| w[1] <= w[0] + 1e-9), "{model}: v rose while driven down");
        let last = mv[mv.len() - 1];
        match want {
            Some(x) => assert!((last - x).abs() < 1.0, "{model}: v settles at {last} mV, not {x}"),
            // 5,000 mV of drive: past the range, held at its floor.
            None => assert!(last < -1000.0 && last > -5065.0, "{model}: v = {last} mV"),
        }
    }
}

/// Input sustained past what v's fixed point holds saturates v (and the
/// currents, and a step's input, where every input firing at once could
/// leave their range) instead of wrapping: 100 inhibitory inputs at 100 Hz
/// drove v below −4 V, it wrapped and fired 1,360 times in a second.
#[test]
fn sustained_barrages_saturate_and_never_wrap() {
    use nerve_compiler::front::json::parse_network;
    // (sources, rate Hz, weight nA, tau_syn_I ms, steps)
    let cases: &[(u32, f64, f64, f64, u64)] = &[
        (100, 100.0, -10.0, 5.0, 10_000),  // one current (equal time constants)
        (100, 100.0, -10.0, 10.0, 10_000), // two currents
        (100, 100.0, 10.0, 5.0, 2_000),
        (100, 100.0, 10.0, 10.0, 2_000),
        // Every source every step: 8,000 × 100 nA a step, past 32 bits before any decay.
        (8000, 1e4, -100.0, 5.0, 300),
        (8000, 1e4, 100.0, 5.0, 300),
        (8000, 1e4, -100.0, 10.0, 300),
        (8000, 1e4, 100.0, 10.0, 300),
    ];
    let arch = Arch::builtin("spinnaker").unwrap();
    for &(sources, rate, w, tau_i, steps) in cases {
        let receptor = if w < 0.0 { "inhibitory" } else { "excitatory" };
        let text = format!(
            r#"{{"dt_ms": 0.1, "populations": [{{"name": "stim", "size": {sources}, "model": "spike_source_poisson", "params": {{"rate": {rate}}}, "seed": 3}},
            {{"name": "n", "size": 4, "model": "lif", "params": {{"tau_m": 20.0, "cm": 0.2, "v_rest": -65.0, "v_reset": -65.0, "v_thresh": -50.0,
            "tau_refrac": 2.0, "tau_syn_E": 5.0, "tau_syn_I": {tau_i}}}}}],
            "projections": [{{"pre": "stim", "post": "n", "receptor": "{receptor}", "connector": {{"type": "all_to_all"}}, "weight": {w}, "delay": 1.0}}]}}"#
        );
        let out = compile(&arch, &parse_network(&text, Path::new("barrage.json")).unwrap(), &Options::default(), &mut |_| {}).unwrap();
        let case = format!("{sources} × {rate} Hz × {w} nA, tau_syn_I {tau_i}");
        let (n_spikes, vs) = v_trace(out.image.clone(), "n", steps, false);
        assert_eq!(v_trace(out.image, "n", steps, true), (n_spikes, vs.clone()), "{case}: the JIT differs from the interpreter");
        if w < 0.0 {
            assert_eq!(n_spikes, 0, "{case}");
            assert!(vs.iter().flatten().all(|&mv| mv <= -64.99), "{case}: v rose above rest");
            // Driven to the floor and held there (true v∞ is tens of volts down).
            assert!(vs[vs.len() - 1].iter().all(|&mv| mv < -1000.0), "{case}: v = {:?}", vs[vs.len() - 1]);
        } else {
            // Fires whenever refractoriness (20 steps) ends, from the first step the barrage arrives.
            assert!(n_spikes as u64 >= 4 * (steps / 21 - 2), "{case}: {n_spikes} spikes in {steps} steps");
            assert!(vs.iter().skip(1).flatten().all(|&mv| mv >= -65.01), "{case}: v fell below reset");
        }
    }
}

/// Izhikevich's v² is taken in 32 bits: v is held within ±128 mV after a
/// step's jumps, so strong weights of either sign never wrap it (an
/// inhibitory jump of 100 V gave v −11,520 mV, then −14,743); a reset `c`
/// outside that range is refused.
#[test]
fn izhikevich_v_never_wraps() {
    use nerve_compiler::front::json::parse_network;
    let net = |w: f64, receptor: &str, c: f64| {
        let text = format!(
            r#"{{"dt_ms": 1.0, "populations": [{{"name": "src", "size": 4, "model": "spike_source_array", "spike_times": [[1.0, 3.0], [2.0], [], [5.0]]}},
            {{"name": "n", "size": 4, "model": "izhikevich", "params": {{"c": {c}}}}}],
            "projections": [{{"pre": "src", "post": "n", "receptor": "{receptor}", "connector": {{"type": "all_to_all"}}, "weight": {w}, "delay": 1.0}}]}}"#
        );
        parse_network(&text, Path::new("izk.json")).unwrap()
    };
    let arch = Arch::builtin("spinnaker").unwrap();
    for w in [0.001, 0.05, 0.2, 1.0, 100.0] {
        for (receptor, sign) in [("excitatory", 1.0), ("inhibitory", -1.0)] {
            let out = compile(&arch, &net(w * sign, receptor, -65.0), &Options::default(), &mut |_| {}).unwrap();
            for jit in [false, true] {
                let (n_spikes, vs) = v_trace(out.image.clone(), "n", 40, jit);
                for (t, row) in vs.iter().enumerate() {
                    for &mv in row {
                        // Below the spike peak (else reset), and no further down than one step from the clamp.
                        assert!((-200.0..30.0).contains(&mv), "{w} nA {receptor} (jit {jit}): v = {mv} mV at step {t}");
                    }
                }
                if sign > 0.0 && w >= 0.05 {
                    assert!(n_spikes >= 4, "{w} nA: {n_spikes} spikes");
                }
            }
        }
    }
    // A reset further out widens the range (at a coarser step); past what
    // 32 bits can square, it is refused.
    let out = compile(&arch, &net(0.01, "excitatory", -200.0), &Options::default(), &mut |_| {}).unwrap();
    let (_, vs) = v_trace(out.image, "n", 40, false);
    assert!(vs.iter().flatten().all(|&mv| (-260.0..30.0).contains(&mv)), "c = -200: {vs:?}");
    let e = compile(&arch, &net(0.01, "excitatory", -3000.0), &Options::default(), &mut |_| {}).unwrap_err().to_string();
    assert!(e.contains("`n`") && e.contains("c is at |v| = 3000 mV") && e.contains("up to 1638.4 mV"), "{e}");
}

/// A constant drive settles an Izhikevich cell where 0.04v² + (5 − b)v +
/// 140 + I = 0 (its lower root): v's range widens to hold it, so the kernel
/// follows forward Euler in f64 there (held at ±128 mV, i_offset −2 nA
/// stopped v at −310 mV instead of −284, and −10 nA, where Euler at
/// dt 0.1 ms is unstable and fires, never fired).
#[test]
fn izhikevich_follows_a_strong_drive() {
    use nerve_compiler::front::json::parse_network;
    let arch = Arch::builtin("spinnaker").unwrap();
    for i_off in [-0.1, -0.5, -2.0, -10.0, 0.5] {
        let text = format!(r#"{{"dt_ms": 0.1, "populations": [{{"name": "n", "size": 1, "model": "izhikevich", "params": {{"i_offset": {i_off}}}}}]}}"#);
        let out = compile(&arch, &parse_network(&text, Path::new("izk.json")).unwrap(), &Options::default(), &mut |_| {}).unwrap();
        let steps = 3000;
        let (n_spikes, vs) = v_trace(out.image, "n", steps, true);
        // The same model in f64: PyNN's defaults, v0 −70 mV, u0 −14.
        let (a, b, c, d, i) = (0.02, 0.2, -65.0, 2.0, 1000.0 * i_off);
        let (mut v, mut u, mut f_spikes) = (-70.0f64, -14.0f64, 0);
        let mut fv = vec![];
        for _ in 0..steps {
            let nv = v + 0.1 * (0.04 * v * v + 5.0 * v + 140.0 + i - u);
            u += 0.1 * a * (b * v - u);
            v = nv;
            if v >= 30.0 {
                v = c;
                u += d;
                f_spikes += 1;
            }
            fv.push(v);
        }
        assert!((n_spikes as i64 - f_spikes as i64).abs() <= f_spikes as i64 / 50 + 1, "i_offset {i_off}: {n_spikes} spikes, f64 {f_spikes}");
        if f_spikes == 0 {
            let (got, want) = (vs[vs.len() - 1][0], fv[fv.len() - 1]);
            assert!((got - want).abs() < 0.5, "i_offset {i_off}: v settles at {got} mV, f64 at {want}");
        }
    }
}

/// Izhikevich's Euler step and u saturate instead of wrapping: i_offset
/// 327.2 nA from v = c = 25 mV takes v past +32,768 mV each step (it
/// fires every step, as in f64; wrapped, v went to −32,768 mV now and then
/// and 40 spikes in 20,000 were lost), and d = 100 mV/ms with a = 0 pushes u
/// past its +32,768 mV/ms (wrapped, it went to −32,768; held, with a warning).
#[test]
fn izhikevich_saturates_instead_of_wrapping() {
    use nerve_compiler::front::json::parse_network;
    let arch = Arch::builtin("spinnaker").unwrap();
    let build = |params: &str, init: &str| {
        let text =
            format!(r#"{{"dt_ms": 0.1, "populations": [{{"name": "n", "size": 1, "model": "izhikevich", "params": {{{params}}}, "initial": {{{init}}}}}]}}"#);
        compile(&arch, &parse_network(&text, Path::new("izk.json")).unwrap(), &Options::default(), &mut |_| {}).unwrap()
    };
    let out = build(r#""i_offset": 327.2, "c": 25.0"#, r#""v": 25.0"#);
    for jit in [false, true] {
        let (spikes, _) = v_trace(out.image.clone(), "n", 5000, jit);
        assert_eq!(spikes, 5000, "jit {jit}: v past its range must fire every step");
    }
    let out = build(r#""a": 0.0, "d": 100.0, "i_offset": 40.0"#, "");
    let ws = &out.report.warnings;
    assert!(ws.iter().any(|w| w.contains("u can leave the ±32768 mV/ms") && w.contains("d = 100 mV/ms")), "{ws:?}");
    for jit in [false, true] {
        let (_, u) = trace(out.image.clone(), "n", "u", 1000, jit);
        let last = u.iter().map(|row| row[0]).collect::<Vec<_>>();
        assert!(last.windows(2).all(|w| w[1] >= w[0]), "jit {jit}: u went down without recovery: {:?}", &last[last.len() - 5..]);
        assert!(last[last.len() - 1] > 32767.0, "jit {jit}: u {} mV/ms is held at the top of its range", last[last.len() - 1]);
    }
}

/// A NIR graph of `nodes` chained in order (each feeding the next), read as
/// a NIR file with a 1 ms `sample_dt` is, and compiled for spinnaker.
fn nir_chain(nodes: Vec<(&str, nerve_compiler::front::nir::model::NirNode)>, name: &str) -> nerve_isa::image::ValidImage {
    use nerve_compiler::front::nir::conventions::NirOptions;
    use nerve_compiler::front::nir::lower::to_network;
    use nerve_compiler::front::nir::model::NirGraph;
    let edges = nodes.windows(2).map(|w| (w[0].0.to_string(), w[1].0.to_string())).collect();
    let g = NirGraph { nodes: nodes.into_iter().map(|(k, v)| (k.to_string(), v)).collect(), edges, version: None, metadata: vec![("sample_dt".into(), 1e-3)] };
    let (net, _) = to_network(&g, name, &format!("{name}.nir"), &NirOptions::default()).unwrap();
    compile(&Arch::builtin("spinnaker").unwrap(), &net, &Options::default(), &mut |_| {}).unwrap().image
}

/// An IF neuron (NIR's, no leak) driven down by a negative bias drifts
/// without end: its v saturates at the bottom of its range rather than wrap
/// round to the top and fire (it fired every ~1,000 steps).
#[test]
fn a_nir_integrator_driven_down_never_fires() {
    use nerve_compiler::front::nir::model::{Array, NirNode};
    let arr = |v: &[f64]| Array { data: v.to_vec(), shape: vec![v.len()] };
    let image = nir_chain(
        vec![
            ("in", NirNode::Input { shape: arr(&[1.0]) }),
            // Weight 0.5, bias −0.5, r·dt 1: v falls by 0.5 a step, threshold 1.
            ("w", NirNode::Affine { weight: Array { data: vec![0.5], shape: vec![1, 1] }, bias: arr(&[-0.5]) }),
            ("if", NirNode::IF { r: arr(&[1000.0]), v_threshold: arr(&[1.0]), v_reset: Some(arr(&[0.0])) }),
            ("out", NirNode::Output { shape: arr(&[1.0]) }),
        ],
        "drift",
    );
    for jit in [false, true] {
        let (n_spikes, vs) = v_trace(image.clone(), "if", 20_000, jit);
        assert_eq!(n_spikes, 0, "jit {jit}");
        let vs: Vec<f64> = vs.iter().map(|row| row[0]).collect();
        assert!(vs.windows(2).all(|w| w[1] <= w[0]), "jit {jit}: v rose");
        assert!(vs[vs.len() - 1] < -500.0, "jit {jit}: v ends at {}", vs[vs.len() - 1]);
    }
}

/// NIR's leaky neurons driven past their voltage range by a constant input
/// (`bias`) or a barrage settle at the range's edge; they never wrap round
/// it and fire.
#[test]
fn nir_leaky_neurons_driven_past_their_range_never_wrap() {
    use nerve_compiler::front::nir::model::{Array, NirNode};
    let arr = |v: &[f64]| Array { data: v.to_vec(), shape: vec![v.len()] };
    for bias in [-5000.0, 5000.0, -1e6] {
        for kind in ["lif", "cubalif", "li"] {
            let neuron = match kind {
                "lif" => NirNode::LIF { tau: arr(&[0.02]), r: arr(&[1.0]), v_leak: arr(&[0.0]), v_threshold: arr(&[1.0]), v_reset: Some(arr(&[0.0])) },
                "cubalif" => NirNode::CubaLIF {
                    tau_mem: arr(&[0.02]),
                    tau_syn: arr(&[0.005]),
                    r: arr(&[1.0]),
                    v_leak: arr(&[0.0]),
                    v_threshold: arr(&[1.0]),
                    v_reset: Some(arr(&[0.0])),
                    w_in: Some(arr(&[1.0])),
                },
                _ => NirNode::LI { tau: arr(&[0.02]), r: arr(&[1.0]), v_leak: arr(&[0.0]) },
            };
            let image = nir_chain(
                vec![
                    ("in", NirNode::Input { shape: arr(&[1.0]) }),
                    ("w", NirNode::Affine { weight: Array { data: vec![0.5], shape: vec![1, 1] }, bias: arr(&[bias]) }),
                    ("n", neuron),
                    ("out", NirNode::Output { shape: arr(&[1.0]) }),
                ],
                "drive",
            );
            let (n_spikes, vs) = v_trace(image.clone(), "n", 2_000, false);
            assert_eq!(v_trace(image, "n", 2_000, true), (n_spikes, vs.clone()), "{kind} bias {bias}: the JIT differs");
            let vs: Vec<f64> = vs.iter().map(|row| row[0]).collect();
            if bias < 0.0 {
                assert_eq!(n_spikes, 0, "{kind} bias {bias}");
                assert!(vs.windows(2).all(|w| w[1] <= w[0] + 1e-9), "{kind} bias {bias}: v rose");
            } else if kind != "li" {
                assert!(n_spikes >= 1900, "{kind} bias {bias}: {n_spikes} spikes");
            } else {
                assert!(vs.windows(2).all(|w| w[1] >= w[0] - 1e-9), "{kind} bias {bias}: v fell");
            }
            // The bias is known when compiling: v's range widens to hold where it settles v.
            if kind != "lif" || bias < 0.0 {
                let end = vs[vs.len() - 1];
                assert!((end - bias * if kind == "li" || bias < 0.0 { 1.0 } else { 0.0 }).abs() < 1e-3 * bias.abs(), "{kind} bias {bias}: v ends at {end}");
            }
        }
    }
    // A barrage no scale foresees: `a` fires every step into `b` with weight
    // −10,000, far past b's range (±1,024): b's v saturates at the floor.
    let lif = || NirNode::LIF { tau: arr(&[0.02]), r: arr(&[1.0]), v_leak: arr(&[0.0]), v_threshold: arr(&[1.0]), v_reset: Some(arr(&[0.0])) };
    let image = nir_chain(
        vec![
            ("in", NirNode::Input { shape: arr(&[1.0]) }),
            ("wa", NirNode::Affine { weight: Array { data: vec![0.0], shape: vec![1, 1] }, bias: arr(&[5000.0]) }),
            ("a", lif()),
            ("wb", NirNode::Affine { weight: Array { data: vec![-10_000.0], shape: vec![1, 1] }, bias: arr(&[0.0]) }),
            ("b", lif()),
            ("out", NirNode::Output { shape: arr(&[1.0]) }),
        ],
        "barrage",
    );
    let (n_spikes, vs) = v_trace(image.clone(), "b", 2_000, false);
    assert_eq!(v_trace(image, "b", 2_000, true), (n_spikes, vs.clone()), "barrage: the JIT differs");
    assert_eq!(n_spikes, 0, "barrage");
    let vs: Vec<f64> = vs.iter().map(|row| row[0]).collect();
    assert!(vs.windows(2).all(|w| w[1] <= w[0] + 1e-9), "barrage: v rose");
    assert!(vs[vs.len() - 1] < -500.0, "barrage: v ends at {}", vs[vs.len() - 1]);
}

/// A spinnaker2 chip has 152 cores, and a route reaches any of them (a
/// route entry's core mask is as wide as a tile may be: `CoreMask`). A
/// population spread one neuron a core over more than 64 cores of one chip,
/// each fed by the same sources and feeding one neuron back, spikes as the
/// same network packed onto a few cores: every delivery arrives.
#[test]
fn routes_reach_every_core_of_a_wide_chip() {
    let text = r#"{"name":"wide","dt_ms":1.0,"populations":[
        {"name":"s","size":2,"model":"spike_source_array","spike_times":[[1.0, 5.0],[2.0, 9.0]]},
        {"name":"a","size":140,"model":"lif","params":{"tau_m":10.0,"v_thresh":-50.0,"v_rest":-65.0,"v_reset":-65.0,"tau_refrac":1.0}},
        {"name":"b","size":3,"model":"lif","params":{"tau_m":10.0,"v_thresh":-50.0,"v_rest":-65.0,"v_reset":-65.0}}],
      "projections":[
        {"pre":"s","post":"a","weight":8.0,"connector":{"type":"fixed_probability","p":0.7,"seed":3}},
        {"pre":"a","post":"b","weight":0.4,"delay":2.0,"connector":{"type":"all_to_all"}},
        {"pre":"b","post":"a","weight":6.0,"connector":{"type":"all_to_all"}}]}"#;
    let net = nerve_compiler::front::json::parse_network(text, Path::new("wide.json")).unwrap();
    let a = Arch::builtin("spinnaker2").unwrap();
    let build = |per_core: u32| compile(&a, &net, &Options { neurons_per_core: Some(per_core), ..Options::default() }, &mut |_| {}).unwrap().image.into_image();
    let (wide, packed) = (build(1), build(64));
    // Cores past 64 on one chip receive.
    let far = wide.routers.iter().flat_map(|r| &r.entries).filter_map(|e| e.cores.last()).max().unwrap();
    assert!(far >= 100, "the test needs routes to cores past 64 of a chip: the farthest is {far}");
    assert!(packed.cores.len() < 10, "{} cores", packed.cores.len());
    let spikes = |img: nerve_isa::Image| {
        let (_, out) = emulate(img, 40, false, 1);
        let mut s: Vec<_> = out.spikes.iter().map(|e| (e.step, e.pop, e.neuron)).collect();
        s.sort();
        s
    };
    let want = spikes(packed);
    assert!(want.iter().filter(|x| x.1 == 2).count() > 0, "b must spike: {want:?}");
    assert!(want.iter().filter(|x| x.1 == 1).count() > 140, "a must spike, also after b: {want:?}");
    assert_eq!(spikes(wide.clone()), want);
    let (_, jit) = emulate(wide, 40, true, 2);
    let mut j: Vec<_> = jit.spikes.iter().map(|e| (e.step, e.pop, e.neuron)).collect();
    j.sort();
    assert_eq!(j, want, "jit on two threads");
}

/// The emulator's public calls refuse populations and slots the image
/// lacks with typed errors: a probe of population 99 or slot 200, and a
/// spike for population 77 through `inject_at`, were index panics.
#[test]
fn library_calls_name_populations_and_slots_the_image_lacks() {
    let net = read_network(&example("small.json")).unwrap();
    let img = compile(&Arch::builtin("spinnaker").unwrap(), &net, &Options::default(), &mut |_| {}).unwrap().image;
    let m = Machine::load_valid(img.clone()).unwrap();
    let (lif, slot) = m.pops.iter().enumerate().find_map(|(i, p)| p.vars.first().map(|v| (i as u32, v.slot))).unwrap();
    for (probes, want) in [
        (vec![(99, 0)], "probe: population index 99 is not one of the image's".to_string()),
        (vec![(lif, 200)], format!("has no state slot 200 (it has: {}", m.pops[lif as usize].vars[0].name)),
    ] {
        let mut m = Machine::load_valid(img.clone()).unwrap();
        let rec = Recording { spikes: vec![], probes, per_step: false, chunk_steps: None };
        let e = run(&mut m, &Interp, 5, 1, &rec, &mut |_| {}).err().expect("refused").to_string();
        assert!(e.contains(&want), "{e}");
    }
    let mut m = Machine::load_valid(img.clone()).unwrap();
    let rec = Recording { spikes: vec![], probes: vec![(lif, slot)], per_step: false, chunk_steps: None };
    assert_eq!(run(&mut m, &Interp, 5, 1, &rec, &mut |_| {}).unwrap().probes.len(), 1);
    let mut m = Machine::load_valid(img).unwrap();
    let e = m.inject_at(&[(77, 0, 0)]).unwrap_err().to_string();
    assert!(e.contains("population index 77 is not one of the image's"), "{e}");
}
