//! The image tools on an image built by a test.

use std::path::Path;
use std::process::Command;

fn nerve() -> Command {
    Command::new(env!("CARGO_BIN_EXE_nerve"))
}

fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().expect("nerve runs");
    assert!(out.status.success(), "failed: {}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn run_err(cmd: &mut Command) -> String {
    let out = cmd.output().expect("nerve runs");
    assert!(!out.status.success());
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn arch_list_and_show() {
    let s = run_ok(nerve().args(["arch", "list"]));
    for p in ["loihi", "spinnaker", "tiny"] {
        assert!(s.contains(p), "{s}");
    }
    // The topology as a profile spells it (it printed `HexTorus`, which a profile refuses).
    assert!(s.contains(" hex_torus ") && s.contains(" mesh ") && !s.contains("HexTorus"), "{s}");
    let s = run_ok(nerve().args(["arch", "show", "spinnaker"]));
    assert!(s.contains("table_entries = 1023"), "{s}");
    let s = run_ok(nerve().args(["arch", "show", "loihi", "--format", "json"]));
    let v: serde_json::Value = serde_json::from_str(&s).unwrap();
    assert_eq!(v["core"]["max_neurons"], 1024);
    let e = run_err(nerve().args(["arch", "show", "truenorth"]));
    assert!(e.contains("unknown architecture profile `truenorth`"), "{e}");
    let s = run_ok(nerve().args(["arch", "list", "--json"]));
    let v: serde_json::Value = serde_json::from_str(&s).unwrap();
    assert!(v.as_array().unwrap().iter().any(|a| a["name"] == "spinnaker2"), "{s}");
}

/// More threads than the CPUs: a warning (the run is slower, not different),
/// only if that many run: at most one per core of the image (`--threads 3`
/// on two CPUs and an image of two cores ran two threads, pinned, and
/// warned that they would wait).
#[test]
fn more_threads_than_cpus_is_warned_about_if_they_run() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let net = |size: usize| {
        format!(r#"{{"name": "w", "dt_ms": 1.0, "populations": [{{"name": "n", "size": {size}, "model": "lif", "params": {{"i_offset": 1.0}}}}]}}"#)
    };
    std::fs::write(d.join("one.json"), net(1)).unwrap();
    std::fs::write(d.join("wide.json"), net(cpus + 2)).unwrap();
    let run = |network: &str, threads: usize| {
        let out = nerve()
            .current_dir(d)
            .args(["run", network, "--arch", "loihi", "--neurons-per-core", "1", "--steps", "3", "--json", "--threads", &threads.to_string()])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        (String::from_utf8_lossy(&out.stderr).into_owned(), summary["threads"].as_u64().unwrap() as usize)
    };
    // One core: one thread runs, however many are asked for.
    for threads in [cpus + 1, 100_000] {
        let (e, ran) = run("one.json", threads);
        assert_eq!(ran, 1);
        assert!(!e.contains("warning"), "--threads {threads}: {e}");
    }
    let (e, ran) = run("wide.json", cpus);
    assert_eq!(ran, cpus);
    assert!(!e.contains("warning"), "{e}");
    let (e, ran) = run("wide.json", cpus + 1);
    assert_eq!(ran, cpus + 1);
    assert!(e.contains(&format!("warning: --threads {} exceeds the {cpus} CPU(s) this process may use", cpus + 1)), "{e}");
    let (e, ran) = run("wide.json", 100_000);
    assert!(ran > cpus);
    assert!(e.contains(&format!("warning: --threads 100000 runs {ran} threads (at most one per core of the image), more than the {cpus} CPU(s)")), "{e}");
}

/// Exit status: 2 for a usage error, 1 for an error in the work.
#[test]
fn exit_codes_are_as_documented() {
    for (args, code) in [(vec!["run", "--no-such-flag"], 2), (vec!["compile", "nosuch.json", "--arch", "spinnaker", "-q"], 1), (vec!["arch", "list"], 0)] {
        let out = nerve().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(code), "{args:?}");
    }
}

