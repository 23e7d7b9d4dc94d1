//! Runs over several ranks (`engine::run_ranked`), with ranks as threads of
//! this process (`Loopback`): every rank's output at rank 0 equals the
//! one-process run's, bit for bit: spikes, probes, counters (total, per
//! core, per link, per step), step times and energy figures; on networks
//! with multicast and per-destination messages, delays, learning, gap
//! junctions and streamed recordings, for 2 and 3 ranks and 1 and 2 threads.

use nerve_compiler::compile::{compile, Options};
use nerve_compiler::front::json::read_network;
use nerve_emulator::engine::ranks::{partition, Loopback, Plan, Transport};
use nerve_emulator::engine::{run, run_ranked, Interp, Ranked, RecordSink, Recording, RunOutput, SpikeEvent};
use nerve_emulator::kernel::jit::Jit;
use nerve_emulator::machine::Machine;
use nerve_isa::arch::Arch;
use nerve_isa::image::ValidImage;
use std::path::Path;

fn root(p: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(p)
}

fn image(net: &str, arch: &str, per_core: u32) -> ValidImage {
    let net = read_network(&root(net)).unwrap();
    let o = Options { neurons_per_core: Some(per_core), ..Options::default() };
    compile(&Arch::builtin(arch).unwrap(), &net, &o, &mut |_| {}).unwrap().image
}

/// Spikes of every population, `v` (or the first variable) of every
/// population probed.
fn recording(m: &Machine) -> Recording {
    let probes = m.pops.iter().enumerate().filter_map(|(i, p)| p.vars.first().map(|v| (i as u32, v.slot))).collect();
    Recording { spikes: vec![true; m.pops.len()], probes, per_step: true, chunk_steps: None }
}

#[derive(Default)]
struct Keep {
    spikes: Vec<SpikeEvent>,
    rows: Vec<Vec<Vec<i32>>>,
}

impl RecordSink for Keep {
    fn chunk(&mut self, _first: u64, spikes: &[SpikeEvent], probes: &[Vec<Vec<i32>>]) -> std::io::Result<()> {
        self.spikes.extend_from_slice(spikes);
        self.rows.resize(probes.len(), Vec::new());
        for (d, p) in self.rows.iter_mut().zip(probes) {
            d.extend_from_slice(p);
        }
        Ok(())
    }
}

