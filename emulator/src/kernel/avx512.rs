//! The JIT's AVX-512 backend: a neuron kernel translated straight into
//! x86-64 machine code that updates sixteen neurons per iteration in 512-bit
//! registers. Cranelift's x64 backend has 128-bit vectors only, so on a host
//! with AVX-512 each of its instructions does a quarter of what the hardware
//! can; here every kernel register lives in its own zmm register (r0–r15 in
//! zmm0–zmm15; the rest are temporaries and constants), most opcodes become
//! one or two instructions, and the last, partial iteration runs the same
//! code under a lane mask.
//!
//! The function has the Cranelift functions' signature and contract
//! (`jit::KernelFn`): it reads and writes lanes `0..4·groups` of every array,
//! writes one flags byte per group of four lanes, and clears the inputs. The
//! interpreter stays the specification: tests/jit_vs_interp.rs runs random
//! kernels and edge values through every backend the host has.
//!
//! Register use: rdi state table, rsi parameter table, rdx inputs, rcx port
//! stride in bytes, r8 the flags pointer (advances 4 bytes per iteration), r9
//! full iterations left, r10 the lanes' byte offset, r11 groups in the last
//! partial iteration, rax/rbx scratch, r12/r13 the `pdep` masks that spread
//! sixteen spike and activity bits over four flags bytes. k1 the lanes of
//! this iteration, k2–k4 compare results, k5 spikes, k6 a temporary (at the end, activity), k7 even lanes.

use iced_x86::code_asm::*;
use std::collections::BTreeMap;

use super::Rounding;

pub(crate) mod fuse;
use iced_x86::IcedError;
use nerve_isa::instr::NUM_REGS;
use nerve_isa::kernel::Kernel;
use nerve_isa::opcode::Opcode;

/// True if this host can run the backend's code: AVX-512 F, DQ, BW and VL
/// (512-bit integer operations, 64-bit shifts and multiplies, masks, byte
/// stores) and BMI2 (`pdep`, `shlx`).
pub fn available() -> bool {
    // The code takes the System V calling convention's registers
    // (`jit::KernelFn` is `extern "C"`, Microsoft's convention on Windows).
    #[cfg(all(target_arch = "x86_64", not(windows)))]
    {
        std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512dq")
            && std::arch::is_x86_feature_detected!("avx512bw")
            && std::arch::is_x86_feature_detected!("avx512vl")
            && std::arch::is_x86_feature_detected!("bmi2")
    }
    #[cfg(not(all(target_arch = "x86_64", not(windows))))]
    {
        false
    }
}

/// How many of kernel `k`'s instructions the backend merges into others,
/// compiled for the uniform parameter values `consts` (tests check both paths).
#[doc(hidden)]
pub fn merged(k: &Kernel, consts: &[Option<i32>]) -> usize {
    let p = fuse::plan(k, consts);
    p.folded.iter().filter(|&&f| f).count() + p.addi_into_sel.iter().filter(|q| q.is_some()).count()
}

const ZMM: [AsmRegisterZmm; 32] = [
    zmm0, zmm1, zmm2, zmm3, zmm4, zmm5, zmm6, zmm7, zmm8, zmm9, zmm10, zmm11, zmm12, zmm13, zmm14, zmm15, zmm16, zmm17, zmm18, zmm19, zmm20, zmm21, zmm22,
    zmm23, zmm24, zmm25, zmm26, zmm27, zmm28, zmm29, zmm30, zmm31,
];
/// Temporaries of one instruction's sequence.
const T: [AsmRegisterZmm; 6] = [zmm16, zmm17, zmm18, zmm19, zmm20, zmm21];
/// Old values of the first written state slots (the activity test); later ones go to the stack.
const OLD_REGS: [AsmRegisterZmm; 7] = [zmm22, zmm23, zmm24, zmm25, zmm26, zmm27, zmm28];
/// OR of this iteration's inputs and written slots' changes.
const ANY: AsmRegisterZmm = zmm29;
const ZERO: AsmRegisterZmm = zmm30;
/// 1 in every lane (compare results).
const ONE: AsmRegisterZmm = zmm31;
/// 64-byte stack slots for old values of written slots beyond `OLD_REGS`.
const STACK_SLOTS: usize = nerve_isa::instr::MAX_STATE_SLOTS;
/// Where the input ports' array pointers are kept on the stack.
const INPUTS_AT: i32 = (64 * STACK_SLOTS) as i32;

/// What is known about a register when compiling: the same value in every lane.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Known {
    Const(i32),
    Unknown,
}

#[derive(Clone, Copy)]
enum Old {
    Reg(AsmRegisterZmm),
    Stack(i32),
}

