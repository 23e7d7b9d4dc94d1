//! Kernel engines side by side on the same LIF kernel (the one nerve generates
//! for the CUBA network): the interpreter, the Cranelift JIT, and the same
//! fixed-point update written as a plain Rust loop compiled by rustc. All three
//! must end in identical states; the times are per neuron-step.
//!
//!     kernel_bench [NEURONS] [STEPS]

use std::time::Instant;

use nerve_compiler::compile::{compile, Options};
use nerve_compiler::front::json::parse_network;
use nerve_emulator::engine::KernelRunner;
use nerve_emulator::kernel::jit::{Backend, Jit};
use nerve_emulator::kernel::{padded, KernelData, Param};
use nerve_isa::arch::Arch;
use nerve_isa::image::{CoreKind, ParamArray};
use nerve_isa::semantics::{mulshr, shv};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).map_or(4096, |x| x.parse().expect("neurons"));
    let steps: usize = args.get(2).map_or(2000, |x| x.parse().expect("steps"));
    // One CUBA-like LIF population; its kernel and parameters come from the compiler.
    let net = parse_network(
        &format!(
            r#"{{"dt_ms": 0.1, "populations": [{{"name": "lif", "size": {n}, "model": "lif",
            "params": {{"tau_m": 20.0, "cm": 0.2, "v_rest": -49.0, "v_reset": -60.0, "v_thresh": -50.0,
                        "tau_refrac": 5.0, "tau_syn_E": 5.0, "tau_syn_I": 10.0}},
            "initial": {{"v": {{"uniform": [-60.0, -50.0], "seed": 1}}}}}}],
            "projections": [{{"pre": "lif", "post": "lif", "connector": {{"type": "fixed_probability", "p": 0.001, "seed": 2}}, "weight": 0.0162}},
                            {{"pre": "lif", "post": "lif", "receptor": "inhibitory", "connector": {{"type": "fixed_probability", "p": 0.001, "seed": 3}}, "weight": -0.09}}]}}"#
        ),
        std::path::Path::new("bench.json"),
    )
    .expect("network");
    let mut arch = Arch::builtin("loihi").unwrap();
    arch.core.max_neurons = n as u32;
    arch.core.max_output_axons = None;
    arch.core.max_input_keys = None;
    arch.core.synapse_words = u32::MAX;
    let img = compile(&arch, &net, &Options::default(), &mut |_| {}).expect("compiles").image;
    let core = &img.cores[0];
    let CoreKind::Neuron { kernel, params, state } = &core.kind else { panic!("a neuron core") };
    let k = &img.kernels[kernel.index()];
    let np = padded(n);
    let data0 = KernelData {
        n,
        state: state.iter().map(|s| nerve_emulator::lines::LineVec::from_slice_padded(s, np)).collect(),
        params: params
            .iter()
            .map(|p| match p {
                ParamArray::Uniform(v) => Param::Uniform(*v),
                ParamArray::PerNeuron(v) => {
                    let mut v = v.clone();
                    v.resize(np, 0);
                    Param::PerNeuron(v)
                }
            })
            .collect(),
    };
    // Deterministic synaptic input: a few neurons get input each step.
    let ports = k.inputs.len();
    let input_for = |step: usize, buf: &mut Vec<i32>| {
        buf.iter_mut().for_each(|x| *x = 0);
        for j in 0..n / 16 {
            let i = (j * 16 + step * 7) % n;
            buf[i] = 3000 + (step % 5) as i32;
            if ports > 1 {
                buf[np + i] = -(2000 + (j % 3) as i32);
            }
        }
    };
    let mut input = vec![0i32; ports * np];
    let mut flags = vec![0u8; np / 4];

    // Interpreter (fewer steps: it is slow), then the same number of steps for the check.
    let interp_steps = (steps / 10).max(10);
    let mut di = KernelData { n, state: data0.state.clone(), params: data0.params.clone() };
    let t = Instant::now();
    for s in 0..interp_steps {
        input_for(s, &mut input);
        nerve_emulator::engine::Interp.run(0, k, &mut di, &mut input, np, &mut flags);
    }
    let interp_ns = t.elapsed().as_secs_f64() * 1e9 / (interp_steps * n) as f64;

    // The JIT as `--engine jit` picks it for this host, and Cranelift's backend alongside.
    let jit = Jit::for_kernel(k, &data0).expect("JIT");
    let cranelift = Jit::for_kernel_with(k, &data0, Backend::Cranelift).expect("JIT (Cranelift)");
    let mut time_jit = |j: &Jit| {
        let mut dj = KernelData { n, state: data0.state.clone(), params: data0.params.clone() };
        let t = Instant::now();
        for s in 0..steps {
            input_for(s, &mut input);
            j.run(0, k, &mut dj, &mut input, np, &mut flags);
        }
        (t.elapsed().as_secs_f64() * 1e9 / (steps * n) as f64, dj)
    };
    let (jit_ns, dj) = time_jit(&jit);
    let (cranelift_ns, dc) = time_jit(&cranelift);
    for sl in 0..4 {
        assert_eq!(&dj.state[sl][..n], &dc.state[sl][..n], "the JIT's backends differ in state {sl}");
    }

    // The same update as plain Rust (parameters read by name, as the kernel does).
    let p = |name: &str| -> i32 {
        match &data0.params[k.param_slot(name).unwrap() as usize] {
            Param::Uniform(v) => *v,
            Param::PerNeuron(_) => panic!("uniform expected"),
        }
    };
    let (a_v, c0, d_e, d_i, vth, vreset, tref) = (p("a_v"), p("c0"), p("d_e"), p("d_i"), p("vth"), p("vreset"), p("tref"));
    let (e0, e1) = (p("e0"), if ports > 1 { p("e1") } else { 0 });
    // This network's kernel (uniform factors): currents in volts (added to v,
    // after a shift if the current is coarser) and decays x + mulshr(x, c, 32)
    // with c the factor's complement (docs/quantisation.md).
    assert!(k.param_slot("b_e").is_none(), "kernel_bench's Rust loop expects currents kept in volts:\n{}", nerve_isa::kernel::asm::disassemble(k));
    let decays = k.code.iter().filter(|i| i.op.mnemonic() == "mulshr" && i.aux == 32).count();
    let others = k.code.iter().filter(|i| i.op.mnemonic().starts_with("mulsh") && !(i.op.mnemonic() == "mulshr" && i.aux == 32)).count();
    assert!(decays == 3 && others == 0, "kernel_bench's Rust loop expects three complement-form decays:\n{}", nerve_isa::kernel::asm::disassemble(k));
    // Left shift of a current into v's format (registers 2 and 3 hold the currents).
    let shl_of = |reg: usize| -> u32 { k.code.iter().find(|i| i.op.mnemonic() == "shl" && i.ra.index() == reg).map_or(0, |i| i.aux as u32) };
    let (she, shi) = (shl_of(2), shl_of(3));
    let mut st = data0.state.clone();
    let t = Instant::now();
    let mut spikes = 0u64;
    for s in 0..steps {
        input_for(s, &mut input);
        let (v, rest) = st.split_at_mut(1);
        let (ge, rest) = rest.split_at_mut(1);
        let (gi, refr) = rest.split_at_mut(1);
        let (v, ge, gi, refr) = (&mut v[0][..], &mut ge[0][..], &mut gi[0][..], &mut refr[0][..]);
        for i in 0..n {
            let xe = ge[i].wrapping_add(shv(input[i], e0));
            let xi = if ports > 1 { gi[i].wrapping_add(shv(input[np + i], e1)) } else { gi[i] };
            let vi = v[i];
            let decay = |x: i32, c: i32| x.wrapping_add(mulshr(x, c, 32));
            let mut nv = decay(vi, a_v).wrapping_add(c0);
            nv = nv.wrapping_add(xe.wrapping_shl(she)).wrapping_add(xi.wrapping_shl(shi));
            let r = refr[i];
            let refractory = r > 0;
            if refractory {
                nv = vi;
            }
            let mut nr = if refractory { r - 1 } else { r };
            let spike = vth < nv && !refractory;
            if spike {
                nv = vreset;
                nr = tref;
                spikes += 1;
            }
            v[i] = nv;
            refr[i] = nr;
            ge[i] = decay(xe, d_e);
            gi[i] = decay(xi, d_i);
        }
        input.iter_mut().for_each(|x| *x = 0);
    }
    let rust_ns = t.elapsed().as_secs_f64() * 1e9 / (steps * n) as f64;
    // Bit-exactness of the three.
    for (sl, s) in st.iter().enumerate().take(4) {
        assert_eq!(&dj.state[sl][..n], &s[..n], "JIT and the Rust loop differ in state {sl}");
    }
    let mut dj2 = KernelData { n, state: data0.state.clone(), params: data0.params.clone() };
    for s in 0..interp_steps {
        input_for(s, &mut input);
        jit.run(0, k, &mut dj2, &mut input, np, &mut flags);
    }
    for sl in 0..4 {
        assert_eq!(&dj2.state[sl][..n], &di.state[sl][..n], "JIT and interpreter differ in state {sl}");
    }
    println!(
        "{}",
        serde_json::json!({
            "kernel": k.name, "instructions": k.code.len(), "neurons": n, "steps": steps, "spikes_rust_loop": spikes,
            "jit_backend": jit.backend.name(),
            "ns_per_neuron_step": {"interpreter": interp_ns, "jit": jit_ns, "jit_cranelift": cranelift_ns, "rust_loop": rust_ns},
            "jit_speedup_over_interpreter": interp_ns / jit_ns,
            "jit_over_rust_loop": jit_ns / rust_ns,
            "bit_exact": true
        })
    );
}
