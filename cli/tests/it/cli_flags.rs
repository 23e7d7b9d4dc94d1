//! Every flag of the README's command table is exercised: the table is read
//! from README.md, and each (command, flag) it lists must have a row here
//! that runs it and checks what it does (a documented flag without a row
//! fails, so does a row whose flag the README no longer lists).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};

fn nerve(dir: &Path, args: &str) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_nerve")).current_dir(dir).args(args.split_whitespace()).output().unwrap();
    assert!(out.status.success(), "nerve {args}: {}", String::from_utf8_lossy(&out.stderr));
    out
}

fn text(dir: &Path, f: &str) -> String {
    std::fs::read_to_string(dir.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"))
}

fn bytes(dir: &Path, f: &str) -> Vec<u8> {
    std::fs::read(dir.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"))
}

fn json(dir: &Path, f: &str) -> serde_json::Value {
    serde_json::from_str(&text(dir, f)).unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

/// The README's (command, flag) pairs: `compile`, `run`, `export pynn`, …
fn readme_flags() -> BTreeSet<(String, String)> {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md")).unwrap();
    let mut out = BTreeSet::new();
    for line in readme.lines().filter(|l| l.starts_with("| `nerve")) {
        // The first cell (a `\|` inside it is not a cell boundary).
        let cell = line[1..].replace("\\|", "/");
        let cell = cell.split('|').next().unwrap();
        let words: Vec<&str> = cell.trim().trim_matches('`').split_whitespace().collect();
        let cmd = if words[1] == "export" { format!("export {}", words[2]) } else { words[1].to_string() };
        for w in &words[2..] {
            let f = w.trim_matches(|c: char| c == '[' || c == ']' || c == '`');
            if (f.starts_with("--") && f.len() > 2 && f[2..].chars().all(|c| c.is_ascii_lowercase() || c == '-')) || f == "-o" {
                out.insert((cmd.clone(), f.to_string()));
            }
        }
    }
    out
}

fn setup(dir: &Path) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(root.join("../examples/small.json"), dir.join("small.json")).unwrap();
    std::fs::copy(root.join("tests/data/loihi_small.json"), dir.join("loihi_small.json")).unwrap();
    std::fs::copy(root.join("tests/data/loihi_stdp.json"), dir.join("stdp.json")).unwrap();
    std::fs::copy(root.join("../compiler/tests/data/nir/ff_lif_20_16_4.nir"), dir.join("ff.nir")).unwrap();
    std::fs::copy(root.join("../examples/kernels/if.s"), dir.join("if.s")).unwrap();
    std::fs::write(
        dir.join("ni.json"),
        r#"{"name":"ni","dt_ms":1.0,"populations":[{"name":"src","size":3,"model":"input"},{"name":"n","size":3,"model":"lif","record":["spikes"]}],
        "projections":[{"pre":"src","post":"n","weight":5.0,"connector":{"type":"one_to_one"}}]}"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("li.json"),
        r#"{"name":"li","dt_ms":1.0,"populations":[{"name":"src","size":3,"model":"input"},{"name":"n","size":3,"model":"loihi_lif","params":{"du":4095,"dv":0,"vth":10},"record":["spikes"]}],
        "projections":[{"pre":"src","post":"n","weight":100,"connector":{"type":"one_to_one"}}]}"#,
    )
    .unwrap();
    std::fs::write(dir.join("in.csv"), "population,neuron,time\nsrc,0,2\nsrc,2,5\n").unwrap();
    nerve(dir, "compile small.json --arch spinnaker -o small.img -q");
    nerve(dir, "run small.img --steps 300 --report run.json -q");
}

type Check = fn(&Path);