/// Machine code for kernel `k` with the uniform parameter values `consts`
/// (`None`: per neuron); `activity`: compute the activity bits.
pub(crate) fn assemble(k: &Kernel, consts: &[Option<i32>], activity: bool) -> Result<Vec<u8>, IcedError> {
    let mut e = Emit::new(k, consts, activity)?;
    e.function()?;
    e.a.assemble(0)
}

struct Emit<'a> {
    a: CodeAssembler,
    k: &'a Kernel,
    consts: &'a [Option<i32>],
    activity: bool,
    /// Per state slot: where its value before this iteration is kept (written slots, with activity).
    old: Vec<Option<Old>>,
    /// Per state slot: its first access in the program is a load (that load gives the old value).
    first_is_load: Vec<bool>,
    /// Per state slot: the instruction that writes it last (the activity test joins there).
    last_write: Vec<Option<usize>>,
    /// Constants read from memory (broadcast operands), placed after the code.
    pool32: BTreeMap<i32, CodeLabel>,
    pool64: BTreeMap<i64, CodeLabel>,
    /// Per kernel register: the mask register (index into `KS`) holding its truth (a compare's result, 0 or 1).
    mask: [Option<usize>; NUM_REGS],
    /// Per kernel register: its value is only in its mask so far (written to the zmm register when read as a value).
    pending: [bool; NUM_REGS],
    /// The mask register handed out longest ago (round robin over `KS`).
    next_k: usize,
    /// The instruction being translated.
    pc: usize,
    /// Translating the last, partial iteration (loads and stores under k1).
    tail: bool,
    /// Constants (`movi` values, uniform parameters) kept in spare registers,
    /// broadcast once before the loop.
    const_regs: BTreeMap<i32, AsmRegisterZmm>,
    /// Per kernel register: the zmm register holding its value now (its own,
    /// or a constant's: loading a constant costs nothing in the loop).
    loc: [AsmRegisterZmm; NUM_REGS],
    /// Instructions merged into others (`fuse::plan`).
    plan: fuse::Plan,
    /// Per instruction: a `sel` that adds this immediate under its mask, its
    /// `addi` having been left out (decided at the `addi`, this iteration).
    masked_add: Vec<Option<i32>>,
}

/// Mask registers for compare results (k1 and k5–k7 have fixed roles).
const KS: [AsmRegisterK; 3] = [k2, k3, k4];

fn masked(r: AsmRegisterZmm, k: usize) -> AsmRegisterZmm {
    match k {
        0 => r.k2(),
        1 => r.k3(),
        _ => r.k4(),
    }
}

impl<'a> Emit<'a> {
    fn new(k: &'a Kernel, consts: &'a [Option<i32>], activity: bool) -> Result<Self, IcedError> {
        let n_slots = k.state.len();
        let (first_is_load, mut last_write) = slot_uses(k);
        let mut old = vec![None; n_slots];
        if activity {
            for (i, &s) in k.written_state().iter().enumerate() {
                old[s as usize] = Some(match OLD_REGS.get(i) {
                    Some(&r) => Old::Reg(r),
                    None => Old::Stack((64 * i) as i32),
                });
            }
        } else {
            last_write.iter_mut().for_each(|w| *w = None);
        }
        // Spare registers: kernel registers the program never names, and the old-value
        // registers the activity test does not need.
        let mut named = [false; NUM_REGS];
        for ins in &k.code {
            for r in reads(ins) {
                named[r] = true;
            }
            if writes_reg(ins.op) {
                named[ins.rd.index()] = true;
            }
        }
        let olds_used = if activity { k.written_state().len().min(OLD_REGS.len()) } else { 0 };
        let mut spare = (0..NUM_REGS).filter(|&r| !named[r]).map(|r| ZMM[r]).chain(OLD_REGS[olds_used..].iter().copied());
        let mut const_regs = BTreeMap::new();
        for ins in &k.code {
            let c = match ins.op {
                Opcode::Movi => Some(ins.imm),
                Opcode::Ldp => consts.get(ins.aux as usize).copied().flatten(),
                _ => None,
            };
            if let Some(c) = c.filter(|&c| c != 0 && !const_regs.contains_key(&c)) {
                match spare.next() {
                    Some(r) => const_regs.insert(c, r),
                    None => break,
                };
            }
        }
        Ok(Emit {
            a: CodeAssembler::new(64)?,
            k,
            consts,
            activity,
            old,
            first_is_load,
            last_write,
            pool32: BTreeMap::new(),
            pool64: BTreeMap::new(),
            mask: [None; NUM_REGS],
            pending: [false; NUM_REGS],
            next_k: 0,
            pc: 0,
            tail: false,
            const_regs,
            loc: [ZERO; NUM_REGS],
            plan: fuse::plan(k, consts),
            masked_add: vec![None; k.code.len()],
        })
    }

