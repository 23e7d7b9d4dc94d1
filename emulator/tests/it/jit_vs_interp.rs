//! Differential test: random kernels drawn from the opcode table, run on random
//! states full of edge values by the interpreter and by the JIT, must agree
//! bit for bit on every state word and every spike flag.

use nerve_emulator::engine::KernelRunner;
use nerve_emulator::kernel::interp;
use nerve_emulator::kernel::jit::{Backend, Jit};
use nerve_emulator::kernel::{padded, KernelData, Param};
use nerve_emulator::lines::LineVec;
use nerve_isa::instr::{Instr, Reg};
use nerve_isa::kernel::Kernel;
use nerve_isa::opcode::{Operand, OPCODES};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// Mostly edge values.
    fn value(&mut self) -> i32 {
        const EDGES: [i32; 16] = [0, 1, -1, 2, -2, i32::MAX, i32::MIN, i32::MAX - 1, i32::MIN + 1, 1 << 23, -(1 << 23), (1 << 23) - 1, 4095, 4096, 31, 32];
        match self.below(3) {
            0 => EDGES[self.below(EDGES.len() as u64) as usize],
            1 => (self.next() as i32) >> self.below(32),
            _ => self.next() as i32,
        }
    }
}

const NS: usize = 4;
const NP: usize = 5;
const NI: usize = 3;

fn random_kernel(r: &mut Rng, len: usize) -> Kernel {
    let mut code = Vec::with_capacity(len);
    for _ in 0..len {
        let info = &OPCODES[r.below(OPCODES.len() as u64) as usize];
        code.push(random_operands(r, info.opcode, 16));
    }
    let k = Kernel {
        name: "random".into(),
        state: (0..NS).map(|i| format!("s{i}")).collect(),
        params: (0..NP).map(|i| format!("p{i}")).collect(),
        inputs: (0..NI).map(|i| format!("i{i}")).collect(),
        code,
    };
    k.validate().unwrap();
    k
}

/// Instruction `op` with random operands: registers r0..regs, immediates
/// mostly edge values, aux values favouring the ends of their range.
fn random_operands(r: &mut Rng, op: nerve_isa::opcode::Opcode, regs: u64) -> Instr {
    let info = OPCODES.iter().find(|o| o.opcode == op).expect("every opcode is in the table");
    let mut ins = Instr::new(op);
    for o in info.format.operands() {
        let reg = |r: &mut Rng| Reg::new(r.below(regs) as u8).unwrap();
        match *o {
            Operand::Rd => ins.rd = reg(r),
            Operand::Ra => ins.ra = reg(r),
            Operand::Rb => ins.rb = reg(r),
            Operand::Rc => ins.rc = reg(r),
            Operand::Imm => ins.imm = r.value(),
            Operand::Aux { min, max } => {
                ins.aux = match r.below(4) {
                    0 => min,
                    1 => max,
                    _ => min + r.below((max - min) as u64 + 1) as u8,
                }
            }
            Operand::State => ins.aux = r.below(NS as u64) as u8,
            Operand::Param => ins.aux = r.below(NP as u64) as u8,
            Operand::Input => ins.aux = r.below(NI as u64) as u8,
        }
    }
    ins
}

fn random_data(r: &mut Rng, n: usize) -> (KernelData, Vec<i32>) {
    let np = padded(n);
    let state = (0..NS).map(|_| (0..np).map(|_| r.value()).collect()).collect();
    let params = (0..NP).map(|_| if r.below(2) == 0 { Param::Uniform(r.value()) } else { Param::PerNeuron((0..np).map(|_| r.value()).collect()) }).collect();
    let input = (0..NI * np).map(|_| r.value()).collect();
    (KernelData { n, state, params }, input)
}

/// Flags with the padding lanes cleared.
fn masked(f: &[u8], n: usize) -> Vec<u8> {
    let mut v = f[..n.div_ceil(4)].to_vec();
    if n % 4 != 0 {
        let keep = (1u8 << (n % 4)) - 1;
        *v.last_mut().unwrap() &= keep | (keep << 4);
    }
    v
}