/// A chip whose router only forwards packets is not a chip in use: `inspect`
/// counts chips as `compile` and `run` do (static power is charged per chip
/// in use) and names the forwarding ones apart.
#[test]
fn inspect_counts_chips_in_use_as_compile_does() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("net.json"),
        r#"{"name":"x","dt_ms":1.0,"populations":[{"name":"s","size":1,"model":"spike_source_array","spike_times":[[1.0]]},{"name":"a","size":1,"model":"lif"}],
            "projections":[{"pre":"s","post":"a","weight":1.0,"connector":{"type":"all_to_all"}}]}"#,
    )
    .unwrap();
    // Chip (0, 0) to chip (2, 1) of a 24-chip-wide torus (core 26 × 17): the
    // path turns at chip (1, 0) or (1, 1), which takes an entry.
    std::fs::write(d.join("place.csv"), "population,slice,core\ns,0,0\na,0,442\n").unwrap();
    let out = run_ok(nerve().current_dir(d).args(["compile", "net.json", "--arch", "spinnaker", "--placement", "place.csv", "-o", "x.img", "--json"]));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["chips_used"], 2, "{out}");
    let s = run_ok(nerve().current_dir(d).args(["inspect", "x.img"]));
    assert!(s.contains("2 of 288 chips and 1 forwarding packets only"), "{s}");
    // Without a forwarding chip the line says nothing of them.
    std::fs::write(d.join("place.csv"), "population,slice,core\ns,0,0\na,0,17\n").unwrap();
    run_ok(nerve().current_dir(d).args(["compile", "net.json", "--arch", "spinnaker", "--placement", "place.csv", "-o", "x.img", "-q"]));
    let s = run_ok(nerve().current_dir(d).args(["inspect", "x.img"]));
    assert!(s.contains("2 of 288 chips)"), "{s}");
    // A placement file is used as it is: the refinement's options are
    // refused with it (they were ignored without a word), by compile and run.
    for (extra, named) in [
        (&["--effort", "1000"][..], "--effort"),
        (&["--seed", "9"], "--seed"),
        (&["--effort", "5", "--seed", "1"], "--effort, --seed"),
        // Their default values too: given is given.
        (&["--seed", "0"], "--seed"),
        (&["--effort", "60"], "--effort"),
    ] {
        for (sub, out_args) in [("compile", ["-o", "y.img"]), ("run", ["--steps", "3"])] {
            let out =
                nerve().current_dir(d).args([sub, "net.json", "--arch", "spinnaker", "--placement", "place.csv"]).args(out_args).args(extra).output().unwrap();
            let e = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{sub} {extra:?}: {e}");
            assert!(
                e.contains(&format!("{named}: refine a placement by pack or spread; the placement file place.csv is used as it is")),
                "{sub} {extra:?}: {e}"
            );
        }
    }
    run_ok(nerve().current_dir(d).args([
        "compile",
        "net.json",
        "--arch",
        "spinnaker",
        "--placement",
        "spread",
        "--effort",
        "5",
        "--seed",
        "1",
        "-o",
        "y.img",
        "-q",
    ]));
}

