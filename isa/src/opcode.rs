//! The opcode table: the one list of instructions from which the encoder,
//! decoder, assembler, disassembler, docs/isa.md and the engines' exhaustive
//! matches all follow. Adding a row here makes every `match op` in the
//! workspace fail to compile until the new opcode is handled.

use std::fmt;

/// How an instruction's fields are used, in assembly order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `op rd, imm`
    RdImm,
    /// `op rd, ra`
    RdRa,
    /// `op rd, ra, rb`
    RdRaRb,
    /// `op rd, ra, imm`
    RdRaImm,
    /// `op rd, ra, rb, sh` with sh in 0..=63
    RdRaRbSh63,
    /// `op rd, ra, rb, sh` with sh in 1..=62
    RdRaRbSh62,
    /// `op rd, ra, sh` with sh in 0..=31
    RdRaSh31,
    /// `op rd, ra, bits` with bits in 1..=32
    RdRaBits,
    /// `op rd, rc, ra, rb`
    RdRcRaRb,
    /// `op rd, S` (a state slot)
    RdState,
    /// `op S, ra`
    StateRa,
    /// `op rd, P` (a parameter slot)
    RdParam,
    /// `op rd, I` (a synaptic input port)
    RdInput,
    /// `op ra`
    Ra,
}

/// One operand position of a format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operand {
    Rd,
    Ra,
    Rb,
    Rc,
    Imm,
    /// The `aux` byte as an unsigned number in `min..=max`.
    Aux {
        min: u8,
        max: u8,
    },
    /// The `aux` byte as a state slot.
    State,
    /// The `aux` byte as a parameter slot.
    Param,
    /// The `aux` byte as an input port.
    Input,
}

impl Format {
    /// The operands in assembly order.
    pub const fn operands(self) -> &'static [Operand] {
        use Operand::*;
        match self {
            Format::RdImm => &[Rd, Imm],
            Format::RdRa => &[Rd, Ra],
            Format::RdRaRb => &[Rd, Ra, Rb],
            Format::RdRaImm => &[Rd, Ra, Imm],
            Format::RdRaRbSh63 => &[Rd, Ra, Rb, Aux { min: 0, max: 63 }],
            Format::RdRaRbSh62 => &[Rd, Ra, Rb, Aux { min: 1, max: 62 }],
            Format::RdRaSh31 => &[Rd, Ra, Aux { min: 0, max: 31 }],
            Format::RdRaBits => &[Rd, Ra, Aux { min: 1, max: 32 }],
            Format::RdRcRaRb => &[Rd, Rc, Ra, Rb],
            Format::RdState => &[Rd, State],
            Format::StateRa => &[State, Ra],
            Format::RdParam => &[Rd, Param],
            Format::RdInput => &[Rd, Input],
            Format::Ra => &[Ra],
        }
    }

    /// The assembly syntax, e.g. `rd, ra, rb, sh`.
    pub fn syntax(self) -> String {
        let parts: Vec<String> = self
            .operands()
            .iter()
            .map(|o| match o {
                Operand::Rd => "rd".to_string(),
                Operand::Ra => "ra".to_string(),
                Operand::Rb => "rb".to_string(),
                Operand::Rc => "rc".to_string(),
                Operand::Imm => "imm32".to_string(),
                Operand::Aux { min, max } => format!("n{min}..{max}"),
                Operand::State => "S".to_string(),
                Operand::Param => "P".to_string(),
                Operand::Input => "I".to_string(),
            })
            .collect();
        parts.join(", ")
    }
}

/// Cost class, for the timing and energy model (cycles per class come from the
/// architecture profile).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OpClass {
    /// Single-cycle integer operations: add, compare, select, logic, shifts.
    Alu,
    /// Multiplies (32×32 → 64 then shift).
    Mul,
    /// Reads and writes of per-neuron state, parameters and inputs.
    Mem,
    /// Spike emission.
    Spike,
}

impl OpClass {
    pub const ALL: [OpClass; 4] = [OpClass::Alu, OpClass::Mul, OpClass::Mem, OpClass::Spike];
    pub fn name(self) -> &'static str {
        match self {
            OpClass::Alu => "alu",
            OpClass::Mul => "mul",
            OpClass::Mem => "mem",
            OpClass::Spike => "spike",
        }
    }
}

/// Static description of one opcode.
#[derive(Clone, Copy, Debug)]
pub struct OpInfo {
    pub opcode: Opcode,
    pub mnemonic: &'static str,
    pub format: Format,
    pub class: OpClass,
    /// One-line semantics, in the notation of docs/isa.md.
    pub semantics: &'static str,
    /// The edge cases, written out.
    pub edges: &'static str,
}