/// Every backend this host can run: Cranelift everywhere, AVX-512 and AVX2 where the CPU has them.
fn backends() -> Vec<Backend> {
    let mut v = vec![Backend::Cranelift];
    if nerve_emulator::kernel::avx512::available() {
        v.push(Backend::Avx512);
    }
    if nerve_emulator::kernel::avx2::available() {
        v.push(Backend::Avx2);
    }
    v
}

fn clone(d: &KernelData) -> KernelData {
    KernelData { n: d.n, state: d.state.clone(), params: d.params.clone() }
}

#[test]
fn random_kernels_agree_bit_for_bit() {
    for backend in backends() {
        random_kernels_agree_on(backend);
    }
}

fn random_kernels_agree_on(backend: Backend) {
    let mut r = Rng(0x9e37_79b9_7f4a_7c15);
    let mut checked = 0;
    for case in 0..1500 {
        let len = 1 + r.below(48) as usize;
        let k = random_kernel(&mut r, len);
        // Up to 40 neurons: whole sixteen-lane iterations and a partial last one.
        let n = 1 + r.below(40) as usize;
        let (d0, input) = random_data(&mut r, n);
        let np = padded(n);
        let mut di = clone(&d0);
        let mut fi = vec![0u8; np / 4];
        interp::run(&k, &mut di, &input, np, &mut fi);
        let jit =
            Jit::for_kernel_with(&k, &d0, backend).unwrap_or_else(|e| panic!("{backend:?} case {case}: {e}\n{}", nerve_isa::kernel::asm::disassemble(&k)));
        assert_eq!(jit.backend, backend);
        // Run twice on the same state: the second pass starts from the first's results.
        let mut dj = clone(&d0);
        let mut fj = vec![0u8; np / 4];
        jit.run(0, &k, &mut dj, &mut input.clone(), np, &mut fj);
        for s in 0..NS {
            assert_eq!(&di.state[s][..n], &dj.state[s][..n], "{backend:?} case {case}: state {s} differs\n{}", nerve_isa::kernel::asm::disassemble(&k));
        }
        assert_eq!(masked(&fi, n), masked(&fj, n), "{backend:?} case {case}: spike/activity flags differ\n{}", nerve_isa::kernel::asm::disassemble(&k));
        // Compiled for a profile without idle updates: the same states and
        // spike bits, activity bits 0, and the input slots cleared all the same.
        let quiet = Jit::for_kernel_without_activity_with(&k, &d0, backend).unwrap();
        let (mut dq, mut fq, mut iq) = (clone(&d0), vec![0xffu8; np / 4], input.clone());
        quiet.run(0, &k, &mut dq, &mut iq, np, &mut fq);
        for s in 0..NS {
            assert_eq!(&di.state[s][..n], &dq.state[s][..n], "{backend:?} case {case} (no activity): state {s} differs");
        }
        let spikes_only: Vec<u8> = masked(&fi, n).iter().map(|f| f & 0x0f).collect();
        assert_eq!(spikes_only, masked(&fq, n), "{backend:?} case {case} (no activity): flags differ\n{}", nerve_isa::kernel::asm::disassemble(&k));
        assert!(iq.iter().all(|&x| x == 0), "{backend:?} case {case} (no activity): input not cleared");
        interp::run(&k, &mut di, &input, np, &mut fi);
        jit.run(0, &k, &mut dj, &mut input.clone(), np, &mut fj);
        for s in 0..NS {
            assert_eq!(&di.state[s][..n], &dj.state[s][..n], "{backend:?} case {case} (second pass): state {s} differs");
        }
        checked += n;
    }
    assert!(checked > 3000);
}

