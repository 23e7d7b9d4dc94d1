//! The JIT's AVX2 backend: a neuron kernel translated straight into x86-64
//! machine code that updates eight neurons per iteration in 256-bit
//! registers, for hosts with AVX2 but not AVX-512 (AMD Zen 2 and 3, Intel
//! client CPUs). Cranelift's x64 backend has 128-bit vectors only, so there
//! each of its instructions does half of what the hardware can.
//!
//! The function has the Cranelift functions' signature and contract
//! (`jit::KernelFn`): it reads and writes lanes `0..4·groups` of every array,
//! writes one flags byte per group of four lanes, and clears the inputs. A
//! last group of four (arrays are padded to four lanes, not eight) runs the
//! same code on 128-bit loads and stores. The interpreter stays the
//! specification: tests/it/jit_vs_interp.rs runs random kernels and edge
//! values through every backend the host has.
//!
//! AVX2 has sixteen vector registers where the AVX-512 backend has 32, so a
//! kernel's sixteen registers cannot each keep one: they are allocated over
//! the straight-line program (no kernel register lives from one iteration
//! to the next), a value the program reads again later spilled to its stack
//! home when its register is needed (the one read furthest ahead first), and
//! constants (`movi`, uniform parameters) read as memory operands from a
//! pool after the code. Compare results stay as lane masks (all ones or
//! zeros) while only selects, spikes, logic on masks and tests against zero
//! read them, as the AVX-512 backend keeps them in mask registers.
//!
//! Register use: rdi state table, rsi parameter table, r8 the flags pointer
//! (advances 2 bytes per iteration), r9 full iterations left, r10 the lanes'
//! byte offset, r11 a last group of four (0 or 1), rax/rbx scratch, ecx/edx
//! the `pdep` masks that spread eight spike and activity bits over two flags
//! bytes (rcx and rdx hold the port stride and inputs until the prologue has
//! put the ports' addresses on the stack). ymm0–ymm8 (and ymm13 without
//! activity) hold kernel registers; ymm9–ymm12 temporaries, ymm13 the
//! activity OR, ymm14 the spike lanes, ymm15 zero.

use iced_x86::code_asm::*;
use iced_x86::IcedError;
use std::collections::BTreeMap;

use nerve_isa::instr::NUM_REGS;
use nerve_isa::kernel::Kernel;
use nerve_isa::opcode::Opcode;

use super::avx512::fuse;
use super::avx512::{reads, slot_uses, writes_reg};
use super::Rounding;

/// True if this host can run the backend's code: AVX2 (256-bit integer
/// operations) and BMI2 (`pdep`).
pub fn available() -> bool {
    // The code takes the System V calling convention's registers
    // (`jit::KernelFn` is `extern "C"`, Microsoft's convention on Windows).
    #[cfg(all(target_arch = "x86_64", not(windows)))]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("bmi2")
    }
    #[cfg(not(all(target_arch = "x86_64", not(windows))))]
    {
        false
    }
}

const YMM: [AsmRegisterYmm; 16] = [ymm0, ymm1, ymm2, ymm3, ymm4, ymm5, ymm6, ymm7, ymm8, ymm9, ymm10, ymm11, ymm12, ymm13, ymm14, ymm15];
const XMM: [AsmRegisterXmm; 16] = [xmm0, xmm1, xmm2, xmm3, xmm4, xmm5, xmm6, xmm7, xmm8, xmm9, xmm10, xmm11, xmm12, xmm13, xmm14, xmm15];
/// Temporaries of one instruction's sequence (ymm9–ymm12).
const T: [usize; 4] = [9, 10, 11, 12];
/// OR of this iteration's inputs and written slots' changes (with activity; else allocatable).
const ANY: usize = 13;
/// The spike lanes (a mask).
const SPK: usize = 14;
const ZERO: usize = 15;
/// Where a kernel register spills: 32 bytes each.
const HOMES_AT: i32 = 0;
/// Old values of written slots (the activity test), 32 bytes each.
const OLD_AT: i32 = 32 * NUM_REGS as i32;
/// The input ports' array pointers.
const INPUTS_AT: i32 = OLD_AT + 32 * nerve_isa::instr::MAX_STATE_SLOTS as i32;
const FRAME: i32 = INPUTS_AT + 8 * nerve_isa::instr::MAX_INPUT_PORTS as i32;

/// Where a kernel register's value is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Loc {
    /// The same value in every lane, known when compiling (read from the pool; 0 is ymm15).
    Const(i32),
    /// In a vector register.
    Reg(usize),
    /// Only in its stack home.
    Home,
}

/// A second source operand: a register or memory (VEX takes memory there).
#[derive(Clone, Copy)]
enum Src {
    R(AsmRegisterYmm),
    M(AsmMemoryOperand),
}

/// `$a.$m($d, $x, src)` for either kind of `src`.
macro_rules! op3 {
    ($a:expr, $m:ident, $d:expr, $x:expr, $s:expr) => {
        match $s {
            Src::R(r) => $a.$m($d, $x, r),
            Src::M(m) => $a.$m($d, $x, m),
        }
    };
}