/// An image read from a pipe (`nerve run <(…)`, `cat x.img | nerve run
/// /dev/stdin`) is read as from its file; a stream that is no image is
/// refused after its header, not read on.
#[test]
#[cfg(unix)]
fn images_are_read_from_pipes() {
    use std::io::Write;
    use std::process::Stdio;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("sample.img");
    nerve_isa::sample::sample_image().write(&p).unwrap();
    let bytes = std::fs::read(&p).unwrap();
    let piped = |args: &[&str], input: Vec<u8>| {
        let mut child = nerve().args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let mut stdin = child.stdin.take().unwrap();
        // A writer of its own: the pipe holds less than a large image.
        let w = std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
        let out = child.wait_with_output().unwrap();
        w.join().unwrap();
        out
    };
    let from_file = run_ok(nerve().arg("inspect").arg(&p));
    let out = piped(&["inspect", "/dev/stdin"], bytes.clone());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).replace("/dev/stdin", "X"), from_file.replace(&p.display().to_string(), "X"));
    let run = |o: std::process::Output| {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    run(piped(&["run", "/dev/stdin", "--steps", "20", "--record", dir.path().join("a.csv").to_str().unwrap(), "-q"], bytes.clone()));
    run_ok(nerve().arg("run").arg(&p).args(["--steps", "20", "--record"]).arg(dir.path().join("b.csv")).arg("-q"));
    assert_eq!(std::fs::read(dir.path().join("a.csv")).unwrap(), std::fs::read(dir.path().join("b.csv")).unwrap());
    // Cut short, with a byte too many, and no image at all.
    for (input, says) in [
        (bytes[..bytes.len() - 1].to_vec(), "truncated"),
        ([bytes.as_slice(), b"x"].concat(), "goes on past the"),
        // Not "1 trailing bytes": a pipe is not read to its end.
        ([bytes.as_slice(), &[0; 5000]].concat(), "trailing bytes after the image"),
        (bytes[..10].to_vec(), "shorter than the 32-byte header"),
    ] {
        let out = piped(&["inspect", "/dev/stdin"], input);
        let e = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && e.contains(says), "{says}: {e}");
    }
    // A device is refused as every input is; a forged length is not copied.
    let e = run_err(nerve().args(["inspect", "/dev/zero"]));
    assert!(e.contains("a device, not a file"), "{e}");
    let mut forged = bytes[..32].to_vec();
    forged[16..24].copy_from_slice(&u64::MAX.to_le_bytes());
    let out = piped(&["inspect", "/dev/stdin"], [forged, vec![0; 1 << 20]].concat());
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && e.contains("more than this host's available memory"), "{e}");
    // Written into a pipe (the header cannot be filled in afterwards): `compile -o /dev/stdout | run /dev/stdin`.
    let net = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/small.json");
    let img = dir.path().join("small.img");
    run_ok(nerve().arg("compile").arg(&net).args(["--arch", "spinnaker", "-q", "-o"]).arg(&img));
    let out = nerve().arg("compile").arg(&net).args(["--arch", "spinnaker", "-q", "-o", "/dev/stdout"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.stdout, std::fs::read(&img).unwrap(), "the same bytes through a pipe");
    // stdout redirected to a file opened for appending: the spikes follow what was there.
    let log = dir.path().join("log.txt");
    std::fs::write(&log, "before\n").unwrap();
    let f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    let st = nerve().arg("run").arg(&img).args(["--steps", "200", "--record", "/dev/stdout", "-q"]).stdout(f).status().unwrap();
    assert!(st.success());
    run_ok(nerve().arg("run").arg(&img).args(["--steps", "200", "-q", "--record"]).arg(dir.path().join("s.csv")));
    assert_eq!(std::fs::read_to_string(&log).unwrap(), format!("before\n{}", std::fs::read_to_string(dir.path().join("s.csv")).unwrap()));
    // `-` is the stream, as in most tools: `compile NET -o - | run - --record -`
    // (a file named - was written before); `./-` still names a file.
    // Without -q: the tables go to stderr when stdout carries the image (they followed it: "trailing bytes").
    let out = nerve().current_dir(dir.path()).arg("compile").arg(&net).args(["--arch", "spinnaker", "-o", "-"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.stdout, std::fs::read(&img).unwrap(), "-o - writes the image to stdout");
    let out = piped(&["run", "-", "--steps", "200", "--record", "-"], out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.stdout, std::fs::read(dir.path().join("s.csv")).unwrap(), "run - --record - reads stdin, writes stdout");
    // --json and a file on stdout cannot share it; standard input is read once;
    // a script whose data lies beside it cannot go to a stream.
    for (args, says) in [
        (vec!["run", "small.img", "--steps", "10", "--report", "-", "--json"], "--json prints to standard output, which --report writes its file to"),
        (vec!["run", "-", "--arch", "spinnaker", "--steps", "5", "--input", "-"], "standard input (-) is given as 2 of this command's inputs"),
        // Two outputs into one stream ran together there (an image then a
        // report), exit 0, when stdout was a pipe.
        (vec!["compile", "-", "--arch", "spinnaker", "-o", "-", "--report", "-", "-q"], "-o and --report all write to standard output"),
        (vec!["run", "small.img", "--steps", "10", "--record", "-", "--report", "/dev/stdout"], "--record and --report all write to standard output"),
        (vec!["run", "small.img", "--steps", "10", "--record", "/dev/stderr", "--report", "/dev/fd/2"], "--record and --report all write to standard error"),
        // However the path is spelt.
        (vec!["run", "small.img", "--steps", "10", "--record", "-", "--report", "//dev/../dev/./stdout"], "--record and --report all write to standard output"),
    ] {
        let out = nerve().current_dir(dir.path()).args(&args).stdin(std::fs::File::open(&net).unwrap()).output().unwrap();
        let e = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.code() == Some(2) && e.contains(says), "{args:?}: {e}");
    }
    let cuba = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/cuba/network/cuba.json");
    let e = run_err(nerve().current_dir(dir.path()).arg("export").arg("pynn").arg(&cuba).args(["--arch", "spinnaker", "-o", "-"]));
    assert!(e.contains("data file(s) from a directory beside it, which a stream or device has not"), "{e}");
    // Redirected from a file, /dev/stdin is a file: still a stream by name.
    let out = nerve().args(["compile", "-", "--arch", "spinnaker", "-q"]).stdin(std::fs::File::open(&net).unwrap()).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    // Without -o, a piped network's image had the pipe's name: /dev/stdin.img (written into /dev as root).
    let out = piped(&["compile", "-", "--arch", "spinnaker", "-q"], std::fs::read(&net).unwrap());
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.code() == Some(2) && e.contains("/dev/stdin is a pipe or a stream, not a file: give the image's path with -o"), "{e}");
    // A piped network without a name is named `network`, not after the pipe (`stdin`).
    let mut unnamed: serde_json::Value = serde_json::from_slice(&std::fs::read(&net).unwrap()).unwrap();
    unnamed.as_object_mut().unwrap().remove("name");
    let out = piped(&["run", "-", "--arch", "spinnaker", "--steps", "10", "--json"], unnamed.to_string().into_bytes());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(v["network"], "network");
    run_ok(nerve().current_dir(dir.path()).arg("run").arg(&img).args(["--steps", "200", "-q", "--record", "./-"]));
    assert_eq!(std::fs::read(dir.path().join("-")).unwrap(), std::fs::read(dir.path().join("s.csv")).unwrap(), "./- is a file");
}

