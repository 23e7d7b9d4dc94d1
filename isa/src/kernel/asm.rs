//! Assembler text and disassembler, both driven by the opcode table.
//!
//! ```text
//! ; a comment runs to the end of the line (also `#`)
//! .kernel lif            ; the kernel's name
//! .state v, refr         ; state slots, in slot order
//! .param decay, vth
//! .input exc
//!     lds   r0, v        ; slots by name ...
//!     ldp   r1, p[0]     ; ... or by number: s[i], p[i], in[i]
//!     mulsh r0, r0, r1, 15
//!     movi  r2, -0x10
//! ```
//! `disassemble` prints the same syntax, so `assemble(disassemble(k)) == k`.

use crate::instr::{Instr, Reg};
use crate::kernel::{Kernel, KernelError};
use crate::opcode::{Opcode, Operand, OPCODES};
use std::fmt::Write;
use thiserror::Error;

/// An assembly error, with the 1-based line it was found on.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum AsmError {
    #[error("line {line}: {message}")]
    Syntax { line: usize, message: String },
    #[error(transparent)]
    Kernel(#[from] KernelError),
}

fn err<T>(line: usize, message: impl Into<String>) -> Result<T, AsmError> {
    Err(AsmError::Syntax { line, message: message.into() })
}

fn strip_comment(s: &str) -> &str {
    let end = s.find([';', '#']).unwrap_or(s.len());
    &s[..end]
}

/// Source text echoed in a message, control characters escaped: a `\x01`
/// printed raw shows a valid-looking name as the culprit.
fn shown(s: &str) -> String {
    s.chars().flat_map(|c| if c.is_control() { c.escape_debug().collect::<Vec<_>>() } else { vec![c] }).collect()
}

fn is_ident(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some(ch) if ch.is_ascii_alphabetic() || ch == '_') && c.all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '.')
}

/// One optional sign, then digits (`0x` hex, `0b` binary, decimal; `_`
/// separators): Rust's parsers behind it take a sign of their own, which let
/// `--5` through as 5 and `0x-7` as -7.
fn parse_int(s: &str) -> Option<i64> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let digits = |d: &str, radix: u32| -> Option<String> {
        let d = d.replace('_', "");
        (!d.is_empty() && d.chars().all(|c| c.is_digit(radix))).then_some(d)
    };
    let v = if let Some(h) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        i64::from_str_radix(&digits(h, 16)?, 16).ok()?
    } else if let Some(b) = body.strip_prefix("0b") {
        i64::from_str_radix(&digits(b, 2)?, 2).ok()?
    } else {
        digits(body, 10)?.parse::<i64>().ok()?
    };
    Some(if neg { -v } else { v })
}

/// Parses `s[3]`-style numeric slot references.
fn numeric_slot(tok: &str, prefix: &str) -> Option<i64> {
    tok.strip_prefix(prefix)?.strip_prefix('[')?.strip_suffix(']').and_then(parse_int)
}