const ROWS: &[(&str, &str, Check)] = &[
    ("compile", "--arch", |d| {
        nerve(d, "compile small.json --arch loihi -o a.img -q");
        assert_ne!(bytes(d, "a.img"), bytes(d, "small.img"), "another profile, another image");
    }),
    ("compile", "-o", |d| {
        nerve(d, "compile small.json --arch spinnaker -o elsewhere.img -q");
        assert_eq!(bytes(d, "elsewhere.img"), bytes(d, "small.img"));
    }),
    ("compile", "--report", |d| {
        nerve(d, "compile small.json --arch spinnaker -o r.img --report map.json -q");
        assert!(json(d, "map.json").is_object());
    }),
    ("compile", "--json", |d| {
        let o = nerve(d, "compile small.json --arch spinnaker -o j.img --json --report mj.json");
        let printed: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(printed["cores_used"], json(d, "mj.json")["cores_used"]);
        assert!(printed["routing"].is_object());
    }),
    ("compile", "--quiet", |d| {
        let o = nerve(d, "compile small.json --arch spinnaker -o q.img --quiet");
        assert!(o.stdout.is_empty() && o.stderr.is_empty());
        assert_eq!(bytes(d, "q.img"), bytes(d, "small.img"));
        // Warnings about the image are kept, by `nerve run` of the network too.
        let fine = r#"{"name": "fine", "dt_ms": 1e-4, "populations": [
          {"name": "src", "size": 1, "model": "spike_source_array", "spike_times": [[0.5]]},
          {"name": "p", "size": 1, "model": "spike_source_poisson", "params": {"rate": 0.01}},
          {"name": "n", "size": 1, "model": "lif"}],
          "projections": [{"pre": "src", "post": "n", "weight": 1.5, "connector": {"type": "one_to_one"}}]}"#;
        std::fs::write(d.join("fine.json"), fine).unwrap();
        for cmd in ["compile fine.json --arch spinnaker -o fine.img --quiet", "run fine.json --arch spinnaker --steps 1 --quiet"] {
            let e = String::from_utf8_lossy(&nerve(d, cmd).stderr).to_string();
            assert!(
                e.contains("warning: population `p` (spike_source_poisson): a rate of 0.01 Hz at dt 0.0001 ms") && e.contains("warning: population `n` (lif)"),
                "{cmd}: {e}"
            );
        }
    }),
    ("compile", "--placement", |d| {
        nerve(d, "compile small.json --arch spinnaker -o p.img --placement spread -q");
        assert_ne!(bytes(d, "p.img"), bytes(d, "small.img"), "spread places otherwise");
    }),
    ("compile", "--neurons-per-core", |d| {
        nerve(d, "compile small.json --arch spinnaker -o n.img --neurons-per-core 64 -q");
        let cores = |img: &str| -> usize {
            let v: serde_json::Value = serde_json::from_str(&stdout(&nerve(d, &format!("inspect {img} --json")))).unwrap();
            v["cores"].as_array().expect("inspect lists cores").len()
        };
        assert!(cores("n.img") > cores("small.img"), "64 neurons per core take more cores");
        // Past the profile's 256: the profile's limit, and a note that says so.
        let o = nerve(d, "compile small.json --arch spinnaker -o big.img --neurons-per-core 2000");
        assert!(String::from_utf8_lossy(&o.stderr).contains("note: --neurons-per-core 2000 is past `spinnaker`'s 256 neurons per core"));
        assert_eq!(bytes(d, "big.img"), bytes(d, "small.img"), "256 per core, as by default");
    }),
    ("compile", "--shared-routes", |d| {
        // small.json at 10 neurons per core: exc → exc leaves ~13% of its slice pairs unconnected.
        nerve(d, "compile small.json --arch spinnaker -o sh.img --neurons-per-core 10 --report sh.json -q");
        nerve(d, "compile small.json --arch spinnaker -o ex.img --neurons-per-core 10 --shared-routes 0 --report ex.json -q");
        let (sh, ex) = (json(d, "sh.json"), json(d, "ex.json"));
        assert_eq!(sh["routing"]["sharing"]["max_extra"], 1.0);
        assert_eq!(ex["routing"]["sharing"]["pairs_shared"], 0);
        assert!(sh["routing"]["sharing"]["pairs_shared"].as_u64().unwrap() > 0);
        let entries = |v: &serde_json::Value| v["routing"]["entries_compressed"].as_u64().unwrap();
        assert!(entries(&sh) < entries(&ex), "shared {} against exact {}", entries(&sh), entries(&ex));
        // The same spikes; more packets reach cores with no row for them.
        nerve(d, "run sh.img --steps 300 --record sh.csv --report shr.json -q");
        nerve(d, "run ex.img --steps 300 --record ex.csv --report exr.json -q");
        assert_eq!(text(d, "sh.csv"), text(d, "ex.csv"));
        let no_row = |f: &str| json(d, f)["counts"]["packets_no_row"].as_u64().unwrap();
        assert!(no_row("shr.json") > no_row("exr.json"));
        for bad in ["-1", "nan", "inf", "x"] {
            let out = Command::new(env!("CARGO_BIN_EXE_nerve"))
                .current_dir(d)
                .args(["compile", "small.json", "--arch", "spinnaker", "--shared-routes", bad])
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(!out.status.success() && err.contains("--shared-routes"), "{bad}: {err}");
        }
    }),
    ("compile", "--seed", |d| {
        // 10 neurons per core spread over every tile: refinement has room to move, and the seed steers it.
        let c = |seed: u64, out: &str| {
            nerve(d, &format!("compile small.json --arch spinnaker --neurons-per-core 10 --placement spread --seed {seed} -o {out}.img --report {out}.json -q"))
        };
        c(0, "sd0");
        c(3, "sd3");
        c(3, "sd3b");
        assert_eq!(bytes(d, "sd3.img"), bytes(d, "sd3b.img"), "the same seed, the same image");
        assert!(json(d, "sd3.json")["placement"].as_str().unwrap().contains("seed 3"));
        // Another seed, other moves (a refinement that ends worse keeps its start, so the costs may agree).
        assert_ne!(json(d, "sd0.json")["placement_refinement"]["weighed"], json(d, "sd3.json")["placement_refinement"]["weighed"], "another seed, other moves");
        // Placement moves cores, never changes the spikes.
        nerve(d, "run sd0.img --steps 100 --record sd0.csv -q");
        nerve(d, "run sd3.img --steps 100 --record sd3.csv -q");
        assert_eq!(text(d, "sd0.csv"), text(d, "sd3.csv"));
    }),
    ("compile", "--effort", |d| {
        // Spread keeps a slice per tile: on spinnaker's 288 chips the 55 dealt in curve order are
        // already about as close as they get, on loihi's 4-core tiles more moves still find better.
        let cost = |effort: u32| {
            nerve(d, &format!("compile small.json --arch loihi --neurons-per-core 10 --placement spread --effort {effort} -o ef.img --report ef.json -q"));
            let v = json(d, "ef.json");
            (v["placement_cost_initial"].as_f64().unwrap(), v["placement_cost_final"].as_f64().unwrap())
        };
        let (off, some, more) = (cost(0), cost(60), cost(200));
        assert_eq!(off.0, off.1, "--effort 0: no refinement");
        assert!(some.1 < some.0 && more.1 < some.1, "more moves, a cheaper placement: {some:?} {more:?}");
        // The report states the moves made, not the effort asked for: past the cap
        // (moves × mean degree ≤ 1e7) more effort changes nothing, and the report says so.
        let report = |effort: u32| {
            nerve(d, &format!("compile small.json --arch spinnaker --neurons-per-core 10 --placement spread --effort {effort} -o ef{effort}.img --report ef{effort}.json -q"));
            json(d, &format!("ef{effort}.json"))
        };
        let r60 = report(60);
        let slices = r60["placement_refinement"]["slices"].as_u64().unwrap();
        assert_eq!(r60["placement_refinement"]["tried"].as_u64().unwrap(), 60 * slices, "{r60}");
        assert!(r60["placement"].as_str().unwrap().contains(&format!("{} moves (60 per slice, seed 0)", 60 * slices)), "{r60}");
        let (big, bigger) = (report(100_000), report(1_000_000));
        assert_eq!(bytes(d, "ef100000.img"), bytes(d, "ef1000000.img"), "both capped: the same moves");
        for (effort, r) in [(100_000u64, &big), (1_000_000, &bigger)] {
            let f = &r["placement_refinement"];
            let tried = f["tried"].as_u64().unwrap();
            assert_eq!(f["requested"].as_u64().unwrap(), effort * slices);
            assert_eq!(f["cap"].as_u64(), Some(tried), "{r}");
            assert!(tried < effort * slices && tried as f64 * f["mean_degree"].as_f64().unwrap() <= 1e7, "{r}");
            let p = r["placement"].as_str().unwrap();
            assert!(p.contains(&format!("refined: {tried} moves")) && p.contains(&format!("{effort} per slice asked for, capped")), "{p}");
        }
    }),
    ("compile", "--dt", |d| {
        nerve(d, "compile ff.nir --arch loihi -o dt1.img --dt 0.001 -q");
        nerve(d, "compile ff.nir --arch loihi -o dt2.img --dt 0.0001 -q");
        assert_ne!(bytes(d, "dt1.img"), bytes(d, "dt2.img"));
    }),
    ("compile", "--reset", |d| {
        nerve(d, "compile ff.nir --arch loihi -o r1.img --reset zero -q");
        nerve(d, "compile ff.nir --arch loihi -o r2.img --reset subtract -q");
        assert_ne!(bytes(d, "r1.img"), bytes(d, "r2.img"));
    }),
    ("compile", "--source", |d| {
        nerve(d, "compile ff.nir --arch loihi -o s1.img --source generic -q");
        nerve(d, "compile ff.nir --arch loihi -o s2.img --source snntorch -q");
        assert_ne!(bytes(d, "s1.img"), bytes(d, "s2.img"), "snnTorch's conventions differ from the generic ones");
    }),
    ("export pynn", "--arch", |d| {
        nerve(d, "export pynn small.json --arch spinnaker -o p1.py");
        assert!(text(d, "p1.py").contains("`spinnaker`"));
    }),
    ("export pynn", "-o", |d| {
        nerve(d, "export pynn small.json --arch spinnaker -o sub_named.py");
        assert!(text(d, "sub_named.py").contains("import pyNN.spiNNaker as sim"));
    }),
    ("export pynn", "--backend", |d| {
        nerve(d, "export pynn small.json --arch spinnaker --backend nest -o p2.py");
        assert!(text(d, "p2.py").contains("import pyNN.nest as sim"));
    }),
    ("export pynn", "--duration", |d| {
        nerve(d, "export pynn small.json --arch spinnaker --duration 250 -o p3.py");
        assert!(text(d, "p3.py").contains("DURATION = 250"));
    }),
    ("export pynn", "--input", |d| {
        nerve(d, "export pynn ni.json --arch spinnaker --input in.csv -o p4.py");
        assert!(text(d, "p4.py").contains("[2.0], [], [5.0]"), "{}", text(d, "p4.py"));
    }),
    ("export pynn", "--poisson", |d| {
        nerve(d, "export pynn small.json --arch spinnaker --poisson native -o p5.py");
        assert!(text(d, "p5.py").contains("SpikeSourcePoisson"));
    }),
    ("export pynn", "--weights", |d| {
        nerve(d, "export pynn small.json --arch spinnaker --weights original -o p6.py");
        assert!(text(d, "p6.py").contains("0.0162"));
    }),
    ("export lava", "--arch", |d| {
        nerve(d, "export lava loihi_small.json --arch loihi -o l1.py");
        assert!(text(d, "l1.py").contains("Loihi2SimCfg"));
    }),
    ("export lava", "-o", |d| {
        nerve(d, "export lava loihi_small.json --arch loihi -o l2.py");
        assert!(d.join("l2.py").exists());
    }),
    ("export lava", "--steps", |d| {
        nerve(d, "export lava loihi_small.json --arch loihi --steps 37 -o l3.py");
        assert!(text(d, "l3.py").contains("STEPS = 37"));
    }),
    ("export lava", "--input", |d| {
        nerve(d, "export lava li.json --arch loihi --input in.csv --steps 10 -o l4.py");
        assert!(text(d, "l4.py").contains("(0, 3), (2, 6)"), "{}", text(d, "l4.py"));
    }),
    ("export spinnaker-tables", "-o", |d| {
        nerve(d, "export spinnaker-tables small.img -o t.json");
        assert!(json(d, "t.json").is_array() || json(d, "t.json").is_object());
    }),
    ("export spinnaker-tables", "--binary", |d| {
        let o = nerve(d, "export spinnaker-tables small.img -o t2.json --binary t2.bin");
        assert!(!bytes(d, "t2.bin").is_empty());
        assert!(String::from_utf8_lossy(&o.stderr).contains("wrote t2.json and t2.bin ("), "the note names both files");
    }),
    ("export spinnaker-tables", "--uncompressed", |d| {
        nerve(d, "export spinnaker-tables small.img -o t3.json");
        nerve(d, "export spinnaker-tables small.img -o t4.json --uncompressed");
        assert_ne!(text(d, "t3.json"), text(d, "t4.json"));
    }),
    ("export nir", "--arch", |d| {
        nerve(d, "export nir ff.nir --arch loihi -o n1.nir");
        assert!(bytes(d, "n1.nir").starts_with(b"\x89HDF"));
    }),
    ("export nir", "--dt", |d| {
        nerve(d, "export nir ff.nir --arch spinnaker -o nd.nir --dt 0.0005");
        let g = nerve_compiler::front::nir::read::read_nir(&d.join("nd.nir")).unwrap();
        assert!(g.metadata.iter().any(|(k, v)| k == "sample_dt" && *v == 0.0005), "{:?}", g.metadata);
    }),
    ("export nir", "--source", |d| {
        // ff.nir states its dt (sample_dt): --source changes the reset it is read with.
        nerve(d, "export nir ff.nir --arch spinnaker -o ns1.nir --source generic");
        nerve(d, "export nir ff.nir --arch spinnaker -o ns2.nir --source snntorch");
        let reset =
            |f: &str| nerve_compiler::front::nir::read::read_nir(&d.join(f)).unwrap().metadata.iter().find(|(k, _)| k == "reset_subtract").map(|(_, v)| *v);
        assert_eq!((reset("ns1.nir"), reset("ns2.nir")), (Some(0.0), Some(1.0)));
    }),
    ("export nir", "-o", |d| {
        nerve(d, "export nir ff.nir --arch spinnaker -o n2.nir");
        assert!(d.join("n2.nir").exists());
    }),
    ("export --list", "--list", |d| {
        let s = stdout(&nerve(d, "export --list"));
        assert!(s.contains("pynn") && s.contains("lava") && s.contains("spinnaker-tables") && s.contains("learning:"));
    }),
    ("run", "--steps", |d| {
        nerve(d, "run small.img --steps 17 --report s.json -q");
        assert_eq!(json(d, "s.json")["steps"], 17);
    }),
    ("run", "--engine", |d| {
        nerve(d, "run small.img --steps 300 --engine interp --record e1.csv --report e1.json -q");
        assert_eq!(json(d, "e1.json")["engine"], "interp");
        assert!(text(d, "e1.csv").lines().count() > 10);
        // `jit` names the backend it chose; every backend the host has gives the interpreter's spikes.
        let avx512 = nerve_emulator::kernel::avx512::available();
        let avx2 = nerve_emulator::kernel::avx2::available();
        nerve(d, "run small.img --steps 300 --engine jit --record e2.csv --report e2.json -q");
        assert_eq!(
            json(d, "e2.json")["engine"],
            if avx512 {
                "jit-avx512"
            } else if avx2 {
                "jit-avx2"
            } else {
                "jit-cranelift"
            }
        );
        assert_eq!(text(d, "e1.csv"), text(d, "e2.csv"));
        nerve(d, "run small.img --steps 300 --engine jit-cranelift --record e3.csv --report e3.json -q");
        assert_eq!(json(d, "e3.json")["engine"], "jit-cranelift");
        assert_eq!(text(d, "e1.csv"), text(d, "e3.csv"));
        let out = Command::new(env!("CARGO_BIN_EXE_nerve"))
            .current_dir(d)
            .args("run small.img --steps 300 --engine jit-avx512 --record e4.csv --report e4.json -q".split(' '))
            .output()
            .unwrap();
        if avx512 {
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            assert_eq!(json(d, "e4.json")["engine"], "jit-avx512");
            assert_eq!(text(d, "e1.csv"), text(d, "e4.csv"));
        } else {
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(!out.status.success() && err.contains("AVX-512"), "{err}");
        }
        let out = Command::new(env!("CARGO_BIN_EXE_nerve"))
            .current_dir(d)
            .args("run small.img --steps 300 --engine jit-avx2 --record e5.csv --report e5.json -q".split(' '))
            .output()
            .unwrap();
        if avx2 {
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            assert_eq!(json(d, "e5.json")["engine"], "jit-avx2");
            assert_eq!(text(d, "e1.csv"), text(d, "e5.csv"));
        } else {
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(!out.status.success() && err.contains("AVX2"), "{err}");
        }
    }),
    ("run", "--threads", |d| {
        nerve(d, "run small.img --steps 300 --threads 2 --record t1.csv --report t1.json -q");
        nerve(d, "run small.img --steps 300 --threads 1 --record t2.csv -q");
        assert_eq!(text(d, "t1.csv"), text(d, "t2.csv"));
        assert_eq!(json(d, "t1.json")["threads"], 2);
        // More threads than the image's cores: one per core ran, and the report says so.
        let cores = json(d, "run.json")["cores_used"].as_u64().unwrap();
        nerve(d, &format!("run small.img --steps 30 --threads {} --report t3.json -q", cores + 50));
        assert_eq!(json(d, "t3.json")["threads"], cores);
    }),
    ("run", "--pin", |d| {
        // Pinned or not, the same spikes; the report lists the CPUs used.
        nerve(d, "run small.img --steps 300 --threads 2 --pin on --record p1.csv --report p1.json -q");
        nerve(d, "run small.img --steps 300 --threads 2 --pin off --record p2.csv --report p2.json -q");
        assert_eq!(text(d, "p1.csv"), text(d, "p2.csv"));
        assert!(json(d, "p2.json")["host"].get("pinned").is_none());
        let cpus = nerve_emulator::engine::pin::allowed();
        match cpus {
            // Linux: thread t on the t-th allowed CPU (cycling).
            Some(c) => {
                let want: Vec<usize> = (0..2).map(|t| c[t % c.len()]).collect();
                assert_eq!(json(d, "p1.json")["host"]["pinned"], serde_json::json!(want));
            }
            None => assert!(json(d, "p1.json")["host"].get("pinned").is_none()),
        }
        // Auto pins only when the threads take every allowed CPU.
        nerve(d, "run small.img --steps 300 --threads 1 --pin auto --report p3.json -q");
        assert!(json(d, "p3.json")["host"].get("pinned").is_none());
    }),
    ("run", "--input", |d| {
        nerve(d, "run ni.json --arch spinnaker --steps 20 --input in.csv --record-all --record i.csv -q");
        let t = text(d, "i.csv");
        assert!(t.contains("src,0,2") && t.contains("src,2,5"), "{t}");
    }),
    ("run", "--record", |d| {
        nerve(d, "run small.img --steps 100 --record rec.npy -q");
        assert!(bytes(d, "rec.npy").starts_with(b"\x93NUMPY"));
    }),
    ("run", "--format", |d| {
        // Whatever the file's name: CSV, JSON and NPY, the same spikes.
        for f in ["csv", "json", "npy"] {
            nerve(d, &format!("run small.img --steps 100 --record fmt_{f}.out --format {f} -q"));
        }
        let n = text(d, "fmt_csv.out").lines().count() - 1;
        assert!(n > 10 && text(d, "fmt_csv.out").starts_with("population,neuron,time\n"));
        let v: serde_json::Value = serde_json::from_str(&text(d, "fmt_json.out")).unwrap();
        assert_eq!(v["spikes"].as_array().unwrap().len(), n);
        let npy = bytes(d, "fmt_npy.out");
        assert!(npy.starts_with(b"\x93NUMPY"));
        let header = 10 + u16::from_le_bytes([npy[8], npy[9]]) as usize;
        assert_eq!(npy.len() - header, 16 * n, "16-byte records (population, neuron, time)");
        // The times the CSV prints, as numbers (they were step × dt: 0.30000000000000004
        // for the CSV's 0.3 at dt 0.1 ms); streamed too.
        nerve(d, "run small.img --steps 100 --record fmt_s.npy --max-memory 1K -q");
        let csv_times: Vec<f64> = text(d, "fmt_csv.out").lines().skip(1).map(|l| l.rsplit(',').next().unwrap().parse().unwrap()).collect();
        for f in ["fmt_npy.out", "fmt_s.npy"] {
            let npy = bytes(d, f);
            let header = 10 + u16::from_le_bytes([npy[8], npy[9]]) as usize;
            let times: Vec<f64> = npy[header..].chunks(16).map(|r| f64::from_le_bytes(r[8..].try_into().unwrap())).collect();
            assert!(times == csv_times, "{f}: the CSV's times");
        }
        assert!(csv_times.iter().any(|&t| t == 0.3 || t == 0.7), "times a step × dt product misses");
    }),
    ("run", "--probe", |d| {
        nerve(d, "run small.img --steps 20 --probe exc:v --probe-out pr.csv -q");
        assert_eq!(text(d, "pr.csv").lines().count(), 1 + 20 * 400);
    }),
    ("run", "--max-memory", |d| {
        // Over budget: the same files, written as the run goes.
        nerve(d, "run small.img --steps 300 --record mm1.csv --probe exc:v --probe-out mp1.csv -q");
        let o = nerve(d, "run small.img --steps 300 --record mm2.csv --probe exc:v --probe-out mp2.csv --max-memory 64K --threads 2");
        let e = String::from_utf8_lossy(&o.stderr).into_owned();
        assert!(e.contains("could exceed --max-memory 64.0 KiB") && e.contains("steps at a time"), "{e}");
        // The same budget in bytes with an exponent, and as KiB (1e3 was "unknown unit `e3`").
        for budget in ["6.5536e4", "64KiB", "64kb"] {
            let o = nerve(d, &format!("run small.img --steps 300 --record mm4.csv --max-memory {budget} --threads 2"));
            let e = String::from_utf8_lossy(&o.stderr).into_owned();
            assert!(e.contains("could exceed --max-memory 64.0 KiB"), "{budget}: {e}");
        }
        assert_eq!(bytes(d, "mm1.csv"), bytes(d, "mm2.csv"));
        assert_eq!(bytes(d, "mp1.csv"), bytes(d, "mp2.csv"));
        assert!(text(d, "mm1.csv").lines().count() > 100);
        // Within budget: in memory, no note.
        let o = nerve(d, "run small.img --steps 30 --record mm3.csv --max-memory 1G");
        assert!(!String::from_utf8_lossy(&o.stderr).contains("max-memory"));
        // Over budget with no file to write (the network's own recorded populations): no
        // note of files written as the run went (there were none).
        let o = nerve(d, "run small.img --steps 300 --max-memory 64K");
        assert!(!String::from_utf8_lossy(&o.stderr).contains("written to their files"), "{}", String::from_utf8_lossy(&o.stderr));
    }),
    ("run", "--json", |d| {
        let o = nerve(d, "run small.img --steps 300 --json --report rj.json");
        let printed: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(printed["counts"], json(d, "rj.json")["counts"]);
        assert!(printed["energy"]["total_j"].as_f64().unwrap() > 0.0);
    }),
    ("run", "--quiet", |d| {
        let o = nerve(d, "run small.img --steps 30 --record rq.csv --quiet");
        assert!(o.stdout.is_empty() && o.stderr.is_empty());
        assert!(text(d, "rq.csv").starts_with("population,neuron,time"));
    }),
    ("run", "--report", |d| {
        nerve(d, "run small.img --steps 20 --report rr.json -q");
        assert!(json(d, "rr.json")["energy"]["total_j"].as_f64().unwrap() > 0.0);
    }),
    ("run", "--messages", |d| {
        nerve(d, "run small.img --steps 300 --messages per-destination --report m.json -q");
        assert_ne!(json(d, "m.json")["counts"], json(d, "run.json")["counts"], "per-destination messages count otherwise");
        // The text report says the choice (only the JSON had).
        let t = stdout(&nerve(d, "report m.json"));
        assert!(t.contains("per-destination messages;"), "{t}");
    }),
    ("run", "--overlap", |d| {
        // spinnaker's profile adds send and receive times; overlapped, steps are shorter.
        nerve(d, "run small.img --steps 300 --overlap on --report o.json -q");
        assert!(json(d, "o.json")["timing"]["emulated_ns"].as_f64() < json(d, "run.json")["timing"]["emulated_ns"].as_f64());
        let t = stdout(&nerve(d, "report o.json"));
        assert!(t.contains("send and receive overlap;"), "{t}");
        let t = stdout(&nerve(d, "report run.json"));
        assert!(t.contains("multicast messages; a core's send and receive add up; static power counted"), "{t}");
        // A summary without `model` (optional) does not say: it said " messages; … static power left out".
        let mut j = json(d, "run.json");
        j.as_object_mut().unwrap().remove("model");
        std::fs::write(d.join("nomodel.json"), j.to_string()).unwrap();
        let t = stdout(&nerve(d, "report nomodel.json"));
        assert!(t.contains("cost model") && t.contains("not recorded in this summary"), "{t}");
    }),
    ("run", "--static-power", |d| {
        nerve(d, "run small.img --steps 300 --static-power off --report sp.json -q");
        assert!(json(d, "sp.json")["energy"]["total_j"].as_f64() < json(d, "run.json")["energy"]["total_j"].as_f64());
        let t = stdout(&nerve(d, "report sp.json"));
        assert!(t.contains("static power left out"), "{t}");
    }),
    ("run", "--arch", |d| {
        nerve(d, "run small.json --arch spinnaker --steps 300 --report ra.json -q");
        assert_eq!(json(d, "ra.json")["counts"], json(d, "run.json")["counts"], "compiled in memory: the same run");
    }),
    ("run", "--save-image", |d| {
        nerve(d, "run small.json --arch spinnaker --steps 5 --save-image si.img -q");
        assert_eq!(bytes(d, "si.img"), bytes(d, "small.img"));
    }),
    ("run", "--compile-report", |d| {
        nerve(d, "run small.json --arch spinnaker --steps 5 --compile-report cr.json -q");
        assert!(json(d, "cr.json").is_object());
    }),
    ("run", "--save-weights", |d| {
        nerve(d, "run stdp.json --arch loihi --steps 60 --save-weights w.csv -q");
        assert_eq!(text(d, "w.csv").lines().count(), 1 + 12);
        // A .json name would hold CSV: a usage error, before anything, nothing written.
        let o = Command::new(env!("CARGO_BIN_EXE_nerve"))
            .current_dir(d)
            .args(["run", "stdp.json", "--arch", "loihi", "--steps", "60", "--save-weights", "w.Json", "-q"])
            .output()
            .unwrap();
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(
            o.status.code() == Some(2)
                && e.contains("--save-weights w.Json: learned weights are written as CSV (or NPY for a .npy name), not JSON: name it .csv"),
            "{e}"
        );
        assert!(!d.join("w.Json").exists());
        // A learning projection without synapses: a file of no rows, said (it was refused as
        // "has no learning projections").
        let empty = r#"{"name": "e", "dt_ms": 1.0, "populations": [
            {"name": "pre", "size": 2, "model": "spike_source_array", "spike_times": [[1.0], [2.0]]},
            {"name": "post", "size": 2, "model": "lif"}],
            "projections": [{"pre": "pre", "post": "post", "label": "none", "weight": 0.5,
              "connector": {"type": "fixed_probability", "p": 0.0},
              "plasticity": {"type": "stdp", "timing_dependence": {"type": "spike_pair"}, "weight_dependence": {"type": "additive"}}}]}"#;
        std::fs::write(d.join("empty_stdp.json"), empty).unwrap();
        let o = nerve(d, "run empty_stdp.json --arch spinnaker --steps 5 --save-weights we.csv");
        assert_eq!(text(d, "we.csv"), "projection,pre,post,weight,delay\n");
        assert!(String::from_utf8_lossy(&o.stderr).contains("the learning projections of empty_stdp.json have no synapses"), "{o:?}");
    }),
    ("run", "--save-network", |d| {
        nerve(d, "run stdp.json --arch loihi --steps 30 --save-network sn.json -q");
        assert!(json(d, "sn.json")["projections"][0].get("plasticity").is_none());
    }),
    ("report", "--html", |d| {
        nerve(d, "report run.json --html r.html");
        assert!(text(d, "r.html").contains("<html"));
    }),
    ("report", "--plots", |d| {
        nerve(d, "report run.json --plots plots");
        assert!(std::fs::read_dir(d.join("plots")).unwrap().count() > 0);
    }),
    ("report", "--top", |d| {
        let cores = json(d, "run.json")["cores_used"].as_u64().unwrap();
        assert!(cores > 1);
        let rows = |t: &str| t.split("Busiest cores").nth(1).unwrap().split("\n\n").next().unwrap().lines().filter(|l| l.starts_with("│ ")).count();
        let one = stdout(&nerve(d, "report run.json --top 1"));
        assert!(one.contains(&format!("Busiest cores (top 1 of {cores})")), "{one}");
        assert_eq!(rows(&one), 1 + 1, "the header and one core");
        let all = stdout(&nerve(d, "report run.json"));
        assert_eq!(rows(&all), 1 + cores.min(10) as usize);
    }),
    ("report", "--quiet", |d| {
        let o = nerve(d, "report run.json --quiet --html rq.html");
        assert!(o.stdout.is_empty() && o.stderr.is_empty());
        assert!(text(d, "rq.html").contains("<html"));
    }),
    ("inspect", "--json", |d| {
        let v: serde_json::Value = serde_json::from_str(&stdout(&nerve(d, "inspect small.img --json"))).unwrap();
        assert!(v.is_object());
    }),
    ("inspect", "--all", |d| {
        nerve(d, "compile small.json --arch spinnaker --neurons-per-core 10 -o many.img -q");
        let some = stdout(&nerve(d, "inspect many.img"));
        let all = stdout(&nerve(d, "inspect many.img --all"));
        assert!(some.contains("more cores (--all shows them)") && !all.contains("--all shows"), "{some}");
        // Every one of its 55 cores listed.
        let v: serde_json::Value = serde_json::from_str(&stdout(&nerve(d, "inspect many.img --json"))).unwrap();
        let n = v["cores"].as_array().unwrap().len();
        assert_eq!(n, 55);
        let core_rows = |t: &str| {
            let table = t.split("\ncores\n").nth(1).unwrap().split("\n\n").next().unwrap();
            table.lines().filter(|l| l.trim_start_matches('│').trim_start().starts_with(|c: char| c.is_ascii_digit())).count()
        };
        assert_eq!((core_rows(&some), core_rows(&all)), (40, n), "{all}");
    }),
    ("disasm", "--core", |d| {
        let one = stdout(&nerve(d, "disasm small.img --core 0"));
        let all = stdout(&nerve(d, "disasm small.img"));
        assert!(one.starts_with("; core 0") && one.len() < all.len());
    }),
    ("asm", "-o", |d| {
        nerve(d, "asm if.s -o if.bin");
        assert_eq!(bytes(d, "if.bin").len() % 8, 0);
    }),
];

