//! The reference interpreter: the meaning of every opcode. It runs a kernel
//! one neuron at a time, exactly as docs/isa.md describes, with the
//! arithmetic of `nerve_isa::semantics`. The JIT is tested against it.

use nerve_isa::instr::NUM_REGS;
use nerve_isa::kernel::Kernel;
use nerve_isa::opcode::Opcode;
use nerve_isa::semantics as sem;

use crate::kernel::{KernelData, LANES};

/// Runs `k` once for every neuron of `d`. `input` holds the step's synaptic
/// input, port-major with stride `stride` (port p of neuron i at `p * stride + i`).
/// Writes the spike and activity bits of every neuron into `flags` (see
/// [`crate::kernel::groups`]).
pub fn run(k: &Kernel, d: &mut KernelData, input: &[i32], stride: usize, flags: &mut [u8]) {
    flags[..crate::kernel::groups(d.n)].fill(0);
    let written = k.written_state();
    let mut before = vec![0i32; written.len()];
    for i in 0..d.n {
        for (b, &s) in before.iter_mut().zip(&written) {
            *b = d.state[s as usize][i];
        }
        let mut r = [0i32; NUM_REGS];
        let mut spike = false;
        for ins in &k.code {
            let (a, b, c) = (r[ins.ra.index()], r[ins.rb.index()], r[ins.rc.index()]);
            let aux = ins.aux;
            let v: Option<i32> = match ins.op {
                Opcode::Movi => Some(ins.imm),
                Opcode::Mov => Some(a),
                Opcode::Lds => Some(d.state[aux as usize][i]),
                Opcode::Sts => {
                    d.state[aux as usize][i] = a;
                    None
                }
                Opcode::Ldp => Some(d.params[aux as usize].get(i)),
                Opcode::Ldin => Some(input[aux as usize * stride + i]),
                Opcode::Add => Some(a.wrapping_add(b)),
                Opcode::Sub => Some(a.wrapping_sub(b)),
                Opcode::Addi => Some(a.wrapping_add(ins.imm)),
                Opcode::Adds => Some(a.saturating_add(b)),
                Opcode::Subs => Some(a.saturating_sub(b)),
                Opcode::Neg => Some(a.wrapping_neg()),
                Opcode::Abs => Some(sem::abs(a)),
                Opcode::Mul => Some(a.wrapping_mul(b)),
                Opcode::Mulsh => Some(sem::mulsh(a, b, aux)),
                Opcode::Mulshr => Some(sem::mulshr(a, b, aux)),
                Opcode::Mulshz => Some(sem::mulshz(a, b, aux)),
                Opcode::Shl => Some(sem::shl(a, aux)),
                Opcode::Shr => Some(sem::shr(a, aux)),
                Opcode::Shv => Some(sem::shv(a, b)),
                Opcode::Wrap => Some(sem::wrap(a, aux)),
                Opcode::Sat => Some(sem::sat(a, aux)),
                Opcode::Min => Some(a.min(b)),
                Opcode::Max => Some(a.max(b)),
                Opcode::And => Some(a & b),
                Opcode::Or => Some(a | b),
                Opcode::Xor => Some(a ^ b),
                Opcode::Cmplt => Some(sem::flag(a < b)),
                Opcode::Cmple => Some(sem::flag(a <= b)),
                Opcode::Cmpeq => Some(sem::flag(a == b)),
                Opcode::Cmpltu => Some(sem::flag((a as u32) < (b as u32))),
                Opcode::Sel => Some(if c != 0 { a } else { b }),
                Opcode::Rand => {
                    let x = sem::xorshift32(d.state[aux as usize][i]);
                    d.state[aux as usize][i] = x;
                    Some(x)
                }
                Opcode::Spike => {
                    spike |= a != 0;
                    None
                }
            };
            if let Some(v) = v {
                r[ins.rd.index()] = v;
            }
        }
        // Active: spiked, received input, or changed its state (docs/emulator.md).
        let active =
            spike || (0..k.inputs.len()).any(|p| input[p * stride + i] != 0) || written.iter().zip(&before).any(|(&s, &b)| d.state[s as usize][i] != b);
        flags[i / LANES] |= ((spike as u8) << (i % LANES)) | ((active as u8) << (4 + i % LANES));
    }
}
