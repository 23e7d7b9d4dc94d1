//! Electrical synapses (gap junctions, `"receptor": "electrical"`): each step
//! the post neuron receives g·(v_pre − v_post) into its excitatory current.
//! Checked by what the physics says, not by reading the image: a symmetric
//! junction pulls two potentials together and leaves their mean as it was
//! (the currents cancel); a zero conductance changes nothing; one neuron
//! driven above rest lifts its silent partner; thread counts agree; bad
//! junctions are refused naming the culprit.

use std::path::Path;

use nerve_compiler::compile::{compile, Options};
use nerve_emulator::engine::{run, Interp, Recording, RunOutput};
use nerve_emulator::kernel::jit::Jit;
use nerve_emulator::machine::Machine;
use nerve_isa::arch::Arch;
use serde_json::{json, Value};

const LIF: &str = r#"{"tau_m": 20.0, "cm": 0.25, "v_rest": -65.0, "v_reset": -70.0, "v_thresh": -50.0, "tau_refrac": 2.0, "tau_syn_E": 1.0, "tau_syn_I": 5.0, "i_offset": 0.0}"#;

/// Two populations of one neuron each, `a` starting at `va` and `b` at `vb`,
/// joined both ways by conductance `g` (none when `None`); `a` gets `ia` nA.
fn net(va: f64, vb: f64, g: Option<f64>, ia: f64) -> Value {
    let lif: Value = serde_json::from_str(LIF).unwrap();
    let mut pa = lif.clone();
    pa["i_offset"] = json!(ia);
    let mut projections = vec![];
    if let Some(g) = g {
        for (pre, post) in [("a", "b"), ("b", "a")] {
            projections.push(json!({"pre": pre, "post": post, "receptor": "electrical", "weight": g, "connector": {"type": "one_to_one"}}));
        }
    }
    json!({"name": "gap", "dt_ms": 0.1, "populations": [
        {"name": "a", "size": 1, "model": "lif", "params": pa, "initial": {"v": va}},
        {"name": "b", "size": 1, "model": "lif", "params": lif, "initial": {"v": vb}}
    ], "projections": projections})
}

/// v of `a` and `b` every step (mV), on `arch` with `threads`.
fn traces(n: &Value, arch: &str, steps: u64, threads: usize, jit: bool) -> (Vec<f64>, Vec<f64>, RunOutput) {
    let net = nerve_compiler::front::json::parse_network(&n.to_string(), Path::new("gap.json")).unwrap();
    let out = compile(&Arch::builtin(arch).unwrap(), &net, &Options::default(), &mut |_| {}).unwrap();
    let mut m = Machine::load_valid(out.image).unwrap();
    let slot = |name: &str| {
        let (pi, p) = m.pops.iter().enumerate().find(|(_, p)| p.name == name).unwrap();
        let v = p.vars.iter().find(|v| v.name == "v").unwrap();
        (pi as u32, v.slot, v.scale, v.offset)
    };
    let (a, b) = (slot("a"), slot("b"));
    let rec = Recording { spikes: vec![true; m.pops.len()], probes: vec![(a.0, a.1), (b.0, b.1)], per_step: true, chunk_steps: None };
    let r = if jit {
        let j = Jit::compile(&m).unwrap();
        run(&mut m, &j, steps, threads, &rec, &mut |_| {}).unwrap()
    } else {
        run(&mut m, &Interp, steps, threads, &rec, &mut |_| {}).unwrap()
    };
    let va = r.probes[0].values.iter().map(|row| row[0] as f64 * a.2 + a.3).collect();
    let vb = r.probes[1].values.iter().map(|row| row[0] as f64 * b.2 + b.3).collect();
    (va, vb, r)
}

#[test]
fn a_symmetric_junction_pulls_potentials_together_and_keeps_their_mean() {
    for arch in ["spinnaker", "spinnaker2"] {
        let (a0, b0, _) = traces(&net(-55.0, -75.0, None, 0.0), arch, 40, 1, true);
        let (a1, b1, r) = traces(&net(-55.0, -75.0, Some(0.02), 0.0), arch, 40, 1, true);
        let t = 39;
        let (d0, d1) = ((a0[t] - b0[t]).abs(), (a1[t] - b1[t]).abs());
        // τ_m = 20 ms alone; g/C = 0.08/ms pulls the difference in ~6 ms: after 4 ms it is well below the uncoupled one.
        assert!(d1 < 0.75 * d0, "{arch}: |Δv| coupled {d1} vs uncoupled {d0}");
        for s in 0..40 {
            let (m0, m1) = ((a0[s] + b0[s]) / 2.0, (a1[s] + b1[s]) / 2.0);
            assert!((m0 - m1).abs() < 0.05, "{arch} step {s}: mean {m1} coupled vs {m0}");
        }
        assert!(r.counts.synaptic_events > 0 && r.counts.packets_out >= 2 * 40, "{arch}: the junctions' traffic is counted: {:?}", r.counts);
        // No conductance, no effect.
        let (a2, b2, _) = traces(&net(-55.0, -75.0, Some(0.0), 0.0), arch, 40, 1, true);
        assert_eq!((a2, b2), (a0.clone(), b0.clone()), "{arch}");
    }
}