/// What `nerve run --report` writes at the edges (no steps, one inference
/// exactly) `nerve report` reads back: 0 steps with --inference-steps
/// wrote `"edp_js": null` (0 / 0), which the reader refused (a run shorter
/// than an inference is now refused before it starts).
#[test]
fn edge_case_run_summaries_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(root.join("../examples/small.json"), d.join("small.json")).unwrap();
    nerve(d, "compile small.json --arch spinnaker -o small.img -q");
    for (args, per_inference) in [("--steps 0", false), ("--steps 3 --inference-steps 3", true)] {
        nerve(d, &format!("run small.img {args} --report r.json -q"));
        let v = json(d, "r.json");
        assert!(v["energy"]["edp_js"].is_f64(), "{args}: {}", v["energy"]);
        assert_eq!(v["energy"]["per_inference_j"].is_f64(), per_inference, "{args}: {}", v["energy"]);
        let t = stdout(&nerve(d, "report r.json"));
        assert!(t.contains(if per_inference { "(per inference)" } else { "(whole run)" }), "{args}:\n{t}");
    }
    // `nerve run`'s own lines say what --inference-steps and --decision asked for.
    let t = stdout(&nerve(d, "run small.img --steps 300 --inference-steps 100 --decision inh"));
    assert!(t.contains("per inference (100 steps): energy ") && t.contains("energy-delay product "), "{t}");
    assert!(t.contains("decision latency (inh): ") && t.contains("(input at step 0, decision at step "), "{t}");
}

