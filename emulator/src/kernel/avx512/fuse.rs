//! Instructions the AVX-512 backend merges into others, found once per kernel.
//! On hosts that split 512-bit operations in two (AMD Zen 4), a LIF kernel is
//! bound by its count of vector operations, and two patterns of the compiler's
//! kernels each spend one more than needed:
//!
//! - a decay `mulshr m, x, c, sh` whose result, through wrapping adds into m,
//!   later gets a constant K added: m + K = (x·c + 2^(sh−1) + K·2^sh) >> sh in
//!   the low 32 bits, exactly, wrapping included (the bits sh..sh+31 of a sum
//!   do not depend on its bits above 63 when sh ≤ 32, nor on K·2^sh's zero
//!   bits below sh), so K joins the rounding term and the add is left out;
//! - a refractory count `addi a, x, imm` read only by `sel x, c, a, x`: one
//!   add under c's mask (`vpaddd x{k}, x, imm`) instead of an add and a blend.
//!
//! The interpreter stays the specification: tests/it/jit_vs_interp.rs runs
//! kernels made of these patterns, with and without what breaks them.

use nerve_isa::instr::{Instr, NUM_REGS};
use nerve_isa::kernel::Kernel;
use nerve_isa::opcode::Opcode;

use super::{reads, writes_reg};

/// What to merge, per instruction.
pub(crate) struct Plan {
    /// A `mulshr`'s extra rounding addend K (its result gets K added).
    pub rounding_add: Vec<Option<i32>>,
    /// An add whose constant went into a `mulshr`'s rounding: emit nothing.
    pub folded: Vec<bool>,
    /// An `addi` the `sel` at this index applies under its mask: emit nothing
    /// here (if its source is in its own register when reached).
    pub addi_into_sel: Vec<Option<usize>>,
}

pub(crate) fn plan(k: &Kernel, consts: &[Option<i32>]) -> Plan {
    let n = k.code.len();
    let mut p = Plan { rounding_add: vec![None; n], folded: vec![false; n], addi_into_sel: vec![None; n] };
    let known = known_constants(k, consts);
    for (pc, ins) in k.code.iter().enumerate() {
        match ins.op {
            Opcode::Mulshr if ins.aux <= 32 => {
                if let Some((q, c)) = constant_add_after(k, &known, pc) {
                    if !p.folded[q] {
                        p.rounding_add[pc] = Some(c);
                        p.folded[q] = true;
                    }
                }
            }
            Opcode::Addi => p.addi_into_sel[pc] = sel_of_addi(k, pc),
            _ => {}
        }
    }
    p
}

/// Per instruction, each register's value before it where the compiled code
/// knows it (`movi`, a uniform parameter, copies of those; registers start at
/// 0), as `Emit::body` tracks it.
fn known_constants(k: &Kernel, consts: &[Option<i32>]) -> Vec<[Option<i32>; NUM_REGS]> {
    let mut now = [Some(0); NUM_REGS];
    let mut out = Vec::with_capacity(k.code.len());
    for ins in &k.code {
        out.push(now);
        if writes_reg(ins.op) {
            now[ins.rd.index()] = match ins.op {
                Opcode::Movi => Some(ins.imm),
                Opcode::Mov => now[ins.ra.index()],
                Opcode::Ldp => consts.get(ins.aux as usize).copied().flatten(),
                _ => None,
            };
        }
    }
    out
}

/// The add after `mulshr` at `pc` that adds a known constant to its result,
/// the result reaching it only through in-place wrapping adds: (its index, the constant).
fn constant_add_after(k: &Kernel, known: &[[Option<i32>; NUM_REGS]], pc: usize) -> Option<(usize, i32)> {
    let m = k.code[pc].rd.index();
    for (q, ins) in k.code.iter().enumerate().skip(pc + 1) {
        let r = reads(ins);
        if !r.contains(&m) {
            if writes_reg(ins.op) && ins.rd.index() == m {
                return None;
            }
            continue;
        }
        // Read: only an add into m itself keeps the chain.
        if !writes_reg(ins.op) || ins.rd.index() != m {
            return None;
        }
        match ins.op {
            Opcode::Addi if ins.ra.index() == m => return Some((q, ins.imm)),
            Opcode::Add => {
                let other = match (ins.ra.index() == m, ins.rb.index() == m) {
                    (true, false) => ins.rb.index(),
                    (false, true) => ins.ra.index(),
                    _ => return None,
                };
                if let Some(c) = known[q][other] {
                    return Some((q, c));
                }
            }
            _ => return None,
        }
    }
    None
}

/// The `sel x, c, a, x` that is the only reader of `addi a, x, imm` at `pc`,
/// with x unchanged in between.
fn sel_of_addi(k: &Kernel, pc: usize) -> Option<usize> {
    let Instr { rd, ra, .. } = k.code[pc];
    let (a, x) = (rd.index(), ra.index());
    if a == x {
        return None;
    }
    let q = (pc + 1..k.code.len()).find(|&q| reads(&k.code[q]).contains(&a) || (writes_reg(k.code[q].op) && k.code[q].rd.index() == a))?;
    let s = &k.code[q];
    let is_sel = s.op == Opcode::Sel && s.ra.index() == a && s.rb.index() == x && s.rd.index() == x && s.rc.index() != a;
    let x_kept = k.code[pc + 1..q].iter().all(|i| !(writes_reg(i.op) && i.rd.index() == x));
    // a is dead after the sel: written before any read, or never read again.
    let dead = k.code[q + 1..]
        .iter()
        .find_map(|i| {
            if reads(i).contains(&a) {
                Some(false)
            } else if writes_reg(i.op) && i.rd.index() == a {
                Some(true)
            } else {
                None
            }
        })
        .unwrap_or(true);
    (is_sel && x_kept && dead).then_some(q)
}