/// The physics, quantitatively: `a` held at −55 mV (i_offset 0.125 nA into
/// R = τm/cm = 80 MΩ), joined one way to `b` by g: b settles at
/// x = gR·(10 − x) above rest, x = 10·gR/(1 + gR) (0.741 mV for g = 1 nS).
/// And with no drive, junctions between neurons at rest leave them at rest
/// (their two terms cancel exactly), on every profile.
#[test]
fn a_junction_carries_the_current_g_times_the_potential_difference() {
    for (arch, tol) in [("spinnaker", 0.02), ("spinnaker2", 0.02), ("loihi", 0.08)] {
        for g in [0.001, 0.004] {
            let mut n = net(-55.0, -65.0, None, 0.125);
            n["projections"] = json!([{"pre": "a", "post": "b", "receptor": "electrical", "weight": g, "connector": {"type": "one_to_one"}}]);
            let (a, b, _) = traces(&n, arch, 4000, 1, true);
            let gr = g * 80.0;
            let want = 10.0 * gr / (1.0 + gr);
            let got = b[3999] + 65.0;
            assert!((a[3999] + 55.0).abs() < 0.05, "{arch}: a held at −55 mV, is {}", a[3999]);
            eprintln!("{arch} g {g}: b {got:.4} mV, theory {want:.4}");
            assert!((got - want).abs() <= tol * want, "{arch} g {g}: b settles {got:.4} mV above rest, theory {want:.4}");
        }
        let (a, b, _) = traces(&net(-65.0, -65.0, Some(0.05), 0.0), arch, 3000, 1, true);
        assert!(a.iter().chain(&b).all(|v| (v + 65.0).abs() < 1e-3), "{arch}: quiet junctions move rest: {} {}", a[2999], b[2999]);
    }
}

/// Neurons at equal potentials joined by junctions of unequal conductances
/// receive exactly nothing: a neuron's terms are summed exactly and rounded
/// once, its self term the negated sum of its partners'. Rounding each term
/// (and −Σg apart) left up to half a unit per junction: a steady current
/// into every C. elegans cell at rest.
#[test]
fn junctions_at_equal_potentials_carry_nothing() {
    let lif: Value = serde_json::from_str(LIF).unwrap();
    let n = 6u32;
    let conns: Vec<Value> =
        (0..n).flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| json!([i, j, 0.003 + 0.0017 * ((i * 7 + j * 3) % 11) as f64]))).collect();
    let net = json!({"name": "rest", "dt_ms": 0.1, "populations": [
        {"name": "a", "size": n, "model": "lif", "params": lif, "initial": {"v": -58.3}}
    ], "projections": [{"pre": "a", "post": "a", "receptor": "electrical", "connector": {"type": "from_list", "connections": conns}}]});
    let net = nerve_compiler::front::json::parse_network(&net.to_string(), Path::new("rest.json")).unwrap();
    for arch in ["spinnaker", "spinnaker2", "loihi"] {
        let out = compile(&Arch::builtin(arch).unwrap(), &net, &Options::default(), &mut |_| {}).unwrap();
        let mut m = Machine::load_valid(out.image).unwrap();
        let p = &m.pops[0];
        let slot = |name: &str| p.vars.iter().find(|v| v.name == name).unwrap().slot;
        let rec = Recording { spikes: vec![true], probes: vec![(0, slot("v")), (0, slot("isyn_exc"))], per_step: false, chunk_steps: None };
        let r = run(&mut m, &Interp, 50, 1, &rec, &mut |_| {}).unwrap();
        assert!(r.probes[1].values.iter().all(|row| row.iter().all(|&x| x == 0)), "{arch}: isyn_exc {:?}", r.probes[1].values.last());
    }
    // The exact sum is 64-bit: an image whose terms into one input could
    // pass it is refused, naming the core, neuron and port.
    let out = compile(&Arch::builtin("spinnaker").unwrap(), &net, &Options::default(), &mut |_| {}).unwrap();
    let mut img = out.image.into_image();
    let c = img.cores.iter_mut().find(|c| c.gap.len() > 1).unwrap();
    let t = c.gap[0].target;
    c.gap.iter_mut().filter(|g| g.target == t).for_each(|g| g.weight = i32::MAX);
    let e = img.validate().unwrap_err().to_string();
    assert!(e.contains(&format!("into neuron {t} port")) && e.contains("past 2^31"), "{e}");
}