/// `--decision` measures from the first input spike to the decision
/// population's first spike whether or not either is recorded (small.json
/// records exc and inh, not its Poisson input `stim`), and the recording
/// holds what it would without it, in memory or streamed.
#[test]
fn the_decision_latency_needs_no_recording() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    setup(d);
    nerve(d, "run small.img --steps 300 --record plain.csv -q");
    let mut want = None;
    for (flags, tag) in [("--record-all", "all"), ("", "some"), ("--max-memory 1K", "streamed")] {
        nerve(d, &format!("run small.img --steps 300 --decision inh --record {tag}.csv --report {tag}.json {flags} -q"));
        let dec = json(d, &format!("{tag}.json"))["timing"]["decision"].clone();
        assert!(dec["first_input_step"].is_u64() && dec["decision_step"].is_u64() && dec["latency_ns"].is_f64(), "{tag}: {dec}");
        match &want {
            None => want = Some(dec),
            Some(w) => assert_eq!(&dec, w, "{tag}"),
        }
        if tag != "all" {
            assert_eq!(bytes(d, &format!("{tag}.csv")), bytes(d, "plain.csv"), "{tag}: the recording is as without --decision");
        }
    }
    assert!(text(d, "all.csv").contains("\nstim,"), "the input spikes when all is recorded");
    // The decision population unrecorded too (recording only exc).
    let mut net = json(d, "small.json");
    net["populations"][2].as_object_mut().unwrap().remove("record");
    std::fs::write(d.join("exc_only.json"), net.to_string()).unwrap();
    nerve(d, "run exc_only.json --arch spinnaker --steps 300 --decision inh --record e.csv --report e.json -q");
    assert_eq!(json(d, "e.json")["timing"]["decision"], want.unwrap());
    assert!(!text(d, "e.csv").contains("\ninh,"), "inh is not recorded");
}

