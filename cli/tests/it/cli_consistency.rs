//! The CLI keeps its word across subcommands: file types whatever the case of
//! their extension, tables that say when they are cut, options only where
//! they apply, usage errors as exit status 2, no output left behind by a
//! command that fails, and `-q` as documented.

use std::path::Path;
use std::process::{Command, Output};

fn nerve(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nerve")).current_dir(dir).args(args).output().unwrap()
}

fn ok(dir: &Path, args: &[&str]) -> Output {
    let out = nerve(dir, args);
    assert!(out.status.success(), "nerve {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn a_nir_file_is_read_whatever_the_case_of_its_extension() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::copy(root().join("../compiler/tests/data/nir/ff_lif_20_16_4.nir"), d.join("ff.nir")).unwrap();
    std::fs::copy(d.join("ff.nir"), d.join("FF.NIR")).unwrap();
    ok(d, &["compile", "ff.nir", "--arch", "loihi", "-o", "lower.img", "-q"]);
    ok(d, &["compile", "FF.NIR", "--arch", "loihi", "-o", "upper.img", "-q"]);
    // The network's name is the file's stem, so the images differ only there: compare what runs.
    ok(d, &["run", "lower.img", "--steps", "50", "--record", "lower.csv", "-q"]);
    ok(d, &["run", "upper.img", "--steps", "50", "--record", "upper.csv", "-q"]);
    assert_eq!(std::fs::read(d.join("lower.csv")).unwrap(), std::fs::read(d.join("upper.csv")).unwrap());
}

/// A small network's run summary in `d` (run.json).
fn run_summary(d: &Path) {
    std::fs::copy(root().join("../examples/small.json"), d.join("small.json")).unwrap();
    ok(d, &["compile", "small.json", "--arch", "spinnaker", "-o", "small.img", "-q"]);
    ok(d, &["run", "small.img", "--steps", "50", "--report", "run.json", "-q"]);
}

#[test]
fn report_refuses_an_html_page_where_the_pictures_go_before_writing_any() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    run_summary(d);
    std::fs::create_dir(d.join("sub")).unwrap();
    for (html, plots, why) in [
        ("out", "out", "is the --plots directory"),
        ("./out", "sub/../out/.", "is the --plots directory"),
        ("out", "out/pics", "would make it a directory"),
        ("out/raster.svg", "out", "writes the picture raster.svg"),
    ] {
        let o = nerve(d, &["report", "run.json", "--html", html, "--plots", plots, "-q"]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "--html {html} --plots {plots}: {err}");
        assert!(err.contains(&format!("--html {html}")) && err.contains(why), "--html {html} --plots {plots}: {err}");
        assert!(!d.join("out").exists(), "--html {html} --plots {plots}: wrote {:?}", std::fs::read_dir(d.join("out")).map(|r| r.count()));
    }
    // A page that fails to be written leaves no pictures (they were put in
    // place first), and `-` is no directory.
    let o = nerve(d, &["report", "run.json", "--html", "/dev/full", "--plots", "full", "-q"]);
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(std::fs::read_dir(d.join("full")).map_or(true, |r| r.count() == 0), "pictures left behind");
    let o = nerve(d, &["report", "run.json", "--plots", "-", "-q"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.code() == Some(2) && err.contains("--plots -: the pictures go into a directory"), "{err}");
    assert!(!d.join("-").exists());
    // A dangling symbolic link is no directory to make (it failed after the tables).
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(d.join("no/such"), d.join("plink")).unwrap();
        let o = nerve(d, &["report", "run.json", "--plots", "plink"]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.code() == Some(1) && err.contains("--plots plink: is a symbolic link to a path that does not exist") && o.stdout.is_empty(), "{err}");
    }
    // A directory that cannot be made is said before the tables are printed.
    let o = nerve(d, &["report", "run.json", "--plots", "run.json/x/pics"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        o.status.code() == Some(1) && err.contains("--plots run.json/x/pics: cannot make it in run.json: it is not a directory") && o.stdout.is_empty(),
        "{err}"
    );
    // The page beside its pictures, in a directory that exists, is no clash.
    std::fs::create_dir(d.join("pics")).unwrap();
    ok(d, &["report", "run.json", "--html", "pics/index.html", "--plots", "pics", "-q"]);
    assert!(d.join("pics/index.html").is_file() && d.join("pics/raster.svg").is_file());
}

#[test]
fn inspect_says_how_many_rows_each_table_leaves_out() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cuba = root().join("../examples/cuba/network/cuba.json");
    // 500 slices, one per tile over every tile: more than 40 cores, routers and chips.
    ok(
        d,
        &[
            "compile",
            cuba.to_str().unwrap(),
            "--arch",
            "spinnaker",
            "-o",
            "spread.img",
            "--placement",
            "spread",
            "--neurons-per-core",
            "8",
            "--effort",
            "0",
            "-q",
        ],
    );
    let json: serde_json::Value = serde_json::from_slice(&ok(d, &["inspect", "spread.img", "--json"]).stdout).unwrap();
    let text = String::from_utf8(ok(d, &["inspect", "spread.img"]).stdout).unwrap();
    let all = String::from_utf8(ok(d, &["inspect", "spread.img", "--all"]).stdout).unwrap();
    for (table, key) in [("cores", "cores"), ("routers", "tiles"), ("chips", "chips")] {
        let n = json[key].as_array().unwrap().len();
        assert!(n > 40, "{table}: {n} rows, too few to be cut");
        let said = format!("… {} more {table} (--all shows them)", n - 40);
        assert!(text.contains(&said), "no `{said}` in:\n{text}");
        assert!(!all.contains(&format!("more {table} (--all")), "--all cuts nothing");
    }
}