#[test]
fn inspect_and_disasm_a_sample_image() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("sample.img");
    nerve_isa::sample::sample_image().write(&p).unwrap();
    let s = run_ok(nerve().arg("inspect").arg(&p));
    assert!(s.contains("2 of 36 cores") && s.contains("12 synapses"), "{s}");
    let s = run_ok(nerve().arg("inspect").arg(&p).arg("--json"));
    let v: serde_json::Value = serde_json::from_str(&s).unwrap();
    assert_eq!(v["cores"][1]["synapse_words"], 3 + 6); // 3 rows: header + 4 synapses in 2 words each
    assert_eq!(v["total_router_entries"], 2);
    let s = run_ok(nerve().arg("disasm").arg(&p));
    assert!(s.contains(".kernel if_neuron") && s.contains("cmplt"), "{s}");
    let s = run_ok(nerve().arg("disasm").arg(&p).args(["--core", "4"]));
    assert!(s.contains("param vth = 60"), "{s}");
    let e = run_err(nerve().arg("disasm").arg(&p).args(["--core", "7"]));
    assert!(e.contains("core 7 is not used") && e.contains("0, 4"), "{e}");
    // A corrupt image is a clear error, not a panic.
    let mut b = std::fs::read(&p).unwrap();
    let n = b.len();
    b[n - 3] ^= 0x40;
    std::fs::write(&p, b).unwrap();
    let e = run_err(nerve().arg("inspect").arg(&p));
    assert!(e.contains("checksum mismatch"), "{e}");
}

#[test]
fn asm_assembles_the_example_kernel() {
    let src = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/kernels/if.s");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("if.bin");
    let s = run_ok(nerve().arg("asm").arg(src).arg("-o").arg(&out));
    assert!(s.contains("if_neuron: 9 instructions"), "{s}");
    assert_eq!(std::fs::read(&out).unwrap().len(), 9 * 8);
    let bad = dir.path().join("bad.s");
    std::fs::write(&bad, ".kernel k\n  add r1, r2\n").unwrap();
    let e = run_err(nerve().arg("asm").arg(&bad));
    assert!(e.contains("line 2"), "{e}");
}

/// `nerve run NET.json --arch A` compiles in memory and runs the same image as
/// `nerve compile` + `nerve run IMG`: identical spikes; --save-image writes
/// that image byte for byte; compile options on an image, or a network
/// without --arch, are errors that say so.
#[test]
fn run_compiles_a_network_in_memory() {
    let dir = tempfile::tempdir().unwrap();
    let net = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/small.json");
    let img = dir.path().join("small.img");
    let saved = dir.path().join("saved.img");
    let (a, b) = (dir.path().join("a.csv"), dir.path().join("b.csv"));
    run_ok(nerve().arg("compile").arg(&net).args(["--arch", "spinnaker", "--neurons-per-core", "64", "-q", "-o"]).arg(&img));
    run_ok(nerve().arg("run").arg(&img).args(["--steps", "200", "-q", "--record"]).arg(&a));
    run_ok(
        nerve()
            .arg("run")
            .arg(&net)
            .args(["--arch", "spinnaker", "--neurons-per-core", "64", "--steps", "200", "-q", "--record"])
            .arg(&b)
            .arg("--save-image")
            .arg(&saved),
    );
    let (sa, sb) = (std::fs::read_to_string(&a).unwrap(), std::fs::read_to_string(&b).unwrap());
    assert!(sa.lines().count() > 10, "the example spikes: {sa}");
    assert_eq!(sa, sb);
    assert_eq!(std::fs::read(&img).unwrap(), std::fs::read(&saved).unwrap());
    let e = run_err(nerve().arg("run").arg(&net).args(["--steps", "10"]));
    assert!(e.contains("needs --arch"), "{e}");
    let e = run_err(nerve().arg("run").arg(&img).args(["--steps", "10", "--placement", "spread", "--arch", "loihi"]));
    assert!(e.contains("--placement, --arch: only for compiling a network"), "{e}");
}

/// With `NERVE_HUGEPAGES=1`, `compile` and `run` ask glibc for transparent
/// huge pages by running themselves again (cli/src/hugepages.rs) where the
/// kernel offers them; `NERVE_HUGEPAGES=0` and no setting keep the default
/// pages. Only the allocator differs: the same image, spikes and report.
#[test]
fn huge_pages_change_nothing_but_the_allocator() {
    let dir = tempfile::tempdir().unwrap();
    let net = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/small.json");
    let offered = std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled").is_ok_and(|s| !s.contains("[never]"))
        && cfg!(all(target_os = "linux", target_env = "gnu"));
    let mut outs = Vec::new();
    let with = |huge: &str| {
        let mut c = nerve();
        c.env_remove("GLIBC_TUNABLES");
        match huge {
            "unset" => c.env_remove("NERVE_HUGEPAGES"),
            _ => c.env("NERVE_HUGEPAGES", huge),
        };
        c
    };
    for huge in ["1", "0", "unset"] {
        let (img, spikes, rep) = (dir.path().join(format!("{huge}.img")), dir.path().join(format!("{huge}.csv")), dir.path().join(format!("{huge}.json")));
        run_ok(with(huge).arg("compile").arg(&net).args(["--arch", "loihi", "-q", "-o"]).arg(&img));
        run_ok(with(huge).arg("run").arg(&img).args(["--steps", "300", "-q", "--record"]).arg(&spikes).arg("--report").arg(&rep));
        let mut r: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&rep).unwrap()).unwrap();
        assert_eq!(r["host"]["huge_pages"], serde_json::Value::Bool(huge == "1" && offered), "NERVE_HUGEPAGES={huge}");
        r.as_object_mut().unwrap().remove("host");
        outs.push((std::fs::read(&img).unwrap(), std::fs::read_to_string(&spikes).unwrap(), r));
    }
    assert!(outs[0].1.lines().count() > 10);
    assert!(outs[0] == outs[1] && outs[1] == outs[2], "huge pages changed a result");
}