    fn function(&mut self) -> Result<(), IcedError> {
        let a = &mut self.a;
        // Frame: rbx, r12–r15 saved; a 64-byte aligned area for old values.
        a.push(rbp)?;
        a.mov(rbp, rsp)?;
        a.push(rbx)?;
        a.push(r12)?;
        a.push(r13)?;
        a.push(r14)?;
        a.push(r15)?;
        a.sub(rsp, (64 * STACK_SLOTS + 8 * nerve_isa::instr::MAX_INPUT_PORTS + 64) as i32)?;
        a.and(rsp, -64)?;
        a.shl(rcx, 2)?;
        for p in 0..self.k.inputs.len() {
            a.imul_3(rax, rcx, p as i32)?;
            a.add(rax, rdx)?;
            a.mov(qword_ptr(rsp + INPUTS_AT + 8 * p as i32), rax)?;
        }
        a.mov(r11, r9)?;
        a.shr(r9, 2)?;
        a.and(r11, 3)?;
        a.xor(r10d, r10d)?;
        a.mov(r12d, 0x0F0F_0F0Fu32 as i32)?;
        a.mov(r13d, 0xF0F0_F0F0u32 as i32)?;
        a.vpxord(ZERO, ZERO, ZERO)?;
        a.mov(eax, 1)?;
        a.vpbroadcastd(ONE, eax)?;
        a.mov(eax, 0x5555)?;
        a.kmovw(k7, eax)?;
        let consts: Vec<(i32, AsmRegisterZmm)> = self.const_regs.iter().map(|(&c, &r)| (c, r)).collect();
        for (c, r) in consts {
            let l = self.c32(c);
            self.a.vpbroadcastd(r, dword_ptr(l))?;
        }
        let a = &mut self.a;
        a.mov(eax, 0xFFFF)?;
        a.kmovw(k1, eax)?;

        let mut top = a.create_label();
        let mut tail = a.create_label();
        let mut done = a.create_label();
        a.set_label(&mut top)?;
        a.test(r9, r9)?;
        a.jz(tail)?;
        self.body()?;
        let a = &mut self.a;
        a.mov(dword_ptr(r8), eax)?;
        a.add(r10, 64)?;
        a.add(r8, 4)?;
        a.dec(r9)?;
        a.jmp(top)?;

        a.set_label(&mut tail)?;
        a.test(r11, r11)?;
        a.jz(done)?;
        // k1 = the first 4·r11 lanes.
        a.lea(rbx, qword_ptr(r11 * 4))?;
        a.mov(eax, 1)?;
        a.shlx(eax, eax, ebx)?;
        a.dec(eax)?;
        a.kmovw(k1, eax)?;
        self.tail = true;
        self.body()?;
        // Flags of the r11 (1–3) groups, one byte each.
        let a = &mut self.a;
        a.mov(byte_ptr(r8), al)?;
        a.cmp(r11, 1)?;
        a.je(done)?;
        a.shr(eax, 8)?;
        a.mov(byte_ptr(r8 + 1), al)?;
        a.cmp(r11, 2)?;
        a.je(done)?;
        a.shr(eax, 8)?;
        a.mov(byte_ptr(r8 + 2), al)?;

        a.set_label(&mut done)?;
        a.vzeroupper()?;
        a.lea(rsp, qword_ptr(rbp - 40))?;
        a.pop(r15)?;
        a.pop(r14)?;
        a.pop(r13)?;
        a.pop(r12)?;
        a.pop(rbx)?;
        a.pop(rbp)?;
        a.ret()?;
        // The constant pool.
        for (x, l) in self.pool64.iter_mut() {
            self.a.set_label(l)?;
            self.a.dq_i(&[*x])?;
        }
        for (x, l) in self.pool32.iter_mut() {
            self.a.set_label(l)?;
            self.a.dd_i(&[*x])?;
        }
        Ok(())
    }

