//! Every opcode of the table round-trips through encode/decode and asm/disasm.
//! The test iterates `OPCODES`, so a new opcode is covered without editing it.

use nerve_isa::instr::{DecodeError, Instr, Reg};
use nerve_isa::kernel::asm::{assemble, disassemble};
use nerve_isa::kernel::Kernel;
use nerve_isa::opcode::{Operand, OPCODES};

/// A few operand values per field, edge values included.
fn variants(op: &nerve_isa::opcode::OpInfo) -> Vec<Instr> {
    let mut out = Vec::new();
    let regs = [0u8, 1, 7, 15];
    let imms = [0i32, 1, -1, i32::MIN, i32::MAX, 0x1234_5678];
    for (vi, &rg) in regs.iter().enumerate() {
        let mut ins = Instr::new(op.opcode);
        for o in op.format.operands() {
            match *o {
                Operand::Rd => ins.rd = Reg::new(rg).unwrap(),
                Operand::Ra => ins.ra = Reg::new((rg + 3) % 16).unwrap(),
                Operand::Rb => ins.rb = Reg::new((rg + 5) % 16).unwrap(),
                Operand::Rc => ins.rc = Reg::new((rg + 9) % 16).unwrap(),
                Operand::Imm => ins.imm = imms[vi % imms.len()],
                Operand::Aux { min, max } => ins.aux = [min, max, (min + max) / 2, min][vi],
                Operand::State | Operand::Param | Operand::Input => ins.aux = [0, 1, 2, 3][vi],
            }
        }
        out.push(ins);
    }
    // The remaining immediates, on the first variant.
    if op.format.operands().contains(&Operand::Imm) {
        for &imm in &imms {
            let mut i = out[0];
            i.imm = imm;
            out.push(i);
        }
    }
    out
}

fn kernel_of(code: Vec<Instr>) -> Kernel {
    Kernel {
        name: "t".into(),
        state: (0..4).map(|i| format!("s{i}x")).collect(),
        params: (0..4).map(|i| format!("p{i}x")).collect(),
        inputs: (0..4).map(|i| format!("in{i}x")).collect(),
        code,
    }
}

#[test]
fn every_opcode_roundtrips_encode_decode() {
    for op in OPCODES {
        for ins in variants(op) {
            ins.check_canonical().unwrap_or_else(|e| panic!("{}: {e}", op.mnemonic));
            let w = ins.encode();
            assert_eq!(Instr::decode(w), Ok(ins), "{} word {w:016x}", op.mnemonic);
        }
    }
}