#[test]
fn script_exporters_refuse_a_nir_network_and_take_no_nir_options() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::copy(root().join("../compiler/tests/data/nir/ff_lif_20_16_4.nir"), d.join("ff.nir")).unwrap();
    std::fs::copy(d.join("ff.nir"), d.join("FF.NIR")).unwrap();
    std::fs::copy(root().join("../examples/small.json"), d.join("small.json")).unwrap();
    for (target, arch) in [("pynn", "spinnaker"), ("lava", "loihi")] {
        for net in ["ff.nir", "FF.NIR"] {
            let o = nerve(d, &["export", target, net, "--arch", arch, "-o", "x.py"]);
            let err = String::from_utf8_lossy(&o.stderr);
            assert_eq!(o.status.code(), Some(1), "{target} {net}: {err}");
            assert!(err.contains(net) && err.contains("NIR neurons") && err.contains("`nerve export nir`"), "{target} {net}: {err}");
            assert!(!d.join("x.py").exists() && !d.join("x_data").exists());
        }
        for opt in [["--dt", "0.001"], ["--reset", "zero"], ["--source", "generic"]] {
            let o = nerve(d, &["export", target, "small.json", "--arch", arch, "-o", "x.py", opt[0], opt[1]]);
            assert_eq!(o.status.code(), Some(2), "{target} {opt:?}: {}", String::from_utf8_lossy(&o.stderr));
        }
        let help = String::from_utf8(ok(d, &["export", target, "--help"]).stdout).unwrap();
        assert!(!help.contains("--dt") && !help.contains(".json or .nir"), "{help}");
    }
    // `export nir` keeps them.
    ok(d, &["export", "nir", "ff.nir", "--arch", "loihi", "-o", "q.nir", "--dt", "0.001", "--reset", "zero", "--source", "generic", "-q"]);
}

/// Every file of `dir` (not in subdirectories), with its bytes.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap()))
        .collect();
    v.sort();
    v
}