/// The run summary's closing hint names the report file the run wrote, and
/// without one says how to get it.
#[test]
fn the_run_summary_names_its_report_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let small = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/small.json");
    let img = d.join("s.img");
    run_ok(nerve().arg("compile").arg(&small).args(["--arch", "spinnaker", "-q", "-o"]).arg(&img));
    let rep = d.join("r.json");
    let with = run_ok(nerve().arg("run").arg(&img).args(["--steps", "20", "--report"]).arg(&rep));
    assert!(with.contains(&format!("`nerve report {}` gives the breakdowns", rep.display())), "{with}");
    let without = run_ok(nerve().arg("run").arg(&img).args(["--steps", "20"]));
    assert!(without.contains("With `--report FILE`, `nerve report FILE` gives the breakdowns"), "{without}");
}

/// `--quiet` on every command that prints: nothing but errors, the files still written.
#[test]
fn quiet_is_quiet_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let small = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/small.json");
    let s = small.to_str().unwrap();
    let p = |n: &str| d.join(n).to_str().unwrap().to_string();
    for args in [
        vec!["compile", s, "--arch", "spinnaker", "-o", &p("s.img"), "-q"],
        vec!["run", &p("s.img"), "--steps", "50", "--report", &p("r.json"), "-q"],
        vec!["report", &p("r.json"), "--html", &p("r.html"), "-q"],
        vec!["export", "pynn", s, "--arch", "spinnaker", "-o", &p("n.py"), "-q"],
        vec!["export", "spinnaker-tables", &p("s.img"), "-o", &p("t.json"), "-q"],
    ] {
        let out = nerve().args(&args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(
            out.stdout.is_empty() && out.stderr.is_empty(),
            "{args:?} printed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    for f in ["s.img", "r.json", "r.html", "n.py", "t.json"] {
        assert!(d.join(f).exists(), "{f}");
    }
}

/// Outputs that are FIFOs or devices are written into, not replaced by
/// plain files (renaming a finished temporary file over `/dev/null` would,
/// as root, replace the system's device), whole or a chunk at a time.
#[cfg(unix)]
#[test]
fn outputs_into_a_fifo_or_a_device_leave_them_in_place() {
    use std::os::unix::fs::FileTypeExt;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let net = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/small.json");
    let img = d.join("small.img");
    run_ok(nerve().args(["compile", net.to_str().unwrap(), "--arch", "spinnaker", "-q", "-o"]).arg(&img));
    let want = {
        let f = d.join("want.csv");
        run_ok(nerve().arg("run").arg(&img).args(["--steps", "200", "-q", "--record"]).arg(&f));
        std::fs::read_to_string(&f).unwrap()
    };
    assert!(want.lines().count() > 10, "{want}");
    let fifo = d.join("spikes.fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    for chunked in [false, true] {
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
        };
        let mut cmd = nerve();
        cmd.arg("run").arg(&img).args(["--steps", "200", "-q", "--record"]).arg(&fifo).args(["--report", "/dev/null"]);
        if chunked {
            // Over the memory budget: the spikes go to a spill file first.
            cmd.args(["--max-memory", "1K"]);
        }
        run_ok(&mut cmd);
        // Checked before joining: a reader of a FIFO replaced by a file would wait forever.
        assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo(), "chunked: {chunked}");
        assert!(std::fs::metadata("/dev/null").unwrap().file_type().is_char_device());
        assert_eq!(reader.join().unwrap(), want, "chunked: {chunked}");
    }
    // An image into /dev/null: written (and gone), the device kept; no
    // temporary or spill files left anywhere near.
    run_ok(nerve().args(["compile", net.to_str().unwrap(), "--arch", "spinnaker", "-q", "-o", "/dev/null"]));
    assert!(std::fs::metadata("/dev/null").unwrap().file_type().is_char_device());
    let left: Vec<_> = std::fs::read_dir(d).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert_eq!(left.len(), 3, "{left:?}");
}

