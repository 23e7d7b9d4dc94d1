//! Network JSON: parse, and for networks small enough to compile in a
//! moment (the target is the parser and the compiler's checks, not their
//! speed), compile for `spinnaker`, load and run 10 steps.
#![no_main]
use libfuzzer_sys::fuzz_target;
use nerve_compiler::compile::{compile, Options};
use nerve_emulator::engine::{run, Recording};
use nerve_emulator::kernel::Interp;
use nerve_isa::arch::Arch;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // No files from the network (a from_list `file`, a placement): the fuzzer would read the disk.
    if text.contains("\"file\"") {
        return;
    }
    let Ok(net) = nerve_compiler::front::json::parse_network(text, std::path::Path::new("fuzz.json")) else { return };
    let neurons: u64 = net.pops().map(|(_, p)| p.size as u64).sum();
    let pairs: u64 = net.projections().map(|(_, a, b, _)| net.pop(a).size as u64 * net.pop(b).size as u64).sum();
    if neurons > 4096 || pairs > 200_000 {
        return;
    }
    let arch = Arch::builtin("spinnaker").unwrap();
    let Ok(out) = compile(&arch, &net, &Options::default(), &mut |_| {}) else { return };
    let Ok(mut m) = nerve_emulator::machine::Machine::load_valid(out.image) else { return };
    let rec = Recording { spikes: vec![true; m.pops.len()], probes: vec![], per_step: false, chunk_steps: None };
    let _ = run(&mut m, &Interp, 10, 1, &rec, &mut |_| {});
});
