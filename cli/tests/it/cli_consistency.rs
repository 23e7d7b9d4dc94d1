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