/// Machine code for kernel `k` with the uniform parameter values `consts`
/// (`None`: per neuron); `activity`: compute the activity bits.
/// The constant pool comes first, each constant 32 bytes (on a 32-byte
/// boundary when the buffer starts on one), then the function: returns the
/// bytes and the function's offset in them. (After the code the constants
/// sat at odd offsets, half of their loads split over two cache lines, and
/// CUBA's kernel ran slower than Cranelift's 128-bit one.)
pub(crate) fn assemble(k: &Kernel, consts: &[Option<i32>], activity: bool) -> Result<(Vec<u8>, usize), IcedError> {
    // A first pass finds the constants.
    let mut e = Emit::new(k, consts, activity)?;
    e.function()?;
    let (c32, c64): (Vec<i32>, Vec<i64>) = (e.pool32.keys().copied().collect(), e.pool64.keys().copied().collect());
    let mut e = Emit::new(k, consts, activity)?;
    for x in c64 {
        let mut l = e.c64(x);
        e.a.set_label(&mut l)?;
        e.a.dq_i(&[x; 4])?;
    }
    for x in c32 {
        let mut l = e.c32(x);
        e.a.set_label(&mut l)?;
        e.a.dd_i(&[x; 8])?;
    }
    let entry = 32 * (e.pool32.len() + e.pool64.len());
    e.placed = true;
    e.function()?;
    Ok((e.a.assemble(0)?, entry))
}

struct Emit<'a> {
    a: CodeAssembler,
    k: &'a Kernel,
    consts: &'a [Option<i32>],
    activity: bool,
    /// Per state slot: the index of its old value's stack slot (written slots, with activity).
    old: Vec<Option<usize>>,
    /// Per state slot: its first access in the program is a load (that load gives the old value).
    first_is_load: Vec<bool>,
    /// Per state slot: the instruction that writes it last (the activity test joins there).
    last_write: Vec<Option<usize>>,
    pool32: BTreeMap<i32, CodeLabel>,
    pool64: BTreeMap<i64, CodeLabel>,
    /// The pool is already placed, before the function (`assemble`'s second pass).
    placed: bool,
    /// Per instruction, per kernel register: the next instruction after it that reads the register's value (usize::MAX: none).
    next_read: Vec<[usize; NUM_REGS]>,
    /// Vector registers kernel registers may live in.
    pool: Vec<usize>,
    plan: fuse::Plan,
    /// Translating the last group of four (128-bit loads and stores).
    tail: bool,
    pc: usize,
    loc: [Loc; NUM_REGS],
    /// Per vector register: the kernel register living there.
    owner: [Option<usize>; 16],
    /// The kernel register's stack home holds its current value.
    home_ok: [bool; NUM_REGS],
    /// The kernel register holds a truth as a lane mask (all ones for 1).
    mask: [bool; NUM_REGS],
    /// The kernel register's value is this constant in every lane (it may be in a register too).
    known: [Option<i32>; NUM_REGS],
}

