//! Image decode + validate + load. Byte 0 picks the mode: even, the bytes as
//! a file; odd, the rest as a payload under a correct header (so that the
//! fuzzer gets past the checksum into the decoder and the checks).
#![no_main]
use libfuzzer_sys::fuzz_target;
use nerve_isa::image::{Image, FORMAT_VERSION, HEADER_LEN, MAGIC};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let bytes = if mode & 1 == 0 {
        rest.to_vec()
    } else {
        let mut b = Vec::with_capacity(HEADER_LEN + rest.len());
        b.extend_from_slice(&MAGIC);
        b.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes());
        b.extend_from_slice(&(rest.len() as u64).to_le_bytes());
        b.extend_from_slice(&crc32fast::hash(rest).to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes());
        b.extend_from_slice(rest);
        b
    };
    if let Ok(img) = Image::from_bytes_unvalidated(&bytes) {
        if let Ok(valid) = img.into_valid() {
            let _ = nerve_emulator::machine::Machine::load_valid(valid);
        }
    }
});