/// Into an izhikevich cell, whose weights are voltage jumps (1000·w mV), a
/// junction's current g·Δv moves v by dt·1000·g·Δv a step: 0.1 mV for
/// 0.1 nS·10 mV at dt 0.1 ms, 0.01 mV at dt 0.01 ms (it moved 1 mV at
/// either dt: the current entered as a jump each step).
#[test]
fn a_junction_into_an_izhikevich_cell_is_a_current() {
    for dt in [0.1, 0.01] {
        let jump = |g: f64| -> f64 {
            let n = json!({"name": "h", "dt_ms": dt, "populations": [
                {"name": "a", "size": 1, "model": "if", "params": {"cm": 0.25, "v_rest": -55.0, "v_reset": -70.0, "v_thresh": -40.0, "tau_refrac": 0.1, "tau_syn_E": 20.0, "tau_syn_I": 5.0, "i_offset": 0.0}, "initial": {"v": -55.0}},
                {"name": "b", "size": 1, "model": "izhikevich", "params": {"i_offset": 0.0}, "initial": {"v": -65.0, "u": -13.0}}
            ], "projections": [{"pre": "a", "post": "b", "receptor": "electrical", "weight": g, "connector": {"type": "one_to_one"}}]});
            let net = nerve_compiler::front::json::parse_network(&n.to_string(), Path::new("h.json")).unwrap();
            let out = compile(&Arch::builtin("spinnaker").unwrap(), &net, &Options::default(), &mut |_| {}).unwrap();
            let mut m = Machine::load_valid(out.image).unwrap();
            let v = m.pops[1].vars.iter().find(|v| v.name == "v").unwrap().clone();
            let rec = Recording { spikes: vec![true, true], probes: vec![(1, v.slot)], per_step: false, chunk_steps: None };
            let r = run(&mut m, &Interp, 1, 1, &rec, &mut |_| {}).unwrap();
            r.probes[0].values[0][0] as f64 * v.scale + v.offset
        };
        let got = jump(1e-4) - jump(0.0);
        let want = dt * 1000.0 * 1e-4 * 10.0;
        assert!((got - want).abs() <= 0.05 * want, "dt {dt}: the junction moved v by {got} mV in a step, want {want}");
    }
}

#[test]
fn a_driven_neuron_lifts_its_silent_partner() {
    // `a` gets 0.4 nA (a rise towards -65 + 0.4·20/0.25 = -33 mV, crossing threshold within ~12 ms); `b` gets nothing.
    let (_, b_alone, _) = traces(&net(-65.0, -65.0, None, 0.4), "spinnaker", 600, 1, true);
    let (_, b_coupled, r) = traces(&net(-65.0, -65.0, Some(0.01), 0.4), "spinnaker", 600, 1, true);
    assert!(b_alone.iter().all(|v| (v + 65.0).abs() < 1e-3), "b at rest alone");
    let lift = b_coupled.iter().cloned().fold(f64::MIN, f64::max) + 65.0;
    assert!(lift > 1.0, "b rises by {lift} mV");
    assert!(r.spikes.iter().any(|s| s.pop == 0), "a spikes");
}

#[test]
fn engines_and_threads_agree_with_junctions() {
    let n = net(-52.0, -70.0, Some(0.05), 0.3);
    let (a, b, r) = traces(&n, "spinnaker", 200, 1, false);
    for (threads, jit) in [(1, true), (2, true), (2, false)] {
        let (a2, b2, r2) = traces(&n, "spinnaker", 200, threads, jit);
        assert_eq!((&a2, &b2), (&a, &b), "threads {threads}, jit {jit}");
        assert_eq!(r2.counts, r.counts);
    }
}