/// Each opcode alone, on every pair of edge values, through both engines.
#[test]
fn every_opcode_on_edge_values() {
    const EDGES: [i32; 12] = [0, 1, -1, 2, -3, i32::MAX, i32::MIN, i32::MAX - 1, i32::MIN + 1, 1 << 23, -(1 << 23), 4096];
    let n = EDGES.len() * EDGES.len();
    let np = padded(n);
    for info in OPCODES {
        let auxes: Vec<u8> = info
            .format
            .operands()
            .iter()
            .find_map(|o| match o {
                Operand::Aux { min, max } => Some((*min..=*max).collect()),
                _ => None,
            })
            .unwrap_or_else(|| vec![0]);
        for aux in auxes {
            // r1 = state 0 (a), r2 = state 1 (b), r3 = state 2 (c); rd = r4 stored to state 3.
            let mut body = Instr::new(info.opcode);
            body.rd = Reg::new(4).unwrap();
            body.ra = Reg::new(1).unwrap();
            body.rb = Reg::new(2).unwrap();
            body.rc = Reg::new(3).unwrap();
            body.imm = -7;
            body.aux = aux;
            let ops = info.format.operands();
            if !ops.contains(&Operand::Rd) {
                body.rd = Reg::new(0).unwrap();
            }
            for (o, f) in [(Operand::Ra, "ra"), (Operand::Rb, "rb"), (Operand::Rc, "rc")] {
                if !ops.contains(&o) {
                    match f {
                        "ra" => body.ra = Reg::new(0).unwrap(),
                        "rb" => body.rb = Reg::new(0).unwrap(),
                        _ => body.rc = Reg::new(0).unwrap(),
                    }
                }
            }
            if !ops.contains(&Operand::Imm) {
                body.imm = 0;
            }
            if ops.iter().any(|o| matches!(o, Operand::State | Operand::Param | Operand::Input)) {
                body.aux = 1;
            }
            let lds = |slot: u8, r: u8| Instr::rd_slot(nerve_isa::opcode::Opcode::Lds, Reg::new(r).unwrap(), slot);
            let code = vec![lds(0, 1), lds(1, 2), lds(2, 3), body, Instr::sts(3, Reg::new(4).unwrap())];
            let k = Kernel {
                name: info.mnemonic.into(),
                state: (0..4).map(|i| format!("s{i}")).collect(),
                params: vec!["p0".into(), "p1".into()],
                inputs: vec!["i0".into(), "i1".into()],
                code,
            };
            k.validate().unwrap();
            let mut a = vec![0; np];
            let mut b = vec![0; np];
            for (i, &x) in EDGES.iter().enumerate() {
                for (j, &y) in EDGES.iter().enumerate() {
                    a[i * EDGES.len() + j] = x;
                    b[i * EDGES.len() + j] = y;
                }
            }
            let c: Vec<i32> = (0..np).map(|i| if i % 3 == 0 { 0 } else { EDGES[i % EDGES.len()] }).collect();
            for uniform in [false, true] {
                let p1 = if uniform { Param::Uniform(-5) } else { Param::PerNeuron(b.clone()) };
                let d0 = KernelData {
                    n,
                    state: vec![a.clone().into(), b.clone().into(), c.clone().into(), vec![0; np].into()],
                    params: vec![Param::Uniform(3), p1],
                };
                let input: Vec<i32> = a.iter().chain(b.iter()).copied().collect();
                let mut di = clone(&d0);
                let mut fi = vec![0u8; np / 4];
                interp::run(&k, &mut di, &input, np, &mut fi);
                for backend in backends() {
                    let jit = Jit::for_kernel_with(&k, &d0, backend).unwrap();
                    let mut dj = clone(&d0);
                    let mut fj = vec![0u8; np / 4];
                    jit.run(0, &k, &mut dj, &mut input.clone(), np, &mut fj);
                    for s in 0..4 {
                        assert_eq!(&di.state[s][..n], &dj.state[s][..n], "{backend:?} `{}` aux {aux}: state {s}", info.mnemonic);
                    }
                    assert_eq!(masked(&fi, n), masked(&fj, n), "{backend:?} `{}` aux {aux}: flags", info.mnemonic);
                }
            }
        }
    }
}