    /// One iteration over the lanes in k1; leaves the four flags bytes in eax.
    fn body(&mut self) -> Result<(), IcedError> {
        let k = self.k;
        // Registers read before any write start at 0, as in the interpreter: the zero register.
        self.loc = [ZERO; NUM_REGS];
        self.a.kxorw(k5, k5, k5)?;
        if self.activity {
            self.a.vpxord(ANY, ANY, ANY)?;
        }
        // Old values of written slots not first read by the program itself.
        for s in 0..k.state.len() {
            if let Some(o) = self.old[s] {
                if !self.first_is_load[s] {
                    self.state_addr(s)?;
                    self.load(T[0])?;
                    self.keep_old(o, T[0])?;
                }
            }
        }
        let mut known = [Known::Const(0); NUM_REGS];
        self.masked_add.iter_mut().for_each(|m| *m = None);
        let mut input_read = vec![false; k.inputs.len()];
        let mut slot_loaded = vec![false; k.state.len()];
        self.mask = [None; NUM_REGS];
        self.pending = [false; NUM_REGS];
        for (pc, ins) in k.code.iter().enumerate() {
            self.pc = pc;
            let (ia, ib, ic) = (ins.ra.index(), ins.rb.index(), ins.rc.index());
            let (rd, ra, rb, rc) = (ZMM[ins.rd.index()], self.loc[ia], self.loc[ib], self.loc[ic]);
            let aux = ins.aux;
            let mut kn = Known::Unknown;
            // Compare results stay in mask registers while only selects, spikes and
            // logic on other compare results read them.
            let zero_test = ins.op == Opcode::Cmpeq
                && ((known[ib] == Known::Const(0) && self.mask[ia].is_some()) || (known[ia] == Known::Const(0) && self.mask[ib].is_some()));
            let logic = matches!(ins.op, Opcode::And | Opcode::Or | Opcode::Xor) && self.mask[ia].is_some() && self.mask[ib].is_some();
            let as_values: Vec<usize> = match ins.op {
                Opcode::Sel if self.mask[ic].is_some() => vec![ia, ib],
                Opcode::Spike if self.mask[ia].is_some() => vec![],
                _ if logic || zero_test => vec![],
                _ => reads(ins),
            };
            for r in as_values {
                self.value(r)?;
            }
            let mut new_mask: Option<usize> = None;
            // Where rd's new value is, if not in rd's own register (a constant's).
            let mut alias: Option<AsmRegisterZmm> = None;
            if logic {
                let (ka, kb) = (self.mask[ia].unwrap_or(0), self.mask[ib].unwrap_or(0));
                let kd = self.alloc_k(&[ka, kb])?;
                match ins.op {
                    Opcode::And => self.a.kandw(KS[kd], KS[ka], KS[kb])?,
                    Opcode::Or => self.a.korw(KS[kd], KS[ka], KS[kb])?,
                    _ => self.a.kxorw(KS[kd], KS[ka], KS[kb])?,
                }
                self.set_mask(ins.rd.index(), kd);
                known[ins.rd.index()] = Known::Unknown;
                self.loc[ins.rd.index()] = rd;
                continue;
            }
            if zero_test {
                let kx = if known[ib] == Known::Const(0) && self.mask[ia].is_some() { self.mask[ia] } else { self.mask[ib] }.unwrap_or(0);
                let kd = self.alloc_k(&[kx])?;
                self.a.knotw(KS[kd], KS[kx])?;
                self.set_mask(ins.rd.index(), kd);
                known[ins.rd.index()] = Known::Unknown;
                self.loc[ins.rd.index()] = rd;
                continue;
            }
            // The operands' masks, before writing rd voids its own.
            let (mask_a, mask_c) = (self.mask[ia], self.mask[ic]);
            if writes_reg(ins.op) {
                self.forget(ins.rd.index());
            }
            // Merged into an earlier `mulshr`'s rounding, or into a later `sel`.
            let folded = self.plan.folded[pc];
            let fused_sel = self.plan.addi_into_sel[pc].filter(|_| self.loc[ia] == ZMM[ia]);
            if let Some(q) = fused_sel {
                self.masked_add[q] = Some(ins.imm);
            }
            let a = &mut self.a;
            match ins.op {
                _ if folded || fused_sel.is_some() => {}
                Opcode::Movi => {
                    kn = Known::Const(ins.imm);
                    alias = self.constant(rd, ins.imm)?;
                }
                Opcode::Mov => {
                    kn = known[ins.ra.index()];
                    if ra == ZERO || self.const_regs.values().any(|&c| c == ra) {
                        alias = Some(ra);
                    } else {
                        a.vmovdqa32(rd, ra)?;
                    }
                }
                Opcode::Lds => {
                    let s = aux as usize;
                    self.state_addr(s)?;
                    self.load(rd)?;
                    if !slot_loaded[s] && self.first_is_load[s] {
                        if let Some(o) = self.old[s] {
                            self.keep_old(o, rd)?;
                        }
                    }
                    slot_loaded[s] = true;
                }
                Opcode::Sts => {
                    let s = aux as usize;
                    slot_loaded[s] = true;
                    self.state_addr(s)?;
                    self.store(ra)?;
                    if self.last_write[s] == Some(pc) {
                        self.join_change(s, ra)?;
                    }
                }
                Opcode::Ldp => match self.consts.get(aux as usize).copied().flatten() {
                    // The function is compiled for these uniform values.
                    Some(x) => {
                        kn = Known::Const(x);
                        alias = self.constant(rd, x)?;
                    }
                    None => {
                        a.mov(rax, qword_ptr(rsi + 8 * aux as i32))?;
                        self.load(rd)?;
                    }
                },
                Opcode::Ldin => {
                    let p = aux as usize;
                    self.input_addr(p)?;
                    self.load(rd)?;
                    if self.activity && !input_read[p] {
                        self.a.vpord(ANY, ANY, rd)?;
                    }
                    input_read[p] = true;
                }
                Opcode::Add => a.vpaddd(rd, ra, rb)?,
                Opcode::Sub => a.vpsubd(rd, ra, rb)?,
                Opcode::Addi => {
                    let c = self.c32(ins.imm);
                    self.a.vpaddd(rd, ra, dword_bcst(c))?;
                }
                Opcode::Adds | Opcode::Subs => {
                    // Overflow where the operands' signs make it possible and the result's sign is wrong.
                    if ins.op == Opcode::Adds {
                        a.vpaddd(T[0], ra, rb)?;
                        a.vpxord(T[1], ra, T[0])?;
                        a.vpxord(T[2], rb, T[0])?;
                    } else {
                        a.vpsubd(T[0], ra, rb)?;
                        a.vpxord(T[1], ra, rb)?;
                        a.vpxord(T[2], ra, T[0])?;
                    }
                    a.vpandd(T[1], T[1], T[2])?;
                    a.vpmovd2m(k6, T[1])?;
                    // The saturated value: MAX for a ≥ 0, MIN for a < 0.
                    a.vpsrad(T[2], ra, 31)?;
                    let c = self.c32(i32::MAX);
                    self.a.vpxord(T[2], T[2], dword_bcst(c))?;
                    self.a.vpblendmd(rd.k6(), T[0], T[2])?;
                }
                Opcode::Neg => a.vpsubd(rd, ZERO, ra)?,
                Opcode::Abs => a.vpabsd(rd, ra)?,
                Opcode::Mul => a.vpmulld(rd, ra, rb)?,
                Opcode::Mulsh | Opcode::Mulshr | Opcode::Mulshz => {
                    let rounding = Rounding::of(ins.op);
                    // A factor with one value in every lane needs no shift for the odd lanes.
                    let (x, y, y_uniform) = match (known[ins.ra.index()], known[ins.rb.index()]) {
                        (_, Known::Const(_)) => (ra, rb, true),
                        (Known::Const(_), _) => (rb, ra, true),
                        _ => (ra, rb, false),
                    };
                    let extra = self.plan.rounding_add[pc].unwrap_or(0);
                    self.mul_shift(rd, x, y, y_uniform, rounding, aux, extra)?;
                }
                Opcode::Shl => a.vpslld(rd, ra, aux as i32)?,
                Opcode::Shr => a.vpsrad(rd, ra, aux as i32)?,
                Opcode::Shv => match known[ins.rb.index()] {
                    Known::Const(s) if s >= 32 => a.vpxord(rd, rd, rd)?,
                    Known::Const(s) if s >= 0 => a.vpslld(rd, ra, s)?,
                    Known::Const(s) if s >= -31 => a.vpsrad(rd, ra, -s)?,
                    Known::Const(_) => a.vpsrad(rd, ra, 31)?,
                    Known::Unknown => {
                        // Both directions, chosen by rb's sign; counts ≥ 32 give 0 left and the sign right
                        // (−MIN is MIN, 2^31 as an unsigned count).
                        a.vpsllvd(T[0], ra, rb)?;
                        a.vpsubd(T[1], ZERO, rb)?;
                        a.vpsravd(T[1], ra, T[1])?;
                        a.vpmovd2m(k6, rb)?;
                        a.vpblendmd(rd.k6(), T[0], T[1])?;
                    }
                },
                Opcode::Wrap => {
                    let s = 32 - aux as i32;
                    a.vpslld(T[0], ra, s)?;
                    a.vpsrad(rd, T[0], s)?;
                }
                Opcode::Sat => {
                    let hi = ((1i64 << (aux - 1)) - 1) as i32;
                    let lo = (-(1i64 << (aux - 1))) as i32;
                    let (c_lo, c_hi) = (self.c32(lo), self.c32(hi));
                    self.a.vpmaxsd(T[0], ra, dword_bcst(c_lo))?;
                    self.a.vpminsd(rd, T[0], dword_bcst(c_hi))?;
                }
                Opcode::Min => a.vpminsd(rd, ra, rb)?,
                Opcode::Max => a.vpmaxsd(rd, ra, rb)?,
                Opcode::And => a.vpandd(rd, ra, rb)?,
                Opcode::Or => a.vpord(rd, ra, rb)?,
                Opcode::Xor => a.vpxord(rd, ra, rb)?,
                Opcode::Cmplt | Opcode::Cmple | Opcode::Cmpeq | Opcode::Cmpltu => {
                    let kd = self.alloc_k(&[])?;
                    match ins.op {
                        Opcode::Cmpeq => self.a.vpcmpd(KS[kd], ra, rb, 0)?,
                        Opcode::Cmplt => self.a.vpcmpd(KS[kd], ra, rb, 1)?,
                        Opcode::Cmple => self.a.vpcmpd(KS[kd], ra, rb, 2)?,
                        _ => self.a.vpcmpud(KS[kd], ra, rb, 1)?,
                    }
                    new_mask = Some(kd);
                }
                Opcode::Sel => match (mask_c, self.masked_add[pc]) {
                    // rd is rb, in its own register (`fuse::plan`, and checked at the `addi`).
                    (Some(kc), Some(imm)) => {
                        let c = self.c32(imm);
                        self.a.vpaddd(masked(rd, kc), rb, dword_bcst(c))?;
                    }
                    (None, Some(imm)) => {
                        let c = self.c32(imm);
                        self.a.vptestmd(k6, rc, rc)?;
                        self.a.vpaddd(rd.k6(), rb, dword_bcst(c))?;
                    }
                    (Some(kc), None) => self.a.vpblendmd(masked(rd, kc), rb, ra)?,
                    (None, None) => {
                        a.vptestmd(k6, rc, rc)?;
                        a.vpblendmd(rd.k6(), rb, ra)?;
                    }
                },
                Opcode::Rand => {
                    let s = aux as usize;
                    slot_loaded[s] = true;
                    self.state_addr(s)?;
                    self.load(T[0])?;
                    let a = &mut self.a;
                    a.vpslld(T[1], T[0], 13)?;
                    a.vpxord(T[0], T[0], T[1])?;
                    a.vpsrld(T[1], T[0], 17)?;
                    a.vpxord(T[0], T[0], T[1])?;
                    a.vpslld(T[1], T[0], 5)?;
                    a.vpxord(T[0], T[0], T[1])?;
                    self.store(T[0])?;
                    if self.last_write[s] == Some(pc) {
                        self.join_change(s, T[0])?;
                    }
                    self.a.vmovdqa32(rd, T[0])?;
                }
                Opcode::Spike => match mask_a {
                    Some(ka) => self.a.korw(k5, k5, KS[ka])?,
                    None => {
                        a.vptestmd(k6, ra, ra)?;
                        a.korw(k5, k5, k6)?;
                    }
                },
            }
            if writes_reg(ins.op) {
                known[ins.rd.index()] = kn;
                self.loc[ins.rd.index()] = alias.unwrap_or(rd);
                if let Some(kd) = new_mask {
                    self.set_mask(ins.rd.index(), kd);
                }
            }
        }
        // Inputs: those the program never read join the activity test; all are cleared.
        for (p, &read) in input_read.iter().enumerate() {
            self.input_addr(p)?;
            if self.activity && !read {
                self.load(T[0])?;
                self.a.vpord(ANY, ANY, T[0])?;
            }
            self.store(ZERO)?;
        }
        // Flags: spike bits of lanes 4g..4g+3 into bits 0–3 of byte g, activity into 4–7.
        let a = &mut self.a;
        a.kmovw(eax, k5)?;
        a.pdep(eax, eax, r12d)?;
        if self.activity {
            a.vptestmd(k6, ANY, ANY)?;
            a.korw(k6, k6, k5)?;
            a.kmovw(ebx, k6)?;
            a.pdep(ebx, ebx, r13d)?;
            a.or(eax, ebx)?;
        }
        Ok(())
    }

