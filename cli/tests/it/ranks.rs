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
    image_on(net, &Arch::builtin(arch).unwrap(), per_core)
}

fn image_on(net: &str, arch: &Arch, per_core: u32) -> ValidImage {
    let net = read_network(&root(net)).unwrap();
    let o = Options { neurons_per_core: Some(per_core), ..Options::default() };
    compile(arch, &net, &o, &mut |_| {}).unwrap().image
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

/// Runs `img` on `k` ranks of `threads` threads each, every rank holding
/// the whole image or (`strip`) only its own cores' rows; rank 0's output,
/// and what its sink got when `chunk` streams the recording.
#[allow(clippy::too_many_arguments)]
fn ranked(img: &ValidImage, k: usize, threads: usize, steps: u64, jit: bool, chunk: Option<u64>, plan: Option<Plan>, strip: bool) -> (RunOutput, Keep) {
    let plan = plan.unwrap_or_else(|| partition(&Machine::load_valid(img.clone()).unwrap(), k));
    let outs: Vec<(RunOutput, Keep)> = std::thread::scope(|sc| {
        let hs: Vec<_> = Loopback::group(k)
            .into_iter()
            .map(|mut t| {
                let plan = plan.clone();
                sc.spawn(move || {
                    let mine = plan.bounds[t.rank()]..plan.bounds[t.rank() + 1];
                    let mut m = if strip {
                        let mut part = img.clone().into_image();
                        part.strip_except(&|i| mine.contains(&i));
                        Machine::load(part).unwrap()
                    } else {
                        Machine::load_valid(img.clone()).unwrap()
                    };
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
    assert!(got.traffic.is_some(), "{what}: rank 0 reports the traffic");
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

/// `every`: the exchange period the ranks must agree on (None: any).
fn check(img: &ValidImage, steps: u64, what: &str, every: Option<u64>) {
    let want = solo(img, steps, false);
    assert!(want.spikes.len() > 20, "{what}: the test needs activity ({} spikes)", want.spikes.len());
    let cores = want.per_core.len();
    assert!(cores >= 2, "{what}: the test needs cores to split ({cores})");
    for (k, threads, jit, strip) in [(2, 1, false, false), (2, 1, false, true), (2, 2, true, true), (3, 1, true, true)].into_iter().filter(|x| x.0 <= cores) {
        let (got, _) = ranked(img, k, threads, steps, jit, None, None, strip);
        let held = if strip { "its own cores' rows" } else { "the whole image" };
        assert_same(&want, &got, &format!("{what}, {k} ranks × {threads} threads, each holding {held}"));
        let t = got.traffic.as_ref().unwrap();
        assert_eq!(t.bytes_sent.len(), k);
        if let Some(e) = every {
            assert_eq!(t.exchange_every, e, "{what}: steps between exchanges");
        }
        let batches = steps.div_ceil(t.exchange_every);
        assert!(t.messages_sent.iter().all(|&n| n == batches * (k as u64 - 1)), "{what}: one message per other rank and batch: {:?}", t.messages_sent);
    }
}

#[test]
fn two_and_three_ranks_equal_one_process_multicast_and_per_destination() {
    // Delays of 0.1 ms, one step: an exchange every step.
    check(&image("examples/small.json", "spinnaker", 64), 300, "small, spinnaker", Some(1));
    check(&image("examples/small.json", "loihi", 64), 300, "small, loihi", Some(1));
}

#[test]
fn ranks_equal_one_process_with_delays_learning_and_gap_junctions() {
    // Delays of 10, 40 and 125 steps (1, 4 and 12.5 ms at 0.1 ms): on
    // loihi (63 delay slots) every cut crosses the 10-step projection (exc
    // to exc), so the ranks exchange every 10 steps; spinnaker (32 slots)
    // runs the 40 steps through a relay, 32 + 8, and exchanges every 8.
    check(&image("cli/tests/data/long_delays.json", "spinnaker", 16), 300, "long delays", Some(8));
    // Per-destination messages (loihi, 63 slots: the 12.5 ms made 6 ms).
    let dir = tempfile::tempdir().unwrap();
    let net = dir.path().join("long_delays_6ms.json");
    std::fs::write(&net, std::fs::read_to_string(root("cli/tests/data/long_delays.json")).unwrap().replace("12.5", "6.0")).unwrap();
    check(&image(net.to_str().unwrap(), "loihi", 16), 307, "long delays, loihi", Some(10));
    // Per-destination messages whose per-step link loads count (spinnaker's
    // link time), accounted at the destinations' ranks step by step of a batch.
    let mut arch = Arch::builtin("spinnaker").unwrap();
    arch.router.messages = nerve_isa::arch::MessageModel::PerDestination;
    assert!(arch.timing.link_packet_ns > 0.0);
    check(&image_on("cli/tests/data/long_delays.json", &arch, 16), 300, "long delays, per-destination with link loads", Some(8));
    // Learning: every step.
    check(&image("cli/tests/data/loihi_stdp.json", "loihi", 8), 400, "loihi stdp", Some(1));
    check(&image("examples/celegans/network.json", "spinnaker", 16), 400, "celegans (gap junctions), spinnaker", None);
    check(&image("examples/celegans/network.json", "loihi", 16), 400, "celegans (gap junctions), loihi", None);
    // Junctions between cores of every rank whose initial potentials
    // differ: each rank's first step receives their current too.
    check(&image("cli/tests/data/gap_chain.json", "spinnaker", 1), 1500, "a chain of junctions, one cell a core", Some(1));
}

#[test]
fn a_streamed_recording_goes_through_rank_0_unchanged() {
    // Exchanges every step, and every 8 steps (chunks cut batches).
    for (img, every) in [(image("examples/small.json", "spinnaker", 64), 1), (image("cli/tests/data/long_delays.json", "spinnaker", 16), 8)] {
        let steps = 157;
        let want = solo(&img, steps, false);
        for chunk in [1, 7, 10, 157] {
            let (got, keep) = ranked(&img, 2, 1, steps, false, Some(chunk), None, chunk == 10);
            assert_eq!(got.traffic.as_ref().unwrap().exchange_every, every);
            assert!(got.spikes.is_empty());
            assert_eq!(keep.spikes, want.spikes, "chunk {chunk}");
            for (g, w) in keep.rows.iter().zip(&want.probes) {
                assert_eq!(g, &w.values, "chunk {chunk}");
            }
            assert_eq!(got.counts, want.counts);
            assert_eq!(got.step_times, want.step_times);
        }
    }
}

#[test]
fn any_cut_gives_the_same_run_and_bad_plans_are_refused() {
    let img = image("examples/small.json", "spinnaker", 64);
    let want = solo(&img, 200, false);
    let n = want.per_core.len();
    for cut in [1, n / 2, n - 1] {
        let plan = Plan { bounds: vec![0, cut, n], chips_split: 0, cross_neurons: vec![0, 0] };
        let (got, _) = ranked(&img, 2, 1, 200, false, None, Some(plan), true);
        assert_same(&want, &got, &format!("cut at core {cut}"));
        // Core 0 is the stimulus, whose 1 ms (10-step) projection alone
        // crosses the first cut: rank 0 (receiving nothing) delivers its
        // batches at their ends, rank 1 (0.1 ms within it) every step.
        let every = got.traffic.as_ref().unwrap().exchange_every;
        assert_eq!(every, if cut == 1 { 10 } else { 1 }, "cut at core {cut}");
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

/// examples/small.json compiled for spinnaker by the CLI, into a temporary
/// directory (kept alive by the first value).
fn small_image_file() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("small.img");
    let ok = std::process::Command::new(env!("CARGO_BIN_EXE_nerve"))
        .args(["compile", root("examples/small.json").to_str().unwrap(), "--arch", "spinnaker", "-q", "-o", img.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(ok.success());
    (dir, img)
}

/// A nerve built without the `mpi` feature, started by an MPI launcher as
/// one of several processes, refuses rather than run the whole machine on
/// every rank.
#[cfg(not(feature = "mpi"))]
#[test]
fn a_launch_by_mpirun_without_the_mpi_feature_is_refused() {
    let (_dir, img) = small_image_file();
    let nerve = env!("CARGO_BIN_EXE_nerve");
    let out = std::process::Command::new(nerve).args(["run", img.to_str().unwrap(), "--steps", "5", "-q"]).env("OMPI_COMM_WORLD_SIZE", "2").output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("one of 2 processes") && err.contains("--features mpi"), "{err}");
    // One process under a launcher (or none) runs as usual.
    let out = std::process::Command::new(nerve).args(["run", img.to_str().unwrap(), "--steps", "5", "-q"]).env("OMPI_COMM_WORLD_SIZE", "1").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Under an MPI launcher every rank reads its inputs, and standard input
/// reaches rank 0 alone (the others read /dev/null): an image piped in ran
/// on rank 0 and was "a device" on the others, a network piped in was one
/// on rank 0 and a usage error blaming --arch on the others. Refused on
/// every rank alike, said by rank 0 (the others end quietly).
#[test]
fn under_mpirun_inputs_must_be_files_every_rank_reads() {
    use std::io::Write as _;
    use std::process::Stdio;
    let (dir, img) = small_image_file();
    let nerve = env!("CARGO_BIN_EXE_nerve");
    let bytes = std::fs::read(&img).unwrap();
    let net = std::fs::read(root("examples/small.json")).unwrap();
    let launched = |args: &[&str], stdin: Option<&[u8]>, rank: &str| {
        let mut c = std::process::Command::new(nerve);
        c.args(args).env("OMPI_COMM_WORLD_SIZE", "2").env("OMPI_COMM_WORLD_RANK", rank).stdout(Stdio::piped()).stderr(Stdio::piped());
        c.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
        let mut child = c.spawn().unwrap();
        if let Some(b) = stdin {
            let _ = child.stdin.take().unwrap().write_all(b);
        }
        child.wait_with_output().unwrap()
    };
    let sp = dir.path().join("sp.csv");
    std::fs::write(&sp, "population,neuron,time\nsrc,0,1\n").unwrap();
    for (args, stdin) in [
        (vec!["run", "-", "--steps", "5", "-q"], Some(&bytes[..])),
        (vec!["run", "-", "--steps", "5", "-q"], None),
        (vec!["run", "-", "--arch", "spinnaker", "--steps", "5", "-q"], None),
        (vec!["run", "-", "--arch", "spinnaker", "--steps", "5", "-q"], Some(&net[..])),
        (vec!["run", img.to_str().unwrap(), "--steps", "5", "--input", "-", "-q"], None),
    ] {
        let out = launched(&args, stdin, "0");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains("started by an MPI launcher as one of 2 processes") && err.contains("give a file every rank can read"), "{args:?}: {err}");
        let out = launched(&args, stdin, "1");
        assert_eq!((out.status.code(), out.stderr.is_empty()), (Some(1), true), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    // A usage error every rank meets alike is said by rank 0 alone (each rank printed it, with clap's usage).
    let out = launched(&["run", img.to_str().unwrap(), "--steps", "5", "--format", "csv"], None, "0");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--format"));
    let out = launched(&["run", img.to_str().unwrap(), "--steps", "5", "--format", "csv"], None, "1");
    assert_eq!((out.status.code(), out.stderr.is_empty()), (Some(2), true), "{}", String::from_utf8_lossy(&out.stderr));
    // A file is read as before (here: refused for want of the mpi feature, or run with it).
    let out = launched(&["run", img.to_str().unwrap(), "--steps", "5", "--input", sp.to_str().unwrap(), "-q"], None, "0");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("every rank can read"));
}

/// `Image::read_part` keeps the cores asked for whole and strips the others
/// as it decodes: keeping all gives the file's image; keeping some gives
/// what `strip_except` gives, a valid image; the stored synapses are every
/// core's, kept or not.
#[test]
fn read_part_keeps_its_cores_and_strips_the_rest() {
    let img = image("examples/small.json", "spinnaker", 64).into_image();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("small.img");
    img.write(&path).unwrap();
    let (all, stored) = nerve_isa::Image::read_part(&path, &|_| true).unwrap();
    assert_eq!(all, img);
    assert_eq!(stored, img.cores.iter().map(|c| c.stored_synapses()).collect::<Vec<_>>());
    assert!(stored.iter().sum::<u64>() > 1000);
    let keep = |i: usize| i % 3 == 1;
    let (part, stored2) = nerve_isa::Image::read_part(&path, &keep).unwrap();
    assert_eq!(stored2, stored);
    let mut want = img.clone();
    want.strip_except(&keep);
    assert_eq!(part, want);
    assert!(part.cores.iter().enumerate().all(|(i, c)| keep(i) || (c.synapses.is_empty() && c.rows.is_empty() && c.inputs.is_empty())));
    assert!(part.cores.iter().enumerate().any(|(i, c)| keep(i) && !c.synapses.is_empty()));
    part.validate().unwrap();
    // A corrupt file is refused as `read` refuses it.
    let mut bytes = std::fs::read(&path).unwrap();
    let n = bytes.len();
    bytes[n / 2] ^= 0x40;
    std::fs::write(&path, &bytes).unwrap();
    let e = nerve_isa::Image::read_part(&path, &keep).unwrap_err();
    assert!(e.to_string().contains("checksum"), "{e}");
}

/// Ranks whose recording budgets differ — each counts its own threads
/// (`--threads 0` is its host's CPU count) and has its own --max-memory —
/// stream the same files as one process: every chunk's end is a
/// collective, so they agree on one chunk length. Each cut its own, and a
/// rank read another's chunk as spikes (an index out of bounds, then a
/// hang over MPI).
#[test]
fn ranks_with_different_budgets_stream_what_one_process_writes() {
    use nerve_report::session::{self, Request, Stream};
    let img = image("examples/small.json", "spinnaker", 64);
    let dir = tempfile::tempdir().unwrap();
    let request = |tag: &str, threads: usize, max_memory: u64| Request {
        steps: 300,
        threads,
        probes: vec!["exc:v".into()],
        stream: Some(Stream {
            max_memory,
            record: Some((dir.path().join(format!("{tag}.csv")), nerve_report::spikes::Format::Csv)),
            probe_out: dir.path().join(format!("{tag}.p.csv")),
            keep_spikes: false,
        }),
        ..Request::default()
    };
    // One process's streamed files equal its in-memory recording's (cli_flags.rs, --max-memory).
    let one = session::run(Machine::load_valid(img.clone()).unwrap(), &request("one", 1, 16 << 10), &mut |_| {}).unwrap();
    assert!(one.streamed.is_some(), "the reference streams");
    let plan = partition(&Machine::load_valid(img.clone()).unwrap(), 2);
    // Rank 0 alone would stream in chunks of one length, rank 1 in chunks
    // of another (twice the threads' probe rows), or not at all.
    for budgets in [[(1, 64 << 10), (2, 64 << 10)], [(2, 64 << 10), (1, 1 << 30)], [(1, 1 << 30), (1, 16 << 10)]] {
        let streamed: Vec<Option<u64>> = std::thread::scope(|sc| {
            let hs: Vec<_> = Loopback::group(2)
                .into_iter()
                .map(|mut t| {
                    let (plan, img, request) = (&plan, &img, &request);
                    sc.spawn(move || {
                        let (threads, max_memory) = budgets[t.rank()];
                        let m = Machine::load_valid(img.clone()).unwrap();
                        session::run_ranked(m, &request("ranked", threads, max_memory), &mut t, plan, img.checksum(), &mut |_| {}).unwrap().streamed
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(streamed[0].is_some() && streamed[0] == streamed[1], "{budgets:?}: the ranks stream in one chunk length: {streamed:?}");
        for (a, b) in [("one.csv", "ranked.csv"), ("one.p.csv", "ranked.p.csv")] {
            let (a, b) = (std::fs::read(dir.path().join(a)).unwrap(), std::fs::read(dir.path().join(b)).unwrap());
            assert!(a.len() > 100 && a == b, "{budgets:?}: the ranks' files are one process's");
        }
    }
}

/// Ranks started for different runs — other steps, probes or images — are
/// refused, every rank naming another, before the run: with other --steps
/// they waited for each other for ever, with other probes rank 0 sized the
/// other's rows from its own (24 GB), and with another image of the same
/// network, or one of the same layout with other values, they ran to a
/// wrong result. The same run with other threads and budgets is not
/// refused (ranks_with_different_budgets_stream_…).
#[test]
fn ranks_that_differ_on_the_run_are_refused() {
    use nerve_report::session::{self, Request};
    let img = image("examples/small.json", "spinnaker", 64);
    let other = image("examples/small.json", "spinnaker", 32);
    // The same network with other initial potentials: the same cores, rows and synapses.
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root("examples/small.json")).unwrap().replacen("\"seed\": 1}", "\"seed\": 11}", 1);
    std::fs::write(dir.path().join("reseeded.json"), text).unwrap();
    let reseeded = image_on(dir.path().join("reseeded.json").to_str().unwrap(), &Arch::builtin("spinnaker").unwrap(), 64);
    let layout = |i: &ValidImage| {
        i.cores.iter().map(|c| (c.core, c.pop, c.n_neurons, c.key_base, c.inputs.clone(), c.rows.clone(), c.synapses.clone())).collect::<Vec<_>>()
    };
    assert!(layout(&reseeded) == layout(&img) && reseeded.checksum() != img.checksum(), "one layout, other values");
    let plan = partition(&Machine::load_valid(img.clone()).unwrap(), 2);
    let base = Request { steps: 100, threads: 1, ..Request::default() };
    let cases: Vec<(&str, [Request; 2], [&ValidImage; 2])> = vec![
        ("the same run", [base.clone(), Request { threads: 2, ..base.clone() }], [&img, &img]),
        ("other --steps", [base.clone(), Request { steps: 101, ..base.clone() }], [&img, &img]),
        ("other probes", [base.clone(), Request { probes: vec!["exc:v".into()], ..base.clone() }], [&img, &img]),
        ("another image", [base.clone(), base.clone()], [&img, &other]),
        ("other initial values", [base.clone(), base.clone()], [&img, &reseeded]),
    ];
    for (what, requests, images) in cases {
        let results: Vec<Result<(), String>> = std::thread::scope(|sc| {
            let hs: Vec<_> = Loopback::group(2)
                .into_iter()
                .map(|mut t| {
                    let (plan, requests, images) = (&plan, &requests, &images);
                    sc.spawn(move || {
                        let r = t.rank();
                        let m = Machine::load_valid(images[r].clone()).unwrap();
                        session::run_ranked(m, &requests[r], &mut t, plan, images[r].checksum(), &mut |_| {}).map(|_| ()).map_err(|e| e.to_string())
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        if what == "the same run" {
            assert!(results.iter().all(|r| r.is_ok()), "{what}: {results:?}");
            continue;
        }
        for (rank, r) in results.iter().enumerate() {
            let e = r.as_ref().expect_err(what);
            assert!(e.contains(&format!("rank {rank} and rank {} were started with another image or other run options", 1 - rank)), "{what}: {e}");
        }
    }
}

/// A ranked run's summary says the threads one process would run for the
/// request: with one core per rank, rank 0 ran one thread where one process
/// runs two, and its summary said 1.
#[test]
fn a_ranked_run_reports_one_processs_threads() {
    use nerve_report::session::{self, Request};
    let img = image("examples/small.json", "spinnaker", 128);
    let cores = img.cores.len();
    assert!(cores >= 3, "{cores} cores");
    let request = Request { steps: 20, threads: 2, ..Request::default() };
    let one = session::run(Machine::load_valid(img.clone()).unwrap(), &request, &mut |_| {}).unwrap();
    assert_eq!(one.threads, 2);
    let plan = partition(&Machine::load_valid(img.clone()).unwrap(), cores);
    let threads: Vec<usize> = std::thread::scope(|sc| {
        let hs: Vec<_> = Loopback::group(cores)
            .into_iter()
            .map(|mut t| {
                let (plan, img, request) = (&plan, &img, &request);
                sc.spawn(move || {
                    session::run_ranked(Machine::load_valid(img.clone()).unwrap(), request, &mut t, plan, img.checksum(), &mut |_| {}).unwrap().threads
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(threads[0], one.threads, "{threads:?}");
}