/// shv with an amount known when compiling (movi / uniform parameter) takes the
/// immediate-shift path; with a per-neuron amount the per-lane path.
#[test]
fn shv_constant_and_variable_amounts() {
    let amounts = [-40, -32, -31, -1, 0, 1, 31, 32, 40, i32::MIN, i32::MAX];
    let vals = [5, -5, i32::MIN, i32::MAX, -1, 1 << 20];
    for &s in &amounts {
        let text = format!(".kernel t\n.state x, y\n.param e\n    lds r1, x\n    movi r2, {s}\n    shv r3, r1, r2\n    sts y, r3\n");
        let k = nerve_isa::kernel::asm::assemble(&text).unwrap();
        let n = vals.len();
        let np = padded(n);
        let mut x = vals.to_vec();
        x.resize(np, 0);
        let d0 = KernelData { n, state: vec![x.into(), vec![0; np].into()], params: vec![Param::Uniform(0)] };
        let mut di = clone(&d0);
        let mut f = vec![0u8; np / 4];
        interp::run(&k, &mut di, &[], np, &mut f);
        for backend in backends() {
            let mut dj = clone(&d0);
            Jit::for_kernel_with(&k, &d0, backend).unwrap().run(0, &k, &mut dj, &mut [], np, &mut f);
            assert_eq!(di.state[1][..n], dj.state[1][..n], "{backend:?}: shift {s}");
        }
        for (i, &v) in vals.iter().enumerate() {
            assert_eq!(di.state[1][i], nerve_isa::semantics::shv(v, s));
        }
    }
}

/// The activity rule written out: a neuron is active iff it received input,
/// spiked, or ended the update with a written state slot changed. Both engines.
#[test]
fn activity_rule_on_chosen_neurons() {
    let k = nerve_isa::kernel::asm::assemble(
        ".kernel act\n.state v, w, seed\n.param dv, fire\n.input exc\n\
         lds r1, v\n ldp r2, dv\n add r1, r1, r2\n sts v, r1\n\
         lds r3, w\n sts w, r3\n sts w, r2\n sts w, r3\n\
         ldp r4, fire\n spike r4\n ldin r5, exc\n",
    )
    .unwrap();
    // Neurons: 0 quiet; 1 v moves; 2 v moves by 0 (quiet); 3 spikes; 4 input; 5 quiet
    // (w is rewritten three times but ends as it began).
    let n = 6;
    let np = padded(n);
    let pad = |v: Vec<i32>| {
        let mut v = v;
        v.resize(np, 0);
        v
    };
    let d0 = KernelData {
        n,
        state: vec![pad(vec![5; 6]).into(), pad(vec![-7; 6]).into(), pad(vec![0; 6]).into()],
        params: vec![Param::PerNeuron(pad(vec![0, 3, 0, 0, 0, 0])), Param::PerNeuron(pad(vec![0, 0, 0, 1, 0, 0]))],
    };
    let input = pad(vec![0, 0, 0, 0, 9, 0]);
    let want_active = [false, true, false, true, true, false];
    let mut fi = vec![0u8; np / 4];
    let mut di = clone(&d0);
    interp::run(&k, &mut di, &input, np, &mut fi);
    let mut runs = vec![("interp".to_string(), fi)];
    for backend in backends() {
        let jit = Jit::for_kernel_with(&k, &d0, backend).unwrap();
        let mut dj = clone(&d0);
        let mut fj = vec![0u8; np / 4];
        jit.run(0, &k, &mut dj, &mut input.clone(), np, &mut fj);
        runs.push((format!("{backend:?}"), fj));
    }
    for (name, f) in &runs {
        for (i, &want) in want_active.iter().enumerate() {
            let active = f[i / 4] & (1 << (4 + i % 4)) != 0;
            assert_eq!(active, want, "{name}: neuron {i}");
        }
    }
}

/// Resident memory of this process, bytes (Linux; None elsewhere).
fn rss() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/statm").ok()?;
    Some(s.split_whitespace().nth(1)?.parse::<u64>().ok()? * 4096)
}