    fn splat(&mut self, r: AsmRegisterZmm, x: i32) -> Result<(), IcedError> {
        if x == 0 {
            self.a.vpxord(r, r, r)
        } else {
            let c = self.c32(x);
            self.a.vpbroadcastd(r, dword_ptr(c))
        }
    }

    /// A constant for register `r`: where it already is (the zero register, a
    /// constant's register), or broadcast into `r` (None).
    fn constant(&mut self, r: AsmRegisterZmm, x: i32) -> Result<Option<AsmRegisterZmm>, IcedError> {
        if x == 0 {
            return Ok(Some(ZERO));
        }
        if let Some(&c) = self.const_regs.get(&x) {
            return Ok(Some(c));
        }
        self.splat(r, x)?;
        Ok(None)
    }

    /// The pool's label of the 32-bit constant x.
    fn c32(&mut self, x: i32) -> CodeLabel {
        let a = &mut self.a;
        *self.pool32.entry(x).or_insert_with(|| a.create_label())
    }

    /// The pool's label of the 64-bit constant x.
    fn c64(&mut self, x: i64) -> CodeLabel {
        let a = &mut self.a;
        *self.pool64.entry(x).or_insert_with(|| a.create_label())
    }

    /// r ← the lanes at [rax + r10] (in the last iteration, only its lanes: k1).
    fn load(&mut self, r: AsmRegisterZmm) -> Result<(), IcedError> {
        if self.tail {
            self.a.vmovdqu32(r.k1().z(), zmmword_ptr(rax + r10))
        } else {
            self.a.vmovdqu32(r, zmmword_ptr(rax + r10))
        }
    }