#[test]
fn a_later_output_that_fails_leaves_no_earlier_one_behind() {
    // /dev/full takes the open and refuses the bytes: the check before any work passes it.
    if !Path::new("/dev/full").exists() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::copy(root().join("../examples/small.json"), d.join("small.json")).unwrap();
    ok(d, &["compile", "small.json", "--arch", "spinnaker", "-o", "small.img", "-q"]);
    std::fs::write(d.join("old.img"), "an older image").unwrap();
    let before = files(d);
    for args in [
        &["compile", "small.json", "--arch", "spinnaker", "-o", "new.img", "--report", "/dev/full", "-q"][..],
        &["compile", "small.json", "--arch", "spinnaker", "-o", "old.img", "--report", "/dev/full", "-q"],
        &["export", "spinnaker-tables", "small.img", "-o", "t.json", "--binary", "/dev/full"],
    ] {
        let o = nerve(d, args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains("/dev/full"), "{args:?}: {err}");
        assert_eq!(files(d), before, "{args:?} left or changed a file");
    }
}

#[test]
fn quiet_keeps_errors_and_warnings_only_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Norse's LIF at 1 ms with τ 2.5 ms: a dt coarse against a time constant, warned about.
    std::fs::copy(root().join("../compiler/tests/data/nir/lif_norse.nir"), d.join("lif.nir")).unwrap();
    for args in [
        &["compile", "lif.nir", "--arch", "loihi", "-o", "l.img", "-q"][..],
        &["run", "lif.nir", "--arch", "loihi", "--steps", "5", "-q"],
        &["export", "nir", "lif.nir", "--arch", "loihi", "-o", "q.nir", "-q"],
    ] {
        let o = ok(d, args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(o.stdout.is_empty(), "{args:?}: {}", String::from_utf8_lossy(&o.stdout));
        assert!(err.lines().count() > 0 && err.lines().all(|l| l.starts_with("warning: ")), "{args:?}: {err}");
        // Without -q the NIR import also says what it chose.
        let loud = nerve(d, &args[..args.len() - 1]);
        assert!(String::from_utf8_lossy(&loud.stderr).lines().any(|l| !l.starts_with("warning: ")), "{args:?}");
    }
    for cmd in [&["compile", "--help"][..], &["export", "pynn", "--help"], &["export", "nir", "--help"], &["report", "--help"]] {
        let help = String::from_utf8(ok(d, cmd).stdout).unwrap();
        assert!(help.contains("Print nothing but errors and warnings"), "{cmd:?}: {help}");
    }
}

/// `nerve` with `stdin` as its standard input.
fn piped(dir: &Path, args: &[&str], stdin: &[u8]) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_nerve"))
        .current_dir(dir)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // A command that refuses its input may close the pipe before reading it all.
    let _ = child.stdin.take().unwrap().write_all(stdin);
    child.wait_with_output().unwrap()
}