impl<'a> Emit<'a> {
    fn new(k: &'a Kernel, consts: &'a [Option<i32>], activity: bool) -> Result<Self, IcedError> {
        let n_slots = k.state.len();
        let (first_is_load, mut last_write) = slot_uses(k);
        let mut old = vec![None; n_slots];
        if activity {
            for (i, &s) in k.written_state().iter().enumerate() {
                old[s as usize] = Some(i);
            }
        } else {
            last_write.iter_mut().for_each(|w| *w = None);
        }
        // Next reads, from the end: an instruction's reads come before its write.
        let mut next_read = vec![[usize::MAX; NUM_REGS]; k.code.len()];
        let mut nxt = [usize::MAX; NUM_REGS];
        for (pc, ins) in k.code.iter().enumerate().rev() {
            next_read[pc] = nxt;
            if writes_reg(ins.op) {
                nxt[ins.rd.index()] = usize::MAX;
            }
            for r in reads(ins) {
                nxt[r] = pc;
            }
        }
        let mut pool: Vec<usize> = (0..9).collect();
        if !activity {
            pool.push(ANY);
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
            placed: false,
            next_read,
            pool,
            plan: fuse::plan(k, consts),
            tail: false,
            pc: 0,
            loc: [Loc::Const(0); NUM_REGS],
            owner: [None; 16],
            home_ok: [false; NUM_REGS],
            mask: [false; NUM_REGS],
            known: [Some(0); NUM_REGS],
        })
    }

    fn function(&mut self) -> Result<(), IcedError> {
        let a = &mut self.a;
        a.push(rbp)?;
        a.mov(rbp, rsp)?;
        a.push(rbx)?;
        a.sub(rsp, FRAME + 32)?;
        a.and(rsp, -32)?;
        a.shl(rcx, 2)?;
        for p in 0..self.k.inputs.len() {
            a.imul_3(rax, rcx, p as i32)?;
            a.add(rax, rdx)?;
            a.mov(qword_ptr(rsp + INPUTS_AT + 8 * p as i32), rax)?;
        }
        a.mov(r11, r9)?;
        a.shr(r9, 1)?;
        a.and(r11, 1)?;
        a.xor(r10d, r10d)?;
        a.mov(ecx, 0x0F0F)?;
        a.mov(edx, 0xF0F0)?;
        a.vpxor(YMM[ZERO], YMM[ZERO], YMM[ZERO])?;

        let mut top = a.create_label();
        let mut tail = a.create_label();
        let mut done = a.create_label();
        a.set_label(&mut top)?;
        a.test(r9, r9)?;
        a.jz(tail)?;
        self.body()?;
        let a = &mut self.a;
        a.mov(word_ptr(r8), ax)?;
        a.add(r10, 32)?;
        a.add(r8, 2)?;
        a.dec(r9)?;
        a.jmp(top)?;

        a.set_label(&mut tail)?;
        a.test(r11, r11)?;
        a.jz(done)?;
        self.tail = true;
        self.body()?;
        let a = &mut self.a;
        a.mov(byte_ptr(r8), al)?;

        a.set_label(&mut done)?;
        a.vzeroupper()?;
        a.lea(rsp, qword_ptr(rbp - 8))?;
        a.pop(rbx)?;
        a.pop(rbp)?;
        a.ret()?;
        if !self.placed {
            // The first pass's pool (its code is thrown away), so that its labels resolve.
            for (x, l) in self.pool64.iter_mut() {
                self.a.set_label(l)?;
                self.a.dq_i(&[*x; 4])?;
            }
            for (x, l) in self.pool32.iter_mut() {
                self.a.set_label(l)?;
                self.a.dd_i(&[*x; 8])?;
            }
        }
        Ok(())
    }

    /// One iteration (eight lanes, or four in the tail); leaves the flags bytes in ax (al).
    fn body(&mut self) -> Result<(), IcedError> {
        let k = self.k;
        self.loc = [Loc::Const(0); NUM_REGS];
        self.owner = [None; 16];
        self.home_ok = [false; NUM_REGS];
        self.mask = [false; NUM_REGS];
        self.known = [Some(0); NUM_REGS];
        self.a.vpxor(YMM[SPK], YMM[SPK], YMM[SPK])?;
        if self.activity {
            self.a.vpxor(YMM[ANY], YMM[ANY], YMM[ANY])?;
        }
        // Old values of written slots not first read by the program itself.
        for s in 0..k.state.len() {
            if let Some(o) = self.old[s] {
                if !self.first_is_load[s] {
                    self.state_addr(s)?;
                    self.load(T[0])?;
                    self.a.vmovdqu(ymmword_ptr(rsp + OLD_AT + 32 * o as i32), YMM[T[0]])?;
                }
            }
        }
        let mut input_read = vec![false; k.inputs.len()];
        let mut slot_loaded = vec![false; k.state.len()];
        for (pc, ins) in k.code.iter().enumerate() {
            self.pc = pc;
            let (ia, ib, ic, id) = (ins.ra.index(), ins.rb.index(), ins.rc.index(), ins.rd.index());
            if self.plan.folded[pc] {
                // Its constant joined an earlier `mulshr`'s rounding (`fuse::plan`): rd already holds the sum.
                continue;
            }
            match ins.op {
                Opcode::Movi => self.set_const(id, ins.imm),
                Opcode::Ldp => match self.consts.get(ins.aux as usize).copied().flatten() {
                    // The function is compiled for this uniform value.
                    Some(x) => self.set_const(id, x),
                    None => {
                        self.a.mov(rax, qword_ptr(rsi + 8 * ins.aux as i32))?;
                        let d = self.def(id, &[])?;
                        self.load(d)?;
                    }
                },
                Opcode::Mov => {
                    if let Loc::Const(c) = self.loc[ia] {
                        self.set_const(id, c);
                    } else if ia != id {
                        let s = self.src(ia, &[])?;
                        let pin = self.pins(&[s]);
                        let m = self.mask[ia];
                        let d = self.def(id, &pin)?;
                        match s {
                            Src::R(r) => self.a.vmovdqa(YMM[d], r)?,
                            Src::M(mem) => self.a.vmovdqu(YMM[d], mem)?,
                        }
                        self.mask[id] = m;
                    }
                }
                Opcode::Lds => {
                    let s = ins.aux as usize;
                    let d = self.def(id, &[])?;
                    self.state_addr(s)?;
                    self.load(d)?;
                    if !slot_loaded[s] && self.first_is_load[s] {
                        if let Some(o) = self.old[s] {
                            self.a.vmovdqu(ymmword_ptr(rsp + OLD_AT + 32 * o as i32), YMM[d])?;
                        }
                    }
                    slot_loaded[s] = true;
                }
                Opcode::Sts => {
                    let s = ins.aux as usize;
                    slot_loaded[s] = true;
                    let v = self.value(ia, &[])?;
                    self.state_addr(s)?;
                    self.store(v)?;
                    if self.last_write[s] == Some(pc) {
                        self.join_change(s, v)?;
                    }
                }
                Opcode::Ldin => {
                    let p = ins.aux as usize;
                    let d = self.def(id, &[])?;
                    self.input_addr(p)?;
                    self.load(d)?;
                    if self.activity && !input_read[p] {
                        self.a.vpor(YMM[ANY], YMM[ANY], YMM[d])?;
                    }
                    input_read[p] = true;
                }
                Opcode::Add | Opcode::Mul | Opcode::Min | Opcode::Max => {
                    let (x, y) = self.commuted(ia, ib);
                    let (d, xr, s) = self.binary(id, x, y)?;
                    let (d, xr) = (YMM[d], YMM[xr]);
                    let a = &mut self.a;
                    match ins.op {
                        Opcode::Add => op3!(a, vpaddd, d, xr, s)?,
                        Opcode::Mul => op3!(a, vpmulld, d, xr, s)?,
                        Opcode::Min => op3!(a, vpminsd, d, xr, s)?,
                        _ => op3!(a, vpmaxsd, d, xr, s)?,
                    }
                }
                Opcode::Sub => {
                    let (d, xr, s) = self.binary(id, ia, ib)?;
                    op3!(self.a, vpsubd, YMM[d], YMM[xr], s)?;
                }
                Opcode::Addi => {
                    let x = self.value(ia, &[])?;
                    let d = self.def(id, &[x])?;
                    let c = self.c32(ins.imm);
                    self.a.vpaddd(YMM[d], YMM[x], ymmword_ptr(c))?;
                }
                Opcode::And | Opcode::Or | Opcode::Xor => {
                    let (x, y) = self.commuted(ia, ib);
                    // Logic on two masks gives a mask (all ones or zeros per lane) of the same truth.
                    let masks = self.mask[x] && self.mask[y];
                    let (d, xr, s) = if masks { self.binary_raw(id, x, y)? } else { self.binary(id, x, y)? };
                    let (d, xr) = (YMM[d], YMM[xr]);
                    let a = &mut self.a;
                    match ins.op {
                        Opcode::And => op3!(a, vpand, d, xr, s)?,
                        Opcode::Or => op3!(a, vpor, d, xr, s)?,
                        _ => op3!(a, vpxor, d, xr, s)?,
                    }
                    self.mask[id] = masks;
                }
                Opcode::Adds | Opcode::Subs => {
                    let x = self.value(ia, &[])?;
                    let y = self.value(ib, &[x])?;
                    let d = self.def(id, &[x, y])?;
                    let (t0, t1, t2) = (YMM[T[0]], YMM[T[1]], YMM[T[2]]);
                    let (xr, yr) = (YMM[x], YMM[y]);
                    let a = &mut self.a;
                    // Overflow where the operands' signs make it possible and the result's sign is wrong.
                    if ins.op == Opcode::Adds {
                        a.vpaddd(t0, xr, yr)?;
                        a.vpxor(t1, xr, t0)?;
                        a.vpxor(t2, yr, t0)?;
                    } else {
                        a.vpsubd(t0, xr, yr)?;
                        a.vpxor(t1, xr, yr)?;
                        a.vpxor(t2, xr, t0)?;
                    }
                    a.vpand(t1, t1, t2)?;
                    // The saturated value: MAX for a ≥ 0, MIN for a < 0.
                    a.vpsrad(t2, xr, 31)?;
                    let c = self.c32(i32::MAX);
                    self.a.vpxor(t2, t2, ymmword_ptr(c))?;
                    self.a.vblendvps(YMM[d], t0, t2, t1)?;
                }
                Opcode::Neg | Opcode::Abs => {
                    let s = self.value_src(ia, &[])?;
                    let pin = self.pins(&[s]);
                    let d = YMM[self.def(id, &pin)?];
                    let a = &mut self.a;
                    if ins.op == Opcode::Neg {
                        op3!(a, vpsubd, d, YMM[ZERO], s)?;
                    } else {
                        match s {
                            Src::R(r) => a.vpabsd(d, r)?,
                            Src::M(m) => a.vpabsd(d, m)?,
                        }
                    }
                }
                Opcode::Mulsh | Opcode::Mulshr | Opcode::Mulshz => {
                    // A factor with one value in every lane is read from the pool and needs no shift for the odd lanes.
                    let (x, y) = if self.is_const(ib) {
                        (ia, ib)
                    } else if self.is_const(ia) {
                        (ib, ia)
                    } else {
                        (ia, ib)
                    };
                    let extra = self.plan.rounding_add[pc].unwrap_or(0);
                    self.mul_shift(id, x, y, Rounding::of(ins.op), ins.aux, extra)?;
                }
                Opcode::Shl | Opcode::Shr | Opcode::Wrap => {
                    let x = self.value(ia, &[])?;
                    let d = YMM[self.def(id, &[x])?];
                    let xr = YMM[x];
                    let a = &mut self.a;
                    match ins.op {
                        Opcode::Shl => a.vpslld(d, xr, ins.aux as i32)?,
                        Opcode::Shr => a.vpsrad(d, xr, ins.aux as i32)?,
                        _ => {
                            let s = 32 - ins.aux as i32;
                            a.vpslld(YMM[T[0]], xr, s)?;
                            a.vpsrad(d, YMM[T[0]], s)?;
                        }
                    }
                }
                Opcode::Shv => {
                    let x = self.value(ia, &[])?;
                    match self.known_value(ib) {
                        Some(s) => {
                            let d = YMM[self.def(id, &[x])?];
                            let xr = YMM[x];
                            let a = &mut self.a;
                            match s {
                                32.. => a.vpxor(d, d, d)?,
                                0.. => a.vpslld(d, xr, s)?,
                                -31.. => a.vpsrad(d, xr, -s)?,
                                _ => a.vpsrad(d, xr, 31)?,
                            }
                        }
                        None => {
                            let y = self.value(ib, &[x])?;
                            let d = YMM[self.def(id, &[x, y])?];
                            let (xr, yr, t0, t1) = (YMM[x], YMM[y], YMM[T[0]], YMM[T[1]]);
                            let a = &mut self.a;
                            // Both directions, chosen by the count's sign; counts ≥ 32 give 0 left and the sign right
                            // (−MIN is MIN, 2^31 as an unsigned count).
                            a.vpsllvd(t0, xr, yr)?;
                            a.vpsubd(t1, YMM[ZERO], yr)?;
                            a.vpsravd(t1, xr, t1)?;
                            a.vblendvps(d, t0, t1, yr)?;
                        }
                    }
                }
                Opcode::Sat => {
                    let hi = ((1i64 << (ins.aux - 1)) - 1) as i32;
                    let lo = (-(1i64 << (ins.aux - 1))) as i32;
                    let x = self.value(ia, &[])?;
                    let d = YMM[self.def(id, &[x])?];
                    let (c_lo, c_hi) = (self.c32(lo), self.c32(hi));
                    self.a.vpmaxsd(YMM[T[0]], YMM[x], ymmword_ptr(c_lo))?;
                    self.a.vpminsd(d, YMM[T[0]], ymmword_ptr(c_hi))?;
                }
                Opcode::Cmpeq => {
                    // A test against zero of a mask needs no value: the lanes where the mask is clear.
                    let (x, y) = self.commuted(ia, ib);
                    let raw = self.known_value(y) == Some(0) && self.mask[x];
                    let (d, xr, s) = if raw { self.binary_raw(id, x, y)? } else { self.binary(id, x, y)? };
                    op3!(self.a, vpcmpeqd, YMM[d], YMM[xr], s)?;
                    self.mask[id] = true;
                }
                Opcode::Cmplt => {
                    // a < b is b > a.
                    let (d, br, s) = self.binary(id, ib, ia)?;
                    op3!(self.a, vpcmpgtd, YMM[d], YMM[br], s)?;
                    self.mask[id] = true;
                }
                Opcode::Cmple => {
                    // a ≤ b is not a > b.
                    let (d, ar, s) = self.binary(id, ia, ib)?;
                    op3!(self.a, vpcmpgtd, YMM[T[0]], YMM[ar], s)?;
                    let c = self.c32(-1);
                    self.a.vpxor(YMM[d], YMM[T[0]], ymmword_ptr(c))?;
                    self.mask[id] = true;
                }
                Opcode::Cmpltu => {
                    // Unsigned order is signed order with the sign bits flipped.
                    let x = self.value(ia, &[])?;
                    let y = self.value(ib, &[x])?;
                    let d = YMM[self.def(id, &[x, y])?];
                    let c = self.c32(i32::MIN);
                    self.a.vpxor(YMM[T[0]], YMM[x], ymmword_ptr(c))?;
                    self.a.vpxor(YMM[T[1]], YMM[y], ymmword_ptr(c))?;
                    self.a.vpcmpgtd(d, YMM[T[1]], YMM[T[0]])?;
                    self.mask[id] = true;
                }
                Opcode::Sel => {
                    if self.mask[ic] {
                        // rd ← ra where the mask is set, else rb.
                        let mut m = self.get(ic, &[])?;
                        if ia == ic || ib == ic {
                            // The other operand's value replaces the mask in its register.
                            self.a.vmovdqa(YMM[T[1]], YMM[m])?;
                            m = T[1];
                        }
                        let b = self.value(ib, &[m])?;
                        let s = self.value_src(ia, &[m, b])?;
                        let mut pin = self.pins(&[s]);
                        pin.extend([m, b]);
                        let d = YMM[self.def(id, &pin)?];
                        op3_blend(&mut self.a, d, YMM[b], s, YMM[m])?;
                    } else {
                        // rd ← rb where rc is 0, else ra.
                        let c = self.value(ic, &[])?;
                        self.a.vpcmpeqd(YMM[T[0]], YMM[c], YMM[ZERO])?;
                        let x = self.value(ia, &[c])?;
                        let s = self.value_src(ib, &[c, x])?;
                        let mut pin = self.pins(&[s]);
                        pin.extend([c, x]);
                        let d = YMM[self.def(id, &pin)?];
                        op3_blend(&mut self.a, d, YMM[x], s, YMM[T[0]])?;
                    }
                }
                Opcode::Rand => {
                    let s = ins.aux as usize;
                    slot_loaded[s] = true;
                    self.state_addr(s)?;
                    self.load(T[0])?;
                    let (t0, t1) = (YMM[T[0]], YMM[T[1]]);
                    let a = &mut self.a;
                    a.vpslld(t1, t0, 13)?;
                    a.vpxor(t0, t0, t1)?;
                    a.vpsrld(t1, t0, 17)?;
                    a.vpxor(t0, t0, t1)?;
                    a.vpslld(t1, t0, 5)?;
                    a.vpxor(t0, t0, t1)?;
                    self.store(T[0])?;
                    if self.last_write[s] == Some(pc) {
                        self.join_change(s, T[0])?;
                    }
                    let d = self.def(id, &[])?;
                    self.a.vmovdqa(YMM[d], YMM[T[0]])?;
                }
                Opcode::Spike => {
                    if self.mask[ia] {
                        let m = self.get(ia, &[])?;
                        self.a.vpor(YMM[SPK], YMM[SPK], YMM[m])?;
                    } else {
                        let v = self.value(ia, &[])?;
                        let t0 = YMM[T[0]];
                        self.a.vpcmpeqd(t0, YMM[v], YMM[ZERO])?;
                        self.a.vpcmpeqd(t0, t0, YMM[ZERO])?;
                        self.a.vpor(YMM[SPK], YMM[SPK], t0)?;
                    }
                }
            }
        }
        // Inputs: those the program never read join the activity test; all are cleared.
        for (p, &read) in input_read.iter().enumerate() {
            self.input_addr(p)?;
            if self.activity && !read {
                self.load(T[0])?;
                self.a.vpor(YMM[ANY], YMM[ANY], YMM[T[0]])?;
            }
            self.store(ZERO)?;
        }
        // Flags: spike bits of lanes 4g..4g+3 into bits 0–3 of byte g, activity into 4–7.
        let a = &mut self.a;
        a.vmovmskps(eax, YMM[SPK])?;
        if self.activity {
            a.vpcmpeqd(YMM[T[0]], YMM[ANY], YMM[ZERO])?;
            a.vmovmskps(ebx, YMM[T[0]])?;
            a.not(ebx)?;
            a.or(ebx, eax)?;
            a.pdep(ebx, ebx, edx)?;
            a.pdep(eax, eax, ecx)?;
            a.or(eax, ebx)?;
        } else {
            a.pdep(eax, eax, ecx)?;
        }
        Ok(())
    }

    // ---- register allocation ----

    fn is_const(&self, r: usize) -> bool {
        matches!(self.loc[r], Loc::Const(_))
    }

    /// r's value if it is the same known constant in every lane.
    fn known_value(&self, r: usize) -> Option<i32> {
        if self.mask[r] {
            return None;
        }
        match self.loc[r] {
            Loc::Const(c) => Some(c),
            _ => self.known[r],
        }
    }

    /// Operands of a commutative operation, a constant second (it can be read from memory).
    fn commuted(&self, a: usize, b: usize) -> (usize, usize) {
        if self.is_const(a) && !self.is_const(b) {
            (b, a)
        } else {
            (a, b)
        }
    }

    /// The registers a second operand occupies (to keep them while allocating others).
    fn pins(&self, s: &[Src]) -> Vec<usize> {
        let mut v = Vec::new();
        for x in s {
            if let Src::R(r) = x {
                if let Some(i) = YMM.iter().position(|y| y == r) {
                    v.push(i);
                }
            }
        }
        v
    }

    /// rd ← (x op y): x in a register, y a second operand, both as values; rd's register.
    fn binary(&mut self, rd: usize, x: usize, y: usize) -> Result<(usize, usize, Src), IcedError> {
        let xr = self.value(x, &[])?;
        let s = self.value_src(y, &[xr])?;
        let mut pin = self.pins(&[s]);
        pin.push(xr);
        let d = self.def(rd, &pin)?;
        Ok((d, xr, s))
    }

    /// As `binary`, the operands as they are (masks stay masks).
    fn binary_raw(&mut self, rd: usize, x: usize, y: usize) -> Result<(usize, usize, Src), IcedError> {
        let xr = self.get(x, &[])?;
        let s = self.src(y, &[xr])?;
        let mut pin = self.pins(&[s]);
        pin.push(xr);
        let d = self.def(rd, &pin)?;
        Ok((d, xr, s))
    }

    fn set_const(&mut self, r: usize, c: i32) {
        self.release(r);
        self.loc[r] = Loc::Const(c);
        self.known[r] = Some(c);
        self.mask[r] = false;
        self.home_ok[r] = false;
    }

    /// Kernel register r no longer keeps its vector register.
    fn release(&mut self, r: usize) {
        if let Loc::Reg(p) = self.loc[r] {
            self.owner[p] = None;
            self.loc[r] = Loc::Home;
        }
    }

    /// A vector register of the pool for a new value, none of `pinned`
    /// (unless its value is read no more): a free one, else the one whose
    /// value is read furthest ahead, spilled to its home if it is still needed.
    fn alloc(&mut self, pinned: &[usize]) -> Result<usize, IcedError> {
        let next = self.next_read[self.pc];
        // The current instruction's operands stay, read or not yet read.
        let now = reads(&self.k.code[self.pc]);
        let mut best: Option<(usize, usize)> = None;
        for &p in &self.pool {
            let far = match self.owner[p] {
                None => return Ok(p),
                Some(r) => next[r],
            };
            if pinned.contains(&p) || self.owner[p].is_some_and(|r| now.contains(&r)) {
                continue;
            }
            if best.is_none_or(|(_, f)| far > f) {
                best = Some((p, far));
            }
        }
        // invariant: the pool has nine registers or more and an instruction reads at most three and pins no others
        let (p, far) = best.expect("a vector register to spare");
        // invariant: `best` holds only owned registers (a free one was returned above)
        let r = self.owner[p].expect("an owned register");
        if far != usize::MAX && !self.home_ok[r] && self.known[r].is_none() {
            self.a.vmovdqu(ymmword_ptr(rsp + HOMES_AT + 32 * r as i32), YMM[p])?;
            self.home_ok[r] = true;
        }
        self.owner[p] = None;
        self.loc[r] = match self.known[r] {
            Some(c) if !self.mask[r] => Loc::Const(c),
            _ => Loc::Home,
        };
        Ok(p)
    }

    /// The register for kernel register rd's new value (written last in its
    /// instruction's sequence, so it may be an operand's register).
    fn def(&mut self, rd: usize, pinned: &[usize]) -> Result<usize, IcedError> {
        let p = match self.loc[rd] {
            Loc::Reg(p) => p,
            _ => {
                // An operand read no more gives its register up.
                let next = self.next_read[self.pc];
                let dead = pinned.iter().copied().find(|&p| self.pool.contains(&p) && self.owner[p].is_some_and(|r| next[r] == usize::MAX));
                match dead {
                    Some(p) => {
                        // invariant: `dead` found p owned
                        let r = self.owner[p].expect("an owned register");
                        self.loc[r] = Loc::Home;
                        self.home_ok[r] = false;
                        p
                    }
                    None => self.alloc(pinned)?,
                }
            }
        };
        self.owner[p] = Some(rd);
        self.loc[rd] = Loc::Reg(p);
        self.home_ok[rd] = false;
        self.known[rd] = None;
        self.mask[rd] = false;
        Ok(p)
    }

    /// Kernel register r in a vector register, as it is (a mask stays a mask).
    fn get(&mut self, r: usize, pinned: &[usize]) -> Result<usize, IcedError> {
        match self.loc[r] {
            Loc::Reg(p) => Ok(p),
            Loc::Const(0) => Ok(ZERO),
            Loc::Const(c) => {
                let p = self.alloc(pinned)?;
                let l = self.c32(c);
                self.a.vmovdqu(YMM[p], ymmword_ptr(l))?;
                self.owner[p] = Some(r);
                self.loc[r] = Loc::Reg(p);
                Ok(p)
            }
            Loc::Home => {
                let p = self.alloc(pinned)?;
                self.a.vmovdqu(YMM[p], ymmword_ptr(rsp + HOMES_AT + 32 * r as i32))?;
                self.owner[p] = Some(r);
                self.loc[r] = Loc::Reg(p);
                Ok(p)
            }
        }
    }

    /// Kernel register r's value (0 or 1 for a mask's truth) in a vector register.
    fn value(&mut self, r: usize, pinned: &[usize]) -> Result<usize, IcedError> {
        let p = self.get(r, pinned)?;
        if self.mask[r] {
            self.a.vpsrld(YMM[p], YMM[p], 31)?;
            self.mask[r] = false;
            self.home_ok[r] = false;
        }
        Ok(p)
    }

    /// Kernel register r as a second operand, as it is: its register, its home or the pool.
    fn src(&mut self, r: usize, _pinned: &[usize]) -> Result<Src, IcedError> {
        Ok(match self.loc[r] {
            Loc::Reg(p) => Src::R(YMM[p]),
            Loc::Const(0) => Src::R(YMM[ZERO]),
            Loc::Const(c) => Src::M(ymmword_ptr(self.c32(c))),
            Loc::Home => Src::M(ymmword_ptr(rsp + HOMES_AT + 32 * r as i32)),
        })
    }

    /// Kernel register r's value as a second operand.
    fn value_src(&mut self, r: usize, pinned: &[usize]) -> Result<Src, IcedError> {
        if self.mask[r] {
            return Ok(Src::R(YMM[self.value(r, pinned)?]));
        }
        self.src(r, pinned)
    }

    // ---- memory ----

    fn c32(&mut self, x: i32) -> CodeLabel {
        let a = &mut self.a;
        *self.pool32.entry(x).or_insert_with(|| a.create_label())
    }

    fn c64(&mut self, x: i64) -> CodeLabel {
        let a = &mut self.a;
        *self.pool64.entry(x).or_insert_with(|| a.create_label())
    }

    /// Vector register r ← the lanes at [rax + r10] (in the tail four, the rest zeroed).
    fn load(&mut self, r: usize) -> Result<(), IcedError> {
        if self.tail {
            self.a.vmovdqu(XMM[r], xmmword_ptr(rax + r10))
        } else {
            self.a.vmovdqu(YMM[r], ymmword_ptr(rax + r10))
        }
    }

    /// [rax + r10] ← vector register r's lanes (in the tail, four).
    fn store(&mut self, r: usize) -> Result<(), IcedError> {
        if self.tail {
            self.a.vmovdqu(xmmword_ptr(rax + r10), XMM[r])
        } else {
            self.a.vmovdqu(ymmword_ptr(rax + r10), YMM[r])
        }
    }

    fn state_addr(&mut self, s: usize) -> Result<(), IcedError> {
        self.a.mov(rax, qword_ptr(rdi + 8 * s as i32))
    }

    fn input_addr(&mut self, p: usize) -> Result<(), IcedError> {
        self.a.mov(rax, qword_ptr(rsp + INPUTS_AT + 8 * p as i32))
    }

    /// ANY |= new ^ old of slot s.
    fn join_change(&mut self, s: usize, new: usize) -> Result<(), IcedError> {
        if let Some(o) = self.old[s] {
            self.a.vpxor(YMM[T[3]], YMM[new], ymmword_ptr(rsp + OLD_AT + 32 * o as i32))?;
            self.a.vpor(YMM[ANY], YMM[ANY], YMM[T[3]])?;
        }
        Ok(())
    }

    /// rd ← wrap32(round(x · y / 2^sh)) lane by lane, the products exact in 64
    /// bits: even lanes by `vpmuldq` in place, odd lanes after shifting them
    /// down; the rounding in 64 bits; each lane's bits sh..sh+31 put back
    /// together. AVX2 has no 64-bit arithmetic shift, and needs none: below
    /// 32 a logical shift gives the same low word, above it a 32-bit
    /// arithmetic shift of the high word. `extra`: a constant added to the
    /// result (wrapping), folded into the rounding term as extra · 2^sh
    /// (`fuse::plan` allows it for `mulshr`, sh ≤ 32).
    fn mul_shift(&mut self, rd: usize, x: usize, y: usize, r: Rounding, sh: u8, extra: i32) -> Result<(), IcedError> {
        let xp = self.value(x, &[])?;
        let ys = self.value_src(y, &[xp])?;
        let uniform = self.is_const(y);
        let mut pin = self.pins(&[ys]);
        pin.push(xp);
        let d = YMM[self.def(rd, &pin)?];
        let (ty, even, odd, t3) = (YMM[T[0]], YMM[T[1]], YMM[T[2]], YMM[T[3]]);
        let xr = YMM[xp];
        let a = &mut self.a;
        a.vpsrlq(ty, xr, 32)?;
        op3!(a, vpmuldq, even, xr, ys)?;
        if uniform {
            op3!(a, vpmuldq, odd, ty, ys)?;
        } else {
            match ys {
                Src::R(yr) => a.vpsrlq(t3, yr, 32)?,
                Src::M(m) => {
                    a.vmovdqu(t3, m)?;
                    a.vpsrlq(t3, t3, 32)?;
                }
            }
            a.vpmuldq(odd, ty, t3)?;
        }
        match r {
            Rounding::Floor => {}
            Rounding::HalfUp => {
                let c = self.c64((1i64 << (sh - 1)).wrapping_add((extra as i64).wrapping_shl(sh as u32)));
                self.a.vpaddq(even, even, ymmword_ptr(c))?;
                self.a.vpaddq(odd, odd, ymmword_ptr(c))?;
            }
            Rounding::TowardZero => {
                // Add 2^sh − 1 to negative products before flooring.
                let c = self.c64(((1u64 << sh) - 1) as i64);
                for p in [even, odd] {
                    self.a.vpcmpgtq(t3, YMM[ZERO], p)?;
                    self.a.vpand(t3, t3, ymmword_ptr(c))?;
                    self.a.vpaddq(p, p, t3)?;
                }
            }
        }
        let a = &mut self.a;
        match sh {
            32 => {
                // Even lanes ← dword 1 of each even product's qword (imm 0xF5: dwords 1, 1, 3, 3).
                a.vpshufd(even, even, 0xF5)?;
            }
            0..=31 => {
                if sh > 0 {
                    a.vpsrlq(even, even, sh as i32)?;
                }
                // The odd result goes to the high word of its qword.
                a.vpsllq(odd, odd, 32 - sh as i32)?;
            }
            _ => {
                a.vpsrad(even, even, sh as i32 - 32)?;
                a.vpshufd(even, even, 0xF5)?;
                a.vpsrad(odd, odd, sh as i32 - 32)?;
            }
        }
        // Odd dwords from the odd products.
        a.vpblendd(d, even, odd, 0xAA)
    }
}

/// d ← src where the mask's lanes are set, else x (`vpblendvb`).
fn op3_blend(a: &mut CodeAssembler, d: AsmRegisterYmm, x: AsmRegisterYmm, s: Src, m: AsmRegisterYmm) -> Result<(), IcedError> {
    match s {
        Src::R(r) => a.vpblendvb(d, x, r, m),
        Src::M(mem) => a.vpblendvb(d, x, mem, m),
    }
}