/// A decision population listed before the input, spiking in the input's
/// step (and before it): the latency ends in that step whether or not the
/// decision population is recorded, in memory or streamed. Unrecorded, its
/// spike was judged before the input spike of the same step set the start,
/// and the decision fell on its next spike.
#[test]
fn the_decision_in_the_input_step_counts_whatever_the_population_order() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // `d` spikes at 3, 7, 11, ... ms on its own; the input once, at 11 ms.
    let net = r#"{"name": "dec", "dt_ms": 1.0, "populations": [
        {"name": "d", "size": 1, "model": "lif", "params": {"tau_m": 10.0, "i_offset": 5.0}},
        {"name": "inp", "size": 1, "model": "input"},
        {"name": "r", "size": 1, "model": "lif", "params": {"tau_m": 10.0}, "record": ["spikes"]}],
        "projections": [{"pre": "inp", "post": "r", "connector": {"type": "all_to_all"}, "weight": 0.1, "delay": 1.0}]}"#;
    std::fs::write(d.join("dec.json"), net).unwrap();
    std::fs::write(d.join("in.csv"), "population,neuron,time\ninp,0,11\n").unwrap();
    for flags in ["--record-all", "", "--max-memory 1K"] {
        nerve(d, &format!("run dec.json --arch spinnaker --steps 60 --input in.csv --decision d --report r.json {flags} -q"));
        let dec = json(d, "r.json")["timing"]["decision"].clone();
        assert_eq!((dec["first_input_step"].as_u64(), dec["decision_step"].as_u64()), (Some(11), Some(11)), "`{flags}`: {dec}");
    }
}