#[test]
fn bad_junctions_are_refused_naming_the_culprit() {
    let lif: Value = serde_json::from_str(LIF).unwrap();
    let base = |proj: Value, extra: Value| {
        let mut pops = vec![
            json!({"name": "a", "size": 2, "model": "lif", "params": lif.clone(), "labels": ["A0", "A1"]}),
            json!({"name": "b", "size": 2, "model": "lif", "params": lif.clone()}),
            json!({"name": "src", "size": 2, "model": "spike_source_poisson", "params": {"rate": 10.0}}),
        ];
        if !extra.is_null() {
            pops.push(extra);
        }
        json!({"name": "bad", "dt_ms": 0.1, "populations": pops, "projections": [proj]})
    };
    let cases: Vec<(Value, Value, &str)> = vec![
        (json!({"pre": "a", "post": "b", "receptor": "electrical", "weight": -0.1, "connector": {"type": "one_to_one"}}), Value::Null, "a conductance is ≥ 0"),
        (
            json!({"pre": "a", "post": "b", "receptor": "electrical", "weight": 0.1, "delay": 2.0, "connector": {"type": "one_to_one"}}),
            Value::Null,
            "`delay` does not apply",
        ),
        (
            json!({"pre": "src", "post": "b", "receptor": "electrical", "weight": 0.1, "connector": {"type": "one_to_one"}}),
            Value::Null,
            "membrane potential `v`",
        ),
        // loihi_lif's v is an integer: taken for mV, its u left its 24 bits and a lif partner's v jumped to −1024 mV.
        (
            json!({"pre": "a", "post": "l", "receptor": "electrical", "weight": 0.1, "connector": {"type": "one_to_one"}}),
            json!({"name": "l", "size": 2, "model": "loihi_lif", "params": {"du": 100, "dv": 100, "vth": 1000}}),
            "`l` is a loihi_lif: electrical synapses join neurons with a membrane potential `v` in mV",
        ),
        (
            json!({"pre": "l", "post": "a", "receptor": "electrical", "weight": 0.1, "connector": {"type": "one_to_one"}}),
            json!({"name": "l", "size": 2, "model": "loihi_lif", "params": {"du": 100, "dv": 100, "vth": 1000}}),
            "`l` is a loihi_lif",
        ),
        (json!({"pre": "a", "post": "b", "receptor": "electrical", "connector": {"type": "one_to_one"}}), Value::Null, "the conductance"),
        (
            json!({"pre": "a", "post": "b", "receptor": "electrical", "connector": {"type": "from_list", "connections": [["A0", 1, 0.1], ["A9", 0, 0.1]]}}),
            Value::Null,
            "no pre neuron labelled `A9`",
        ),
    ];
    for (proj, extra, want) in cases {
        let n = base(proj, extra);
        let e = match nerve_compiler::front::json::parse_network(&n.to_string(), Path::new("bad.json")) {
            Err(e) => e.to_string(),
            Ok(net) => compile(&Arch::builtin("spinnaker").unwrap(), &net, &Options::default(), &mut |_| {}).err().map(|e| e.to_string()).unwrap_or_default(),
        };
        assert!(e.contains(want), "want `{want}` in: {e}");
    }
}

/// Exporters cannot represent junctions: each refuses naming the projection.
#[test]
fn exporters_refuse_electrical_synapses() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("gap.json");
    std::fs::write(&f, net(-55.0, -75.0, Some(0.02), 0.0).to_string()).unwrap();
    let img = dir.path().join("gap.img");
    let nerve = |args: &[&str]| std::process::Command::new(env!("CARGO_BIN_EXE_nerve")).args(args).output().unwrap();
    assert!(nerve(&["compile", f.to_str().unwrap(), "--arch", "spinnaker", "-o", img.to_str().unwrap(), "-q"]).status.success());
    let out = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    for args in [
        vec!["export", "pynn", f.to_str().unwrap(), "--arch", "spinnaker", "-o", &out("n.py")],
        vec!["export", "nir", f.to_str().unwrap(), "--arch", "spinnaker", "-o", &out("n.nir")],
        vec!["export", "spinnaker-tables", img.to_str().unwrap(), "-o", &out("t.json")],
    ] {
        let o = nerve(&args);
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success() && e.contains("electrical synapses"), "{args:?}: {e}");
        assert!(!e.contains("panicked"));
    }
}