/// One builder method per opcode, its operands typed by the opcode's format:
/// registers are `Reg`, slots are the `State`, `Param` and `Input` handles a
/// `KernelBuilder` declared, so a wrong operand does not compile.
macro_rules! builder_fn {
    ($mn:ident, $var:ident, $sem:literal, RdImm) => {
        #[doc = $sem]
        pub fn $mn(&mut self, rd: Reg, imm: i32) -> &mut Self {
            self.emit(Instr { rd, imm, ..Instr::new(Opcode::$var) })
        }
    };
    ($mn:ident, $var:ident, $sem:literal, RdRa) => {
        #[doc = $sem]
        pub fn $mn(&mut self, rd: Reg, ra: Reg) -> &mut Self {
            self.emit(Instr { rd, ra, ..Instr::new(Opcode::$var) })
        }
    };
    ($mn:ident, $var:ident, $sem:literal, RdRaRb) => {
        #[doc = $sem]
        pub fn $mn(&mut self, rd: Reg, ra: Reg, rb: Reg) -> &mut Self {
            self.emit(Instr { rd, ra, rb, ..Instr::new(Opcode::$var) })
        }
    };
    ($mn:ident, $var:ident, $sem:literal, RdRaImm) => {
        #[doc = $sem]
        pub fn $mn(&mut self, rd: Reg, ra: Reg, imm: i32) -> &mut Self {
            self.emit(Instr { rd, ra, imm, ..Instr::new(Opcode::$var) })
        }
    };
    ($mn:ident, $var:ident, $sem:literal, RdRaRbSh63) => {
        builder_fn!(@shift $mn, $var, $sem);
    };
    ($mn:ident, $var:ident, $sem:literal, RdRaRbSh62) => {
        builder_fn!(@shift $mn, $var, $sem);
    };
    (@shift $mn:ident, $var:ident, $sem:literal) => {
        #[doc = $sem]
        pub fn $mn(&mut self, rd: Reg, ra: Reg, rb: Reg, sh: u8) -> &mut Self {
            self.emit(Instr { rd, ra, rb, aux: sh, ..Instr::new(Opcode::$var) })
        }
    };
    ($mn:ident, $var:ident, $sem:literal, RdRaSh31) => {
        #[doc = $sem]
        pub fn $mn(&mut self, rd: Reg, ra: Reg, sh: u8) -> &mut Self {
            self.emit(Instr { rd, ra, aux: sh, ..Instr::new(Opcode::$var) })
        }
    };
    ($mn:ident, $var:ident, $sem:literal, RdRaBits) => {
        #[doc = $sem]
        pub fn $mn(&mut self, rd: Reg, ra: Reg, bits: u8) -> &mut Self {
            self.emit(Instr { rd, ra, aux: bits, ..Instr::new(Opcode::$var) })
        }
    };
    ($mn:ident, $var:ident, $sem:literal, RdRcRaRb) => {
        #[doc = $sem]
        pub fn $mn(&mut self, rd: Reg, rc: Reg, ra: Reg, rb: Reg) -> &mut Self {
            self.emit(Instr { rd, rc, ra, rb, ..Instr::new(Opcode::$var) })
        }
    };
    ($mn:ident, $var:ident, $sem:literal, RdState) => {
        #[doc = $sem]
        pub fn $mn(&mut self, rd: Reg, s: State) -> &mut Self {
            self.emit(Instr { rd, aux: s.0, ..Instr::new(Opcode::$var) })
        }
    };
    ($mn:ident, $var:ident, $sem:literal, StateRa) => {
        #[doc = $sem]
        pub fn $mn(&mut self, s: State, ra: Reg) -> &mut Self {
            self.emit(Instr { ra, aux: s.0, ..Instr::new(Opcode::$var) })
        }
    };
    ($mn:ident, $var:ident, $sem:literal, RdParam) => {
        #[doc = $sem]
        pub fn $mn(&mut self, rd: Reg, p: Param) -> &mut Self {
            self.emit(Instr { rd, aux: p.0, ..Instr::new(Opcode::$var) })
        }
    };
    ($mn:ident, $var:ident, $sem:literal, RdInput) => {
        #[doc = $sem]
        pub fn $mn(&mut self, rd: Reg, i: Input) -> &mut Self {
            self.emit(Instr { rd, aux: i.0, ..Instr::new(Opcode::$var) })
        }
    };
    ($mn:ident, $var:ident, $sem:literal, Ra) => {
        #[doc = $sem]
        pub fn $mn(&mut self, ra: Reg) -> &mut Self {
            self.emit(Instr { ra, ..Instr::new(Opcode::$var) })
        }
    };
}