/// `-q` is `export`'s own, for every target: before the target as after it
/// (before it, clap refused it as contradicting the target).
#[test]
fn export_quiet_goes_before_or_after_the_target() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::copy(Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/small.json"), d.join("small.json")).unwrap();
    for args in [
        "export -q pynn small.json --arch spinnaker -o a.py",
        "export pynn small.json --arch spinnaker -o b.py -q",
        "export --quiet pynn small.json --arch spinnaker -o c.py",
    ] {
        let o = nerve(d, args);
        assert!(o.stderr.is_empty(), "{args}: {}", String::from_utf8_lossy(&o.stderr));
    }
    assert!(text(d, "a.py").contains("import pyNN"));
    let o = nerve(d, "export pynn small.json --arch spinnaker -o v.py");
    assert!(String::from_utf8_lossy(&o.stderr).contains("wrote v.py"));
}

#[test]
fn every_readme_flag_is_exercised() {
    let dir = tempfile::tempdir().unwrap();
    setup(dir.path());
    let documented = readme_flags();
    let covered: BTreeSet<(String, String)> = ROWS.iter().map(|(c, f, _)| (c.to_string(), f.to_string())).collect();
    let missing: Vec<_> = documented.difference(&covered).collect();
    assert!(missing.is_empty(), "README flags without a row here: {missing:?}");
    let stale: Vec<_> = covered.difference(&documented).collect();
    assert!(stale.is_empty(), "rows for flags the README does not list: {stale:?}");
    for (cmd, flag, check) in ROWS {
        eprintln!("{cmd} {flag}");
        check(dir.path());
    }
}

/// `--input` spikes cost far less than 100 bytes each at the peak: 2M of
/// them took ~300 each (a name's allocation per spike, copied into a map,
/// a list and the emulator's map). The peak is read from /proc while the
/// run goes (Linux; it only grows).
#[test]
#[cfg(target_os = "linux")]
fn input_spikes_take_little_memory() {
    use std::io::Write as _;
    let dir = tempfile::tempdir().unwrap();
    let p = |x: &str| dir.path().join(x).to_str().unwrap().to_string();
    let (neurons, steps) = (40u32, 50_000u32);
    let net = r#"{"name": "in", "dt_ms": 1.0, "populations": [{"name": "in", "size": 40, "model": "input"}, {"name": "n", "size": 1, "model": "lif"}],
                  "projections": [{"pre": "in", "post": "n", "connector": {"type": "all_to_all"}, "weight": 0.01}]}"#;
    std::fs::write(p("net.json"), net).unwrap();
    let mut f = std::io::BufWriter::new(std::fs::File::create(p("in.csv")).unwrap());
    writeln!(f, "population,neuron,time").unwrap();
    for t in 0..steps {
        for n in 0..neurons {
            writeln!(f, "in,{n},{t}").unwrap();
        }
    }
    drop(f);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_nerve"))
        .args(["run", &p("net.json"), "--arch", "loihi", "--steps", &steps.to_string(), "--input", &p("in.csv"), "-q"])
        .spawn()
        .unwrap();
    let status = format!("/proc/{}/status", child.id());
    let mut peak_kb = 0u64;
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            assert!(st.success());
            break;
        }
        if let Ok(s) = std::fs::read_to_string(&status) {
            if let Some(kb) = s.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok()) {
                peak_kb = peak_kb.max(kb);
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let spikes = u64::from(neurons * steps);
    // 60 MB for the program and its machine, and 100 B a spike.
    assert!(peak_kb * 1024 < (60 << 20) + 100 * spikes, "peak {peak_kb} kB for {spikes} input spikes");
}