/// Assembles kernel text.
pub fn assemble(text: &str) -> Result<Kernel, AsmError> {
    let mut k = Kernel { name: String::new(), state: vec![], params: vec![], inputs: vec![], code: vec![] };
    let mut named = false;
    for (ln0, raw) in text.lines().enumerate() {
        let line = ln0 + 1;
        let s = strip_comment(raw).trim();
        if s.is_empty() {
            continue;
        }
        if let Some(d) = s.strip_prefix('.') {
            let (dir, rest) = d.split_once(char::is_whitespace).unwrap_or((d, ""));
            // Slots are numbered by their place in the list: an empty name
            // (a stray comma) would shift the ones after it.
            let names: Vec<String> = if rest.trim().is_empty() { Vec::new() } else { rest.split(',').map(|x| x.trim().to_string()).collect() };
            for (i, n) in names.iter().enumerate() {
                if n.is_empty() {
                    return err(line, format!("name {} of the list is empty (a comma too many?)", i + 1));
                }
                if !is_ident(n) {
                    return err(line, format!("`{}` is not a valid name (letters, digits, `_`, `.`; not starting with a digit)", shown(n)));
                }
            }
            let list = match dir {
                "kernel" => {
                    if named {
                        return err(line, "a second `.kernel` directive");
                    }
                    if names.len() != 1 {
                        return err(line, "`.kernel` takes exactly one name");
                    }
                    k.name = names[0].clone();
                    named = true;
                    continue;
                }
                "state" => &mut k.state,
                "param" => &mut k.params,
                "input" => &mut k.inputs,
                other => return err(line, format!("unknown directive `.{}` (expected .kernel, .state, .param, .input)", shown(other))),
            };
            if !k.code.is_empty() {
                return err(line, format!("`.{}` after the first instruction: declare slots first", shown(dir)));
            }
            list.extend(names);
            continue;
        }
        let (mn, rest) = s.split_once(char::is_whitespace).unwrap_or((s, ""));
        let op = match Opcode::from_mnemonic(mn) {
            Some(op) => op,
            None => return err(line, format!("unknown mnemonic `{}`", shown(mn))),
        };
        let toks: Vec<&str> = if rest.trim().is_empty() { vec![] } else { rest.split(',').map(str::trim).collect() };
        let operands = op.format().operands();
        if toks.len() != operands.len() {
            return err(line, format!("`{mn}` takes {} operand(s) ({}), found {}", operands.len(), op.format().syntax(), toks.len()));
        }
        let mut ins = Instr::new(op);
        for (o, tok) in operands.iter().zip(&toks) {
            let reg = |tok: &str| -> Result<Reg, AsmError> {
                tok.strip_prefix('r')
                    // Digits only: `u8::parse` takes a sign (`r+1` was r1).
                    .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
                    .and_then(|n| n.parse::<u8>().ok())
                    .and_then(Reg::new)
                    .map_or_else(|| err(line, format!("expected a register r0..r15, found `{}`", shown(tok))), Ok)
            };
            let slot = |tok: &str, prefix: &str, names: &[String], what: &str| -> Result<u8, AsmError> {
                if let Some(v) = numeric_slot(tok, prefix) {
                    return u8::try_from(v).map_or_else(|_| err(line, format!("{what} slot {v} out of range 0..=255 (and a slot must be declared)")), Ok);
                }
                match names.iter().position(|n| n == tok) {
                    Some(i) => Ok(i as u8),
                    None => err(line, format!("unknown {what} `{}` (declared: {})", shown(tok), names.join(", "))),
                }
            };
            match *o {
                Operand::Rd => ins.rd = reg(tok)?,
                Operand::Ra => ins.ra = reg(tok)?,
                Operand::Rb => ins.rb = reg(tok)?,
                Operand::Rc => ins.rc = reg(tok)?,
                Operand::Imm => {
                    let v = parse_int(tok).map_or_else(|| err(line, format!("expected an integer, found `{}`", shown(tok))), Ok)?;
                    // A hex or binary bit pattern may be spelled unsigned (0xffffffff == -1);
                    // a decimal is a value, and 3000000000 became -1294967296 without a word.
                    let body = tok.trim_start_matches(['-', '+']);
                    let pattern = ["0x", "0X", "0b"].iter().any(|p| body.starts_with(p));
                    ins.imm = if (i32::MIN as i64..=i32::MAX as i64).contains(&v) {
                        v as i32
                    } else if pattern && (0..=u32::MAX as i64).contains(&v) {
                        v as u32 as i32
                    } else if pattern {
                        return err(line, format!("immediate {} does not fit in 32 bits", shown(tok)));
                    } else {
                        return err(
                            line,
                            format!("immediate {v} does not fit a signed 32-bit value ({}..={}; a bit pattern may be written in hex, 0x…)", i32::MIN, i32::MAX),
                        );
                    };
                }
                Operand::Aux { min, max } => {
                    let v = parse_int(tok).map_or_else(|| err(line, format!("expected an integer, found `{}`", shown(tok))), Ok)?;
                    if v < min as i64 || v > max as i64 {
                        return err(line, format!("`{mn}` operand {v} out of range {min}..={max}"));
                    }
                    ins.aux = v as u8;
                }
                Operand::State => ins.aux = slot(tok, "s", &k.state, "state")?,
                Operand::Param => ins.aux = slot(tok, "p", &k.params, "param")?,
                Operand::Input => ins.aux = slot(tok, "in", &k.inputs, "input")?,
            }
        }
        k.code.push(ins);
    }
    if !named {
        return err(1, "missing `.kernel NAME` directive");
    }
    k.validate()?;
    Ok(k)
}

/// Formats one instruction in assembler syntax, naming slots from `k`.
pub fn format_instr(ins: &Instr, k: &Kernel) -> String {
    let name = |names: &[String], prefix: &str, i: u8| -> String { names.get(i as usize).cloned().unwrap_or_else(|| format!("{prefix}[{i}]")) };
    let ops: Vec<String> = ins
        .op
        .format()
        .operands()
        .iter()
        .map(|o| match *o {
            Operand::Rd => format!("r{}", ins.rd.index()),
            Operand::Ra => format!("r{}", ins.ra.index()),
            Operand::Rb => format!("r{}", ins.rb.index()),
            Operand::Rc => format!("r{}", ins.rc.index()),
            Operand::Imm => format!("{}", ins.imm),
            Operand::Aux { .. } => format!("{}", ins.aux),
            Operand::State => name(&k.state, "s", ins.aux),
            Operand::Param => name(&k.params, "p", ins.aux),
            Operand::Input => name(&k.inputs, "in", ins.aux),
        })
        .collect();
    if ops.is_empty() {
        ins.op.mnemonic().to_string()
    } else {
        format!("{:<7} {}", ins.op.mnemonic(), ops.join(", "))
    }
}

/// Disassembles a kernel into text that [`assemble`] reads back to the same kernel.
pub fn disassemble(k: &Kernel) -> String {
    let mut out = String::new();
    let _ = writeln!(out, ".kernel {}", k.name);
    for (dir, names) in [("state", &k.state), ("param", &k.params), ("input", &k.inputs)] {
        if !names.is_empty() {
            let _ = writeln!(out, ".{dir} {}", names.join(", "));
        }
    }
    for (i, ins) in k.code.iter().enumerate() {
        let _ = writeln!(out, "    {:<28} ; {:3}: {:016x}", format_instr(ins, k), i, ins.encode());
    }
    out
}

/// The ISA reference (docs/isa.md's opcode section), generated from the table.
pub fn opcode_reference_markdown() -> String {
    let mut s = String::new();
    s.push_str("| byte | mnemonic | operands | class | semantics | edge cases |\n");
    s.push_str("|---|---|---|---|---|---|\n");
    for o in OPCODES {
        let _ = writeln!(s, "| 0x{:02x} | `{}` | `{}` | {} | {} | {} |", o.opcode as u8, o.mnemonic, o.format.syntax(), o.class.name(), o.semantics, o.edges);
    }
    s
}