    /// [rax + r10] ← r's lanes. Full iterations store without a mask: masked
    /// 512-bit stores are several times slower on AMD Zen 4 and 5.
    fn store(&mut self, r: AsmRegisterZmm) -> Result<(), IcedError> {
        if self.tail {
            self.a.vmovdqu32(zmmword_ptr(rax + r10).k1(), r)
        } else {
            self.a.vmovdqu32(zmmword_ptr(rax + r10), r)
        }
    }

    /// Writes register r's value from its mask if it is only there.
    fn value(&mut self, r: usize) -> Result<(), IcedError> {
        if self.pending[r] {
            if let Some(k) = self.mask[r] {
                self.a.vmovdqa32(masked(ZMM[r], k).z(), ONE)?;
            }
            self.pending[r] = false;
        }
        Ok(())
    }

    /// Register r is about to be written: what was known of it is void.
    fn forget(&mut self, r: usize) {
        self.mask[r] = None;
        self.pending[r] = false;
    }

    fn set_mask(&mut self, r: usize, k: usize) {
        self.mask[r] = Some(k);
        self.pending[r] = true;
    }

    /// A mask register for a new result, not one of `keep`: the registers whose
    /// truth it held get their values first.
    fn alloc_k(&mut self, keep: &[usize]) -> Result<usize, IcedError> {
        let mut k = self.next_k;
        while keep.contains(&k) {
            k = (k + 1) % KS.len();
        }
        self.next_k = (k + 1) % KS.len();
        for r in 0..NUM_REGS {
            if self.mask[r] == Some(k) {
                if self.read_later(r) {
                    self.value(r)?;
                }
                self.pending[r] = false;
                self.mask[r] = None;
            }
        }
        Ok(k)
    }