/// A probe given twice is refused naming it (every row was written twice);
/// a network's extension is read in any case (`S.JSON` was taken for an image).
#[test]
fn a_repeated_probe_and_an_upper_case_network_name() {
    let dir = tempfile::tempdir().unwrap();
    let p = |x: &str| dir.path().join(x).to_str().unwrap().to_string();
    let net = r#"{"name": "one", "dt_ms": 1.0, "populations": [{"name": "lif", "size": 1, "model": "lif", "params": {"i_offset": 1.0}}]}"#;
    std::fs::write(p("S.JSON"), net).unwrap();
    let run = |extra: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_nerve"))
            .args(["run", &p("S.JSON"), "--arch", "spinnaker", "--steps", "5", "-q"])
            .args(extra)
            .output()
            .unwrap()
    };
    let out = run(&["--probe", "lif:v", "--probe-out", &p("v.csv"), "--save-network", &p("s.json")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = run(&["--probe", "lif:v", "--probe", "lif:v", "--probe-out", &p("v2.csv")]);
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && e.contains("--probe `lif:v`") && e.contains("twice"), "{e}");
    assert!(!Path::new(&p("v2.csv")).exists());
}

/// A streamed run killed (SIGKILL: no handler of any kind runs) leaves no
/// spill file beside its outputs, during the run or after: the spills were
/// named files (`.s.csv.spikes.nerve-spill`), removed only when the run
/// ended normally, so a Ctrl-C left them behind, as large as the recording.
#[cfg(target_os = "linux")]
#[test]
fn a_killed_streamed_run_leaves_no_spill_file() {
    use std::time::{Duration, Instant};
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let net = r#"{"name": "one", "dt_ms": 1.0, "populations": [{"name": "n", "size": 1, "model": "lif", "params": {"i_offset": 1.0, "tau_refrac": 1.0}, "record": ["spikes"]}]}"#;
    std::fs::write(d.join("one.json"), net).unwrap();
    let out = d.join("out");
    std::fs::create_dir(&out).unwrap();
    let out = out.canonicalize().unwrap();
    let listing = || -> Vec<String> { std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect() };
    let args = "run one.json --arch loihi --steps 4294967295 --record out/s.csv --probe n:v --probe-out out/p.csv --max-memory 1K -q";
    let mut child = Command::new(env!("CARGO_BIN_EXE_nerve")).current_dir(d).args(args.split_whitespace()).spawn().unwrap();
    // Until the run holds its spills (the spikes' and the probe's) open in out/.
    let fds = format!("/proc/{}/fd", child.id());
    let deadline = Instant::now() + Duration::from_secs(120);
    let spills = loop {
        let open: Vec<_> = std::fs::read_dir(&fds)
            .map_or_else(|_| Vec::new(), |fds| fds.filter_map(|e| std::fs::read_link(e.ok()?.path()).ok()).filter(|l| l.starts_with(&out)).collect());
        if open.len() >= 2 {
            break open;
        }
        assert!(child.try_wait().unwrap().is_none(), "the run ended before it streamed");
        assert!(Instant::now() < deadline, "no spill files open after 2 minutes: {open:?}");
        std::thread::sleep(Duration::from_millis(20));
    };
    let during = listing();
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(during, Vec::<String>::new(), "files in out/ while the run streams (it holds {spills:?})");
    assert_eq!(listing(), Vec::<String>::new(), "files left in out/ by a killed run");
}

/// The compiler's delay-extension relays (`s.delay1`, …) are not the
/// network's populations: `--record-all` and a network marking nothing
/// recorded them, so the same network's recording differed between a
/// profile with relays (spinnaker) and one without.
#[test]
fn recordings_leave_out_the_compilers_relays() {
    let dir = tempfile::tempdir().unwrap();
    let p = |x: &str| dir.path().join(x).to_str().unwrap().to_string();
    // 10 ms at dt 0.1: 100 steps, past the delay slots of a spinnaker core: relays.
    let net = r#"{"name": "longd", "dt_ms": 0.1, "populations": [{"name": "s", "size": 4, "model": "spike_source_poisson", "params": {"rate": 200.0}, "seed": 1}, {"name": "t", "size": 4, "model": "lif", "params": {"v_rest": -49.0, "v_thresh": -50.0}}], "projections": [{"pre": "s", "post": "t", "connector": {"type": "one_to_one"}, "weight": 0.5, "delay": 10.0}]}"#;
    std::fs::write(p("longd.json"), net).unwrap();
    let run = |extra: &[&str], out: &str| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_nerve"))
            .args(["run", &p("longd.json"), "--arch", "spinnaker", "--steps", "1000", "-q", "--record", &p(out)])
            .args(extra)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        std::fs::read_to_string(p(out)).unwrap()
    };
    let img = std::process::Command::new(env!("CARGO_BIN_EXE_nerve"))
        .args(["compile", &p("longd.json"), "--arch", "spinnaker", "-o", &p("l.img"), "-q", "--json"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&img.stdout).contains("s.delay1"), "the case needs relays");
    // Inspect counts them with the machine's neurons, and says so (it named 2100 where compile said 1100).
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_nerve")).args(["inspect", &p("l.img")]).output().unwrap();
    let head = String::from_utf8_lossy(&o.stdout).lines().next().unwrap_or_default().to_string();
    assert!(head.contains(" neurons (12 of them delay relays), ") && head.contains(" synapses (12 of them into delay relays)"), "{head}");
    for (extra, out) in [(&["--record-all"][..], "all.csv"), (&[][..], "default.csv")] {
        let csv = run(extra, out);
        let pops: BTreeSet<&str> = csv.lines().skip(1).filter_map(|l| l.split(',').next()).collect();
        assert_eq!(pops, BTreeSet::from(["s", "t"]), "{extra:?}");
    }
    // Nor probed: a relay has no variables, and the message said its spikes could be recorded.
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_nerve")).args(["run", &p("l.img"), "--steps", "5", "--probe", "s.delay1:v", "-q"]).output().unwrap();
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.code() == Some(1) && e.contains("`s.delay1` is a relay the compiler added for long delays") && !e.contains("can be recorded"), "{e}");
    // Nor a decision population (it was taken: a latency of a relay's copy), nor listed as a population.
    let o =
        std::process::Command::new(env!("CARGO_BIN_EXE_nerve")).args(["run", &p("l.img"), "--steps", "5", "--decision", "s.delay1", "-q"]).output().unwrap();
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.code() == Some(1) && e.contains("--decision `s.delay1`: a relay the compiler added") && e.contains("(populations: s, t)"), "{e}");
}

/// Every subcommand path of `nerve` (`compile`, `export pynn`, …), read from
/// the help of the one above it.
fn subcommands(path: &[String]) -> Vec<Vec<String>> {
    let help = help_of(path);
    let mut out = vec![path.to_vec()];
    let mut in_commands = false;
    for line in help.lines() {
        if line == "Commands:" {
            in_commands = true;
            continue;
        }
        if in_commands {
            match line.strip_prefix("  ").and_then(|l| l.split_whitespace().next()) {
                Some("help") => {}
                Some(name) if !line.starts_with("   ") => out.extend(subcommands(&[path, &[name.to_string()]].concat())),
                _ if line.is_empty() => in_commands = false,
                _ => {}
            }
        }
    }
    out
}

fn help_of(path: &[String]) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_nerve")).args(path).arg("--help").output().unwrap();
    assert!(o.status.success(), "{path:?} --help");
    String::from_utf8(o.stdout).unwrap()
}

/// Options only the help lists, and why no test sets them.
const UNSET: &[&str] = &[
    // clap's own.
    "--help",
    "--version",
];

