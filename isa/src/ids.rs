//! Typed newtype ids. Every id is a dense index into a `Vec` somewhere; the
//! type says which `Vec`, so a core index can never be used as a tile index.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! dense_id {
    ($(#[$m:meta])* $name:ident($inner:ty), $prefix:literal) => {
        $(#[$m])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
        #[serde(transparent)]
        pub struct $name(pub $inner);

        impl $name {
            /// The id as a `usize` index.
            #[inline]
            pub fn index(self) -> usize {
                self.0 as usize
            }
            /// Builds an id from an index. Panics if the index does not fit:
            /// callers check sizes against the architecture before building ids.
            #[inline]
            pub fn from_index(i: usize) -> Self {
                // invariant: callers build ids only from indices below an architecture's or image's u32 counts (documented above)
                Self(<$inner>::try_from(i).expect(concat!(stringify!($name), " index overflow")))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, "{}"), self.0)
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, "{}"), self.0)
            }
        }
    };
}

dense_id!(
    /// A neuromorphic core, dense over the whole system:
    /// `core = tile * cores_per_tile + local`.
    CoreId(u32), "core"
);
dense_id!(
    /// A router node (a SpiNNaker chip, or a Loihi tile of four cores), dense over the system.
    TileId(u32), "tile"
);
dense_id!(
    /// A physical chip. On profiles with one router per chip, `ChipId == TileId`.
    ChipId(u32), "chip"
);
dense_id!(
    /// A neuron (compartment) index local to one core.
    NeuronId(u32), "n"
);
dense_id!(
    /// A population of the network, dense in the image's symbol table.
    PopId(u32), "pop"
);
dense_id!(
    /// A kernel program in the image's kernel list.
    KernelId(u32), "kernel"
);

/// A 32-bit multicast routing key, as carried by a packet.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct RoutingKey(pub u32);

impl fmt::Debug for RoutingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:08x}", self.0)
    }
}
impl fmt::Display for RoutingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:08x}", self.0)
    }
}

/// A dense map from a typed id to values, backed by a `Vec`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IdVec<I, T> {
    items: Vec<T>,
    #[serde(skip)]
    _id: std::marker::PhantomData<fn(I) -> I>,
}

impl<I, T: fmt::Debug> fmt::Debug for IdVec<I, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.items.fmt(f)
    }
}

impl<I, T> Default for IdVec<I, T> {
    fn default() -> Self {
        Self { items: Vec::new(), _id: std::marker::PhantomData }
    }
}

/// Ids that index an [`IdVec`].
pub trait DenseId: Copy {
    fn index(self) -> usize;
    fn from_index(i: usize) -> Self;
}

macro_rules! impl_dense {
    ($($t:ty),*) => {$(
        impl DenseId for $t {
            fn index(self) -> usize { <$t>::index(self) }
            fn from_index(i: usize) -> Self { <$t>::from_index(i) }
        }
    )*};
}
impl_dense!(CoreId, TileId, ChipId, NeuronId, PopId, KernelId);

impl<I: DenseId, T> IdVec<I, T> {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn from_vec(items: Vec<T>) -> Self {
        Self { items, _id: std::marker::PhantomData }
    }
    pub fn push(&mut self, v: T) -> I {
        let id = I::from_index(self.items.len());
        self.items.push(v);
        id
    }
    pub fn get(&self, id: I) -> Option<&T> {
        self.items.get(id.index())
    }
    pub fn get_mut(&mut self, id: I) -> Option<&mut T> {
        self.items.get_mut(id.index())
    }
    pub fn len(&self) -> usize {
        self.items.len()
    }
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (I, &T)> + DoubleEndedIterator {
        self.items.iter().enumerate().map(|(i, v)| (I::from_index(i), v))
    }
    pub fn iter_mut(&mut self) -> impl ExactSizeIterator<Item = (I, &mut T)> {
        self.items.iter_mut().enumerate().map(|(i, v)| (I::from_index(i), v))
    }
    pub fn values(&self) -> std::slice::Iter<'_, T> {
        self.items.iter()
    }
    pub fn as_slice(&self) -> &[T] {
        &self.items
    }
    pub fn into_vec(self) -> Vec<T> {
        self.items
    }
}

impl<I: DenseId, T> std::ops::Index<I> for IdVec<I, T> {
    type Output = T;
    fn index(&self, id: I) -> &T {
        &self.items[id.index()]
    }
}
impl<I: DenseId, T> std::ops::IndexMut<I> for IdVec<I, T> {
    fn index_mut(&mut self, id: I) -> &mut T {
        &mut self.items[id.index()]
    }
}

/// A directed link between router nodes: the tile it leaves and its
/// direction, numbered tile × 6 + direction (dense over the machine).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LinkId(pub u32);

impl LinkId {
    pub const PER_TILE: u32 = 6;
    pub fn new(tile: TileId, dir: crate::arch::Dir) -> LinkId {
        LinkId(tile.0 * Self::PER_TILE + dir as u32)
    }
    pub fn tile(self) -> TileId {
        TileId(self.0 / Self::PER_TILE)
    }
    pub fn dir(self) -> crate::arch::Dir {
        crate::arch::Dir::ALL[(self.0 % Self::PER_TILE) as usize]
    }
    pub fn index(self) -> usize {
        self.0 as usize
    }
    /// Links of a machine of `tiles` router nodes (the dense range of ids).
    pub fn count(tiles: u32) -> usize {
        tiles as usize * Self::PER_TILE as usize
    }
}