/// A network's kind is told by its bytes where its name does not tell it:
/// a NIR file named `model.h5` or given through a pipe was read as JSON
/// ("not UTF-8 text: byte 0x89", "--dt … apply to NIR files"), and `run`
/// took a NIR file or a piped JSON network for an image ("is an image,
/// which holds its own mapping", exit 2). A pipe is read once: its bytes
/// decide and are then read.
#[test]
fn a_network_is_told_by_its_bytes_where_its_name_does_not_tell() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let nir = std::fs::read(root().join("../compiler/tests/data/nir/ff_lif_20_16_4.nir")).unwrap();
    let json = std::fs::read(root().join("../examples/small.json")).unwrap();
    std::fs::write(d.join("ff.nir"), &nir).unwrap();
    std::fs::write(d.join("ff.h5"), &nir).unwrap();
    std::fs::write(d.join("small.json"), &json).unwrap();
    let read = |f: &str| std::fs::read(d.join(f)).unwrap();
    // NIR by its bytes, named otherwise or piped; its options apply.
    ok(d, &["compile", "ff.nir", "--arch", "loihi", "-o", "named.img", "--dt", "0.001", "-q"]);
    ok(d, &["compile", "ff.h5", "--arch", "loihi", "-o", "h5.img", "--dt", "0.001", "-q"]);
    assert_eq!(read("h5.img"), read("named.img"));
    let o = piped(d, &["compile", "-", "--arch", "loihi", "-o", "piped.img", "--dt", "0.001", "-q"], &nir);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    ok(d, &["run", "named.img", "--steps", "30", "--record", "named.csv", "-q"]);
    ok(d, &["run", "piped.img", "--steps", "30", "--record", "piped.csv", "-q"]);
    ok(d, &["run", "ff.h5", "--arch", "loihi", "--dt", "0.001", "--steps", "30", "--record", "h5.csv", "-q"]);
    assert_eq!(read("piped.csv"), read("named.csv"));
    assert_eq!(read("h5.csv"), read("named.csv"));
    // A JSON network and an image through a pipe: run as from their files.
    ok(d, &["compile", "small.json", "--arch", "spinnaker", "-o", "small.img", "-q"]);
    ok(d, &["run", "small.json", "--arch", "spinnaker", "--steps", "20", "--record", "file.csv", "-q"]);
    for (stdin, extra) in [(&json, &["--arch", "spinnaker"][..]), (&read("small.img"), &[][..])] {
        let o = piped(d, &[&["run", "-", "--steps", "20", "--record", "pipe.csv", "-q"][..], extra].concat(), stdin);
        assert!(o.status.success(), "{extra:?}: {}", String::from_utf8_lossy(&o.stderr));
        assert_eq!(read("pipe.csv"), read("file.csv"), "{extra:?}");
    }
    // An image where a network goes is named as one (exit 1: bad input).
    let o = nerve(d, &["compile", "small.img", "--arch", "spinnaker", "-o", "x.img"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.code() == Some(1) && err.contains("small.img: a nerve chip image"), "{err}");
}

/// Options that cannot go together are usage errors (exit status 2), as
/// `nerve --help` says, however the input's kind is told: NIR options for a
/// JSON network, a network without --arch, --record-all with nothing it
/// records into, more steps per inference than the run has. Each was 1 (or
/// accepted) before.
#[test]
fn options_that_cannot_go_together_are_usage_errors_whatever_the_input() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::copy(root().join("../examples/small.json"), d.join("small.json")).unwrap();
    ok(d, &["compile", "small.json", "--arch", "spinnaker", "-o", "small.img", "-q"]);
    for (args, culprit) in [
        (&["run", "small.img", "--steps", "5", "--seed", "3"][..], "--seed"),
        (&["compile", "small.json", "--arch", "spinnaker", "-o", "d.img", "--dt", "0.001"], "--dt"),
        (&["run", "small.json", "--arch", "spinnaker", "--steps", "5", "--dt", "0.001"], "--dt"),
        (&["export", "nir", "small.json", "--arch", "loihi", "-o", "q.nir", "--reset", "zero"], "--reset"),
        (&["run", "small.json", "--steps", "5"], "--arch"),
        (&["run", "small.img", "--steps", "5", "--record-all"], "--record-all"),
        (&["run", "small.img", "--steps", "5", "--inference-steps", "6"], "--inference-steps 6"),
    ] {
        let o = nerve(d, args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(culprit) && err.contains("Usage: nerve"), "{args:?}: {err}");
    }
    assert!(!d.join("d.img").exists() && !d.join("q.nir").exists());
    // What they need given, they run.
    for args in [
        &["run", "small.img", "--steps", "5", "--record-all", "--report", "r.json", "-q"][..],
        &["run", "small.img", "--steps", "6", "--inference-steps", "6", "-q"],
    ] {
        ok(d, args);
    }
}