/// A dropped JIT gives its code memory back: compiling and dropping the
/// same kernel many times (as a Python session building simulator after
/// simulator does) leaves the process's memory where it was. Measured in a
/// process of its own (`jit_memory_probe`): other tests running alongside
/// move the resident size too.
#[test]
fn a_dropped_jit_frees_its_code() {
    if rss().is_none() {
        return;
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "jit_vs_interp::jit_memory_probe", "--nocapture", "--test-threads", "1"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    let grown: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("jit memory grown by "))
        .and_then(|x| x.trim().parse().ok())
        .unwrap_or_else(|| panic!("no figure from the probe:\n{text}"));
    // Each of these kernels holds ~9 KB of code: 800 kept would be ~7.5 MB.
    assert!(grown < 3 << 20, "800 compiled and dropped kernels left {grown} bytes resident");
}

#[test]
#[ignore = "run by a_dropped_jit_frees_its_code in a process of its own"]
fn jit_memory_probe() {
    let mut r = Rng(7);
    let k = random_kernel(&mut r, 400);
    let (d, _) = random_data(&mut r, 64);
    let mut keep = Jit::for_kernel(&k, &d).unwrap();
    let before = rss().unwrap();
    for _ in 0..800 {
        keep = Jit::for_kernel(&k, &d).unwrap();
    }
    drop(keep);
    eprintln!("jit memory grown by {}", rss().unwrap().saturating_sub(before));
}

/// A kernel writing more state slots than the AVX-512 backend keeps old values
/// of in registers (the rest go to the stack): each of twelve slots moves for
/// one neuron only, so every slot's change must reach the activity bits.
#[test]
fn activity_over_many_written_slots() {
    const SLOTS: usize = 12;
    let mut text = String::from(".kernel many\n.state ");
    text += &(0..SLOTS).map(|i| format!("s{i}")).collect::<Vec<_>>().join(", ");
    text += "\n.param ";
    text += &(0..SLOTS).map(|i| format!("d{i}")).collect::<Vec<_>>().join(", ");
    text += "\n";
    for i in 0..SLOTS {
        // Odd slots are written first and read back, even ones loaded first.
        if i % 2 == 1 {
            text += &format!("    ldp r1, d{i}\n    sts s{i}, r1\n    lds r1, s{i}\n    sts s{i}, r1\n");
        } else {
            text += &format!("    lds r1, s{i}\n    ldp r2, d{i}\n    add r1, r1, r2\n    sts s{i}, r1\n");
        }
    }
    let k = nerve_isa::kernel::asm::assemble(&text).unwrap();
    let n = 37;
    let np = padded(n);
    // Neuron 3i moves slot i (even slots add d = 1; odd slots are set to d, which
    // differs from the old value only there); other neurons stay as they were.
    let state: Vec<LineVec<i32>> = (0..SLOTS).map(|_| LineVec::zeroed(np)).collect();
    let params: Vec<Param> = (0..SLOTS)
        .map(|i| {
            let mut d = vec![0; np];
            d[3 * i] = 1;
            Param::PerNeuron(d)
        })
        .collect();
    let d0 = KernelData { n, state, params };
    let mut di = clone(&d0);
    let mut fi = vec![0u8; np / 4];
    interp::run(&k, &mut di, &[], np, &mut fi);
    for i in 0..n {
        let active = fi[i / 4] & (1 << (4 + i % 4)) != 0;
        assert_eq!(active, i % 3 == 0 && i / 3 < SLOTS, "interp: neuron {i}");
    }
    for backend in backends() {
        let jit = Jit::for_kernel_with(&k, &d0, backend).unwrap();
        let mut dj = clone(&d0);
        let mut fj = vec![0u8; np / 4];
        jit.run(0, &k, &mut dj, &mut [], np, &mut fj);
        assert_eq!(masked(&fi, n), masked(&fj, n), "{backend:?}: flags");
        for s in 0..SLOTS {
            assert_eq!(&di.state[s][..n], &dj.state[s][..n], "{backend:?}: state {s}");
        }
    }
}

