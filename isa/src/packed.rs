//! Fixed-width little-endian encoding of the image's bulk arrays (synapses and
//! row starts), used through `#[serde(with = "crate::packed")]`.
//!
//! Why: an image is mostly synapses (millions), and bincode's per-field varints
//! cost more to encode and decode than everything else in the image together.
//! As one byte string of fixed-width records the array is written and read in a
//! single pass with no per-element serde calls, at about the same size (8 bytes
//! per synapse against 6 to 9 as varints).
//!
//! A byte string whose length is not a whole number of records is a decode
//! error, never a silently shortened array.

use serde::de::Visitor;
use serde::{Deserializer, Serializer};

/// A record of `SIZE` bytes, little-endian.
pub trait Packed: Sized {
    const SIZE: usize;
    fn put(&self, out: &mut [u8]);
    fn get(b: &[u8]) -> Self;
}

pub fn serialize<T: Packed, S: Serializer>(v: &[T], s: S) -> Result<S::Ok, S::Error> {
    let mut bytes = vec![0u8; v.len() * T::SIZE];
    for (x, out) in v.iter().zip(bytes.chunks_exact_mut(T::SIZE)) {
        x.put(out);
    }
    s.serialize_bytes(&bytes)
}

pub fn deserialize<'de, T: Packed, D: Deserializer<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    struct V<T>(std::marker::PhantomData<T>);
    impl<T: Packed> Visitor<'_> for V<T> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            write!(f, "a byte string of {}-byte records", T::SIZE)
        }
        fn visit_bytes<E: serde::de::Error>(self, b: &[u8]) -> Result<Vec<T>, E> {
            unpack(b)
        }
    }
    d.deserialize_bytes(V::<T>(std::marker::PhantomData))
}

fn unpack<T: Packed, E: serde::de::Error>(b: &[u8]) -> Result<Vec<T>, E> {
    if b.len() % T::SIZE != 0 {
        return Err(E::custom(format!("a packed array of {}-byte records is {} bytes long, not a multiple of {}", T::SIZE, b.len(), T::SIZE)));
    }
    Ok(b.chunks_exact(T::SIZE).map(T::get).collect())
}

/// Reads `N` bytes at `at`; callers pass slices of exactly `SIZE` bytes.
pub fn le<const N: usize>(b: &[u8], at: usize) -> [u8; N] {
    let mut a = [0u8; N];
    a.copy_from_slice(&b[at..at + N]);
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::value::{BytesDeserializer, Error};

    struct P(u16, i8);
    impl Packed for P {
        const SIZE: usize = 3;
        fn put(&self, o: &mut [u8]) {
            o[..2].copy_from_slice(&self.0.to_le_bytes());
            o[2] = self.1 as u8;
        }
        fn get(b: &[u8]) -> Self {
            P(u16::from_le_bytes(le(b, 0)), b[2] as i8)
        }
    }

    #[test]
    fn ragged_length_is_an_error() {
        let r: Result<Vec<P>, Error> = deserialize(BytesDeserializer::<Error>::new(&[1, 2, 3, 4]));
        let e = r.err().expect("4 bytes are not whole 3-byte records").to_string();
        assert!(e.contains("4 bytes") && e.contains("multiple of 3"), "{e}");
        let r: Vec<P> = deserialize(BytesDeserializer::<Error>::new(&[1, 2, 0xff, 4, 5, 6])).unwrap();
        assert_eq!((r[0].0, r[0].1, r[1].0, r[1].1), (0x0201, -1, 0x0504, 6));
    }
}