/// Steps of a probe CSV (`population,var,neuron,time,value`) from `from` on,
/// as (var, neuron, step − from, value as written) at `dt` ms a step.
fn probe_rows(f: &Path, dt: f64, from: i64) -> Vec<(String, u32, i64, String)> {
    std::fs::read_to_string(f)
        .unwrap()
        .lines()
        .skip(1)
        .filter_map(|l| {
            let v: Vec<&str> = l.split(',').collect();
            let step = (v[3].parse::<f64>().unwrap() / dt).round() as i64;
            (step >= from).then(|| (v[1].to_string(), v[2].parse().unwrap(), step - from, v[4].to_string()))
        })
        .collect()
}

/// A run's first step receives the junction current of its initial
/// potentials, as every later step receives that of the step before's: so
/// a run continued from `--save-network` (whose initial state is where the
/// run ended) moves and spikes as the longer run, on either engine and any
/// thread count, with no note (nothing is lost). Step 0 received no
/// junction current before: b's current was 0 after it although the initial
/// potentials differed by 20 mV, and a continued run diverged silently.
#[test]
fn a_continued_run_with_junctions_is_the_whole_run() {
    let dir = tempfile::tempdir().unwrap();
    let p = |x: &str| dir.path().join(x).to_str().unwrap().to_string();
    let nerve = |args: &[&str]| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_nerve")).args(args).output().unwrap();
        assert!(o.status.success(), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stderr).unwrap()
    };
    // Three cells (`a`: 3 neurons, on three cores with --neurons-per-core 1)
    // in a chain joined both ways, starting 20 and 7 mV apart; two spike.
    std::fs::copy(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/gap_chain.json"), p("net.json")).unwrap();
    let (steps, first) = (600, 251);
    let run = |net: &str, steps: u64, tag: &str, extra: &[&str]| {
        let s = steps.to_string();
        let (rec, probes) = (p(&format!("{tag}.csv")), p(&format!("{tag}_p.csv")));
        let mut args = vec!["run", net, "--arch", "spinnaker", "--neurons-per-core", "1", "--steps", &s, "--record", &rec];
        args.extend(["--probe", "a:v", "--probe", "a:isyn_exc", "--probe-out", &probes]);
        args.extend(extra);
        let notes = nerve(&args);
        let spikes: Vec<(u32, i64)> = std::fs::read_to_string(&rec)
            .unwrap()
            .lines()
            .skip(1)
            .map(|l| {
                let v: Vec<&str> = l.split(',').collect();
                (v[1].parse().unwrap(), (v[2].parse::<f64>().unwrap() / 0.1).round() as i64)
            })
            .collect();
        (spikes, probes, notes)
    };
    let (whole, whole_p, _) = run(&p("net.json"), steps, "whole", &["--engine", "interp"]);
    assert!(whole.iter().any(|s| s.0 == 0) && whole.iter().any(|s| s.0 == 1), "a driven cell and its partner spike: {whole:?}");
    let rows = probe_rows(Path::new(&whole_p), 0.1, 0);
    let isyn0 = rows.iter().find(|r| r.0 == "isyn_exc" && r.1 == 1 && r.2 == 0).unwrap();
    assert!(isyn0.3.parse::<f64>().unwrap() > 0.0, "b (20 mV below a) receives current at step 0: {isyn0:?}");
    for (engine, threads) in [("jit", "1"), ("interp", "2"), ("jit", "3")] {
        let (s, pr, _) = run(&p("net.json"), steps, &format!("{engine}{threads}"), &["--engine", engine, "--threads", threads]);
        assert_eq!(s, whole, "{engine}, {threads} threads");
        assert_eq!(probe_rows(Path::new(&pr), 0.1, 0), rows, "{engine}, {threads} threads");
    }
    let (head, _, notes) = run(&p("net.json"), first, "head", &["--save-network", &p("saved.json")]);
    assert!(!notes.contains("in flight"), "junction values are not spikes in flight: {notes}");
    assert_eq!(head, whole.iter().copied().filter(|s| s.1 < first as i64).collect::<Vec<_>>());
    for threads in ["1", "3"] {
        let (rest, rest_p, _) = run(&p("saved.json"), steps - first, &format!("rest{threads}"), &["--threads", threads]);
        let tail: Vec<(u32, i64)> = whole.iter().filter(|s| s.1 >= first as i64).map(|&(n, t)| (n, t - first as i64)).collect();
        assert!(!tail.is_empty());
        assert_eq!(rest, tail, "{threads} threads");
        assert_eq!(probe_rows(Path::new(&rest_p), 0.1, 0), probe_rows(Path::new(&whole_p), 0.1, first as i64), "{threads} threads");
    }
}