macro_rules! opcodes {
    ($( $(#[$m:meta])* $var:ident = $code:literal, $mn:ident, $fmt:ident, $class:ident, $sem:literal, $edges:literal; )*) => {
        /// An opcode of the neuron-kernel ISA. The discriminant is the encoded byte.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum Opcode {
            $( $(#[$m])* $var = $code, )*
        }

        /// Every opcode, in encoding order.
        pub const OPCODES: &[OpInfo] = &[
            $( OpInfo {
                opcode: Opcode::$var,
                mnemonic: stringify!($mn),
                format: Format::$fmt,
                class: OpClass::$class,
                semantics: $sem,
                edges: $edges,
            }, )*
        ];

        impl Opcode {
            /// Decodes the opcode byte; `None` for an unassigned byte.
            pub fn from_byte(b: u8) -> Option<Opcode> {
                match b {
                    $( $code => Some(Opcode::$var), )*
                    _ => None,
                }
            }
        }

        use crate::instr::{Instr, Reg};
        use crate::kernel::builder::{Input, KernelBuilder, Param, State};

        /// The instructions, one method each, named by their mnemonics.
        impl KernelBuilder {
            $( builder_fn!($mn, $var, $sem, $fmt); )*
        }
    };
}

opcodes! {
    /// rd ← imm
    Movi = 0x01, movi, RdImm, Alu, "rd ← imm", "";
    /// rd ← ra
    Mov = 0x02, mov, RdRa, Alu, "rd ← ra", "";
    Lds = 0x03, lds, RdState, Mem, "rd ← state[S]", "";
    Sts = 0x04, sts, StateRa, Mem, "state[S] ← ra", "Later loads of S in the same program see the new value.";
    Ldp = 0x05, ldp, RdParam, Mem, "rd ← param[P]", "Parameters are read-only.";
    Ldin = 0x06, ldin, RdInput, Mem, "rd ← input[I]", "The synaptic input that arrived for this timestep on port I (sum of weights, wrapped to 32 bits); read-only.";
    Add = 0x10, add, RdRaRb, Alu, "rd ← wrap32(ra + rb)", "Overflow wraps: MAX + 1 = MIN.";
    Sub = 0x11, sub, RdRaRb, Alu, "rd ← wrap32(ra − rb)", "Overflow wraps: MIN − 1 = MAX.";
    Addi = 0x12, addi, RdRaImm, Alu, "rd ← wrap32(ra + imm)", "Overflow wraps.";
    Adds = 0x13, adds, RdRaRb, Alu, "rd ← clamp(ra + rb, MIN, MAX)", "Saturates at i32 MIN and MAX instead of wrapping.";
    Subs = 0x14, subs, RdRaRb, Alu, "rd ← clamp(ra − rb, MIN, MAX)", "Saturates at i32 MIN and MAX instead of wrapping.";
    Neg = 0x15, neg, RdRa, Alu, "rd ← wrap32(−ra)", "neg MIN = MIN.";
    Abs = 0x16, abs, RdRa, Alu, "rd ← wrap32(|ra|)", "abs MIN = MIN.";
    Mul = 0x17, mul, RdRaRb, Mul, "rd ← wrap32(ra · rb)", "Low 32 bits of the product.";
    Mulsh = 0x18, mulsh, RdRaRbSh63, Mul, "rd ← wrap32(⌊ra · rb / 2^sh⌋)", "Product exact in 64 bits; arithmetic shift rounds toward −∞: mulsh(−3, 1, 1) = −2.";
    Mulshr = 0x19, mulshr, RdRaRbSh62, Mul, "rd ← wrap32(⌊(ra · rb + 2^(sh−1)) / 2^sh⌋)", "Round half up (toward +∞): mulshr(−1, 1, 1) = 0, mulshr(1, 1, 1) = 1. sh in 1..62 so the rounding add cannot overflow 64 bits.";
    Mulshz = 0x1a, mulshz, RdRaRbSh63, Mul, "rd ← wrap32(sgn(ra · rb) · (|ra · rb| >> sh))", "Rounds toward zero (Loihi's decay): mulshz(−3, 1, 1) = −1.";
    Shl = 0x20, shl, RdRaSh31, Alu, "rd ← wrap32(ra · 2^sh)", "Bits shifted past bit 31 are lost: shl(0x40000000, 1) = MIN.";
    Shr = 0x21, shr, RdRaSh31, Alu, "rd ← ⌊ra / 2^sh⌋ (arithmetic)", "Rounds toward −∞: shr(−1, k) = −1, shr(−5, 1) = −3.";
    Shv = 0x22, shv, RdRaRb, Alu, "rd ← rb ≥ 0 ? wrap32(ra · 2^rb) : ⌊ra / 2^−rb⌋", "rb ≥ 32 gives 0; rb ≤ −32 gives the sign (0 or −1); rb = MIN is fine.";
    Wrap = 0x23, wrap, RdRaBits, Alu, "rd ← the value ≡ ra mod 2^bits in [−2^(bits−1), 2^(bits−1))", "wrap(2^23, 24) = −2^23; bits = 32 is the identity; bits = 1 gives 0 or −1.";
    Sat = 0x24, sat, RdRaBits, Alu, "rd ← clamp(ra, −2^(bits−1), 2^(bits−1) − 1)", "sat(MIN, 24) = −2^23; bits = 32 is the identity.";
    Min = 0x25, min, RdRaRb, Alu, "rd ← min(ra, rb) (signed)", "";
    Max = 0x26, max, RdRaRb, Alu, "rd ← max(ra, rb) (signed)", "";
    And = 0x27, and, RdRaRb, Alu, "rd ← ra & rb", "";
    Or = 0x28, or, RdRaRb, Alu, "rd ← ra | rb", "";
    Xor = 0x29, xor, RdRaRb, Alu, "rd ← ra ^ rb", "";
    Cmplt = 0x30, cmplt, RdRaRb, Alu, "rd ← ra < rb ? 1 : 0 (signed)", "";
    Cmple = 0x31, cmple, RdRaRb, Alu, "rd ← ra ≤ rb ? 1 : 0 (signed)", "";
    Cmpeq = 0x32, cmpeq, RdRaRb, Alu, "rd ← ra = rb ? 1 : 0", "";
    Cmpltu = 0x33, cmpltu, RdRaRb, Alu, "rd ← ra < rb ? 1 : 0 (unsigned)", "−1 is the largest unsigned value.";
    Sel = 0x34, sel, RdRcRaRb, Alu, "rd ← rc ≠ 0 ? ra : rb", "Any non-zero rc selects ra.";
    Rand = 0x38, rand, RdState, Alu, "state[S] ← xorshift32(state[S]); rd ← state[S]", "Marsaglia xorshift32 (13, 17, 5; right shift logical) on the bit pattern; 0 stays 0.";
    Spike = 0x3f, spike, Ra, Spike, "if ra ≠ 0: this neuron spikes this timestep", "Several spikes in one program are one spike.";
}

impl Opcode {
    /// The opcode's row in [`OPCODES`].
    pub fn info(self) -> &'static OpInfo {
        // OPCODES is in declaration order; the lookup is by scan because the
        // table is small and the discriminants are sparse.
        // invariant: `opcodes!` generates the enum and OPCODES from the same rows, so every variant has exactly one row
        OPCODES.iter().find(|i| i.opcode == self).expect("every opcode has a row in OPCODES")
    }
    pub fn mnemonic(self) -> &'static str {
        self.info().mnemonic
    }
    pub fn format(self) -> Format {
        self.info().format
    }
    pub fn class(self) -> OpClass {
        self.info().class
    }
    /// Whether this opcode writes the state slot named by `aux`. Used for
    /// the activity rule: a neuron whose written state is unchanged, with no
    /// input and no spike, was idle.
    pub fn writes_state(self) -> bool {
        match self {
            Opcode::Sts | Opcode::Rand => true,
            Opcode::Movi
            | Opcode::Mov
            | Opcode::Lds
            | Opcode::Ldp
            | Opcode::Ldin
            | Opcode::Add
            | Opcode::Sub
            | Opcode::Addi
            | Opcode::Adds
            | Opcode::Subs
            | Opcode::Neg
            | Opcode::Abs
            | Opcode::Mul
            | Opcode::Mulsh
            | Opcode::Mulshr
            | Opcode::Mulshz
            | Opcode::Shl
            | Opcode::Shr
            | Opcode::Shv
            | Opcode::Wrap
            | Opcode::Sat
            | Opcode::Min
            | Opcode::Max
            | Opcode::And
            | Opcode::Or
            | Opcode::Xor
            | Opcode::Cmplt
            | Opcode::Cmple
            | Opcode::Cmpeq
            | Opcode::Cmpltu
            | Opcode::Sel
            | Opcode::Spike => false,
        }
    }
    pub fn from_mnemonic(m: &str) -> Option<Opcode> {
        OPCODES.iter().find(|i| i.mnemonic == m).map(|i| i.opcode)
    }
}

impl fmt::Display for Opcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.mnemonic())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_consistent() {
        for (i, a) in OPCODES.iter().enumerate() {
            assert_eq!(Opcode::from_byte(a.opcode as u8), Some(a.opcode));
            assert_eq!(Opcode::from_mnemonic(a.mnemonic), Some(a.opcode));
            assert_eq!(a.opcode.info().mnemonic, a.mnemonic);
            for b in &OPCODES[i + 1..] {
                assert_ne!(a.mnemonic, b.mnemonic);
                assert_ne!(a.opcode as u8, b.opcode as u8);
            }
        }
        assert_eq!(Opcode::from_byte(0), None);
    }
}