/// A format chosen by extension is chosen in any case: `--record s.NPY`
/// wrote CSV text into s.NPY (while the --format check lowercased), and so
/// did --probe-out, --save-weights and the streamed writer.
#[test]
fn output_formats_follow_the_extension_in_any_case() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(root.join("../examples/small.json"), d.join("small.json")).unwrap();
    std::fs::copy(root.join("tests/data/loihi_stdp.json"), d.join("stdp.json")).unwrap();
    run_ok(nerve().current_dir(d).args(["compile", "small.json", "--arch", "spinnaker", "-o", "small.img", "-q"]));
    let npy = |f: &str| std::fs::read(d.join(f)).unwrap().starts_with(b"\x93NUMPY");
    for (tag, budget) in [("kept", "2G"), ("streamed", "1K")] {
        let (s, p, j) = (format!("s_{tag}.NPY"), format!("p_{tag}.Npy"), format!("s_{tag}.JSON"));
        run_ok(nerve().current_dir(d).args([
            "run",
            "small.img",
            "--steps",
            "100",
            "--record",
            &s,
            "--probe",
            "exc:v",
            "--probe-out",
            &p,
            "--max-memory",
            budget,
            "-q",
        ]));
        assert!(npy(&s) && npy(&p), "{tag}");
        run_ok(nerve().current_dir(d).args(["run", "small.img", "--steps", "100", "--record", &j, "--max-memory", budget, "-q"]));
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(d.join(&j)).unwrap()).unwrap();
        assert!(!v["spikes"].as_array().unwrap().is_empty(), "{tag}");
    }
    // A JSON input in capitals is read as JSON (it was read as CSV, and refused at its first line).
    std::fs::write(
        d.join("ni.json"),
        r#"{"dt_ms": 1.0, "populations": [{"name": "src", "size": 3, "model": "input"}, {"name": "n", "size": 3, "model": "lif"}], "projections": []}"#,
    )
    .unwrap();
    std::fs::write(d.join("in.JSON"), r#"{"spikes": [{"population": "src", "neuron": 2, "time": 2}]}"#).unwrap();
    run_ok(nerve().current_dir(d).args(["run", "ni.json", "--arch", "spinnaker", "--steps", "10", "--input", "in.JSON", "--record", "r.csv", "-q"]));
    assert!(std::fs::read_to_string(d.join("r.csv")).unwrap().contains("src,2,2"));
    run_ok(nerve().current_dir(d).args(["run", "stdp.json", "--arch", "loihi", "--steps", "60", "--save-weights", "w.NPY", "-q"]));
    assert!(npy("w.NPY"));
}

/// Every output replaces its old file whole, through a temporary file
/// renamed into place, never by writing into it (a write that fails half way
/// then leaves a partial file): a hard link to the old file keeps the old
/// bytes. compile's --report (and run's --compile-report), asm -o, export
/// nir and report's pictures were written in place.
#[test]
fn outputs_replace_the_old_file_never_write_into_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(root.join("../examples/small.json"), d.join("small.json")).unwrap();
    std::fs::copy(root.join("../examples/kernels/if.s"), d.join("if.s")).unwrap();
    std::fs::copy(root.join("../compiler/tests/data/nir/ff_lif_20_16_4.nir"), d.join("ff.nir")).unwrap();
    std::fs::copy(root.join("../report/tests/data/run_small.json"), d.join("run.json")).unwrap();
    std::fs::create_dir(d.join("pics")).unwrap();
    let cases: &[(&[&str], &[&str])] = &[
        (&["compile", "small.json", "--arch", "spinnaker", "-o", "a.img", "--report", "rep.json", "-q"], &["rep.json"]),
        (
            &["run", "small.json", "--arch", "spinnaker", "--steps", "5", "--compile-report", "crep.json", "--save-image", "b.img", "-q"],
            &["crep.json", "b.img"],
        ),
        (&["asm", "if.s", "-o", "k.bin"], &["k.bin"]),
        (&["export", "nir", "ff.nir", "--arch", "loihi", "-o", "q.nir", "-q"], &["q.nir"]),
        (&["report", "run.json", "--plots", "pics", "-q"], &["pics/raster.svg", "pics/raster.png"]),
    ];
    for (i, (args, outputs)) in cases.iter().enumerate() {
        for (j, o) in outputs.iter().enumerate() {
            let witness = d.join(format!("old{i}_{j}"));
            std::fs::write(&witness, "old").unwrap();
            std::fs::hard_link(&witness, d.join(o)).unwrap();
        }
        run_ok(nerve().current_dir(d).args(*args));
        for (j, o) in outputs.iter().enumerate() {
            assert_eq!(std::fs::read(d.join(format!("old{i}_{j}"))).unwrap(), b"old", "{args:?}: {o} was written into");
            assert_ne!(std::fs::read(d.join(o)).unwrap(), b"old", "{args:?}: {o} not written");
        }
    }
}

/// A learning rule's program is a kernel no neuron core runs: the listing
/// names the rule, its projection and the cores holding its synapses.
#[test]
fn disasm_names_learning_rules_and_their_projections() {
    let dir = tempfile::tempdir().unwrap();
    let net = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/stdp-memory/network.json");
    let img = dir.path().join("l.img");
    run_ok(nerve().arg("compile").arg(&net).args(["--arch", "spinnaker", "-o"]).arg(&img));
    let s = run_ok(nerve().arg("disasm").arg(&img));
    let heads: Vec<&str> = s.lines().filter(|l| l.starts_with("; kernel")).collect();
    let rule = heads.iter().find(|l| l.contains("STDP rule 0 of projection `memory`, synapses on cores ")).unwrap_or_else(|| panic!("{s}"));
    assert!(rule.ends_with(|c: char| c.is_ascii_digit()), "{rule}");
    assert!(heads.iter().all(|l| !l.trim_end().ends_with("on cores")), "{s}");
}