    /// Whether an instruction after the current one reads register r before one writes it.
    fn read_later(&self, r: usize) -> bool {
        for ins in &self.k.code[self.pc + 1..] {
            if reads(ins).contains(&r) {
                return true;
            }
            if writes_reg(ins.op) && ins.rd.index() == r {
                return false;
            }
        }
        false
    }

    /// rax ← state slot s's array.
    fn state_addr(&mut self, s: usize) -> Result<(), IcedError> {
        self.a.mov(rax, qword_ptr(rdi + 8 * s as i32))
    }

    /// rax ← input port p's array.
    fn input_addr(&mut self, p: usize) -> Result<(), IcedError> {
        self.a.mov(rax, qword_ptr(rsp + INPUTS_AT + 8 * p as i32))
    }

    fn keep_old(&mut self, o: Old, v: AsmRegisterZmm) -> Result<(), IcedError> {
        match o {
            Old::Reg(r) => self.a.vmovdqa32(r, v),
            Old::Stack(off) => self.a.vmovdqa32(zmmword_ptr(rsp + off), v),
        }
    }

    /// ANY |= new ^ old of slot s (vpternlogd 0xF6: A | (B ^ C)).
    fn join_change(&mut self, s: usize, new: AsmRegisterZmm) -> Result<(), IcedError> {
        match self.old[s] {
            Some(Old::Reg(r)) => self.a.vpternlogd(ANY, new, r, 0xF6),
            Some(Old::Stack(off)) => self.a.vpternlogd(ANY, new, zmmword_ptr(rsp + off), 0xF6),
            None => Ok(()),
        }
    }