/// Asking for the AVX-512 backend on a host without it is an error that says so.
#[test]
fn avx512_backend_is_refused_where_the_host_lacks_it() {
    let k = nerve_isa::kernel::asm::assemble(".kernel t\n.state x\n    lds r1, x\n    sts x, r1\n").unwrap();
    let d = KernelData { n: 4, state: vec![vec![0; 4].into()], params: vec![] };
    match Jit::for_kernel_with(&k, &d, Backend::Avx512) {
        Ok(j) => {
            assert!(nerve_emulator::kernel::avx512::available());
            assert_eq!(j.backend, Backend::Avx512);
        }
        Err(e) => {
            assert!(!nerve_emulator::kernel::avx512::available());
            assert!(e.to_string().contains("AVX-512"), "{e}");
        }
    }
    match Jit::for_kernel_with(&k, &d, Backend::Avx2) {
        Ok(j) => {
            assert!(nerve_emulator::kernel::avx2::available());
            assert_eq!(j.backend, Backend::Avx2);
        }
        Err(e) => {
            assert!(!nerve_emulator::kernel::avx2::available());
            assert!(e.to_string().contains("AVX2"), "{e}");
        }
    }
    let auto = Jit::for_kernel_with(&k, &d, Backend::Auto).unwrap();
    let want = if nerve_emulator::kernel::avx512::available() {
        Backend::Avx512
    } else if nerve_emulator::kernel::avx2::available() {
        Backend::Avx2
    } else {
        Backend::Cranelift
    };
    assert_eq!(auto.backend, want);
}

