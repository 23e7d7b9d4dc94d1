//! NIR: the bytes as a .nir file (HDF5), read and lowered into a network.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir();
    let path = dir.join(format!("nerve-fuzz-{}.nir", std::process::id()));
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let _ = nerve_compiler::front::read(&path, &Default::default());
});