/// Every option of every subcommand, as `nerve … --help` lists them (not
/// only the README table's), is set by at least one test in cli/tests: an
/// option only the help lists was never run (run's compile options, `export
/// pynn --neurons-per-core`, were not). An option counts as set for a
/// subcommand where one test (a function, or a row of a table of checks)
/// names the subcommand as a command (`"run …`, `"run", …`) and has the
/// option followed by something that does not continue its name.
#[test]
fn every_option_in_the_help_is_set_by_a_test() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut sources = String::new();
    let mut dirs = vec![root];
    while let Some(dir) = dirs.pop() {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|e| e == "rs") {
                sources.push_str(&std::fs::read_to_string(&p).unwrap());
            }
        }
    }
    // A test: from a line opening a function or a row of checks to the next.
    let mut tests: Vec<String> = vec![String::new()];
    for line in sources.lines() {
        let t = line.trim_start();
        if t.starts_with("fn ") || (t.starts_with("(\"") && t.ends_with("|d| {")) || t.starts_with("#[test]") {
            tests.push(String::new());
        }
        let last = tests.last_mut().unwrap();
        last.push_str(line);
        last.push('\n');
    }
    let has_flag = |text: &str, flag: &str| {
        text.match_indices(flag).any(|(at, _)| {
            let next = text[at + flag.len()..].chars().next();
            !next.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
    };
    let names_command = |text: &str, path: &[String]| {
        let (full, last) = (path.join(" "), path.last().unwrap());
        [format!("\"{full} "), format!("\"{full}\""), format!("\"{last}\", ")].iter().any(|p| text.contains(p.as_str()))
    };
    // This test's own text names no flag but through UNSET.
    let mut missing = Vec::new();
    let mut seen = 0;
    for path in subcommands(&[]) {
        for line in help_of(&path).lines() {
            // `  -o, --output <OUTPUT>`: either spelling sets it.
            let spellings: Vec<&str> =
                line.trim_start().split([' ', ',', '=', '[', '<']).take_while(|w| w.is_empty() || w.starts_with('-')).filter(|w| w.len() > 1).collect();
            let Some(flag) = spellings.iter().copied().find(|w| w.starts_with("--") && w.len() > 2) else { continue };
            if !line.trim_start().starts_with('-') || UNSET.contains(&flag) {
                continue;
            }
            seen += 1;
            let set = tests.iter().any(|t| spellings.iter().any(|f| has_flag(t, f)) && names_command(t, &path));
            if !set {
                missing.push(format!("nerve {} {flag}", path.join(" ")));
            }
        }
    }
    assert!(seen > 60, "only {seen} options read from the help");
    assert!(missing.is_empty(), "options no test sets: {missing:?}");
}

/// `run NET --arch A` takes compile's options and compiles as `compile`
/// does with them: its --save-image equals `compile`'s image, and differs
/// from the one without the option.
#[test]
fn run_takes_the_compile_options_as_compile_does() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    setup(d);
    let spread = "--neurons-per-core 10 --placement spread";
    for (net, arch, base, opt) in [
        ("small.json", "loihi", spread, "--seed 3"),
        ("small.json", "loihi", spread, "--effort 5"),
        ("small.json", "spinnaker", "--neurons-per-core 10", "--shared-routes 0"),
        ("ff.nir", "loihi", "", "--dt 0.0001"),
        ("ff.nir", "loihi", "", "--reset subtract"),
        ("ff.nir", "loihi", "", "--source snntorch"),
    ] {
        nerve(d, &format!("compile {net} --arch {arch} {base} -o default.img -q"));
        nerve(d, &format!("compile {net} --arch {arch} {base} {opt} -o compiled.img -q"));
        nerve(d, &format!("run {net} --arch {arch} {base} {opt} --steps 1 --save-image ran.img -q"));
        assert_eq!(bytes(d, "ran.img"), bytes(d, "compiled.img"), "{opt}");
        assert_ne!(bytes(d, "ran.img"), bytes(d, "default.img"), "{opt} changes the image");
    }
}

/// `export pynn --neurons-per-core` is the partition the script carries
/// (sPyNNaker's atoms per core), and `--backend nest` has no cores for it.
#[test]
fn export_pynn_neurons_per_core_sets_the_scripts_atoms_per_core() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    setup(d);
    nerve(d, "export pynn small.json --arch spinnaker -o whole.py -q");
    nerve(d, "export pynn small.json --arch spinnaker --neurons-per-core 10 -o ten.py -q");
    assert!(text(d, "whole.py").contains(r#"pops["exc"].set_max_atoms_per_core(256)"#), "{}", text(d, "whole.py"));
    assert!(text(d, "ten.py").contains(r#"pops["exc"].set_max_atoms_per_core(10)"#), "{}", text(d, "ten.py"));
    let o = Command::new(env!("CARGO_BIN_EXE_nerve"))
        .current_dir(d)
        .args(["export", "pynn", "small.json", "--arch", "spinnaker", "--backend", "nest", "--neurons-per-core", "10", "-o", "n.py"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
}

/// examples/kernels/run.sh checks itself (getting-started.md: every example
/// folder has one): its listing reassembles to the same bytes.
#[test]
fn the_kernel_example_checks_itself() {
    let dir = tempfile::tempdir().unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/kernels");
    for f in ["if.s", "run.sh"] {
        std::fs::copy(src.join(f), dir.path().join(f)).unwrap();
    }
    let o = Command::new("sh").arg(dir.path().join("run.sh")).env("NERVE", env!("CARGO_BIN_EXE_nerve")).output().unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success() && out.contains("PASS: the listing reassembles to the same 9 instructions (72 bytes)"),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A gap junction's packet is sent every step: counted in packets_out and
/// charged its energy, and now its time (packet_out_ns, 4 ns on tiny): A's
/// core was busy 3 × (36 + 2) ns over 3 steps where its kernel, idle and
/// send take 3 × (36 + 2 + 4).
#[test]
fn gap_junction_packets_take_their_send_time() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("g1.json"),
        r#"{"name": "g1", "dt_ms": 1.0, "populations": [
          {"name": "A", "size": 1, "model": "lif", "params": {"cm": 1.0, "v_thresh": -50, "tau_refrac": 1.0}},
          {"name": "B", "size": 1, "model": "lif", "params": {"cm": 1.0, "v_thresh": -50, "tau_refrac": 1.0}, "initial": {"v": -60.0}}],
          "projections": [{"pre": "A", "post": "B", "receptor": "electrical", "connector": {"type": "all_to_all"}, "weight": 0.001}]}"#,
    )
    .unwrap();
    std::fs::write(d.join("g1.csv"), "population,slice,core\nA,0,0\nB,0,4\n").unwrap();
    nerve(d, "compile g1.json --arch tiny --placement g1.csv -o g1.img -q");
    for engine in ["jit", "interp"] {
        nerve(d, &format!("run g1.img --steps 3 --engine {engine} --report rg1.json -q"));
        let r: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(d.join("rg1.json")).unwrap()).unwrap();
        let a = r["cores"].as_array().unwrap().iter().find(|c| c["population"] == "A").unwrap();
        assert_eq!(a["busy_ns"].as_f64(), Some(3.0 * (36.0 + 2.0 + 4.0)), "{engine}: {a}");
        assert_eq!(r["counts"]["packets_out"].as_u64(), Some(6), "{engine}");
    }
}