/// The AVX-512 backend merges two patterns into fewer instructions (a
/// constant added after a `mulshr` joins its rounding; `addi` read only by a
/// `sel` becomes one masked add): kernels made of those patterns, with random
/// instructions between their parts that keep or break them, agree with the
/// interpreter bit for bit, uniform parameters (constants when compiling) and
/// per-neuron ones alike. Checks too that the patterns were merged in many of them.
#[test]
fn merged_patterns_agree_bit_for_bit() {
    use nerve_isa::opcode::Opcode;
    let mut r = Rng(0x2545_f491_4f6c_dd1d);
    let reg = |r: &mut Rng| Reg::new(r.below(5) as u8).unwrap();
    let filler = |r: &mut Rng| -> Instr {
        let ops = [Opcode::Add, Opcode::Addi, Opcode::Movi, Opcode::Ldp, Opcode::Cmplt, Opcode::Sts, Opcode::Sat, Opcode::Mulshr];
        let op = ops[r.below(ops.len() as u64) as usize];
        random_operands(r, op, 5)
    };
    let fillers = |r: &mut Rng, code: &mut Vec<Instr>| {
        // Mostly none, so that most kernels keep their pattern.
        for _ in 0..[0, 0, 0, 1, 2][r.below(5) as usize] {
            code.push(filler(r));
        }
    };
    let mut merged_kernels = 0;
    for case in 0..600 {
        let mut code = Vec::new();
        for slot in 0..NS as u8 {
            code.push(Instr::rd_slot(Opcode::Lds, Reg::new(slot).unwrap(), slot));
        }
        let (m, x, c) = (reg(&mut r), reg(&mut r), reg(&mut r));
        // A decay with a constant added after it (through another add or not).
        let mut mul = Instr::new(Opcode::Mulshr);
        (mul.rd, mul.ra, mul.rb) = (m, x, Reg::new(5).unwrap());
        mul.aux = match r.below(4) {
            0 => 32,
            1 => 1 + r.below(31) as u8,
            2 => 33 + r.below(30) as u8,
            _ => 31,
        };
        let mut ldp = Instr::new(Opcode::Ldp);
        (ldp.rd, ldp.aux) = (Reg::new(5).unwrap(), r.below(NP as u64) as u8);
        code.push(ldp);
        code.push(mul);
        fillers(&mut r, &mut code);
        if r.below(2) == 0 {
            let mut add = Instr::new(Opcode::Add);
            (add.rd, add.ra, add.rb) = (m, x, m);
            code.push(add);
            fillers(&mut r, &mut code);
        }
        let mut k_ins = if r.below(2) == 0 { Instr::new(Opcode::Ldp) } else { Instr::new(Opcode::Movi) };
        k_ins.rd = c;
        if k_ins.op == Opcode::Ldp {
            k_ins.aux = r.below(NP as u64) as u8;
        } else {
            k_ins.imm = r.value();
        }
        code.push(k_ins);
        let mut add = if r.below(3) == 0 { Instr::new(Opcode::Addi) } else { Instr::new(Opcode::Add) };
        add.rd = m;
        if add.op == Opcode::Addi {
            (add.ra, add.imm) = (m, r.value());
        } else if r.below(2) == 0 {
            (add.ra, add.rb) = (m, c);
        } else {
            (add.ra, add.rb) = (c, m);
        }
        code.push(add);
        fillers(&mut r, &mut code);
        code.push(Instr::sts(r.below(NS as u64) as u8, m));
        // A counter stepped under a condition.
        let (a, y, cond) = (reg(&mut r), reg(&mut r), reg(&mut r));
        let mut cmp = Instr::new(Opcode::Cmplt);
        (cmp.rd, cmp.ra, cmp.rb) = (cond, Reg::new(6).unwrap(), y);
        code.push(cmp);
        let mut addi = Instr::new(Opcode::Addi);
        (addi.rd, addi.ra, addi.imm) = (a, y, r.value());
        code.push(addi);
        fillers(&mut r, &mut code);
        let mut sel = Instr::new(Opcode::Sel);
        (sel.rd, sel.rc, sel.ra, sel.rb) = (y, cond, a, y);
        code.push(sel);
        fillers(&mut r, &mut code);
        code.push(Instr::sts(r.below(NS as u64) as u8, y));
        if r.below(4) == 0 {
            code.push(Instr::sts(r.below(NS as u64) as u8, a));
        }
        let k = Kernel {
            name: "merged".into(),
            state: (0..NS).map(|i| format!("s{i}")).collect(),
            params: (0..NP).map(|i| format!("p{i}")).collect(),
            inputs: (0..NI).map(|i| format!("i{i}")).collect(),
            code,
        };
        if k.validate().is_err() {
            continue;
        }
        let n = 1 + r.below(40) as usize;
        let (d0, input) = random_data(&mut r, n);
        let consts: Vec<Option<i32>> = d0.params.iter().map(|p| if let Param::Uniform(v) = p { Some(*v) } else { None }).collect();
        if nerve_emulator::kernel::avx512::merged(&k, &consts) > 0 {
            merged_kernels += 1;
        }
        let np = padded(n);
        let mut di = clone(&d0);
        let mut fi = vec![0u8; np / 4];
        interp::run(&k, &mut di, &input, np, &mut fi);
        for backend in backends() {
            for activity in [true, false] {
                let jit = if activity { Jit::for_kernel_with(&k, &d0, backend) } else { Jit::for_kernel_without_activity_with(&k, &d0, backend) }.unwrap();
                let mut dj = clone(&d0);
                let mut fj = vec![0u8; np / 4];
                jit.run(0, &k, &mut dj, &mut input.clone(), np, &mut fj);
                for s in 0..NS {
                    assert_eq!(&di.state[s][..n], &dj.state[s][..n], "{backend:?} case {case}: state {s} differs\n{}", nerve_isa::kernel::asm::disassemble(&k));
                }
                let want: Vec<u8> = masked(&fi, n).iter().map(|f| if activity { *f } else { f & 0x0f }).collect();
                assert_eq!(want, masked(&fj, n), "{backend:?} case {case}: flags differ\n{}", nerve_isa::kernel::asm::disassemble(&k));
            }
        }
    }
    assert!(merged_kernels > 300, "only {merged_kernels} kernels had a merged pattern");
}

/// Values for fewer parameter slots than the kernel has are refused when
/// compiling, by every backend: Cranelift's indexed past them (a panic),
/// and the avx512 function, compiled to read them from the table, was
/// given none at run time and read through a null pointer (a crash from
/// safe code).
#[test]
fn a_jit_for_fewer_parameter_values_than_slots_is_refused() {
    let src = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/kernels/if.s")).unwrap();
    let k = nerve_isa::kernel::asm::assemble(&src).unwrap();
    assert!(!k.params.is_empty());
    let n = 16;
    let state: Vec<LineVec<i32>> = (0..k.state.len()).map(|_| LineVec::from_slice_padded(&[0i32; 16], n)).collect();
    for backend in backends() {
        let short = KernelData { n, state: state.clone(), params: vec![] };
        let e = Jit::for_kernel_with(&k, &short, backend).err().map(|e| e.to_string());
        let want = format!("0 parameter value(s) given for the kernel's {} parameter slot(s)", k.params.len());
        assert!(e.as_deref().is_some_and(|e| e.contains(&want)), "{backend:?}: {e:?}");
    }
}