/// Gap junctions are listed by `inspect` (they are neither rows nor
/// synapses) and counted in their cores' words and keys.
#[test]
fn inspect_counts_gap_junctions() {
    let dir = tempfile::tempdir().unwrap();
    let net = dir.path().join("gap.json");
    std::fs::write(
        &net,
        r#"{"populations": [{"name": "a", "size": 16, "model": "lif", "max_per_core": 8}],
            "projections": [{"pre": "a", "post": "a", "connector": {"type": "all_to_all", "allow_self_connections": false}, "weight": 0.01, "receptor": "electrical"}]}"#,
    )
    .unwrap();
    let img = dir.path().join("gap.img");
    let s = run_ok(nerve().arg("compile").arg(&net).args(["--arch", "tiny", "-o"]).arg(&img));
    // 240 partner terms and 16 self terms.
    assert!(s.contains("256 gap-junction terms"), "{s}");
    let s = run_ok(nerve().arg("inspect").arg(&img));
    assert!(s.contains("0 synapses, 256 gap-junction terms") && s.contains("gap terms"), "{s}");
    let v: serde_json::Value = serde_json::from_str(&run_ok(nerve().arg("inspect").arg(&img).arg("--json"))).unwrap();
    assert_eq!(v["total_gap_terms"], 256);
    for c in v["cores"].as_array().unwrap() {
        // 8 neurons × (15 partners + a self term); the other core's 8 neurons send their v.
        assert_eq!((c["gap_terms"].as_u64(), c["synapse_words"].as_u64(), c["input_keys"].as_u64()), (Some(128), Some(128), Some(8)), "{c}");
    }
}

