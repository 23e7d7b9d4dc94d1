//! Part of an image: what one rank of a run over several processes holds.
//! A rank keeps every core's description (id, population, neurons, kernel,
//! parameters, state, keys, electrical synapses: small, and read by the
//! other cores' emulation) but only its own cores' synaptic rows, input
//! tables, shared kernels, learning sets and spike times (the bulk). A core
//! stripped of them is still a valid core, one that receives nothing, so a
//! part is a valid image. `Image::read_part` strips cores as the file is
//! decoded, one at a time: a rank never holds the whole image.

use serde::de::{DeserializeSeed, Error as _, SeqAccess, Visitor};

use super::{CoreImage, CoreKind, Image};

impl CoreImage {
    /// Drops what only this core's own emulation reads (see the module).
    pub fn strip(&mut self) {
        self.inputs = Vec::new();
        self.rows = Vec::new();
        self.synapses = Vec::new();
        self.conv = Vec::new();
        self.plastic = Vec::new();
        if let CoreKind::SpikeArray { steps } = &mut self.kind {
            for s in steps.iter_mut() {
                *s = Vec::new();
            }
        }
    }

    /// Synapses the core stores (a shared kernel's rows counted as its
    /// weights times the rows), the work they stand for.
    pub fn stored_synapses(&self) -> u64 {
        self.synapses.len() as u64 + self.conv.iter().map(|c| c.weights.len() as u64).sum::<u64>()
    }
}

impl Image {
    /// Strips every core `keep` rejects (by index), as `read_part` does.
    pub fn strip_except(&mut self, keep: &dyn Fn(usize) -> bool) {
        for (i, c) in self.cores.iter_mut().enumerate() {
            if !keep(i) {
                c.strip();
            }
        }
    }
}

/// Decodes an image, stripping the cores `keep` rejects as they are
/// decoded; also gives every core's stored synapses (before stripping).
pub(super) struct PartSeed<'k> {
    pub keep: &'k dyn Fn(usize) -> bool,
}

/// `Image`'s fields, in its declaration order (what serde's derive gives bincode).
const FIELDS: &[&str] = &["arch", "meta", "kernels", "cores", "routers", "populations", "rules"];

impl<'de> DeserializeSeed<'de> for PartSeed<'_> {
    type Value = (Image, Vec<u64>);
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_struct("Image", FIELDS, self)
    }
}

impl<'de> Visitor<'de> for PartSeed<'_> {
    type Value = (Image, Vec<u64>);
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a chip image")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let missing = |i: usize| A::Error::invalid_length(i, &"an image's 7 fields");
        let arch = seq.next_element()?.ok_or_else(|| missing(0))?;
        let meta = seq.next_element()?.ok_or_else(|| missing(1))?;
        let kernels = seq.next_element()?.ok_or_else(|| missing(2))?;
        let (cores, stored) = seq.next_element_seed(Cores { keep: self.keep })?.ok_or_else(|| missing(3))?;
        let routers = seq.next_element()?.ok_or_else(|| missing(4))?;
        let populations = seq.next_element()?.ok_or_else(|| missing(5))?;
        let rules = seq.next_element()?.ok_or_else(|| missing(6))?;
        Ok((Image { arch, meta, kernels, cores, routers, populations, rules }, stored))
    }
}

struct Cores<'k> {
    keep: &'k dyn Fn(usize) -> bool,
}

impl<'de> DeserializeSeed<'de> for Cores<'_> {
    type Value = (Vec<CoreImage>, Vec<u64>);
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Cores<'_> {
    type Value = (Vec<CoreImage>, Vec<u64>);
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a list of cores")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        // Not the length field's claim: a corrupt one must not allocate.
        let hint = seq.size_hint().unwrap_or(0).min(1 << 12);
        let (mut cores, mut stored) = (Vec::with_capacity(hint), Vec::with_capacity(hint));
        // Each core's packed arrays are kept as bytes while it decodes: a
        // core this part keeps has them decoded, one it strips only its gap
        // junctions, its rows and synapses counted from their headers.
        loop {
            let i = cores.len();
            let (next, kept) = crate::packed::deferred(|| seq.next_element::<CoreImage>());
            let Some(mut c) = next? else { break };
            if (self.keep)(i) {
                c.unpack(&mut kept.into_iter(), i, false).map_err(A::Error::custom)?;
                stored.push(c.stored_synapses());
            } else {
                let counted = c.unpack_stripped(kept, i).map_err(A::Error::custom)?;
                stored.push(c.stored_synapses() + counted);
                c.strip();
            }
            cores.push(c);
        }
        Ok((cores, stored))
    }
}