    /// rd ← wrap32(round(x · y / 2^sh)) lane by lane, the products exact in 64 bits:
    /// even lanes by `vpmuldq` in place, odd lanes after shifting them down; the
    /// rounding and an arithmetic shift in 64 bits; the low words put back together
    /// (k7: the even lanes).
    /// `extra`: a constant added to the result (wrapping), folded into the
    /// rounding term as extra · 2^sh (`fuse::plan` allows it for `HalfUp`, sh ≤ 32).
    #[allow(clippy::too_many_arguments)]
    fn mul_shift(
        &mut self,
        rd: AsmRegisterZmm,
        x: AsmRegisterZmm,
        y: AsmRegisterZmm,
        y_uniform: bool,
        r: Rounding,
        sh: u8,
        extra: i32,
    ) -> Result<(), IcedError> {
        // With a shift of 32 (every decay's), the results are the products'
        // high words: the odd lanes' product is made in rd, where its high
        // words already sit, and one masked in-lane shuffle brings in the even
        // lanes' (one instruction fewer than shifting and blending).
        let (even, odd, ty) = (T[0], T[1], T[2]);
        let odd = if sh == 32 { rd } else { odd };
        let a = &mut self.a;
        a.vpsrlq(ty, x, 32)?;
        a.vpmuldq(even, x, y)?;
        if y_uniform {
            a.vpmuldq(odd, ty, y)?;
        } else {
            a.vpsrlq(T[3], y, 32)?;
            a.vpmuldq(odd, ty, T[3])?;
        }
        match r {
            Rounding::Floor => {}
            Rounding::HalfUp => {
                let c = self.c64((1i64 << (sh - 1)).wrapping_add((extra as i64).wrapping_shl(sh as u32)));
                self.a.vpaddq(even, even, qword_bcst(c))?;
                self.a.vpaddq(odd, odd, qword_bcst(c))?;
            }
            Rounding::TowardZero => {
                // Add 2^sh − 1 to negative products before flooring.
                let c = self.c64(((1u64 << sh) - 1) as i64);
                for p in [even, odd] {
                    self.a.vpsraq(T[4], p, 63)?;
                    self.a.vpandq(T[4], T[4], qword_bcst(c))?;
                    self.a.vpaddq(p, p, T[4])?;
                }
            }
        }
        let a = &mut self.a;
        if sh == 32 {
            // Even lanes (k7) ← dword 1 of each even product's qword (imm 0xF5: dwords 1, 1, 3, 3).
            return a.vpshufd(rd.k7(), even, 0xF5);
        }
        if sh > 0 {
            a.vpsraq(even, even, sh as i32)?;
        }
        // The odd result goes to the high word of its qword: bits sh..sh+32 of the product.
        if sh < 32 {
            a.vpsllq(odd, odd, 32 - sh as i32)?;
        } else if sh > 32 {
            a.vpsraq(odd, odd, sh as i32 - 32)?;
        }
        a.vpblendmd(rd.k7(), odd, even)
    }
}

/// Per state slot: whether its first access in the program is a load (that
/// load gives the old value the activity test compares with), and the
/// instruction that writes it last (where the test joins).
pub(crate) fn slot_uses(k: &Kernel) -> (Vec<bool>, Vec<Option<usize>>) {
    let n_slots = k.state.len();
    let mut first_is_load = vec![false; n_slots];
    let mut seen = vec![false; n_slots];
    let mut last_write = vec![None; n_slots];
    for (pc, ins) in k.code.iter().enumerate() {
        let s = ins.aux as usize;
        if !matches!(ins.op, Opcode::Lds | Opcode::Sts | Opcode::Rand) || s >= n_slots {
            continue;
        }
        if ins.op == Opcode::Lds && !seen[s] {
            first_is_load[s] = true;
        }
        seen[s] = true;
        if ins.op.writes_state() {
            last_write[s] = Some(pc);
        }
    }
    (first_is_load, last_write)
}

/// Whether `op` writes its `rd` register.
pub(crate) fn writes_reg(op: Opcode) -> bool {
    !matches!(op, Opcode::Sts | Opcode::Spike)
}

/// The registers an instruction reads.
pub(crate) fn reads(ins: &nerve_isa::instr::Instr) -> Vec<usize> {
    use nerve_isa::opcode::{Format, Operand};
    let f: Format = ins.op.format();
    f.operands()
        .iter()
        .filter_map(|o| match o {
            Operand::Ra => Some(ins.ra.index()),
            Operand::Rb => Some(ins.rb.index()),
            Operand::Rc => Some(ins.rc.index()),
            _ => None,
        })
        .collect()
}