/// Kernels aimed at the native backends' register allocation and lane
/// masks (tests/data/kernels: more values live than AVX2 has registers, a
/// mask spilled and reloaded as a value, an operand read for the last time
/// by the instruction that needs a register, a mask that is both a select's
/// condition and operand, activity from a slot only `rand` writes; each
/// fails a copy of the AVX2 backend with the matching rule broken), on data
/// whose input lanes are mostly 0 so that state changes decide activity,
/// with and without activity bits, in arrays with sentinel lanes past the
/// padding that no backend may touch.
#[test]
fn allocator_and_mask_kernels_agree_bit_for_bit() {
    const SENTINEL: i32 = 0x5a5a_5a5a;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/kernels");
    let mut names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    names.sort();
    assert!(names.len() >= 5, "{names:?}");
    let mut r = Rng(0x51_7cc1_b727_220a);
    for path in names {
        let k = nerve_isa::kernel::asm::assemble(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for n in [1, 3, 4, 5, 8, 9, 12, 13, 25, 28, 40] {
            for _ in 0..6 {
                let np = padded(n);
                let state: Vec<nerve_emulator::lines::LineVec<i32>> =
                    (0..k.state.len()).map(|_| (0..np + 8).map(|i| if i < np { r.value() } else { SENTINEL }).collect::<Vec<i32>>().into()).collect();
                let params = (0..k.params.len())
                    .map(|_| if r.below(2) == 0 { Param::Uniform(r.value()) } else { Param::PerNeuron((0..np).map(|_| r.value()).collect()) })
                    .collect();
                let d0 = KernelData { n, state, params };
                let ports = k.inputs.len() * np;
                let input: Vec<i32> = (0..ports + 8)
                    .map(|i| {
                        if i >= ports {
                            SENTINEL
                        } else if r.below(4) == 0 {
                            r.value()
                        } else {
                            0
                        }
                    })
                    .collect();
                let mut di = clone(&d0);
                let mut fi = vec![0u8; np / 4];
                interp::run(&k, &mut di, &input, np, &mut fi);
                for backend in backends() {
                    for activity in [true, false] {
                        let jit =
                            if activity { Jit::for_kernel_with(&k, &d0, backend) } else { Jit::for_kernel_without_activity_with(&k, &d0, backend) }.unwrap();
                        let (mut dj, mut ij) = (clone(&d0), input.clone());
                        let mut fj = vec![0u8; np / 4 + 4];
                        fj[np / 4..].fill(0xa5);
                        jit.run(0, &k, &mut dj, &mut ij, np, &mut fj);
                        let what = format!("{backend:?}, {}, n {n}, activity {activity}", path.display());
                        for s in 0..k.state.len() {
                            assert_eq!(&di.state[s][..n], &dj.state[s][..n], "{what}: state {s}");
                            assert!(dj.state[s][np..].iter().all(|&x| x == SENTINEL), "{what}: state {s} written past its lanes");
                        }
                        let want: Vec<u8> = masked(&fi, n).iter().map(|f| if activity { *f } else { f & 0x0f }).collect();
                        assert_eq!(want, masked(&fj, n), "{what}: flags");
                        assert!(fj[np / 4..].iter().all(|&x| x == 0xa5), "{what}: flags written past their groups");
                        assert!(ij[..ports].iter().all(|&x| x == 0), "{what}: inputs not cleared");
                        assert!(ij[ports..].iter().all(|&x| x == SENTINEL), "{what}: inputs written past their lanes");
                    }
                }
            }
        }
    }
}
