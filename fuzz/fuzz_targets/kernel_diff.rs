//! Differential: a kernel decoded from the bytes (8 per instruction, at most
//! 64; kernels are straight-line code, so no fuel is needed) runs in the
//! interpreter and in the JIT on states drawn from the rest; every state
//! word and spike/activity flag of a real lane must agree.
#![no_main]
use libfuzzer_sys::fuzz_target;
use nerve_emulator::engine::KernelRunner;
use nerve_emulator::kernel::jit::Jit;
use nerve_emulator::kernel::{interp, padded, KernelData, Param};
use nerve_emulator::lines::LineVec;
use nerve_isa::instr::Instr;
use nerve_isa::kernel::Kernel;

const NS: usize = 4;
const NP: usize = 5;
const NI: usize = 3;

fuzz_target!(|data: &[u8]| {
    if data.len() < 9 {
        return;
    }
    let n = 1 + (data[0] % 13) as usize;
    let seed = u64::from_le_bytes(data[1..9].try_into().unwrap()) | 1;
    let code: Vec<Instr> = data[9..].chunks_exact(8).take(64).filter_map(|c| Instr::decode(u64::from_le_bytes(c.try_into().unwrap())).ok()).collect();
    let k = Kernel {
        name: "fuzz".into(),
        state: (0..NS).map(|i| format!("s{i}")).collect(),
        params: (0..NP).map(|i| format!("p{i}")).collect(),
        inputs: (0..NI).map(|i| format!("i{i}")).collect(),
        code,
    };
    if k.validate().is_err() {
        return;
    }
    let mut r = seed;
    let mut value = move || {
        r ^= r << 13;
        r ^= r >> 7;
        r ^= r << 17;
        const EDGES: [i32; 10] = [0, 1, -1, 2, i32::MAX, i32::MIN, 1 << 23, -(1 << 23), 4096, 32];
        match r % 3 {
            0 => EDGES[(r >> 8) as usize % EDGES.len()],
            1 => (r >> 16) as i32 >> ((r >> 8) % 32),
            _ => (r >> 24) as i32,
        }
    };
    let np = padded(n);
    let state: Vec<LineVec<i32>> = (0..NS).map(|_| (0..np).map(|_| value()).collect()).collect();
    let params: Vec<Param> =
        (0..NP).map(|_| if value() % 2 == 0 { Param::Uniform(value()) } else { Param::PerNeuron((0..np).map(|_| value()).collect()) }).collect();
    let input: Vec<i32> = (0..NI * np).map(|_| value()).collect();
    let d0 = KernelData { n, state, params };
    let mut di = KernelData { n, state: d0.state.clone(), params: d0.params.clone() };
    let mut fi = vec![0u8; np / 4];
    interp::run(&k, &mut di, &input, np, &mut fi);
    let jit = Jit::for_kernel(&k, &d0).expect("a valid kernel compiles");
    let mut dj = KernelData { n, state: d0.state.clone(), params: d0.params.clone() };
    let mut fj = vec![0u8; np / 4];
    jit.run(0, &k, &mut dj, &mut input.clone(), np, &mut fj);
    for s in 0..NS {
        assert_eq!(&di.state[s][..n], &dj.state[s][..n], "state {s}");
    }
    let masked = |f: &[u8]| {
        let mut v = f[..n.div_ceil(4)].to_vec();
        if n % 4 != 0 {
            let keep = (1u8 << (n % 4)) - 1;
            *v.last_mut().unwrap() &= keep | (keep << 4);
        }
        v
    };
    assert_eq!(masked(&fi), masked(&fj), "flags");
});