#[test]
fn every_opcode_roundtrips_asm_disasm() {
    let mut code = Vec::new();
    for op in OPCODES {
        code.extend(variants(op));
    }
    let k = kernel_of(code);
    k.validate().unwrap();
    let text = disassemble(&k);
    let back = assemble(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(back, k);
    // And numeric slot syntax assembles to the same thing.
    let numeric: String = text
        .lines()
        .map(|l| if l.starts_with('.') { l.to_string() } else { l.replace("s2x", "s[2]").replace("p3x", "p[3]").replace("in1x", "in[1]") })
        .collect::<Vec<_>>()
        .join("\n");
    assert_ne!(numeric, text);
    assert_eq!(assemble(&numeric).unwrap(), k);
}

#[test]
fn noncanonical_words_are_rejected() {
    for op in OPCODES {
        let ins = Instr::new(op.opcode);
        let w = ins.encode();
        // Set each byte 1..8 to a non-zero pattern; the decoder either accepts a
        // canonical instruction (the byte is a used field) or says why not.
        for byte in 1..8 {
            let w2 = w | (0x5au64 << (8 * byte));
            match Instr::decode(w2) {
                Ok(i) => assert_eq!(i.encode(), w2, "{}: decode must be exact", op.mnemonic),
                Err(DecodeError::NonCanonical { .. }) | Err(DecodeError::AuxOutOfRange { .. }) => {}
                Err(e) => panic!("{}: unexpected {e}", op.mnemonic),
            }
        }
    }
    assert_eq!(Instr::decode(0xff), Err(DecodeError::UnknownOpcode(0xff)));
    // Every byte value: decodes or gives a typed error.
    for b in 0..=255u64 {
        let _ = Instr::decode(b | (0x0123_4567_89ab_cd00));
    }
}

#[test]
fn assembler_errors_name_the_line() {
    let e = assemble(".kernel k\n.state v\n    lds r0, w\n").unwrap_err().to_string();
    assert!(e.contains("line 3") && e.contains("`w`"), "{e}");
    let e = assemble(".kernel k\n    add r0, r1\n").unwrap_err().to_string();
    assert!(e.contains("line 2") && e.contains("takes 3 operand"), "{e}");
    let e = assemble(".kernel k\n    shl r0, r1, 32\n").unwrap_err().to_string();
    assert!(e.contains("out of range 0..=31"), "{e}");
    let e = assemble(".kernel k\n    frob r0\n").unwrap_err().to_string();
    assert!(e.contains("unknown mnemonic `frob`"), "{e}");
    let e = assemble("    movi r0, 1\n").unwrap_err().to_string();
    assert!(e.contains(".kernel"), "{e}");
    let e = assemble(".kernel k\n    movi r16, 1\n").unwrap_err().to_string();
    assert!(e.contains("r0..r15"), "{e}");
    let e = assemble(".kernel k\n    movi r1, 0x1_0000_0000\n").unwrap_err().to_string();
    assert!(e.contains("32 bits"), "{e}");
    // A decimal is a value: 3000000000 became -1294967296 without a word; a hex pattern stays a pattern.
    let e = assemble(".kernel k\n    addi r0, r0, 3000000000\n").unwrap_err().to_string();
    assert!(e.contains("line 2") && e.contains("immediate 3000000000 does not fit a signed 32-bit value (-2147483648..=2147483647"), "{e}");
    assert_eq!(assemble(".kernel k\n    addi r0, r0, 0xffffffff\n").unwrap().code[0].imm, -1);
    let e = assemble(".kernel k\n.state v\n    lds r0, s[256]\n").unwrap_err().to_string();
    assert!(e.contains("state slot 256 out of range 0..=255"), "{e}");
    let e = assemble(".kernel k\n.state v, v\n").unwrap_err().to_string();
    assert!(e.contains("duplicate state name `v`"), "{e}");
    // Slots are numbered by their place: an empty name was dropped, and `w` became slot 1.
    for (list, at) in [("v,,w", 2), ("v, w,", 3), (",v", 1)] {
        let e = assemble(&format!(".kernel k\n.state {list}\n    lds r0, w\n")).unwrap_err().to_string();
        assert!(e.contains("line 2") && e.contains(&format!("name {at} of the list is empty")), "{list}: {e}");
    }
    assert!(assemble(".kernel k\n.state\n.param p\n").unwrap().state.is_empty());
    // One sign at most, and none inside a number or a register: Rust's parsers took a second.
    for (text, tok) in [
        ("movi r0, --5", "--5"),
        ("movi r0, +-5", "+-5"),
        ("movi r1, 0x-7", "0x-7"),
        ("movi r1, -0x+7", "-0x+7"),
        ("movi r2, -0b-11", "-0b-11"),
        ("addi r3, r0, +-2147483648", "+-2147483648"),
        ("shl r4, r0, --3", "--3"),
        ("movi r0, 0x", "0x"),
        ("movi r0, -", "-"),
        ("movi r+1, 1", "r+1"),
        ("movi r-0, 1", "r-0"),
    ] {
        let e = assemble(&format!(".kernel k\n    {text}\n")).unwrap_err().to_string();
        assert!(e.contains("line 2") && e.contains(&format!("`{tok}`")), "{text}: {e}");
    }
    // One sign, separators and prefixes still read.
    let k = assemble(".kernel k\n    movi r0, -0x7\n    movi r1, +1_000\n    movi r2, -0b11\n").unwrap();
    assert_eq!(k.code.iter().map(|i| i.imm).collect::<Vec<_>>(), [-7, 1000, -3]);
    // Echoed source text shows its control characters: printed raw, `k\x01`
    // reads as `k`, a valid name, on a terminal.
    for (text, shown) in [
        (".kernel k\u{1}\n", "`k\\u{1}`"),
        (".kernel k\n.sta\u{7}te v\n", "`.sta\\u{7}te`"),
        (".kernel k\n    mo\u{1b}vi r0, 1\n", "`mo\\u{1b}vi`"),
        (".kernel k\n    movi r0\u{8}, 1\n", "`r0\\u{8}`"),
        (".kernel k\n    movi r0, 1\u{0}\n", "`1\\0`"),
    ] {
        let e = assemble(text).unwrap_err().to_string();
        assert!(e.contains(shown) && !e.chars().any(char::is_control), "{text:?}: {e:?}");
    }
}

#[test]
fn slot_references_are_checked_against_declarations() {
    let k = kernel_of(vec![Instr::rd_slot(nerve_isa::opcode::Opcode::Lds, Reg::new(0).unwrap(), 9)]);
    let e = k.validate().unwrap_err().to_string();
    assert!(e.contains("state slot 9") && e.contains("4 are declared"), "{e}");
}

/// docs/isa.md carries the opcode reference generated from the table.
/// Refresh with `BLESS=1 cargo test -p nerve-isa`.
#[test]
fn isa_doc_matches_the_table() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/isa.md");
    let doc = std::fs::read_to_string(path).expect("docs/isa.md exists");
    let begin = "<!-- BEGIN OPCODE TABLE (generated; BLESS=1 cargo test -p nerve-isa) -->\n";
    let end = "<!-- END OPCODE TABLE -->";
    let (head, rest) = doc.split_once(begin).expect("docs/isa.md has the BEGIN marker");
    let (_, tail) = rest.split_once(end).expect("docs/isa.md has the END marker");
    let table = nerve_isa::kernel::asm::opcode_reference_markdown();
    let want = format!("{head}{begin}{table}{end}{tail}");
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(path, &want).unwrap();
    } else {
        assert!(doc == want, "docs/isa.md's opcode table is stale: run BLESS=1 cargo test -p nerve-isa");
    }
}