/// `--record-all` without --record changes the report's raster (the
/// populations it holds spikes of), so it is refused only where neither is
/// written.
#[test]
fn record_all_reaches_the_reports_raster() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::copy(root().join("../examples/small.json"), d.join("small.json")).unwrap();
    ok(d, &["compile", "small.json", "--arch", "spinnaker", "-o", "small.img", "-q"]);
    let recorded = |extra: &[&str]| -> Vec<bool> {
        ok(d, &[&["run", "small.img", "--steps", "50", "--report", "r.json", "-q"][..], extra].concat());
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(d.join("r.json")).unwrap()).unwrap();
        v["raster"]["populations"].as_array().unwrap().iter().map(|p| p["recorded"].as_bool().unwrap()).collect()
    };
    let (some, all) = (recorded(&[]), recorded(&["--record-all"]));
    assert!(some.contains(&false) && all.iter().all(|&r| r), "{some:?} {all:?}");
}

/// `--threads` beyond what the image's cores divide into: a note says how
/// many run (it ran fewer silently, and --pin auto pinned by those).
#[test]
fn fewer_threads_than_asked_are_noted() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let net = r#"{"name": "two", "dt_ms": 1.0, "populations": [{"name": "a", "size": 1, "model": "lif", "params": {"i_offset": 1.0}}, {"name": "b", "size": 1, "model": "lif"}],
        "projections": [{"pre": "a", "post": "b", "weight": 1.0, "connector": {"type": "one_to_one"}}]}"#;
    std::fs::write(d.join("two.json"), net).unwrap();
    ok(d, &["compile", "two.json", "--arch", "spinnaker", "-o", "two.img", "-q"]);
    let err = String::from_utf8(ok(d, &["run", "two.img", "--steps", "5", "--threads", "3"]).stderr).unwrap();
    // On one CPU the warning says it instead (2 threads, more than the CPUs).
    assert!(err.contains("note: --threads 3: 2 run, one per core of the image") || err.contains("--threads 3 runs 2 threads"), "{err}");
    let err = String::from_utf8(ok(d, &["run", "two.img", "--steps", "5", "--threads", "2"]).stderr).unwrap();
    assert!(!err.contains("note: --threads"), "{err}");
    // Three cores, one with nearly all the work: two run, and the note says
    // why (it said "as the image's 3 core(s) divide (at most one thread per core)").
    let net = r#"{"name": "three", "dt_ms": 1.0, "populations": [{"name": "a", "size": 200, "model": "lif"}, {"name": "b", "size": 1, "model": "lif"}, {"name": "c", "size": 1, "model": "lif"}]}"#;
    std::fs::write(d.join("three.json"), net).unwrap();
    ok(d, &["compile", "three.json", "--arch", "spinnaker", "-o", "three.img", "-q"]);
    let err = String::from_utf8(ok(d, &["run", "three.img", "--steps", "5", "--threads", "3"]).stderr).unwrap();
    assert!(
        err.contains("note: --threads 3: 2 run: a thread takes whole cores, and the work of the image's 3 cores") || err.contains("--threads 3 runs 2 threads"),
        "{err}"
    );
    let help = String::from_utf8(ok(d, &["run", "--help"]).stdout).unwrap();
    assert!(help.contains("Pinned when the threads that run equal the CPUs"), "{help}");
}