/// Ctrl-C (SIGINT) or SIGTERM ends a command at once with status 128 + the
/// signal and leaves the directory as it was
/// (`nerve_isa::files::remove_unfinished` removes what it was writing;
/// isa/tests/unfinished.rs covers a file half written); a signal ignored
/// when the process started (`nohup`) stays ignored.
#[test]
#[cfg(target_os = "linux")]
fn a_signal_ends_a_run_and_leaves_no_files() {
    let dir = tempfile::tempdir().unwrap();
    let net = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/small.json");
    let img = dir.path().join("small.img");
    run_ok(nerve().arg("compile").arg(&net).args(["--arch", "spinnaker", "-q", "-o"]).arg(&img));
    for (signal, status) in [("INT", 130), ("TERM", 143)] {
        let child = nerve()
            .current_dir(dir.path())
            .args(["run", "small.img", "--steps", "4000000000", "--record", "s.csv", "--report", "r.json", "--max-memory", "1K", "-q"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Signalled once its handler is in place (the status file's mask of
        // caught signals has SIGINT's bit), not after a guessed sleep.
        let caught = || -> bool {
            let s = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap_or_default();
            s.lines().find_map(|l| l.strip_prefix("SigCgt:")).and_then(|m| u64::from_str_radix(m.trim(), 16).ok()).is_some_and(|m| m & 2 != 0)
        };
        let t0 = std::time::Instant::now();
        while !caught() {
            assert!(t0.elapsed().as_secs() < 60, "no handler in a minute");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
        let st = Command::new("kill").args([&format!("-{signal}"), &child.id().to_string()]).status().unwrap();
        assert!(st.success());
        let out = child.wait_with_output().unwrap();
        let e = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(status), "SIG{signal}: {e}");
        assert!(e.contains("interrupted"), "SIG{signal}: {e}");
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|f| f.unwrap().file_name()).collect();
        assert_eq!(left, vec![std::ffi::OsString::from("small.img")], "SIG{signal}: only the image is left");
    }
    // With standard error a pipe no one reads (`nerve run … 2>&1 | head` whose head
    // is gone): the handler's message panicked on EPIPE, and SIGTERM then went
    // unanswered for the rest of the run.
    let mut child = nerve()
        .current_dir(dir.path())
        .args(["run", "small.img", "--steps", "4000000000", "--record", "s.csv", "--max-memory", "1K", "-q"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    let pid = child.id();
    let caught = |pid: u32| -> bool {
        let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        s.lines().find_map(|l| l.strip_prefix("SigCgt:")).and_then(|m| u64::from_str_radix(m.trim(), 16).ok()).is_some_and(|m| m & 2 != 0)
    };
    let t0 = std::time::Instant::now();
    while !caught(pid) {
        assert!(t0.elapsed().as_secs() < 60, "no handler in a minute");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap().success());
    let t0 = std::time::Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if t0.elapsed().as_secs() >= 20 {
            let _ = child.kill();
            panic!("SIGTERM with standard error closed: still running after 20 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(143));
    assert!(!dir.path().join("s.csv").exists(), "the unfinished recording is removed");
    // A note to a closed standard error (inputs past the run's end) panicked (exit 101)
    // before the recording was written.
    std::fs::write(dir.path().join("in.json"), r#"{"name": "i", "dt_ms": 1.0, "populations": [{"name": "in", "size": 1, "model": "input"}, {"name": "n", "size": 1, "model": "lif"}], "projections": [{"pre": "in", "post": "n", "connector": {"type": "one_to_one"}, "weight": 1.0}]}"#).unwrap();
    std::fs::write(dir.path().join("late.csv"), "population,neuron,time\nin,0,1.0\nin,0,500.0\n").unwrap();
    let mut child = nerve()
        .current_dir(dir.path())
        .args(["run", "in.json", "--arch", "spinnaker", "--steps", "100", "--input", "late.csv", "--record-all", "--record", "late_out.csv"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    assert_eq!(child.wait().unwrap().code(), Some(0));
    assert!(std::fs::read_to_string(dir.path().join("late_out.csv")).unwrap().starts_with("population,neuron,time"));
    // Under nohup, SIGHUP (a closed terminal) leaves the run going.
    let mut child = Command::new("nohup")
        .arg(env!("CARGO_BIN_EXE_nerve"))
        .current_dir(dir.path())
        .args(["run", "small.img", "--steps", "4000000000", "-q"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let caught = |pid: u32| -> bool {
        let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        s.lines().find_map(|l| l.strip_prefix("SigCgt:")).and_then(|m| u64::from_str_radix(m.trim(), 16).ok()).is_some_and(|m| m & 2 != 0)
    };
    let t0 = std::time::Instant::now();
    while !caught(child.id()) {
        assert!(t0.elapsed().as_secs() < 60, "no handler in a minute under nohup");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let pid = child.id().to_string();
    let kill = |sig: &str| assert!(Command::new("kill").args([sig, &pid]).status().unwrap().success());
    kill("-HUP");
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(child.try_wait().unwrap().is_none(), "SIGHUP under nohup ended the run");
    kill("-TERM");
    assert_eq!(child.wait().unwrap().code(), Some(143));
}

/// `--save-network` needs a JSON network, told by its content as every
/// input's kind is: one named without .json is saved (it was refused as not
/// the network), an image still refused.
#[test]
fn save_network_takes_a_json_network_whatever_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let net = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/small.json");
    std::fs::copy(&net, dir.path().join("noext")).unwrap();
    run_ok(nerve().current_dir(dir.path()).args(["run", "noext", "--arch", "spinnaker", "--steps", "10", "-q", "--save-network", "s.json"]));
    assert!(std::fs::read_to_string(dir.path().join("s.json")).unwrap().contains("\"populations\""));
    run_ok(nerve().current_dir(dir.path()).args(["compile", "noext", "--arch", "spinnaker", "-q", "-o", "n.img"]));
    let out = nerve().current_dir(dir.path()).args(["run", "n.img", "--steps", "10", "-q", "--save-network", "t.json"]).output().unwrap();
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.code() == Some(2) && e.contains("--save-network rewrites a JSON network"), "{e}");
}

/// `--save-network` keeps a spike array's spikes that `--input` gave it and
/// the run did not reach (they were dropped: the array kept only its own),
/// shifted as its own are; and the network's own JSON spikes read from a pipe
/// (`--input -`) are told JSON by their `{`.
#[test]
fn save_network_keeps_input_spikes_given_to_a_spike_array() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a.json"),
        r#"{"name": "a", "dt_ms": 1.0, "populations": [
            {"name": "arr", "size": 2, "model": "spike_source_array", "spike_times": [[150.0], []]},
            {"name": "n", "size": 2, "model": "lif"}],
            "projections": [{"pre": "arr", "post": "n", "connector": {"type": "one_to_one"}, "weight": 0.1}]}"#,
    )
    .unwrap();
    let json_in = r#"{"spikes": [{"population": "arr", "neuron": 1, "time": 120.0}, {"population": "arr", "neuron": 0, "time": 30.0}]}"#;
    let mut child = nerve()
        .current_dir(dir.path())
        .args(["run", "a.json", "--arch", "spinnaker", "--steps", "100", "--input", "-", "--save-network", "c.json", "-q"])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child.stdin.take().unwrap().write_all(json_in.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let saved: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("c.json")).unwrap()).unwrap();
    assert_eq!(saved["populations"][0]["spike_times"], serde_json::json!([[50.0], [20.0]]));
}

/// Processes writing one output at once (a command started by `mpirun -np
/// 5`) each write their own temporary file: a shared `.NAME.nerve-tmp`
/// was renamed away by another process, and 2 to 4 of 4 such compiles
/// failed with "cannot write … No such file or directory".
#[test]
fn processes_writing_one_output_at_once_do_not_take_each_others_files() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for _ in 0..3 {
        let children: Vec<_> = (0..5)
            .map(|_| {
                nerve()
                    .current_dir(d)
                    .args(["compile", root.join("examples/small.json").to_str().unwrap(), "--arch", "spinnaker", "-o", "c.img", "--report", "c.json", "-q"])
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for c in children {
            let out = c.wait_with_output().unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        }
        run_ok(nerve().current_dir(d).args(["inspect", "c.img"]));
        let left: Vec<_> =
            std::fs::read_dir(d).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).filter(|n| n.ends_with(".nerve-tmp")).collect();
        assert!(left.is_empty(), "{left:?}");
    }
}