/// Runs `img` on `k` ranks of `threads` threads each; rank 0's output, and
/// what its sink got when `chunk` streams the recording.
fn ranked(img: &ValidImage, k: usize, threads: usize, steps: u64, jit: bool, chunk: Option<u64>, plan: Option<Plan>) -> (RunOutput, Keep) {
    let plan = plan.unwrap_or_else(|| partition(&Machine::load_valid(img.clone()).unwrap(), k));
    let outs: Vec<(RunOutput, Keep)> = std::thread::scope(|sc| {
        let hs: Vec<_> = Loopback::group(k)
            .into_iter()
            .map(|mut t| {
                let plan = plan.clone();
                sc.spawn(move || {
                    let mut m = Machine::load_valid(img.clone()).unwrap();
                    let rec = Recording { chunk_steps: chunk, ..recording(&m) };
                    let jit_runner;
                    let runner: &dyn nerve_emulator::KernelRunner = if jit {
                        jit_runner = Jit::compile(&m).unwrap();
                        &jit_runner
                    } else {
                        &Interp
                    };
                    let mut keep = Keep::default();
                    let rank = t.rank();
                    let sink: Option<&mut dyn RecordSink> = if rank == 0 && chunk.is_some() { Some(&mut keep) } else { None };
                    let out = run_ranked(&mut m, runner, steps, threads, &rec, sink, Ranked { transport: &mut t, plan: &plan }, &mut |_| {}).unwrap();
                    (out, keep)
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    outs.into_iter().next().unwrap()
}

fn solo(img: &ValidImage, steps: u64, jit: bool) -> RunOutput {
    let mut m = Machine::load_valid(img.clone()).unwrap();
    let rec = recording(&m);
    if jit {
        let j = Jit::compile(&m).unwrap();
        run(&mut m, &j, steps, 1, &rec, &mut |_| {}).unwrap()
    } else {
        run(&mut m, &Interp, steps, 1, &rec, &mut |_| {}).unwrap()
    }
}

fn assert_same(want: &RunOutput, got: &RunOutput, what: &str) {
    assert_eq!(got.spikes, want.spikes, "{what}: spikes");
    for (g, w) in got.probes.iter().zip(&want.probes) {
        assert_eq!(g.values, w.values, "{what}: probe of population {}", w.pop);
    }
    assert_eq!(got.counts, want.counts, "{what}: counts");
    assert_eq!(got.per_core.len(), want.per_core.len(), "{what}: cores");
    for (g, w) in got.per_core.iter().zip(&want.per_core) {
        assert_eq!((g.core, g.population, g.counts), (w.core, w.population, w.counts), "{what}: core {}", w.core);
        assert_eq!((g.busy_ns.to_bits(), g.max_step_ns.to_bits()), (w.busy_ns.to_bits(), w.max_step_ns.to_bits()), "{what}: core {} times", w.core);
    }
    assert_eq!(got.links, want.links, "{what}: links");
    assert_eq!(got.step_times, want.step_times, "{what}: step times");
    assert_eq!(got.approximate, want.approximate, "{what}: step time distribution");
    assert_eq!(got.series.counts, want.series.counts, "{what}: series counts");
    assert_eq!(got.series.max_step_ns, want.series.max_step_ns, "{what}: series step times");
    assert_eq!(got.series.wall_ns, want.series.wall_ns, "{what}: series wall times");
    assert_eq!(
        (got.emulated_ns.to_bits(), got.wall_ns.to_bits(), got.overruns),
        (want.emulated_ns.to_bits(), want.wall_ns.to_bits(), want.overruns),
        "{what}: time"
    );
}

fn check(img: &ValidImage, steps: u64, what: &str) {
    let want = solo(img, steps, false);
    assert!(want.spikes.len() > 20, "{what}: the test needs activity ({} spikes)", want.spikes.len());
    let cores = want.per_core.len();
    assert!(cores >= 2, "{what}: the test needs cores to split ({cores})");
    for (k, threads, jit) in [(2, 1, false), (2, 2, true), (3, 1, true)].into_iter().filter(|x| x.0 <= cores) {
        let (got, _) = ranked(img, k, threads, steps, jit, None, None);
        assert_same(&want, &got, &format!("{what}, {k} ranks × {threads} threads"));
        let t = got.traffic.as_ref().unwrap();
        assert_eq!(t.bytes_sent.len(), k);
        assert!(t.messages_sent.iter().all(|&n| n >= steps * (k as u64 - 1)), "{what}: one message per other rank and step: {:?}", t.messages_sent);
    }
}

#[test]
fn two_and_three_ranks_equal_one_process_multicast_and_per_destination() {
    check(&image("examples/small.json", "spinnaker", 64), 300, "small, spinnaker");
    check(&image("examples/small.json", "loihi", 64), 300, "small, loihi");
}

#[test]
fn ranks_equal_one_process_with_delays_learning_and_gap_junctions() {
    check(&image("cli/tests/data/long_delays.json", "spinnaker", 16), 300, "long delays");
    check(&image("cli/tests/data/loihi_stdp.json", "loihi", 8), 400, "loihi stdp");
    check(&image("examples/celegans/network.json", "spinnaker", 16), 400, "celegans (gap junctions), spinnaker");
    check(&image("examples/celegans/network.json", "loihi", 16), 400, "celegans (gap junctions), loihi");
}

#[test]
fn a_streamed_recording_goes_through_rank_0_unchanged() {
    let img = image("examples/small.json", "spinnaker", 64);
    let steps = 157;
    let want = solo(&img, steps, false);
    for chunk in [1, 10, 157] {
        let (got, keep) = ranked(&img, 2, 1, steps, false, Some(chunk), None);
        assert!(got.spikes.is_empty());
        assert_eq!(keep.spikes, want.spikes, "chunk {chunk}");
        for (g, w) in keep.rows.iter().zip(&want.probes) {
            assert_eq!(g, &w.values, "chunk {chunk}");
        }
        assert_eq!(got.counts, want.counts);
    }
}

#[test]
fn any_cut_gives_the_same_run_and_bad_plans_are_refused() {
    let img = image("examples/small.json", "spinnaker", 64);
    let want = solo(&img, 200, false);
    let n = want.per_core.len();
    for cut in [1, n / 2, n - 1] {
        let plan = Plan { bounds: vec![0, cut, n], chips_split: 0, cross_neurons: vec![0, 0] };
        let (got, _) = ranked(&img, 2, 1, 200, false, None, Some(plan));
        assert_same(&want, &got, &format!("cut at core {cut}"));
    }
    let mut m = Machine::load_valid(img.clone()).unwrap();
    let rec = recording(&m);
    let mut t = Loopback::group(1).pop().unwrap();
    for bounds in [vec![0, n + 1], vec![0], vec![0, 0, n]] {
        let plan = Plan { bounds: bounds.clone(), chips_split: 0, cross_neurons: vec![] };
        let e = run_ranked(&mut m, &Interp, 10, 1, &rec, None, Ranked { transport: &mut t, plan: &plan }, &mut |_| {}).err().unwrap();
        assert!(e.to_string().contains("rank plan"), "{bounds:?}: {e}");
    }
}

#[test]
fn the_partitioner_balances_work_and_cuts_where_few_spikes_cross() {
    let img = image("examples/small.json", "spinnaker", 32);
    let m = Machine::load_valid(img).unwrap();
    for k in [1, 2, 3, 4] {
        let p = partition(&m, k);
        assert_eq!(p.bounds.len(), k + 1);
        assert_eq!((p.bounds[0], p.bounds[k]), (0, m.cores.len()));
        assert!(p.bounds.windows(2).all(|w| w[0] < w[1]), "{:?}", p.bounds);
        assert_eq!(p.cross_neurons.len(), k);
        if k == 1 {
            assert_eq!(p.cross_neurons, vec![0]);
        }
    }
}