/// What README says of a failed `run`: its recordings (--record,
/// --probe-out), written as the run goes or when it ends, are each whole
/// and stay when a later output fails; the outputs of compiling
/// (--save-image, --compile-report) are put in place only once the run's
/// options are checked.
#[test]
fn a_run_that_fails_after_its_recordings_keeps_them_whole() {
    if !Path::new("/dev/full").exists() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::copy(root().join("../examples/small.json"), d.join("small.json")).unwrap();
    ok(d, &["run", "small.json", "--arch", "spinnaker", "--steps", "50", "--record", "want.csv", "--probe", "exc:v", "--probe-out", "want_v.csv", "-q"]);
    std::fs::write(d.join("s.csv"), "old").unwrap();
    let o = nerve(
        d,
        &[
            "run",
            "small.json",
            "--arch",
            "spinnaker",
            "--steps",
            "50",
            "--record",
            "s.csv",
            "--probe",
            "exc:v",
            "--probe-out",
            "v.csv",
            "--report",
            "/dev/full",
            "-q",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
    let read = |f: &str| std::fs::read(d.join(f)).unwrap();
    assert_eq!(read("s.csv"), read("want.csv"));
    assert_eq!(read("v.csv"), read("want_v.csv"));
    let readme = std::fs::read_to_string(root().join("../README.md")).unwrap().split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(readme.contains("a `run` that fails after its recordings keeps them"), "README says what a failed run leaves");
}

/// A network opened through a symbolic link reads its `from_list` files
/// beside the file the link names, as it does given that file (they were
/// looked for beside the link: refused, or with files of those names there,
/// another network compiled without a word); `--save-network` of it too.
#[test]
fn a_linked_network_reads_its_lists_beside_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let real = root().join("../examples/synfire/network.json");
    std::os::unix::fs::symlink(&real, d.join("syn.json")).unwrap();
    // Decoys of the lists' names beside the link.
    std::fs::create_dir(d.join("connections")).unwrap();
    for f in std::fs::read_dir(real.parent().unwrap().join("connections")).unwrap() {
        std::fs::write(d.join("connections").join(f.unwrap().file_name()), "pre,post\n0,0\n").unwrap();
    }
    ok(d, &["compile", "syn.json", "--arch", "spinnaker", "-o", "linked.img", "-q"]);
    ok(d, &["compile", real.to_str().unwrap(), "--arch", "spinnaker", "-o", "real.img", "-q"]);
    assert!(std::fs::read(d.join("linked.img")).unwrap() == std::fs::read(d.join("real.img")).unwrap(), "the link compiled another network");
}

/// `--save-network` compiles what it wrote from the text in memory, not by
/// reading the output back: to a device (or a FIFO, which waited for ever)
/// it said "written, but it does not compile … not valid JSON". A piped
/// network is saved from the bytes read (reading its path again found it
/// empty). What the continuation does not carry is said under -q too, as
/// warnings, and a cut time as people write it.
#[test]
fn save_network_writes_to_streams_and_from_pipes() {
    use std::io::Write as _;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let small = root().join("../examples/small.json");
    std::os::unix::fs::symlink("/dev/null", d.join("null.json")).unwrap();
    ok(d, &["run", small.to_str().unwrap(), "--arch", "spinnaker", "--steps", "20", "--save-network", "null.json", "-q"]);
    ok(d, &["run", small.to_str().unwrap(), "--arch", "spinnaker", "--steps", "20", "--save-network", "file.json"]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_nerve"))
        .current_dir(d)
        .args(["run", "-", "--arch", "spinnaker", "--steps", "20", "--save-network", "piped.json", "-q"])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&std::fs::read(&small).unwrap()).unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("warning: `stim`: a Poisson source starts its draws afresh"), "-q kept no warning: {err}");
    // The same network either way; its `from_list`-free text needs no rebase.
    assert_eq!(std::fs::read_to_string(d.join("piped.json")).unwrap(), std::fs::read_to_string(d.join("file.json")).unwrap());
    let net = r#"{"name": "i", "dt_ms": 0.1, "populations": [{"name": "inp", "size": 2, "model": "input"}, {"name": "n", "size": 2, "model": "lif"}],
        "projections": [{"pre": "inp", "post": "n", "weight": 1.0, "connector": {"type": "one_to_one"}}]}"#;
    std::fs::write(d.join("inp.json"), net).unwrap();
    let err = String::from_utf8(ok(d, &["run", "inp.json", "--arch", "spinnaker", "--steps", "7", "--save-network", "inp2.json"]).stderr).unwrap();
    assert!(err.contains("give its run the spikes from 0.7 ms on, 0.7 ms earlier"), "{err}");
}
